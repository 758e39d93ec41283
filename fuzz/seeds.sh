#!/usr/bin/env bash
# Writes the fuzz targets' seed corpora under fuzz/seeds/<target>/ from the fixtures: a fresh
# issuer home issues the fixture requests (one revoked, one B-LTA copy), and the seeds are
# the PDFs, their CMS signatures and time-stamp tokens, the TSTInfos, the QR token URLs, the
# status lists, the request JSONs and evidence bundles. Also seeds/root.pem and bundle.pem,
# which the targets verify against (fuzz/src/lib.rs).
#
# Usage: fuzz/seeds.sh [BIN_DIR]   (BIN_DIR holds built `issuer` and `verifier`;
#                                   default $CARGO_TARGET_DIR/debug or target/debug)
# Needs python3 with asn1crypto (pyHanko's venv), pdftoppm and zbarimg.
set -euo pipefail
cd "$(dirname "$0")"
FUZZ="$(pwd)"
BIN="${1:-${CARGO_TARGET_DIR:-$FUZZ/../target}/debug}"
ISSUER="$BIN/issuer"
VERIFIER="$BIN/verifier"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
HOME_DIR="$WORK/home"
SEEDS="$FUZZ/seeds"
TARGETS="pdf_parse pades_check cms_signed_data tst_info token status_list certificate_request evidence_bundle trust_bundle"
rm -rf "$SEEDS"
for t in $TARGETS; do mkdir -p "$SEEDS/$t"; done

"$ISSUER" init --home "$HOME_DIR" >/dev/null
n=0
for req in ../fixtures/requests/*.json; do
  n=$((n + 1))
  "$ISSUER" issue --home "$HOME_DIR" --request "$req" --out "$WORK/cert-$n.pdf" \
    > "$WORK/cert-$n.number"
done
"$ISSUER" timestamp --home "$HOME_DIR" "$WORK/cert-1.pdf" --out "$WORK/cert-1-lta.pdf" >/dev/null
"$ISSUER" revoke --home "$HOME_DIR" "$(tail -n1 "$WORK/cert-2.number")" --reason keyCompromise >/dev/null \
  || "$ISSUER" revoke --home "$HOME_DIR" "$(tail -n1 "$WORK/cert-2.number")" --reason key_compromise >/dev/null
"$ISSUER" export-trust --home "$HOME_DIR" --out "$WORK/trust" >/dev/null
cp "$WORK/trust/root.pem" "$SEEDS/root.pem"
cp "$WORK/trust/bundle.pem" "$SEEDS/bundle.pem"
cp "$WORK/trust/bundle.json" "$SEEDS/trust_bundle/signed.json"
cp "$WORK/trust/bundle.pem" "$SEEDS/trust_bundle/chain.pem"
status="$(ls "$WORK"/trust/status-*.cwt | head -n1)"
cp "$WORK"/trust/status-*.cwt "$SEEDS/status_list/"

for pdf in "$WORK"/cert-*.pdf; do
  cp "$pdf" "$SEEDS/pdf_parse/"
  cp "$pdf" "$SEEDS/pades_check/"
  base="$(basename "$pdf" .pdf)"
  "$VERIFIER" check "$pdf" --trust "$WORK/trust/root.pem" --status "$status" \
    --evidence "$SEEDS/evidence_bundle/$base.json" --json >/dev/null || true
  # The token, as the QR code carries it (a URL with the token in its fragment).
  pdftoppm -r 150 -png -f 1 -l 1 -singlefile "$pdf" "$WORK/$base"
  zbarimg --raw -q "$WORK/$base.png" > "$SEEDS/token/$base.url" || true
done
cp ../fixtures/requests/*.json ../fixtures/requests/bad/*.json "$SEEDS/certificate_request/"

# CMS signatures, time-stamp tokens and TSTInfos, out of the PDFs' /Contents.
python3 - "$SEEDS" "$WORK"/cert-*.pdf <<'PY'
import re, sys, hashlib
from asn1crypto import cms
seeds = sys.argv[1]
def save(target, der):
    with open(f"{seeds}/{target}/{hashlib.sha256(der).hexdigest()[:16]}", "wb") as f:
        f.write(der)
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    for m in re.finditer(rb"/Contents\s*<([0-9A-Fa-f]+)>", data):
        raw = bytes.fromhex(m.group(1).decode())
        try:
            info = cms.ContentInfo.load(raw, strict=False)
            der = info.dump()
        except ValueError:
            continue
        save("cms_signed_data", der)
        tokens = []
        sd = info["content"]
        if sd["encap_content_info"]["content_type"].native == "tst_info":
            tokens.append(info)
        for si in sd["signer_infos"]:
            for attr in si["unsigned_attrs"] or []:
                if attr["type"].native == "signature_time_stamp_token":
                    tokens.extend(attr["values"])
        for tok in tokens:
            save("cms_signed_data", tok.dump())
            tst = tok["content"]["encap_content_info"]["content"]
            save("tst_info", tst.parsed.dump())
PY
for t in $TARGETS; do
  printf '%-22s %3d seeds\n' "$t" "$(ls "$SEEDS/$t" | wc -l)"
done
