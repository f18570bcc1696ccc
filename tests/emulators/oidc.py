"""A tiny OpenID Connect provider on loopback, for signing in to the real app in browser tests.

`st.login` (Authlib) reads the discovery document, sends the browser to `/authorize`, which
at once redirects back with a code for `provider.email` (no login form), swaps the code for
an id_token at `/token` (RS256, signed with a key made at start, with the `iss`, `aud` and
`nonce` Authlib checks) and checks its signature with `/jwks`. `/userinfo` answers too.

    with OidcProvider(client_id="studio", client_secret="s") as provider:
        provider.sign_in_as("ana@shop.example", "Ana Admin")
        ...  # secrets.toml: server_metadata_url = provider.metadata_url

`python -m tests.emulators.oidc --port 8600 --email ana@shop.example` serves it by hand.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

KEY_ID = "loopback-test-key"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64url(number: int) -> str:
    return _b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


@dataclass
class Grant:
    email: str
    name: str
    nonce: str | None
    client_id: str


class OidcProvider:
    """The provider: one signing key, one person to sign in as, the codes it handed out."""

    def __init__(
        self, client_id: str = "studio", client_secret: str = "loopback-secret", port: int = 0
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.email = "ana@shop.example"
        self.name = "Ana Admin"
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._codes: dict[str, Grant] = {}
        self._tokens: dict[str, Grant] = {}
        self._lock = threading.Lock()
        self.token_requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.provider = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle
    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sign_in_as(self, email: str, name: str) -> None:
        """Who the next `/authorize` signs in (the provider's "logged in" account)."""
        with self._lock:
            self.email, self.name = email, name

    # ---------------------------------------------------------------- protocol
    def metadata(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "email", "email_verified", "name"],
        }

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        key = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID}
        return {"keys": [key | {"n": _int_b64url(numbers.n), "e": _int_b64url(numbers.e)}]}

    def authorize(self, query: dict[str, str]) -> str:
        """The redirect back to the app: a fresh code for the current person, and the app's state."""
        if query.get("response_type") != "code" or query.get("client_id") != self.client_id:
            raise ValueError("unsupported authorization request")
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = Grant(self.email, self.name, query.get("nonce"), self.client_id)
        answer = {"code": code, "state": query.get("state", "")}
        return f"{query['redirect_uri']}?{urllib.parse.urlencode(answer)}"

    def token(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = (urllib.parse.unquote(part) for part in decoded.partition(":"))
        if client_id != self.client_id or client_secret != self.client_secret:
            raise PermissionError("invalid_client")
        with self._lock:
            self.token_requests += 1
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            raise ValueError("invalid_grant")
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[access_token] = grant
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": "openid email profile",
            "id_token": self.id_token(grant),
        }

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": grant.email,
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 3600,
            "email": grant.email,
            "email_verified": True,
            "name": grant.name,
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        header = {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def userinfo(self, authorization: str | None) -> dict[str, Any]:
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self._lock:
            grant = self._tokens.get(token)
        if grant is None:
            raise PermissionError("invalid_token")
        return {"sub": grant.email, "email": grant.email, "email_verified": True, "name": grant.name}


class _Handler(BaseHTTPRequestHandler):
    server_version = "LoopbackOIDC/1"

    @property
    def provider(self) -> OidcProvider:
        return self.server.provider  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        return

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        try:
            if url.path == "/.well-known/openid-configuration":
                self._json(200, self.provider.metadata())
            elif url.path == "/jwks":
                self._json(200, self.provider.jwks())
            elif url.path == "/authorize":
                self.send_response(302)
                self.send_header("Location", self.provider.authorize(query))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif url.path == "/userinfo":
                self._json(200, self.provider.userinfo(self.headers.get("Authorization")))
            else:
                self._json(404, {"error": "not_found"})
        except PermissionError as exc:
            self._json(401, {"error": str(exc)})
        except (KeyError, ValueError) as exc:
            self._json(400, {"error": "invalid_request", "error_description": str(exc)})

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        if urllib.parse.urlsplit(self.path).path != "/token":
            self._json(404, {"error": "not_found"})
            return
        try:
            self._json(200, self.provider.token(form, self.headers.get("Authorization")))
        except PermissionError as exc:
            self._json(401, {"error": str(exc)})
        except ValueError as exc:
            self._json(400, {"error": str(exc)})


def main() -> None:
    parser = argparse.ArgumentParser(description="A loopback OpenID Connect provider for tests.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", default="studio")
    parser.add_argument("--client-secret", default="loopback-secret")
    parser.add_argument("--email", default="ana@shop.example")
    parser.add_argument("--name", default="Ana Admin")
    args = parser.parse_args()
    provider = OidcProvider(args.client_id, args.client_secret, args.port)
    provider.sign_in_as(args.email, args.name)
    print(f"ANNOUNCE={provider.metadata_url}", flush=True)
    provider.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        provider.stop()


if __name__ == "__main__":
    main()
