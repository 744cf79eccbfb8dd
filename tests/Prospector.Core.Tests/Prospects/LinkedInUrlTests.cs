using Prospector.Core.Prospects;

namespace Prospector.Core.Tests.Prospects;

public class LinkedInUrlTests
{
    [Theory]
    [InlineData("https://www.linkedin.com/in/Ada-Lovelace/", "linkedin.com/in/ada-lovelace")]
    [InlineData("http://fr.linkedin.com/in/ada-lovelace?trk=profile#x", "linkedin.com/in/ada-lovelace")]
    [InlineData("linkedin.com/in/ada-lovelace", "linkedin.com/in/ada-lovelace")]
    [InlineData("www.linkedin.com/in/ada_lovelace-123/details/experience/", "linkedin.com/in/ada_lovelace-123")]
    [InlineData("https://www.linkedin.com/in/jos%C3%A9-garc%C3%ADa", "linkedin.com/in/josé-garcía")]
    public void TryNormalize_ReturnsSlugForm_WhenProfileUrl(string url, string expected)
        => Assert.Equal(expected, LinkedInUrl.TryNormalize(url));

    [Theory]
    [InlineData("https://www.linkedin.com/company/acme")]
    [InlineData("https://linkedin.com.evil.test/in/ada")]
    [InlineData("https://evil.test/linkedin.com/in/ada")]
    [InlineData("ftp://linkedin.com/in/ada")]
    [InlineData("https://www.linkedin.com/in/")]
    [InlineData("https://www.linkedin.com/in/a b")]
    [InlineData("ada-lovelace")]
    public void TryNormalize_ReturnsNull_WhenNotAProfileUrl(string url)
        => Assert.Null(LinkedInUrl.TryNormalize(url));

    [Theory]
    [InlineData("gmail.com", true)]
    [InlineData("yahoo.co.uk", true)]
    [InlineData("hotmail.fr", true)]
    [InlineData("gmx.de", true)]
    [InlineData("outlook.com", true)]
    [InlineData("orange.fr", true)]
    [InlineData("acme.com", false)]
    [InlineData("outlook.acme.com", false)]
    [InlineData("live.nation.com", false)]
    public void FreeMailDomains_RecognisesProviders(string domain, bool free)
        => Assert.Equal(free, FreeMailDomains.IsFreeMail(domain));
}
