using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Upstreams;

namespace Archestra.Edge.Gateway.Relay;

/// <summary>Where a request goes, and the one name token to rewrite on the way (an exposed name to the upstream's own).</summary>
internal readonly record struct RelayTarget(UpstreamServer Server, JsonRange NameRange = default, byte[]? UpstreamName = null);
