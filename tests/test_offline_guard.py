import socket

import pytest


def test_non_loopback_connections_are_refused() -> None:
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError, match="must not reach the network"):
        sock.connect(("203.0.113.7", 80))
