"""A post's identity and address, from its title link.

The key is the stable id the link carries: a query parameter (`wr_id=`, `document_srl=`, `no=` …),
an argument of the script it runs (`onclick="fn_egov_inquire_articledetail('BBS…','251')"`, or a
`javascript:fnView('251')` href), a numeric path segment (`/notice/123`), or — for a link with no
id but a path of its own (gnuboard's title short URLs) — that path. `#`, `javascript:;` and
`javascript:void(0)` carry nothing. The number column is the caller's last resort.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit

from scraper.navigation import build, form_query
from scraper.text import Element
from scraper.vocabulary import Vocabulary

_CALL = re.compile(r"([A-Za-z_$][\w$.]*)\s*\(([^()]*)\)")
_NOT_CALLS = frozenset({"void", "return", "alert", "confirm", "history.back", "event"})
_ARG = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)"|([^,'"\s][^,]*?))\s*(?:,|$)""")
_DIGITS = re.compile(r"^\d+$")
_PATH_ID = re.compile(r"/(\d+)/?$")
_NUMERIC_ARG = re.compile(r"[?&]([^=&#]+)=(\d+)(?=&|#|$)")

Kind = Literal["id", "path", "number"]


@dataclass(frozen=True)
class Key:
    value: str
    kind: Kind


@dataclass(frozen=True)
class Link:
    """What a title element points at: an address, a script, or a form's hidden fields."""

    href: str | None = None  # a real address (not a script, not "#"), made absolute
    scripts: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)  # an enclosing form's inputs
    action: str | None = None  # that form's action


def link_of(element: Element, row: Element, base_url: str) -> Link:
    href = (element.get("href") or "").strip()
    scripts = [element.get("onclick") or ""]
    parent = element.getparent()
    if parent is not None:
        scripts.append(parent.get("onclick") or "")
    scripts.append(row.get("onclick") or "")
    if href.lower().startswith("javascript:"):
        scripts.insert(0, href[len("javascript:") :])
        href = ""
    usable = _absolute(base_url, href) if href and not href.startswith("#") else None
    scripts = [s for s in scripts if s.strip()]
    form = None if usable else _form(element)
    fields, action = ({}, None) if form is None else (_form_fields(form), form.get("action"))
    return Link(usable, tuple(scripts), fields, action)


def _form(element: Element) -> Element | None:
    """The form a title link or button with no address sits in (eGov's submit buttons)."""
    return next(element.iterancestors("form"), None)


def _absolute(base_url: str, href: str) -> str:
    """`href` made absolute against the page: the common forms directly, the rest by urljoin."""
    if href.startswith(("http://", "https://")):
        return href
    origin, folder, page = _bases(base_url)
    if href.startswith("/") and not href.startswith("//"):
        return origin + href
    if href.startswith("?"):
        return page + href
    rest = href[2:] if href.startswith("./") else href
    plain = ":" not in rest.split("?", 1)[0] and "./" not in rest and "#" not in rest
    if rest and plain and not rest.startswith("/"):
        return folder + rest
    return urljoin(base_url, href)


@functools.lru_cache(maxsize=64)
def _bases(base_url: str) -> tuple[str, str, str]:
    """The page's origin (scheme://host), folder (up to the last "/") and path without query."""
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    folder = origin + parts.path[: parts.path.rfind("/") + 1] if "/" in parts.path else origin + "/"
    return origin, folder, origin + parts.path


def _form_fields(form: Element) -> dict[str, str]:
    inputs = form.iter("input")
    return {
        i.get("name", ""): i.get("value", "")
        for i in inputs
        if i.get("type", "").lower() == "hidden" and i.get("name")
    }


def calls(script: str) -> list[tuple[str, list[str]]]:
    """The function calls in a snippet of script, with their literal arguments."""
    found = []
    for match in _CALL.finditer(script):
        name = match[1]
        if name.split(".")[-1] in _NOT_CALLS or name in _NOT_CALLS:
            continue
        args = [next(g for g in m.groups() if g is not None) for m in _ARG.finditer(match[2])]
        found.append((name, [a.strip() for a in args if a.strip()]))
    return found


