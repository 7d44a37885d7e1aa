"""How a board's pages turn, as its own pager says: the numbered links, the next link (다음,
next, ›, 더보기), and the script or form they call (eGov's `fn_egov_link_page(2)` filling
`pageIndex`). Whatever the parameter is called — `page`, `pageIndex`, `cpage`, `board_page`,
`pageid`, an offset like `start=20`, or a path segment (`/notice/page/2/`) — the pager's links show
it: the part of their address that follows the page number is how pages turn (`Turn`).

A pager's word is still checked by the walk (a page that only repeats one walked already is no
page); a profile's `page_param` is used only where the page shows no pager at all.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from itertools import chain, islice
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

from scraper.keys import calls
from scraper.navigation import build, script_urls
from scraper.text import Element, classes, visible
from scraper.vocabulary import Vocabulary

# A pager's container says so in its class or id: paging, pagination, pg_wrap, page-numbers …
_PAGERISH = re.compile(r"pag|(?:^|[-_])pg(?:$|[-_])|navi|pager|paginat|num_?box", re.IGNORECASE)
_NUMBER = re.compile(r"^[\[(]?\s*(\d{1,5})\s*[\])]?\s*(?:페이지|page)?$", re.IGNORECASE)
# A link that goes one page on (its words, its class, its icon's alt), and one that goes to the
# end (its target says only that there is more; its number is read by the pager's `Turn`).
_NEXT_WORDS = re.compile(
    r"^(?:다음|다음\s*페이지|다음\s*목록|next|next\s*page|›|>|▶|▷|더\s*보기|more|load\s*more|"
    r"다음\s*[>›]|next\s*[>›])$",
    re.IGNORECASE,
)
_LAST_WORDS = re.compile(
    r"^(?:맨\s*끝|끝|끝\s*페이지|마지막|마지막\s*페이지|last|last\s*page|»|>>|≫|▶▶)$", re.IGNORECASE
)
_NEXT_CLASS = re.compile(r"(?:^|[-_])(?:next|more)(?:$|[-_]|page)", re.IGNORECASE)
_LAST_CLASS = re.compile(r"(?:^|[-_])(?:last|end)(?:$|[-_]|page)", re.IGNORECASE)
_PAGE_NAME = re.compile(r"page|pg|^p$|^pn$|^cp$|offset|start", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """Where page N is: `address` with one part — a query parameter (`name`) or a path segment
    (`segment`, its index) — set to `scale` × N + `offset` (a page number: 1 × N + 0)."""

    address: str
    name: str | None = None
    segment: int | None = None
    scale: int = 1
    offset: int = 0

    def url(self, page: int) -> str:
        value = str(self.scale * page + self.offset)
        parts = urlsplit(self.address)
        if self.name is not None:
            pairs = [_set(pair, self.name, value) for pair in parts.query.split("&")]
            return urlunsplit(parts._replace(query="&".join(pairs)))
        segments = parts.path.split("/")
        segments[self.segment or 0] = value
        return urlunsplit(parts._replace(path="/".join(segments)))

    def page_of(self, url: str) -> int | None:
        """The page number an address names under this turn (None: not one of its pages)."""
        value = _part(urlsplit(url), self.name, self.segment)
        if value is None or not value.isdigit() or (int(value) - self.offset) % self.scale:
            return None
        return (int(value) - self.offset) // self.scale

    def describe(self) -> str:
        """`?cpage=N`, `?start=20×N−20`, `/notice/page/N/`: how a person would say it."""
        value = "N" if (self.scale, self.offset) == (1, 0) else f"{self.scale}×N{self.offset:+d}"
        value = value.replace("-", "−")
        if self.name is not None:
            return f"?{self.name}={value}"
        segments = urlsplit(self.address).path.split("/")
        segments[self.segment or 0] = value
        return "/".join(segments)


def _set(pair: str, name: str, value: str) -> str:
    key, sep, _ = pair.partition("=")
    return f"{key}={value}" if sep and key == name else pair


def _part(parts: SplitResult, name: str | None, segment: int | None) -> str | None:
    if name is not None:
        for pair in parts.query.split("&"):
            key, sep, value = pair.partition("=")
            if sep and key == name:
                return value
        return None
    segments = parts.path.split("/")
    return segments[segment] if segment is not None and segment < len(segments) else None


@dataclass(frozen=True)
class Pager:
    """What one list page's pager says: the pages it links (number -> address), how pages turn
    (when its links show it), whether it shows a page past this one, and the address of its next
    link when nothing better says where the next page is."""

    page: int = 1  # the page it is on
    links: Mapping[int, str] = field(default_factory=dict)
    turn: Turn | None = None
    more: bool = False  # a page beyond the current one exists, as the pager shows it
    next_url: str | None = None  # the next link's address (its number unknown)
    furthest: int = 0  # the furthest page it shows exists (0: this one)

    def url(self, page: int) -> str | None:
        """Page `page`'s address as this pager says it (None: it does not say)."""
        if page in self.links:
            return self.links[page]
        if self.turn is not None:
            return self.turn.url(page)
        return self.next_url if page == self.page + 1 else None

    def describe(self) -> str:
        if self.turn is not None:
            return f"{self.turn.describe()} (from the pager)"
        if self.next_url is not None:
            return f"the pager's next link ({self.next_url})"
        return "the pager's links"


