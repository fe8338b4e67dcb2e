using System.Collections.Immutable;
using System.Text.Json;
using Archestra.Edge.Configuration;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway;

/// <summary>A profile at run time: its model, its merged catalogs, and the servers behind it.</summary>
internal sealed class ProfileRuntime
{
    public ProfileRuntime(ProfileModel model, CatalogHolder tools, CatalogHolder prompts, UpstreamServer? resourceServer, ImmutableArray<UpstreamServer> servers)
    {
        Model = model;
        Tools = tools;
        Prompts = prompts;
        ResourceServer = resourceServer;
        Servers = servers;
        CapabilitiesJson = BuildCapabilities(model);
    }

    public string Name => Model.Name;

    public ProfileModel Model { get; }

    public CatalogHolder Tools { get; }

    public CatalogHolder Prompts { get; }

    /// <summary>The one server whose resources this profile relays, if any.</summary>
    public UpstreamServer? ResourceServer { get; }

    /// <summary>Every server the profile uses, once each, in config order.</summary>
    public ImmutableArray<UpstreamServer> Servers { get; }

    /// <summary>The server capabilities announced to clients: only what the gateway really honours for this profile.</summary>
    public byte[] CapabilitiesJson { get; }

    public bool HasPrompts => !Model.Prompts.IsEmpty;

    public bool HasResources => ResourceServer is not null;

    public CatalogHolder CatalogOf(CatalogKind kind) => kind == CatalogKind.Tools ? Tools : Prompts;

    public bool Uses(UpstreamServer server)
    {
        foreach (var member in Servers)
        {
            if (ReferenceEquals(member, server))
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] BuildCapabilities(ProfileModel model)
    {
        using var buffer = new PooledBufferWriter();
        using (var writer = new Utf8JsonWriter(buffer, JsonRpcWriter.RelaxedOptions))
        {
            writer.WriteStartObject();
            // The gateway forwards list changes of its catalogs, so it can always promise listChanged.
            writer.WriteStartObject("tools");
            writer.WriteBoolean("listChanged", true);
            writer.WriteEndObject();
            if (!model.Prompts.IsEmpty)
            {
                writer.WriteStartObject("prompts");
                writer.WriteBoolean("listChanged", true);
                writer.WriteEndObject();
            }

            if (!model.Resources.IsEmpty)
            {
                writer.WriteStartObject("resources");
                writer.WriteBoolean("subscribe", true);
                writer.WriteBoolean("listChanged", true);
                writer.WriteEndObject();
            }

            if (!model.Prompts.IsEmpty || !model.Resources.IsEmpty)
            {
                writer.WriteStartObject("completions");
                writer.WriteEndObject();
            }

            // logging/setLevel is answered by the gateway and filters what upstream logs reach the session.
            writer.WriteStartObject("logging");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
