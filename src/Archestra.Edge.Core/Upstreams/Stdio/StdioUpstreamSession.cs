using System.Buffers;
using System.Buffers.Text;
using System.ComponentModel;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Threading.Channels;
using Archestra.Edge.Protocol.Framing;
using Archestra.Edge.Protocol.JsonRpc;
using Archestra.Edge.Protocol.Mcp;
using Archestra.Edge.Upstreams.Streams;
using Archestra.Edge.Upstreams.Supervision.Processes;
using Archestra.Edge.Utilities;
using Microsoft.Extensions.Logging;

namespace Archestra.Edge.Upstreams.Stdio;

/// <summary>
/// An MCP server running as a child process, spoken to over stdin/stdout with one JSON message per line.
/// Writes from every caller go through one channel and are flushed in batches; one read loop hands each line to
/// <see cref="MessageStreamSession.Route"/>, which sorts it to its call or the listener.
/// </summary>
internal sealed partial class StdioUpstreamSession : MessageStreamSession
{
    // A line longer than this is not a message: the server is writing garbage and is stopped.
    private const int MaxLineBytes = 64 << 20;

    // A stderr line is logged and kept up to this many bytes; the rest of it is skipped unread.
    internal const int MaxStderrLineBytes = 4096;

    // What an isolated process still gets from the gateway: the basics of a login environment, and the network
    // plumbing a package runner needs to fetch its server (npx, uvx): proxies, CA bundles and package-index locations.
    // Nothing else of the gateway's environment (its own secrets included) reaches a server without inherit_env.
    private static readonly string[] s_baselineEnvironment =
    [
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TERM", "LANG", "LC_ALL", "TZ", "TMPDIR",
        "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE",
        "npm_config_registry", "NPM_CONFIG_REGISTRY", "PIP_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX",
    ];

    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly StderrTail _stderr = new();
    private readonly Channel<OutgoingFrame> _writes = Channel.CreateUnbounded<OutgoingFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _lifetime = new();
    private ChildProcesses? _children;
    private ProcessLaunch? _launch;
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;
    private Task _stderrLoop = Task.CompletedTask;
    private volatile bool _alive = true;

    // A start abandoned before initialize finished: the server gets no grace period on stdin, SIGTERM comes at once.
    private volatile bool _abandoned;
    private int _disposed;
    // At most 50 stderr lines and 10 garbage lines a second reach the log per server; all stderr reaches the tail.
    private readonly LogBudget _stderrLog;
    private readonly LogBudget _garbageLog;

    private StdioUpstreamSession(string serverName, Process process, IUpstreamListener listener, ILogger logger, TimeProvider timeProvider)
        : base(serverName, listener, logger)
    {
        _process = process;
        _logger = logger;
        _stderrLog = new LogBudget(timeProvider, 50);
        _garbageLog = new LogBudget(timeProvider, 10);
    }

    public override bool IsAlive => _alive;

    public override string? Identity => _launch?.Identity is { } container ? $"container {container}" : $"pid {ProcessId}";

    public int ProcessId { get; private set; }

    public override StderrTail Stderr => _stderr;

    /// <summary>Starts the process and runs the MCP handshake.</summary>
    public static async Task<(StdioUpstreamSession? Session, UpstreamError Error)> StartAsync(
        ProcessLaunch launch, string replicaName, ChildProcesses children, IUpstreamListener listener, ILogger logger, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(launch.Command)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            WorkingDirectory = launch.WorkingDirectory,
        };

        foreach (var argument in launch.Args)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (!launch.InheritEnvironment)
        {
            startInfo.Environment.Clear();
            foreach (var name in s_baselineEnvironment)
            {
                if (Environment.GetEnvironmentVariable(name) is { } value)
                {
                    startInfo.Environment[name] = value;
                }
            }
        }

        foreach (var (name, value) in launch.Environment)
        {
            startInfo.Environment[name] = value;
        }

        Process process;
        try
        {
            process = await children.StartAsync(startInfo).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Win32Exception or ObjectDisposedException)
        {
            return (null, UpstreamError.Unavailable($"cannot start '{launch.Command}': {ex.Message}"));
        }

