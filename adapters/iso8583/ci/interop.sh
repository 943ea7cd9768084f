#!/usr/bin/env bash
# Interoperability with an independent implementation: pyiso8583 (PyPI).
# Run from the repository root:  bash adapters/iso8583/ci/interop.sh [COUNT]
set -euo pipefail
count="${1:-300}"
root="$(pwd)"
venv="${CARGO_TARGET_DIR:-$root/target}/iso8583-interop-venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'pyiso8583==4.0.1'
cargo build --quiet --release -p corridor-iso8583 --example interop
tool="${CARGO_TARGET_DIR:-$root/target}/release/examples/interop"
"$venv/bin/python" adapters/iso8583/ci/interop.py "$tool" "$root" "$count" \
  iso87ascii iso87binary iso93ascii mobile-money adapters/iso8583/ci/interop-mixed.toml
