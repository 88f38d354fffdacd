"""Local receivers for notifications: a real SMTP server and a real HTTP webhook endpoint, each in a thread.

`novora bench` uses them to time a response file's way to a sent email; the tests read what arrived. Both
record every message with the time it arrived, and the webhook can be told to fail its first requests.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    received_at: float  # time.time()


@dataclass(frozen=True)
class Post:
    path: str
    payload: dict
    status: int  # what the receiver answered
    received_at: float


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class MailCatcher:
    """An SMTP server on 127.0.0.1 (aiosmtpd); ``with MailCatcher() as smtp: ... smtp.port, smtp.mails``.

    ``reject_with`` makes it refuse every message with that SMTP reply (e.g. ``"550 mailbox unavailable"``)."""

    def __init__(self, reject_with: str | None = None):
        self.mails: list[Mail] = []
        self.reject_with = reject_with
        self._controller = None
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self._controller.port

    def __enter__(self) -> MailCatcher:
        from aiosmtpd.controller import Controller

        catcher = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
                if catcher.reject_with:
                    return catcher.reject_with
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                body = message.get_body(("plain",))
                with catcher._lock:
                    catcher.mails.append(Mail(envelope.mail_from, tuple(envelope.rcpt_tos), str(message["subject"]),
                                              body.get_content() if body else "", time.time()))
                return "250 OK"

        # aiosmtpd checks that its server is up by connecting to the port it was given, so it needs a real one
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    def wait_for(self, count: int, timeout: float) -> bool:
        return _wait(lambda: len(self.mails) >= count, timeout)


class WebhookReceiver:
    """An HTTP server on 127.0.0.1 taking JSON POSTs: each distinct message gets ``fail_status`` the first
    ``fail_first`` times it arrives, then 200 (a receiver that is briefly down, or one that always refuses)."""

    def __init__(self, fail_first: int = 0, fail_status: int = 500):
        self.posts: list[Post] = []
        self.fail_first, self.fail_status = fail_first, fail_status
        self._seen: dict[bytes, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/novora"

    @property
    def delivered(self) -> list[Post]:
        return [p for p in self.posts if p.status == 200]

    def __enter__(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    seen = receiver._seen[raw] = receiver._seen.get(raw, 0) + 1
                    status = receiver.fail_status if seen <= receiver.fail_first else 200
                    try:
                        payload = json.loads(raw)
                    except ValueError:
                        payload, status = {"unparsed": raw.decode("utf-8", "replace")}, 400
                    receiver.posts.append(Post(self.path, payload, status, time.time()))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"try again later")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Receivers:
    """Both receivers, as the environment a Novora process needs to send to them."""

    smtp: MailCatcher = field(default_factory=MailCatcher)
    webhook: WebhookReceiver = field(default_factory=WebhookReceiver)

    def env(self) -> dict[str, str]:
        return {"NOVORA_SMTP_HOST": "127.0.0.1", "NOVORA_SMTP_PORT": str(self.smtp.port),
                "NOVORA_SMTP_SECURITY": "none", "NOVORA_SMTP_FROM": "novora@bench.local",
                "NOVORA_WEBHOOK_URL": self.webhook.url}

    def __enter__(self) -> Receivers:
        self.smtp.__enter__()
        self.webhook.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.webhook.__exit__(*exc)
        self.smtp.__exit__(*exc)
