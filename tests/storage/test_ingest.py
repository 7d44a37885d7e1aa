"""Identity, baseline, settled walks, title changes and routing into the ledger."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from records.post import ReadPost
from storage import Store, dialect, ledger, posts
from storage.db import HEAD, MIGRATIONS
from storage.models import Board, Post

T0 = datetime(2025, 7, 23, 0, 0, tzinfo=UTC)
RUNS: list[datetime] = []


def row(key: int, title: str | None = None, **extra: Any) -> ReadPost:
    data = ReadPost(
        key=str(key),
        number=str(key),
        title=title or f"post {key}",
        url=f"http://b/{key}",
        author="a",
        date=date(2025, 7, 23),
        views=1,
        new_marker=False,
        notice=False,
    )
    data.update(extra)  # type: ignore[typeddict-item]
    return data


def setup(store: Store, *subs: ledger.SubscriberSpec) -> None:
    with store.write() as s:
        posts.sync_boards(s, {"esg": "ESG 정책뉴스"})
        ledger.sync_subscribers(s, list(subs) or [sub("team")], T0)


def sub(name: str, *targets: str, **kw: Any) -> ledger.SubscriberSpec:
    return ledger.SubscriberSpec(
        name, [ledger.TargetSpec(t, t) for t in targets or (f"{name}-mail",)], **kw
    )


def ingest(
    store: Store,
    rows: list[ReadPost],
    complete: bool = True,
    backfill: int = 0,
    links_gone: bool = False,
) -> posts.IngestResult:
    """One walk's rows, each walk a minute after the last (`links_gone`: the stored posts'
    old links were asked and are gone)."""
    RUNS.append(T0 + timedelta(minutes=len(RUNS)))
    with store.write() as s:
        return posts.ingest(
            s,
            "esg",
            rows,
            complete=complete,
            backfill=backfill,
            now=RUNS[-1],
            links_gone=links_gone,
        )


def record(session: Any, batch: ledger.Batch, error: str | None) -> None:
    """A target's answer, recorded as a delivery run records it."""
    ledger.mark(session, batch, error, T0)
    ledger.record_health(session, batch, error, T0)


def pending(store: Store) -> dict[str, list[str]]:
    with store.write() as s:
        return {b.masked: [e["key"] for e in b.entries] for b in ledger.pending(s)}


def test_baseline_queues_only_the_newest_backfill_posts(store: Store) -> None:
    setup(store)
    result = ingest(store, [row(9, notice=True), row(5), row(4), row(3)], backfill=2)
    assert result.baseline and len(result.new) == 4
    assert pending(store) == {"team-mail": ["5", "4"]}
    after = ingest(store, [row(6), row(5)])
    assert not after.baseline and list(after.new) == ["6"]
    assert pending(store) == {"team-mail": ["6", "5", "4"]}


def test_a_post_is_stored_once_per_board_and_key(store: Store) -> None:
    setup(store)
    ingest(store, [row(1)])
    ingest(store, [row(1), row(1)])
    with store.write() as s:
        assert posts.count(s, s.scalar(select(Board.id).where(Board.name == "esg")) or 0) == 1
    with pytest.raises(IntegrityError), store.write() as s:
        bid = s.scalar(select(Board.id).where(Board.name == "esg"))
        s.add(Post(board_id=bid, key="1", title="dup", url="u", first_seen=T0, settled=True))


def test_unfinished_walk_leaves_posts_unsettled_until_a_walk_completes(store: Store) -> None:
    setup(store)
    ingest(store, [row(1)])
    ingest(store, [row(3), row(2)], complete=False)
    lookup = posts.Lookups(store)
    found = lookup("esg", ["3", "2", "1", "0"])
    assert {k: known.settled for k, known in found.items()} == {"3": False, "2": False, "1": True}
    assert pending(store) == {"team-mail": ["3", "2"]}  # found posts are queued at once
    ingest(store, [row(3), row(2), row(1)])
    found = lookup("esg", ["3", "2"])
    assert {k: (v.settled, v.title) for k, v in found.items()} == {
        "3": (True, "post 3"),
        "2": (True, "post 2"),
    }
    lookup.close()
    assert pending(store) == {"team-mail": ["3", "2"]}  # and never queued twice


