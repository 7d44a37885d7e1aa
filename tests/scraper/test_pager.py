"""Pagers as the engines print them (tests/fixtures/pagers/cases.json): each must yield the next
page's address, say whether the board goes on, and say how its pages turn."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from scraper.pager import Pager, read_pager
from scraper.parse import read_list
from scraper.profiles import BUILTIN
from scraper.text import tree
from scraper.vocabulary import vocabulary

FOLDER = Path(__file__).parent.parent / "fixtures" / "pagers"
CASES: list[dict[str, Any]] = json.loads((FOLDER / "cases.json").read_text("utf-8"))


def pager_of(case: dict[str, Any]) -> Pager | None:
    root = tree((FOLDER / case["file"]).read_text("utf-8"))
    listed = read_list(root, case["url"], BUILTIN["auto"], datetime(2026, 12, 6))
    rows, words = [s.node for s in listed.skims], vocabulary(BUILTIN["auto"])
    return read_pager(root.root, case["url"], case["page"], rows, words)


def test_the_corpus_holds_the_pagers_of_every_kind_the_walk_must_follow() -> None:
    assert len([case for case in CASES if case.get("pager", True)]) >= 8


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_each_pager_yields_the_next_page_and_how_pages_turn(case: dict[str, Any]) -> None:
    pager = pager_of(case)
    if not case.get("pager", True):
        assert pager is None
        return
    assert pager is not None
    assert pager.more is case["more"]
    if pager.more:
        assert pager.url(case["page"] + 1) == case["next"]
    assert case["how"] in pager.describe()
    if "ahead" in case:  # pages beyond those it links, where the walk reads ahead
        assert pager.url(case["page"] + 4) == case["ahead"]
