#!/usr/bin/env bash
# Issue 14, must-show 5: PKCS#11 (SoftHSM2) against file keys.
#  1. signatures per second: `cargo bench -p ccr-pki --bench pkcs11` (criterion, in-process);
#  2. issuance per certificate: N × `issuer issue` on a file-key home and on an HSM home
#     (same binary, so the difference is the token; process start and registry included).
# Usage: benches/hsm/run.sh [N=20]   (needs softhsm2; builds the issuer in release mode, or
# with PROFILE=debug in the debug profile)
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-20}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$WORK/tokens" >"$WORK/softhsm2.conf"
export SOFTHSM2_CONF="$WORK/softhsm2.conf"
PIN=4711
softhsm2-util --init-token --free --label bench --pin "$PIN" --so-pin 0000 >/dev/null
softhsm2-util --init-token --free --label online --pin "$PIN" --so-pin 0000 >/dev/null
(umask 077 && echo "$PIN" >"$WORK/pin")

CCR_BENCH_TOKEN=bench CCR_BENCH_PIN="$PIN" cargo bench -p ccr-pki --bench pkcs11 -- --noplot

PROFILE="${PROFILE:-release}"
if [ "$PROFILE" = debug ]; then
  cargo build --quiet -p ccr-issuer --bin issuer
else
  cargo build --release --quiet -p ccr-issuer --bin issuer
fi
ISSUER="${CARGO_TARGET_DIR:-target}/$PROFILE/issuer"
"$ISSUER" init --home "$WORK/file" >/dev/null
"$ISSUER" init --home "$WORK/hsm" --pkcs11-module /usr/lib/softhsm/libsofthsm2.so \
  --token-label online --pin-file "$WORK/pin" >/dev/null
for home in file hsm; do
  start=$(date +%s%N)
  for i in $(seq "$N"); do
    "$ISSUER" issue --home "$WORK/$home" --request fixtures/requests/chan-tai-man.json \
      --out "$WORK/$home-$i.pdf" >/dev/null
  done
  end=$(date +%s%N)
  echo "issuance, $home keys: $(( (end - start) / N / 1000000 )) ms per certificate ($N certificates, one process each)"
done
