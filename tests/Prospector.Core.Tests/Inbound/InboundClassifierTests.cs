using Prospector.Core.Inbound;

namespace Prospector.Core.Tests.Inbound;

public class InboundClassifierTests
{
    [Fact]
    public void Classify_ReturnsHardBounce_WhenPostfix37RejectsUnknownUser()
    {
        var result = InboundClassifier.Classify(Mail.Load(Mail.FixturePath("samples", "postfix-3.7-user-unknown.eml")));

        Assert.Equal(InboundKind.Bounce, result.Kind);
        Assert.NotNull(result.Bounce);
        Assert.True(result.Bounce.IsHard);
        Assert.Equal("5.1.1", result.Bounce.Status);
        Assert.Equal("x@bounce.test", result.Bounce.Recipient);
        Assert.Equal("failed", result.Bounce.Action);
        Assert.Equal("550 5.1.1 <x@bounce.test>: Recipient address rejected: User unknown in local recipient table", result.Bounce.DiagnosticCode);
        Assert.Equal("abc123@example.test", result.ReferencedMessageIds[0]);
        Assert.Equal("dsn action=failed status=5.1.1", result.Reason);
        Assert.Null(result.ReplyText);
    }

    [Fact]
    public void Classify_ReturnsSoftBounce_WhenDsnActionIsDelayed()
    {
        var result = InboundClassifier.Classify(Mail.Parse(Dsn("Action: delayed\nStatus: 4.4.1")));

        Assert.Equal(InboundKind.Bounce, result.Kind);
        Assert.False(result.Bounce!.IsHard);
        Assert.Equal("delayed", result.Bounce.Action);
        Assert.Equal("4.4.1", result.Bounce.Status);
    }

    [Theory]
    [InlineData("Action: failed", true)]
    [InlineData("Action: failed\nStatus: 4.4.7", false)]
    [InlineData("Action: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 5.7.1 Relaying denied", true)]
    [InlineData("Status: 5.1.1", true)]
    [InlineData("Action: delivered\nStatus: 2.0.0", false)]
    public void Classify_DecidesHardness_FromDsnActionAndStatus(string fields, bool isHard)
    {
        var result = InboundClassifier.Classify(Mail.Parse(Dsn(fields)));

        Assert.Equal(InboundKind.Bounce, result.Kind);
        Assert.Equal(isHard, result.Bounce!.IsHard);
    }

    [Fact]
    public void Classify_PrefersDiagnosticStatus_WhenDsnStatusIsUndefined()
    {
        var result = InboundClassifier.Classify(Mail.Parse(Dsn("Action: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 5.7.1 Relaying denied")));

        Assert.Equal("5.7.1", result.Bounce!.Status);
        Assert.Equal("550 5.7.1 Relaying denied", result.Bounce.DiagnosticCode);
    }

    [Fact]
    public void Classify_ReturnsBounce_WhenDsnAlsoCarriesAutoSubmitted()
    {
        var raw = Dsn("Action: failed\nStatus: 5.1.1");

        Assert.Contains("Auto-Submitted: auto-replied", raw, StringComparison.Ordinal);
        Assert.Equal(InboundKind.Bounce, InboundClassifier.Classify(Mail.Parse(raw)).Kind);
    }

    [Fact]
    public void Classify_ReportsHardRecipient_WhenDsnHasSeveralRecipients()
    {
        var raw = Dsn("Final-Recipient: rfc822; later@bounce.test\nAction: delayed\nStatus: 4.4.1\n\n"
            + "Final-Recipient: rfc822; gone@bounce.test\nAction: failed\nStatus: 5.1.1");

        var bounce = InboundClassifier.Classify(Mail.Parse(raw)).Bounce!;

        Assert.True(bounce.IsHard);
        Assert.Equal("gone@bounce.test", bounce.Recipient);
    }

    [Fact]
    public void Classify_ReadsReturnedHeaders_WhenDsnCarriesTextRfc822Headers()
    {
        var raw = Dsn("Action: failed\nStatus: 5.1.1", """
            Content-Type: text/rfc822-headers

            From: sdr@example.test
            Subject: Hello
            Message-ID: <step-2@prospector.test>
            In-Reply-To: <step-1@prospector.test>
            References: <root@prospector.test> <step-1@prospector.test>
            """);

        var result = InboundClassifier.Classify(Mail.Parse(raw));

        Assert.Equal(["step-2@prospector.test", "step-1@prospector.test", "root@prospector.test"], result.ReferencedMessageIds);
    }

    [Fact]
    public void Classify_ReadsStatusFromText_WhenMailerDaemonSendsPlainNotice()
    {
        var result = InboundClassifier.Classify(Mail.Parse("""
            From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.test>
            To: sdr@example.test
            Subject: Mail delivery failed: returning message to sender

            This message was created automatically by mail delivery software.

              gone@bounce.test
                host mx.bounce.test [192.0.2.7]
                SMTP error from remote mail server after RCPT TO:<gone@bounce.test>:
                550 5.1.1 User unknown

            ------ This is a copy of the message, including all the headers. ------

            Message-ID: <step-3@prospector.test>
            Subject: Hello
            """));

        Assert.Equal(InboundKind.Bounce, result.Kind);
        Assert.True(result.Bounce!.IsHard);
        Assert.Equal("5.1.1", result.Bounce.Status);
        Assert.Equal("gone@bounce.test", result.Bounce.Recipient);
        Assert.Equal("bounce from=mailer-daemon status=5.1.1", result.Reason);
        Assert.Equal(["step-3@prospector.test"], result.ReferencedMessageIds);
    }

