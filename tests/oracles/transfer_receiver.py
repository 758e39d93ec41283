#!/usr/bin/env python3
"""Independent department receiver (SPEC §9), written from the spec and the schemas alone:
the Python standard library plus `cryptography`.

Usage: transfer_receiver.py --trust ROOT.pem --bundle BUNDLE.json --key DEPT_KEY.pem
                            --department CODE --out DIR --port PORT

The bundle is the bureau's signed trust bundle (SPEC §10): a flattened JWS, ES256, whose
protected header's x5c holds the issuing CA's certificate; the receiver checks that the root
signed that certificate and that it signed the bundle before it takes the transfer keys.

Serves POST /inbox (and GET /healthz). For each delivery: checks the Standard Webhooks
headers (webhook-signature `v1a,<base64 Ed25519>` over `<id>.<timestamp>.<raw body>`) with
a transfer key of the trust bundle, the timestamp within 300 s, the envelope's department;
stores `<id>.json` and `<id>.receipt` (temporary file, fsync, rename; receipt last) and
answers 200 with a compact JWS receipt (EdDSA, Ed25519 key in PKCS#8 PEM). A repeated
delivery id gets the stored receipt. Anything refused answers 401/422 and writes nothing.
This receiver does not verify the PDF (that is `verifier receive`'s job); it proves the
envelope and receipt contract.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import re
import sys
import time

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

MAX_BODY = 1024 * 1024
WINDOW = 300
SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def open_signed_bundle(raw, root):
    """The payload of the bureau's signed trust bundle, once the root's CA signed it."""
    envelope = json.loads(raw)
    header = json.loads(b64url_decode(envelope["protected"]))
    if header.get("alg") != "ES256" or header.get("typ") != "ccr-trust-bundle+json":
        raise ValueError(f"unexpected bundle header {header}")
    (ca_b64,) = header["x5c"]
    ca = x509.load_der_x509_certificate(base64.b64decode(ca_b64))
    root.public_key().verify(
        ca.signature, ca.tbs_certificate_bytes, ec.ECDSA(ca.signature_hash_algorithm)
    )
    if not ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
        raise ValueError("the bundle's signer is not a CA")
    signature = b64url_decode(envelope["signature"])
    if len(signature) != 64:
        raise ValueError("an ES256 signature is 64 bytes")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    signing_input = f"{envelope['protected']}.{envelope['payload']}".encode()
    ca.public_key().verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    return json.loads(b64url_decode(envelope["payload"]))


def write_atomically(path, data):
    temp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(temp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(temp, path)
    fd = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


ED25519_OID = bytes.fromhex("06032b6570")  # 1.3.101.112


def der_items(data):
    """The (tag, content) items of a DER sequence's content (definite lengths only)."""
    items, i = [], 0
    while i < len(data):
        tag, length = data[i], data[i + 1]
        i += 2
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 2:
                raise ValueError("unsupported DER length")
            length = int.from_bytes(data[i:i + count], "big")
            i += count
        if i + length > len(data):
            raise ValueError("truncated DER")
        items.append((tag, data[i:i + length]))
        i += length
    return items


