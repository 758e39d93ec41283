#!/usr/bin/env python3
"""Independent oracle: read a Status List Token (CWT) with cbor2 + zlib only, no COSE library
and no signature check, and print the status of the given indexes.

Usage: status_bits.py FILE.cwt IDX [IDX ...]

Prints one JSON object on stdout:
  {"uri": sub, "iat": int, "exp": int|null, "ttl": int|null, "bits": int, "len": entries,
   "statuses": {"<idx>": value or null when out of range}}
Entry i is stored in byte i*bits//8 at bit offset (i*bits)%8, least significant bits first
(draft-ietf-oauth-status-list §4.1). Exits 1 when the file is not a status list CWT, 2 on
usage or I/O errors.
"""
import json
import sys
import zlib

import cbor2

MAX_INFLATED = 64 * 1024 * 1024


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[1], "rb") as f:
            blob = f.read()
        indexes = [int(a) for a in argv[2:]]
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        msg = cbor2.loads(blob)
        if isinstance(msg, cbor2.CBORTag):
            if msg.tag != 18:
                raise ValueError(f"tag {msg.tag}, expected 18")
            msg = msg.value
        protected, _unprotected, payload, _signature = msg
        header = cbor2.loads(protected) if protected else {}
        if header.get(16) != "application/statuslist+cwt":
            raise ValueError(f"typ is {header.get(16)!r}")
        claims = cbor2.loads(payload)
        status_list = claims[65533]
        bits = status_list["bits"]
        if bits not in (1, 2, 4, 8):
            raise ValueError(f"bits {bits}")
        inflater = zlib.decompressobj()
        raw = inflater.decompress(status_list["lst"], MAX_INFLATED)
        if inflater.unconsumed_tail or not inflater.eof:
            raise ValueError("status list too large or truncated")
    except Exception as e:  # noqa: BLE001 - any decoding failure is a rejection
        print(f"invalid: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    entries = len(raw) * 8 // bits
    mask = (1 << bits) - 1
    statuses = {}
    for i in indexes:
        if 0 <= i < entries:
            statuses[str(i)] = (raw[i * bits // 8] >> ((i * bits) % 8)) & mask
        else:
            statuses[str(i)] = None
    print(json.dumps({
        "uri": claims.get(2),
        "iat": claims.get(6),
        "exp": claims.get(4),
        "ttl": claims.get(65534),
        "bits": bits,
        "len": entries,
        "statuses": statuses,
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
