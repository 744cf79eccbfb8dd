namespace Prospector.Testing;

/// <summary>
/// Where the real services started by deploy/local/services-start.sh listen. Values come from environment
/// variables, or else from the file .services/test.env at the repository root that the script writes.
/// Missing services fail the test with a message saying how to start them; they are never skipped.
/// </summary>
public static class TestServices
{
    /// <summary>Password of every test mail user (user01..user40@example.test).</summary>
    public const string MailPassword = "test-pass";

    /// <summary>Domain whose users exist on the local Postfix/Dovecot.</summary>
    public const string MailDomain = "example.test";

    private static readonly Lazy<IReadOnlyDictionary<string, string>> FileValues = new(ReadEnvFile);

    /// <summary>Npgsql connection string to the server's maintenance database (tests create their own databases).</summary>
    public static string PostgresAdmin => Require("PROSPECTOR_TEST_PG");

    /// <summary>Postfix SMTP on loopback.</summary>
    public static (string Host, int Port) Smtp => HostPort(Require("PROSPECTOR_TEST_SMTP"));

    /// <summary>Dovecot IMAP on loopback.</summary>
    public static (string Host, int Port) Imap => HostPort(Require("PROSPECTOR_TEST_IMAP"));

    /// <summary>Mail user N (1..40), e.g. user07@example.test; with a tag, user07+tag@example.test, delivered to the same inbox.</summary>
    public static string MailUser(int n, string? tag = null)
        => tag is null ? $"user{n:00}@{MailDomain}" : $"user{n:00}+{tag}@{MailDomain}";

    /// <summary>The value of a setting, or null.</summary>
    public static string? Get(string name)
        => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v
            : FileValues.Value.TryGetValue(name, out var f) ? f : null;

    private static string Require(string name)
        => Get(name) ?? throw new InvalidOperationException(
            $"{name} is not set. Start the local services with deploy/local/services-start.sh (or run deploy/local/test.sh).");

    private static (string, int) HostPort(string value)
    {
        var i = value.LastIndexOf(':');
        return (value[..i], int.Parse(value[(i + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static IReadOnlyDictionary<string, string> ReadEnvFile()
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var file = Path.Combine(dir.FullName, ".services", "test.env");
            if (!File.Exists(file))
            {
                continue;
            }

            foreach (var line in File.ReadAllLines(file))
            {
                var eq = line.IndexOf('=');
                if (eq > 0 && !line.StartsWith('#'))
                {
                    values[line[..eq].Trim()] = line[(eq + 1)..].Trim();
                }
            }

            break;
        }

        return values;
    }
}
