"""One background thread that works through a queue and sleeps until there is more.

The worker's prepare-ahead (`studio.worker_prepare.Preparer`) and the output checks
(`studio.output_checks.CheckQueue`) both run a queue of jobs on a daemon thread of their own,
started with the first item and stopped with the worker. The owner keeps its queue and says
how to take the next item (`take`: None when there is nothing to do now) and what to do with it
(`handle`); this module owns the thread: starting it once, waking it, stopping it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

Item = TypeVar("Item")

# With nothing to do the thread sleeps until woken, or this long: whatever `idle` looks after
# (jobs that went away meanwhile) is looked at that often.
IDLE_WAIT_S = 1.0


class BackgroundLoop(Generic[Item]):
    """`take` items and `handle` them on one daemon thread named `name` until `stop`."""

    def __init__(
        self,
        name: str,
        take: Callable[[], Item | None],
        handle: Callable[[Item], None],
        *,
        idle: Callable[[], None] | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> None:
        self._name = name
        self._take = take
        self._handle = handle
        self._idle = idle
        self._on_start = on_start
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Start the thread if it is not running, and let it look for work now."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        self._wake.set()

    def nudge(self) -> None:
        """Let a running thread look for work now (starts nothing)."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the thread to end after the item in hand, and wait up to `timeout_s` for it."""
        self._stopping.set()
        self._wake.set()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)

    def _run(self) -> None:
        if self._on_start is not None:
            self._on_start()
        while not self._stopping.is_set():
            item = self._take()
            if item is None:
                self._wake.wait(IDLE_WAIT_S)
                self._wake.clear()
                if self._idle is not None:
                    self._idle()
                continue
            try:
                self._handle(item)
            except Exception:
                # One item's trouble (the owner logs what it means) never ends the thread.
                logger.exception("%s: an item failed", self._name)
