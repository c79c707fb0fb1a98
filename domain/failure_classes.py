"""Who failed — the recipient or the sender? SPEC §3.1 as one table of rules.

A bounce says why in its enhanced status code (RFC 3463 ``class.subject.detail``, SES's
``bouncedRecipients[].status``) and in its diagnostic text. When the receiving server refused
the *sender* (a blocklisted IP, a poor reputation, failed SPF/DKIM/DMARC, content judged spam,
a policy of the receiving server) the mailbox is fine, and blocking the recipient would punish
them for the sender's problem.

``classify`` walks ``RULES`` in order and returns the first that matches. The order is the
design. SES's own verdicts come first (its suppression lists stay as today; ``MailboxFull`` is
a full mailbox). Then the provider phrases that name a sender-side cause — blocklists, what the
server says it saw (a spam verdict, an unusual rate), authentication, reputation, the
message's own content, a policy of the receiving server — because they are specific and a
bare code can mislead: "550 5.1.0 … sender rejected … AUP#CDRBL" is Cox's IP blocklist, not
an addressing error. Then the phrases that name the recipient, which win over a 5.7.x code
(Microsoft's "5.4.1 Recipient address rejected: Access denied", a postfix "5.7.1 …
Recipient address rejected: User unknown", "Relay access denied"). Last, the code class
alone (RFC 3463: X.1 addressing, X.2 mailbox, X.4 routing, X.6 content, X.7 security or
policy). Nothing matched is ``unknown``, which the status rules treat exactly as before the
classifier existed.

Every rule is exercised by real diagnostic strings in ``tests/domain/bounce_corpus.py``.
Pure: no I/O, no clock; deterministic for any input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RECIPIENT, MAILBOX_FULL, UNKNOWN = "recipient", "mailbox_full", "unknown"
SENDER_REPUTATION, SENDER_AUTH, CONTENT, POLICY = (
    "sender_reputation", "sender_auth", "content", "policy")
FAILURE_CLASSES = (RECIPIENT, MAILBOX_FULL, SENDER_REPUTATION, SENDER_AUTH, CONTENT, POLICY,
                   UNKNOWN)
SENDER_SIDE = frozenset({SENDER_REPUTATION, SENDER_AUTH, CONTENT, POLICY})

# What an operator needs to know about each class, in plain words.
CLASS_WORDS = {
    RECIPIENT: "The recipient's address does not work (no such user, a disabled mailbox or a "
               "bad domain).",
    MAILBOX_FULL: "The recipient's mailbox is full; treated as a soft bounce.",
    SENDER_REPUTATION: "Refused by the receiving server because of the sender's reputation "
                       "(a blocklist, complaints or volume) — not the recipient's fault.",
    SENDER_AUTH: "Refused because the sender's authentication failed (SPF, DKIM, DMARC or "
                 "reverse DNS) — not the recipient's fault.",
    CONTENT: "Refused because of the message itself (judged spam, a virus, an attachment, its "
             "size or format) — not the recipient's fault.",
    POLICY: "Refused by a policy of the receiving server (greylisting, TLS, allowed senders) — "
            "not the recipient's fault.",
    UNKNOWN: "The reason could not be classified; treated as a bounce of the recipient.",
}
# The short name of a sender-side class, for warnings ("blocklist or authentication?").
CLASS_LABELS = {
    RECIPIENT: "recipient", MAILBOX_FULL: "mailbox full",
    SENDER_REPUTATION: "blocklist / reputation", SENDER_AUTH: "authentication",
    CONTENT: "content", POLICY: "receiving server policy", UNKNOWN: "unclassified",
}

_MAX_TEXT = 4000  # diagnostics are short; this bounds the regex work for any input
_CODE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
_ADDRESS = re.compile(r"<?[^\s<>@]{1,200}@[^\s<>@]{1,255}>?")
# Reply codes, with their enhanced code, wherever a folded multi-line reply repeats them
# ("… with a 550-5.7.26 hard fail policy", "… multiple 550 5.7.1 addresses in From:").
_REPLY = re.compile(r"(?:^|(?<=\s))[245]\d\d[- ](?:[245]\.\d{1,3}\.\d{1,3}(?=\s|$))?")


@dataclass(frozen=True)
class Classification:
    """The class of a bounce and the rule (``Rule.name``) that decided it."""

    failure_class: str
    rule: str

    @property
    def sender_side(self) -> bool:
        return self.failure_class in SENDER_SIDE

    @property
    def words(self) -> str:
        return describe(self.failure_class, self.rule)


@dataclass(frozen=True)
class Rule:
    """One row of the table: one cause, recognised by its code or by its words.

    A rule matches when SES's bounce subtype is one of ``subtypes`` (if given) and the
    enhanced status code full-matches ``codes`` *or* ``phrases`` (lower case) is found in the
    lower-cased diagnostic, with e-mail addresses taken out (a recipient called ``dmarc@…`` is
    not an authentication failure). ``words`` is what the console and history say."""

    name: str
    failure_class: str
    words: str
    codes: str | None = None
    phrases: str | None = None
    subtypes: frozenset[str] = frozenset()
    _codes: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)
    _phrases: re.Pattern[str] | None = field(init=False, repr=False, compare=False,
                                             default=None)

    def __post_init__(self) -> None:
        if self.failure_class not in FAILURE_CLASSES:
            raise ValueError(f"unknown failure class {self.failure_class!r}")
        if self.codes is None and self.phrases is None and not self.subtypes:
            raise ValueError(f"rule {self.name!r} has no criterion")
        object.__setattr__(self, "_codes", re.compile(self.codes) if self.codes else None)
        # Phrases are lower case and matched against the lower-cased text: case-sensitive
        # patterns let ``re`` skip ahead on literal prefixes (about 3x faster here).
        if self.phrases and self.phrases != self.phrases.lower():
            raise ValueError(f"rule {self.name!r}: write phrases in lower case")
        object.__setattr__(self, "_phrases", re.compile(self.phrases) if self.phrases else None)

    def matches(self, subtype: str, code: str | None, text: str) -> bool:
        if self.subtypes and subtype not in self.subtypes:
            return False
        if self._codes is None and self._phrases is None:
            return True
        if self._codes is not None and code is not None and self._codes.fullmatch(code):
            return True
        return self._phrases is not None and self._phrases.search(text) is not None


_NOT_THEIRS = " — not the recipient's fault"

RULES: tuple[Rule, ...] = (
    # -- SES's own verdicts -----------------------------------------------------------------------
    Rule("ses_suppression_list", RECIPIENT,
         "SES did not send: the address is on a suppression list (an earlier hard bounce or "
         "complaint).", subtypes=frozenset({"OnAccountSuppressionList", "Suppressed"})),
    Rule("ses_mailbox_full", MAILBOX_FULL, "The recipient's mailbox is full (SES: MailboxFull).",
         subtypes=frozenset({"MailboxFull"})),
    Rule("ses_content_rejected", CONTENT,
         "Refused because of the message's content, an attachment or its size (SES: "
         "ContentRejected, AttachmentRejected, MessageTooLarge)" + _NOT_THEIRS,
         subtypes=frozenset({"ContentRejected", "AttachmentRejected", "MessageTooLarge"})),
    # -- blocklists: the receiving server refused the sending IP or domain ------------------------
    Rule("microsoft_blocked_ip", SENDER_REPUTATION,
         "Refused by Microsoft because the sending IP is on its block list (S3150, "
         "5.7.606 to 649)" + _NOT_THEIRS,
         codes=r"5\.7\.(?:6(?:0[6-9]|[1-4]\d)|511|513)",
         phrases=r"\bs3150\b|part of their network is on our block ?list|banned sending ip"
                 r"|access denied, banned sender|using customer block ?list"),
    Rule("yahoo_blocked_ip", SENDER_REPUTATION,
         "Refused by Yahoo because the sending IP is on a blocklist it uses (BL21, BL23)"
         + _NOT_THEIRS, phrases=r"\[bl2\d\]"),
    Rule("spamhaus_listed", SENDER_REPUTATION,
         "Refused by the receiving server because the sending IP or domain is on the Spamhaus "
         "blocklist" + _NOT_THEIRS, phrases=r"spamhaus"),
    Rule("dnsbl_listed", SENDER_REPUTATION,
         "Refused by the receiving server because the sending IP or domain is on a blocklist"
         + _NOT_THEIRS,
         phrases=r"blocked using|\bdnsbl\b|dnsbl-lookup|\brbl\b|black ?list(?:ed)?"
                 r"|block ?list(?:ed)?|spamcop|\bsorbs\b|barracudacentral|cloudmark"
                 r"|client host (?:\[[^\]]{0,60}\] )?blocked|\baup#(?:cdrbl|cxbl|ipbl\d{1,5})\b"
                 r"|\bblocked - see\b|\(bl\)"),
    # -- what the server says it saw, before what it advises (a Google Groups spam verdict
    #    that suggests setting up SPF is about the content, not SPF) ---------------------------
    Rule("unsolicited_rate", SENDER_REPUTATION,
         "Refused because the receiving server saw too much unwanted mail or too many "
         "complaints from the sender" + _NOT_THEIRS, codes=r"[45]\.7\.28",
         phrases=r"unusual rate of (?:unsolicited )?mail|volume or user complaints|user "
                 r"complaints|\[tss?\d\d\]|permanently deferred|mail flood|spamming"
                 r"|suspected spam ip"),
    Rule("spam_content", CONTENT,
         "Refused because the receiving server judged the message to be spam" + _NOT_THEIRS,
         phrases=r"likely unsolicited|(?:as|be) spam\b|spam (?:content|signature|score"
                 r"|classification|detected)|mcspamsignature|\bube\b|message content rejected"
                 r"|content (?:filter|examination)|(?:flagged|scored|detected|classified) as spam"
                 r"|spam is embedded|mail content denied|nature of the content"),
    Rule("not_standard_format", CONTENT,
         "Refused because the message is not formatted as the mail standards require"
         + _NOT_THEIRS,
         phrases=r"rfc ?5322|not rfc compliant|message is malformed|duplicate header"
                 r"|missing a valid|multiple addresses in from|bare line ?feed"
                 r"|headers? too large"),
    # -- authentication: SPF, DKIM, DMARC, reverse DNS, the sender's own address ------------------
    Rule("dmarc_failed", SENDER_AUTH,
         "Refused because the message failed the sender domain's DMARC policy" + _NOT_THEIRS,
         phrases=r"dmarc"),
    Rule("unauthenticated", SENDER_AUTH,
         "Refused because the message was not authenticated (SPF or DKIM)" + _NOT_THEIRS,
         phrases=r"sender is unauthenticated|unauthenticated (?:e-?mail|mail|message)"
                 r"|authentication (?:checks|information)|fails? to pass authentication"),
    Rule("spf_failed", SENDER_AUTH,
         "Refused because the sending IP is not allowed by the sender domain's SPF record"
         + _NOT_THEIRS, phrases=r"\bspf\b|sender policy framework"),
    Rule("dkim_failed", SENDER_AUTH,
         "Refused because the message's DKIM signature was missing or did not verify"
         + _NOT_THEIRS, phrases=r"\bdkim\b|domainkeys"),
    Rule("reverse_dns", SENDER_AUTH,
         "Refused because the sending IP has no valid reverse DNS (PTR) record" + _NOT_THEIRS,
         phrases=r"\bptr\b|reverse dns|\brdns\b|ip name lookup failed|cannot find your "
                 r"hostname|without a valid sender domain"),
    Rule("sender_address_rejected", SENDER_AUTH,
         "Refused because the sender's address or domain did not check out" + _NOT_THEIRS,
         codes=r"[45]\.1\.[78]",
         phrases=r"sender address rejected|domain of sender address|sender domain (?:does not "
                 r"exist|not found|must resolve)|unresolvable rfc\.?5321|mismatches client ip"
                 r"|address is not verified|identities failed the check"),
    Rule("authentication_code", SENDER_AUTH,
         "Refused because a sender authentication check failed (RFC 7372 / 7505 / 8617 codes "
         "X.7.20 to X.7.29, Microsoft 5.7.509)" + _NOT_THEIRS,
         codes=r"[45]\.7\.(?:2[0-7]|29|30|32|509)"),
    # -- reputation and volume --------------------------------------------------------------------
    Rule("poor_reputation", SENDER_REPUTATION,
         "Refused because the receiving server distrusts the sending IP or domain (poor "
         "reputation)" + _NOT_THEIRS, phrases=r"reputation"),
    Rule("rate_limited", SENDER_REPUTATION,
         "Throttled: the receiving server limits how much mail it takes from the sending IP"
         + _NOT_THEIRS,
         phrases=r"rate limit|frequency limited|too many (?:connections|sessions|messages"
                 r"|recipients)|sent to too many recipients|exceeded permitted limits|excessive "
                 r"volume|max(?:imum)? (?:messages?|connections) per|throttl"),
    # -- the message itself -----------------------------------------------------------------------
    Rule("virus", CONTENT,
         "Refused because the message carried a virus or malware" + _NOT_THEIRS,
         phrases=r"virus|malware"),
    Rule("attachment_refused", CONTENT,
         "Refused because of an attachment" + _NOT_THEIRS, phrases=r"attachment|file type"),
    Rule("message_too_large", CONTENT,
         "Refused because the message is larger than the receiving server accepts"
         + _NOT_THEIRS, codes=r"[45]\.(?:2\.3|3\.4)",
         phrases=r"message (?:size|length) exceeds|(?:message|mail) (?:is )?too (?:large|big)"
                 r"|size limit"),
    # -- a policy of the receiving server ---------------------------------------------------------
    Rule("greylisted", POLICY,
         "Deferred by greylisting: the receiving server asks the sender to try again later"
         + _NOT_THEIRS,
         phrases=r"gr[ae]y-?list|internal resources? (?:is |are )?temporarily unavailable"),
    Rule("tls_required", POLICY,
         "Refused because the receiving server requires an encrypted (TLS) connection"
         + _NOT_THEIRS,
         phrases=r"tls (?:is )?required|requires? (?:tls|encryption)|must issue a starttls"
                 r"|encryption (?:is )?required"),
    Rule("restricted_recipient", POLICY,
         "Refused because the recipient's organisation accepts mail only from approved senders"
         + _NOT_THEIRS, codes=r"5\.7\.(?:12|124|13[3-6])",
         phrases=r"delivery not authori[sz]ed|allowed[- ]senders|not authenticated (?:by "
                 r"organi[sz]ation|for (?:group|mailbox|public folder))|sender was not "
                 r"authenticated|envelope blocked"),
    Rule("local_policy", POLICY,
         "Refused by a policy of the receiving server" + _NOT_THEIRS,
         phrases=r"polic(?:y|ies)|\[(?:ph|cs)0\d\]|administrative prohibition|prohibited"
                 r"|sender rejected|host network,? not allowed|does not accept e?mail over ipv6"),
    # -- the recipient's mailbox is full ----------------------------------------------------------
    Rule("mailbox_full", MAILBOX_FULL, "The recipient's mailbox is full.",
         codes=r"[45]\.2\.2",
         phrases=r"mailbox (?:is )?full|over ?quota|quota exceeded|exceeded (?:its |their )?"
                 r"(?:storage )?quota|out of storage|insufficient (?:storage|space)|storage "
                 r"limit|inbox is full"),
    # -- the recipient: no such user, disabled mailbox, bad domain --------------------------------
    Rule("relay_denied", RECIPIENT,
         "The receiving server does not take mail for the recipient's domain (their mail setup "
         "is wrong).", phrases=r"relay(?:ing)? (?:access )?denied|unable to relay"
                               r"|relay not permitted|not configured to relay"),
    Rule("mailbox_disabled", RECIPIENT,
         "The recipient's mailbox is disabled or no longer in use.",
         codes=r"[45]\.7\.(?:13|17|18)",
         phrases=r"(?:account|mailbox|user) (?:that you tried to reach )?(?:is |has been )?"
                 r"(?:disabled|inactive|deactivated|suspended|locked|frozen|blocked|closed"
                 r"|discontinued)|inactive (?:e-?mail )?address|no longer (?:valid|active|on "
                 r"server|in use)|disabled recipient|deactivated mailbox|temporar(?:il)?y "
                 r"locked|(?:compte|destinataire) .{0,30}bloque"),
    Rule("no_such_user", RECIPIENT, "The recipient's address does not exist.",
         codes=r"5\.7\.504",
         phrases=r"user unknown|unknown (?:user|recipient|mailbox|alias|address)|no such "
                 r"(?:user|mailbox|recipient|account|address)|does not exist|doesn't exist"
                 r"|user not exist"
                 r"|doesn't have an? .{0,30}account|invalid (?:recipient|mailbox|address|user)"
                 r"|(?:recipient|user|mailbox) (?:address )?not found|mailbox unavailable"
                 r"|illegal alias|bad destination mailbox|destinataire invalide"
                 r"|recipient (?:address )?rejected|address rejected|unrouteable address"),
    Rule("bad_domain", RECIPIENT,
         "The recipient's domain does not exist or does not receive mail.",
         phrases=r"(?:host|domain)(?: or domain)?(?: name)? not found|no such domain"
                 r"|nxdomain|null mx|doesn't receive e?mail|invalid domain|find the recipient "
                 r"domain|domain is not reachable|unable to route"),
    # -- a bare word, after everything specific ---------------------------------------------------
    Rule("spam_word", CONTENT,
         "Refused because the receiving server judged the message to be spam" + _NOT_THEIRS,
         phrases=r"\bspam\b|junk mail"),
    # -- the code class alone (RFC 3463 section 3) ------------------------------------------------
    Rule("code_addressing", RECIPIENT,
         "The recipient's address or domain is wrong (X.1.x addressing status).",
         codes=r"[45]\.1\.\d{1,3}"),
    Rule("code_mailbox", RECIPIENT,
         "The recipient's mailbox cannot take mail (X.2.x mailbox status).",
         codes=r"[45]\.2\.\d{1,3}"),
    Rule("code_routing", RECIPIENT,
         "The recipient's mail server could not be reached (X.4.x network and routing status).",
         codes=r"[45]\.4\.\d{1,3}"),
    Rule("code_content", CONTENT,
         "Refused because of the message's content or encoding (X.6.x)" + _NOT_THEIRS,
         codes=r"[45]\.6\.\d{1,3}"),
    Rule("code_security_policy", POLICY,
         "Refused by the receiving server's security or policy rules (X.7.x)" + _NOT_THEIRS,
         codes=r"[45]\.7\.\d{1,3}"),
)

UNCLASSIFIED = Classification(UNKNOWN, "unclassified")
_WORDS = {rule.name: rule.words for rule in RULES}


def classify(bounce_type: str | None, bounce_subtype: str | None, status_code: str | None,
             diagnostic: str | None) -> Classification:
    """The class of one bounced recipient and the rule that decided it; never raises."""
    del bounce_type  # Permanent or Transient, the question "whose fault?" is the same
    subtype = bounce_subtype if isinstance(bounce_subtype, str) else ""
    code = enhanced_code(status_code, diagnostic)
    text = _clean(diagnostic)
    for rule in RULES:
        if rule.matches(subtype, code, text):
            return Classification(rule.failure_class, rule.name)
    return UNCLASSIFIED


def enhanced_code(status_code: str | None, diagnostic: str | None) -> str | None:
    """The most specific RFC 3463 code of a bounce: SES's ``status`` unless it is a bare
    ``X.0.0`` and the diagnostic names a finer one."""
    found = []
    for source in (status_code, diagnostic):
        if isinstance(source, str):
            found += [".".join(m.groups()) for m in _CODE.finditer(source[:_MAX_TEXT])]
    specific = [c for c in found if not c.endswith(".0.0")]
    return next(iter(specific or found), None)


def describe(failure_class: str | None, rule: str | None) -> str:
    """The plain words for a class and rule (for a rule no longer in the table, its class)."""
    if rule in _WORDS:
        return _WORDS[rule]
    return CLASS_WORDS.get(failure_class or "", CLASS_WORDS[UNKNOWN])


def without_addresses(diagnostic: str | None) -> str | None:
    """The diagnostic with every e-mail address replaced by ``[address]``: what may be kept
    about a sender without keeping a recipient's personal data."""
    if not isinstance(diagnostic, str):
        return None
    return _ADDRESS.sub("[address]", diagnostic)


def _clean(diagnostic: str | None) -> str:
    """The diagnostic without addresses and reply codes, whitespace folded, lower case."""
    if not isinstance(diagnostic, str):
        return ""
    text = _ADDRESS.sub(" ", diagnostic[:_MAX_TEXT])
    return " ".join(_REPLY.sub(" ", text).split()).lower()
