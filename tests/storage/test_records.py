"""One definition of a post (`records.post`): the store keeps every field it declares, and gives
each back, to the digest and to `scrape posts --json`, as it was read."""

from __future__ import annotations

from datetime import UTC, date, datetime

from records.post import POST_FIELDS, ReadPost, StoredPost
from storage import Store, ledger, posts
from storage.models import Post

T0 = datetime(2025, 7, 23, 0, 0, tzinfo=UTC)


def read(key: str) -> ReadPost:
    return ReadPost(
        key=key,
        number=key,
        title=f"탄소중립 {key}",
        url=f"http://b/view?no={key}",
        author="환경부",
        date=date(2025, 7, 22),
        views=12,
        new_marker=True,
        notice=False,
        summary="요약",
        department="기후변화대응과",
        organisation="환경부",
        source_url="https://me.go.kr/1",
        attachments=[{"name": "공고문.hwp", "url": "http://b/down?no=1"}],
        posted_at=datetime(2025, 7, 22, 6, 16, tzinfo=UTC),
    )


def test_every_field_of_a_post_has_its_column() -> None:
    columns = set(Post.__table__.columns.keys())
    assert set(POST_FIELDS) <= columns, set(POST_FIELDS) - columns


def test_a_stored_post_gives_back_every_field_as_it_was_read(store: Store) -> None:
    with store.write() as s:
        posts.sync_boards(s, {"esg": "ESG 정책뉴스"})
        ledger.sync_subscribers(
            s, [ledger.SubscriberSpec("team", [ledger.TargetSpec("mail", "mail")])], T0
        )
    first, second = read("2"), read("1")
    with store.write() as s:
        posts.ingest(s, "esg", [first, second], complete=True, backfill=2, now=T0)
    with store.read() as s:
        listed = posts.listing(s, "esg", None)
        owed = [entry for batch in ledger.pending(s) for entry in batch.entries]
    assert set(listed[0]) == set(StoredPost.__annotations__)
    assert [{k: p[k] for k in POST_FIELDS} for p in listed] == [first, second]  # type: ignore[literal-required]
    assert [{k: e[k] for k in POST_FIELDS} for e in owed] == [first, second]  # type: ignore[literal-required]
    assert {p["board"] for p in listed} == {"esg"} and listed[0]["first_seen"] == T0
