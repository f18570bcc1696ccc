"""Loopback web servers for input bytes: what studio's input hosting gives a vendor.

`StaticFiles` serves bytes put in memory (adapter tests hand the URL over directly);
`StaticFolder` serves a directory, as a deployment's web server serves
`STUDIO_PUBLISH_DIR`, so the published-folder hosting mode runs end to end.
"""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self


class _Server:
    def __init__(self, lookup: Any) -> None:
        self.gets: list[str] = []
        gets = self.gets

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urllib.parse.unquote(self.path.split("?")[0])
                gets.append(path)
                data = lookup(path)
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class StaticFiles(_Server):
    """Serves bytes registered with `host(name, data)`; unknown paths are 404."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        super().__init__(self.files.get)

    def host(self, name: str, data: bytes) -> str:
        self.files[f"/{name}"] = data
        return f"{self.base_url}/{name}"


class StaticFolder(_Server):
    """Serves the files of one directory (no listing, no subfolders outside it)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        super().__init__(self._read)

    def _read(self, path: str) -> bytes | None:
        target = (self.root / path.lstrip("/")).resolve()
        if self.root not in target.parents or not target.is_file():
            return None
        return target.read_bytes()
