using Hangfire.Logging;

namespace Prospector.Server.Hosting;

/// <summary>
/// Hangfire's log provider is process-wide and its classes keep their loggers in static fields, bound to the first
/// host's ILoggerFactory. When a host stops (tests start several in one process) those loggers throw
/// ObjectDisposedException inside Hangfire's loops. This provider forwards every call to the most recently started
/// host's factory instead.
/// </summary>
internal sealed class HangfireLogging : ILogProvider
{
    public static readonly HangfireLogging Instance = new();
    private ILoggerFactory? _factory;

    public void Use(ILoggerFactory factory) => Volatile.Write(ref _factory, factory);

    public ILog GetLogger(string name) => new Forwarder(this, name);

    private sealed class Forwarder(HangfireLogging owner, string name) : ILog
    {
        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            var factory = Volatile.Read(ref owner._factory);
            if (factory is null)
            {
                return false;
            }

            ILogger logger;
            try
            {
                logger = factory.CreateLogger(name);
            }
            catch (ObjectDisposedException)
            {
                return false;
            }

            var level = logLevel switch
            {
                Hangfire.Logging.LogLevel.Trace => Microsoft.Extensions.Logging.LogLevel.Trace,
                Hangfire.Logging.LogLevel.Debug => Microsoft.Extensions.Logging.LogLevel.Debug,
                Hangfire.Logging.LogLevel.Info => Microsoft.Extensions.Logging.LogLevel.Information,
                Hangfire.Logging.LogLevel.Warn => Microsoft.Extensions.Logging.LogLevel.Warning,
                Hangfire.Logging.LogLevel.Error => Microsoft.Extensions.Logging.LogLevel.Error,
                _ => Microsoft.Extensions.Logging.LogLevel.Critical,
            };
            if (messageFunc is null)
            {
                return logger.IsEnabled(level);
            }

            logger.Log(level, exception, "{HangfireMessage}", messageFunc());
            return true;
        }
    }
}
