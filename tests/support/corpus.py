"""The markup corpus (`tests/fixtures/corpus/`, see its README): list-page cases, post-page
cases, and a case's page as the spider receives it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy.http import HtmlResponse

CORPUS = Path(__file__).parents[1] / "fixtures" / "corpus"
CASES: list[dict[str, Any]] = json.loads((CORPUS / "cases.json").read_text(encoding="utf-8"))
DETAILS: list[dict[str, Any]] = json.loads((CORPUS / "details.json").read_text(encoding="utf-8"))
POSTS: list[dict[str, Any]] = json.loads((CORPUS / "posts.json").read_text(encoding="utf-8"))


def case(file: str) -> dict[str, Any]:
    """The list-page case of one corpus file (`esg/no_classes.html`)."""
    return next(c for c in CASES if c["file"] == file)


def response(case: dict[str, Any], body: bytes | None = None) -> HtmlResponse:
    """The case's page (or `body` in its place) as served from the case's URL."""
    return HtmlResponse(
        url=case["url"], body=(CORPUS / case["file"]).read_bytes() if body is None else body
    )