@dataclass
class _Link:
    element: Element
    number: int | None  # the page number its text shows
    step: str | None  # "next" or "last": a link that goes on, not to a numbered page
    url: str | None
    live: bool = True  # it goes somewhere when clicked (a disabled arrow has no href, no script)


def read_pager(
    root: Element, base_url: str, page: int, rows: Iterable[Element], words: Vocabulary
) -> Pager | None:
    """The pager of a list page showing page `page` (None: the page shows none). `rows`: the
    list's rows, whose links are posts, never pages; `words`: the profile's (what is hidden)."""
    links = _candidates(root, base_url, set(rows), words.hidden)
    holder, group = _pager_group([link for link in links if link.number is not None])
    found = {link.number: link.url for link in group if link.url and link.number}
    turn = _learn(found)
    steps = [link for link in links if link.step and _beside(link, holder, base_url)]
    if not steps and not turn and not (holder is not None and _says_pager(holder)):
        return None  # numbers in a row of links, nothing saying they are pages
    beyond = [link.number for link in group if link.number and link.number > page]
    onward = False  # a live next/last link whose page cannot be told: the board goes on
    for link in (link for link in steps if link.live):
        target = turn.page_of(link.url) if turn and link.url else None
        beyond += [target] if target is not None and target > page else []
        onward = onward or target is None
    nexts = [link.url for link in steps if link.step == "next" and link.url]
    next_url = nexts[0] if nexts and turn is None and page + 1 not in found else None
    furthest = max([page + onward, *beyond])
    return Pager(page, found, turn, bool(beyond) or onward, next_url, furthest)


def _candidates(root: Element, base_url: str, rows: set[Element], unseen: Set[str]) -> list[_Link]:
    """Every link outside the list's rows that shows a page number or says it goes on."""
    scripts: dict[str, str] | None = None
    found = []
    for element in root.iter("a", "button"):
        if rows and any(ancestor in rows for ancestor in element.iterancestors()):
            continue
        number, step = _meaning(element, unseen)
        if number is None and step is None:
            continue
        if scripts is None:
            scripts = script_urls(root, own_action=True)
        url = _target(element, base_url, scripts)
        found.append(_Link(element, number, step, url, url is not None or _clickable(element)))
    return found


def _meaning(element: Element, unseen: Set[str]) -> tuple[int | None, str | None]:
    text = visible([element], unseen) if len(element) else " ".join((element.text or "").split())
    match = _NUMBER.match(text)
    if match and int(match[1]) > 0:
        return int(match[1]), None
    words = [text, element.get("title") or "", element.get("aria-label") or ""]
    words += [img.get("alt") or "" for img in element.iter("img")]
    words = [" ".join(word.split()) for word in words if word.strip()]
    tokens = (
        classes(element) + classes(element.getparent()) if element.getparent() is not None else []
    )
    if any(_LAST_WORDS.match(word) for word in words) or any(_LAST_CLASS.search(t) for t in tokens):
        return None, "last"
    if any(_NEXT_WORDS.match(word) for word in words) or any(_NEXT_CLASS.search(t) for t in tokens):
        return None, "next"
    return None, None


