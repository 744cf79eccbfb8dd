using Prospector.Core.Email;
using Prospector.Email.Smtp;

namespace Prospector.Email.Tests.Smtp;

public sealed class OutgoingMessageBuilderTests
{
    private static readonly DateTimeOffset Now = new(2030, 5, 6, 7, 8, 9, TimeSpan.Zero);

    private static OutgoingEmail Email(
        string messageId = "abc.123@prospector.test",
        string to = "pat@example.test",
        string? inReplyTo = null,
        IReadOnlyList<string>? references = null,
        IReadOnlyDictionary<string, string>? headers = null)
        => new(messageId, "Sam", "sam@example.test", "Pat", to, "Hi", "text", null, inReplyTo, references ?? [],
            headers ?? new Dictionary<string, string>());

    [Fact]
    public void TryBuild_SetsIdsDateAndEnvelope_WhenTheEmailIsValid()
    {
        var ok = OutgoingMessageBuilder.TryBuild(
            Email(inReplyTo: "p@x.test", references: ["r@x.test", "p@x.test"]), Now, out var built, out var error);

        Assert.True(ok, error);
        Assert.Equal("abc.123@prospector.test", built!.Message.MessageId);
        Assert.Equal("<abc.123@prospector.test>", built.Message.Headers["Message-ID"]);
        Assert.Equal("p@x.test", built.Message.InReplyTo);
        Assert.Equal(["r@x.test", "p@x.test"], built.Message.References.ToArray());
        Assert.Equal(Now, built.Message.Date);
        Assert.Equal("sam@example.test", built.Sender.Address);
        Assert.Equal("pat@example.test", built.Recipient.Address);
    }

    [Theory]
    [InlineData("X-Campaign", "spring\r\nBcc: victim@evil.test")]
    [InlineData("X-Campaign", "spring\nBcc: victim@evil.test")]
    [InlineData("X-Campaign", "spring\rBcc: victim@evil.test")]
    [InlineData("X-Campaign", "spring\0")]
    [InlineData("X-Camp\r\naign", "spring")]
    public void TryBuild_RefusesCustomHeaders_WithCrLfOrNul(string name, string value)
    {
        var ok = OutgoingMessageBuilder.TryBuild(Email(headers: new Dictionary<string, string> { [name] = value }), Now, out var built, out var error);

        Assert.False(ok);
        Assert.Null(built);
        Assert.Equal("a header name or value contains CR, LF or NUL", error);
    }

    [Fact]
    public void TryBuild_MakesMultipartAlternative_AndKeepsTheListHeaders()
    {
        var email = Email(headers: new Dictionary<string, string>
        {
            ["List-Unsubscribe"] = "<https://l.test/u/T>, <mailto:sam@example.test?subject=unsubscribe>",
            ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
        }) with { HtmlBody = "<p>text</p>" };

        Assert.True(OutgoingMessageBuilder.TryBuild(email, Now, out var built, out var error), error);

        var alternative = Assert.IsType<MimeKit.MultipartAlternative>(built!.Message.Body);
        Assert.Equal(["text/plain", "text/html"], alternative.Select(p => p.ContentType.MimeType).ToArray());
        Assert.Equal("<https://l.test/u/T>, <mailto:sam@example.test?subject=unsubscribe>", built.Message.Headers["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", built.Message.Headers["List-Unsubscribe-Post"]);
    }

    [Theory]
    [InlineData("Bcc")]
    [InlineData("to")]
    [InlineData("Message-ID")]
    [InlineData("Resent-To")]
    [InlineData("Content-Type")]
    public void TryBuild_Refuses_WhenAHeaderWouldOverrideOneTheSenderOwns(string name)
    {
        var ok = OutgoingMessageBuilder.TryBuild(Email(headers: new Dictionary<string, string> { [name] = "x@evil.test" }), Now, out _, out var error);

        Assert.False(ok);
        Assert.Contains("cannot be overridden", error, StringComparison.Ordinal);
        Assert.DoesNotContain("evil", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("X Bad")]
    [InlineData("X:Bad")]
    [InlineData("")]
    public void TryBuild_Refuses_WhenAHeaderNameIsNotAFieldName(string name)
        => Assert.False(OutgoingMessageBuilder.TryBuild(Email(headers: new Dictionary<string, string> { [name] = "v" }), Now, out _, out _));

    [Theory]
    [InlineData("pat@example.test> NOTIFY=NEVER")]
    [InlineData("pat@example.test\r\nRCPT TO:<x@evil.test>")]
    [InlineData("<pat@example.test>")]
    [InlineData("no-at-sign")]
    public void TryBuild_Refuses_WhenTheRecipientCouldInjectSmtpParameters(string to)
    {
        Assert.False(OutgoingMessageBuilder.TryBuild(Email(to: to), Now, out _, out var error));
        Assert.DoesNotContain("evil", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<abc@x.test>")]
    [InlineData("abc @x.test")]
    [InlineData("abc")]
    [InlineData("abc@x.test\r\nBcc: y@evil.test")]
    public void TryBuild_Refuses_WhenAMessageIdIsNotAPlainMsgId(string id)
    {
        Assert.False(OutgoingMessageBuilder.TryBuild(Email(messageId: id), Now, out _, out _));
        Assert.False(OutgoingMessageBuilder.TryBuild(Email(inReplyTo: id), Now, out _, out _));
        Assert.False(OutgoingMessageBuilder.TryBuild(Email(references: [id]), Now, out _, out _));
    }
}
