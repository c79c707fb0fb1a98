"""The two URLs an SNS message asks us to fetch, checked before any network access (SPEC §6.4,
§6.7).

The host is not "anything that looks like ``sns.*.amazonaws.com``": S3 serves a bucket named
``sns`` at ``sns.s3.amazonaws.com`` and ``sns.s3-us-west-2.amazonaws.com``, so a loose pattern
lets the bucket's owner choose our signing certificate. The host is derived from the message's
own ``TopicArn`` (already on the allow-list): ``sns.<region>.amazonaws.com`` (``.com.cn`` in the
``aws-cn`` partition), and must be exactly that. A URL that ``urllib`` cannot split (an
unbalanced ``[``; a fullwidth solidus or number sign, U+FF0F or U+FF03, that NFKC turns into
a delimiter) is refused like any other bad URL: a 403, never an exception.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, parse_qs, urlsplit

from adapters.sns_refusal import SnsRefused

TOPIC_ARN = re.compile(r"arn:(?P<partition>[a-z-]+):sns:(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9]+)"
                       r":[0-9]{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?")
# Where each partition's SNS serves its certificates; other partitions are not accepted.
PARTITION_DOMAINS = {"aws": "amazonaws.com", "aws-us-gov": "amazonaws.com",
                     "aws-cn": "amazonaws.com.cn"}
CERT_PATH = re.compile(r"/SimpleNotificationService-[0-9a-f]+\.pem")
# What SNS sends: printable ASCII, no space. Anything else (NUL, controls, non-ASCII that a
# later step might fold into a delimiter) is refused before the URL is even split.
PRINTABLE = re.compile(r"[!-~]+")


def sns_host(topic_arn: str) -> str | None:
    """``sns.<region>.<partition domain>`` for a well-formed SNS topic ARN, else ``None``."""
    match = TOPIC_ARN.fullmatch(topic_arn)
    if match is None or match["partition"] not in PARTITION_DOMAINS:
        return None
    return f"sns.{match['region']}.{PARTITION_DOMAINS[match['partition']]}"


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    return parts


def _on_host(parts: SplitResult | None, url: str, topic_arn: str) -> bool:
    """``https`` on exactly the topic's SNS host: no user info, no port, nothing hidden."""
    host = sns_host(topic_arn)
    return (parts is not None and host is not None and parts.scheme == "https"
            and parts.netloc == host and PRINTABLE.fullmatch(url) is not None
            and not parts.fragment
            and "#" not in url)


def check_cert_url(url: str, topic_arn: str) -> tuple[str, str]:
    """SPEC §6.4: ``(host, file name)`` of the signing certificate of this topic's region."""
    parts = _split(url)
    if not (_on_host(parts, url, topic_arn) and parts is not None
            and CERT_PATH.fullmatch(parts.path) and not parts.query and "?" not in url):
        raise SnsRefused(403, "bad_cert_url",
                         "SigningCertURL is not an SNS certificate URL of the TopicArn's region")
    return parts.netloc, parts.path.lstrip("/")


def check_subscribe_url(url: str, topic_arn: str) -> str:
    """SPEC §6.7: the topic's SNS host, path ``/``, ``Action=ConfirmSubscription`` for this
    topic and one ``Token``."""
    parts = _split(url)
    query = parse_qs(parts.query, keep_blank_values=True) if parts is not None else {}
    if not (_on_host(parts, url, topic_arn) and parts is not None and parts.path == "/"
            and query.get("Action") == ["ConfirmSubscription"]
            and query.get("TopicArn") == [topic_arn] and len(query.get("Token", [])) == 1):
        raise SnsRefused(403, "bad_subscribe_url", "SubscribeURL is not this topic's SNS URL")
    return url
