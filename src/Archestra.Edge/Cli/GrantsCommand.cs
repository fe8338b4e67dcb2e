using Archestra.Edge.Identity.OAuth;
using Archestra.Edge.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Archestra.Edge.Cli;

/// <summary>
/// <c>grants list|revoke</c>: the built-in authorization server's grants (what a user approved for a client), in
/// <c>data_dir/archestra.db</c>. Revoking one stops its refresh tokens and, within a second in a running gateway, its
/// access tokens.
/// </summary>
internal static class GrantsCommand
{
    private const string UsageText = """
        usage: archestra-edge grants list [--user USER] [--config FILE] [--data-dir DIR]
               archestra-edge grants revoke (GRANT-ID | --user USER) [--config FILE] [--data-dir DIR]
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("list" or "revoke"))
        {
            Console.Error.WriteLine(UsageText);
            return CommandLine.Usage;
        }

        var verb = args[0];
        string? user = null, grant = null;
        var rest = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--user" when i + 1 < args.Length:
                    user = args[++i];
                    break;
                default:
                    if (!CommandLine.TakeCommonOrPositional(args, ref i, rest, ref grant, positionalAllowed: verb == "revoke"))
                    {
                        return CommandLine.Usage;
                    }

                    break;
            }
        }

        if (verb == "revoke" && (grant is null) == (user is null))
        {
            Console.Error.WriteLine("error: name one grant, or --user USER for all of a user's grants");
            return CommandLine.Usage;
        }

        if (!CommandLine.TryLoadConfig([.. rest], out _, out var snapshot, out var exitCode))
        {
            return exitCode;
        }

        var grants = new GrantStore(StateStores.Open(snapshot, "cli", NullLogger.Instance).Grants, snapshot.Auth.Builtin.AccessTokenTtl, TimeProvider.System, NullLogger.Instance);
        if (verb == "list")
        {
            Console.Out.WriteLine($"{"GRANT",-34} {"USER",-16} {"CLIENT",-28} {"EXPIRES",-17} {"STATE",-8} RESOURCE");
            foreach (var info in grants.ListGrants(user))
            {
                Console.Out.WriteLine($"{info.Id,-34} {info.User,-16} {info.ClientId,-28} {info.ExpiresAt.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture),-17} {(info.RevokedAt is null ? "active" : "revoked"),-8} {info.Resource}");
            }

            return CommandLine.Success;
        }

        var revoked = grants.RevokeGrants(grant, user);
        if (revoked == 0)
        {
            Console.Error.WriteLine($"error: no active grant {(grant is not null ? $"'{grant}'" : $"of user '{user}'")}");
            return CommandLine.Failure;
        }

        Console.Out.WriteLine($"revoked {revoked} grant(s); their refresh tokens stop now, their access tokens within a second in a running gateway");
        return CommandLine.Success;
    }
}