def _target(element: Element, base_url: str, scripts: Mapping[str, str]) -> str | None:
    """Where a click on the link goes: the page's own function it calls (which wins: its
    `return false` keeps the browser from the `href`), else its `href`."""
    href = (element.get("href") or "").strip()
    codes = [element.get("onclick") or ""]
    if href.lower().startswith("javascript:"):
        codes.append(href[len("javascript:") :])
    for code in codes:
        for name, args in calls(code):
            if name in scripts and (url := build(scripts[name], args)):
                return str(urljoin(base_url, url))
    if not href or href.startswith("#") or href.lower().startswith("javascript:"):
        return None
    return str(urljoin(base_url, href))


_DEPTH = 6  # how far above a link its pager's container may be


def _clickable(element: Element) -> bool:
    """Does a link with no address we can follow still do something (a script of its own)?"""
    href = (element.get("href") or "").strip().lower()
    code = href.removeprefix("javascript:").strip("; ") if href.startswith("javascript:") else ""
    return bool((element.get("onclick") or "").strip()) or code not in ("", "void(0)")


def _pager_group(numbered: list[_Link]) -> tuple[Element | None, list[_Link]]:
    """The numbered links that are the pager, and the element holding them: links are grouped
    by the nearest element holding two or more of them; the group whose element (or one just
    above it) says pager wins, else the largest."""
    counts: Counter[Element] = Counter()
    for link in numbered:
        counts.update(islice(link.element.iterancestors(), _DEPTH))
    groups: dict[Element, list[_Link]] = {}
    for link in numbered:
        above = list(islice(link.element.iterancestors(), _DEPTH)) or [link.element]
        shared = next((node for node in above if counts[node] >= 2), None)
        if shared is None:  # a lone page link: held by the pager element around it, if any
            shared = next((node for node in above if _pagerish(node)), above[0])
        groups.setdefault(shared, []).append(link)
    if not groups:
        return None, []
    return max(groups.items(), key=lambda item: (_says_pager(item[0]), len(item[1])))


def _says_pager(holder: Element) -> bool:
    """Does the element holding page links, or one just above it, say it is a pager?"""
    return any(_pagerish(node) for node in islice(chain([holder], holder.iterancestors()), 4))


def _pagerish(element: Element) -> bool:
    return bool(_PAGERISH.search(f"{element.get('class') or ''} {element.get('id') or ''}"))


def _beside(link: _Link, holder: Element | None, base_url: str) -> bool:
    """Is a next/last link the pager's: beside its numbered links, else inside an element whose
    class says pager, else an address that is this list's with only a page number changed (a
    "더보기" under a card list) — never another board's "more" link."""
    if holder is not None:
        scopes = {holder, holder.getparent()}
        return any(ancestor in scopes for ancestor in link.element.iterancestors())
    if any(_pagerish(node) for node in link.element.iterancestors()):
        return True
    return link.url is not None and _turned(base_url, link.url)


def _turned(base_url: str, url: str) -> bool:
    """Is `url` the list at `base_url` with one number changed or added (its page)?"""
    a, b = urlsplit(base_url), urlsplit(url)
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        return False
    old = dict(pair.partition("=")[::2] for pair in a.query.split("&") if pair)
    new = dict(pair.partition("=")[::2] for pair in b.query.split("&") if pair)
    changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
    if a.path == b.path:
        return len(changed) == 1 and new.get(changed.pop(), "").isdigit()
    same, other = a.path.rstrip("/").split("/"), b.path.rstrip("/").split("/")
    extra = other[len(same) :] if other[: len(same)] == same else []
    return not changed and 0 < len(extra) <= 2 and extra[-1].isdigit()


def _learn(links: Mapping[int, str]) -> Turn | None:
    """How pages turn, from the pager's numbered links: the one part of their address that
    follows the page number (page 1's link, often the bare list address, is used only when no
    other page shows it)."""
    sample = {n: url for n, url in links.items() if n >= 2} or dict(links)
    if not sample:
        return None
    turns = [
        turn for turn in _guesses(sample) if all(turn.url(n) == url for n, url in sample.items())
    ]
    if not turns:
        return None
    return max(turns, key=_preference)


def _preference(turn: Turn) -> tuple[bool, bool, bool]:
    return (
        bool(turn.name and _PAGE_NAME.search(turn.name)),
        turn.name is not None,
        turn.scale == 1,
    )


