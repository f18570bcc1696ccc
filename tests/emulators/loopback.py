"""The lifecycle every vendor emulator shares: a threading HTTP server on 127.0.0.1 in a daemon thread.

An emulator subclasses `LoopbackServer`, sets `_port`, and returns its request
handler class from `_handler_class()`; the handler reaches the emulator as
`self.server.emulator`.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Any


class LoopbackServer:
    _port: int = 0
    _server: LoopbackHTTPServer | None = None
    _thread: threading.Thread | None = None
    # Result-link faults queued by `fail_result_downloads`, and how many were served.
    _result_faults: list[tuple[int, str, bytes]] | None = None
    result_faults_served: int = 0
    _fault_lock = threading.Lock()

    def fail_result_downloads(
        self,
        times: int = 1,
        status: int = 503,
        body: bytes = b"<Error><Code>ServiceUnavailable</Code><Message>Please reduce your request rate.</Message></Error>",
        content_type: str = "application/xml",
    ) -> None:
        """The next `times` downloads of a result link fail (an object store's error answer), as a
        vendor's result storage sometimes does; the vendor call itself has succeeded and is billed."""
        with self._fault_lock:
            if self._result_faults is None:
                self._result_faults = []
            self._result_faults.extend([(status, content_type, body)] * times)

    def _result_fault(self) -> tuple[int, str, bytes] | None:
        """Called by an emulator before it serves a result link: the queued fault to answer, if any."""
        with self._fault_lock:
            if not self._result_faults:
                return None
            self.result_faults_served += 1
            return self._result_faults.pop(0)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = LoopbackHTTPServer(("127.0.0.1", self._port), self._handler_class())
        server.emulator = self
        self._server = server
        # A short poll interval: stop() waits up to one interval, and tests stop an emulator per test.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__}: the port is only known after start()")
        return int(self._server.server_port)

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    def serve_until_stopped(self, announce: str) -> int:
        """Run from the command line: print `ANNOUNCE=<base url>`, serve until Ctrl-C or SIGTERM."""
        stopped = threading.Event()
        # SIGTERM (what a test harness sends) ends the process as cleanly as Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        with self:
            print(f"{announce}={self.base_url}", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while not stopped.wait(1.0):
                    pass
        return 0
