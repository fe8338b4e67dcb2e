using Archestra.Edge.Configuration.Documents;
using YamlDotNet.Serialization;

namespace Archestra.Edge.Configuration.Yaml;

/// <summary>
/// The YamlDotNet static context: generated at build time, so loading the file needs no reflection and stays
/// trimming- and AOT-safe. Every config DTO must be listed here.
/// </summary>
[YamlStaticContext]
[YamlSerializable(typeof(EdgeConfig))]
[YamlSerializable(typeof(ServerSectionConfig))]
[YamlSerializable(typeof(TlsConfig))]
[YamlSerializable(typeof(StorageConfig))]
[YamlSerializable(typeof(LimitsConfig))]
[YamlSerializable(typeof(UpstreamServerConfig))]
[YamlSerializable(typeof(RemoteServerConfig))]
[YamlSerializable(typeof(ProcessServerConfig))]
[YamlSerializable(typeof(ContainerServerConfig))]
[YamlSerializable(typeof(RestartConfig))]
[YamlSerializable(typeof(HealthConfig))]
[YamlSerializable(typeof(ProfileConfig))]
[YamlSerializable(typeof(UserConfig))]
[YamlSerializable(typeof(CredentialConfig))]
[YamlSerializable(typeof(AccessConfig))]
[YamlSerializable(typeof(AuthConfig))]
[YamlSerializable(typeof(BearerConfig))]
[YamlSerializable(typeof(DeclaredTokenConfig))]
[YamlSerializable(typeof(OAuthConfig))]
[YamlSerializable(typeof(BuiltinAuthorizationServerConfig))]
[YamlSerializable(typeof(ExternalIdentityProviderConfig))]
[YamlSerializable(typeof(ClaimsConfig))]
[YamlSerializable(typeof(ToolAssignmentConfig))]
[YamlSerializable(typeof(AssignmentConfig))]
[YamlSerializable(typeof(ResourceAssignmentConfig))]
[YamlSerializable(typeof(ObservabilityConfig))]
[YamlSerializable(typeof(AuditConfig))]
[YamlSerializable(typeof(LogsConfig))]
[YamlSerializable(typeof(TracingConfig))]
[YamlSerializable(typeof(MetricsConfig))]
[YamlSerializable(typeof(RegistryConfig))]
[YamlSerializable(typeof(PolicyRuleConfig))]
[YamlSerializable(typeof(RedactionConfig))]
[YamlSerializable(typeof(RemoteOAuthConfig))]
[YamlSerializable(typeof(CallerMatchConfig))]
[YamlSerializable(typeof(ArgumentConditionConfig))]
// Public and unsealed only because the generated half is declared that way.
public partial class ConfigYamlContext : StaticContext;