def _guesses(sample: Mapping[int, str]) -> Iterable[Turn]:
    """Every part of the sample's addresses whose value follows the page number."""
    first = min(sample)
    address = sample[first]
    parts = urlsplit(address)
    names = [pair.partition("=")[0] for pair in parts.query.split("&") if "=" in pair]
    spots: list[tuple[str | None, int | None]] = [(name, None) for name in names]
    spots += [(None, i) for i, _ in enumerate(parts.path.split("/"))]
    for name, segment in spots:
        values = {n: _part(urlsplit(url), name, segment) for n, url in sample.items()}
        if not all(value is not None and value.isdigit() for value in values.values()):
            continue
        for scale, offset in _fits({n: int(v) for n, v in values.items()}):  # type: ignore[arg-type]
            yield Turn(address, name, segment, scale, offset)


def _fits(values: Mapping[int, int]) -> list[tuple[int, int]]:
    """(scale, offset) with value = scale × page + offset for every page: a page number, or an
    offset that grows by a page's worth of rows (`start=20` on page 2)."""
    pages = sorted(values)
    if len(pages) == 1:
        (n,) = pages
        value = values[n]
        found = [(1, value - n)] if value == n else []
        if n > 1 and value and value % (n - 1) == 0 and value != n:
            found.append((value // (n - 1), -(value // (n - 1))))  # offsets from 0 on page 1
        return found
    a, b = pages[0], pages[1]
    scale, rest = divmod(values[b] - values[a], b - a)
    if rest or scale <= 0:
        return []
    offset = values[a] - scale * a
    fits = all(values[n] == scale * n + offset for n in pages)
    return [(scale, offset)] if fits and offset > -scale - 1 and offset < scale * 2 else []


@dataclass(frozen=True)
class Paging:
    """How one walk turns its pages: what the pagers of the pages it walked said, merged — the
    pages they link, how pages turn, the furthest page one showed exists — and the profile's
    `page_param` address for a board whose pages show no pager."""

    fallback: Turn
    links: Mapping[int, str] = field(default_factory=dict)
    turn: Turn | None = None
    shown: bool = False  # some page showed a pager
    promised: int = 1  # the furthest page a pager showed exists
    next_link: tuple[int, str] | None = None  # the latest pager's next link: (its page, address)

    def after(self, pager: Pager | None) -> Paging:
        """This paging, with what one more page's pager says."""
        if pager is None:
            return self
        furthest = max([pager.page + pager.more, pager.furthest, *pager.links])
        nxt = (pager.page + 1, pager.next_url) if pager.next_url else self.next_link
        return Paging(
            self.fallback,
            {**self.links, **pager.links},
            self.turn or pager.turn,
            True,
            max(self.promised, furthest),
            nxt,
        )

    def url(self, page: int) -> str:
        """Page `page`'s address: as a pager linked it, as its links show pages turn, as its next
        link goes; else (no pager, or one whose links cannot be followed) by `page_param`."""
        if page in self.links:
            return self.links[page]
        if self.turn is not None:
            return self.turn.url(page)
        if self.next_link is not None and self.next_link[0] == page:
            return self.next_link[1]
        return self.fallback.url(page)

    def knows(self, page: int) -> bool:
        """Does a pager say page `page` is there and where (to read it ahead)? Without any
        pager, the profile's parameter is the guess a walk reads ahead by, as it always did."""
        if not self.shown:
            return True
        return page <= self.promised and (page in self.links or self.turn is not None)

    def describe(self) -> str:
        if self.turn is not None:
            return f"{self.turn.describe()} (from the pager)"
        if self.next_link is not None:
            return f"the pager's next link ({self.next_link[1]})"
        how = f"{self.fallback.describe()} (the profile's page_param"
        return how + ("; the pager's links cannot be followed)" if self.shown else "; no pager)")


def paging_for(url: str, param: str) -> Paging:
    """A walk's paging before any pager is read: `param` set on the board's address."""
    parts = urlsplit(url)
    pairs = [p for p in parts.query.split("&") if p and p.partition("=")[0] != param]
    address = urlunsplit(parts._replace(query="&".join([*pairs, f"{param}=1"])))
    return Paging(Turn(address, param))
