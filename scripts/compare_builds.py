#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Markdown comparison of two builds of spectral_cpu_bench run on the same machine: the
library's time per row in the old and the new build, the LibTorch peer's (from the new run),
both ratios torch/spectral, and per method the geometric mean of the ratios (the quantity a
change must not lower by more than 5%). Times are each side's best repetition.

    scripts/compare_builds.py old.json new.json [-o table.md] [--old-label L] [--new-label L]
                              [--pool]

Several files per side may be given as old1.json,old2.json: later files replace their rows,
or with --pool (repeated runs of the same builds) each row keeps its best time.
Exits 1 when a method's geometric mean falls more than 5% or a row of the new build is slower
than the peer.
"""
import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_table import METHODS, collect, fmt_ms, machine_line  # noqa: E402


def load(paths, stat, pool):
    """Rows of the comma-separated files: a later file replaces the rows it holds, or with
    `pool` each row keeps its best time over all files (repeated runs of the same build)."""
    runs, context = {}, {}
    for path in paths.split(","):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        context = data.get("context", context)
        fresh = collect(data["benchmarks"], stat)
        for key, row in fresh.items():
            kept = runs.get(key)
            if pool and kept and kept.get("time") is not None and (
                    row.get("time") is None or kept["time"] <= row["time"]):
                continue
            runs[key] = row
    return runs, context


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("-o", "--output")
    parser.add_argument("--old-label", default="old")
    parser.add_argument("--new-label", default="new")
    parser.add_argument("--stat", choices=["min", "median"], default="min")
    parser.add_argument("--pool", action="store_true",
                        help="files of one side are repeated runs: keep each row's best time")
    args = parser.parse_args()
    old, _ = load(args.old, args.stat, args.pool)
    new, context = load(args.new, args.stat, args.pool)

    rows, per_method, problems = [], {}, []
    keys = sorted({k[1:] for k in new if k[0] == "spectral"},
                  key=lambda k: (METHODS.index(k[0]) if k[0] in METHODS else 99, k[1:]))
    for method, axis, pas, n, d in keys:
        tail = (method, axis, pas, n, d)
        t_new = new.get(("spectral",) + tail, {}).get("time")
        t_old = old.get(("spectral",) + tail, {}).get("time")
        t_torch = new.get(("torch",) + tail, {}).get("time")
        if None in (t_new, t_old, t_torch):
            rows.append(f"| {method} | {axis} | {pas} | {n} | {d} | {fmt_ms(t_old)} | "
                        f"{fmt_ms(t_new)} | {fmt_ms(t_torch)} | — | — | — |")
            problems.append(f"{'/'.join(map(str, tail))}: a side is missing")
            continue
        r_old, r_new = t_torch / t_old, t_torch / t_new
        per_method.setdefault(method, []).append((r_old, r_new, t_new / t_old))
        flag = " ⚠" if r_new < 1.0 else ""
        if r_new < 1.0:
            problems.append(f"{'/'.join(map(str, tail))}: new build {r_new:.2f}× the peer")
        rows.append(f"| {method} | {axis} | {pas} | {n} | {d} | {fmt_ms(t_old)} | {fmt_ms(t_new)} "
                    f"| {fmt_ms(t_torch)} | {r_old:.2f} | {r_new:.2f}{flag} | "
                    f"{100.0 * (t_new / t_old - 1.0):+.0f}% |")

    out = [machine_line(context), "",
           f"Old: {args.old_label}. New: {args.new_label}. Times in ms, each side's "
           f"{'best' if args.stat == 'min' else 'median'} repetition; ratios are torch/spectral "
           "against the peer of the new run (the peer's code is the same in both builds).", "",
           "| method | rows | geomean ratio, old | geomean ratio, new | change | "
           "geomean time new/old |",
           "|---|---|---|---|---|---|"]
    for method in sorted(per_method, key=lambda m: METHODS.index(m) if m in METHODS else 99):
        pairs = per_method[method]
        g_old = geomean([p[0] for p in pairs])
        g_new = geomean([p[1] for p in pairs])
        change = g_new / g_old - 1.0
        if change < -0.05:
            problems.append(f"{method}: geometric mean {100 * change:+.1f}%")
        out.append(f"| {method} | {len(pairs)} | {g_old:.2f} | {g_new:.2f} | "
                   f"{100.0 * change:+.1f}% | {geomean([p[2] for p in pairs]):.3f} |")
    out += ["", "| method | axis | pass | N | D | old ms | new ms | torch ms | ratio old | "
            "ratio new | time change |", "|---|---|---|---|---|---|---|---|---|---|---|"] + rows
    out += ["", "Verdict: " + ("every method within 5% and every row ≥ 1×" if not problems
                               else "; ".join(problems))]
    text = "\n".join(out) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
