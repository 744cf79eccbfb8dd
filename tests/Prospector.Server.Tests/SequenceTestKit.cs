using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;

namespace Prospector.Server.Tests;

/// <summary>Helpers for the sequence API tests: raw SQL for data other APIs own, and common calls.</summary>
internal static class SequenceTestKit
{
    public static async Task<int> SqlAsync(this ProspectorApp app, string sql, object? args = null)
    {
        await using var c = await app.Database.Database.OpenAsync();
        return await c.ExecuteAsync(sql, args);
    }

    public static async Task<T> ScalarAsync<T>(this ProspectorApp app, string sql, object? args = null)
    {
        await using var c = await app.Database.Database.OpenAsync();
        return (await c.ExecuteScalarAsync<T>(sql, args))!;
    }

    public static Task<JsonElement> PostJsonAsync(this HttpClient http, string url, object body, HttpStatusCode status)
        => http.PostAsJsonAsync(url, body).ExpectAsync(status);

    public static async Task<JsonElement> EnrollPoolAsync(this HttpClient http, Guid sequenceId, Guid[] mailboxIds, params Guid[] prospectIds)
        => await http.PostJsonAsync($"/api/sequences/{sequenceId}/enrollments", new { prospectIds, mailboxIds }, HttpStatusCode.OK);

    public static Guid[] EnrolledIds(this JsonElement result)
        => result.GetProperty("enrolled").EnumerateArray().Select(e => e.GetProperty("enrollmentId").GetGuid()).ToArray();

    public static (Guid ProspectId, string Reason)[] SkipReasons(this JsonElement result)
        => result.GetProperty("skipped").EnumerateArray().Select(e => (e.GetProperty("prospectId").GetGuid(), e.GetProperty("reason").GetString()!)).ToArray();

    public static async Task<JsonElement> EnrollmentAsync(this HttpClient http, Guid enrollmentId)
        => await http.GetAsync($"/api/enrollments/{enrollmentId}").ExpectAsync(HttpStatusCode.OK);

    /// <summary>Email intro (subject), wait, email follow (no subject), email last (no subject).</summary>
    public static object[] ThreeEmails(string introBody = "Hello {{ first_name }}") =>
    [
        new { id = "intro", type = "email", subject = "Hi {{ first_name }}", body = introBody },
        new { id = "pause", type = "wait", days = 2 },
        new { id = "follow", type = "email", body = "Following up" },
        new { id = "last", type = "email", body = "Closing the loop" },
    ];
}
