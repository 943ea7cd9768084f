"""Schemathesis hooks for Corridor's API contract run (.ci/api_contract.sh).

Ledger events must be signed: the hook serialises each generated body itself and signs exactly
those bytes with the ledger's secret, as a ledger would (HMAC-SHA256 over "{t}.{body}", header
x-corridor-signature: t=...,v1=...), so that generated events reach validation instead of all
stopping at 401. Bank callbacks are signed the same way with the bank's callback secret.
"""
import hashlib
import hmac
import json
import os
import time

import schemathesis

LEDGER_ID = os.environ.get("CORRIDOR_CONTRACT_LEDGER", "demo-ledger")
LEDGER_SECRET = os.environ.get("CORRIDOR_CONTRACT_LEDGER_SECRET", "ledger-secret").encode()
BANK_SECRET = os.environ.get("CORRIDOR_CONTRACT_BANK_SECRET", "bank-callback-secret").encode()


def _sign(secret: bytes, body: bytes) -> str:
    t = int(time.time())
    mac = hmac.new(secret, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    path = case.operation.path
    if path == "/v1/ledger/events":
        secret, extra = LEDGER_SECRET, {"x-corridor-ledger": LEDGER_ID}
    elif path == "/v1/banks/{bank}/messages":
        secret, extra = BANK_SECRET, {}
    else:
        return
    body = case.body
    if isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode()
    else:
        try:
            raw = json.dumps(body, allow_nan=False).encode()
        except (TypeError, ValueError):
            return  # not JSON: goes unsigned, and must be refused as such
    case.body = raw
    headers = dict(case.headers or {})
    headers.update(extra)
    headers["x-corridor-signature"] = _sign(secret, raw)
    case.headers = headers
