#!/usr/bin/env python3
"""A small, independent OpenID provider for end-to-end tests of the issuer's OIDC sign-in.

Standard library plus `cryptography` only. Authorization-code flow for one confidential
client (client_secret_basic), PKCE S256 required, ID tokens signed ES256 with a fresh P-256
key published at /jwks.

    fake_oidc.py --client-id ID --client-secret-file PATH [--port 0]

Prints `http://127.0.0.1:<port>` (the issuer identifier) on the first line of standard
output once it listens, then serves until killed, or with --exit-on-stdin-eof until its
standard input closes (so it never outlives a test process that dies abruptly). Request logs
go to standard error.

/authorize authenticates nobody: it immediately redirects to `redirect_uri` with a one-time
`code` and the given `state`. `login_hint` chooses the subject (default MO-1234567), and
`fake_document=TYPE:NUMBER` adds the verified identity document as the `identity_document`
claim (`{"type": TYPE, "number": NUMBER}`), as a government IdP would. For
negative tests, `fake_tamper=<mode>` on /authorize (or --tamper for every login) makes the
token endpoint return a bad ID token for that code:

    wrong_nonce  nonce differs from the one given to /authorize
    wrong_aud    audience is another client
    wrong_iss    issuer is another IdP
    expired      exp and iat an hour in the past
    wrong_key    signed by a key that is not in the JWKS (same kid)
"""

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

TAMPER_MODES = ("wrong_nonce", "wrong_aud", "wrong_iss", "expired", "wrong_key")
CODE_LIFETIME = 120  # seconds
MAX_BODY = 64 * 1024


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Key:
    """An ES256 signing key and its public JWK."""

    def __init__(self, kid: str):
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP256R1())

    def jwk(self) -> dict:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "kid": self.kid,
            "use": "sig",
            "alg": "ES256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }

    def sign(self, claims: dict) -> str:
        header = {"alg": "ES256", "typ": "JWT", "kid": self.kid}
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
        )
        der = self.private.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS: raw R || S
        return signing_input + "." + b64url(signature)