def script_id(scripts: tuple[str, ...]) -> tuple[str, str, int] | None:
    """(function, id, argument index) of the first call that passes a number: the last one."""
    for script in scripts:
        for name, args in calls(script):
            numbers = [i for i, arg in enumerate(args) if _DIGITS.match(arg) and arg.strip("0")]
            if numbers:
                return name, args[numbers[-1]], numbers[-1]
    return None


PATTERN_SECONDS = 0.05  # the most one match of a profile's `key` pattern may take


def matched(pattern: str, text: str) -> str | None:
    """Group 1 (or the first group that matched) of a profile's `key` pattern in `text`; a match
    that takes longer than PATTERN_SECONDS is no match (`scrape check` refuses such patterns)."""
    import regex

    try:
        found = regex.search(pattern, text, timeout=PATTERN_SECONDS)
    except TimeoutError:
        return None
    return next((g for g in found.groups() if g), None) if found else None


def key_of(link: Link, pattern: str | None, base_url: str, words: Vocabulary) -> Key | None:
    """The post's key from its link (None: the link carries none), its query read with the
    profile's `words`."""
    for text in (*link.scripts, link.href or "") if pattern else ():
        if text and (value := matched(pattern, text)):  # type: ignore[arg-type]
            return Key(value, "id")
    if found := script_id(link.scripts):
        return Key(found[1], "id")
    if link.href:
        return _href_key(link.href, base_url, words)
    return _fields_key(link.fields, words)


def _href_key(url: str, base_url: str, words: Vocabulary) -> Key | None:
    numbers = {m[1].lower(): m[2] for m in _NUMERIC_ARG.finditer(url.split("#", 1)[0])}
    if value := _query_id(numbers, words):
        return Key(value, "id")
    parts = urlsplit(url)
    if match := _PATH_ID.search(parts.path):
        return Key(match[1], "id")
    own = parts.path.rstrip("/")
    if own and own != urlsplit(base_url).path.rstrip("/"):
        return Key(unquote(own), "path")
    return None


def _query_id(query: Mapping[str, str], words: Vocabulary) -> str | None:
    """A parameter that names a post, by preference; else the last numeric one that may."""
    for name in words.id_params:
        if _DIGITS.match(query.get(name, "")):
            return query[name]
    numeric = [v for k, v in query.items() if k not in words.not_id_params and _DIGITS.match(v)]
    return numeric[-1] if numeric else None


def query_id(href: str, words: Vocabulary) -> str | None:
    """The post id in an address's query, if it has one."""
    query = urlsplit(href).query
    return _query_id({k.lower(): v for k, v in parse_qsl(query, keep_blank_values=True)}, words)


def _fields_key(fields: Mapping[str, str], words: Vocabulary) -> Key | None:
    value = _query_id({k.lower(): v for k, v in fields.items()}, words)
    return Key(value, "id") if value else None


@dataclass(frozen=True)
class Address:
    """A post's own address, and — when it was built, not read off an `href` — from what (the
    page's script, its form, or the profile's convention): a guess until its page answers."""

    url: str
    built: str | None = None


def url_of(
    link: Link,
    key: Key,
    base_url: str,
    template: str | None,
    scripts: Mapping[str, str],
    words: Vocabulary,
) -> Address | None:
    """The post's own address (never the list page); None when it cannot be known. What the
    page says — its link, its own script, its form — comes before the profile's convention."""
    found: Address | None = None
    if link.href and (key.kind != "id" or key.value in link.href or not template):
        found = Address(link.href)
    elif (call := _script_call(link, scripts)) is not None:
        name, args = call
        url = build(scripts[name], args)
        found = Address(urljoin(base_url, url), f"{name}() → {scripts[name]}") if url else None
    if found is None and link.fields and link.action and not (link.href or link.scripts):
        url = f"{link.action}?{urlencode(form_query(link.fields))}"
        found = Address(urljoin(base_url, url), f"its form → {link.action}")
    if found is None and template and (url := _templated(template, key, base_url, link, words)):
        found = Address(url, f"the profile's link = {template!r}")
    return None if found is None or _same_page(found.url, base_url) else found


