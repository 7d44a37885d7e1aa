"""A real SMTP server on loopback, so tests exercise Apprise's actual SMTP client."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
import time
from collections.abc import Awaitable
from email import message_from_bytes, policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "bw"
PASSWORD = "s3cretPW"
FROM_ADDR = "boardwatch@example.com"


class _DropLoginDataNag(logging.Filter):
    """aiosmtpd 1.4 logs a deprecation warning on *every* successful AUTH."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "login_data is deprecated" not in record.getMessage()


logging.getLogger("mail.log").addFilter(_DropLoginDataNag())


class _FreePortController(Controller):
    """Controller bound to an OS-chosen port (aiosmtpd can't do port 0 itself:
    its readiness probe connects to ``self.port``), so there is no race."""

    def _create_server(self) -> Awaitable[Any]:
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
        # without it each multi-line reply (EHLO) met the client's delayed ACK, ~40 ms a time
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind((self.hostname, 0))
        self.port = sock.getsockname()[1]
        return self.loop.create_server(self._factory_invoker, sock=sock, ssl=self.ssl_context)


class SmtpSink:
    """Plain-SMTP sink on 127.0.0.1 that stores every message it accepts.

    Apprise logs in whenever the URL has user *and* password, so AUTH is
    offered on the plain connection and accepts only ``bw``/``password``
    (``s3cretPW`` unless changed).
    Set ``fail_with`` (e.g. ``"451 4.3.0 Try again later"``) to reject DATA.
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: offer STARTTLS with this server context (and require it)."""
        self.host = "127.0.0.1"
        self.port = 0
        self.password = PASSWORD  # what AUTH accepts (with USER): change it to rotate a secret
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # each accepted message as it came over the wire
        self.fail_with: str | None = None
        self.stall = 0.0  # seconds to hold the "250 OK" back after storing a message
        self.max_size: int | None = None  # refuse larger messages, as a server's size limit does
        self.refused_sizes: list[int] = []  # the sizes of the messages it refused so
        self._cond = threading.Condition()
        self._controller = _FreePortController(
            self,
            hostname=self.host,
            server_hostname="smtpsink.test",
            auth_require_tls=False,
            authenticator=self._authenticate,
            tls_context=tls,
            require_starttls=tls is not None,
        )

    # -- aiosmtpd hooks -------------------------------------------------
    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login == USER.encode() and auth_data.password == self.password.encode()
        )
        return AuthResult(success=ok, handled=False)  # handled=True would send no reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail_with:
            return self.fail_with
        if self.max_size is not None and len(envelope.original_content) > self.max_size:
            self.refused_sizes.append(len(envelope.original_content))
            return "552 5.3.4 Message size exceeds fixed maximum message size"
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        with self._cond:
            self.raw.append(envelope.original_content)
            self.messages.append(msg)
            self._cond.notify_all()
        if self.stall:  # accepted, but the sender has not heard so yet
            await asyncio.sleep(self.stall)
        return "250 OK"

    # -- test API ----------------------------------------------------------
    def url(self, to: str = "team@example.com") -> str:
        """Apprise URL for this server: ``mailto://`` (not ``mailtos://``) means
        no TLS and no STARTTLS; the credentials are there to test masking."""
        return f"mailto://{USER}:{PASSWORD}@{self.host}:{self.port}?from={FROM_ADDR}&to={to}"

    def wait_for(self, n: int, timeout: float = 10) -> list[EmailMessage]:
        """Block until at least ``n`` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"expected {n} message(s), got {len(self.messages)}")
                self._cond.wait(left)
            return list(self.messages)

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
            self.raw.clear()

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        self.port = self._controller.port
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._controller.stop()