class Provider:
    def __init__(self, client_id: str, client_secret: str, tamper: str | None):
        self.issuer = ""  # set once the port is known
        self.client_id = client_id
        self.client_secret = client_secret
        self.tamper = tamper
        self.key = Key("fake-oidc-1")
        self.rogue = Key("fake-oidc-1")  # same kid, not published
        self.codes: dict[str, dict] = {}
        self.lock = threading.Lock()

    def discovery(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
            "scopes_supported": ["openid", "profile"],
        }

    def id_token(self, login: dict) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": login["subject"],
            "aud": self.client_id,
            "exp": now + 300,
            "iat": now,
            "nonce": login["nonce"],
            "name": "陳大文 CHAN Tai Man",
        }
        if login["document"]:
            kind, _, number = login["document"].partition(":")
            claims["identity_document"] = {"type": kind, "number": number}
        key = self.key
        mode = login["tamper"]
        if mode == "wrong_nonce":
            claims["nonce"] = b64url(secrets.token_bytes(32))
        elif mode == "wrong_aud":
            claims["aud"] = "another-client"
        elif mode == "wrong_iss":
            claims["iss"] = "http://127.0.0.1:1"
        elif mode == "expired":
            claims["exp"] = now - 3600
            claims["iat"] = now - 3900
        elif mode == "wrong_key":
            key = self.rogue
        return key.sign(claims)


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-oidc/1"
    provider: Provider  # set on the class before serving

    def log_message(self, format, *args):  # noqa: A002 (BaseHTTPRequestHandler's name)
        # Request lines only: paths carry codes and states, never the client secret.
        sys.stderr.write("fake_oidc: " + (format % args) + "\n")

    def send_json(self, status: int, body: dict, extra: dict | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def oauth_error(self, status: int, error: str, description: str, extra=None):
        sys.stderr.write(f"fake_oidc: refused: {error}: {description}\n")
        self.send_json(status, {"error": error, "error_description": description}, extra)

    def do_GET(self):  # noqa: N802 (BaseHTTPRequestHandler's name)
        url = urlsplit(self.path)
        p = self.provider
        if url.path == "/.well-known/openid-configuration":
            self.send_json(200, p.discovery())
        elif url.path == "/jwks":
            self.send_json(200, {"keys": [p.key.jwk()]})
        elif url.path == "/authorize":
            self.authorize(parse_qs(url.query, keep_blank_values=True))
        else:
            self.send_json(404, {"error": "not_found"})

    def do_POST(self):  # noqa: N802
        if urlsplit(self.path).path == "/token":
            self.token()
        else:
            self.send_json(404, {"error": "not_found"})

    def authorize(self, query: dict):
        p = self.provider
        one = {}
        for name, values in query.items():
            if len(values) != 1:
                return self.oauth_error(400, "invalid_request", f"{name} repeated")
            one[name] = values[0]
        # Errors before the redirect_uri is trusted are shown here, not redirected (RFC 6749 §4.1.2.1).
        if one.get("client_id") != p.client_id:
            return self.oauth_error(400, "unauthorized_client", "unknown client_id")
        redirect_uri = one.get("redirect_uri", "")
        if not redirect_uri.startswith(("http://", "https://")):
            return self.oauth_error(400, "invalid_request", "redirect_uri missing or not http(s)")
        checks = [
            (one.get("response_type") == "code", "response_type must be code"),
            ("openid" in one.get("scope", "").split(" "), "scope must include openid"),
            (bool(one.get("state")), "state is required"),
            (bool(one.get("nonce")), "nonce is required"),
            (one.get("code_challenge_method") == "S256", "code_challenge_method must be S256"),
            (len(one.get("code_challenge", "")) == 43, "code_challenge must be 43 characters"),
        ]
        tamper = one.get("fake_tamper") or p.tamper
        checks.append((tamper is None or tamper in TAMPER_MODES, "unknown fake_tamper mode"))
        for ok, reason in checks:
            if not ok:
                return self.oauth_error(400, "invalid_request", reason)
        code = b64url(secrets.token_bytes(32))
        with p.lock:
            p.codes[code] = {
                "redirect_uri": redirect_uri,
                "nonce": one["nonce"],
                "challenge": one["code_challenge"],
                "subject": one.get("login_hint") or "MO-1234567",
                "document": one.get("fake_document"),
                "tamper": tamper,
                "expires": time.time() + CODE_LIFETIME,
            }
        separator = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + separator + urlencode({"code": code, "state": one["state"]})
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def client_authenticated(self) -> bool:
        """client_secret_basic: both parts form-encoded before base64 (RFC 6749 §2.3.1)."""
        p = self.provider
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return False
        user, sep, password = decoded.partition(":")
        if not sep:
            return False
        return hmac.compare_digest(unquote_plus(user), p.client_id) and hmac.compare_digest(
            unquote_plus(password).encode(), p.client_secret.encode()
        )

    def token(self):
        p = self.provider
        if not self.client_authenticated():
            return self.oauth_error(
                401, "invalid_client", "client authentication failed",
                {"WWW-Authenticate": 'Basic realm="fake-oidc"'},
            )
        if self.headers.get("Content-Type", "").split(";")[0].strip() != (
            "application/x-www-form-urlencoded"
        ):
            return self.oauth_error(400, "invalid_request", "form body expected")
        length = int(self.headers.get("Content-Length", "0"))
        if length > MAX_BODY:
            return self.oauth_error(400, "invalid_request", "body too large")
        form = parse_qs(self.rfile.read(length).decode("ascii"), keep_blank_values=True)
        field = {name: values[0] for name, values in form.items() if len(values) == 1}
        if "client_secret" in form:
            return self.oauth_error(400, "invalid_request", "two client authentication methods")
        if field.get("grant_type") != "authorization_code":
            return self.oauth_error(400, "unsupported_grant_type", "authorization_code only")
        with p.lock:
            login = p.codes.pop(field.get("code", ""), None)  # each code is good once
        if login is None or login["expires"] < time.time():
            return self.oauth_error(400, "invalid_grant", "unknown, used or expired code")
        if field.get("redirect_uri") != login["redirect_uri"]:
            return self.oauth_error(400, "invalid_grant", "redirect_uri differs from /authorize")
        verifier = field.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128:
            return self.oauth_error(400, "invalid_grant", "code_verifier must be 43-128 characters")
        challenge = b64url(hashlib.sha256(verifier.encode("ascii")).digest())
        if not hmac.compare_digest(challenge, login["challenge"]):
            return self.oauth_error(400, "invalid_grant", "PKCE verification failed")
        self.send_json(200, {
            "access_token": b64url(secrets.token_bytes(32)),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": p.id_token(login),
        })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret-file", required=True)
    parser.add_argument("--tamper", choices=TAMPER_MODES)
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    args = parser.parse_args()
    with open(args.client_secret_file, encoding="utf-8") as f:
        secret = f.read().strip()
    if not secret:
        sys.exit("fake_oidc: empty client secret file")
    Handler.provider = Provider(args.client_id, secret, args.tamper)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    Handler.provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    print(Handler.provider.issuer, flush=True)
    if args.exit_on_stdin_eof:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
        server.shutdown()
    else:
        server.serve_forever()


if __name__ == "__main__":
    main()
