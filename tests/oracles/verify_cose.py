#!/usr/bin/env python3
"""Independent oracle: verify an ES256 COSE_Sign1 (token or status list) with pycose.

Usage: verify_cose.py FILE.cose KEY [--ccr]

  FILE.cose  a COSE_Sign1, tagged (18) or untagged, as raw bytes; a file holding a
             verification URL (".../verify#<digits>", SPEC §4 decimal; or the older base64url)
             or bare fragment text is accepted too
  KEY        the signer's public key: PEM or DER SubjectPublicKeyInfo, or a PEM or DER
             X.509 certificate (P-256)
  --ccr      print the token claims mapped to the JSON of schemas/token-claims.schema.json
             instead of the raw claims

On success prints the claims as JSON on stdout (raw form: integer labels as strings, byte
strings as lowercase hex, tags as {"tag": N, "value": ...}) and exits 0. Exits 1 when the
signature does not verify or the input is not a COSE_Sign1, 2 on usage or I/O errors.
"""
import base64
import datetime
import json
import sys

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message


def load_public_key(blob):
    """A cryptography EC public key from PEM/DER SPKI or certificate."""
    loaders = [
        lambda b: x509.load_pem_x509_certificate(b).public_key(),
        lambda b: x509.load_der_x509_certificate(b).public_key(),
        serialization.load_pem_public_key,
        serialization.load_der_public_key,
    ]
    for load in loaders:
        try:
            key = load(blob)
        except (ValueError, TypeError):
            continue
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ValueError("the key is not ECDSA P-256")
        return key
    raise ValueError("KEY is neither a PEM/DER SubjectPublicKeyInfo nor a certificate")


# SPEC §4: digits of a last group of n bytes (index n); a full group of 7 bytes has 17.
DECIMAL_WIDTHS = [0, 3, 5, 8, 10, 13, 15, 17]


def decimal_decode(text):
    """The bytes of a SPEC §4 decimal fragment; ValueError when malformed."""
    full, rest = divmod(len(text), 17)
    if not text or not text.isascii() or not text.isdigit() or rest not in DECIMAL_WIDTHS[:7]:
        raise ValueError(f"not a decimal token (length {len(text)})")
    sizes = [7] * full + ([DECIMAL_WIDTHS.index(rest)] if rest else [])
    out, pos = bytearray(), 0
    for n in sizes:
        width = DECIMAL_WIDTHS[n]
        value = int(text[pos:pos + width])
        pos += width
        if value >= 256 ** n:
            raise ValueError(f"decimal group {text[pos - width:pos]} too large for {n} bytes")
        out += value.to_bytes(n, "big")
    return bytes(out)


def load_cose(blob):
    """COSE bytes from raw CBOR, or from a URL / fragment text (decimal or base64url)."""
    if blob[:1] in (b"\xd2", b"\x84"):
        return blob
    text = blob.decode("ascii").strip()
    if "#" in text:
        text = text.split("#", 1)[1]
    if text.isdigit():
        return decimal_decode(text)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def to_json(value):
    """CBOR data model -> JSON data model."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, cbor2.CBORTag):
        return {"tag": value.tag, "value": to_json(value.value)}
    return value


def rfc3339(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# Document types by their number in the token.
DOCUMENT_TYPES = ["BIR", "TI", "PASSPORT"]


def ccr_claims(claims):
    """The token claims in the report JSON form (same names as the Rust TokenClaims)."""
    cert = claims[-65537]
    status_list = claims[65535]["status_list"]
    return {
        "number": claims[2],
        "name_latin": cert[1],
        "name_chinese": cert.get(2),
        # RFC 8943 day count since 1970-01-01.
        "date_of_birth": (datetime.date(1970, 1, 1) + datetime.timedelta(days=cert[3])).isoformat(),
        "document": {"type": DOCUMENT_TYPES[cert[4][0]], "last3": cert[4][1]},
        "usage": cert[5],
        "record_result": cert[6],
        "transfer_to": cert.get(7),
        "issued_at": rfc3339(claims[6]),
        "expires_at": rfc3339(claims[4]),
        "status": {"uri": status_list["uri"], "idx": status_list["idx"]},
        "digest": cert[8].hex(),
    }


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    flags = {a for a in argv[1:] if a.startswith("--")}
    if len(args) != 2 or not flags <= {"--ccr"}:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args[0], "rb") as f:
            cose_blob = f.read()
        with open(args[1], "rb") as f:
            key = load_public_key(f.read())
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    numbers = key.public_numbers()
    cose_key = EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"))
    try:
        data = load_cose(cose_blob)
        if data[:1] != b"\xd2":
            data = b"\xd2" + data  # pycose wants the COSE_Sign1 tag
        msg = Sign1Message.decode(data)
        msg.key = cose_key
        valid = msg.verify_signature()
    except Exception as e:  # noqa: BLE001 - any decoding failure is a rejection
        print(f"invalid: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if not valid:
        print("invalid: signature does not verify", file=sys.stderr)
        return 1
    claims = cbor2.loads(msg.payload)
    out = ccr_claims(claims) if "--ccr" in flags else to_json(claims)
    print(json.dumps(out, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
