using System.Collections.Immutable;
using System.Text.Json;
using Archestra.Edge.Gateway.Catalog;
using Archestra.Edge.Model;
using Archestra.Edge.Protocol.Buffers;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway;

/// <summary>A profile at run time: its model, its merged catalogs, and the servers behind it.</summary>
internal sealed class ProfileRuntime
{
    private readonly CatalogHolder[] _catalogs;

    public ProfileRuntime(ProfileModel model, CatalogHolder[] catalogs, ImmutableArray<(AssignmentModel Assignment, UpstreamServer Server)> resourceServers, ImmutableArray<UpstreamServer> servers)
    {
        Model = model;
        _catalogs = catalogs;
        ResourceServers = resourceServers;
        Servers = servers;
        CapabilitiesJson = BuildCapabilities(model);
        Policies = new Policies.ProfilePolicies(model.Policies);
    }

    /// <summary>The rules on this profile's tool calls, compiled for this snapshot.</summary>
    public Policies.ProfilePolicies Policies { get; }

    public string Name => Model.Name;

    public ProfileModel Model { get; }

    public CatalogHolder Tools => _catalogs[(int)CatalogKind.Tools];

    public CatalogHolder Prompts => _catalogs[(int)CatalogKind.Prompts];

    public CatalogHolder Resources => _catalogs[(int)CatalogKind.Resources];

    public CatalogHolder ResourceTemplates => _catalogs[(int)CatalogKind.ResourceTemplates];

    /// <summary>The servers whose resources this profile exposes, in config order, with their assignments.</summary>
    public ImmutableArray<(AssignmentModel Assignment, UpstreamServer Server)> ResourceServers { get; }

    /// <summary>Every server the profile uses, once each, in config order.</summary>
    public ImmutableArray<UpstreamServer> Servers { get; }

    /// <summary>The server capabilities announced to clients: only what the gateway really honours for this profile.</summary>
    public byte[] CapabilitiesJson { get; }

    public bool HasPrompts => !Model.Prompts.IsEmpty;

    public bool HasResources => !ResourceServers.IsEmpty;

    public CatalogHolder CatalogOf(CatalogKind kind) => _catalogs[(int)kind];

    /// <summary>The resource assignment of the server with this name, if the profile exposes its resources.</summary>
    public (AssignmentModel Assignment, UpstreamServer Server)? ResourceServerNamed(string name)
    {
        foreach (var pair in ResourceServers)
        {
            if (pair.Server.Name == name)
            {
                return pair;
            }
        }

        return null;
    }

    public (AssignmentModel Assignment, UpstreamServer Server)? ResourceAssignmentOf(UpstreamServer server)
    {
        foreach (var pair in ResourceServers)
        {
            if (ReferenceEquals(pair.Server, server))
            {
                return pair;
            }
        }

        return null;
    }

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
