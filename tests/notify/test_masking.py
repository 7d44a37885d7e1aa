"""Secrets inside URLs are masked; what identifies the target stays readable."""

from __future__ import annotations

import pytest

from notify.masking import candidates, identity, mask_text, mask_url, secrets_of

CASES = [  # as Apprise prints each form privately, with only the arguments the user gave
    (
        "mailto://bw:s3cretPW@smtp.example.com:2525?from=a@example.com&to=b@example.com",
        "mailto://bw:****@smtp.example.com:2525/b@example.com?from=a@example.com",
    ),
    (
        "mailtos://user:app-pass@smtp.gmail.com?to=team@example.com",
        "mailtos://user:****@smtp.gmail.com/team@example.com",
    ),
    (
        "mailto://127.0.0.1:2525?from=bw@localhost&to=team@localhost",
        "mailto://127.0.0.1:2525/team@localhost?from=bw@localhost",
    ),
    ("slack://T0BWTEST1/B0BWTEST2/xoxSECRETtoken123/#alerts", "slack://T...1/B...2/x...3/#alerts/"),
    ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/1234/", "tgram://1...w/1234/"),
    ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://4...8/J...s/"),
    ("ntfy://ntfy.example.com/alerts", "ntfy://ntfy.example.com/alerts"),
    (
        "https://hooks.example.com/services/T/B/secret?token=abcd",
        "https://hooks.example.com/****?token=****",
    ),
    (
        "postgresql+psycopg://bw:dbpass@db.internal/boardwatch",
        "postgresql+psycopg://bw:****@db.internal/boardwatch",
    ),
    ("sqlite:///boardwatch.db", "sqlite:///boardwatch.db"),
    ("not a url", "****"),
    (  # a header's name tells two targets apart; only its value is secret (#27)
        "json://user:pass1234@hooks.example.com/in?+X-Token=hdrsecret99",
        "json://user:****@hooks.example.com/in?+X-Token=****",
    ),
    (  # a DSN's password in its query (#27)
        "postgresql+psycopg://bw@db.internal/boardwatch?password=s3cretDSN&sslmode=require",
        "postgresql+psycopg://bw@db.internal/boardwatch?password=****&sslmode=require",
    ),
]


@pytest.mark.parametrize(("url", "masked"), CASES)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        (
            "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/1234/",
            "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        ),
        ("slack://T0BWTEST1/B0BWTEST2/xoxSECRETtoken123/#alerts", "xoxSECRETtoken123"),
        ("mailtos://user:app-pass@smtp.gmail.com?to=team@example.com", "app-pass"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "JHMHI8qBe7bk2ZwO5U711o3dV_js"),
    ],
)
def test_every_private_part_apprise_knows_of_is_a_secret(url: str, secret: str) -> None:
    assert any(secret in found for found in secrets_of(url))
    assert any(secret in found for found in candidates(url))
    assert secret not in mask_url(url)


def test_mask_text_leaves_hosts_ports_and_queries_alone() -> None:
    line = "mailto://127.0.0.1:25?from=boardwatch@localhost&to=team@localhost refused"
    assert mask_text(line) == line
    assert mask_text("postgresql://bw:dbpw@db:5432/x") == "postgresql://bw:****@db:5432/x"


def test_mask_text_hides_passwords_and_known_secrets() -> None:
    url = "slack://T0BWTEST1/B0BWTEST2/xoxSECRETtoken123/#alerts"
    text = f"posting to https://hooks.slack.com/services/T0BWTEST1/B0BWTEST2/xoxSECRETtoken123 for {url}"
    masked = mask_text(text + " and mailto://bw:pw12345@host", secrets_of(url))
    assert "xoxSECRETtoken123" not in masked and "B0BWTEST2" not in masked
    assert "pw12345" not in masked and "mailto://bw:****@host" in masked


# (a URL, the same target with its secrets changed, the same URL naming another target): the
# masked form is no identity — it shows a token's first and last character, drops header names
IDENTITY = [
    (
        "mailto://bw:s3cretPW@smtp.example.com:2525?from=a@example.com&to=b@example.com",
        "mailto://bw:rotatedPW@smtp.example.com:2525?from=a@example.com&to=b@example.com",
        "mailto://bw:s3cretPW@smtp.example.com:2525?from=a@example.com&to=c@example.com",
    ),
    (
        "mailto://bw:s3cretPW@smtp.example.com:2525/b@example.com",
        "mailto://bw:rotatedPW@smtp.example.com:2525/b@example.com",
        "mailto://bw:s3cretPW@smtp.example.com:2526/b@example.com",
    ),
    (
        "slack://T0BWTEST1/B0BWTEST2/xoxSECRETtoken123/#alerts?verify=no",
        "slack://T9ROTATE9/B9ROTATE8/xoxROTATEDtoken77/#alerts?verify=no",
        "slack://T0BWTEST1/B0BWTEST2/xoxSECRETtoken123/#news?verify=no",
    ),
    (
        "json://127.0.0.1:9/hook?+X-Token=abc123&+Authorization=Bearer%20xyz789",
        "json://127.0.0.1:9/hook?+X-Token=def456&+Authorization=Bearer%20uvw000",
        "json://127.0.0.1:9/hook?+X-Tenant=abc123&+Authorization=Bearer%20xyz789",
    ),
    (
        "json://user:pass1234@127.0.0.1:9/hook",
        "json://user:word5678@127.0.0.1:9/hook",
        "json://user:pass1234@127.0.0.1:9/other",
    ),
    (
        "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/1234/",
        "tgram://123456789:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaz/1234/",
        "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/5678/",
    ),
]


@pytest.mark.parametrize(("url", "rotated", "other"), IDENTITY)
def test_identity_is_what_a_url_names_apart_from_its_secrets(
    url: str, rotated: str, other: str
) -> None:
    assert identity(url) == identity(rotated)
    assert identity(url) != identity(other)
    assert all(secret not in identity(url) for secret in secrets_of(url))


def test_apprise_reading_urls_for_their_secrets_says_nothing_and_later_lines_keep_hosts() -> None:
    """At -vv Apprise logs each URL it reads; while boardwatch has it read a URL only to learn
    that URL's secrets, those lines are dropped (they could be masked only by masking every
    piece of every URL, hosts and paths too: `json://****:****@****:9/****/****`); the lines of
    real sends keep what tells targets apart and mask only the secrets."""
    import logging

    from scheduler.ops.logs import SecretFilter

    urls = [
        "json://user:pass1234@hooks.example.com:9/in/path?+X-Token=hdrsecret99",
        "slack://T0AAAAAAA/B0BBBBBBB/xoxCCCCCCCCCCCC/#ops",
    ]
    kept: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record.getMessage())

    secrets = SecretFilter()
    secrets.add(urls)
    apprise = logging.getLogger("apprise")
    handler, level, propagate = Keep(), apprise.level, apprise.propagate
    handler.addFilter(secrets)
    apprise.addHandler(handler)
    apprise.setLevel(logging.DEBUG)
    apprise.propagate = False
    try:
        apprise.debug("sent to hooks.example.com:9/in/path with token hdrsecret99")  # learns
        apprise.debug("Slack mode=hook posted to T0AAAAAAA")
    finally:
        apprise.removeHandler(handler)
        apprise.setLevel(level)
        apprise.propagate = propagate
    assert kept == [
        "sent to hooks.example.com:9/in/path with token ****",
        "Slack mode=hook posted to ****",
    ]
