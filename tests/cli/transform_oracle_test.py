#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""`spectral transform` end to end for one method: both axes × groups {1, 2} × float32/float64.

Y and GX = ∂⟨GY, Y⟩/∂X must have X's shape and dtype and match the PyTorch autograd oracle
(tests/oracle/torch_reference.py): relative Frobenius error 1e-8 in float64, 1e-3 in float32.
Shapes keep M (observations) ≫ K (covariance size), so every covariance is well conditioned.
"""

import sys
from pathlib import Path

import numpy as np

from cli_harness import (check, embedding, expect_success, main_guard, parse_args,
                         relative_error, run_cli, run_oracle, scratch_dir)

TOLERANCE = {"float32": 1e-3, "float64": 1e-8}
# (N, D) per axis: features → K = D/G ≤ 16, M = N = 96; samples → K = N = 12, M = D/G ≥ 48.
SHAPES = {"features": (96, 16), "samples": (12, 96)}
# Non-default parameters, so the flags are shown to reach the library.
PARAMETERS = {"power": ["--power", "0.75"], "iternorm": ["--iters", "5"]}


def run_case(args, workdir, method, axis, groups, seed):
    rng = np.random.default_rng(seed)
    n, d = SHAPES[axis]
    z = embedding(rng, n, d)
    gy = rng.standard_normal((n, d)).astype(np.float32).astype(np.float64)
    case = {"op": "transform", "method": method, "power": 0.75, "iters": 5, "axis": axis,
            "groups": groups, "eps": 0.0}
    label = f"{method} axis={axis} groups={groups}"
    y_ref, gz_ref = run_oracle(sys.executable, args.oracle, workdir / f"oracle-{axis}-{groups}",
                               case, z, gy)

    for dtype in ("float32", "float64"):
        tag = f"{axis}-{groups}-{dtype}"
        paths = {name: workdir / f"{name}-{tag}.npy" for name in ("x", "gy", "y", "gx")}
        np.save(paths["x"], z.astype(dtype))
        np.save(paths["gy"], gy.astype(dtype))
        result = run_cli(args.cli, "transform", "--method", method, *PARAMETERS.get(method, []),
                         "--axis", axis, "--groups", groups, "--input", paths["x"],
                         "--output", paths["y"], "--grad-output", paths["gy"],
                         "--grad-input", paths["gx"])
        expect_success(result, f"{label} {dtype}")
        errors = []
        for name, reference in (("y", y_ref), ("gx", gz_ref)):
            out = np.load(paths[name])
            check(out.shape == z.shape and out.dtype == np.dtype(dtype),
                  f"{label}: {name} is {out.dtype}{out.shape}, expected {dtype}{z.shape}")
            check(np.isfinite(out).all(), f"{label} {dtype}: {name} is not finite")
            error = relative_error(out, reference)
            check(error <= TOLERANCE[dtype],
                  f"{label} {dtype}: {name} differs from the oracle by {error:.2e} "
                  f"(tolerance {TOLERANCE[dtype]:.0e})")
            errors.append(f"{name} {error:.1e}")
        print(f"ok {label} {dtype}: relative error {', '.join(errors)}")


def main():
    args = parse_args({"--method": {"required": True}})
    with scratch_dir() as tmp:
        seed = 1000 * (["zca", "pca", "cholesky", "power", "iternorm"].index(args.method) + 1)
        for axis in ("features", "samples"):
            for groups in (1, 2):
                seed += 1
                run_case(args, Path(tmp), args.method, axis, groups, seed)


if __name__ == "__main__":
    main_guard(main)
