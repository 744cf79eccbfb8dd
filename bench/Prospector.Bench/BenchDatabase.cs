using Npgsql;

namespace Prospector.Bench;

/// <summary>A fresh PostgreSQL database for one run, created from an admin connection string and dropped afterwards.</summary>
public sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _admin;
    private readonly bool _keep;

    private BenchDatabase(string admin, string name, bool keep)
    {
        _admin = admin;
        _keep = keep;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = 100 }.ToString();
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<BenchDatabase> CreateAsync(bool keep)
    {
        var admin = AdminConnectionString();
        var name = $"prospector_bench_{DateTime.UtcNow:yyyyMMddHHmmss}_{Guid.NewGuid().ToString("N")[..6]}";
        await using var c = new NpgsqlConnection(admin);
        await c.OpenAsync();
        await using var create = new NpgsqlCommand($"create database {name}", c);
        await create.ExecuteNonQueryAsync();
        return new BenchDatabase(admin, name, keep);
    }

    public async ValueTask DisposeAsync()
    {
        if (_keep)
        {
            Console.WriteLine($"kept database {Name}");
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var c = new NpgsqlConnection(_admin);
        await c.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop database if exists {Name} with (force)", c);
        await drop.ExecuteNonQueryAsync();
    }

    private static string AdminConnectionString()
    {
        foreach (var name in new[] { "PROSPECTOR_BENCH_PG", "PROSPECTOR_TEST_PG" })
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                return value;
            }
        }

        var env = Repository.Find() is { } root ? Path.Combine(root, ".services", "test.env") : null;
        if (env is not null && File.Exists(env))
        {
            foreach (var line in File.ReadAllLines(env))
            {
                if (line.StartsWith("PROSPECTOR_TEST_PG=", StringComparison.Ordinal))
                {
                    return line["PROSPECTOR_TEST_PG=".Length..].Trim();
                }
            }
        }

        throw new InvalidOperationException(
            "No PostgreSQL: set PROSPECTOR_BENCH_PG (or PROSPECTOR_TEST_PG), or start the local services with `bash deploy/local/services-start.sh`.");
    }
}

/// <summary>The repository root (the folder holding Prospector.sln), searched upward from the working directory and the binary.</summary>
public static class Repository
{
    public static string? Find()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Prospector.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }
}
