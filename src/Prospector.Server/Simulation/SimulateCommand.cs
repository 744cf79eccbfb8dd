using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Prospector.Core;
using Prospector.Core.Prospects;
using Prospector.Core.Sequences;
using Prospector.Core.Templates;
using Prospector.Server.Apis;
using Prospector.Storage;
using Prospector.Storage.Stores;

namespace Prospector.Server.Simulation;

/// <summary>The CLI input's sequence: a name and steps in the JSON shape of POST /api/sequences.</summary>
public sealed record SimulationFileSequence(JsonElement Steps, string? Name = null);

/// <summary>A CLI mailbox: the schedule fields of POST /api/mailboxes and the sending limits (no SMTP: nothing is sent).</summary>
public sealed record SimulationFileMailbox(
    string Name, string? FromAddress = null, string? TimeZone = null, SendingWindow? SendingWindow = null, int? DailyCap = null,
    int? HourlyCap = null, int? MinGapSeconds = null, int? RampStart = null, int? RampStep = null);

/// <summary>A CLI event: <see cref="Prospect"/> is the prospect's email or LinkedIn URL as given in the file.</summary>
public sealed record SimulationFileEvent(string Prospect, string Type, DateTimeOffset At, DateTimeOffset? Until = null);

/// <summary>The input of <c>simulate</c>: everything inline, no server or database needed.</summary>
public sealed record SimulationFile(
    SimulationFileSequence Sequence, ProspectRequest[] Prospects, SimulationFileMailbox[] Mailboxes, DateTimeOffset? Start = null, int? HorizonDays = null,
    SimulationFileEvent[]? Events = null);

/// <summary>The input file has invalid fields.</summary>
public sealed class SimulationInputException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SimulationInputException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public SimulationInputException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public SimulationInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for field errors.</summary>
    public SimulationInputException(IReadOnlyList<ValidationError> errors)
        : base(string.Join(Environment.NewLine, errors.Select(e => $"{e.Path}: {e.Message}")))
        => Errors = errors;

    /// <summary>Every error with its field path.</summary>
    public IReadOnlyList<ValidationError> Errors { get; } = [];
}

/// <summary>
/// <c>simulate &lt;input.json&gt; [--out result.json]</c>: runs a simulation from a file (sequence, prospects, mailboxes,
/// start, horizon, events) on a scratch database, without the web host; prints a summary and writes the JSON result.
/// </summary>
public static class SimulateCommand
{
    /// <summary>The verb.</summary>
    public const string Verb = "simulate";

    private const int MaxSteps = 200_000;

