"""Unsubscribe tokens and what a digest carries to leave: a token names one subscriber's one
target under one secret — a forged one, another target's, another subscriber's or one made
under another secret never matches — and the headers fit a mail header line as they are."""

from __future__ import annotations

import pytest

from notify.masking import identity
from notify.send import with_headers
from notify.unsubscribe import LINE_OCTETS, by_link, by_mail, mailbox, matches, token

SECRET = "correct horse battery staple"
MAIL_A = "mailto://bw:pw123456@smtp.example.com:587?from=bw@example.com&to=a@example.com"
MAIL_A_ROTATED = (
    "mailto://bw:NEWpassword9@smtp.example.com:587?from=bw@example.com&to=a@example.com"
)
MAIL_B = "mailto://bw:pw123456@smtp.example.com:587?from=bw@example.com&to=b@example.com"


def test_a_token_matches_its_own_target_only() -> None:
    mine = token(SECRET, "team", identity(MAIL_A))
    assert len(mine) == 43 and mine.replace("-", "").replace("_", "").isalnum()
    assert matches(mine, SECRET, "team", identity(MAIL_A))
    assert matches(mine, SECRET, "team", identity(MAIL_A_ROTATED))  # a password rotated: same
    assert not matches(mine, SECRET, "team", identity(MAIL_B))  # the subscriber's other target
    assert not matches(mine, SECRET, "others", identity(MAIL_A))  # another subscriber's
    assert not matches(mine, "another secret entirely", "team", identity(MAIL_A))


@pytest.mark.parametrize(
    "forged",
    [
        "A" * 43,
        "",
        "x",
        token(SECRET, "team", identity(MAIL_A))[:-1] + "A",  # one character off
        token("", "team", identity(MAIL_A)),  # made without the secret
        token(SECRET, "team", "a" * 64),  # a made-up identity
        "토큰" * 20,  # not even ASCII
    ],
)
def test_a_forged_token_never_matches(forged: str) -> None:
    assert not matches(forged, SECRET, "team", identity(MAIL_A))


def test_a_link_leaves_by_one_click_and_each_header_fits_one_line() -> None:
    leave = by_link("https://example.org/boardwatch/", SECRET, "team", identity(MAIL_A))
    code = token(SECRET, "team", identity(MAIL_A))
    assert leave.link == f"https://example.org/boardwatch/unsubscribe/{code}"
    assert dict(leave.headers) == {
        "List-Unsubscribe": f"<{leave.link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    longest = by_link("https://example.org/" + "p" * 880, SECRET, "team", identity(MAIL_A))
    (line, _) = [f"{name}: {value}" for name, value in longest.headers]
    assert len(line) <= LINE_OCTETS


@pytest.mark.parametrize(
    ("admin", "expected"),
    [
        (
            "mailto://bw:pw@smtp.example.com?from=bw@example.com&to=ops@example.com",
            "ops@example.com",
        ),
        ("mailtos://ops:pw@example.com", "ops@example.com"),  # Apprise's own default recipient
        (
            "mailto://smtp.example.com?from=a@example.com&to=x@example.com,y@example.com",
            "x@example.com",
        ),
        ("slack://T0AAAAAAA/B0BBBBBBB/xoxCCCCCCCCCCCC/#ops", None),
        ("json://localhost/hook", None),
    ],
)
def test_the_admin_mailbox_is_the_first_recipient_of_an_email_admin_url(
    admin: str, expected: str | None
) -> None:
    assert mailbox(admin) == expected


def test_without_a_page_a_digest_asks_the_admin_by_mail_and_offers_no_one_click() -> None:
    leave = by_mail("ops@example.com", "esg-team")
    assert leave.link == "mailto:ops@example.com?subject=unsubscribe:esg-team"
    assert leave.headers == (("List-Unsubscribe", f"<{leave.link}>"),)
    assert by_mail("운영자@example.com", "esg-team").headers == ()  # would need encoding: none


def test_headers_ride_on_the_apprise_url_as_plus_arguments() -> None:
    leave = by_link("https://example.org/bw", SECRET, "team", identity(MAIL_A))
    sent = with_headers(MAIL_A, leave.headers)
    assert sent.startswith(MAIL_A + "&+List-Unsubscribe=%3Chttps%3A%2F%2Fexample.org%2Fbw%2F")
    assert sent.endswith("&+List-Unsubscribe-Post=List-Unsubscribe%3DOne-Click")
    assert with_headers("mailto://localhost", leave.headers).startswith("mailto://localhost?+")
    assert with_headers(MAIL_A, ()) == MAIL_A
