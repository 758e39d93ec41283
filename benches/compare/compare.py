#!/usr/bin/env python3
"""pyHanko's side of the side-by-side benchmark, and the table and plot (issue 15).

Usage: compare.py OUT_DIR VERIFIER_BIN   (after `cargo bench -p ccr-issuer --bench compare -- OUT_DIR`)

On the files the Rust side wrote (OUT_DIR/pdfs/*.pdf, OUT_DIR/unsigned.pdf, the issuer home's
keys) and in the same run on the same machine:
  - verification in-process: pyHanko's validate_pdf_signature with the DSS as validation
    context (trust root = the bureau's root, no fetching), against ours (`check_pdf`, every
    check including the token and the status list);
  - verification on the command line (wall, process start included): `verifier check`
    against `pyhanko sign validate` and `pyhanko sign adesverify`;
  - PAdES B-T signing in-process with the same P-256 document-signer key and the same TSA
    key (pyHanko's in-process DummyTimeStamper, our in-process TSA): PdfSigner.sign_pdf
    against ours (`pades::sign_pdf`).
Writes OUT_DIR/pyhanko.json, OUT_DIR/table.md (printed too) and OUT_DIR/compare.png.
"""
import io
import json
import os
import statistics
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator.registry import SimpleCertificateStore

out = Path(sys.argv[1])
verifier_bin = sys.argv[2]
VERIFY_RUNS = int(os.environ.get("PYHANKO_VERIFY_RUNS", "60"))
SIGN_RUNS = int(os.environ.get("PYHANKO_SIGN_RUNS", "40"))
CLI_RUNS = int(os.environ.get("CLI_RUNS", "5"))
pki = out / "home" / "pki"
root = load_cert_from_pemder(str(pki / "root.pem"))
pdfs = sorted((out / "pdfs").glob("*.pdf"))


def ms(start):
    return (time.perf_counter() - start) * 1000.0


def pyhanko_validate(path):
    with open(path, "rb") as f:
        reader = PdfFileReader(f)
        dss = DocumentSecurityStore.read_dss(reader)
        vc = dss.as_validation_context(
            {"trust_roots": [root], "allow_fetching": False, "revocation_mode": "soft-fail"}
        )
        sig = reader.embedded_signatures[0]
        status = validate_pdf_signature(sig, vc)
        return status


for p in pdfs:  # warm-up, and a check that pyHanko accepts what it is timed on
    status = pyhanko_validate(p)
    assert status.bottom_line, f"pyHanko does not accept {p}: {status.pretty_print_details()}"
verify = []
for i in range(VERIFY_RUNS):
    start = time.perf_counter()
    pyhanko_validate(pdfs[i % len(pdfs)])
    verify.append(ms(start))

# B-T signing with the same keys.
signer = signers.SimpleSigner(
    signing_cert=load_cert_from_pemder(str(pki / "document-signer.pem")),
    signing_key=load_private_key_from_pemder(str(pki / "document-signer.key.p8"), None),
    cert_registry=SimpleCertificateStore.from_certs(
        [load_cert_from_pemder(str(pki / "issuing-ca.pem"))]
    ),
)
class EcdsaTimeStamper(DummyTimeStamper):
    """pyHanko's in-process TSA, which signs with RSA only, signing with our P-256 TSA key."""

    def _sign_tst_info(self, tst_info_data, md_algorithm, dt):
        from asn1crypto import cms, core
        from pyhanko.sign import general
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from pyhanko.sign.general import simple_cms_attribute
        md = hashes.Hash(hashes.SHA256())
        md.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", md.finalize()),
        ])
        key = serialization.load_der_private_key(self.tsa_key.dump(), password=None)
        return key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256())), signed_attrs

    def _build_signed_data(self, *args, **kwargs):
        from asn1crypto import algos
        data = super()._build_signed_data(*args, **kwargs)
        for info in data["signer_infos"]:
            info["signature_algorithm"] = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
        return data


timestamper = EcdsaTimeStamper(
    tsa_cert=load_cert_from_pemder(str(pki / "tsa.pem")),
    tsa_key=load_private_key_from_pemder(str(pki / "tsa.key.p8"), None),
    certs_to_embed=SimpleCertificateStore.from_certs(
        [load_cert_from_pemder(str(pki / "issuing-ca.pem"))]
    ),
)
unsigned = (out / "unsigned.pdf").read_bytes()
meta = signers.PdfSignatureMetadata(
    field_name="Signature1",
    md_algorithm="sha256",
    subfilter=fields.SigSeedSubFilter.PADES,
)
pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper)


