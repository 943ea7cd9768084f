#!/usr/bin/env python3
"""Runs two independent CBPR+ usage-rule checkers over what the gateway renders.

    python3 .ci/cbpr_oracle.py RENDER_DIR [--known FILE] [--year YEAR ...]

RENDER_DIR holds the files tests/render_conformance.rs writes: `N.head.001.001.02.xml` (the
AppHdr of pacs.008 number N), `N.pacs.008.001.08.xml` (its Document) and `N.pacs.028.001.03.xml`
(the Document of the status request about it). A pacs.008 is checked with its AppHdr, put back
together in an envelope as the gateway sends it, so that the rules tying the header to the
document (From/To against the agents, BizSvc, MsgDefIdr, BizMsgIdr) run too.

The checkers are the PyPI packages `cbpr-usage-rules` (module `cbpr_rules`, usage rules per
release year: 2025 and 2026 unless `--year` says otherwise) and `cbpr-validate` (module `cbpr_validate`, run with its strict `sr2026`
profile, where an address without a town and a country is an error). Any finding fails the
run (exit 1) unless its rule is listed in the known-disagreements file, one line per rule:

    CHECKER:RULE | why the checker is wrong here | where that is written

with CHECKER `cbpr-usage-rules/YEAR` or `cbpr-validate` and RULE as the checker names it
(`pacs.008:R8`, `CBPR-STR-004`).

Reported: violations of `cbpr_rules`; ERROR and WARN findings of `cbpr_validate`, and its
INFO address classification when it is anything but structured or hybrid. A message kind a
checker has no rules for (cbpr-validate and pacs.028) is counted and said, not passed off as
checked. Exit 2 on a usage error or a missing checker.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

FILE_NAME = re.compile(r"^(\d+)\.(head\.001\.001\.\d\d|pacs\.008\.001\.\d\d|pacs\.028\.001\.\d\d)\.xml$")
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")
ENVELOPE = '<Envelope xmlns="urn:swift:xsd:envelope">{}{}</Envelope>'
# cbpr-validate: address classifications that are fine under CBPR+.
GOOD_ADDRESS = ("structured", "hybrid")


def load_known(path: Path) -> dict[str, str]:
    """CHECKER:RULE -> reason, from the known-disagreements file."""
    known: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3 or not all(parts) or ":" not in parts[0]:
            sys.exit(f"{path}:{number}: expected 'CHECKER:RULE | reason | source', got {line!r}")
        known[parts[0]] = parts[1]
    return known


def read_part(path: Path) -> str:
    return XML_DECLARATION.sub("", path.read_text(encoding="utf-8"), count=1)


def messages(render_dir: Path) -> list[tuple[str, str, str]]:
    """(name, kind, xml) for every pacs.008 (with its AppHdr) and pacs.028 in the folder."""
    parts: dict[str, dict[str, Path]] = defaultdict(dict)
    for path in sorted(render_dir.iterdir()):
        match = FILE_NAME.match(path.name)
        if match:
            parts[match.group(1)][match.group(2)[:8]] = path
    out = []
    for number, kinds in sorted(parts.items()):
        if "pacs.008" in kinds:
            header = kinds.get("head.001")
            if header is None:
                sys.exit(f"{number}: a pacs.008 without its head.001 AppHdr in {render_dir}")
            xml = ENVELOPE.format(read_part(header), read_part(kinds["pacs.008"]))
            out.append((f"{number}.pacs.008+head.001", "pacs.008", xml))
        if "pacs.028" in kinds:
            out.append((f"{number}.pacs.028", "pacs.028", read_part(kinds["pacs.028"])))
    return out


def usage_rules(xml: str, year: int) -> list[tuple[str, str]]:
    """(rule, text) for each violation that cbpr-usage-rules reports."""
    import cbpr_rules

    result = cbpr_rules.validate_string(xml, year=year)
    return [
        (
            f"cbpr-usage-rules/{year}:{v['rule_number']}",
            f"{v.get('detail') or v['description']} at {v['xpath']}",
        )
        for v in result["violations"]
    ]


def validate(xml: str) -> list[tuple[str, str]] | None:
    """(rule, text) for each finding of cbpr-validate that counts; None if the kind is not
    one it has rules for."""
    from cbpr_validate import validate_string

    result = validate_string(xml, profile="sr2026")
    out = []
    for f in result.findings:
        rule = f"cbpr-validate:{f.rule_id}"
        if f.rule_id == "ORCH-UNSUPPORTED":
            return None
        if f.severity.value == "INFO":
            if f.rule_id == "CBPR-ADDR-005" and f.message.endswith(GOOD_ADDRESS):
                continue
            if f.rule_id == "CBPR-ADDR-005" or f.rule_id == "CBPR-AGT-003":
                out.append((rule, f"{f.message} at {f.location}"))
            continue
        out.append((rule, f"{f.severity.value}: {f.message} at {f.location}"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("render_dir", type=Path)
    parser.add_argument(
        "--known",
        type=Path,
        default=Path(__file__).with_name("cbpr-known-disagreements.txt"),
        help="the known-disagreements file (default: beside this script)",
    )
    parser.add_argument(
        "--year",
        type=int,
        action="append",
        help="cbpr-usage-rules release year (repeatable; default 2025 and 2026)",
    )
    args = parser.parse_args()
    try:
        import cbpr_rules  # noqa: F401
        import cbpr_validate  # noqa: F401
    except ImportError as error:
        print(f"checker missing: {error}; pip install cbpr-usage-rules cbpr-validate")
        return 2
    known = load_known(args.known)
    found = messages(args.render_dir)
    if not found:
        print(f"no rendered pacs.008 or pacs.028 in {args.render_dir}")
        return 2

    checked: Counter[str] = Counter()
    uncovered: Counter[str] = Counter()
    findings: list[tuple[str, str, str]] = []
    tolerated: Counter[str] = Counter()
    for name, kind, xml in found:
        results = [
            (f"cbpr-usage-rules/{year}", usage_rules(xml, year)) for year in args.year or [2025, 2026]
        ]
        results.append(("cbpr-validate", validate(xml)))
        for checker, result in results:
            if result is None:
                uncovered[f"{checker} {kind}"] += 1
                continue
            checked[f"{checker} {kind}"] += 1
            for rule, text in result:
                if rule in known:
                    tolerated[rule] += 1
                else:
                    findings.append((name, rule, text))

    for what, count in sorted(checked.items()):
        print(f"checked  {count:4} × {what}")
    for what, count in sorted(uncovered.items()):
        print(f"no rules {count:4} × {what} (the checker does not cover this message kind)")
    for rule, count in sorted(tolerated.items()):
        print(f"known    {count:4} × {rule}: {known[rule]}")
    for rule in sorted(set(known) - set(tolerated)):
        print(f"unused   known disagreement {rule} (no longer reported; remove it?)")
    for name, rule, text in findings:
        print(f"FINDING  {name} [{rule}] {text}")
    if findings:
        print(f"{len(findings)} finding(s) in {len(found)} messages")
        return 1
    print(f"{len(found)} messages, no finding beyond the known disagreements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
