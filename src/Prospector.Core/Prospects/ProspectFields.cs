using System.Text;

namespace Prospector.Core.Prospects;

/// <summary>The standard prospect fields, the column headers that mean them, and the snake_case names of custom fields.</summary>
public static class ProspectFields
{
    /// <summary>Standard field names (snake_case); any other column becomes a custom field.</summary>
    public static readonly IReadOnlyList<string> Standard =
        ["email", "linkedin_url", "first_name", "last_name", "title", "phone", "company", "company_domain", "country", "time_zone", "owner_id"];

    // Keys are headers reduced to lower-case letters and digits ("E-mail Address" -> "emailaddress").
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["email"] = "email", ["emailaddress"] = "email", ["mail"] = "email", ["workemail"] = "email", ["businessemail"] = "email",
        ["linkedinurl"] = "linkedin_url", ["linkedin"] = "linkedin_url", ["linkedinprofile"] = "linkedin_url",
        ["linkedinprofileurl"] = "linkedin_url", ["profileurl"] = "linkedin_url", ["personlinkedinurl"] = "linkedin_url",
        ["firstname"] = "first_name", ["givenname"] = "first_name", ["first"] = "first_name", ["prenom"] = "first_name",
        ["lastname"] = "last_name", ["surname"] = "last_name", ["familyname"] = "last_name", ["last"] = "last_name", ["nom"] = "last_name",
        ["title"] = "title", ["jobtitle"] = "title", ["position"] = "title",
        ["phone"] = "phone", ["phonenumber"] = "phone", ["telephone"] = "phone", ["mobile"] = "phone", ["mobilephone"] = "phone",
        ["company"] = "company", ["companyname"] = "company", ["organization"] = "company", ["organisation"] = "company",
        ["account"] = "company", ["accountname"] = "company",
        ["companydomain"] = "company_domain", ["domain"] = "company_domain", ["website"] = "company_domain", ["companywebsite"] = "company_domain",
        ["country"] = "country", ["countrycode"] = "country",
        ["timezone"] = "time_zone", ["tz"] = "time_zone",
        ["ownerid"] = "owner_id",
    };

    /// <summary>The standard field a header or field name means (email, "E-mail", firstName, "First Name"), or null.</summary>
    public static string? Resolve(string header)
    {
        var key = new string(header.Where(char.IsAsciiLetterOrDigit).ToArray()).ToLowerInvariant();
        return Aliases.TryGetValue(key, out var field) ? field : null;
    }

    /// <summary>A header as a custom field name: lower snake_case of letters and digits ("Lead Source" → lead_source); null if nothing is left.</summary>
    public static string? CustomName(string header)
    {
        var sb = new StringBuilder(header.Length);
        var previousLower = false;
        foreach (var c in header.Trim())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                // camelCase words split too (leadSource -> lead_source).
                if (char.IsAsciiLetterUpper(c) && previousLower)
                {
                    sb.Append('_');
                }

                sb.Append(char.ToLowerInvariant(c));
                previousLower = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
            }
            else
            {
                if (sb.Length > 0 && sb[^1] != '_')
                {
                    sb.Append('_');
                }

                previousLower = false;
            }
        }

        var name = sb.ToString().Trim('_');
        if (name.Length == 0)
        {
            return null;
        }

        if (!char.IsAsciiLetter(name[0]))
        {
            name = "f_" + name;
        }

        return name.Length > 64 ? name[..64].TrimEnd('_') : name;
    }
}
