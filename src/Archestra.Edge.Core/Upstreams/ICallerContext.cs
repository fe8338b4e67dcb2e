namespace Archestra.Edge.Upstreams;

/// <summary>Who a call is made for: what an embedded server may know of its caller.</summary>
internal interface ICallerContext
{
    string ProfileName { get; }

    string SessionId { get; }

    string ProtocolVersion { get; }

    string? ClientName { get; }

    string? ClientVersion { get; }

    /// <summary>The principal the caller authenticated as; "anonymous" when the profile has no authentication.</summary>
    string Principal { get; }
}
