#!/usr/bin/env bash
# The side-by-side benchmark (issue 15): our verifier and signer against pyHanko, one run on
# one machine. Needs pyHanko (the CI venv: PATH=.venv/bin:$PATH). Writes OUT_DIR (default
# target/compare): the PDFs, ours.json, pyhanko.json, table.md and compare.png.
#
# Usage: benches/compare/run.sh [OUT_DIR]
#   env VERIFY_RUNS (500), SIGN_RUNS (200): our in-process runs;
#       PYHANKO_VERIFY_RUNS (60), PYHANKO_SIGN_RUNS (40), CLI_RUNS (5): pyHanko's.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET="${CARGO_TARGET_DIR:-$(pwd)/target}"
OUT="$(realpath -m "${1:-$TARGET/compare}")"
rm -rf "$OUT"
mkdir -p "$OUT"
# The CLI in the bench profile (optimised, like the bench; the same dependency builds).
cargo build --profile bench -p ccr-verifier --bin verifier
cargo bench -p ccr-issuer --bench compare -- "$OUT" "${VERIFY_RUNS:-500}" "${SIGN_RUNS:-200}"
python3 benches/compare/compare.py "$OUT" "$TARGET/release/verifier"
