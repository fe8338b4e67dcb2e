using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Configuration.Validation;
using Archestra.Edge.Configuration.Yaml;
using Archestra.Edge.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Archestra.Edge.Configuration;

/// <summary>
/// Loads <c>archestra.yaml</c>: YAML → node tree → shape check and reference resolution (every error, with
/// positions) → static deserialization into the DTOs → validation and compilation into a
/// <see cref="GatewaySnapshot"/>. The same path runs for <c>serve</c>, <c>validate</c> and reloads.
/// </summary>
internal static class ConfigLoader
{
    private static readonly IDeserializer s_deserializer = new StaticDeserializerBuilder(new ConfigYamlContext())
        .WithNamingConvention(UnderscoredNamingConvention.Instance)
        .Build();

    /// <summary>Loads and compiles the file at <paramref name="path"/>.</summary>
    public static ConfigLoadResult LoadFile(string path, Func<string, string?>? environment = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var diagnostic = new ConfigDiagnostic(path, 1, 1, string.Empty, $"cannot read the config file: {ex.Message}", "pass the file with --config <path>");
            return new ConfigLoadResult(null, [diagnostic]);
        }

        return Load(text, path, environment);
    }

    /// <summary>Loads configuration text; <paramref name="path"/> names it in messages and anchors relative paths.</summary>
    public static ConfigLoadResult Load(string text, string path, Func<string, string?>? environment = null)
    {
        var diagnostics = new DiagnosticBag(path);
        var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory();

        YamlNode root;
        var parser = new Parser(new StringReader(text));
        try
        {
            if (YamlAliasGuard.Check(text) is { } refused)
            {
                diagnostics.Add(refused.Mark, string.Empty, refused.Message, "use anchors (&) and aliases (*) for plain reuse of values only");
                return new ConfigLoadResult(null, diagnostics.Sorted());
            }

            var stream = new YamlStream();
            stream.Load(parser);
            if (stream.Documents.Count == 0)
            {
                diagnostics.Add(new Mark(0, 1, 1), string.Empty, "the config file is empty", "start from archestra.yaml.example");
                return new ConfigLoadResult(null, diagnostics.Sorted());
            }

            if (stream.Documents.Count > 1)
            {
                diagnostics.Add(stream.Documents[1].RootNode.Start, string.Empty, "the config file holds more than one YAML document", "remove the extra '---'");
                return new ConfigLoadResult(null, diagnostics.Sorted());
            }

            root = stream.Documents[0].RootNode;
        }
        catch (YamlException ex)
        {
            diagnostics.Add(ex.Start, string.Empty, $"invalid YAML: {InnermostMessage(ex)}");
            return new ConfigLoadResult(null, diagnostics.Sorted());
        }
        catch (ArgumentException)
        {
            // YamlDotNet's node loader throws this (not a YamlException) on some events it cannot place (found by fuzzing).
            var mark = parser.Current?.Start ?? new Mark(0, 1, 1);
            diagnostics.Add(mark, string.Empty, "invalid YAML: a node of a kind that cannot stand here", "check indentation, anchors (&) and aliases (*)");
            return new ConfigLoadResult(null, diagnostics.Sorted());
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this (not a YamlException) on some unterminated flow collections.
            var mark = parser.Current?.End ?? new Mark(0, 1, 1);
            diagnostics.Add(mark, string.Empty, "invalid YAML: unexpected end of a flow collection", "check for a missing '}' or ']'");
            return new ConfigLoadResult(null, diagnostics.Sorted());
        }

        var fingerprint = ConfigFingerprints.Whole(root); // before the checker resolves references in place
        var resolver = new ReferenceResolver(environment ?? Environment.GetEnvironmentVariable, baseDirectory);
        if (!new DocumentChecker(diagnostics, resolver).Check(root, ConfigShape.Of(typeof(EdgeConfig))))
        {
            return new ConfigLoadResult(null, diagnostics.Sorted());
        }

        EdgeConfig config;
        try
        {
            config = s_deserializer.Deserialize<EdgeConfig>(new NodeEventParser(root)) ?? new EdgeConfig();
        }
        catch (YamlException ex)
        {
            // The shape check should have caught (and cut) this; report it rather than crash.
            if (!diagnostics.HasErrors)
            {
                diagnostics.Add(ex.Start, string.Empty, InnermostMessage(ex));
            }

            return new ConfigLoadResult(null, diagnostics.Sorted());
        }

        var snapshot = new ConfigCompiler(diagnostics, path, environment).Compile(config, ConfigFingerprints.Of(root), fingerprint);
        if (diagnostics.HasErrors || snapshot is null)
        {
            return new ConfigLoadResult(null, diagnostics.Sorted());
        }

        return snapshot.Servers.Any(static s => s.Pinning != PinningMode.Off) ? WithPins(snapshot, path) : new ConfigLoadResult(snapshot, []);
    }

    /// <summary>Reads the lock file of a config whose servers are pinned; a lock that does not load fails the load.</summary>
    private static ConfigLoadResult WithPins(GatewaySnapshot snapshot, string path)
    {
        var lockPath = PinLock.PathFor(path);
        var problems = new List<ConfigDiagnostic>();
        var servers = Gateway.Pinning.LockFile.Read(lockPath, problems);
        if (servers is null)
        {
            return new ConfigLoadResult(null, problems);
        }

        var pins = Gateway.Pinning.LockFile.ToPinLock(lockPath, File.Exists(lockPath), servers);
        return new ConfigLoadResult(snapshot.WithPins(pins), []);
    }

    private static string InnermostMessage(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        var message = ex.Message;
        // YamlDotNet prefixes messages with "(Line: …, Col: …, Idx: …) - (…): "; we print positions ourselves.
        var cut = message.LastIndexOf("): ", StringComparison.Ordinal);
        return cut >= 0 ? message[(cut + 3)..] : message;
    }
}

/// <summary>The outcome of loading a config: a snapshot, or every diagnostic found.</summary>
internal sealed record ConfigLoadResult(GatewaySnapshot? Snapshot, IReadOnlyList<ConfigDiagnostic> Diagnostics)
{
    public bool Succeeded => Snapshot is not null;
}
