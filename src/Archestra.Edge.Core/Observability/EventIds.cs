namespace Archestra.Edge.Observability;

/// <summary>
/// Stable log event ids. They are API: dashboards and alerts key on them, so an id is never reused or
/// renumbered. Ranges: 1-99 host and config, 100-199 gateway, 200-299 upstreams, 300-399 identity and access,
/// 400-409 audit, 410-419 reloads, 420-429 tracing.
/// </summary>
internal static class EventIds
{
    // Host and configuration
    public const int ConfigLoaded = 1;
    public const int ConfigInvalid = 2;
    public const int Listening = 3;
    public const int ShuttingDown = 4;
    public const int Stopped = 5;
    public const int UnhandledException = 6;
    public const int HostRefused = 7;

    // Gateway: sessions, requests, catalog
    public const int SessionCreated = 100;
    public const int SessionEnded = 101;
    public const int SessionIdleExpired = 102;
    public const int RequestRejected = 103;
    public const int SessionLimitReached = 104;
    public const int CatalogServerFailed = 110;
    public const int CatalogNameCollision = 111;
    public const int CatalogInvalidated = 112;
    public const int CatalogUnmatchedCuration = 113;
    public const int CatalogRefreshed = 114;
    public const int CatalogRefreshFailed = 115;
    public const int CallTimedOut = 120;
    public const int CallFailed = 121;
    public const int ServerRequestRefused = 122;
    public const int DownstreamWriteFailed = 123;
    public const int UnattributedMessage = 124;
    public const int AmbiguousServerRequest = 125;
    public const int UpstreamSetLevelFailed = 126;

    // Identity and access (300-399)
    public const int AuthenticationFailed = 300;
    public const int AccessDenied = 301;
    public const int TokenReloadFailed = 302;
    public const int TokenCreated = 303;
    public const int TokenRevoked = 304;
    public const int OAuthClientRegistered = 310;
    public const int OAuthCodeIssued = 311;
    public const int OAuthTokenIssued = 312;
    public const int OAuthRefreshReuse = 313;
    public const int OAuthRequestRefused = 314;
    public const int SigningKeyCreated = 315;
    public const int OAuthGrantsRevoked = 316;
    public const int OAuthRegistrationFull = 317;
    public const int JwksFetched = 320;
    public const int JwksFetchFailed = 321;
    public const int CredentialMissing = 330;

    // Upstreams
    public const int UpstreamConnecting = 200;
    public const int UpstreamReady = 201;
    public const int UpstreamConnectFailed = 202;
    public const int UpstreamClosed = 203;
    public const int ProcessStarted = 210;
    public const int ProcessExited = 211;
    public const int ProcessStderr = 212;
    public const int ProcessGarbage = 213;
    public const int ProcessStopForced = 214;
    public const int ProcessReaped = 215;
    public const int ProcessRecordFailed = 216;
    public const int ProcessRestartScheduled = 217;
    public const int UpstreamCrashLoop = 218;
    public const int UpstreamHealthFailed = 219;
    public const int UpstreamIdleStopped = 222;
    public const int ContainerSwept = 230;
    public const int ContainerFailed = 231;
    public const int HttpStreamFailed = 220;
    public const int UpstreamProtocolViolation = 221;

    // Audit
    public const int AuditUnavailable = 400;
    public const int AuditWriteFailed = 401;
    public const int AuditPruned = 402;

    // Configuration reloads
    public const int ConfigReloaded = 410;
    public const int ConfigReloadFailed = 411;
    public const int ConfigReloadRequested = 412;
    public const int ConfigReloadSignalIgnored = 413;
    public const int ConfigWarning = 414;

    // Tracing
    public const int TraceExportFailed = 420;

    // Shared state and the fleet
    public const int StateListenerLost = 430;
    public const int StateListenerReconnected = 431;
    public const int FleetHeartbeatFailed = 432;
    public const int FleetForwardFailed = 433;
    public const int FleetJoined = 434;
    public const int SigningKeysReloaded = 435;
    public const int FleetMisrouted = 436;

    // Governance
    public const int PinBlocked = 440;
    public const int PinWarned = 441;

    // Upstream OAuth connections
    public const int ConnectionRefreshed = 450;
    public const int ConnectionRefreshFailed = 451;
    public const int ConnectionMade = 452;
    public const int ConnectionRemoved = 453;
    public const int ConnectionRefused = 454;

    // The console
    public const int ConsoleSignIn = 460;
    public const int ConsoleAuditUnreadable = 461;

    // Highest id in use: 461.
}
