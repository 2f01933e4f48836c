#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Markdown ratio table for any benchmark registered as a BM_spectral/<tail>, BM_torch/<tail>
pair (spectral_loader_bench): one row per tail, each side's best repetition, the ratio
torch/spectral, and the counters the rows report (e.g. max_abs_diff).

    scripts/pair_table.py results.json [-o table.md]
"""
import argparse
import json
import math
import sys

TO_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
NOT_COUNTERS = {"name", "run_name", "run_type", "family_index", "per_family_instance_index",
                "repetitions", "repetition_index", "threads", "iterations", "real_time",
                "cpu_time", "time_unit", "aggregate_name", "aggregate_unit", "error_occurred",
                "error_message"}


def collect(benchmarks):
    """{tail: {"BM_spectral"|"BM_torch": {"times": [µs per repetition], "counters": {...}
    [, "error": message]}}} in the order the rows first appear; aggregates are skipped, and a
    manual-time suffix is not part of the tail."""
    rows = {}
    for b in benchmarks:
        name = b.get("run_name", b["name"]).removesuffix("/manual_time")
        side, _, tail = name.partition("/")
        if side not in ("BM_spectral", "BM_torch") or b.get("run_type") == "aggregate":
            continue
        entry = rows.setdefault(tail, {}).setdefault(side, {"times": [], "counters": {}})
        if b.get("error_occurred"):
            entry["error"] = b.get("error_message", "error")
            continue
        entry["times"].append(b["real_time"] * TO_US[b.get("time_unit", "ns")])
        entry["counters"].update({k: v for k, v in b.items() if k not in NOT_COUNTERS})
    return rows


def table(data):
    ctx = data.get("context", {})
    rows = collect(data.get("benchmarks", []))
    counters = sorted({k for r in rows.values() for s in r.values() for k in s["counters"]})
    lines = [f"Machine: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs @ "
             f"{ctx.get('mhz_per_cpu', '?')} MHz, load avg {ctx.get('load_avg', '?')}, "
             f"{ctx.get('date', '?')}. Best of each side's repetitions.", "",
             "| case | spectral µs | torch µs | torch / spectral | " +
             " | ".join(counters) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(counters)]
    ratios = []
    for tail in sorted(rows):
        sides = rows[tail]
        best = {s: min(v["times"]) if v["times"] else None for s, v in sides.items()}
        mine, theirs = best.get("BM_spectral"), best.get("BM_torch")
        ratio = theirs / mine if mine and theirs else None
        if ratio:
            ratios.append(ratio)
        values = []
        for k in counters:
            v = next((s["counters"][k] for s in sides.values() if k in s["counters"]), None)
            values.append("—" if v is None else f"{v:g}")
        errors = "; ".join(v["error"] for v in sides.values() if "error" in v)
        lines.append(f"| {tail} | {mine:.0f} | {theirs:.0f} | {ratio:.2f}× | " +
                     " | ".join(values) + " |" + (f" **error: {errors}**" if errors else "")
                     if ratio else f"| {tail} | — | — | — | " + " | ".join(values) +
                     f" | **error: {errors}**")
    if ratios:
        geomean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        lines += ["", f"Geometric mean of torch / spectral over {len(ratios)} rows: "
                      f"{geomean:.2f}×; smallest {min(ratios):.2f}×."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json")
    parser.add_argument("-o", "--output")
    args = parser.parse_args()
    with open(args.json, encoding="utf-8") as f:
        text = table(json.load(f))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
