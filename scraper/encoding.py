"""A page's text in the board's encoding (Korean boards send EUC-KR/CP949, often undeclared)."""

from __future__ import annotations

from scrapy.http import Response, TextResponse

_KOREAN = frozenset({"euc-kr", "euc_kr", "euckr", "ks_c_5601-1987", "ksc5601", "cp949", "uhc"})


def decode(response: Response, encoding: str = "auto") -> TextResponse:
    """The page in the board's encoding: forced; else declared, unless the declaration is
    wrong (UTF-8 declared, EUC-KR sent); else UTF-8 when it is, CP949 when it is not. EUC-KR is
    read as CP949, its superset (Korean sites send CP949's extra syllables as "EUC-KR"). A UTF-8
    page with a few broken bytes is UTF-8, those bytes replaced: only a page whose text is not
    UTF-8 at all is read as CP949."""
    if not isinstance(response, TextResponse):
        raise TypeError(f"not a text page: {response.url}")
    if encoding.lower() != "auto":
        return response.replace(encoding=encoding)
    declared = (response._declared_encoding() or "").lower().replace("_", "-")
    if declared in _KOREAN:
        return response.replace(encoding="cp949")
    if declared and declared not in ("utf-8", "utf8"):
        return response
    return response.replace(encoding="utf-8" if _mostly_utf8(response.body) else "cp949")


def _mostly_utf8(body: bytes) -> bool:
    """Is the page's text UTF-8, a few broken bytes aside? Korean text in EUC-KR reads as UTF-8
    errors nearly everywhere (and as a valid sequence now and then); in UTF-8, it is valid."""
    try:
        body.decode("utf-8")
        return True
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    valid = sum(1 for char in text if char > "\x7f" and char != "\ufffd")
    return valid > 4 * broken
