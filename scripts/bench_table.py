#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Markdown ratio table from spectral_cpu_bench's Google Benchmark JSON.

One row per <method>/<axis>/<pass>/<N>/<D>: library time, LibTorch time, ratio torch/spectral.
Each side's time is the best (default) or median of its repetitions: on shared cores other load
only adds time. Later JSON files replace the rows they contain (re-runs of suspicious rows).

    scripts/bench_table.py results.json [rerun.json ...] [-o table.md] [--stat median]
                           [--compact bench/results/cpu-DATE.json]
"""
import argparse
import json
import math
import re
import statistics
import sys

NAME = re.compile(r"^BM_(spectral|torch)/(\w+)/(samples|features)/(forward|forward_backward)"
                  r"/N:(\d+)/D:(\d+)(?:/|$)")
METHODS = ["zca", "pca", "cholesky", "power", "iternorm"]
AXES = ["samples", "features"]
PASSES = ["forward", "forward_backward"]
TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
KEEP = ["run_type", "iterations", "time_unit", "eps", "rel_err_y", "rel_err_grad",
        "error_occurred", "error_message"]


def target(method, pas):
    return 2.0 if method == "iternorm" and pas == "forward_backward" else 1.0


def gram_side(method, axis, n, d):
    """Whether the library solves this row on the M×M Gram (options::smaller_side): ZCA, power
    and IterNorm with fewer observations M than the covariance size K."""
    k, m = (d, n) if axis == "features" else (n, d)
    return method in ("zca", "power", "iternorm") and m < k


def collect(benchmarks, stat, runs=None):
    """{(side, method, axis, pass, n, d): {"time": ms, "counters": ...}}; `runs` is updated."""
    runs = {} if runs is None else runs
    fresh = set()
    for b in benchmarks:
        m = NAME.match(b.get("run_name", b["name"]))
        if not m:
            continue
        side, method, axis, pas, n, d = m.groups()
        key = (side, method, axis, pas, int(n), int(d))
        if key not in fresh:  # a later file replaces the whole row
            runs[key] = {"times": [], "time": None, "counters": b}
            fresh.add(key)
        entry = runs[key]
        if b.get("error_occurred"):
            entry["error"] = b.get("error_message", "error")
            continue
        if b.get("run_type") != "aggregate":  # compact files keep every repetition in real_times
            scale = TO_MS[b.get("time_unit", "ns")]
            entry["times"] += [t * scale for t in b.get("real_times", [b["real_time"]])]
    for key in fresh:
        times = runs[key]["times"]
        if times:
            runs[key]["time"] = min(times) if stat == "min" else statistics.median(times)
    return runs


def fmt_ms(ms):
    return "—" if ms is None else (f"{ms:.3g}" if ms < 100 else f"{ms:.0f}")


def fmt_err(value):
    if value is None:
        return "—"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return f"{value:.0e}"


def machine_line(ctx):
    parts = [f"{ctx.get('host_name', '?')}: {ctx.get('num_cpus', '?')} CPUs @ "
             f"{ctx.get('mhz_per_cpu', '?')} MHz",
             f"torch intra-op threads {ctx.get('torch_intra_op_threads', '?')}",
             f"OpenBLAS threads {ctx.get('openblas_threads', '?')} "
             f"({ctx.get('openblas_config', '?')})",
             f"OMP_WAIT_POLICY={ctx.get('omp_wait_policy', '?')}",
             f"spectral eigh: {ctx.get('spectral_eigh', '?')}",
             f"EIGEN_USE_BLAS={ctx.get('eigen_use_blas', '?')}",
             f"load avg {ctx.get('load_avg', '?')}",
             f"{ctx.get('date', '?')}"]
    return "Machine: " + "; ".join(str(p) for p in parts)


def table(files, stat):
    ctx = files[0].get("context", {})
    runs = {}
    for data in files:
        collect(data.get("benchmarks", []), stat, runs)
    cases = sorted({k[1:] for k in runs},
                   key=lambda c: (METHODS.index(c[0]) if c[0] in METHODS else 99,
                                  AXES.index(c[1]), PASSES.index(c[2]), c[3], c[4]))
    reps = max((len(r["times"]) for r in runs.values()), default=0)
    lines = [machine_line(ctx), f"Time: {stat} of up to {reps} repetition(s), wall clock.", "",
             "| method | axis | pass | N | D | library solves | spectral ms | torch ms | "
             "torch/spectral | target | eps | rel err y / grad |",
             "|---|---|---|---:|---:|---|---:|---:|---:|---|---:|---|"]
    met, total, ratios = {False: 0, True: 0}, {False: 0, True: 0}, {False: {}, True: {}}
    for case in cases:
        lib = runs.get(("spectral",) + case, {})
        ref = runs.get(("torch",) + case, {})
        t_lib, t_ref = lib.get("time"), ref.get("time")
        want = target(case[0], case[2])
        gram = gram_side(*case[:2], case[3], case[4])
        if t_lib and t_ref:
            ratio = t_ref / t_lib
            ok = ratio >= want
            met[gram] += ok
            total[gram] += 1
            ratios[gram].setdefault(case[0], []).append(ratio)
            verdict = f"{'✅' if ok else '❌'} ≥{want:g}×"
            ratio_text = f"{ratio:.2f}×"
        else:
            verdict = "error: " + (lib.get("error") or ref.get("error") or "missing")
            ratio_text = "—"
        counters = ref.get("counters", {})
        eps = counters.get("eps", lib.get("counters", {}).get("eps", 0.0))
        err = f"{fmt_err(counters.get('rel_err_y'))} / {fmt_err(counters.get('rel_err_grad'))}"
        side = "M×M Gram" if gram else "K×K Σ"
        lines.append(f"| {case[0]} | {case[1]} | {case[2]} | {case[3]} | {case[4]} | {side} | "
                     f"{fmt_ms(t_lib)} | {fmt_ms(t_ref)} | {ratio_text} | {verdict} | "
                     f"{eps:.2g} | {err} |")
    lines += ["", f"Rows meeting the target (≥1× everywhere, ≥2× on IterNorm forward+backward): "
              f"{met[False] + met[True]} of {total[False] + total[True]}; "
              f"{met[False]} of {total[False]} where both sides solve the K×K Σ, "
              f"{met[True]} of {total[True]} where the library solves the M×M Gram (M < K)."]
    for gram, label in ((False, "K×K Σ on both sides"), (True, "library on the M×M Gram")):
        geo = [f"{m} {math.exp(statistics.fmean(math.log(r) for r in rs)):.2f}×"
               for m, rs in sorted(ratios[gram].items(), key=lambda kv: METHODS.index(kv[0]))]
        if geo:
            lines.append(f"Geometric-mean torch/spectral per method, {label}: " + ", ".join(geo)
                         + ".")
    lines.append("eps > 0: K ≥ M, Σ singular; both sides use Σ + eps·I (1e-2 · tr Σ / K). "
                 "rel err: ‖torch − spectral‖/‖spectral‖ of Y and of ∂⟨G,Y⟩/∂Z; nan = LibTorch's "
                 "eigh backward divides by (near-)equal eigenvalues of the eps-shifted null space.")
    return "\n".join(lines) + "\n"


def compact(data):
    """One entry per benchmark: best real time, every repetition's time, counters."""
    keep = {"context": data.get("context", {}), "benchmarks": []}
    by_name = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        name = b.get("run_name", b["name"])
        if name not in by_name:
            by_name[name] = {k: b[k] for k in KEEP if k in b}
            by_name[name].update(name=name, real_times=[])
            keep["benchmarks"].append(by_name[name])
        entry = by_name[name]
        entry["real_times"].append(float(f"{b['real_time']:.5g}"))
        entry["real_time"] = min(entry["real_times"])
    return keep


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", nargs="+",
                        help="Google Benchmark JSON (--benchmark_out_format=json); later files "
                        "replace the rows they contain")
    parser.add_argument("--stat", choices=["min", "median"], default="min",
                        help="how to combine repetitions (default: min)")
    parser.add_argument("-o", "--output", help="write the markdown here (default: stdout)")
    parser.add_argument("--compact", help="also write a trimmed copy of the JSON here")
    args = parser.parse_args()
    files = []
    for path in args.json:
        with open(path, encoding="utf-8") as f:
            files.append(json.load(f))
    text = table(files, args.stat)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if args.compact:
        with open(args.compact, "w", encoding="utf-8") as f:
            json.dump(compact(files[-1]), f, separators=(",", ":"))
            f.write("\n")


if __name__ == "__main__":
    main()