def test_title_change_is_recorded_and_routed_to_update_subscribers_only(store: Store) -> None:
    setup(store, sub("plain"), sub("updates", include_updates=True))
    ingest(store, [row(1, "old title", views=5)])
    ingest(store, [row(1, "old title", views=99)])  # a view count is not a change
    assert pending(store) == {}
    result = ingest(store, [row(1, "new title")])
    assert [p["title"] for p in result.retitled] == ["new title"]
    with store.write() as s:
        (batch,) = ledger.pending(s)
    assert batch.subscriber == "updates"
    assert [(e["title"], e["old_title"], e["updated"]) for e in batch.entries] == [
        ("new title", "old title", True)
    ]


def test_subscriber_added_later_gets_no_history(store: Store) -> None:
    setup(store, sub("early"))
    ingest(store, [row(1)])
    ingest(store, [row(2)])
    setup(store, sub("early"), sub("late"))
    assert pending(store) == {"early-mail": ["2"]}
    ingest(store, [row(3), row(2)])
    assert pending(store) == {"early-mail": ["3", "2"], "late-mail": ["3"]}


def test_keywords_and_exclusions_match_title_and_summary(store: Store) -> None:
    setup(
        store, sub("carbon", keywords=["탄소", "Hydrogen"], exclude_keywords=["채용"]), sub("all")
    )
    ingest(store, [row(1)])
    ingest(
        store,
        [
            row(5, "탄소중립 정책"),
            row(4, "채용 공고 탄소"),
            row(3, "news", summary="green HYDROGEN plan"),
            row(2, "다른 소식"),
        ],
    )
    assert pending(store) == {"carbon-mail": ["5", "3"], "all-mail": ["5", "4", "3", "2"]}


def test_each_target_has_its_own_ledger_entries(store: Store) -> None:
    setup(store, sub("team", "mail", "slack"))
    ingest(store, [row(1)])
    ingest(store, [row(2)])
    with store.write() as s:
        batches = {b.masked: b for b in ledger.pending(s)}
        record(s, batches["slack"], None)
        record(s, batches["mail"], "451 try later")
    assert pending(store) == {"mail": ["2"]}
    with store.write() as s:
        assert ledger.pending_counts(s) == {"team": 1}


