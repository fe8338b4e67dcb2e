using Archestra.Edge.Configuration.Documents;
using Archestra.Edge.Model;

namespace Archestra.Edge.Configuration.Validation;

internal sealed partial class ConfigCompiler
{
    private const string RedactionActionHint = "use off, flag (audit only), redact (replace each finding) or block (withhold the result)";

    /// <summary>A profile's <c>redaction:</c>; null when absent or when both categories are off.</summary>
    private RedactionSettings? CompileRedaction(RedactionConfig? config, string path)
    {
        if (config is null)
        {
            return null;
        }

        var secrets = RedactionActionOf(config.Secrets, $"{path}.secrets", RedactionAction.Redact);
        var personal = RedactionActionOf(config.PersonalData, $"{path}.personal_data", RedactionAction.Off);
        var kinds = PersonalDataKinds.None;
        if (config.PersonalDataKinds is null)
        {
            kinds = PersonalDataKinds.All;
        }
        else
        {
            for (var i = 0; i < config.PersonalDataKinds.Count; i++)
            {
                kinds |= config.PersonalDataKinds[i] switch
                {
                    "email" => PersonalDataKinds.Email,
                    "phone" => PersonalDataKinds.Phone,
                    "card" => PersonalDataKinds.Card,
                    var other => InvalidKind($"{path}.personal_data_kinds[{i}]", other),
                };
            }

            if (personal == RedactionAction.Off && config.PersonalDataKinds.Count > 0)
            {
                _diagnostics.Add($"{path}.personal_data_kinds", "personal_data_kinds is set but personal_data is off", "set personal_data: flag, redact or block");
            }
        }

        return secrets == RedactionAction.Off && personal == RedactionAction.Off ? null : new RedactionSettings(secrets, personal, kinds);
    }

    private RedactionAction RedactionActionOf(string? value, string path, RedactionAction fallback)
    {
        switch (value)
        {
            case null:
                return fallback;
            case "off":
                return RedactionAction.Off;
            case "flag":
                return RedactionAction.Flag;
            case "redact":
                return RedactionAction.Redact;
            case "block":
                return RedactionAction.Block;
            default:
                _diagnostics.Add(path, $"unknown action '{value}'", RedactionActionHint);
                return RedactionAction.Off;
        }
    }

    private PersonalDataKinds InvalidKind(string path, string? value)
    {
        _diagnostics.Add(path, $"unknown kind of personal data '{value}'", "use email, phone or card");
        return PersonalDataKinds.None;
    }
}
