"""Real bounce diagnostics, each with the class the classifier must give it (SPEC §3.1).

Every string is copied from a public source named beside it; only line folding was undone
(a DSN folds long ``Diagnostic-Code`` lines; SES delivers them as one line). Where a source
already replaced a person's address or IP with a placeholder (``kijitora@example.jp``,
``192.0.2.x``, ``[**.**.**.**]``) it is kept as the source has it.

Sources, abbreviated in the entries:

- ``SOE:<file>`` — sisimai/set-of-emails, ``maildir/<file>`` (commit 18e585c): real bounce
  mails collected from mail servers, used as the test corpus of the Sisimai bounce parser.
  ``lhost-amazonses-*`` are bounces delivered through Amazon SES.
- ``SISIMAI:<Provider>`` — sisimai/p5-sisimai ``lib/Sisimai/Rhost/<Provider>.pm`` (commit
  21cfb932), which quotes each provider's published error text with the provider's page:
  Google https://support.google.com/a/answer/3726730, Microsoft
  https://learn.microsoft.com/en-us/Exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/non-delivery-reports-in-exchange-online,
  Yahoo https://senders.yahooinc.com/smtp-error-codes, Apple
  https://support.apple.com/en-us/102322, Mimecast
  https://community.mimecast.com/s/article/Mimecast-SMTP-Error-Codes-842605754.
- ``GOOGLE`` — https://support.google.com/a/answer/3726730 (Gmail SMTP errors and codes).
- ``SES-VECTOR:<file>`` — this repository's ``tests/vectors/ses/<file>`` (provenance in its
  README: real SES notifications).
- ``AWSDOCS`` — awsdocs/amazon-ses-developer-guide ``doc-source/notification-contents.md``
  (commit 5b3d6427), the bounce-type table; the texts are SES's own diagnostics as SES
  delivers them, quoted in public issue threads and test fixtures.
- Web pages are cited by URL.

Hard cases (``why``) go both ways: a 5.7.1 that names the recipient stays recipient-side; a
5.1.x that is really a blocklist, a rate limit or an SPF failure is sender-side.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.failure_classes import (
    CONTENT,
    MAILBOX_FULL,
    POLICY,
    RECIPIENT,
    SENDER_AUTH,
    SENDER_REPUTATION,
    UNKNOWN,
)


@dataclass(frozen=True)
class Sample:
    provider: str
    expected: str
    status: str | None
    diagnostic: str | None
    source: str
    bounce_type: str = "Permanent"
    subtype: str = "General"
    why: str = ""


T = "Transient"

CORPUS: tuple[Sample, ...] = (
    # -- Google / Gmail ---------------------------------------------------------------------------
    Sample("Google", RECIPIENT, "5.1.1",
           "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please "
           "try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 "
           "unnecessary spaces. Learn more at 550 5.1.1 https://support.google.com/mail/?p="
           "NoSuchUser e22-n7GpZmsf093195.222 - gsmtp", "SOE:bsd/rhost-google-02.eml"),
    Sample("Google", RECIPIENT, "5.2.1",
           "SMTP; 550 5.2.1 The email account that you tried to reach is disabled. "
           "g0000000000ggg.00", "SOE:bsd/rhost-google-01.eml"),
    Sample("Google", MAILBOX_FULL, "5.2.2",
           "smtp; 552-5.2.2 The recipient's inbox is out of storage space and inactive. Please "
           "552-5.2.2 direct the recipient to 552 5.2.2 https://support.google.com/mail/?p="
           "OverQuotaPerm c2-202229zmZBNM3agi23.222 - gsmtp", "SOE:bsd/rhost-google-05.eml",
           why="SES says Permanent; a full mailbox is a soft bounce whatever SES says"),
    Sample("Google", MAILBOX_FULL, "4.2.2",
           "452 4.2.2 The email account that you tried to reach is over quota. Please direct "
           "the recipient to Clear Google Drive space & increase storage.", "SISIMAI:Google",
           bounce_type=T),
    Sample("Google", SENDER_AUTH, "5.7.26",
           "smtp; 550-5.7.26 The MAIL FROM domain [mail4.example.com] has an SPF record with a "
           "550-5.7.26 hard fail policy (-all) but it fails to pass SPF checks with the ip: "
           "550-5.7.26 [192.0.2.24]. To best protect our users from spam and phishing, "
           "550-5.7.26 the message has been blocked. For instructions on setting up 550-5.7.26 "
           "authentication, go to 550 5.7.26 https://support.google.com/mail/answer/81126"
           "#authentication 2-222222630d46222222b002b2d2neko2cat2222222cat.22 - gsmtp",
           "SOE:bsd/rhost-google-03.eml"),
    Sample("Google", SENDER_AUTH, "5.7.26",
           "smtp; 550-5.7.26 This mail has been blocked because the sender is unauthenticated. "
           "550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM. "
           "550-5.7.26 550-5.7.26 Authentication results: 550-5.7.26 DKIM = did not pass "
           "550-5.7.26 SPF [relay3.example.com] with ip: [192.0.2.22] = did not pass 550-5.7.26 "
           "550-5.7.26 For instructions on setting up authentication, go to 550 5.7.26 "
           "https://support.google.com/mail/answer/81126#authentication "
           "c2-202200202020202020222222cat.127 - gsmtp", "SOE:bsd/rhost-google-04.eml"),
    Sample("Google", SENDER_AUTH, "5.7.25",
           "smtp; 550-5.7.25 [192.0.2.202] The IP address sending this message does not have a "
           "550-5.7.25 PTR record setup, or the corresponding forward DNS entry does not "
           "550-5.7.25 point to the sending IP. As a policy, Gmail does not accept messages "
           "550-5.7.25 from IPs with missing PTR records. For more information, go to 550 5.7.25 "
           "https://support.google.com/mail/answer/81126#ip-practices neko-1785a7g6767a6agg.2 "
           "- gsmtp", "SOE:bsd/rhost-google-06.eml"),
    Sample("Google", SENDER_AUTH, "5.7.26",
           "smtp; 550-5.7.26 Unauthenticated email from libsisimai.org is not accepted due to "
           "550-5.7.26 domain's DMARC policy. Please contact the administrator of 550-5.7.26 "
           "libsisimai.org domain if this was a legitimate mail. Please visit 550-5.7.26 "
           "https://support.google.com/mail/answer/2451690 to learn about the 550 5.7.26 DMARC "
           "initiative. z2si1584129pfn.61 - gsmtp", "SOE:bsd/lhost-postfix-70.eml"),
    Sample("Google", SENDER_REPUTATION, "5.7.1",
           "smtp; 550-5.7.1 [192.0.2.22 18] Our system has detected that this message is "
           "550-5.7.1 likely suspicious due to the very low reputation of the sending IP "
           "550-5.7.1 address. To best protect our users from spam, the message has been "
           "550-5.7.1 blocked. Please visit 550 5.7.1 https://support.google.com/mail/answer/"
           "188131 for more information. p22nn000202cat.22 - gsmtp",
           "SOE:bsd/lhost-postfix-58.eml", why="a bare 5.7.1 that is the sender's reputation"),
    Sample("Google", SENDER_REPUTATION, "4.7.0",
           "421-4.7.0 Our system has detected an unusual rate of unsolicited mail originating "
           "from your IP address. To protect our users from spam, mail sent from your IP address "
           "has been temporarily blocked.", "GOOGLE", bounce_type=T,
           why="a transient 4.7.x reputation deferral: not a soft bounce"),
    Sample("Google", SENDER_REPUTATION, "4.7.28",
           "421 4.7.28 Gmail has detected an unusual rate of mail originating from your DKIM "
           "domain example.org. To protect our users from spam, mail has been temporarily rate "
           "limited. To review our bulk email senders guidelines, go to Email sender "
           "guidelines.", "SISIMAI:Google (the 4.7.28 text, 'your DKIM domain' variant)",
           bounce_type=T, why="names DKIM but is about volume, not a failed signature"),
    Sample("Google", CONTENT, "5.7.1",
           "550 5.7.1 Our system has detected that this message is likely unsolicited mail. To "
           "reduce the amount of spam sent to Gmail, this message has been blocked.",
           "SISIMAI:Google"),
    Sample("Google", CONTENT, "5.7.1",
           "smtp; 550-5.7.1 This message is not RFC 5322 compliant. There are multiple Subject "
           "550-5.7.1 headers. To reduce the amount of spam sent to Gmail, this message has "
           "550-5.7.1 been blocked. Please visit 550-5.7.1 https://support.google.com/mail/?p="
           "RfcMessageNonCompliant and review 550 5.7.1 RFC 5322 specifications for more "
           "information. c2-aguiqyuiyuqir5678167856aeu8.22 - gsmtp",
           "SOE:bsd/rhost-google-08.eml"),
    Sample("Google", CONTENT, "5.7.0",
           "552 5.7.0 This message was blocked because its content presents a potential "
           "security issue. Please visit https://support.google.com/mail/?p=BlockedMessage to "
           "review our message content and attachment content guidelines.", "SISIMAI:Google"),
    Sample("Google", CONTENT, "5.2.3",
           "552 5.2.3 Your message exceeded Google's message size limits. For more information, "
           "visit https://support.google.com/mail/answer/6584", "SISIMAI:Google"),
    Sample("Google", CONTENT, "5.0.0",
           "smtp; Your email to group kijitora@example.com was rejected due to spam "
           "classification. To address this issue: * Contact the owner of the group, who can "
           "choose to enable message moderation instead of bouncing these emails. * Set up SPF "
           "records for your sending domain if you have not done so already. Instructions for "
           "both steps can be found here: https://support.google.com/a/answer/168383.",
           "SOE:bsd/rhost-gsuite-12.eml",
           why="a spam verdict that only suggests SPF: content, not authentication"),
    Sample("Google", POLICY, "4.7.0",
           "421 4.7.0 TLS required for RCPT domain, closing connection.", "GOOGLE",
           bounce_type=T),
    Sample("Google", POLICY, "4.7.0",
           "421 4.7.0 IP not in whitelist for RCPT domain, closing connection.", "GOOGLE",
           bounce_type=T, why="no phrase rule: the X.7.x code class decides"),
    Sample("Google", RECIPIENT, "4.2.1",
           "450 4.2.1 The user you are trying to contact is receiving mail too quickly. Please "
           "resend your message at a later time. If the user is able to receive mail at that "
           "time, your message will be delivered.", "GOOGLE", bounce_type=T),
    Sample("Google", RECIPIENT, "5.2.1",
           "smtp; 550-5.2.1 The user you are trying to contact is receiving mail at a rate that "
           "550-5.2.1 prevents additional messages from being delivered. For more 550-5.2.1 "
           "information, please visit 550 5.2.1 https://support.google.com/mail/?p="
           "ReceivingRatePerm p131si8414989oif.118 - gsmtp", "SOE:bsd/lhost-postfix-59.eml",
           why="a rate, but the recipient's mailbox's, not the sender's"),
    Sample("Google", RECIPIENT, "4.0.0",
           "smtp; DNS Error: 80458680 DNS type 'mx' lookup of libsisimai.org responded with "
           "code NOERROR The domain libsisimai.org doesn't receive email according to the "
           "administrator: returned Null MX https://www.rfc-editor.org/info/rfc7505",
           "SOE:bsd/rhost-gsuite-03.eml", bounce_type=T),
    # -- Microsoft (Outlook.com, Exchange Online) ------------------------------------------------
    Sample("Microsoft", SENDER_REPUTATION, "5.7.606",
           "SMTP; 550 5.7.606 Access denied, banned sending IP [198.51.100.222]. To request "
           "removal from this list please visit https://sender.office.com/ and follow the "
           "directions. For more information please go to http://go.microsoft.com/fwlink/"
           "?LinkID=526655 (AS16012609)", "SOE:bsd/rhost-microsoft-01.eml"),
    Sample("Microsoft", RECIPIENT, "5.4.1",
           "smtp; 550 5.4.1 [kijitora@example.org]: Recipient address rejected: Access denied "
           "[NEKOCHAN.cat-neko22.prod.protection.outlook.com]", "SOE:bsd/rhost-microsoft-02.eml",
           why="'Access denied' from directory-based edge blocking: the user does not exist"),
    Sample("Microsoft", RECIPIENT, "5.1.10",
           "smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address "
           "lookup", "SOE:bsd/rhost-microsoft-03.eml"),
    Sample("Microsoft", SENDER_AUTH, "5.7.509",
           "SMTP; 550 5.7.509 Access denied, sending domain [EXAMPLE.JP] does not pass DMARC "
           "verification and has a DMARC policy of reject. [7FQL1BDY0XZ5XGTW.JPNP222.PROD."
           "OUTLOOK.COM 2024-04-29T23:34:45.000Z NG5X6YLY2QZK8T7B]",
           "SOE:bsd/rhost-microsoft-04.eml"),
    Sample("Microsoft", SENDER_REPUTATION, "4.7.650",
           "smtp; 451 4.7.650 The mail server [192.0.2.25] has been temporarily rate limited due "
           "to IP reputation. For e-mail delivery information, see https://postmaster.live.com "
           "(S3113) [5NY1SSJFSTZJRJBG.eurprd02.prod.outlook.com 2024-05-09T23:34:45.000Z "
           "GLXTWVLGZHZNHVXY]", "SOE:bsd/rhost-microsoft-05.eml", bounce_type=T,
           why="a transient 4.7.x reputation deferral: not a soft bounce"),
    Sample("Microsoft", SENDER_REPUTATION, "5.7.1",
           "550 5.7.1 Unfortunately, messages from [**.**.**.**] weren't sent. Please contact "
           "your Internet service provider since part of their network is on our block list "
           "(S3150). You can also refer your provider to [DB3EUR04FT007.eop-eur04.prod."
           "protection.outlook.com] (in reply to MAIL FROM command)",
           "https://sevencreative.co.uk/how-to-remove-yourself-from-the-hotmail-block-list/"),
    Sample("Microsoft", SENDER_REPUTATION, "5.7.1",
           "smtp;550 5.7.1 Service unavailable, Client host [x.xx.xx.xx] blocked using Spamhaus. "
           "To request removal from this list see (AS16012611)",
           "https://smtpfieldmanual.com/spamfilter/exchangeonline"),
    Sample("Microsoft", CONTENT, "5.7.350",
           "550 5.7.350 Remote server returned message detected as spam",
           "https://support.nhs.net/2024/01/microsoft-365-alert-service-degradation-exchange-"
           "online-some-users-may-be-unable-to-send-or-receive-email-messages-and-receive-a-"
           "non-delivery-report-ndr/"),
    Sample("Microsoft", POLICY, "5.7.1",
           "550 5.7.1 This email was rejected because it violates our security policy.",
           "https://support.nhs.net/2024/01/microsoft-365-alert-service-degradation-exchange-"
           "online-some-users-may-be-unable-to-send-or-receive-email-messages-and-receive-a-"
           "non-delivery-report-ndr/"),
    Sample("Symantec Brightmail", POLICY, "5.7.1", "554 5.7.1 Delivery not authorized",
           "http://kb.mit.edu/confluence/pages/viewpage.action?pageId=151108368"),
    Sample("Microsoft", RECIPIENT, "5.1.1",
           "smtp;550 5.1.1 <kijitora@example.jp>... User Unknown", "SOE:bsd/rhost-outlook-02.eml"),
    Sample("Microsoft", MAILBOX_FULL, "5.2.2",
           "smtp;550 5.2.2 <kijitora@example.jp>... Mailbox Full", "SOE:bsd/rhost-outlook-01.eml"),
    Sample("Microsoft", SENDER_AUTH, "5.5.0",
           "smtp;550 domain [example.com] mismatches client ip 192.0.2.225.",
           "SOE:bsd/rhost-outlook-09.eml"),
    Sample("Microsoft", RECIPIENT, "5.5.0",
           "smtp;550 Requested action not taken: mailbox unavailable (-0000000022:2222:"
           "-0000000022)", "SOE:bsd/rhost-outlook-08.eml"),
    # -- Yahoo / AOL -------------------------------------------------------------------------------
    Sample("Yahoo", SENDER_REPUTATION, "4.7.0",
           "smtp; 421 4.7.0 [TSS04] Messages from 192.0.2.192 temporarily deferred due to "
           "unexpected volume or user complaints - 4.16.55.1; see https://postmaster."
           "verizonmedia.com/error-codes", "SOE:bsd/rhost-yahooinc-02.eml", bounce_type=T,
           why="a transient 4.7.x reputation deferral: not a soft bounce"),
    Sample("Yahoo", POLICY, "5.7.9",
           "smtp; 554 5.7.9 Message not accepted for policy reasons. See https://postmaster."
           "verizonmedia.com/error-codes", "SOE:bsd/rhost-yahooinc-01.eml"),
    Sample("Yahoo", RECIPIENT, "5.0.0",
           "SMTP; 554 delivery error: dd This user doesn't have a yahoo.com account "
           "(this-local-part-does-not-exist@yahoo.com) [0] - mta1061.mail.ne1.yahoo.com",
           "SOE:bsd/rhost-yahooinc-03.eml"),
    Sample("Yahoo", SENDER_REPUTATION, "5.7.1",
           "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.25, because the ip is "
           "in Spamhaus's list; see http://postmaster.yahoo.com/550-bl23.html",
           "SISIMAI:YahooInc"),
    Sample("Yahoo", SENDER_REPUTATION, "5.7.2",
           "553 5.7.2 [TSS09] All messages from 192.0.2.25 will be permanently deferred; "
           "Retrying will NOT succeed. See https://postmaster.yahooinc.com/error-codes",
           "SISIMAI:YahooInc"),
    Sample("Yahoo", SENDER_AUTH, "5.7.9",
           "550 5.7.9 This mail has been blocked because the sender is unauthenticated. Yahoo "
           "requires all senders to authenticate with either SPF or DKIM.", "SISIMAI:YahooInc"),
    Sample("Yahoo", POLICY, "5.0.0",
           "smtp; 554 Message not allowed - 554 Message not allowed - DM Email not accepted for "
           "policy reasons. Please visit https://www.yahoo-help.jp/app/answers/detail/a_id/"
           "80870/p/622 [895]", "SOE:bsd/lhost-postfix-68.eml"),
    Sample("AOL", RECIPIENT, "5.4.4",
           "X-Outbound-Mail-Relay; Host or domain name not found. Name service error for "
           "name=example.jp type=A: Host not found", "SOE:bsd/rhost-aol-01.eml"),
    Sample("AOL", MAILBOX_FULL, "5.2.2",
           "smtp; 550 5.2.2 <kijitora@example.co.jp>... Mailbox Full", "SOE:bsd/rhost-aol-02.eml"),
    # -- Apple iCloud ------------------------------------------------------------------------------
    Sample("Apple", RECIPIENT, "5.1.6",
           "smtp; 550 5.1.6 recipient no longer on server: kijitora@example.jp",
           "SOE:bsd/rhost-apple-01.eml"),
    Sample("Apple", SENDER_AUTH, "5.7.1",
           "smtp; 554 5.7.1 Your message was rejected due to libsisimai.org's DMARC policy. See "
           "https://support.apple.com/en-us/HT204137 for info", "SOE:bsd/rhost-apple-02.eml"),
    Sample("Apple", MAILBOX_FULL, "5.2.2",
           "smtp; 552 5.2.2 <pseudo-local-part-of-apple-icloud-mail@icloud.com>: user is over "
           "quota", "SOE:bsd/rhost-apple-03.eml"),
    Sample("Apple", RECIPIENT, "5.1.1",
           "smtp; 550 5.1.1 <pseudo-local-part-of-icloud@icloud.com>: inactive email address",
           "SOE:bsd/rhost-apple-04.eml"),
    Sample("Apple", SENDER_REPUTATION, "5.7.1",
           "550 5.7.1 Mail from IP 192.0.2.1 was rejected due to listing in Spamhaus SBL. For "
           "details please see http://www.spamhaus.org/query/bl?ip=x.x.x.x", "SISIMAI:Apple"),
    Sample("Apple", SENDER_REPUTATION, "5.0.0",
           "smtp; 554 Blocked - see https://support.proofpoint.com/dnsbl-lookup.cgi?ip="
           "192.0.2.225", "SOE:bsd/lhost-postfix-38.eml"),
    Sample("Apple", POLICY, "5.7.1",
           "550 5.7.1 [CS01] Message rejected due to local policy. Please visit "
           "https://support.apple.com/en-us/HT204137", "SISIMAI:Apple"),
    Sample("Apple", SENDER_AUTH, "4.1.8",
           "450 4.1.8 <kijitora@example.jp>: Sender address rejected: Domain not found",
           "SISIMAI:Apple", bounce_type=T),
    # -- Orange (France Telecom) -------------------------------------------------------------------
    Sample("Orange", SENDER_REPUTATION, "4.0.0",
           "smtp; 550 mwinf5c04 ME Adresse IP source bloquee pour incident de spam. Client host "
           "blocked for spamming issues. OFR006_102 Ref http://csi.cloudmark.com/reset-request/"
           "?ip=10.0.0.1 [102]", "SOE:bsd/rhost-franceptt-06.eml"),
    Sample("Orange", RECIPIENT, "5.1.1",
           "SMTP; 550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. "
           "OFR_416 [416]", "SOE:bsd/rhost-franceptt-01.eml"),
    Sample("Orange", RECIPIENT, "5.5.0",
           "smtp; 550 5.5.0 Le compte du destinataire est bloque. The recipient account is "
           "blocked. LPN007_426", "SOE:bsd/rhost-franceptt-05.eml",
           why="'blocked' here is the recipient's account, not the sender"),
    # -- Cox, GoDaddy, Spectrum (US hosting and ISPs) ----------------------------------------------
    Sample("Cox", SENDER_REPUTATION, "5.1.0",
           "smtp; 550 5.1.0 <bounce@mailer.cnt1.example.com> sender rejected. Refer to Error "
           "Codes section at https://www.cox.com/residential/support/email-error-codes.html for "
           "more information. AUP#CDRBL", "SOE:bsd/rhost-cox-01.eml",
           why="a 5.1.x addressing code, but CDRBL is Cox's IP blocklist"),
    Sample("GoDaddy", SENDER_REPUTATION, "5.1.1",
           "smtp; 550 5.1.1 <kijitora@example.com> - 203.0.113.222 has sent to too many "
           "recipients this hour. IB607 <http://x.co/rlbounce>", "SOE:bsd/rhost-godaddy-03.eml",
           why="looks like 'no such user' (5.1.1) but is a rate limit on the sending IP"),
    Sample("GoDaddy", SENDER_REPUTATION, "5.1.3",
           "SMTP; 553 http://www.spamhaus.org/query/bl?ip=192.0.2.222",
           "SOE:bsd/rhost-godaddy-02.eml", why="5.1.3 (bad address syntax) that is a blocklist"),
    Sample("GoDaddy", SENDER_AUTH, "5.1.0",
           "smtp;550 5.1.0 192.0.2.222 is not allowed to send from <example.net> per it's SPF "
           "Record. Please inspect your SPF settings, and try again. IB508 <http://x.co/"
           "srbounce>", "SOE:bsd/lhost-office365-03.eml",
           why="a 5.1.x addressing code that is an SPF failure"),
    Sample("Spectrum", POLICY, "5.1.0",
           "smtp; 550 5.1.0 <010001725d8ad4fc-9fe8fb1f-0292-430b-a634-1eba65166dbb-000000@"
           "amazonses.com> sender rejected. Please see https://www.spectrum.net/support/"
           "internet/understanding-email-error-codes for more information. AUP#In-1310",
           "SOE:bsd/rhost-spectrum-01.eml",
           why="the address in the text is the SES return path; Spectrum refused the sender"),
    # -- Tencent QQ --------------------------------------------------------------------------------
    Sample("Tencent", SENDER_REPUTATION, "5.0.0",
           "smtp; 550 Ip frequency limited [V2VkIEFwciAgMyAxNjozNjo1OSBKU1QgMjAxOQo=/RkNGMjlF"
           "QTVEQ0E Blocked IP 192.0.2.22]. http://service.mail.qq.com/cgi-bin/help?subtype=1&&"
           "id=20022&&no=1000725", "SOE:bsd/rhost-tencent-01.eml"),
    Sample("Tencent", SENDER_AUTH, "5.0.0",
           "smtp; 550 DMARC check failed. http://service.mail.qq.com/cgi-bin/help?subtype=1&&no="
           "1001508&&id=16.", "SOE:bsd/rhost-tencent-03.eml"),
    # -- Mimecast ----------------------------------------------------------------------------------
    Sample("Mimecast", CONTENT, "5.0.0",
           "smtp; 554 email rejected due to security policies - MCSpamSignature.sa.2.2",
           "SOE:bsd/rhost-mimecast-02.eml",
           why="says 'policies' but the signature is a spam verdict on the message"),
    Sample("Mimecast", POLICY, "5.0.0",
           "smtp; 554 Host network not allowed - https://community.mimecast.com/docs/DOC-1369"
           "#554 [z7qZw5BPd1zlDYHka4589ru.us222]", "SOE:bsd/rhost-mimecast-01.eml"),
    Sample("Mimecast", POLICY, None,
           "451 Internal resource is temporarily unavailable - https://community.mimecast.com/"
           "docs/DOC-1369#451 [Aj3QXapeMpqZYaeFwWhjzw.us32]",
           "https://dwlistore.dwli.org/knowledgebase/444/Emails-Not-Sending-to-Mimecast-"
           "Recipients-.html", bounce_type=T, why="Mimecast greylisting"),
    Sample("Mimecast", SENDER_AUTH, "5.7.1",
           "550 SPF Sender Invalid - envelope rejected", "SISIMAI:Mimecast"),
    Sample("Mimecast", RECIPIENT, "5.0.0", "550 Invalid Recipient", "SISIMAI:Mimecast"),
    Sample("Mimecast", SENDER_AUTH, "5.7.1",
           "550 DKIM Sender Invalid - envelope rejected", "SISIMAI:Mimecast"),
    # -- Zoho --------------------------------------------------------------------------------------
    Sample("Zoho", RECIPIENT, "5.1.1",
           "smtp; 550 5.1.1 User does not exist - <kijitora@zoho.example.com>",
           "SOE:bsd/rhost-zoho-01.eml"),
    Sample("Zoho", CONTENT, "5.7.1",
           "smtp; 554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.",
           "SOE:bsd/rhost-zoho-03.eml"),
    Sample("Zoho", POLICY, "5.7.7",
           "smtp; 554 5.7.7 Email policy violation detected", "SOE:bsd/rhost-zoho-02.eml"),
    Sample("Zoho", RECIPIENT, "5.4.1",
           "smtp; 541 5.4.1 Mail rejected by destination domain", "SOE:bsd/rhost-zoho-04.eml",
           why="no phrase rule: the X.4.x routing class decides"),
    # -- appliances and open-source servers behind many domains -----------------------------------
    Sample("Barracuda", CONTENT, "5.7.1",
           "smtp; 550 5.7.1 Message content rejected, UBE, id=00000-22-225",
           "SOE:bsd/lhost-barracuda-01.eml"),
    Sample("SFR (Postfix)", RECIPIENT, "5.7.1",
           "SMTP; 550 5.7.1 <pseudo-local-part-kijitora-nyaan@sfr.fr>: Recipient address "
           "rejected: User unknown", "SOE:bsd/lhost-sendmail-48.eml",
           why="a 5.7.1 that names the recipient: recipient-side"),
    Sample("Postfix", RECIPIENT, "5.7.1",
           "smtp; 550 5.7.1 <kijitora@example.com>: Recipient address rejected: User "
           "kijitora@example.com temporary locked. Please try again later!",
           "SOE:bsd/lhost-amazonses-19.eml", why="a 5.7.1 about the recipient's own account"),
    Sample("Postfix", RECIPIENT, "5.7.1",
           "SMTP; 554 5.7.1 <kijitora@example.org>: Relay access denied",
           "SOE:bsd/lhost-sendmail-07.eml",
           why="a 5.7.1 meaning the recipient's domain is not served there"),
    Sample("Postfix", RECIPIENT, "4.1.1",
           "smtp; 450 4.1.1 <kijitora@example.org>: Recipient address rejected: User unknown in "
           "virtual alias table", "SOE:bsd/lhost-postfix-05.eml", bounce_type=T),
    Sample("SORBS (DNSBL)", SENDER_REPUTATION, "5.7.1",
           "smtp; 521-5.7.1 Service unavailable; client [203.0.113.225] blocked using "
           "dnsbl.sorbs.net 521 5.7.1 Please see http://support.mailhostbox.com/email-"
           "administrators-guide-error-codes/ for explanation of the problem.",
           "SOE:bsd/lhost-amazonses-16.eml"),
    Sample("Postfix (RBL)", SENDER_REPUTATION, "5.7.1",
           "smtp; 554 5.7.1 <a8-95.smtp-out.amazonses.com[203.0.113.22]>: Client host rejected: "
           "blocked using mail.neko.example.org; Please see http://mail.neko.example.org/rbl/"
           "?ip=203.0.113.22 to send.", "SOE:bsd/lhost-amazonses-14.eml"),
    Sample("Sendmail", SENDER_REPUTATION, "5.1.1",
           "SMTP; 550 5.7.1 IP address blacklisted by recipient",
           "SOE:bsd/lhost-sendmail-33.eml",
           why="the DSN's Status says 5.1.1 (no such user); the server said 5.7.1 blacklisted"),
    Sample("Vade (MXIN)", SENDER_REPUTATION, "5.1.0",
           "smtp; 550-5.1.0 MXIN506 MailFrom domain is listed in Spamhaus. To request removal "
           "from this list see https: 550 5.1.0 //www.spamhaus.org/query/lookup/ ;id="
           "DLOkvMxsVeZooDLOkv7hl0;sid=DLOkvMxsVeZoo;mta=mx12-prd-nl1-vmo;d=20251027;t=122826"
           "[CET];ipsrc=#.#.#.#;", "SOE:bsd/lhost-postfix-80.eml",
           why="5.1.0 addressing code; the sender domain is blocklisted"),
    Sample("Exim", SENDER_AUTH, "5.7.1",
           "smtp; 550 5.7.1 Connections not accepted from servers without a valid sender "
           "domain. Fix reverse DNS for 203.0.113.2", "SOE:bsd/lhost-exim-43.eml"),
    Sample("Exim", SENDER_AUTH, "5.0.0",
           "smtp; 550 Bad SPF records for [example.org:192.0.2.2], see http://spf.pobox.com/",
           "SOE:bsd/lhost-exim-29.eml"),
    Sample("GMX", SENDER_AUTH, "4.0.0",
           "smtp; 554-mail.com (mxgmxus002) Nemesis ESMTP Service not available 554-No SMTP "
           "service 554-Bad DNS PTR resource record. 554 For explanation visit "
           "http://postmaster.gmx.com/en/error-messages?ip=192.0.2.22&c=rdns",
           "SOE:bsd/lhost-postfix-60.eml"),
    Sample("Mail.ru", SENDER_AUTH, "5.7.1",
           "smtp; 550 5.7.1 This message was not accepted due to domain (libsisimai.org) owner "
           "DMARC policy (RFC 7489) https://help.mail.ru/mail-help/postmaster/dmarc",
           "SOE:bsd/lhost-postfix-72.eml"),
    Sample("Sendmail", SENDER_AUTH, "5.1.8",
           "smtp; 553 5.1.8 <root@vagrant-centos65.vagrantup.com>... Domain of sender address "
           "root@vagrant-centos65.vagrantup.com does not exist", "SOE:bsd/lhost-postfix-10.eml",
           why="'does not exist' is about the sender's domain, not the recipient"),
    Sample("Postfix", CONTENT, "5.6.0",
           "X-Postfix; host mta.example.com[192.0.2.225] said: 554 5.6.0 This message has been "
           "scored as spam with a probability of more than 90% (in reply to end of DATA "
           "command)", "SOE:bsd/lhost-postfix-39.eml"),
    Sample("Amavis", CONTENT, "5.7.0", "smtp; 554 5.7.0 Reject, id=20025-09 - SPAM",
           "SOE:bsd/lhost-amavis-03.eml"),
    Sample("Postfix", CONTENT, "5.0.0", "smtp; 550 Virus Detected; Content Rejected",
           "SOE:bsd/lhost-postfix-62.eml"),
    Sample("Sendmail", CONTENT, "5.2.3",
           "SMTP; 552 5.2.3 Message size exceeds fixed maximum message size (10485760)",
           "SOE:bsd/lhost-sendmail-05.eml"),
    Sample("Postfix", POLICY, "5.7.0", "smtp; 550 5.7.0 Local Policy Violation",
           "SOE:bsd/lhost-postfix-51.eml"),
    Sample("Stalwart", POLICY, "4.2.2",
           "422 4.2.2 Greylisted, please try again in a few moments.",
           "stalwartlabs/mail-server resources/config/spamfilter/scripts/greylist.sieve",
           bounce_type=T, why="4.2.2 is 'mailbox full', but the text is greylisting"),
    Sample("Postfix", POLICY, "5.7.1", "smtp; 550 5.7.1 Access denied",
           "SOE:bsd/lhost-postfix-54.eml",
           why="a bare 5.7.1: security or policy by code class"),
    Sample("Sendmail", RECIPIENT, "5.7.13", "SMTP; 525 5.7.13 Disabled recipient address",
           "SOE:bsd/lhost-sendmail-35.eml", why="a 5.7.x code that is the recipient's"),
    Sample("Exchange", RECIPIENT, "5.1.1",
           "smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found",
           "SOE:bsd/lhost-exchange2007-01.eml", why="no phrase rule: the X.1.x class decides"),
    Sample("Exchange", POLICY, "5.7.1",
           "smtp;550 5.7.1 RESOLVER.RST.AuthRequired; authentication required",
           "SOE:bsd/lhost-exchange2007-04.eml",
           why="a group that takes only authenticated (internal) senders"),
    Sample("Sendmail", CONTENT, "5.6.9",
           "SMTP; 550 5.6.9 improper use of 8-bit data in message header",
           "SOE:bsd/lhost-sendmail-06.eml"),
    Sample("Postfix", CONTENT, "5.0.0",
           "smtp; 554 Transaction failed: Duplicate header 'DKIM-Signature'.",
           "SOE:bsd/lhost-postfix-78.eml",
           why="names DKIM, but the message is malformed (a duplicated header)"),
    Sample("Google", CONTENT, "5.7.1",
           "smtp; 550-5.7.1 [2401:2500:102:3032:192.0.2.222 13] Messages with multiple 550 "
           "5.7.1 addresses in From: header are not accepted. v14si1155795plk.134 - gsmtp",
           "SOE:bsd/lhost-postfix-28.eml"),
    Sample("Amazon SES", SENDER_AUTH, "5.0.0",
           "smtp; 554 Message rejected: Email address is not verified. The following "
           "identities failed the check in region AP-NORTHEAST-1: nekochan@example.jp",
           "SOE:bsd/lhost-postfix-77.eml", why="SES refused the sender's unverified identity"),
    Sample("T-Online", SENDER_REPUTATION, "5.5.0",
           "SMTP; 554 IP=192.0.2.254 - A problem occurred. (Ask your postmaster for help or to "
           "contact neko@example.org to clarify.) (BL)", "SOE:bsd/lhost-sendmail-16.eml"),
    Sample("Sendmail", SENDER_AUTH, "5.7.27", "SMTP; 550 Host does not accept mail",
           "SOE:bsd/lhost-sendmail-57.eml",
           why="no phrase rule; X.7.27 is 'sender address has null MX' (RFC 7505)"),
    Sample("Postfix", RECIPIENT, "5.0.0",
           "X-Postfix; host nyaan.example.jp[192.0.2.2] said: 501 Rcpt-To validation failed: "
           "RCPT TO not accepted: 5.7.1 This system is not configured to relay mail (r) from "
           "<nekonyaans@p2.example.com> to <kijitora@example.jp> for 127.0.0.1 (in reply to "
           "RCPT TO command)", "SOE:bsd/lhost-postfix-44.eml",
           why="a 5.7.1 relay refusal: the recipient's domain is not served there"),
    Sample("Exim", UNKNOWN, "5.0.0", "smtp; 550 Rejected", "SOE:bsd/lhost-exim-49.eml",
           why="nothing to go on: treated as today"),
    # -- Amazon SES itself -------------------------------------------------------------------------
    Sample("Amazon SES", RECIPIENT, "5.1.1", "smtp; 550 5.1.1 user unknown",
           "SES-VECTOR:real-notification-bounce-permanent-general-simulator.json"),
    Sample("Amazon SES", RECIPIENT, "4.4.7",
           "smtp; 554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 "
           "Connection closed unexpectedly>",
           "SES-VECTOR:real-notification-bounce-transient-general-expired.json", bounce_type=T),
    Sample("Amazon SES", RECIPIENT, "5.1.1",
           "Amazon SES did not send the message to this address because it is on the "
           "suppression list for your account. For more information about removing addresses "
           "from the suppression list, see the Amazon SES Developer Guide at https://docs.aws."
           "amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html", "AWSDOCS",
           subtype="OnAccountSuppressionList"),
    Sample("Amazon SES", RECIPIENT, "5.1.1",
           "Amazon SES has suppressed sending to this address because it has a recent history "
           "of bouncing as an invalid address. For more information about how to remove an "
           "address from the suppression list, see the Amazon SES Developer Guide: http://docs."
           "aws.amazon.com/ses/latest/DeveloperGuide/remove-from-suppressionlist.html",
           "AWSDOCS", subtype="Suppressed"),
    Sample("Amazon SES", MAILBOX_FULL, "5.1.0",
           "smtp; 5.1.0 - Unknown address error 550-'5.2.2 <kijitora@example.jp>... Mailbox "
           "Full' (delivery attempts: 0)", "SOE:bsd/lhost-amazonses-03.eml", bounce_type=T,
           subtype="MailboxFull", why="5.1.0 outside, a full mailbox inside"),
    Sample("Amazon SES", CONTENT, "5.3.0",
           "smtp; 500 5.6.1 Message content rejected", "SOE:bsd/lhost-receivingses-06.eml",
           bounce_type=T, subtype="ContentRejected"),
    Sample("Amazon SES", MAILBOX_FULL, "5.2.2", "smtp; 552 5.2.2 Mailbox full",
           "SOE:bsd/lhost-receivingses-04.eml"),
)
