# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Shared helpers for the `spectral` CLI tests: arguments, seeded data, running the tool."""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def parse_args(extra=None):
    """--cli (the built tool) and --oracle (tests/oracle/torch_reference.py), plus extras."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", required=True, type=Path)
    parser.add_argument("--oracle", type=Path)
    for name, kwargs in (extra or {}).items():
        parser.add_argument(name, **kwargs)
    return parser.parse_args()


def check(condition, message):
    """A test assertion that survives `python -O`."""
    if not condition:
        raise AssertionError(message)


def scratch_dir():
    return tempfile.TemporaryDirectory(prefix="spectral-cli-")


def run_cli(cli, *args):
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False)


def expect_success(result, what):
    check(result.returncode == 0,
          f"{what}: exit {result.returncode}, stderr: {result.stderr.strip()}")
    check(result.stderr == "", f"{what}: unexpected stderr: {result.stderr.strip()}")


def mixing(rng, size, low=1.0, high=3.0):
    """A random size×size matrix with singular values spread over [low, high]."""
    q, _ = np.linalg.qr(rng.standard_normal((size, size)))
    return q @ np.diag(np.linspace(high, low, size)) @ q.T


def embedding(rng, rows, cols):
    """Seeded, non-degenerate N×D data: anisotropic along both axes, with row and column offsets
    (so centring matters), rounded to float32 so one float64 oracle serves both dtypes."""
    z = mixing(rng, rows) @ rng.standard_normal((rows, cols)) @ mixing(rng, cols)
    z += 0.5 * rng.standard_normal((1, cols)) + 0.5 * rng.standard_normal((rows, 1))
    return z.astype(np.float32).astype(np.float64)


def relative_error(actual, expected):
    expected = np.asarray(expected, dtype=np.float64)
    norm = np.linalg.norm(expected)
    check(norm > 1e-6, f"degenerate reference (norm {norm:g}): the test would prove nothing")
    return float(np.linalg.norm(np.asarray(actual, dtype=np.float64) - expected) / norm)


def run_oracle(python, oracle, case_dir, case, z, gy):
    """The PyTorch oracle on z, gy: returns (y, gz) in float64."""
    case_dir.mkdir(parents=True, exist_ok=True)
    (case_dir / "case.json").write_text(json.dumps(case), encoding="utf-8")
    np.save(case_dir / "z.npy", z)
    np.save(case_dir / "gy.npy", gy)
    result = subprocess.run([python, str(oracle), str(case_dir)], capture_output=True, text=True,
                            timeout=120, check=False)
    check(result.returncode == 0, f"oracle failed on {case}: {result.stderr.strip()}")
    return np.load(case_dir / "y.npy"), np.load(case_dir / "gz.npy")


def main_guard(test):
    """Runs test(); prints the failure and exits 1 on an AssertionError."""
    try:
        test()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
    print("passed")
