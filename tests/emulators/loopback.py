"""What every vendor emulator shares, so each emulator module keeps only its vendor's protocol.

- `LoopbackServer`: the lifecycle, a threading HTTP server on 127.0.0.1 in a
  daemon thread (`start`/`stop`/`with`, `port`, `base_url`), result-link faults
  (`fail_result_downloads`) and `serve_until_stopped` for a separate process.
- `VendorEmulator(LoopbackServer)`: the state lock, the record of calls
  (`requests`, `clear_requests`, `_record_request`), named failure switches
  that the public `fail_*` methods fill (`_queue_switch`, `_take_switch`), and
  `main()` (the command line: `--port` plus the emulator's own arguments, then
  `ANNOUNCE=<base url>` and serve until killed).
- `LoopbackHandler`: the request handler's keep-alive, timeout and quiet log,
  reading a request and sending an answer. The handler reaches the emulator as
  `self.server.emulator`.
- `loopback_fetch`: downloads an input the way the real service would, but only
  from loopback, so no test reaches the network.

An emulator subclasses `VendorEmulator`, calls `super().__init__(port)`, returns
its handler class from `_handler_class()`, and declares `announce`,
`description`, `add_arguments` and `from_arguments` for its `main()`.
`provider_key` names the adapter it emulates (the registry key); its module's
`contract_case()` is what tests/providers/test_contract.py runs.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Self, TypeVar

RecordT = TypeVar("RecordT")


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


class VendorEmulator(LoopbackServer, Generic[RecordT]):
    """A vendor emulator: recording, failure switches and `main()` on top of the loopback lifecycle."""

    # The registry key of the adapter this emulates.
    provider_key: ClassVar[str]
    # What `main()` prints before the base URL, and its --help text.
    announce: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, port: int = 0) -> None:
        self._port = port
        # One lock for all mutable state: handler threads run concurrently.
        self._lock = threading.Lock()
        self._requests: list[RecordT] = []
        self._switches: dict[str, list[Any]] = {}
        self._server = None
        self._thread = None

    # ------------------------------------------------------------ recording
    @property
    def requests(self) -> list[RecordT]:
        """A snapshot of the recorded calls, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record_request(self, entry: RecordT) -> None:
        """Recorded before the answer is sent, so a test that has its answer finds the call here."""
        with self._lock:
            self._requests.append(entry)

    # ------------------------------------------------------------ failure switches
    def _queue_switch(self, name: str, item: Any, times: int = 1) -> None:
        """The next `times` times the emulator asks `_take_switch(name)`, it gets `item`."""
        with self._lock:
            self._switches.setdefault(name, []).extend([item] * times)

    def _take_switch(self, name: str) -> Any | None:
        with self._lock:
            queue = self._switches.get(name)
            return queue.pop(0) if queue else None

    # ------------------------------------------------------------ command line
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """The emulator's own command-line arguments (`--port` is always there)."""

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> Self:
        raise NotImplementedError

    @classmethod
    def main(cls, argv: list[str] | None = None) -> int:
        """Run as a separate process: print `ANNOUNCE=<base url>` and serve until killed."""
        parser = argparse.ArgumentParser(description=cls.description)
        parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
        cls.add_arguments(parser)
        return cls.from_arguments(parser.parse_args(argv)).serve_until_stopped(cls.announce)


class LoopbackHandler(BaseHTTPRequestHandler):
    """The request handler every emulator's handler extends."""

    server: LoopbackHTTPServer
    # Keep-alive like the real services; every answer carries Content-Length.
    protocol_version = "HTTP/1.1"
    # Idle keep-alive connections are dropped, so handler threads do not outlive a test for long.
    timeout = 15
    # Headers and body go out in two writes; without this, Nagle + delayed ACK add ~40 ms per call.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # tests read `emulator.requests`; stderr noise helps nobody

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def lower_headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.headers.items()}

    def query_params(self) -> dict[str, str]:
        """The query string, the last value of each name."""
        query = urllib.parse.urlsplit(self.path).query
        return {key: values[-1] for key, values in urllib.parse.parse_qs(query, True).items()}

    def send_answer(
        self, status: int, content_type: str, payload: bytes, extra: Mapping[str, str] | None = None
    ) -> None:
        self.send_headers_and_body(status, {"Content-Type": content_type, **dict(extra or {})}, payload)

    def send_headers_and_body(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() == "content-type":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            if name.lower() != "content-type":
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def is_loopback_url(url: str) -> bool:
    """An http(s) URL whose host is this machine (a host name other than localhost would need DNS)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def loopback_fetch(url: str, max_bytes: int, timeout: float = 10.0) -> bytes | None:
    """Downloads an input like the service would, but only from loopback (None otherwise, and when
    the download fails): at most `max_bytes` are read, enough to know a file is too large."""
    if not is_loopback_url(url):
        return None
    # No proxy: the environment's proxy settings must not route loopback traffic elsewhere.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as answer:
            return bytes(answer.read(max_bytes))
    except (urllib.error.URLError, OSError, ValueError):
        return None
