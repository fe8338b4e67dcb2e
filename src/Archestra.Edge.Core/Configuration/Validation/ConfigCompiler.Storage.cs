using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Model;

namespace Archestra.Edge.Configuration.Validation;

internal sealed partial class ConfigCompiler
{
    private StorageSettings CompileStorage(StorageConfig? storage, ListenerSettings? listener, AuthSettings auth)
    {
        var settings = CompileStorageBackend(storage, listener, auth);
        var keys = new List<string>();
        if (storage?.EncryptionKey is { } key)
        {
            keys.Add(key);
            keys.AddRange(storage.PreviousEncryptionKeys ?? []);
        }
        else if (storage?.PreviousEncryptionKeys is { Count: > 0 })
        {
            _diagnostics.Add("storage.previous_encryption_keys", "previous keys need a current one", "set storage.encryption_key");
        }

        for (var i = 0; i < keys.Count; i++)
        {
            if (keys[i].Length < 32)
            {
                // The value is a secret: its length is said, never the value.
                _diagnostics.Add(i == 0 ? "storage.encryption_key" : $"storage.previous_encryption_keys[{i - 1}]", $"an encryption key needs at least 32 characters (found {keys[i].Length})",
                    "e.g. openssl rand -base64 32 into ${env:ARCHESTRA_ENCRYPTION_KEY}");
            }
        }

        return settings with { EncryptionKeys = [.. keys] };
    }

    private StorageSettings CompileStorageBackend(StorageConfig? storage, ListenerSettings? listener, AuthSettings auth)
    {
        switch (storage?.Backend)
        {
            case null or "sqlite":
                if (storage?.Connection is not null)
                {
                    _diagnostics.Add("storage.connection", "a connection string is only for backend: postgres (SQLite lives in server.data_dir)");
                }

                return StorageSettings.Sqlite;
            case "postgres":
                break;
            default:
                _diagnostics.Add("storage.backend", $"'{storage.Backend}' is not one of sqlite, postgres");
                return StorageSettings.Sqlite;
        }

        if (string.IsNullOrWhiteSpace(storage.Connection))
        {
            _diagnostics.Add("storage.connection", "backend: postgres needs a connection string", "e.g. connection: ${env:ARCHESTRA_POSTGRES} holding Host=db;Username=edge;Password=…;Database=archestra");
            return StorageSettings.Sqlite;
        }

        try
        {
            var parsed = new Npgsql.NpgsqlConnectionStringBuilder(storage.Connection);
            if (string.IsNullOrEmpty(parsed.Host))
            {
                _diagnostics.Add("storage.connection", "the connection string names no Host", "Host=…;Username=…;Password=…;Database=…");
            }
        }
        catch (ArgumentException ex)
        {
            // The message of the parser never repeats the string (it may hold a password).
            _diagnostics.Add("storage.connection", $"not an Npgsql connection string: {ex.Message.Split('\n')[0]}", "Host=…;Username=…;Password=…;Database=…");
        }

        if (listener is { AdvertiseUrl: { } advertised, PublicUrl: { } balancer }
            && Uri.Compare(advertised, balancer, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
        {
            _diagnostics.Add("server.advertise_url", "advertise_url is the public URL: the other instances must reach this instance itself, not the balancer",
                "the instance's own address, e.g. http://${env:POD_IP}:9000");
        }

        if (auth.OAuth == OAuthMode.Builtin && listener?.PublicUrl is null)
        {
            _diagnostics.Add("server.public_url", "a fleet (storage: postgres) with the built-in authorization server needs server.public_url",
                "every instance must issue tokens under the same issuer: the balancer's URL");
        }

        return new StorageSettings(storage.Connection);
    }
}
