using System.Collections.Immutable;
using Archestra.Edge.Hosting;
using Archestra.Edge.Hosting.Admin;
using Archestra.Edge.Identity;
using Archestra.Edge.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Archestra.Edge.Cli;

/// <summary>
/// <c>token create|list|revoke</c>: manages the bearer tokens in <c>data_dir/archestra.db</c> directly (a running
/// gateway picks changes up within a second). The secret of a new token is printed once; only its hash is kept.
/// </summary>
internal static class TokenCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is not ("create" or "list" or "revoke"))
        {
            Console.Error.WriteLine("usage: archestra-edge token create --scope org|team:<id>|user:<id> [--name NAME] [--profile P]... [--expires 30d|2027-01-01] [--config FILE] [--data-dir DIR]\n       archestra-edge token list [--config FILE] [--data-dir DIR]\n       archestra-edge token revoke <id|name> [--config FILE] [--data-dir DIR]");
            return CommandLine.Usage;
        }

        var verb = args[0];
        string? scope = null, name = null, expires = null, target = null;
        var profiles = ImmutableArray.CreateBuilder<string>();
        var rest = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--scope" when i + 1 < args.Length:
                    scope = args[++i];
                    break;
                case "--name" when i + 1 < args.Length:
                    name = args[++i];
                    break;
                case "--profile" when i + 1 < args.Length:
                    profiles.Add(args[++i]);
                    break;
                case "--expires" when i + 1 < args.Length:
                    expires = args[++i];
                    break;
                default:
                    if (!CommandLine.TakeCommonOrPositional(args, ref i, rest, ref target, positionalAllowed: verb == "revoke"))
                    {
                        return CommandLine.Usage;
                    }

                    break;
            }
        }

        if (!CommandLine.TryLoadConfig([.. rest], out var options, out var snapshot, out var exitCode))
        {
            return exitCode;
        }

        using var store = new TokenStore(StateStores.Open(snapshot, "cli", NullLogger.Instance).Tokens(), snapshot.Auth.Tokens, TimeProvider.System, NullLogger.Instance, watch: false);
        switch (verb)
        {
            case "create":
                var (request, problem) = TokenRequest.Validate(name, scope, profiles.ToImmutable(), expires, snapshot, TimeProvider.System);
                if (request is null)
                {
                    Console.Error.WriteLine($"error: {problem}");
                    return CommandLine.Usage;
                }

                var (record, secret) = store.Create(request.Name, request.Scope, request.Profiles, request.Expires);
                Console.Out.WriteLine(secret);
                Console.Error.WriteLine($"created {record.Id} ({record.Name}, {record.Scope}{(record.Profiles.IsEmpty ? string.Empty : $", profiles {string.Join(',', record.Profiles)}")}{(record.ExpiresAt is { } at ? $", expires {at:yyyy-MM-dd HH:mm}Z" : string.Empty)}); the secret above is shown only once");
                if (!snapshot.Auth.Enabled)
                {
                    Console.Error.WriteLine("warning: the config has no auth: section, so the gateway does not check tokens yet");
                }

                return CommandLine.Success;

            case "list":
                Console.Out.WriteLine($"{"ID",-22} {"NAME",-24} {"SCOPE",-22} {"PROFILES",-16} {"EXPIRES",-17} STATE");
                var now = DateTimeOffset.UtcNow;
                foreach (var token in store.List())
                {
                    var state = token.RevokedAt is not null ? "revoked" : token.ExpiresAt is { } e && e <= now ? "expired" : "active";
                    Console.Out.WriteLine($"{token.Id,-22} {token.Name,-24} {token.Scope,-22} {(token.Profiles.IsEmpty ? "*" : string.Join(',', token.Profiles)),-16} {(token.ExpiresAt is { } x ? x.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) : "never"),-17} {state}{(token.Declared ? " (config)" : string.Empty)}");
                }

                return CommandLine.Success;

            default:
                if (target is null)
                {
                    Console.Error.WriteLine("error: which token? archestra-edge token revoke <id|name>");
                    return CommandLine.Usage;
                }

                if (!store.Revoke(target))
                {
                    Console.Error.WriteLine($"error: no active token '{target}' (a name must be unique; tokens declared in the config are revoked by removing them from it)");
                    return CommandLine.Failure;
                }

                Console.Out.WriteLine($"revoked {target}");
                return CommandLine.Success;
        }
    }
}