    private static Guid StableId(string kind, string key)
        => new(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(kind + "|" + key)).AsSpan(0, 16));

    private static async Task<IReadOnlyList<Guid>> StableProspectIdsAsync(Database scratch, IReadOnlyList<Guid> ids, SimulationFile file, CancellationToken ct)
    {
        var stable = new List<Guid>(ids.Count);
        await using var c = await scratch.OpenAsync(ct);
        for (var i = 0; i < ids.Count; i++)
        {
            var p = i < file.Prospects.Length ? file.Prospects[i] : null;
            var id = StableId("prospect", $"{i}:{p?.Email}:{p?.LinkedinUrl}");
            await Dapper.SqlMapper.ExecuteAsync(c, new Dapper.CommandDefinition("update prospects set id = @id where id = @old", new { id, old = ids[i] }, cancellationToken: ct));
            stable.Add(id);
        }

        return stable;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        WriteIndented = true,
    };

    /// <summary>Runs the verb with its arguments (after "simulate"). Returns the process exit code: 0, 1 (usage, unreadable file), 2 (invalid input, too large).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken ct)
    {
        string? input = null, outPath = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--out" && i + 1 < args.Count)
            {
                outPath = args[++i];
            }
            else if (input is null && !args[i].StartsWith("--", StringComparison.Ordinal))
            {
                input = args[i];
            }
            else
            {
                input = null;
                break;
            }
        }

        if (input is null)
        {
            await error.WriteLineAsync("usage: simulate <input.json> [--out result.json]");
            return 1;
        }

        SimulationFile file;
        try
        {
            await using var stream = File.OpenRead(input);
            file = await JsonSerializer.DeserializeAsync<SimulationFile>(stream, Json, ct) ?? throw new JsonException("the file is empty");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            await error.WriteLineAsync($"cannot read {input}: {ex.Message}");
            return 1;
        }

        outPath ??= Path.ChangeExtension(input, ".result.json");
        var mailboxNames = new Dictionary<Guid, string>();
        SimulationResult result;
        try
        {
            result = await RunAsync(file, mailboxNames, ct);
        }
        catch (SimulationInputException invalid)
        {
            await error.WriteLineAsync($"{input} has invalid fields:");
            foreach (var e in invalid.Errors)
            {
                await error.WriteLineAsync($"  {e.Path}: {e.Message}");
            }

            return 2;
        }
        catch (SimulationLimitException tooLarge)
        {
            await error.WriteLineAsync(tooLarge.Message);
            return 2;
        }

        await File.WriteAllTextAsync(outPath, JsonSerializer.Serialize(result, Json), ct);
        await output.WriteAsync(Summary(result, mailboxNames));
        await output.WriteLineAsync($"Result written to {outPath}");
        return 0;
    }

    /// <summary>Runs the simulation a file describes; <paramref name="mailboxNames"/> receives the name of each scratch mailbox.</summary>
    public static Task<SimulationResult> RunAsync(SimulationFile file, IDictionary<Guid, string>? mailboxNames, CancellationToken ct)
    {
        var start = (file.Start ?? DateTimeOffset.UtcNow).ToUniversalTime();
        return Simulator.RunAsync(start, (services, token) => SeedAsync(services, file, start, mailboxNames, token), ct);
    }

    internal static async Task<SimulationPlan> SeedAsync(
        IServiceProvider services, SimulationFile file, DateTimeOffset start, IDictionary<Guid, string>? mailboxNames, CancellationToken ct)
    {
        var errors = new List<ValidationError>();
        var horizonDays = file.HorizonDays ?? SequenceSimulationApi.DefaultHorizonDays;
        if (horizonDays is < 1 or > SequenceSimulationApi.MaxHorizonDays)
        {
            errors.Add(new("horizonDays", $"must be between 1 and {SequenceSimulationApi.MaxHorizonDays}"));
        }

        var prospects = new List<ProspectInput>();
        for (var i = 0; i < file.Prospects.Length; i++)
        {
            var p = file.Prospects[i];
            var (prospect, problems) = ProspectValidation.Validate(
                $"prospects[{i}].", p.Email, p.FirstName, p.LastName, p.Company, p.CompanyDomain, p.TimeZone, p.CustomFields,
                p.LinkedinUrl, p.Title, p.Phone, p.Country, p.OwnerId);
            errors.AddRange(problems);
            if (prospect is not null)
            {
                prospects.Add(prospect);
            }
        }

        if (file.Prospects.Length == 0)
        {
            errors.Add(new("prospects", "give at least one prospect"));
        }

        var custom = file.Prospects.SelectMany(p => p.CustomFields?.Keys ?? Enumerable.Empty<string>()).ToHashSet(StringComparer.Ordinal);
        var (definition, stepErrors) = SequenceParser.Parse(file.Sequence.Steps, "sequence.steps", new TemplateScope(custom));
        errors.AddRange(stepErrors);

        var now = start;
        var workspaceId = await services.GetRequiredService<WorkspaceStore>().CreateAsync("Simulation", now, ct);
        var mailboxes = new List<(MailboxRow Row, SimulationFileMailbox Input)>();
        for (var i = 0; i < file.Mailboxes.Length; i++)
        {
            if (Mailbox(file.Mailboxes[i], $"mailboxes[{i}]", workspaceId, i, now, errors) is { } row)
            {
                mailboxes.Add((row, file.Mailboxes[i]));
            }
        }

        if (file.Mailboxes.Length == 0)
        {
            // Every enrollment has a mailbox (the thread's sender), whatever its steps.
            errors.Add(new("mailboxes", "give at least one mailbox"));
        }

        if (errors.Count > 0 || definition is null)
        {
            throw new SimulationInputException(errors);
        }

        var sequence = new SequenceRow
        {
            Id = StableId("sequence", SequenceParser.Serialize(definition)), WorkspaceId = workspaceId, Name = file.Sequence.Name ?? "Simulated sequence", State = SequenceStates.Active,
            Version = 1, Definition = SequenceParser.Serialize(definition), CreatedAt = now, UpdatedAt = now,
        };
        await services.GetRequiredService<SequenceStore>().CreateAsync(sequence, ct);
        IReadOnlyList<Guid> ids;
        try
        {
            ids = (await services.GetRequiredService<ProspectStore>().UpsertAsync(workspaceId, prospects, now, ct)).Ids;
        }
        catch (ProspectStore.UpsertRejectedException rejected)
        {
            throw new SimulationInputException(rejected.Errors.Select(e => new ValidationError($"prospects[{e.Index}].{e.Field}", e.Message)).ToList());
        }

        // Ids derived from the file (jitter and tie-breaks are keyed by them), so the same file gives the same timeline.
        ids = await StableProspectIdsAsync(services.GetRequiredService<Database>(), ids, file, ct);

        var store = services.GetRequiredService<MailboxStore>();
        var scratch = services.GetRequiredService<Database>();
        foreach (var (row, input) in mailboxes)
        {
            await store.CreateAsync(row, ct);
            await ScratchData.SetLimitsAsync(scratch, row.Id, input.HourlyCap, input.MinGapSeconds ?? 0, input.RampStart, input.RampStep,
                input.RampStart is null ? null : start, ct);
            mailboxNames?.Add(row.Id, row.Name);
        }

        // Events name prospects by email or LinkedIn URL, as given in the file.
        var byKey = new Dictionary<string, Guid>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < file.Prospects.Length && i < ids.Count; i++)
        {
            foreach (var key in new[] { file.Prospects[i].Email, file.Prospects[i].LinkedinUrl })
            {
                if (!string.IsNullOrWhiteSpace(key))
                {
                    byKey.TryAdd(key.Trim(), ids[i]);
                }
            }
        }

        var events = new List<SimulatedEvent>();
        var end = start.AddDays(horizonDays);
        for (var i = 0; i < (file.Events?.Length ?? 0); i++)
        {
            var e = file.Events![i];
            if (!byKey.TryGetValue(e.Prospect?.Trim() ?? "", out var prospectId))
            {
                errors.Add(new($"events[{i}].prospect", "is not the email or LinkedIn URL of a prospect of this file"));
            }

            if (!SimulatedEvents.All.Contains(e.Type ?? ""))
            {
                errors.Add(new($"events[{i}].type", "must be one of: " + string.Join(", ", SimulatedEvents.All.Order(StringComparer.Ordinal))));
            }

            if (e.At < start || e.At > end)
            {
                errors.Add(new($"events[{i}].at", "must be between start and the horizon"));
            }

            events.Add(new SimulatedEvent(prospectId, e.Type ?? "", e.At.ToUniversalTime(), e.Until?.ToUniversalTime()));
        }

        if (errors.Count > 0)
        {
            throw new SimulationInputException(errors);
        }

        return new SimulationPlan(workspaceId, sequence.Id, 1, definition, ids, mailboxes.Select(m => m.Row.Id).ToList(), start, TimeSpan.FromDays(horizonDays), events, MaxSteps);
    }

    private static readonly string[] WeekDays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

    private static MailboxRow? Mailbox(SimulationFileMailbox m, string path, Guid workspaceId, int index, DateTimeOffset now, List<ValidationError> errors)
    {
        var count = errors.Count;
        if (string.IsNullOrWhiteSpace(m.Name))
        {
            errors.Add(new($"{path}.name", "is required"));
        }

        var from = m.FromAddress?.Trim() ?? $"mailbox{index + 1}@simulation.invalid";
        if (!EmailAddress.IsValid(from))
        {
            errors.Add(new($"{path}.fromAddress", "is not a valid email address"));
        }

        var zone = m.TimeZone?.Trim() ?? "UTC";
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(zone, out var tz) || !tz.HasIanaId)
        {
            errors.Add(new($"{path}.timeZone", "is not a known IANA time zone (e.g. Europe/Paris, America/New_York, UTC)"));
        }

        if (m.DailyCap is < 1 or > 10_000)
        {
            errors.Add(new($"{path}.dailyCap", "must be between 1 and 10000"));
        }

        if (m.HourlyCap is < 1 or > 10_000)
        {
            errors.Add(new($"{path}.hourlyCap", "must be between 1 and 10000"));
        }

        if (m.MinGapSeconds is < 0 or > 86_400)
        {
            errors.Add(new($"{path}.minGapSeconds", "must be between 0 and 86400"));
        }

        if (m.RampStart is < 1 || m.RampStep is < 0 || (m.RampStep is not null && m.RampStart is null))
        {
            errors.Add(new($"{path}.rampStart", "rampStart must be at least 1 (rampStep at least 0, and only with rampStart)"));
        }

        var (startMinute, endMinute, days) = (480, 1080, "mon,tue,wed,thu,fri");
        if (m.SendingWindow is { } w)
        {
            var s = Minutes(w.Start);
            var e = Minutes(w.End);
            if (s is null)
            {
                errors.Add(new($"{path}.sendingWindow.start", "must be a time HH:mm (00:00 to 24:00)"));
            }

            if (e is null || (s is not null && e <= s))
            {
                errors.Add(new($"{path}.sendingWindow.end", "must be a time HH:mm after start"));
            }

            var given = (w.Days ?? []).Select(d => d?.Trim().ToLowerInvariant() ?? "").ToArray();
            if (given.Length == 0 || given.Any(d => !WeekDays.Contains(d)))
            {
                errors.Add(new($"{path}.sendingWindow.days", "give days among: mon, tue, wed, thu, fri, sat, sun"));
            }

            (startMinute, endMinute, days) = (s ?? 0, e ?? 0, string.Join(',', WeekDays.Where(given.Contains)));
        }

        return errors.Count > count ? null : new MailboxRow
        {
            Id = StableId("mailbox", $"{index}:{m.Name.Trim()}"), WorkspaceId = workspaceId, Name = m.Name.Trim(), FromAddress = from, FromName = m.Name.Trim(),
            DailyCap = m.DailyCap ?? 50, SmtpHost = "simulation.invalid", SmtpPort = 587, SmtpSecurity = "StartTls", CreatedAt = now,
            TimeZone = zone, WindowStartMinute = startMinute, WindowEndMinute = endMinute, WindowDays = days, State = "active", UpdatedAt = now,
        };
    }

    private static int? Minutes(string? clock)
        => clock is { Length: 5 } && clock[2] == ':'
            && int.TryParse(clock.AsSpan(0, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            && int.TryParse(clock.AsSpan(3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m < 60 && h * 60 + m <= 24 * 60
            ? h * 60 + m
            : null;

    /// <summary>Emails per day and mailbox, outcomes, and when the last prospect finishes.</summary>
    internal static string Summary(SimulationResult result, IReadOnlyDictionary<Guid, string> mailboxNames)
    {
        var text = new System.Text.StringBuilder();
        var prospects = result.Timeline.Select(t => t.ProspectId).Distinct().Count();
        text.AppendLine(CultureInfo.InvariantCulture, $"Simulated from {result.Start:yyyy-MM-dd HH:mm}Z to {result.HorizonEnd:yyyy-MM-dd HH:mm}Z: {result.StepsRun} steps, {prospects} prospects reached.");
        text.AppendLine("Emails per day (mailbox's local date):");
        foreach (var day in result.PerDay.GroupBy(d => d.Date))
        {
            var cells = day.Select(d => (Name: mailboxNames.GetValueOrDefault(d.MailboxId, d.MailboxId.ToString()), d.Emails))
                .OrderBy(c => c.Name, StringComparer.Ordinal).Select(c => $"{c.Name}: {c.Emails}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  {day.Key:yyyy-MM-dd} {day.Key.DayOfWeek.ToString()[..3]}  {string.Join(", ", cells)}");
        }

        if (result.PerDay.Count == 0)
        {
            text.AppendLine("  (none)");
        }

        text.AppendLine("Outcomes: " + string.Join(", ", result.Outcomes.Select(o => $"{o.Key} {o.Value}")));
        text.AppendLine(result.FinishedAt is { } finished
            ? $"Last prospect finishes: {finished:yyyy-MM-dd HH:mm}Z"
            : $"Not finished within the horizon: {result.Unfinished} prospects still running");
        foreach (var ignored in result.IgnoredEvents)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Event {ignored.Index} ignored: {ignored.Reason}");
        }

        return text.ToString();
    }
}
