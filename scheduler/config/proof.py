"""What `scrape check` proves beyond the file's form: that the config runs. Every digest, subject
and alert template (built-in and the user's overrides) renders a sample digest in every medium;
the SQLite database is a file boardwatch can create or a database it can open; the metrics file
and the feeds folder can be written. A config `check` passes does not fail the first run for a
config reason (`benchmarks/config_fuzz.py` sweeps it)."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from notify.views import BoardAlert
from scheduler.config import Config, ConfigError

SQLITE_HEADER = b"SQLite format 3\x00"


def prove(cfg: Config) -> None:
    """Raise `ConfigError` naming the key where a run would fail on this config."""
    _templates(cfg)
    _database(cfg)
    if cfg.metrics.textfile:
        _writable(cfg, "metrics.textfile", Path(cfg.metrics.textfile).parent)
    if cfg.feeds.folder:
        _writable(cfg, "feeds.folder", Path(cfg.feeds.folder))


def _templates(cfg: Config) -> None:
    from notify.digest import Renderer, TemplateFailed, build
    from notify.media import MEDIA
    from notify.unsubscribe import Leave

    renderer = Renderer(cfg.notify.templates or None)
    leave = Leave(link="https://a.kr/unsubscribe/x", hint="구독을 멈추려면 관리자에게 알려 주세요")
    context = build(
        "sample", _sample(), datetime.now(UTC), links={"sample": "https://a.kr/b"}, leave=leave
    )
    try:
        for medium in MEDIA:
            renderer.digest(context, medium)
        renderer.alert(_alert(), datetime.now(UTC))
    except TemplateFailed as failed:
        key = "notify.templates" if cfg.notify.templates else "templates"
        raise ConfigError(
            cfg.path, key, f"{failed.template} cannot be rendered: {failed.reason}"
        ) from None


def _sample() -> list:  # type: ignore[type-arg]
    """Entries as a digest carries them: a new post, a title change, text a board could send."""
    post = {
        "id": 1,
        "board": "sample",
        "board_title": "보기 게시판",
        "key": "1",
        "number": "1",
        "title": "보기 글 <b>&amp; [1]",
        "url": "https://a.kr/b?no=1",
        "author": "관리자",
        "date": date(2026, 1, 2),
        "views": 1,
        "new_marker": True,
        "notice": False,
        "summary": "본문",
        "department": "기후정책과",
        "organisation": "환경부",
        "source_url": "https://a.kr/s",
        "attachments": [{"name": "붙임.hwp", "url": "https://a.kr/f"}],
        "posted_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "first_seen": datetime(2026, 1, 2, 3, 5, tzinfo=UTC),
        "entry_id": 1,
        "attempts": 0,
        "updated": False,
        "old_title": None,
    }
    update = {**post, "id": 2, "key": "2", "entry_id": 2, "updated": True, "old_title": "옛 제목"}
    return [post, update]


def _alert() -> BoardAlert:
    return BoardAlert(kind="failing", board="sample", title="보기 게시판", error="x", streak=3)


def _database(cfg: Config) -> None:
    url = cfg.storage.url
    if not url.startswith("sqlite"):
        return
    path = Path(url.partition(":///")[2].split("?", 1)[0])
    try:
        if path.is_dir():
            raise ConfigError(cfg.path, "storage.url", f"{path} is a folder, not a database file")
        head = b""
        if path.exists():
            with path.open("rb") as file:
                head = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise ConfigError(cfg.path, "storage.url", f"cannot read {path}: {exc.strerror}") from None
    if head and head != SQLITE_HEADER:
        raise ConfigError(cfg.path, "storage.url", f"{path} is not a SQLite database")
    _writable(cfg, "storage.url", path.parent)


def _writable(cfg: Config, key: str, folder: Path) -> None:
    """Can a file be made in `folder` (or, where it does not exist yet, in its nearest existing
    parent)? Tried for real — an unnamed file, gone when closed — since the permission bits do
    not say it (`/proc` is "writable" by root)."""
    place = folder if str(folder) else Path(".")
    try:
        while not place.exists() and place != place.parent:
            place = place.parent
        with tempfile.TemporaryFile(dir=place):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(cfg.path, key, f"cannot write in {place}: {reason}") from None
