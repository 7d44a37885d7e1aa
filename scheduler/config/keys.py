"""An unknown key of `scrape.toml` as its author finds it: the line it is written on (tomllib
keeps no positions, so the file is read again as TOML lays it out: table headers, then keys)
and the known key at that place it most resembles (a typo: `max_page` for `max_pages`)."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel

from scraper import profiles

Loc = tuple[str | int, ...]

_PART = r'(?:"(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+)'
_DOTTED = re.compile(rf"\s*{_PART}(?:\s*\.\s*{_PART})*\s*")
_HEADER = re.compile(rf"^\s*(\[\[?)({_DOTTED.pattern})\]\]?\s*(?:#.*)?$")
_KEY = re.compile(rf"^({_DOTTED.pattern})=")
_SPLIT = re.compile(_PART)


def unknown(loc: Loc, text: str | None, model: type[Any]) -> tuple[str, int | None]:
    """What to say of an unknown key at `loc` (as pydantic names it) of the file's `text`
    validated as `model`: "unknown key (line 12); did you mean max_pages?", and its line."""
    line = line_of(text, loc) if text is not None else None
    where = f" (line {line})" if line else ""
    close = difflib.get_close_matches(str(loc[-1]), known_keys(model, loc[:-1]), n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"unknown key{where}{hint}", line


def line_of(text: str, loc: Loc) -> int | None:
    """The line (from 1) where the key or table at `loc` is written: where it is written
    itself, else where the nearest table or key that holds it is."""
    best, depth = None, 0
    for number, path in _paths(text):
        shared = _shared(path, loc)
        if shared == len(loc):
            return number
        if shared > depth and shared == len(path):
            best, depth = number, shared
    return best


def _shared(path: Loc, loc: Loc) -> int:
    n = 0
    for a, b in zip(path, loc, strict=False):
        if a != b:
            break
        n += 1
    return n


def _paths(text: str) -> Iterator[tuple[int, Loc]]:
    """Each table header and key of the file, with its line and the path it names (an array
    of tables' entries numbered from 0, as pydantic's locations are)."""
    table: Loc = ()
    arrays: dict[tuple[str, ...], int] = {}  # an array of tables -> its entries so far
    in_string = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip("\ufeff")
        if in_string:
            in_string = _opens_string(line, True)
            continue
        header = _HEADER.match(line)
        if header:
            names = tuple(_names(header[2]))
            table = _indexed(names, arrays)
            if header[1] == "[[":
                arrays[names] = arrays.get(names, 0) + 1
                table = (*_indexed(names[:-1], arrays), names[-1], arrays[names] - 1)
                yield number, table[:-1]
            yield number, table
            continue
        stripped = line.strip()
        key = _KEY.match(stripped)
        if key:
            yield number, (*table, *_names(key[1]))
            in_string = _opens_string(stripped[key.end() :], False)


def _opens_string(text: str, inside: bool) -> bool:
    """Whether a multi-line string is still open at the end of `text`."""
    for quote in ('"""', "'''"):
        if text.count(quote) % 2:
            return not inside
    return inside


def _names(dotted: str) -> list[str]:
    return [part.strip("\"'") for part in _SPLIT.findall(dotted)]


def _indexed(names: Sequence[str], arrays: dict[tuple[str, ...], int]) -> Loc:
    """A table's path, with the current entry of each array of tables it lies in."""
    path: list[str | int] = []
    for i, name in enumerate(names):
        path.append(name)
        count = arrays.get(tuple(names[: i + 1]))
        if count:
            path.append(count - 1)
    return tuple(path)


def known_keys(model: type[Any], loc: Loc) -> list[str]:
    """The keys a table at `loc` of `model` may hold (none where `loc` is not a table)."""
    kind: Any = model
    for part in loc:
        kind = _inner(kind, part)
        if kind is None:
            return []
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return [name for name, f in kind.model_fields.items() if not f.exclude]
    if kind is profiles.Profile:  # a user's [profiles.NAME]: not what only engines say
        hints = get_type_hints(kind, include_extras=True)
        engine = (profiles.Words, profiles.Pairs, profiles.Css, profiles.Flag)
        return [name for name, hint in hints.items() if name != "name" and hint not in engine]
    return []


def _inner(kind: Any, part: str | int) -> Any:
    """The type a value of `kind` holds at `part` (a key or a list index)."""
    if get_origin(kind) is Annotated:
        return _inner(get_args(kind)[0], part)
    if get_origin(kind) in (Union, types.UnionType):
        found = [_inner(arg, part) for arg in get_args(kind) if arg is not type(None)]
        return next((f for f in found if f is not None), None)
    if isinstance(part, int):
        return get_args(kind)[0] if get_origin(kind) is list else None
    if get_origin(kind) is dict:
        return get_args(kind)[1]
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        field = kind.model_fields.get(part)
        return field.annotation if field else None
    return None
