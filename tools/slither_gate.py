#!/usr/bin/env python3
"""Fail on any High or Medium slither finding that docs/static-analysis.md has not triaged.

Usage: slither_gate.py REPORT.json TRIAGE.json [--log SLITHER.log] [--suggest]

REPORT.json is slither's `--json` output. TRIAGE.json lists the accepted findings, each keyed by
what the finding is about rather than where it sits, so an edit elsewhere in a file does not
un-triage it (slither's own triage database, slither.db.json, keys findings by a hash that
includes byte offsets, and any edit above a finding re-raises it):

    {"id": "SA-01", "detector": "reentrancy-no-eth",
     "function": "Rollup._claim(Rollup.Tips,SignedEpochProofQuote)",
     "nodes": ["ESCROW.stakeBond(q.prover,q.bondAmount)", "claim = Claim(...)"],
     "verdict": "false positive", "reason": "..."}

A finding matches an entry when the detector, the function (or contract) the finding is in, and
the set of source expressions it points at are all equal. Every entry must also appear in
docs/static-analysis.md under its id.

With --log (slither's own output), the gate also fails when slither could not turn a function of
contracts/ into its IR ("Impossible to generate IR for ..."): slither then runs its detectors
without that function's body, so the function goes unchecked and what it writes looks unwritten
(spurious uninitialized-state findings). That error is only logged; the JSON report omits it.

Exit status: 0 when every High/Medium finding matches an entry and every function was analysed,
1 otherwise (the unmatched findings are printed, with --suggest as entries to fill in).
"""

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

GATED = ("High", "Medium")
DOC = Path(__file__).resolve().parent.parent / "docs" / "static-analysis.md"


def _where(element):
    """Contract.signature for a function, Contract for a contract, the bare name otherwise."""
    fields = element.get("type_specific_fields", {})
    parent = fields.get("parent", {})
    if element["type"] == "function":
        return f"{parent.get('name', '?')}.{fields.get('signature', element['name'])}"
    return element["name"]


def finding_key(result):
    elements = result.get("elements", [])
    first = elements[0] if elements else {}
    where = _where(first) if first else ""
    nodes = sorted({e["name"] for e in elements if e["type"] == "node"})
    return result["check"], where, nodes


def location(result):
    """file#line of the first flagged statement (else of the function)."""
    elements = result.get("elements", [])
    for e in sorted(elements, key=lambda e: e["type"] != "node"):
        sm = e.get("source_mapping", {})
        if sm.get("filename_relative") and sm.get("lines"):
            return f"{sm['filename_relative']}#{sm['lines'][0]}"
    return "?"


IR_FAILURE = re.compile(r"Impossible to generate IR for (\S+) \((contracts/[^)#]+)")


def unanalysed(log_text):
    """Functions of contracts/ slither could not convert to IR, as (function, file), in order."""
    return list(dict.fromkeys(IR_FAILURE.findall(log_text)))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("triage")
    ap.add_argument("--log")
    ap.add_argument("--suggest", action="store_true")
    args = ap.parse_args(argv[1:])
    report = json.loads(Path(args.report).read_text())
    triage = json.loads(Path(args.triage).read_text())
    suggest = args.suggest

    if not report.get("success", False):
        print(f"slither-gate: slither did not succeed: {report.get('error')}", file=sys.stderr)
        return 1
    results = report.get("results", {}).get("detectors", [])

    # A filter that matched the checkout's own path would hide every finding: make sure the
    # contracts were analysed at all (the Low timestamp/reentrancy findings are always there).
    if not any(
        e.get("source_mapping", {}).get("filename_relative", "").startswith("contracts/")
        for r in results
        for e in r.get("elements", [])
    ):
        print("slither-gate: no finding at all in contracts/: was anything analysed?", file=sys.stderr)
        return 1

    doc = DOC.read_text() if DOC.exists() else ""
    entries = triage["findings"]
    problems = []
    if args.log:
        for function, path in unanalysed(Path(args.log).read_text(errors="replace")):
            problems.append(
                f"slither could not analyse {function} ({path}): its findings there are unreliable "
                "(see docs/static-analysis.md, 'Functions slither cannot analyse')"
            )
    for entry in entries:
        if not re.search(rf"\b{re.escape(entry['id'])}\b", doc):
            problems.append(f"triage entry {entry['id']} is not explained in {DOC.name}")
        if not entry.get("reason") or entry.get("verdict") not in ("false positive", "accepted"):
            problems.append(f"triage entry {entry['id']} needs a verdict and a reason")

    index = {}
    for entry in entries:
        index.setdefault((entry["detector"], entry["function"], tuple(sorted(entry["nodes"]))), entry)

    counts = Counter(r["impact"] for r in results)
    print(
        "slither-gate: "
        + ", ".join(f"{counts.get(i, 0)} {i}" for i in ("High", "Medium", "Low", "Informational", "Optimization"))
    )

    untriaged, used = [], set()
    for r in results:
        if r["impact"] not in GATED:
            continue
        check, where, nodes = finding_key(r)
        entry = index.get((check, where, tuple(nodes)))
        if entry is None:
            untriaged.append(r)
        else:
            used.add(entry["id"])
            print(f"  triaged {entry['id']}: {r['impact']} {check} in {where} ({entry['verdict']})")

    for entry in entries:
        if entry["id"] not in used:
            print(f"  note: {entry['id']} ({entry['detector']} in {entry['function']}) no longer reported")

    for r in untriaged:
        check, where, nodes = finding_key(r)
        print(f"\nUNTRIAGED {r['impact']} {check} at {location(r)}:\n{r['description'].rstrip()}")
        if suggest:
            print(
                json.dumps(
                    {"id": "SA-??", "detector": check, "function": where, "nodes": nodes,
                     "verdict": "", "reason": ""},
                    indent=2,
                )
            )

    for p in problems:
        print(f"slither-gate: {p}", file=sys.stderr)
    if untriaged:
        print(
            f"\nslither-gate: {len(untriaged)} High/Medium finding(s) not triaged: fix them, or explain "
            "them in docs/static-analysis.md and add them to tools/slither-triage.json "
            "(`make slither SLITHER_GATE_FLAGS=--suggest` prints entries to fill in).",
            file=sys.stderr,
        )
    return 1 if untriaged or problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
