using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Archestra.Edge.Configuration.Yaml;

/// <summary>
/// Replays a (checked, reference-resolved) YAML node tree as parser events, so the static deserializer reads
/// exactly the values the checker saw.
/// </summary>
internal sealed class NodeEventParser : IParser
{
    private readonly List<ParsingEvent> _events = [];
    private int _index = -1;

    public NodeEventParser(YamlNode root)
    {
        _events.Add(new StreamStart());
        _events.Add(new DocumentStart());
        Emit(root);
        _events.Add(new DocumentEnd(isImplicit: true));
        _events.Add(new StreamEnd());
    }

    public ParsingEvent? Current => _index >= 0 && _index < _events.Count ? _events[_index] : null;

    public bool MoveNext()
    {
        if (_index < _events.Count)
        {
            _index++;
        }

        return _index < _events.Count;
    }

    private void Emit(YamlNode node)
    {
        switch (node)
        {
            case YamlScalarNode scalar:
                _events.Add(new Scalar(AnchorName.Empty, scalar.Tag, scalar.Value ?? string.Empty, scalar.Style,
                    isPlainImplicit: scalar.Tag.IsEmpty, isQuotedImplicit: scalar.Tag.IsEmpty, scalar.Start, scalar.End));
                break;
            case YamlSequenceNode sequence:
                _events.Add(new SequenceStart(AnchorName.Empty, sequence.Tag, isImplicit: sequence.Tag.IsEmpty, sequence.Style, sequence.Start, sequence.End));
                foreach (var child in sequence.Children)
                {
                    Emit(child);
                }

                _events.Add(new SequenceEnd(sequence.End, sequence.End));
                break;
            case YamlMappingNode mapping:
                _events.Add(new MappingStart(AnchorName.Empty, mapping.Tag, isImplicit: mapping.Tag.IsEmpty, mapping.Style, mapping.Start, mapping.End));
                foreach (var (key, value) in mapping.Children)
                {
                    Emit(key);
                    Emit(value);
                }

                _events.Add(new MappingEnd(mapping.End, mapping.End));
                break;
            default:
                throw new YamlException(node.Start, node.End, "Unsupported YAML node.");
        }
    }
}
