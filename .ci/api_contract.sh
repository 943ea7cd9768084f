#!/usr/bin/env bash
# The API keeps its own contract: start the gateway (debug build) with the simulated bank as in
# the README, validate the served /openapi.json as OpenAPI 3.1 (openapi-spec-validator), then
# let schemathesis drive every operation with generated requests, signed where the API wants a
# signature (.ci/schemathesis_hooks.py). Any 5xx, undocumented status, body unlike its
# documented schema or wrong content type fails.
#
# Usage: .ci/api_contract.sh [EXAMPLES_PER_OPERATION]   (PyPI packages in a cached virtualenv)
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-60}"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/corridor-api-contract"
pins=(schemathesis==4.32.5 openapi-spec-validator==0.9.0)
if ! "$venv/bin/python" -c 'import schemathesis, openapi_spec_validator' >/dev/null 2>&1; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${pins[@]}"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --quiet
bin=target/debug/corridor
port_api=18080
port_bank=18443
sed -e "s|127.0.0.1:8080|127.0.0.1:$port_api|; s|https://127.0.0.1:8443/mx|https://127.0.0.1:$port_bank/mx|" \
    -e "s|^data_dir = .*|data_dir = \"$work/data\"|" \
    -e "s|data/sim-pki/|$work/pki/|g" \
    -e 's|^addr = "127.0.0.1:8583".*|addr = "127.0.0.1:1"|' \
    config/corridor.toml >"$work/corridor.toml"
"$bin" sim bank --bind "127.0.0.1:$port_bank" --pki-dir "$work/pki" \
    --callback-base "http://127.0.0.1:$port_api" --callback-secret bank-callback-secret \
    >"$work/bank.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -f "$work/pki/ca.pem" ] && break; sleep 0.1; done
"$bin" serve --config "$work/corridor.toml" >"$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port_api/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port_api/openapi.json" >"$work/openapi.json" \
    || { tail -n 40 "$work/gateway.log"; exit 1; }

echo "openapi-spec-validator: the served document"
"$venv/bin/openapi-spec-validator" "$work/openapi.json"

# The coverage phase is left out: schemathesis 4.32.5 fails inside it (a KeyError of its own)
# on this document; the stateful phase has no links to follow here.
run_schemathesis() {
    SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=.ci \
    "$venv/bin/schemathesis" run "$work/openapi.json" \
        --url "http://127.0.0.1:$port_api" \
        --header "Authorization: Bearer change-me-operator" \
        --phases examples,fuzzing --checks all --max-examples "$examples" --workers 2 \
        --seed 20261205 "$@" \
        || { echo "gateway log tail:"; tail -n 20 "$work/gateway.log"; exit 1; }
}
echo "schemathesis: $examples examples per operation, every check"
# ignored_auth is left out: /healthz, /readyz, /metrics and /openapi.json are public on purpose.
# The review pages (/review...) are HTML for a browser with a session cookie and a CSRF token,
# not the JSON API: tests/review_browser.rs drives them in Chromium.
run_schemathesis --exclude-checks ignored_auth,positive_data_acceptance \
    --exclude-path /v1/ledger/events --exclude-path-regex '^/review'
# POST /v1/ledger/events takes one event or a batch, and a batch is judged event by event: it
# is answered 200 with one result per event (an invalid one has status 422 in its result, the
# valid ones are taken). A batch holding an invalid event is rightly answered 2xx, so the check
# that schema-violating requests are refused is left out for this operation alone.
run_schemathesis --exclude-checks ignored_auth,positive_data_acceptance,negative_data_rejection \
    --include-path /v1/ledger/events
echo "API contract holds"
