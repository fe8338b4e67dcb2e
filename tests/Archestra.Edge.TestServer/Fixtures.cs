namespace Archestra.Edge.TestServer;

/// <summary>Small binary payloads for content tests.</summary>
internal static class Fixtures
{
    /// <summary>A 1×1 red PNG.</summary>
    public const string RedPixelPng = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

    /// <summary>A WAV file with one silent 16-bit mono sample at 8 kHz.</summary>
    public static readonly string SilentWav = Convert.ToBase64String(
    [
        (byte)'R', (byte)'I', (byte)'F', (byte)'F', 38, 0, 0, 0, (byte)'W', (byte)'A', (byte)'V', (byte)'E',
        (byte)'f', (byte)'m', (byte)'t', (byte)' ', 16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1F, 0, 0, 0x80, 0x3E, 0, 0, 2, 0, 16, 0,
        (byte)'d', (byte)'a', (byte)'t', (byte)'a', 2, 0, 0, 0, 0, 0,
    ]);
}
