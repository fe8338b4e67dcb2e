using Archestra.Edge.Cli;

return await CommandLine.RunAsync(args).ConfigureAwait(false);
