using System.Text;
using MimeKit;

namespace Prospector.Core.Tests.Inbound;

/// <summary>Builds and loads test messages.</summary>
internal static class Mail
{
    public static string FixturePath(params string[] parts) =>
        Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    public static MimeMessage Parse(string raw) =>
        MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(raw.ReplaceLineEndings("\r\n"))));

    public static MimeMessage Load(string path) => MimeMessage.Load(path);

    /// <summary>A reply from a prospect with <paramref name="body"/> as its only part.</summary>
    public static MimeMessage Reply(string body, string subtype = "plain", string subject = "Re: Quick question")
    {
        var message = new MimeMessage { Subject = subject, InReplyTo = "step-1@prospector.test" };
        message.From.Add(MailboxAddress.Parse("prospect@customer.test"));
        message.To.Add(MailboxAddress.Parse("sdr@example.test"));
        message.Body = new TextPart(subtype) { Text = body };
        return message;
    }

    /// <summary>The comparison rule of the reply corpora: LF line ends, no trailing spaces, no blank edge lines.</summary>
    public static string Normalize(string? text)
    {
        var lines = (text ?? "").ReplaceLineEndings("\n").Split('\n').Select(l => l.TrimEnd()).ToList();
        var first = lines.FindIndex(l => l.Length > 0);
        var last = lines.FindLastIndex(l => l.Length > 0);
        return first < 0 ? "" : string.Join('\n', lines[first..(last + 1)]);
    }
}