def _script_call(link: Link, scripts: Mapping[str, str]) -> tuple[str, list[str]] | None:
    """The call in the link's script to a function the page defines to open a post."""
    for script in link.scripts:
        for name, args in calls(script):
            if name in scripts:
                return name, args
    return None


def _templated(template: str, key: Key, base_url: str, link: Link, words: Vocabulary) -> str | None:
    fields = dict(parse_qsl(urlsplit(base_url).query))
    fields.update(link.fields)
    for script in link.scripts:
        for _, args in calls(script):
            fields.update(_script_fields(args, words))
    try:
        return urljoin(base_url, template.format(**{**fields, "key": key.value}))
    except (KeyError, IndexError, ValueError):
        return None


def _script_fields(args: list[str], words: Vocabulary) -> dict[str, str]:
    """The link's fields a script's arguments carry (eGov's `BBSMSTR_…` board id: `bbsId`)."""
    found: dict[str, str] = {}
    for name, prefix in words.script_fields:
        matching = [a for a in args if a.startswith(prefix)]
        if matching:
            found[name] = matching[0]
    return found


def _same_page(url: str, base_url: str) -> bool:
    if _query(url) != _query(base_url):
        return False
    a, b = urlsplit(url), urlsplit(base_url)
    return (a.netloc, a.path.rstrip("/"), a.query) == (b.netloc, b.path.rstrip("/"), b.query)


def _query(url: str) -> str:
    return url.split("#", 1)[0].partition("?")[2]


SELF_LINKS = (
    "//link[@rel='canonical']/@href | //meta[@property='og:url']/@content"
    " | //link[@rel='shortlink']/@href"
)


def page_id(
    root: Element, page_url: str, words: Vocabulary, own: Callable[[str], bool] = lambda url: True
) -> str | None:
    """The id a post's own page carries — a hidden field of its forms, its canonical address or
    shortlink (on the board's own site, `own`: another site's address says nothing of it), the
    links of its own actions (reply, edit) — when it says so unambiguously."""
    return (
        _field_id(root, words)
        or _self_link_id(root, page_url, own, words)
        or _action_id(root, words)
    )


def _field_id(root: Element, words: Vocabulary) -> str | None:
    values: dict[str, set[str]] = {}
    for field_ in root.iter("input"):
        name, value = (field_.get("name") or "").lower(), (field_.get("value") or "").strip()
        if name in words.id_fields and _DIGITS.match(value) and value.strip("0"):
            values.setdefault(name, set()).add(value)
    found = [next(iter(values[n])) for n in words.id_fields if len(values.get(n, ())) == 1]
    return found[0] if found else None


def _self_link_id(
    root: Element, page_url: str, own: Callable[[str], bool], words: Vocabulary
) -> str | None:
    for href in root.xpath(SELF_LINKS):
        url = _absolute(page_url, str(href).strip())
        key = _href_key(url, "", words) if url.startswith("http") and own(url) else None
        if key is not None and key.kind == "id":
            return key.value
    return None


def _action_id(root: Element, words: Vocabulary) -> str | None:
    found = set()
    for link in root.iter("a"):
        query = {k.lower(): v for k, v in parse_qsl(urlsplit(link.get("href") or "").query)}
        if words.action_params & set(query) and (value := _query_id(query, words)):
            found.add(value)
    return found.pop() if len(found) == 1 else None


def site_of(url: str) -> str:
    """A URL's site, `scheme://host[:port]`: what politeness and robots.txt are kept per."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a broken host: the URL up to its path stands for it
        return "/".join(url.split("/", 3)[:3])
    return f"{parts.scheme}://{parts.netloc}"
