"""The HTTP port's routes, as one WSGI app:

- `/` — the status page (no script; reload to refresh);
- `/healthz` — 200, or 503 with the reasons `status --check` gives, one a line;
- `/metrics` — Prometheus, as prometheus_client serves it;
- `/unsubscribe/TOKEN` — a GET shows what the link stops and a button, and changes nothing
  (mail scanners open links); a POST (that button, or a mail program's one-click, RFC 8058)
  records the opt-out, once, and alerts the admins. A token that names no current target is
  refused with 403 and changes nothing. Without `[http] public_url` there are no such links: 404.

Anything else is 404. The daemon's context is read at each request (`current`), so a config
reloaded by SIGHUP shows at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from notify import unsubscribe
from notify.views import DeliveryAlert
from scheduler.context import Context, configured
from scheduler.delivery import send_alert
from scheduler.ops import metrics
from scheduler.ops.healthcheck import report
from scheduler.ops.logs import LOG
from scheduler.web import pages
from storage import optouts, runs
from storage.db import describe

Response = tuple[str, list[tuple[str, str]], bytes]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_PAGE_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),  # an unsubscribe page's address holds its token
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'",
    ),
]
BODY_LIMIT = 64 * 1024  # of a POST's body, read and set aside (the token is what counts)


class App:
    def __init__(self, current: Callable[[], Context]) -> None:
        self.current = current

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        if path == "/metrics" and method in ("GET", "HEAD"):
            return self._metrics(environ, start_response)
        try:
            status, headers, body = self.route(method, path, environ)
        except Exception as exc:  # the database away, and the like: one line, not a traceback
            LOG.error("http: %s %s failed: %s", method, path, describe(exc))
            LOG.debug("the request's traceback", exc_info=True)
            status, headers, body = _text("500 Internal Server Error", "an error: see the log\n")
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [b"" if method == "HEAD" else body]

    def route(self, method: str, path: str, environ: dict[str, Any]) -> Response:
        if path == "/":
            return _only(method, ("GET", "HEAD")) or self.status()
        if path == "/healthz":
            return _only(method, ("GET", "HEAD")) or self.health()
        if path.startswith(unsubscribe.PATH) and self.current().cfg.http.public_url:
            token = path.removeprefix(unsubscribe.PATH)
            if method == "POST":
                _drain(environ)
                return self.leave(token)
            return _only(method, ("GET", "HEAD", "POST")) or self.confirm(token)
        return _text("404 Not Found", "not found\n")

    def status(self) -> Response:
        return _html("200 OK", pages.render("status.html.j2", pages.status_page(self.current())))

    def health(self) -> Response:
        ctx = self.current()
        try:
            with ctx.store.read() as session:
                status = runs.status(session, configured(ctx, session))
        except Exception as exc:
            return _text("503 Service Unavailable", f"CRITICAL store: {describe(exc)}\n")
        healthy, lines = report(ctx.cfg, status, datetime.now(UTC))
        code = "200 OK" if healthy else "503 Service Unavailable"
        return _text(code, "".join(f"{line}\n" for line in lines))

    def confirm(self, token: str) -> Response:
        """What the link stops, and a button; nothing changes."""
        ctx = self.current()
        target = self._named(ctx, token)
        if target is None:
            return _leave_page(ctx, "403 Forbidden", "refused", None)
        with ctx.store.read() as session:
            lefts = optouts.listing(session, [target.subscriber]).get(target.subscriber, [])
        gone = any(left.identity == target.identity for left in lefts)
        return _leave_page(ctx, "200 OK", "left" if gone else "confirm", target)

    def leave(self, token: str) -> Response:
        """Record the opt-out (once) and tell the admins who left."""
        ctx = self.current()
        target = self._named(ctx, token)
        if target is None:
            LOG.warning("http: an unsubscribe link that names no target was refused")
            return _leave_page(ctx, "403 Forbidden", "refused", None)
        with ctx.store.write() as session:
            new = optouts.leave(session, target, datetime.now(UTC))
        if new:
            alert = DeliveryAlert(
                kind="unsubscribed",
                subscriber=target.subscriber,
                target=target.target,
                error=None,
                streak=0,
            )
            send_alert(ctx, alert)
        return _leave_page(ctx, "200 OK", "left", target)

    @staticmethod
    def _named(ctx: Context, token: str) -> optouts.Reachable | None:
        """The current target `token` names, if any."""
        secret = ctx.cfg.http.secret
        if not secret or not _TOKEN.match(token):
            return None
        with ctx.store.read() as session:
            targets = optouts.reachable(session)
        return next(
            (t for t in targets if unsubscribe.matches(token, secret, t.subscriber, t.identity)),
            None,
        )

    def _metrics(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        from prometheus_client import make_wsgi_app

        app = make_wsgi_app(metrics.registry(self.current().store))
        return app(environ, start_response)  # type: ignore[no-any-return]


def _only(method: str, allowed: tuple[str, ...]) -> Response | None:
    if method in allowed:
        return None
    return "405 Method Not Allowed", [("Allow", ", ".join(allowed))], b"method not allowed\n"


def _drain(environ: dict[str, Any]) -> None:
    """Read the request's body (a one-click POST's `List-Unsubscribe=One-Click`), at most
    BODY_LIMIT of it: the token in the address is what counts."""
    try:
        length = min(int(environ.get("CONTENT_LENGTH") or 0), BODY_LIMIT)
    except ValueError:
        length = 0
    if length > 0:
        environ["wsgi.input"].read(length)


def _leave_page(ctx: Context, code: str, state: str, target: optouts.Reachable | None) -> Response:
    """The page of an unsubscribe link. It names the target as its reader knows it — an email
    target by its recipients, not its server and account — else masked."""
    shown = None
    if target is not None:
        url = ctx.urls.get(target.url_hash)
        shown = ", ".join(unsubscribe.recipients(url) if url else ()) or target.target
    page = pages.LeavePage(
        state=state, subscriber=target.subscriber if target else None, target=shown
    )
    return _html(code, pages.render("leave.html.j2", page))


def _html(code: str, text: str) -> Response:
    return code, [("Content-Type", "text/html; charset=utf-8"), *_PAGE_HEADERS], text.encode()


def _text(code: str, text: str) -> Response:
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")]
    return code, headers, text.encode()
