"""Where one-time codes go: ``console`` (the terminal), ``file`` (JSON lines) or ``webhook``."""
import json
import logging
import sys
import urllib.request
from pathlib import Path

from flask import current_app

from app.database import utcnow

from .phones import mask

log = logging.getLogger(__name__)


class SendError(RuntimeError):
    """The code could not be handed to the sender."""


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
        request = urllib.request.Request(url, data=json.dumps(message).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            # nosec B310: the scheme is checked above (no file: or custom schemes)
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
                if response.status >= 300:
                    raise SendError(f"gateway answered {response.status}")
        except OSError as error:
            raise SendError(str(error)) from error
    else:
        raise SendError(f"unknown CODE_SENDER {kind!r}")
