#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""One bad input per run (`--case NAME`; tests/cli/CMakeLists.txt registers every @error_case).

Each case asserts: the documented non-zero exit (2 usage/input, 3 numerical), exactly one line on
stderr of the form `spectral: error: <message>` that names the problem, nothing on stdout, and no
new file in the working directory (no output, no temporary).
"""

from pathlib import Path

import numpy as np

from cli_harness import check, embedding, main_guard, parse_args, run_cli, scratch_dir

USAGE, NUMERICAL = 2, 3
CASES = {}


def error_case(name, status, needle):
    """Registers fn(dir) -> CLI arguments, expecting exit `status` and `needle` in the message."""
    def register(fn):
        CASES[name] = (fn, status, needle)
        return fn
    return register


def save(directory, name, array):
    np.save(directory / name, array)
    return directory / name


def good_input(directory, rows=64, cols=8, dtype="float64"):
    return save(directory, "x.npy", embedding(np.random.default_rng(7), rows, cols).astype(dtype))


def transform(directory, x, *extra, method="zca"):
    return ["transform", "--method", method, "--input", x, "--output", directory / "y.npy", *extra]


@error_case("nan_input", USAGE, "nan")
def nan_input(d):
    x = embedding(np.random.default_rng(1), 64, 8)
    x[5, 3] = np.nan
    return transform(d, save(d, "x.npy", x))


@error_case("inf_input", USAGE, "inf")
def inf_input(d):
    x = embedding(np.random.default_rng(2), 64, 8).astype(np.float32)
    x[0, 7] = -np.inf
    return transform(d, save(d, "x.npy", x), method="iternorm")


@error_case("nan_grad_output", USAGE, "grad_out")
def nan_grad_output(d):
    gy = np.ones((64, 8))
    gy[1, 1] = np.nan
    return transform(d, good_input(d), "--grad-output", save(d, "gy.npy", gy),
                     "--grad-input", d / "gx.npy")


@error_case("one_observation", USAGE, "at least 2 observations")
def one_observation(d):
    return transform(d, good_input(d, rows=1), "--axis", "features")


@error_case("one_observation_samples_axis", USAGE, "at least 2 observations")
def one_observation_samples_axis(d):
    return transform(d, good_input(d, rows=4, cols=2), "--axis", "samples", "--groups", "2")


@error_case("groups_not_dividing", USAGE, "not divisible")
def groups_not_dividing(d):
    return transform(d, good_input(d, cols=10), "--groups", "3")


@error_case("zero_groups", USAGE, "groups")
def zero_groups(d):
    return transform(d, good_input(d), "--groups", "0")


@error_case("negative_eps", USAGE, "eps")
def negative_eps(d):
    return transform(d, good_input(d), "--eps=-0.1")


@error_case("negative_power", USAGE, "power")
def negative_power(d):
    return transform(d, good_input(d), "--power", "-0.5", method="power")


@error_case("zero_iters", USAGE, "iteration")
def zero_iters(d):
    return transform(d, good_input(d), "--iters", "0", method="iternorm")


def singular(d, method):
    # K = D = 16 > M = N = 8: Σ has rank ≤ 7.
    return transform(d, good_input(d, rows=8, cols=16), "--power", "0.3", method=method)


@error_case("singular_zca", NUMERICAL, "singular")
def singular_zca(d):
    return singular(d, "zca")


@error_case("singular_pca", NUMERICAL, "singular")
def singular_pca(d):
    return singular(d, "pca")


@error_case("singular_cholesky", NUMERICAL, "singular")
def singular_cholesky(d):
    return singular(d, "cholesky")


@error_case("singular_power", NUMERICAL, "singular")
def singular_power(d):
    return singular(d, "power")


@error_case("grad_output_without_grad_input", USAGE, "--grad-input")
def grad_output_without_grad_input(d):
    gy = save(d, "gy.npy", np.ones((64, 8)))
    return transform(d, good_input(d), "--grad-output", gy)


@error_case("grad_input_without_grad_output", USAGE, "--grad-output")
def grad_input_without_grad_output(d):
    return transform(d, good_input(d), "--grad-input", d / "gx.npy")


@error_case("grad_output_shape", USAGE, "grad_out")
def grad_output_shape(d):
    gy = save(d, "gy.npy", np.ones((64, 4)))
    return transform(d, good_input(d), "--grad-output", gy, "--grad-input", d / "gx.npy")


@error_case("unknown_flag", USAGE, "--bogus")
def unknown_flag(d):
    return transform(d, good_input(d), "--bogus", "1")


@error_case("unknown_method", USAGE, "whiten")
def unknown_method(d):
    return transform(d, good_input(d), method="whiten")


@error_case("missing_method", USAGE, "--method")
def missing_method(d):
    return ["transform", "--input", good_input(d), "--output", d / "y.npy"]


@error_case("no_subcommand", USAGE, "subcommand")
def no_subcommand(d):
    del d
    return []


@error_case("missing_input_file", USAGE, "no-such-file.npy")
def missing_input_file(d):
    return transform(d, d / "no-such-file.npy")


@error_case("missing_input_file_spectrum", USAGE, "no-such-file.npy")
def missing_input_file_spectrum(d):
    return ["spectrum", "--input", d / "no-such-file.npy"]


@error_case("truncated_npy", USAGE, "truncated")
def truncated_npy(d):
    full = good_input(d)
    data = full.read_bytes()
    full.unlink()
    path = d / "x.npy"
    path.write_bytes(data[: len(data) - 100])
    return transform(d, path)


@error_case("not_npy", USAGE, "not a .npy")
def not_npy(d):
    path = d / "x.npy"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    return ["spectrum", "--input", path]


@error_case("int32_npy", USAGE, "dtype")
def int32_npy(d):
    return transform(d, save(d, "x.npy", np.arange(64 * 8, dtype=np.int32).reshape(64, 8)))


@error_case("big_endian_npy", USAGE, ">f8")
def big_endian_npy(d):
    return transform(d, save(d, "x.npy", embedding(np.random.default_rng(5), 64, 8).astype(">f8")))


@error_case("fortran_order_npy", USAGE, "fortran_order")
def fortran_order_npy(d):
    x = np.asfortranarray(embedding(np.random.default_rng(3), 64, 8))
    return transform(d, save(d, "x.npy", x))


@error_case("rank3_npy", USAGE, "2-D")
def rank3_npy(d):
    return transform(d, save(d, "x.npy", np.ones((4, 8, 2))))


@error_case("output_directory_missing", USAGE, "cannot write")
def output_directory_missing(d):
    return ["transform", "--method", "zca", "--input", good_input(d),
            "--output", d / "missing-dir" / "y.npy"]


@error_case("spectrum_nan", USAGE, "nan")
def spectrum_nan(d):
    x = embedding(np.random.default_rng(4), 64, 8)
    x[63, 0] = np.nan
    return ["spectrum", "--input", save(d, "x.npy", x), "--json"]


def main():
    args = parse_args({"--case": {"required": True, "choices": sorted(CASES)}})
    build, status, needle = CASES[args.case]
    with scratch_dir() as tmp:
        directory = Path(tmp)
        argv = build(directory)
        before = sorted(p.name for p in directory.rglob("*"))
        result = run_cli(args.cli, *argv)
        after = sorted(p.name for p in directory.rglob("*"))

    lines = result.stderr.splitlines()
    check(result.returncode == status,
          f"{args.case}: exit {result.returncode}, expected {status}; stderr: {result.stderr!r}")
    check(len(lines) == 1, f"{args.case}: expected one stderr line, got {len(lines)}: {lines}")
    check(lines[0].startswith("spectral: error: "), f"{args.case}: stderr is {lines[0]!r}")
    check(needle.lower() in lines[0].lower(), f"{args.case}: '{needle}' not in {lines[0]!r}")
    check(result.stdout == "", f"{args.case}: unexpected stdout {result.stdout!r}")
    check(after == before, f"{args.case}: files appeared: {sorted(set(after) - set(before))}")
    print(f"ok {args.case}: exit {result.returncode}: {lines[0]}")


if __name__ == "__main__":
    main_guard(main)