def load_receipt_key(pem):
    """The department's Ed25519 signing key from PKCS#8 PEM. `cryptography` 50 reads only
    version 1 (RFC 5208); keys made by ring and others are version 2 (RFC 5958
    OneAsymmetricKey, with the public key as `[1]`), which it refuses with "extra data". For
    those, read the 32-byte seed from the structure (RFC 8410 §7) and check that the stored
    public key belongs to it."""
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except ValueError:
        pass
    text = pem.decode("ascii")
    begin, end = "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"
    if begin not in text or end not in text:
        raise ValueError("not a PKCS#8 PEM private key")
    der = base64.b64decode(text.split(begin)[1].split(end)[0], validate=False)
    [(tag, outer)] = der_items(der)
    if tag != 0x30:
        raise ValueError("PKCS#8: not a SEQUENCE")
    items = der_items(outer)
    if len(items) < 3 or items[0] != (0x02, b"\x01") or items[1][0] != 0x30:
        raise ValueError("PKCS#8: not a version 2 OneAsymmetricKey")
    if der_items(items[1][1]) != [(0x06, ED25519_OID[2:])]:
        raise ValueError("PKCS#8: not an Ed25519 key")
    [(tag, seed)] = der_items(items[2][1])
    if items[2][0] != 0x04 or tag != 0x04 or len(seed) != 32:
        raise ValueError("PKCS#8: no 32-byte Ed25519 seed")
    key = Ed25519PrivateKey.from_private_bytes(seed)
    # `[1]` as written implicitly (0x81, the bit string's content) or explicitly (0xa1, a
    # BIT STRING inside, as ring writes it).
    public = [content for tag, content in items[3:] if tag == 0x81] + [
        inner for tag, content in items[3:] if tag == 0xA1
        for inner_tag, inner in der_items(content) if inner_tag == 0x03
    ]
    raw = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    if public and public[0] != b"\x00" + raw:
        raise ValueError("PKCS#8: the public key does not belong to the seed")
    return key


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trust", required=True)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--department", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()

    with open(args.trust, "rb") as f:
        root = x509.load_pem_x509_certificate(f.read())
    with open(args.bundle, "rb") as f:
        try:
            bundle = open_signed_bundle(f.read(), root)
        except (ValueError, KeyError, InvalidSignature) as e:
            print(f"the trust bundle is refused: {e!r}", file=sys.stderr)
            return 2
    transfer_keys = [
        Ed25519PublicKey.from_public_bytes(base64.b64decode(k["public_key"]))
        for k in bundle.get("transfer_keys", [])
        if k.get("algorithm") == "Ed25519"
    ]
    if not transfer_keys:
        print("the bundle has no transfer key", file=sys.stderr)
        return 2
    with open(args.key, "rb") as f:
        signing_key = load_receipt_key(f.read())

    def sign_receipt(payload):
        header = b64url(json.dumps({"alg": "EdDSA"}).encode())
        body = b64url(json.dumps(payload, separators=(",", ":")).encode())
        signature = signing_key.sign(f"{header}.{body}".encode())
        return f"{header}.{body}.{b64url(signature)}"

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def answer(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.answer(200 if self.path == "/healthz" else 404, "ok\n")

        def do_POST(self):
            if self.path != "/inbox":
                return self.answer(404, "no such endpoint\n")
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self.answer(413, "too large\n")
            body = self.rfile.read(length)
            wid = self.headers.get("webhook-id") or ""
            stamp = self.headers.get("webhook-timestamp") or ""
            signatures = (self.headers.get("webhook-signature") or "").split(" ")
            if not SAFE_ID.match(wid) or not stamp.isdigit():
                return self.answer(401, "bad webhook headers\n")
            if abs(time.time() - int(stamp)) > WINDOW:
                return self.answer(401, "stale timestamp\n")
            signed = f"{wid}.{stamp}.".encode() + body
            valid = False
            for item in signatures:
                if not item.startswith("v1a,"):
                    continue
                try:
                    raw = base64.b64decode(item[4:], validate=True)
                except ValueError:
                    continue
                for key in transfer_keys:
                    try:
                        key.verify(raw, signed)
                        valid = True
                    except InvalidSignature:
                        pass
            if not valid:
                return self.answer(401, "signature does not verify\n")
            try:
                envelope = json.loads(body)
            except ValueError:
                return self.answer(422, "not JSON\n")
            if envelope.get("delivery_id") != wid:
                return self.answer(422, "delivery_id differs from webhook-id\n")
            if envelope.get("department") != args.department:
                return self.answer(422, "addressed to another department\n")
            receipt_path = os.path.join(args.out, wid + ".receipt")
            if os.path.exists(receipt_path):
                with open(receipt_path) as f:
                    return self.answer(200, f.read())
            pdf_sha256 = None
            if envelope.get("kind") == "certificate":
                pdf_sha256 = hashlib.sha256(base64.b64decode(envelope["pdf"])).hexdigest()
            receipt = sign_receipt({
                "delivery_id": wid,
                "department": args.department,
                "body_sha256": hashlib.sha256(body).hexdigest(),
                "pdf_sha256": pdf_sha256,
                "result": "accepted",
                "reason": None,
                "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            })
            write_atomically(os.path.join(args.out, wid + ".json"), body)
            write_atomically(receipt_path, receipt.encode())
            return self.answer(200, receipt)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
