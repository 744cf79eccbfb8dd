using Prospector.Core.Email;

namespace Prospector.Core.Tests.Email;

public sealed class LinkSignerTests
{
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly Guid SendId = Guid.Parse("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");

    [Fact]
    public void Token_ReadsBackToItsSendId_ForItsPurpose()
    {
        var signer = new LinkSigner(Key);

        var token = signer.Token(LinkPurpose.Unsubscribe, SendId);

        Assert.True(signer.TryRead(LinkPurpose.Unsubscribe, token, out var id));
        Assert.Equal(SendId, id);
        Assert.Equal(43, token.Length);
        Assert.DoesNotContain('+', token);
        Assert.DoesNotContain('/', token);
    }

    [Fact]
    public void TryRead_RefusesAnotherPurposeAnotherKeyOrATamperedToken()
    {
        var signer = new LinkSigner(Key);
        var token = signer.Token(LinkPurpose.Open, SendId);
        var tampered = (token[0] == 'A' ? 'B' : 'A') + token[1..];
        var otherKey = new LinkSigner(Key.Select(b => (byte)(b + 1)).ToArray());

        Assert.False(signer.TryRead(LinkPurpose.Unsubscribe, token, out _));
        Assert.False(otherKey.TryRead(LinkPurpose.Open, token, out _));
        Assert.False(signer.TryRead(LinkPurpose.Open, tampered, out _));
        Assert.False(signer.TryRead(LinkPurpose.Open, "", out _));
        Assert.False(signer.TryRead(LinkPurpose.Open, "not base64!", out _));
        Assert.False(signer.TryRead(LinkPurpose.Open, token + "AAAA", out _));
    }

    [Fact]
    public void ClickToken_CoversTheTargetUrl_SoItCannotBeRepointed()
    {
        var signer = new LinkSigner(Key);
        var token = signer.Token(LinkPurpose.Click, SendId, "https://acme.test/case");

        Assert.True(signer.TryRead(LinkPurpose.Click, token, out var id, "https://acme.test/case"));
        Assert.Equal(SendId, id);
        Assert.False(signer.TryRead(LinkPurpose.Click, token, out _, "https://evil.test/"));
        Assert.False(signer.TryRead(LinkPurpose.Click, token, out _, "https://acme.test/case?x"));
        Assert.Throws<ArgumentNullException>(() => signer.Token(LinkPurpose.Click, SendId));
    }

    [Fact]
    public void Constructor_RefusesShortKeys()
        => Assert.Throws<ArgumentException>(() => new LinkSigner(new byte[16]));
}
