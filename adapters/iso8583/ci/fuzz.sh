#!/usr/bin/env bash
# Run the cargo-fuzz targets for a bounded time each (needs a nightly toolchain).
# From the repository root:  bash adapters/iso8583/ci/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
cd adapters/iso8583
for target in decode frame; do
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=4096
done