    [Theory]
    [InlineData("Undeliverable: Quick question", "Delivery has failed: 554 5.4.4 host not found", true)]
    [InlineData("Delivery Status Notification (Delay)", "Delivery to the following recipient has been delayed.", false)]
    [InlineData("Warning: message delayed", "Still trying: 451 4.4.1 connection timed out", false)]
    public void Classify_ReturnsBounce_WhenSubjectNamesDeliveryFailure(string subject, string body, bool isHard)
    {
        var result = InboundClassifier.Classify(Mail.Parse($"From: admin@mx.example.test\nSubject: {subject}\n\n{body}\n"));

        Assert.Equal(InboundKind.Bounce, result.Kind);
        Assert.Equal(isHard, result.Bounce!.IsHard);
    }

    [Theory]
    [InlineData("Auto-Submitted: auto-replied", "auto-submitted: auto-replied")]
    [InlineData("Auto-Submitted: auto-generated; owner-email=x@example.test", "auto-submitted: auto-generated")]
    [InlineData("X-Autoreply: yes", "x-autoreply")]
    [InlineData("X-Autorespond: Out of office", "x-autorespond")]
    [InlineData("Precedence: auto_reply", "precedence: auto_reply")]
    public void Classify_ReturnsAutoReply_WhenHeaderMarksAutomaticAnswer(string header, string reason)
    {
        var result = InboundClassifier.Classify(Mail.Parse($"{header}\n{ReplyHeaders("Re: Quick question")}\nI am away until Monday.\n"));

        Assert.Equal(InboundKind.AutoReply, result.Kind);
        Assert.Equal(reason, result.Reason);
        Assert.Equal("I am away until Monday.", result.ReplyText);
    }

    [Theory]
    [InlineData("Out of Office: Quick question", "subject: out of office")]
    [InlineData("Automatic reply: Quick question", "subject: automatic reply")]
    [InlineData("AUTO: Jane is out of the office", "subject: auto:")]
    [InlineData("Autoreply: Quick question", "subject: autoreply")]
    [InlineData("Abwesenheitsnotiz: Quick question", "subject: abwesenheitsnotiz")]
    [InlineData("Réponse automatique : Quick question", "subject: réponse automatique")]
    [InlineData("Absence : Quick question", "subject: absence")]
    [InlineData("On vacation", "subject: on vacation")]
    [InlineData("Respuesta automática: Quick question", "subject: respuesta automática")]
    public void Classify_ReturnsAutoReply_WhenSubjectSaysAutomaticAnswer(string subject, string reason)
    {
        var result = InboundClassifier.Classify(Mail.Parse($"{ReplyHeaders(subject)}\nBack on Monday.\n"));

        Assert.Equal(InboundKind.AutoReply, result.Kind);
        Assert.Equal(reason, result.Reason);
    }

    [Fact]
    public void Classify_ReturnsHumanReply_WhenAutoSubmittedIsNo()
    {
        var result = InboundClassifier.Classify(Mail.Parse($"Auto-Submitted: no\n{ReplyHeaders("Re: Quick question")}\nSounds good.\n"));

        Assert.Equal(InboundKind.HumanReply, result.Kind);
    }

    [Fact]
    public void Classify_ReturnsHumanReply_WhenOnlyXAutoResponseSuppressIsSet()
    {
        var result = InboundClassifier.Classify(Mail.Parse($"X-Auto-Response-Suppress: All\nPrecedence: bulk\n{ReplyHeaders("Re: Quick question")}\nSounds good.\n"));

        Assert.Equal(InboundKind.HumanReply, result.Kind);
    }

    [Theory]
    [InlineData("unsubscribe")]
    [InlineData("STOP")]
    [InlineData("Please remove me from your list.")]
    [InlineData("Not interested, please remove")]
    [InlineData("Merci de me désinscrire")]
    [InlineData("Je souhaite me désabonner.")]
    [InlineData("Take me off this list\n\nOn Tue, Mar 4, 2025 at 9:12 AM Sam <sdr@example.test> wrote:\n> Would a call help?")]
    public void Classify_ReturnsUnsubscribe_WhenReplyAsksForRemoval(string body)
    {
        var result = InboundClassifier.Classify(Mail.Reply(body));

        Assert.Equal(InboundKind.Unsubscribe, result.Kind);
        Assert.Equal("removal request in reply", result.Reason);
    }

    [Theory]
    [InlineData("Could you stop by on Tuesday to show the demo?")]
    [InlineData("Yes, interested. Can we remove the setup fee from the quote if we sign this month and pay upfront for "
        + "the whole year, including the two extra seats you mentioned on the call?")]
    public void Classify_ReturnsHumanReply_WhenReplyIsNotARemovalRequest(string body)
    {
        Assert.Equal(InboundKind.HumanReply, InboundClassifier.Classify(Mail.Reply(body)).Kind);
    }