def pyhanko_sign():
    w = IncrementalPdfFileWriter(io.BytesIO(unsigned))
    return pdf_signer.sign_pdf(w).getvalue()


(out / "signed-by-pyhanko.pdf").write_bytes(pyhanko_sign())
signing = []
for _ in range(SIGN_RUNS):
    start = time.perf_counter()
    pyhanko_sign()
    signing.append(ms(start))


def wall(cmd, runs):
    times = []
    for i in range(runs):
        c = [a.replace("{pdf}", str(pdfs[i % len(pdfs)])) for a in cmd]
        start = time.perf_counter()
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(ms(start))
    return times


root_pem = str(pki / "root.pem")
ours_cli = wall([verifier_bin, "check", "{pdf}", "--trust", root_pem, "--json"], CLI_RUNS * 4)
pyhanko_cli = wall(["pyhanko", "sign", "validate", "--trust", root_pem, "--trust-replace",
                    "--no-revocation-check", "{pdf}"], CLI_RUNS)
ades_cli = wall(["pyhanko", "sign", "adesverify", "--trust", root_pem, "{pdf}"], CLI_RUNS)
(out / "pyhanko.json").write_text(json.dumps({
    "verify_in_process_ms": verify, "sign_bt_in_process_ms": signing,
    "verify_cli_validate_ms": pyhanko_cli, "verify_cli_adesverify_ms": ades_cli,
    "ours_verify_cli_ms": ours_cli,
}))

ours = json.loads((out / "ours.json").read_text())


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


rows = [
    ("verification, in-process", ours["verify_in_process_ms"], verify, "validate_pdf_signature (DSS as context)"),
    ("verification, CLI wall", ours_cli, pyhanko_cli, "pyhanko sign validate"),
    ("verification, CLI wall", ours_cli, ades_cli, "pyhanko sign adesverify"),
    ("B-T signing, in-process", ours["sign_bt_in_process_ms"], signing, "PdfSigner.sign_pdf + in-process TSA (P-256)"),
]
lines = [
    "| operation | ours median | ours p95 | pyHanko | pyHanko median | pyHanko p95 | ratio (median) | runs (ours / pyHanko) |",
    "|---|---:|---:|---|---:|---:|---:|---:|",
]
for name, a, b, what in rows:
    lines.append(
        f"| {name} | {statistics.median(a):.2f} ms | {p95(a):.2f} ms | {what} | "
        f"{statistics.median(b):.1f} ms | {p95(b):.1f} ms | "
        f"{statistics.median(b) / statistics.median(a):.0f}× | {len(a)} / {len(b)} |"
    )
table = "\n".join(lines)
(out / "table.md").write_text(table + "\n")
print(table)


# The plot: median bars per row, log scale, ours blue and pyHanko orange (a PNG written with
# zlib alone, so no plotting library is needed).
W, H, M = 720, 360, 40
img = [[(255, 255, 255)] * W for _ in range(H)]


def rect(x0, y0, x1, y1, color):
    for y in range(max(0, y0), min(H, y1)):
        row = img[y]
        for x in range(max(0, x0), min(W, x1)):
            row[x] = color


import math
top = max(max(statistics.median(b) for _, _, b, _ in rows), 1.0)
lo = 0.1
scale = lambda v: int((H - 2 * M) * (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(top) - math.log10(lo)))
for decade in range(-1, int(math.log10(top)) + 1):  # grid lines at 0.1, 1, 10, 100 ... ms
    y = H - M - scale(10 ** decade)
    rect(M, y, W - M, y + 1, (210, 210, 210))
rect(M, H - M, W - M, H - M + 2, (0, 0, 0))
slot = (W - 2 * M) // len(rows)
for i, (_, a, b, _) in enumerate(rows):
    x = M + i * slot + slot // 6
    w = slot // 3
    for j, (vals, color) in enumerate([(a, (31, 119, 180)), (b, (255, 127, 14))]):
        h = scale(statistics.median(vals))
        rect(x + j * w, H - M - h, x + (j + 1) * w - 4, H - M, color)
raw = b"".join(b"\0" + bytes(c for px in row for c in px) for row in img)
chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
(out / "compare.png").write_bytes(png)
print(f"\nplot: {out / 'compare.png'} (median per row, log scale from 0.1 ms; blue ours, orange pyHanko; "
      f"rows left to right as in the table; grey lines at each power of ten ms)")
