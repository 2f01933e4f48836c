#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""`spectral spectrum` (--json against numpy.linalg.eigvalsh of the covariance, and the table),
plus --help and --version."""

import json
import math
from pathlib import Path

import numpy as np

from cli_harness import check, embedding, expect_success, main_guard, parse_args, run_cli, \
    scratch_dir

# features: K = D = 12 from M = N = 64; samples: K = N = 10 from M = D = 48; singular: K > M.
SHAPES = {"features": (64, 12), "samples": (10, 48)}


def numpy_covariance(x, axis):
    x = x.astype(np.float64)
    if axis == "features":
        xc = x - x.mean(axis=0, keepdims=True)
        return xc.T @ xc / (x.shape[0] - 1)
    xc = x - x.mean(axis=1, keepdims=True)
    return xc @ xc.T / (x.shape[1] - 1)


def close(actual, expected, rtol, what):
    check(actual is not None and math.isclose(actual, expected, rel_tol=rtol),
          f"{what}: got {actual}, numpy says {expected}")


def spectrum_json(cli, path, *extra):
    result = run_cli(cli, "spectrum", "--input", path, "--json", *extra)
    expect_success(result, f"spectrum --json {' '.join(extra)}")
    check(result.stdout.count("\n") == 1, f"expected one line of JSON, got:\n{result.stdout}")
    return json.loads(result.stdout)


def check_against_numpy(cli, path, x, axis, singular=False):
    report = spectrum_json(cli, path, "--axis", axis)
    cov = numpy_covariance(x, axis)
    expected = np.linalg.eigvalsh(cov)[::-1]
    eigenvalues = np.asarray(report["eigenvalues"])
    label = f"{path.name} axis={axis}"
    check(eigenvalues.shape == expected.shape,
          f"{label}: {eigenvalues.size} eigenvalues, expected {expected.size}")
    check(np.all(np.diff(eigenvalues) <= 0), f"{label}: eigenvalues not descending")
    check(expected[0] > 1e-3, f"{label}: degenerate data")
    scale = expected[0]
    check(np.max(np.abs(eigenvalues - expected)) <= 1e-10 * scale,
          f"{label}: eigenvalues differ from numpy by {np.max(np.abs(eigenvalues - expected)):.2e}")
    close(report["trace"], float(np.trace(cov)), 1e-10, f"{label}: trace")
    share = np.clip(expected, 0, None) / np.clip(expected, 0, None).sum()
    share = share[share > 0]
    close(report["effective_rank"], float(np.exp(-(share * np.log(share)).sum())), 1e-8,
          f"{label}: effective_rank")
    if singular:
        # Rank ≤ M−1 < K: λ_min is zero up to rounding, so the ratio is infinite or meaningless.
        check(report["condition_number"] is None or report["condition_number"] > 1e10,
              f"{label}: condition_number {report['condition_number']} for a singular Σ")
    else:
        close(report["condition_number"], float(expected[0] / expected[-1]), 1e-8,
              f"{label}: condition_number")
    close(sum(report["normalized"]), 1.0, 1e-12, f"{label}: normalized sum")
    check((report["rows"], report["cols"], report["axis"]) == (*x.shape, axis),
          f"{label}: rows/cols/axis are {report['rows']}/{report['cols']}/{report['axis']}")
    print(f"ok {label}: {eigenvalues.size} eigenvalues, effective rank "
          f"{report['effective_rank']:.3f}")
    return report


def main():
    args = parse_args()
    rng = np.random.default_rng(42)
    with scratch_dir() as tmp:
        tmp = Path(tmp)
        for axis, (n, d) in SHAPES.items():
            x = embedding(rng, n, d)
            for dtype in ("float32", "float64"):
                path = tmp / f"x-{axis}-{dtype}.npy"
                np.save(path, x.astype(dtype))
                check_against_numpy(args.cli, path, x, axis)

        # Fewer samples than features, and one constant feature: its zero row and column in Σ
        # give an exactly zero eigenvalue, so the condition number is infinite, i.e. null.
        singular = tmp / "singular.npy"
        x = embedding(rng, 6, 12)
        x[:, 3] = 2.5
        np.save(singular, x)
        report = check_against_numpy(args.cli, singular, np.load(singular), "features",
                                     singular=True)
        check(report["condition_number"] is None, "singular: condition_number should be null")

        # .npy format versions 2.0 and 3.0 (long or UTF-8 headers) read like 1.0.
        reference = spectrum_json(args.cli, tmp / "x-features-float64.npy")
        x = np.load(tmp / "x-features-float64.npy")
        for version in ((2, 0), (3, 0)):
            path = tmp / f"x-v{version[0]}.npy"
            with open(path, "wb") as handle:
                np.lib.format.write_array(handle, x, version=version)
            check(spectrum_json(args.cli, path) == reference, f".npy version {version} differs")

        # The default axis is features.
        path = tmp / "x-features-float64.npy"
        check(spectrum_json(args.cli, path) == spectrum_json(args.cli, path, "--axis", "features"),
              "spectrum without --axis differs from --axis features")

        # The human table carries the same summaries.
        table = run_cli(args.cli, "spectrum", "--input", path)
        expect_success(table, "spectrum (table)")
        report = spectrum_json(args.cli, path)
        for needle in ("trace", "effective rank", "condition number", "eigenvalues",
                       f"{report['effective_rank']:.4g}", f"{report['eigenvalues'][0]:.6g}"):
            check(needle in table.stdout, f"table lacks '{needle}':\n{table.stdout}")

    version = run_cli(args.cli, "--version")
    expect_success(version, "--version")
    check(version.stdout.startswith("spectral "), f"--version printed {version.stdout!r}")
    for command in ([], ["transform"], ["spectrum"]):
        usage = run_cli(args.cli, *command, "--help")
        expect_success(usage, f"{' '.join(command)} --help")
        for needle in {"": ["transform", "spectrum"], "transform": ["--grad-output", "--method"],
                       "spectrum": ["--json", "--axis"]}[" ".join(command)]:
            check(needle in usage.stdout, f"{command} --help lacks {needle}")


if __name__ == "__main__":
    main_guard(main)
