#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""spectral_torch's modules against the reference code's modules (spectral_torch.reference:
plain PyTorch, autograd), in the same process: forward and forward+backward, median wall time
over repeats, ratio = spectral_torch / reference (below 1: spectral_torch is faster).

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python/bench_modules.py \\
        [--device cpu|cuda] [--repeats 7] [--threads N] [--out bench/results/python-cpu.md]

Rows (N = 256): IterNorm axis 0 at D ∈ {512, 2048, 8192} (INTL's setting), IterNorm axis 1 and
ZCA / Cholesky whitening axis 1 at D ∈ {64, 512, 2048}. The whitening rows use eps = 0.01 in
both implementations: at D ≥ N the covariance of N samples is singular without it.
"""

import argparse
import ctypes
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

import spectral_torch as st
from spectral_torch import reference

ROWS = ([("iternorm", 0, d) for d in (512, 2048, 8192)] +
        [("iternorm", 1, d) for d in (64, 512, 2048)] +
        [(method, 1, d) for method in ("zca", "cholesky") for d in (64, 512, 2048)])
BATCH = 256


def modules(method, axis):
    if method == "iternorm":
        return st.IterNorm(axis=axis), reference.IterNorm(axis=axis)
    return st.Whitening(method, axis=axis, eps=0.01), reference.Whitening(method, axis, eps=0.01)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_seconds(call, device, repeats):
    call()  # warm up: handles, workspaces, allocator
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(module, z, grad_out, device, repeats):
    def forward():
        with torch.no_grad():
            module(z)

    def forward_backward():
        z.grad = None
        module(z).backward(grad_out)

    return (median_seconds(forward, device, repeats),
            median_seconds(forward_backward, device, repeats))


def machine(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} logical CPUs, {torch.get_num_threads()} torch threads, "
            f"{blas_threads()} BLAS threads for the library")


def openblas():
    """OpenBLAS as loaded in this process (the library's products and LAPACK calls go through it
    when built with spectral::blas), or None."""
    try:
        return ctypes.CDLL("libopenblas.so.0")
    except OSError:
        return None


def blas_threads():
    library = openblas()
    return str(library.openblas_get_num_threads()) if library is not None else "?"


def use_threads(count):
    """The same number of CPU threads for both sides: torch's intra-op pool (the reference) and
    OpenBLAS (the library)."""
    torch.set_num_threads(count)
    library = openblas()
    if library is not None:
        library.openblas_set_num_threads(count)


def write_exclusively(path: Path, text: str):
    """Writes a new file by renaming a finished temporary file into place; refuses to replace."""
    if path.exists():
        raise FileExistsError(f"--out: {path} exists; choose a new name")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.link(temporary, path)  # fails if path appeared meanwhile
    finally:
        os.unlink(temporary)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per cell (1..1000)")
    parser.add_argument("--out", type=Path, help="also write the table to this new file")
    parser.add_argument("--max-d", type=int, default=8192, help="skip rows with a larger D")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="CPU threads for both sides: torch's pool and OpenBLAS (default: "
                             "torch's own default, one per physical core)")
    args = parser.parse_args(argv)
    if not 1 <= args.repeats <= 1000:
        parser.error(f"--repeats: must be in [1, 1000], got {args.repeats}")
    if not 1 <= args.threads <= 1024:
        parser.error(f"--threads: must be in [1, 1024], got {args.threads}")
    if args.device == "cuda" and not (torch.cuda.is_available() and st.built_with_cuda):
        parser.error("--device cuda: no GPU, or spectral_torch was built without CUDA")
    if args.out is not None and not args.out.parent.is_dir():
        parser.error(f"--out: folder {args.out.parent} does not exist")
    device = torch.device(args.device)
    use_threads(args.threads)

    lines = [f"spectral_torch {st.__version__} vs spectral_torch.reference, torch "
             f"{torch.__version__}, float32, N = {BATCH}, median of {args.repeats}; "
             f"{machine(device)}", "",
             "| module | axis | D | forward ref (ms) | forward ratio | fwd+bwd ref (ms) "
             "| fwd+bwd ratio |", "|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    generator = torch.Generator().manual_seed(0)
    for method, axis, d in ROWS:
        if d > args.max_d:
            continue
        z = torch.randn(BATCH, d, generator=generator).to(device).requires_grad_()
        grad_out = torch.randn(BATCH, d, generator=generator).to(device)
        ours, theirs = modules(method, axis)
        ours_fwd, ours_both = measure(ours, z, grad_out, device, args.repeats)
        ref_fwd, ref_both = measure(theirs, z, grad_out, device, args.repeats)
        line = (f"| {method} | {axis} | {d} | {ref_fwd * 1e3:.3f} | {ours_fwd / ref_fwd:.3g} "
                f"| {ref_both * 1e3:.3f} | {ours_both / ref_both:.3g} |")
        lines.append(line)
        print(line, flush=True)
    st.check()
    if args.out is not None:
        write_exclusively(args.out, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (FileExistsError, ValueError, RuntimeError) as error:
        print(f"bench_modules: {error}", file=sys.stderr)
        sys.exit(1)
