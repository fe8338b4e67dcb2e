using System.Globalization;

namespace Archestra.Edge.Utilities;

/// <summary>Parses the human units of the config file: durations (<c>500ms</c>, <c>30s</c>, <c>10m</c>, <c>1h</c>, <c>7d</c>) and sizes (<c>4MiB</c>).</summary>
internal static class Units
{
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var span = text.AsSpan().Trim();
        var unitStart = 0;
        while (unitStart < span.Length && (char.IsAsciiDigit(span[unitStart]) || span[unitStart] == '.'))
        {
            unitStart++;
        }

        if (unitStart == 0 || !double.TryParse(span[..unitStart], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        var unit = span[unitStart..];
        double? ms = unit switch
        {
            "ms" => number,
            "s" => number * 1000,
            "m" => number * 60_000,
            "h" => number * 3_600_000,
            "d" => number * 86_400_000,
            _ => null,
        };
        if (ms is null || ms > TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(ms.Value);
        return true;
    }

    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        var span = text.AsSpan().Trim();
        var unitStart = 0;
        while (unitStart < span.Length && char.IsAsciiDigit(span[unitStart]))
        {
            unitStart++;
        }

        if (unitStart == 0 || !long.TryParse(span[..unitStart], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        long? multiplier = span[unitStart..].Trim() switch
        {
            "" or "B" => 1,
            "KiB" => 1L << 10,
            "MiB" => 1L << 20,
            "GiB" => 1L << 30,
            "KB" or "kB" => 1000,
            "MB" => 1000_000,
            "GB" => 1000_000_000,
            _ => null,
        };
        if (multiplier is null || number > long.MaxValue / multiplier.Value)
        {
            return false;
        }

        bytes = number * multiplier.Value;
        return true;
    }

    public static string FormatDuration(TimeSpan value)
        => value.TotalMilliseconds < 1000 ? $"{value.TotalMilliseconds:0}ms"
         : value.TotalSeconds < 60 ? $"{value.TotalSeconds:0.###}s"
         : value.TotalMinutes < 60 ? $"{value.TotalMinutes:0.###}m"
         : $"{value.TotalHours:0.###}h";
}
