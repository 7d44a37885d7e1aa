"""Visible text of HTML elements (lxml), as a reader sees it: screen-reader-only, mobile-only,
script and menu text left out, whitespace folded."""

from __future__ import annotations

import re
from collections.abc import Iterable, Set
from typing import TYPE_CHECKING, Any, TypeAlias

from lxml import etree
from parsel import Selector

if TYPE_CHECKING:  # lxml ships no type information
    Element: TypeAlias = Any
else:
    Element = etree._Element


def is_element(item: object) -> bool:
    return isinstance(item, etree._Element)


SPACE = re.compile(r"\s+")
_MENU = re.compile(r"(?:^|[-_])menu$")  # a drop-down beside a name, a site menu
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "select", "option"})


def visible(items: Iterable[object], unseen: Set[str]) -> str:
    """The visible text of elements (and strings, from XPath text()), whitespace folded;
    `unseen`: the classes whose text a reader does not see (`Vocabulary.hidden`: the engine's)."""
    parts: list[str] = []
    for item in items:
        if isinstance(item, str):
            parts.append(item)
        elif is_element(item) and not hidden(item, unseen):
            _walk(item, parts, unseen)
    return SPACE.sub(" ", " ".join(parts)).strip()


def _walk(element: Element, parts: list[str], unseen: Set[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        if isinstance(child.tag, str) and not hidden(child, unseen):
            if child.tag == "br":
                parts.append("\n")
            _walk(child, parts, unseen)
        if child.tail:
            parts.append(child.tail)


def hidden(element: Element, unseen: Set[str]) -> bool:
    if not isinstance(element.tag, str) or element.tag in _SKIPPED_TAGS:
        return True
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    if "display:none" in (element.get("style") or "").replace(" ", ""):
        return True
    tokens = (element.get("class") or "").split()
    return not unseen.isdisjoint(tokens) or any(_MENU.search(t) for t in tokens)


def classes(element: Element) -> list[str]:
    return (element.get("class") or "").lower().split()


def below(element: Element, top: Element) -> list[Element]:
    """The ancestors of `element` up to `top` (not included), nearest first."""
    found = []
    for ancestor in element.iterancestors():
        if ancestor is top:
            break
        found.append(ancestor)
    return found


def remove(element: Element) -> None:
    """Take `element` out of its tree, keeping the text that follows it."""
    parent, tail = element.getparent(), element.tail or ""
    if parent is None:
        return
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def tree(text: str) -> Selector:
    """A page's element tree (lxml's HTML parser, without lxml.html's element classes: the
    reading does not need them, and they cost a Python call for every element touched)."""
    text = _XML_DECLARATION.sub("", text, count=1).replace("\x00", "")
    root = etree.HTML(text) if text.strip() else None
    if root is None:
        root = etree.HTML("<html><body></body></html>")
    return Selector(root=root, type="html")
