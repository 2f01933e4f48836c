#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""The distributed gather (docs/math.md#distributed-gather) end to end: two_process_check as
ranks 0 and 1 of a 2-process Gloo group on a free localhost port, then as one process on the
whole batch; the averaged 2-process parameter gradients (and the loss every rank computes) must
equal the 1-process ones to 1e-10 relative.
Also checks that --reduce sum (no ÷W) is off by exactly W = 2, i.e. that the averaging is needed.
Usage: distributed_test.py --exe PATH. Exits non-zero on a mismatch, a failed run or a timeout;
exits 77 (ctest SKIP_RETURN_CODE) when the program was built without a c10d backend (LibTorch's
c10d Gloo headers need Debian's libgloo-dev)."""
import argparse
import os
import subprocess
import sys
import tempfile

from ranks import SKIP, Skipped, free_port, wait_for_ranks

TIMEOUT = 60.0
TOLERANCE = 1e-10


def read(path):
    """{name: [values]} from the program's text output."""
    out, lines, i = {}, open(path, encoding="utf-8").read().split("\n"), 0
    while i < len(lines) and lines[i]:
        name, count = lines[i].split()
        out[name] = [float(v) for v in lines[i + 1:i + 1 + int(count)]]
        i += 1 + int(count)
    return out


def launch(exe, world, tmp, tag, port, extra=()):
    """Starts all ranks concurrently; returns their output files. Raises on failure/timeout."""
    procs, files = [], []
    for rank in range(world):
        path = os.path.join(tmp, f"{tag}_rank{rank}.txt")
        files.append(path)
        procs.append(subprocess.Popen(
            [exe, "--rank", str(rank), "--world-size", str(world), "--port", str(port),
             "--out", path, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    wait_for_ranks(procs, tag, TIMEOUT)
    return files


def max_relative(a, b, scale=1.0):
    worst = 0.0
    for name in a:
        x, y = a[name], b[name]
        assert len(x) == len(y), (name, len(x), len(y))
        norm = max(max(abs(v) for v in y), 1e-300)
        worst = max(worst, max(abs(scale * u - v) for u, v in zip(x, y)) / norm)
    return worst


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--exe", required=True)
    exe = os.path.abspath(parser.parse_args().exe)
    with tempfile.TemporaryDirectory() as tmp:
        two = [read(f) for f in launch(exe, 2, tmp, "two", free_port())]
        (one,) = [read(f) for f in launch(exe, 1, tmp, "one", free_port())]
        summed = [read(f) for f in launch(exe, 2, tmp, "sum", free_port(), ("--reduce", "sum"))]
    ok = True
    for rank, result in enumerate(two):
        assert set(result) == set(one), (sorted(result), sorted(one))
        err = max_relative(result, one)
        print(f"rank {rank} (mean) vs 1 process: max rel diff {err:.3e}")
        ok = ok and err <= TOLERANCE
        # Without the ÷W the gradients are W× the reference (the loss itself is unaffected).
        grads = {k: v for k, v in summed[rank].items() if k != "loss"}
        err_sum = max_relative(grads, {k: v for k, v in one.items() if k != "loss"}, scale=0.5)
        print(f"rank {rank} (sum)/2 vs 1 process: max rel diff {err_sum:.3e}")
        ok = ok and err_sum <= TOLERANCE
    if not ok:
        print(f"FAILED: tolerance {TOLERANCE:g}", file=sys.stderr)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Skipped as e:
        print(f"SKIPPED: {e}")
        sys.exit(SKIP)
    except (RuntimeError, AssertionError) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