    [Fact]
    public void Classify_ReturnsUnsubscribe_WhenEmptyMessageHasUnsubscribeSubject()
    {
        var result = InboundClassifier.Classify(Mail.Parse("From: prospect@customer.test\nTo: unsub@example.test\nSubject: unsubscribe\n\n"));

        Assert.Equal(InboundKind.Unsubscribe, result.Kind);
        Assert.Equal("subject: unsubscribe", result.Reason);
    }

    [Fact]
    public void Classify_ReturnsOther_WhenNewsletterFooterSaysUnsubscribe()
    {
        var result = InboundClassifier.Classify(Mail.Parse("From: news@vendor.test\nSubject: Spring sale\n\n20% off this week.\nUnsubscribe\n"));

        Assert.Equal(InboundKind.Other, result.Kind);
    }

    [Fact]
    public void Classify_OrdersReferences_InReplyToThenNewestReferenceFirst()
    {
        var result = InboundClassifier.Classify(Mail.Parse("""
            From: prospect@customer.test
            Subject: Re: Quick question
            In-Reply-To: <step-2@prospector.test>
            References: <step-1@prospector.test> <other@customer.test> <step-2@prospector.test>

            Thanks!
            """));

        Assert.Equal(InboundKind.HumanReply, result.Kind);
        Assert.Equal("in-reply-to", result.Reason);
        Assert.Equal(["step-2@prospector.test", "other@customer.test", "step-1@prospector.test"], result.ReferencedMessageIds);
    }

    [Fact]
    public void Classify_ReturnsHumanReply_WhenOnlySubjectSaysReply()
    {
        var result = InboundClassifier.Classify(Mail.Parse("From: prospect@customer.test\nSubject: RE: Quick question\n\nYes.\n"));

        Assert.Equal(InboundKind.HumanReply, result.Kind);
        Assert.Equal("subject: re", result.Reason);
        Assert.Empty(result.ReferencedMessageIds);
    }

    [Fact]
    public void Classify_ReturnsOther_WhenNothingMarksAReply()
    {
        var result = InboundClassifier.Classify(Mail.Parse("From: news@vendor.test\nSubject: Our spring newsletter\n\nHello!\n"));

        Assert.Equal(InboundKind.Other, result.Kind);
        Assert.Null(result.ReplyText);
    }

    [Fact]
    public void Classify_ConvertsHtml_WhenReplyHasNoPlainText()
    {
        const string html = """
            <html><head><style>p { color: red; }</style></head><body>
            <div>Tuesday&nbsp;works &amp; I&#39;ll bring Ana.</div><div><br></div><p>Best,<br>Jo</p>
            <div class="gmail_quote">On Mon, Mar 3, 2025 at 9:12 AM Sam &lt;sdr@example.test&gt; wrote:<br>
            <blockquote class="gmail_quote"><div>Would a call help?</div></blockquote></div>
            </body></html>
            """;

        var result = InboundClassifier.Classify(Mail.Reply(html, "html"));

        Assert.Equal("Tuesday works & I'll bring Ana.\n\nBest,\nJo", result.ReplyText);
    }

    [Fact]
    public void Classify_KeepsReasonFreeOfAddressesAndText_WhenAnyRuleFires()
    {
        var messages = new[]
        {
            Mail.Load(Mail.FixturePath("samples", "postfix-3.7-user-unknown.eml")),
            Mail.Parse("From: MAILER-DAEMON@mx.example.test\nSubject: failure notice\n\n<gone@bounce.test>: 550 no mailbox here\n"),
            Mail.Parse($"Auto-Submitted: auto-replied; owner=<jo@customer.test>\n{ReplyHeaders("Re: Hi")}\nAway.\n"),
            Mail.Reply("remove me, jo@customer.test"),
        };

        Assert.All(messages, m => Assert.DoesNotContain("@", InboundClassifier.Classify(m).Reason, StringComparison.Ordinal));
    }

    static string ReplyHeaders(string subject) =>
        $"From: Jo <jo@customer.test>\nTo: sdr@example.test\nSubject: {subject}\nIn-Reply-To: <step-1@prospector.test>\n";

    // A minimal multipart/report DSN with one recipient group made of `fields`, and optionally a returned part.
    static string Dsn(string fields, string? returnedPart = null)
    {
        var recipient = fields.Contains("Final-Recipient", StringComparison.Ordinal) ? "" : "Final-Recipient: rfc822; gone@bounce.test\n";
        var returned = returnedPart ?? """
            Content-Type: message/rfc822

            From: sdr@example.test
            Subject: Hello
            Message-ID: <step-1@prospector.test>
            """;
        return $"""
            From: MAILER-DAEMON@mx.example.test
            To: sdr@example.test
            Subject: Delivery report
            Auto-Submitted: auto-replied
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

            --b1
            Content-Type: text/plain

            Your message could not be delivered.

            --b1
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.test

            {recipient}{fields}

            --b1
            {returned}

            --b1--
            """;
    }
}
