"""A process's own threads for calls to outside services that may be slow or hang (the SMS
gateway, the mail server), so that such a call holds a thread, not a gunicorn worker: a sync
worker held for the length of a timeout is a worker every other visitor waits for.

Each kind of call has its own ``Threads`` (a hung mail server does not hold up the codes), made
on first use in each process (a forked worker makes its own), with a bound on the calls under way
or queued: past it ``submit`` raises ``Busy`` at once, and nothing piles up behind a service that
does not answer.
"""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor


class Busy(RuntimeError):
    """As many calls of this kind are under way or queued in this process as it may have."""


class Threads:
    """Threads of one kind: ``threads`` and ``pending`` name the settings of their number and of
    the bound on calls under way or queued."""

    def __init__(self, name, threads, pending):
        self.name, self.threads_setting, self.pending_setting = name, threads, pending
        self._lock = threading.Lock()
        self._pid, self._pool, self._pending = None, None, 0

    def submit(self, app, function, *args):
        """Run ``function(*args)`` in an app context of ``app`` on one of these threads; returns
        its Future. Busy when ``app.config[pending]`` calls are under way or queued."""
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._pending = os.getpid(), 0
                self._pool = ThreadPoolExecutor(max_workers=app.config[self.threads_setting],
                                                thread_name_prefix=self.name)
            if self._pending >= app.config[self.pending_setting]:
                raise Busy(f"too many calls of {self.name} under way")
            self._pending += 1

        def run():
            try:
                with app.app_context():
                    return function(*args)
            finally:
                with self._lock:
                    self._pending -= 1

        return self._pool.submit(run)

    def pending(self):
        """How many calls of this kind this process has under way or queued."""
        with self._lock:
            return self._pending if self._pid == os.getpid() else 0

    def wait(self, timeout=10):
        """Wait until none is under way (at most ``timeout`` seconds): whether none is (the
        tests wait so before they look at what the calls did, or drop their database)."""
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.pending() == 0
