#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""`spectral transform` options: the contract's defaults, eps rescuing a singular covariance
(checked against the PyTorch oracle), mixed input dtypes and output file hygiene (no temporaries
left, links planted at output names replaced rather than followed)."""

import sys
from pathlib import Path

import numpy as np

from cli_harness import (check, embedding, expect_success, main_guard, parse_args,
                         relative_error, run_cli, run_oracle, scratch_dir)


def transform(cli, directory, x_path, name, *flags):
    out = directory / f"{name}.npy"
    expect_success(run_cli(cli, "transform", "--input", x_path, "--output", out, *flags), name)
    return np.load(out)


def check_defaults(cli, d, x_path):
    """Omitted flags behave as --axis features --groups 1 --eps 0 --iters 4 --power 0.5."""
    same = [
        (["--method", "iternorm"], ["--method", "iternorm", "--iters", "4", "--axis", "features",
                                    "--groups", "1", "--eps", "0"]),
        (["--method", "power"], ["--method", "power", "--power", "0.5"]),
        (["--method", "zca", "--eps", "0"], ["--method", "zca", "--groups", "1"]),
    ]
    for i, (short, explicit) in enumerate(same):
        a = transform(cli, d, x_path, f"default-{i}", *short)
        b = transform(cli, d, x_path, f"explicit-{i}", *explicit)
        check(np.array_equal(a, b), f"{short} differs from {explicit}")
    # The defaults are not inert: each differs from a non-default value.
    for flags in (["--method", "iternorm", "--iters", "3"], ["--method", "power", "--power", "0.4"],
                  ["--method", "iternorm", "--axis", "samples"], ["--method", "zca", "--groups", "2"],
                  ["--method", "zca", "--eps", "0.5"]):
        base = transform(cli, d, x_path, "base", *flags[:2])
        other = transform(cli, d, x_path, "other", *flags)
        check(relative_error(other, base) > 1e-3, f"{flags} has no effect")
    # Default power (1/2) is ZCA whitening.
    error = relative_error(transform(cli, d, x_path, "power-default", "--method", "power"),
                           transform(cli, d, x_path, "zca", "--method", "zca"))
    check(error < 1e-12, f"power with the default p differs from zca by {error:.2e}")
    print("ok defaults")


def check_eps(cli, oracle, d):
    """K = 16 > M = 8 is singular; eps = 0.1 makes every eigen and Cholesky method succeed."""
    rng = np.random.default_rng(11)
    z = embedding(rng, 8, 16)
    gy = rng.standard_normal(z.shape)
    np.save(d / "singular.npy", z)
    np.save(d / "gy.npy", gy)
    for method in ("zca", "pca", "cholesky", "power"):
        flags = ["--method", method, "--eps", "0.1", "--power", "0.3"]
        y = transform(cli, d, d / "singular.npy", f"eps-{method}", *flags,
                      "--grad-output", d / "gy.npy", "--grad-input", d / f"gx-{method}.npy")
        gx = np.load(d / f"gx-{method}.npy")
        case = {"op": "transform", "method": method, "power": 0.3, "iters": 4,
                "axis": "features", "groups": 1, "eps": 0.1}
        y_ref, gx_ref = run_oracle(sys.executable, oracle, d / f"oracle-{method}", case, z, gy)
        for name, actual, expected in (("y", y, y_ref), ("gx", gx, gx_ref)):
            error = relative_error(actual, expected)
            check(error < 1e-8, f"eps {method}: {name} differs from the oracle by {error:.2e}")
        # Without eps the same input fails (errors_test checks the message).
        result = run_cli(cli, "transform", "--input", d / "singular.npy", "--output",
                         d / "never.npy", "--method", method, "--power", "0.3")
        check(result.returncode == 3 and not (d / "never.npy").exists(),
              f"{method} without eps: exit {result.returncode}")
    # IterNorm needs no eps: a rank-deficient covariance is valid for it.
    y = transform(cli, d, d / "singular.npy", "iternorm-singular", "--method", "iternorm")
    check(np.isfinite(y).all() and np.linalg.norm(y) > 1, "iternorm on singular input")
    print("ok eps")


def check_dtypes_and_files(cli, d):
    """Y and GX take X's dtype whatever GY's; outputs are replaced whole, no temporaries left."""
    rng = np.random.default_rng(12)
    x = embedding(rng, 32, 8)
    for x_dtype, gy_dtype in (("float32", "float64"), ("float64", "float32")):
        np.save(d / "x.npy", x.astype(x_dtype))
        np.save(d / "gy.npy", rng.standard_normal(x.shape).astype(gy_dtype))
        (d / "y.npy").write_bytes(b"stale")  # an existing output is replaced
        expect_success(run_cli(cli, "transform", "--method", "cholesky", "--input", d / "x.npy",
                               "--output", d / "y.npy", "--grad-output", d / "gy.npy",
                               "--grad-input", d / "gx.npy"), f"{x_dtype} with {gy_dtype} GY")
        for name in ("y", "gx"):
            out = np.load(d / f"{name}.npy")
            check(out.dtype == np.dtype(x_dtype) and out.shape == x.shape,
                  f"{name} is {out.dtype}{out.shape} for {x_dtype} X")
    leftovers = [p.name for p in d.iterdir() if p.name.endswith(".partial")]
    check(not leftovers, f"temporary files left behind: {leftovers}")
    same = run_cli(cli, "transform", "--method", "zca", "--input", d / "x.npy", "--output",
                   d / "y.npy", "--grad-output", d / "gy.npy", "--grad-input", d / "y.npy")
    check(same.returncode == 2 and "--grad-input" in same.stderr,
          f"--grad-input equal to --output: exit {same.returncode} {same.stderr!r}")
    print("ok dtypes and files")


def check_planted_links(cli, d):
    """A link planted at an output's name is replaced by the new file, never written through:
    its target keeps its bytes, and the output is a regular file holding the result."""
    rng = np.random.default_rng(13)
    np.save(d / "x.npy", embedding(rng, 32, 8))
    np.save(d / "gy.npy", rng.standard_normal((32, 8)))
    for name in ("y", "gx"):
        (d / f"victim-{name}").write_bytes(b"do not overwrite")
        link = d / f"linked-{name}.npy"
        link.unlink(missing_ok=True)
        link.symlink_to(d / f"victim-{name}")
    expect_success(run_cli(cli, "transform", "--method", "iternorm", "--input", d / "x.npy",
                           "--output", d / "linked-y.npy", "--grad-output", d / "gy.npy",
                           "--grad-input", d / "linked-gx.npy"), "outputs at planted links")
    for name in ("y", "gx"):
        check((d / f"victim-{name}").read_bytes() == b"do not overwrite",
              f"the {name} output was written through the planted link")
        out = d / f"linked-{name}.npy"
        check(out.is_file() and not out.is_symlink(), f"{out.name} is not a regular file")
        check(np.load(out).shape == (32, 8) and np.isfinite(np.load(out)).all(),
              f"{out.name} does not hold the result")
    # Without a gradient (the forward-only path) the same holds for Y.
    (d / "linked-y.npy").unlink()
    (d / "linked-y.npy").symlink_to(d / "victim-y")
    expect_success(run_cli(cli, "transform", "--method", "zca", "--input", d / "x.npy",
                           "--output", d / "linked-y.npy"), "forward-only output at a link")
    check((d / "victim-y").read_bytes() == b"do not overwrite", "written through the link")
    check(not (d / "linked-y.npy").is_symlink(), "linked-y.npy is still a link")
    print("ok planted links")


def main():
    args = parse_args()
    with scratch_dir() as tmp:
        d = Path(tmp)
        x_path = d / "x-defaults.npy"
        np.save(x_path, embedding(np.random.default_rng(10), 48, 8))
        check_defaults(args.cli, d, x_path)
        check_eps(args.cli, args.oracle, d)
        check_dtypes_and_files(args.cli, d)
        check_planted_links(args.cli, d)


if __name__ == "__main__":
    main_guard(main)
