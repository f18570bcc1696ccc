"""The background loop the prepare-ahead and the output checks run on: items in order, one
failing item never ends the thread, stop ends it, and new work starts it again."""

from __future__ import annotations

import threading
from collections import deque

from studio.background import BackgroundLoop


def test_items_run_in_order_a_failure_is_survived_and_stop_and_restart_work() -> None:
    queue: deque[int] = deque()
    lock = threading.Lock()
    handled: list[int] = []
    done = threading.Event()
    started: list[str] = []

    def take() -> int | None:
        with lock:
            return queue.popleft() if queue else None

    def handle(item: int) -> None:
        if item == 2:
            raise RuntimeError("one bad item")
        handled.append(item)
        if item in (4, 6):
            done.set()

    loop = BackgroundLoop(
        "test-loop", take, handle, on_start=lambda: started.append(threading.current_thread().name)
    )
    with lock:
        queue.extend([1, 2, 3, 4])
    loop.wake()
    assert done.wait(5)
    assert handled == [1, 3, 4] and started == ["test-loop"]
    loop.stop(5)
    done.clear()
    with lock:
        queue.extend([5, 6])
    loop.wake()  # new work after a stop starts the thread again
    assert done.wait(5)
    assert handled == [1, 3, 4, 5, 6] and started == ["test-loop", "test-loop"]
    loop.stop(5)
    assert not any(thread.name == "test-loop" for thread in threading.enumerate())
