using System.Collections.Frozen;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Archestra.Edge.Configuration.Yaml;

/// <summary>What a config value must look like, derived from the DTO types through the generated static context.</summary>
internal enum ShapeKind
{
    String,
    Integer,
    Boolean,
    Sequence,
    Map,
    Object,

    /// <summary>Any YAML value; the checker turns it into JSON text (tool arguments fixed by the config).</summary>
    Any,
}

/// <summary>
/// The shape of one config type: scalars, lists, string-keyed maps, or an object with a fixed set of snake_case keys.
/// Built from <see cref="ConfigYamlContext"/>'s type inspector (no runtime reflection over members), and used both
/// to check a file before it is deserialized and to describe the schema.
/// </summary>
internal sealed class ConfigShape
{
    private static readonly ITypeInspector s_inspector = new ConfigYamlContext().GetTypeInspector();
    private static readonly Dictionary<Type, ConfigShape> s_cache = [];
    private static readonly Lock s_lock = new();

    // Properties whose innermost values are free-form YAML (kept as JSON text in a string).
    private static readonly FrozenSet<string> s_anyValueProperties = FrozenSet.Create(StringComparer.Ordinal, "ToolAssignmentConfig.FixedArguments");

    private ConfigShape(ShapeKind kind, Type clrType)
    {
        Kind = kind;
        ClrType = clrType;
    }

    public ShapeKind Kind { get; }

    public Type ClrType { get; }

    /// <summary>For sequences and maps: the shape of the items.</summary>
    public ConfigShape? Item { get; private set; }

    /// <summary>For objects: the keys in declaration order, with their shapes.</summary>
    public IReadOnlyList<KeyValuePair<string, ConfigShape>> Keys { get; private set; } = [];

    public FrozenDictionary<string, ConfigShape> KeyLookup { get; private set; } = FrozenDictionary<string, ConfigShape>.Empty;

    public static ConfigShape Of(Type type)
    {
        lock (s_lock)
        {
            return Build(type);
        }
    }

    /// <summary>A short description used in error messages: "a string", "a list", …</summary>
    public string Describe() => Kind switch
    {
        ShapeKind.String => "a string",
        ShapeKind.Integer => "an integer",
        ShapeKind.Boolean => "true or false",
        ShapeKind.Sequence => "a list",
        ShapeKind.Map => "a mapping of names to values",
        ShapeKind.Any => "any value",
        _ => "a mapping",
    };

    private static ConfigShape Build(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (s_cache.TryGetValue(type, out var cached))
        {
            return cached;
        }

        if (type == typeof(string))
        {
            return Remember(new ConfigShape(ShapeKind.String, type));
        }

        if (type == typeof(int) || type == typeof(long))
        {
            return Remember(new ConfigShape(ShapeKind.Integer, type));
        }

        if (type == typeof(bool))
        {
            return Remember(new ConfigShape(ShapeKind.Boolean, type));
        }

        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            var arguments = type.GetGenericArguments();
            if (definition == typeof(List<>))
            {
                var shape = Remember(new ConfigShape(ShapeKind.Sequence, type));
                shape.Item = Build(arguments[0]);
                return shape;
            }

            if (definition == typeof(Dictionary<,>))
            {
                var shape = Remember(new ConfigShape(ShapeKind.Map, type));
                shape.Item = Build(arguments[1]);
                return shape;
            }
        }

        var objectShape = Remember(new ConfigShape(ShapeKind.Object, type));
        var keys = new List<KeyValuePair<string, ConfigShape>>();
        foreach (var property in s_inspector.GetProperties(type, container: null))
        {
            var key = UnderscoredNamingConvention.Instance.Apply(property.Name);
            var propertyShape = Build(property.Type);
            keys.Add(new(key, s_anyValueProperties.Contains($"{type.Name}.{property.Name}") ? WithAnyLeaves(propertyShape) : propertyShape));
        }

        objectShape.Keys = keys;
        objectShape.KeyLookup = keys.ToFrozenDictionary(StringComparer.Ordinal);
        return objectShape;
    }

    /// <summary>A copy of a string-valued shape whose strings accept any YAML value.</summary>
    private static ConfigShape WithAnyLeaves(ConfigShape shape) => shape.Kind switch
    {
        ShapeKind.String => new ConfigShape(ShapeKind.Any, shape.ClrType),
        ShapeKind.Map or ShapeKind.Sequence => new ConfigShape(shape.Kind, shape.ClrType) { Item = WithAnyLeaves(shape.Item!) },
        _ => throw new InvalidOperationException($"{shape.ClrType} cannot hold free-form values"),
    };

    private static ConfigShape Remember(ConfigShape shape)
    {
        s_cache[shape.ClrType] = shape;
        return shape;
    }
}