        var session = new StdioUpstreamSession(replicaName, process, listener, logger, timeProvider)
        {
            ProcessId = process.Id,
            _children = children,
            _launch = launch,
        };
        children.Remember(process.Id, launch.Command);
        Log.ProcessStarted(logger, replicaName, process.Id, launch.Command);
        session._readLoop = Task.Run(session.ReadLoopAsync, CancellationToken.None);
        session._writeLoop = Task.Run(session.WriteLoopAsync, CancellationToken.None);
        session._stderrLoop = Task.Run(session.StderrLoopAsync, CancellationToken.None);

        UpstreamError error;
        try
        {
            error = await session.OpenAsync(listener, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // start_timeout (or shutdown) while the server had not answered initialize: the process must not outlive
            // the attempt, or every retry of a crash loop would leave one more behind. Its stop sequence (up to 4 s)
            // runs in the background, so the failure is reported at the timeout, not after the stop.
            session._abandoned = true;
            _ = session.DisposeAsync().AsTask();
            throw;
        }

        if (error.IsError)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            var message = error.Message + session._stderr.Describe();
            return (null, UpstreamError.Unavailable(message));
        }

        return (session, UpstreamError.None);
    }

    protected override string EndedReason => "the server process has exited";

    protected override ValueTask<UpstreamError> TransmitAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
        => ValueTask.FromResult(Enqueue(message.Span) ? UpstreamError.None : UpstreamError.Expired(EndedReason));

    protected override void OnGarbage(ReadOnlySpan<byte> bytes)
    {
        if (_garbageLog.TryTake())
        {
            Log.Garbage(_logger, ServerName, Preview(bytes));
        }
    }

    /// <summary>
    /// Copies a message into a pooled frame ending in a newline. Raw CR/LF bytes in valid JSON can only be
    /// insignificant whitespace, so they become spaces: the message keeps its meaning and fits on one line.
    /// </summary>
    private bool Enqueue(ReadOnlySpan<byte> message)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(message.Length + 1);
        message.CopyTo(buffer);
        var span = buffer.AsSpan(0, message.Length);
        var lineBreak = span.IndexOfAny((byte)'\r', (byte)'\n');
        if (lineBreak >= 0)
        {
            span[lineBreak..].Replace((byte)'\r', (byte)' ');
            span[lineBreak..].Replace((byte)'\n', (byte)' ');
        }

        buffer[message.Length] = (byte)'\n';
        if (_alive && _writes.Writer.TryWrite(new OutgoingFrame(buffer, message.Length + 1)))
        {
            return true;
        }

        ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        return false;
    }

    private async Task WriteLoopAsync()
    {
        var output = PipeWriter.Create(_process.StandardInput.BaseStream, new StreamPipeWriterOptions(leaveOpen: true));
        var reader = _writes.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_lifetime.Token).ConfigureAwait(false))
            {
                // Batch: everything queued so far goes out with one flush.
                while (reader.TryRead(out var frame))
                {
                    output.Write(frame.Buffer.AsSpan(0, frame.Length));
                    ArrayPool<byte>.Shared.Return(frame.Buffer, clearArray: true);
                }

                var flush = await output.FlushAsync(_lifetime.Token).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The process closed stdin or is being stopped; the read loop reports the exit.
        }
        finally
        {
            while (reader.TryRead(out var frame))
            {
                ArrayPool<byte>.Shared.Return(frame.Buffer, clearArray: true);
            }

            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task ReadLoopAsync()
    {
        var input = PipeReader.Create(_process.StandardOutput.BaseStream);
        long scanned = 0;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_lifetime.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (LineFraming.TryReadLine(ref buffer, ref scanned, out var line))
                {
                    if (!IsBlank(line))
                    {
                        Route(UpstreamMessage.Copy(line));
                    }
                }

                if (buffer.Length > MaxLineBytes)
                {
                    Log.Garbage(_logger, ServerName, $"a line longer than {MaxLineBytes} bytes; stopping the server");
                    input.AdvanceTo(buffer.End);
                    break;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }

        await OnExitedAsync().ConfigureAwait(false);
    }

    private async Task StderrLoopAsync()
    {
        // Lines are cut at MaxStderrLineBytes as they arrive (the rest of an overlong line is skipped up to its end),
        // so a child that writes endless stderr without a newline costs a few KB, never the whole stream.
        var input = PipeReader.Create(_process.StandardError.BaseStream, new StreamPipeReaderOptions(bufferSize: 4096));
        long scanned = 0;
        var skipping = false;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_lifetime.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (LineFraming.TryReadLine(ref buffer, ref scanned, out var line))
                {
                    if (skipping)
                    {
                        skipping = false;
                        continue;
                    }

                    OnStderrLine(line);
                }

                if (!skipping && buffer.Length > MaxStderrLineBytes)
                {
                    OnStderrLine(buffer.Slice(0, MaxStderrLineBytes), cut: true);
                    skipping = true;
                }

                if (skipping)
                {
                    // Nothing of the overlong line is kept: only its end is looked for.
                    input.AdvanceTo(buffer.End);
                    scanned = 0;
                }
                else
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted)
                {
                    if (!skipping && !buffer.IsEmpty)
                    {
                        OnStderrLine(buffer);
                    }

                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void OnStderrLine(in ReadOnlySequence<byte> bytes, bool cut = false)
    {
        var line = System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, bytes).TrimEnd('\r');
        if (cut)
        {
            line += "…";
        }

        _stderr.Add(line);
        if (_stderrLog.TryTake())
        {
            Log.Stderr(_logger, ServerName, line);
        }
    }

    private async Task OnExitedAsync()
    {
        _alive = false;
        _writes.Writer.TryComplete();
        int? exitCode = null;
        try
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            exitCode = _process.ExitCode;
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
        }

        // Let the stderr reader drain what the process wrote before it died, for the error message.
        await Task.WhenAny(_stderrLoop, Task.Delay(200)).ConfigureAwait(false);

        var reason = UpstreamError.Failed(
            (exitCode is { } code ? $"the server process exited with code {code}" : "the server process closed its output")
            + _stderr.Describe());
        if (Volatile.Read(ref _disposed) == 0)
        {
            Log.ProcessExited(_logger, ServerName, ProcessId, exitCode ?? -1);
        }

        // Helpers the server left running in its group go with it.
        ProcessSignals.SendToGroup(ProcessId, ProcessSignals.SigKill);
        _children?.Forget(ProcessId);
        FailAll(reason);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _alive = false;
        _writes.Writer.TryComplete();
        await _writeLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await StopProcessAsync().ConfigureAwait(false);
        await _lifetime.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_readLoop, _stderrLoop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _lifetime.Dispose();
        _process.Dispose();
    }

    /// <summary>The stop sequence (<see cref="StopSequence"/>); then the process is no longer a recorded child.</summary>
    private async Task StopProcessAsync()
    {
        await StopSequence.RunAsync(_process, ProcessId, _launch, _abandoned, ServerName, _logger).ConfigureAwait(false);
        _children?.Forget(ProcessId);
    }

    private static bool IsBlank(in ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            if (segment.Span.IndexOfAnyExcept(" \t\r"u8) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    private readonly record struct OutgoingFrame(byte[] Buffer, int Length);

    private static partial class Log
    {
        [LoggerMessage(Observability.EventIds.ProcessStarted, LogLevel.Information, "Started upstream '{Server}' as process {Pid} ({Command})")]
        public static partial void ProcessStarted(ILogger logger, string server, int pid, string command);

        [LoggerMessage(Observability.EventIds.ProcessExited, LogLevel.Warning, "Upstream '{Server}' process {Pid} exited with code {ExitCode}")]
        public static partial void ProcessExited(ILogger logger, string server, int pid, int exitCode);

        [LoggerMessage(Observability.EventIds.ProcessStderr, LogLevel.Information, "[{Server}] {Line}")]
        public static partial void Stderr(ILogger logger, string server, string line);

        [LoggerMessage(Observability.EventIds.ProcessGarbage, LogLevel.Warning, "Upstream '{Server}' wrote something that is not JSON-RPC to stdout: {Preview}")]
        public static partial void Garbage(ILogger logger, string server, string preview);
    }
}
