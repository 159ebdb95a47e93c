"""Where one-time codes go: ``console`` (the terminal), ``file`` (JSON lines) or ``webhook``,
and the threads that hand them over, so that no request waits long on an SMS gateway."""
import hashlib
import hmac
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from flask import current_app

from app.background import Busy, Threads
from app.database import utcnow

from .phones import mask

log = logging.getLogger(__name__)


class SendError(RuntimeError):
    """The code could not be handed to the sender; ``maybe_sent`` when the gateway did not
    answer in time (it may have taken the message all the same)."""

    def __init__(self, message, maybe_sent=False):
        super().__init__(message)
        self.maybe_sent = maybe_sent


class SenderBusy(SendError):
    """This process has as many codes on their way as it may (CODE_SENDER_PENDING)."""


#: This process's sender threads (made on first use, and again in a forked worker).
_senders = Threads("code-sender", "CODE_SENDER_THREADS", "CODE_SENDER_PENDING")


def in_background(app, function, *args):
    """Run ``function(*args)`` in an app context of ``app`` on one of this process's sender
    threads (CODE_SENDER_THREADS); returns its Future. A request waits for it only as long as
    it chooses (CODE_SENDER_WAIT): a slow or hung gateway holds a thread, not a gunicorn worker,
    which would leave every other visitor waiting. SenderBusy once CODE_SENDER_PENDING calls
    are under way or queued in this process: a hung gateway piles up nothing."""
    try:
        return _senders.submit(app, function, *args)
    except Busy as error:
        raise SenderBusy("too many codes on their way") from error


def pending_sends():
    """How many codes this process has on their way (the tests wait for none)."""
    return _senders.pending()


def signature_headers(secret, body, now=None):
    """The headers that let the gateway know a message comes from the platform: the time in
    Unix seconds, and the hex HMAC-SHA256 under the shared secret of that time, a dot and the
    body's bytes. The gateway computes the same and refuses a mismatch or an old time."""
    timestamp = str(int(now if now is not None else time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {"X-Signature-Timestamp": timestamp, "X-Signature": "sha256=" + digest.hexdigest()}


def send_code(phone, code):
    """Hand ``code`` for ``phone`` (E.164) to the configured sender."""
    kind = current_app.config["CODE_SENDER"]
    message = {"to": phone, "code": code, "at": utcnow().isoformat()}
    if kind == "console":
        # A developer's machine only (refused in production): the code is shown on the terminal
        # that runs the app, never written to the log, where no code may go.
        print(f"[code sender] verification code for {mask(phone)}: {code}", file=sys.stderr,
              flush=True)
        log.info("verification code sent to %s (console)", mask(phone))
    elif kind == "file":
        path = Path(current_app.config.get("CODE_SENDER_FILE")
                    or Path(current_app.instance_path) / "codes.jsonl")
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(message, ensure_ascii=False) + "\n")
    elif kind == "webhook":
        url = current_app.config["CODE_SENDER_URL"]
        if not url:
            raise SendError("CODE_SENDER_URL is not set")
        if not url.startswith(("https://", "http://")):
            raise SendError("CODE_SENDER_URL must be an http(s) address")
        body = json.dumps(message).encode()
        headers = {"Content-Type": "application/json"}
        if current_app.config.get("CODE_SENDER_SECRET"):
            headers.update(signature_headers(current_app.config["CODE_SENDER_SECRET"], body))
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        timeout = current_app.config["CODE_SENDER_TIMEOUT"]
        try:
            # nosec B310: the scheme is checked above (no file: or custom schemes)
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
                if response.status >= 300:
                    raise SendError(f"gateway answered {response.status}")
        except urllib.error.HTTPError as error:
            error.close()  # the refusal's body is not read: its connection is closed now
            raise SendError(f"gateway answered {error.code}") from error
        except OSError as error:
            timed_out = isinstance(getattr(error, "reason", error), TimeoutError)
            raise SendError(str(error), maybe_sent=timed_out) from error
    else:
        raise SendError(f"unknown CODE_SENDER {kind!r}")
