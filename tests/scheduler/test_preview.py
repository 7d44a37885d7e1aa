"""`scrape digest --preview`: each subscriber's pending posts, each once, as the text digest;
nothing is sent and nothing is marked."""

from __future__ import annotations

from scheduler.context import Context
from scheduler.delivery import deliver
from scheduler.readouts import preview
from storage import ledger
from tests.scheduler.desk import Desk, subscriber
from tests.support.mail import SmtpSink

NEWS = ("탄소중립 산업 전환 지원", "수소차 의전차로 도입")


def owed(ctx: Context) -> dict[str, int]:
    with ctx.store.read() as session:
        return {b.masked: len(b.entries) for b in ledger.pending(session)}


def test_nothing_pending_says_so(desk: Desk, smtp: SmtpSink) -> None:
    ctx = desk.context([subscriber("team", smtp.url())])
    assert preview(ctx, None) == "nothing pending\n"
    desk.publish(ctx, *NEWS)
    deliver(ctx, spaced=False)
    assert preview(ctx, None) == "nothing pending\n"


def test_two_targets_owing_the_same_posts_show_them_once_and_nothing_is_sent_or_marked(
    desk: Desk, smtp: SmtpSink
) -> None:
    ctx = desk.context([subscriber("team", smtp.url("a@example.com"), smtp.url("b@example.com"))])
    desk.publish(ctx, *NEWS)
    before = owed(ctx)
    shown = preview(ctx, None)
    assert shown.startswith(
        "== team: [ESG 정책뉴스] 새 글 2건\n\n■ ESG 정책뉴스  https://esg.example.kr/"
    )
    assert [shown.count(title) for title in NEWS] == [1, 1]
    assert shown.index(NEWS[1]) < shown.index(NEWS[0])  # newest first
    assert owed(ctx) == before and list(before.values()) == [2, 2]
    assert smtp.messages == []


def test_targets_owing_different_posts_show_each_post_once(
    desk: Desk, smtp: SmtpSink, refusing: SmtpSink
) -> None:
    ctx = desk.context([subscriber("team", smtp.url(), refusing.url())])
    desk.publish(ctx, *NEWS)
    deliver(ctx, spaced=False)  # one target took them, the other still owes them
    desk.publish(ctx, "폭염 대비 안전 점검")  # owed by both
    assert sorted(owed(ctx).values()) == [1, 3]
    shown = preview(ctx, None)
    assert shown.startswith("== team: [ESG 정책뉴스] 새 글 3건\n")
    assert [shown.count(title) for title in (*NEWS, "폭염 대비 안전 점검")] == [1, 1, 1]


def test_each_subscriber_is_shown_apart_and_names_choose_whom(desk: Desk, smtp: SmtpSink) -> None:
    ctx = desk.context(
        [
            subscriber("carbon", smtp.url("c@example.com"), keywords=["탄소"]),
            subscriber("all", smtp.url("a@example.com")),
        ]
    )
    desk.publish(ctx, *NEWS)
    shown = preview(ctx, None)
    carbon = shown[shown.index("== carbon:") :]
    everyone = shown[shown.index("== all:") : shown.index("== carbon:")]
    assert carbon.startswith("== carbon: [ESG 정책뉴스] 새 글 1건") and NEWS[1] not in carbon
    assert all(title in everyone for title in NEWS)
    only = preview(ctx, ["carbon"])
    assert only.startswith("== carbon:") and "== all:" not in only
    assert preview(ctx, ["nobody"]) == "nothing pending\n"
