using System.Security.Cryptography;
using System.Text;
using Prospector.Crm.Webhook;

namespace Prospector.Crm.Tests;

public class StandardWebhookSignatureTests
{
    // The vector published with the Standard Webhooks reference libraries.
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string Id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long Timestamp = 1614265330;
    private const string Body = """{"test": 2432232314}""";
    private const string Signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    private static readonly TimeProvider AtTimestamp = new FixedTimeProvider(DateTimeOffset.FromUnixTimeSeconds(Timestamp));

    [Fact]
    public void Sign_ReturnsPublishedSignature_WhenGivenReferenceVector()
        => Assert.Equal(Signature, StandardWebhookSignature.Sign(Secret, Id, Timestamp, Body));

    [Fact]
    public void Sign_UsesUtf8BytesAsKey_WhenSecretHasNoWhsecPrefix()
    {
        var expected = "v1," + Convert.ToBase64String(
            HMACSHA256.HashData(Encoding.UTF8.GetBytes("plain-secret"), Encoding.UTF8.GetBytes($"{Id}.{Timestamp}.{Body}")));

        Assert.Equal(expected, StandardWebhookSignature.Sign("plain-secret", Id, Timestamp, Body));
    }

    [Fact]
    public void Verify_ReturnsTrue_WhenSignatureMatches()
        => Assert.True(StandardWebhookSignature.Verify(Secret, Id, "1614265330", Signature, Body, timeProvider: AtTimestamp));

    [Fact]
    public void Verify_ReturnsTrue_WhenOneOfSeveralSignaturesMatches()
    {
        var header = $"v1,bm9wZQ== v1a,xyz {Signature} v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

        Assert.True(StandardWebhookSignature.Verify(Secret, Id, "1614265330", header, Body, timeProvider: AtTimestamp));
    }

    [Fact]
    public void Verify_ReturnsFalse_WhenBodyTampered()
        => Assert.False(StandardWebhookSignature.Verify(
            Secret, Id, "1614265330", Signature, """{"test": 2432232315}""", timeProvider: AtTimestamp));

    [Fact]
    public void Verify_ReturnsFalse_WhenSecretWrong()
        => Assert.False(StandardWebhookSignature.Verify(
            "whsec_" + Convert.ToBase64String(new byte[24]), Id, "1614265330", Signature, Body, timeProvider: AtTimestamp));

    [Fact]
    public void Verify_ReturnsFalse_WhenIdChanged()
        => Assert.False(StandardWebhookSignature.Verify(
            Secret, "msg_other", "1614265330", Signature, Body, timeProvider: AtTimestamp));

    [Fact]
    public void Verify_ReturnsFalse_WhenTimestampChangedButSignatureKept()
    {
        var clock = new FixedTimeProvider(DateTimeOffset.FromUnixTimeSeconds(Timestamp + 1));

        Assert.False(StandardWebhookSignature.Verify(Secret, Id, "1614265331", Signature, Body, timeProvider: clock));
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    public void Verify_ReturnsFalse_WhenTimestampOutsideDefaultTolerance(int clockOffsetSeconds)
    {
        var clock = new FixedTimeProvider(DateTimeOffset.FromUnixTimeSeconds(Timestamp + clockOffsetSeconds));

        Assert.False(StandardWebhookSignature.Verify(Secret, Id, "1614265330", Signature, Body, timeProvider: clock));
    }

    [Theory]
    [InlineData(-299)]
    [InlineData(299)]
    public void Verify_ReturnsTrue_WhenTimestampWithinDefaultTolerance(int clockOffsetSeconds)
    {
        var clock = new FixedTimeProvider(DateTimeOffset.FromUnixTimeSeconds(Timestamp + clockOffsetSeconds));

        Assert.True(StandardWebhookSignature.Verify(Secret, Id, "1614265330", Signature, Body, timeProvider: clock));
    }

    [Fact]
    public void Verify_ReturnsFalse_WhenOlderThanCustomTolerance()
    {
        var clock = new FixedTimeProvider(DateTimeOffset.FromUnixTimeSeconds(Timestamp + 31));

        Assert.False(StandardWebhookSignature.Verify(
            Secret, Id, "1614265330", Signature, Body, TimeSpan.FromSeconds(30), clock));
    }

    [Fact]
    public void Verify_ReturnsFalse_WhenTimestampIsRealTimeAndVectorIsOld()
        => Assert.False(StandardWebhookSignature.Verify(Secret, Id, "1614265330", Signature, Body));

    [Theory]
    [InlineData(null, "1614265330", Signature)]
    [InlineData("", "1614265330", Signature)]
    [InlineData(Id, null, Signature)]
    [InlineData(Id, "", Signature)]
    [InlineData(Id, "16142653.30", Signature)]
    [InlineData(Id, "-1614265330", Signature)]
    [InlineData(Id, "99999999999999999999999", Signature)]
    [InlineData(Id, "1614265330", null)]
    [InlineData(Id, "1614265330", "")]
    [InlineData(Id, "1614265330", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    [InlineData(Id, "1614265330", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    [InlineData(Id, "1614265330", "v1,not-base64!")]
    [InlineData(Id, "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=AAAA")]
    public void Verify_ReturnsFalse_WhenHeadersMissingOrMalformed(string? id, string? timestamp, string? signatures)
        => Assert.False(StandardWebhookSignature.Verify(Secret, id, timestamp, signatures, Body, timeProvider: AtTimestamp));

    [Fact]
    public void Verify_Throws_WhenSecretIsNotBase64AfterPrefix()
        => Assert.Throws<FormatException>(() => StandardWebhookSignature.Verify(
            "whsec_not*base64", Id, "1614265330", Signature, Body, timeProvider: AtTimestamp));
}
