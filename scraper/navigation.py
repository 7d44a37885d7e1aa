"""Where a list page's own scripts send a reader who clicks a post: for each function the page
defines that opens a post — `location.href = "view.do?id=" + id`, or a form whose fields it
fills and whose `action` it sets before `submit()` — the address it goes to, as a template over
the function's arguments (`{0}`, `{1}` …). A link built from the page's own word is not a
guess; a family's convention is used only where the page says nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple
from urllib.parse import quote

from scraper.text import Element

_FUNCTION = re.compile(
    r"(?:function\s+([A-Za-z_$][\w$]*)\s*|([A-Za-z_$][\w$]*)\s*=\s*function\s*)\(([^)]*)\)\s*\{"
)
_GO = re.compile(
    r"(?:location(?:\.href)?\s*=|location\.(?:assign|replace)\s*\(|window\.open\s*\()\s*"
    r"((?:'[^'\n]*'|\"[^\"\n]*\"|[A-Za-z_$][\w$]*|\s*\+\s*)+)"
)
_TERM = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"|([A-Za-z_$][\w$]*)")
_ACTION = re.compile(
    r"\.action\s*=\s*(['\"])(.*?)\1|\.attr\(\s*['\"]action['\"]\s*,\s*(['\"])(.*?)\3\s*\)"
)
_VALUE = r"\s*([A-Za-z_$][\w$]*|'[^']*'|\"[^\"]*\")"
_FIELDS = (
    re.compile(r"\.(\w+)\.value\s*=" + _VALUE),  # document.frm.nttId.value = nttId
    re.compile(r"getElementById\(\s*['\"](\w+)['\"]\s*\)\.value\s*=" + _VALUE),
    re.compile(r"\$\(\s*['\"]#(\w+)['\"]\s*\)\.val\(" + _VALUE),  # $("#nttId").val(nttId)
    re.compile(r"\[name=['\"]?(\w+)['\"]?\]['\"]?\s*\)\.val\(" + _VALUE),
)
_FORM_NAME = re.compile(
    r"document\.(?:forms\[\s*['\"])?(\w+)|\$\(\s*['\"][#]?(\w+)['\"]\s*\)\.attr\(\s*['\"]action"
)
# Hidden fields a form carries that only page or search the list.
_LIST_ONLY = re.compile(r"^(?:page|search|sch|cpage|npage)", re.IGNORECASE)


def script_urls(root: Element, *, own_action: bool = False) -> dict[str, str]:
    """Functions the page defines that open a page: name -> address template. `own_action`:
    a form submitted without setting its `action` goes to the one it has (a pager's form, which
    posts back to the list; a post's form must say where it goes)."""
    forms = _forms(root)
    found: dict[str, str] = {}
    for script in root.iter("script"):
        for name, params, body in _functions(script.text or ""):
            template = _went_to(body, params) or _submitted(body, params, forms, own_action)
            if template is not None:
                found.setdefault(name, template)
    return found


def build(template: str, args: Sequence[str]) -> str | None:
    """The address a call with these arguments goes to (None: it passes too few)."""
    try:
        return template.format(*(quote(arg, safe="") for arg in args))
    except (IndexError, KeyError, ValueError):
        return None


def _functions(text: str) -> Iterator[tuple[str, list[str], str]]:
    for match in _FUNCTION.finditer(text):
        params = [p.strip() for p in match[3].split(",") if p.strip()]
        if params:
            yield match[1] or match[2], params, _body(text, match.end())


def _body(text: str, start: int) -> str:
    """The function body from just after its `{` to its matching `}`."""
    depth = 1
    for at in range(start, min(len(text), start + 4000)):
        depth += {"{": 1, "}": -1}.get(text[at], 0)
        if depth == 0:
            return text[start:at]
    return text[start : start + 4000]


def _went_to(body: str, params: list[str]) -> str | None:
    """`location.href = "view.do?nttId=" + id + "&bbsId=…"`, as a template."""
    for match in _GO.finditer(body):
        parts, used = [], False
        for term in _TERM.finditer(match[1]):
            literal = term[1] if term[1] is not None else term[2]
            if literal is not None:
                parts.append(_literal(literal))
            elif term[3] in params:
                parts.append(f"{{{params.index(term[3])}}}")
                used = True
            else:
                break  # a variable the page computes: not an address we can know
        else:
            if used:
                return "".join(parts)
    return None


def _submitted(
    body: str, params: list[str], forms: Mapping[str, _Form], own_action: bool = False
) -> str | None:
    """A form filled from the arguments and submitted to its `action`: its fields as a query."""
    actions = [m[2] if m[2] is not None else m[4] for m in _ACTION.finditer(body)]
    if not actions and own_action and (form := _form_of(body, forms)) is not None:
        actions = [form.action]
    if not actions or "submit" not in body:
        return None
    assigned: dict[str, str] = {}
    for pattern in _FIELDS:
        for name, value in pattern.findall(body):
            if value in params:
                assigned[name] = f"{{{params.index(value)}}}"
            elif value[:1] in "'\"":
                assigned[name] = quote(value[1:-1], safe="")  # no braces left to escape
    if not any(value.startswith("{") for value in assigned.values()):
        return None  # no argument reaches the form: not a post's page
    form = _form_of(body, forms)
    fields = {**(form.fields if form is not None else {}), **assigned}
    action = _literal(actions[-1])
    query = "&".join(f"{name}={value}" for name, value in fields.items())
    return f"{action}{'&' if '?' in action else '?'}{query}"


def _literal(text: str) -> str:
    """Text of the page's script, safe in a template."""
    return text.replace("{", "{{").replace("}", "}}")


class _Form(NamedTuple):
    action: str  # as the page writes it
    fields: dict[str, str]  # its hidden fields that say which post (not paging or search ones)


def _form_of(body: str, forms: Mapping[str, _Form]) -> _Form | None:
    """The form the function submits."""
    for match in _FORM_NAME.finditer(body):
        name = match[1] or match[2]
        if name in forms:
            return forms[name]
    return None


def form_query(fields: Mapping[str, str]) -> dict[str, str]:
    """What of a form's hidden fields says which post: not the empty ones, nor paging and
    search fields (a GET with the rest opens the post the form would have posted for)."""
    return {k: v for k, v in fields.items() if k and v and not _LIST_ONLY.match(k)}


def _forms(root: Element) -> dict[str, _Form]:
    found: dict[str, _Form] = {}
    for form in root.iter("form"):
        hidden = {
            i.get("name", ""): i.get("value", "")
            for i in form.iter("input")
            if (i.get("type") or "").lower() == "hidden"
        }
        fields = {k: quote(v, safe="") for k, v in form_query(hidden).items()}
        action = (form.get("action") or "").strip()
        for name in (form.get("name"), form.get("id")):
            if name:
                found.setdefault(name, _Form(action, fields))
    return found
