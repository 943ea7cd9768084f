#!/usr/bin/env bash
# Schema conformance: render a broad deterministic sample of every message kind this crate
# writes and validate each file against the official XSDs with xmllint.
#
# Run from the repository root, with ../shared beside it:
#   adapters/iso20022/ci/conformance.sh [COUNT]
# COUNT is the number of messages per kind (default 300). XSD_DIR overrides the schema folder.
# Needs xmllint (Debian/Ubuntu: apt-get install libxml2-utils). Exits non-zero on any failure.
set -euo pipefail

count="${1:-300}"
xsd_dir="${XSD_DIR:-../shared/iso20022/xsd}"

if ! command -v xmllint >/dev/null 2>&1; then
    echo "conformance: xmllint not found (apt-get install libxml2-utils)" >&2
    exit 2
fi
if [ ! -d "$xsd_dir" ]; then
    echo "conformance: schema folder $xsd_dir not found (run from the repository root)" >&2
    exit 2
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

cargo run --quiet -p corridor-iso20022 --example render_samples -- "$out" "$count"

status=0
kinds=0
for dir in "$out"/*/; do
    kind="$(basename "$dir")"
    kinds=$((kinds + 1))
    xsd="$xsd_dir/$kind.xsd"
    files=$(find "$dir" -name '*.xml' | wc -l)
    if [ ! -f "$xsd" ]; then
        echo "FAIL $kind: no schema $xsd"
        status=1
        continue
    fi
    if xmllint --noout --schema "$xsd" "$dir"*.xml 2>"$out/$kind.log"; then
        echo "ok   $kind: $files files valid"
    else
        echo "FAIL $kind:"
        grep -v ' validates$' "$out/$kind.log" | head -20
        status=1
    fi
done
if [ "$kinds" -eq 0 ]; then
    echo "conformance: render_samples produced nothing" >&2
    exit 1
fi
exit "$status"
