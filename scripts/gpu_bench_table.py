#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Markdown ratio table from spectral_cuda_bench's Google Benchmark JSON.

Pairs BM_spectral/<tail> with BM_torch/<tail> (same binary, same run, same GPU) and prints the
time of each (CUDA-event manual time), the speed-up torch/spectral, the speed-up target for the
row (target() below), both sides' peak device memory and the peer's difference from the library.
The pairing is pair_table.collect's (the best repetition of each side).

    scripts/gpu_bench_table.py bench.json [-o table.md]
"""
import argparse
import json
import sys

from pair_table import collect


def target(tail):
    """The speed-up torch/spectral a row must reach, or None for a row without a target."""
    if tail.startswith("iternorm/samples/forward_backward/N:256/D:8192"):
        return 10.0
    if tail.startswith("iternorm/features/forward_backward/N:256/D:2048"):
        return 2.0 if tail.endswith("/tf32") else 1.0
    if tail.startswith(("zca/features/forward_backward/N:256/D:2048",
                        "power/features/forward_backward/N:256/D:2048")) and "/G:" not in tail:
        return 1.5
    if tail.startswith("zca/features/forward_backward/N:256/D:8192/G:64"):
        return 10.0
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json_file")
    parser.add_argument("-o", "--output")
    args = parser.parse_args()
    with open(args.json_file, encoding="utf-8") as f:
        data = json.load(f)
    rows = {}
    for tail, sides in collect(data.get("benchmarks", [])).items():  # best repetition per side
        entry = rows.setdefault(tail, {})
        for side, run in sides.items():
            key = side.removeprefix("BM_")
            if not run["times"]:
                entry[key] = {"error": run.get("error", "error")}
                continue
            entry[key] = {"ms": min(run["times"]) * 1e-3,
                          "peak": run["counters"].get("peak_MiB"),
                          "diff": run["counters"].get("rel_diff_vs_spectral")}
    ctx = data.get("context", {})
    lines = [f"Machine: {ctx.get('host_name', '?')}, {ctx.get('num_cpus', '?')} CPUs; "
             f"run {ctx.get('date', '?')}. Times are CUDA-event times of one call.", "",
             "| row | spectral ms | torch ms | speed-up | target | met | peak MiB (spectral / torch) "
             "| peer vs library |",
             "|---|---:|---:|---:|---:|---|---|---|"]
    for tail, entry in rows.items():
        mine = entry.get("spectral", {})
        peer = entry.get("torch", {})
        if "ms" not in mine or "ms" not in peer:
            reason = mine.get("error") or peer.get("error") or "missing side"
            lines.append(f"| {tail} | | | | | | | {reason} |")
            continue
        ratio = peer["ms"] / mine["ms"]
        goal = target(tail)
        met = "" if goal is None else ("yes" if ratio >= goal else "**no**")
        peak = f"{mine['peak']:.0f} / {peer['peak']:.0f}" if mine["peak"] and peer["peak"] else ""
        diff = f"{peer['diff']:.1e}" if peer["diff"] is not None else ""
        goal_text = f"{goal:g}x" if goal else ""
        lines.append(f"| {tail} | {mine['ms']:.3f} | {peer['ms']:.3f} | {ratio:.2f}x | {goal_text} "
                     f"| {met} | {peak} | {diff} |")
    text = "\n".join(lines) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