def test_workers_upgrading_a_new_database_together_migrate_it_once(backend: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    stores = [Store(backend) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        upgraded = list(pool.map(lambda store: store.upgrade(), stores))
    assert upgraded.count(True) == 1 and all(s.revision() == HEAD for s in stores)
    for store in stores:
        store.engine.dispose()


def test_workers_opening_a_new_sqlite_file_at_one_moment_all_open_it(tmp_path: Path) -> None:
    """Two connections that both read a new file's header cannot both switch it to WAL: SQLite
    answers one "database is locked" at once, without waiting. Each round is one such moment."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    for round_ in range(50):
        stores = [Store(f"sqlite:///{tmp_path / f'{round_}.db'}") for _ in range(4)]
        gate = threading.Barrier(len(stores))

        def open_(store: Store, gate: threading.Barrier = gate) -> str:
            gate.wait()
            with store.engine.connect() as conn:
                return str(conn.exec_driver_sql("PRAGMA journal_mode").scalar())

        with ThreadPoolExecutor(len(stores)) as pool:
            assert list(pool.map(open_, stores)) == ["wal"] * len(stores)
        for store in stores:
            store.engine.dispose()


def test_the_schema_head_is_the_newest_alembic_revision() -> None:
    """A new migration is found by name, so no database silently skips an upgrade."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_a_cut_list_title_that_begins_the_stored_one_is_no_change(store: Store) -> None:
    setup(store, sub("updates", include_updates=True))
    full = "2026년 탄소중립 산업전환 지원사업 공모 안내 — 중소기업 우대"
    ingest(store, [row(1, full)])
    assert not ingest(store, [row(1, full[:20] + "…")]).retitled
    assert not ingest(store, [row(1, full[:20] + "...")]).retitled
    assert ingest(store, [row(1, "다른 제목…")]).retitled  # a cut of another title is a change
    assert posts.retitled("원래 제목", "새 제목") and not posts.retitled("원래 제목", "원래 제목")


def test_a_title_stored_cut_and_read_whole_later_is_no_change(store: Store) -> None:
    """A baseline stores a title as the list cut it (its page is not read); a later run reads
    the page (a link-form change made the walk identify it) and has it whole: completed quietly,
    no update for anyone, and the whole title kept even when the list shows it cut again."""
    setup(store, sub("updates", include_updates=True))
    full = "보드워치 긴 제목 시험 목록 스킨이 긴 제목을 어디에서 자르는지 확인하려고 쓴 제목"
    ingest(store, [row(1, full[:20] + "…")])
    completed = ingest(store, [row(1, full)])
    assert not completed.retitled and pending(store) == {}
    assert not ingest(store, [row(1, full[:20] + "…")]).retitled
    with store.read() as s:
        assert [p["title"] for p in posts.listing(s, "esg", None)] == [full]
    assert ingest(store, [row(1, full[:20] + " (수정)")]).retitled  # a real change still is one


def test_a_row_whose_link_leads_to_a_stored_post_is_that_post(store: Store) -> None:
    setup(store, sub("updates", include_updates=True))
    ingest(store, [row(7, "원래 제목", alias="/free/원래-제목/")])
    edited = ingest(store, [row(7, "고친 제목", alias="/free/고친-제목/")])
    assert not edited.new and [p["title"] for p in edited.retitled] == ["고친 제목"]
    lookup = posts.Lookups(store)
    found = lookup("esg", ["/free/원래-제목/", "/free/고친-제목/"], ["/free/고친-제목/"])
    assert {k: (v.settled, v.title, v.key) for k, v in found.items()} == {
        "/free/고친-제목/": (True, "고친 제목", "7")
    }
    lookup.close()


def test_a_post_keyed_by_its_path_takes_its_id_once_its_page_says_it(store: Store) -> None:
    """Stored before its page was read for an id (an older version keyed slugs by path)."""
    setup(store)
    ingest(store, [row(1)])
    ingest(store, [{**row(2), "key": "/free/slug-two/"}])  # type: ignore[typeddict-item]
    assert pending(store) == {"team-mail": ["/free/slug-two/"]}
    again = ingest(store, [row(2, alias="/free/slug-two/")])
    assert not again.new and pending(store) == {"team-mail": ["2"]}  # the same entry


def test_a_resumed_first_walk_sends_what_is_above_and_stores_what_is_below_quietly(
    store: Store,
) -> None:
    setup(store)
    first = ingest(store, [row(9, notice=True), row(5), row(4)], complete=False, backfill=1)
    assert first.baseline and pending(store) == {"team-mail": ["5"]}
    later = ingest(store, [row(9, notice=True), row(7), row(6), row(5), row(4), row(3), row(2)])
    assert list(later.new) == ["7", "6", "3", "2"] and later.quiet == 2
    assert pending(store) == {"team-mail": ["7", "6", "5"]}
    assert not ingest(store, [row(8), row(7)]).baseline


@pytest.mark.parametrize(
    ("keyword", "title", "hit"),
    [
        ("탄소중립", "탄소 중립 실천 주간", True),
        ("탄소 중립", "탄소중립 실천 주간", True),
        ("탄소중립", "탄소·중립 실천", True),
        ("ESG", "ＥＳＧ 경영 공시", True),
        ("esg", "ESG경영", True),
        ("탄소중립", unicodedata.normalize("NFD", "탄소중립 안내"), True),  # pasted decomposed
        ("R&D", "r & d 지원 사업", True),
        ("수소", "탄소 중립", False),
        ("·", "탄소·중립", False),  # a keyword of punctuation alone matches nothing
    ],
)
def test_keywords_match_as_people_write_them(keyword: str, title: str, hit: bool) -> None:
    spec = ledger.SubscriberSpec("team", [], keywords=[keyword])
    post = {"title": title, "summary": None}
    assert ledger.matches(spec, post) is hit  # type: ignore[arg-type]


def test_posts_under_new_links_with_stored_titles_and_dates_are_a_rekeying_not_news(
    store: Store,
) -> None:
    setup(store)
    ingest(store, [row(n, f"소식 {n}") for n in range(1, 9)])
    rows = [row(100 + n, f"소식 {n}") for n in range(1, 9)]  # every link changed
    with store.read() as s:
        sample = posts.moved_sample(s, "esg", rows, {r["key"] for r in rows})
    assert len(sample) == 2 and {old.key for old in sample} <= {str(n) for n in range(1, 9)}
    moved = ingest(store, rows, links_gone=True)  # … and their old links were shown gone
    assert moved.moved == 8 and not moved.new and pending(store) == {}
    assert not ingest(store, [row(100 + n, f"소식 {n}") for n in range(1, 9)]).new


def test_posts_like_stored_ones_whose_old_links_still_answer_are_news(store: Store) -> None:
    setup(store)
    ingest(store, [row(n, f"소식 {n}") for n in range(1, 9)])
    result = ingest(store, [row(100 + n, f"소식 {n}") for n in range(1, 9)])  # not shown gone
    assert result.moved == result.unsure == 0 and len(result.new) == 8
    assert len(pending(store)["team-mail"]) == 8


def test_new_posts_titled_like_posts_still_listed_are_news(store: Store) -> None:
    """A board that posts "일일 현황" five times a day: the earlier ones are still listed under
    their own keys, so the new ones are posts of their own."""
    setup(store)
    ingest(store, [row(n, "일일 현황") for n in range(1, 6)])
    fresh = [row(n, "일일 현황") for n in range(6, 11)]
    with store.write() as s:
        result = posts.ingest(
            s,
            "esg",
            fresh,
            complete=True,
            backfill=0,
            now=T0 + timedelta(hours=1),
            listed={str(n) for n in range(1, 11)},
        )
    assert result.moved == result.unsure == 0 and len(result.new) == 5
    assert pending(store) == {"team-mail": ["6", "7", "8", "9", "10"]}


MAIL, SLACK = "mailto://bw:****@smtp.example.com/team@example.com", "slack://T...1/B...2/x...3/"


def answer(store: Store, target: str, accepted: bool) -> None:
    with store.write() as s:
        (batch,) = [b for b in ledger.pending(s) if b.masked == target]
        record(s, batch, None if accepted else "451 try later")


def test_an_edited_target_inherits_what_the_one_it_replaces_owed_and_nothing_else(
    store: Store,
) -> None:
    setup(store, sub("team", MAIL, SLACK))
    ingest(store, [row(1)])
    for n in (2, 3):
        ingest(store, [row(n)])
        answer(store, MAIL, False)  # the mail server refuses
        answer(store, SLACK, True)
    rotated = SLACK.replace("x...3", "y...4")  # the Slack webhook rotated: it owes nothing
    setup(store, sub("team", MAIL, rotated))
    assert pending(store) == {MAIL: ["3", "2"]}
    fixed = MAIL.replace("smtp.example.com", "smtp2.example.com")  # and the mail fixed
    newer = SLACK.replace("x...3", "z...5")
    setup(store, sub("team", fixed, newer))  # both at once: each from the one it replaces
    assert pending(store) == {fixed: ["3", "2"]}
    extra = "slack://T...1/B...2/w...6/"
    setup(store, sub("team", fixed, newer, extra))  # one added: what the subscriber still owes
    assert pending(store) == {fixed: ["3", "2"], extra: ["3", "2"]}


def test_a_subscriber_removed_and_added_again_gets_no_history(store: Store) -> None:
    setup(store, sub("team", MAIL))
    ingest(store, [row(1)])
    ingest(store, [row(2)])
    answer(store, MAIL, False)
    setup(store, sub("other", "slack://T...7/B...8/q...9/"))  # "team" removed months ago
    assert "team" not in {b.subscriber for b in store_batches(store)}
    again = "mailto://bw:****@smtp.example.com/new@example.com"
    setup(store, sub("other", "slack://T...7/B...8/q...9/"), sub("team", again))
    assert pending(store) == {}


def store_batches(store: Store) -> list[ledger.Batch]:
    with store.write() as s:
        return ledger.pending(s)


def test_an_edit_synced_while_a_crawl_is_stored_loses_no_entry(store: Store) -> None:
    """PostgreSQL, two workers: one stores a crawl (queueing post 2 for target A) while the
    other syncs the edit A -> A2. The sync waits for the crawl, then A2 inherits post 2."""
    if not dialect.row_locks(store.engine):
        pytest.skip("SQLite writers take turns on the whole file: nothing to race")
    import threading

    from sqlalchemy import text

    setup(store, sub("team", MAIL))
    ingest(store, [row(1)])
    edited = MAIL.replace("smtp.example.com", "smtp2.example.com")
    with store.write() as crawl:
        posts.ingest(crawl, "esg", [row(2), row(1)], complete=True, backfill=0, now=T0)
        syncing = threading.Thread(target=setup, args=(store, sub("team", edited)))
        syncing.start()
        with store.engine.connect() as look:  # until the sync waits for the crawl (or is done)
            waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            while syncing.is_alive() and not look.execute(text(waiting)).scalar():
                look.rollback()
    syncing.join(timeout=30)
    assert not syncing.is_alive() and pending(store) == {edited: ["2"]}


def test_a_marker_word_that_comes_or_goes_is_no_change(store: Store) -> None:
    """A board writing "N" into the title's own text drops it a day later; a title stored cut
    by an older version ("What's") is completed as the board shows it — no update sent."""
    setup(store, sub("updates", include_updates=True))
    ingest(store, [row(1, "폭염 대비 안내 N"), row(2, "What's")])
    later = ingest(store, [row(1, "폭염 대비 안내"), row(2, "What's New")])
    assert not later.retitled and pending(store) == {}
    lookup = posts.Lookups(store)
    assert {k: v.title for k, v in lookup("esg", ["1", "2"]).items()} == {
        "1": "폭염 대비 안내",
        "2": "What's New",
    }
    lookup.close()
    assert ingest(store, [row(1, "폭염 대비 안내 (연장)")]).retitled  # a real change still is


def read_ahead(store: Store) -> posts.Lookups:
    lookup = posts.Lookups(store)
    with store.read() as session:
        lookup.preload(["esg"], session)
    return lookup


def test_a_quiet_page_is_answered_from_what_was_read_ahead(store: Store) -> None:
    setup(store)
    ingest(store, [row(1, notice=True)])  # a notice, pinned above every later post
    ingest(store, [row(k) for k in range(posts.Lookups.HEAD + 30, 1, -1)])
    ingest(store, [row(500, alias="/free/slug/")])
    lookup = read_ahead(store)
    newest = [str(k) for k in range(posts.Lookups.HEAD + 30, posts.Lookups.HEAD, -1)]
    found = lookup.known("esg", ["500", *newest, "1"], ["/free/slug/"])
    assert found is not None and set(found) == {"500", *newest, "1", "/free/slug/"}
    assert found["/free/slug/"].key == "500" and found["1"].settled
    assert lookup.asked == 0
    # a key not read ahead may be an older post: that page asks the store
    assert lookup.known("esg", ["500", "2"]) is None
    assert set(lookup("esg", ["500", "2"])) == {"500", "2"} and lookup.asked == 1


def test_a_board_read_ahead_whole_knows_a_new_key_is_new(store: Store) -> None:
    setup(store)
    ingest(store, [row(2), row(1)])
    lookup = read_ahead(store)
    assert set(lookup.known("esg", ["3", "2", "1"]) or ["asked"]) == {"2", "1"}
    assert lookup.known("esg", ["3"], ["/free/new-slug/"]) == {}
