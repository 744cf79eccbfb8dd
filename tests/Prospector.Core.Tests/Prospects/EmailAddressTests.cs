using Prospector.Core.Prospects;

namespace Prospector.Core.Tests.Prospects;

public class EmailAddressTests
{
    [Theory]
    [InlineData("ada@acme.test")]
    [InlineData("ada.lovelace+tag@mail.acme.co.uk")]
    [InlineData("A_B-c@Example.COM")]
    public void IsValid_ReturnsTrue_WhenAddressIsPlain(string address)
        => Assert.True(EmailAddress.IsValid(address));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("ada lovelace@acme.test")]
    [InlineData("ada@acme .test")]
    [InlineData("ada@@acme.test")]
    [InlineData("ada@b@acme.test")]
    [InlineData("ada@localhost")]
    [InlineData("@acme.test")]
    [InlineData("ada@")]
    [InlineData("ada@acme.test\r\nBcc: x@evil.test")]
    [InlineData("ada@acme.test\n")]
    [InlineData("<ada@acme.test>")]
    [InlineData("Ada <ada@acme.test>")]
    [InlineData("ada@.acme.test")]
    [InlineData("ada@acme.test.")]
    [InlineData("ada@acme..test")]
    [InlineData(".ada@acme.test")]
    [InlineData("ada.@acme.test")]
    [InlineData("\"ada\"@acme.test")]
    public void IsValid_ReturnsFalse_WhenAddressIsMalformed(string? address)
        => Assert.False(EmailAddress.IsValid(address));

    [Fact]
    public void IsValid_ReturnsFalse_WhenLocalPartLongerThan64()
        => Assert.False(EmailAddress.IsValid(new string('a', 65) + "@acme.test"));

    [Fact]
    public void Normalize_TrimsAndLowerCases_WhenAddressHasCaseAndSpaces()
        => Assert.Equal("ada+tag@acme.test", EmailAddress.Normalize("  Ada+Tag@ACME.test "));

    [Fact]
    public void Hash_IsStableAndCaseInsensitive_WhenSameAddressDiffersInCase()
    {
        var hash = EmailAddress.Hash("ada@acme.test");

        Assert.Equal(hash, EmailAddress.Hash("ada@acme.test"));
        Assert.Equal(hash, EmailAddress.Hash(" ADA@Acme.Test "));
        Assert.Equal(64, hash.Length);
        Assert.Matches("^[0-9a-f]{64}$", hash);
    }

    [Fact]
    public void Hash_Differs_WhenAddressDiffers()
        => Assert.NotEqual(EmailAddress.Hash("ada@acme.test"), EmailAddress.Hash("bob@acme.test"));

    [Fact]
    public void Hash_IsSha256OfNormalized_WhenComputed()
        => Assert.Equal(
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("ada@acme.test"u8.ToArray())),
            EmailAddress.Hash("Ada@Acme.test"));

    [Fact]
    public void Domain_ReturnsLowerCasedDomain_WhenAddressIsMixedCase()
        => Assert.Equal("acme.test", EmailAddress.Domain("Ada@ACME.Test"));
}
