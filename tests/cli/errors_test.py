#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""One bad input per run (`--case NAME`; tests/cli/CMakeLists.txt registers every @error_case).

Each case asserts: the documented non-zero exit (2 usage/input, 3 numerical), exactly one line on
stderr of the form `spectral: error: <message>` that names the problem, nothing on stdout, and no
new file in the working directory (no output, no temporary). A case may add a check of its own
(`verify`), run before the folder is removed: that files which existed are untouched.
"""

from pathlib import Path

import numpy as np

from cli_harness import check, embedding, main_guard, parse_args, run_cli, scratch_dir

USAGE, NUMERICAL = 2, 3
CASES = {}


def error_case(name, status, needle, verify=None):
    """Registers fn(dir) -> CLI arguments, expecting exit `status` and `needle` in the message;
    verify(dir, message), when given, checks what the folder holds afterwards."""
    def register(fn):
        CASES[name] = (fn, status, needle, verify)
        return fn
    return register


def shows(text):
    """verify: the message shows `text` (the refused value, or the path)."""
    def verify(d, message):
        del d
        check(text in message, f"the message does not show {text!r}: {message!r}")
    return verify


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


@error_case("zero_iters", USAGE, "--iters")
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


@error_case("output_directory_missing", USAGE, "--output", shows("missing-dir"))
def output_directory_missing(d):
    return ["transform", "--method", "zca", "--input", good_input(d),
            "--output", d / "missing-dir" / "y.npy"]


# --- outputs: two flags naming one file, all or none, links --------------------------------------

PREVIOUS = b"previous contents"


def previous_file(path):
    path.write_bytes(PREVIOUS)
    return path


def with_gradient(d, output, grad_input):
    gy = save(d, "gy.npy", np.ones((64, 8)))
    return ["transform", "--method", "zca", "--input", good_input(d), "--output", output,
            "--grad-output", gy, "--grad-input", grad_input]


def untouched(*names):
    """verify: the named files still hold PREVIOUS, and the message names both output flags."""
    def verify(d, message):
        for name in names:
            check((d / name).read_bytes() == PREVIOUS, f"{name} was modified")
        check("--output" in message and "--grad-input" in message,
              f"the message does not name both flags: {message!r}")
    return verify


@error_case("same_file_outputs", USAGE, "same file", untouched("y.npy"))
def same_file_outputs(d):
    previous_file(d / "y.npy")
    return with_gradient(d, d / "y.npy", f"{d}/./y.npy")


@error_case("same_file_outputs_relative", USAGE, "same file")
def same_file_outputs_relative(d):
    # ./y.npy and sub/../y.npy through an existing folder: one file, and nothing is written.
    (d / "sub").mkdir()
    return with_gradient(d, d / "y.npy", d / "sub" / ".." / "y.npy")


@error_case("same_file_outputs_through_link", USAGE, "same file", untouched("y.npy"))
def same_file_outputs_through_link(d):
    previous_file(d / "y.npy")
    (d / "alias.npy").symlink_to("y.npy")
    return with_gradient(d, d / "y.npy", d / "alias.npy")


def link_intact(d, message):
    del message
    check((d / "victim.npy").read_bytes() == PREVIOUS, "the link's target was written")
    check((d / "y.npy").is_symlink(), "the planted link was replaced although the command failed")


@error_case("unwritable_grad_input", USAGE, "--grad-input", shows("missing-dir"))
def unwritable_grad_input(d):
    # Y could be written, GX cannot: neither appears (the listing check sees no y.npy).
    return with_gradient(d, d / "y.npy", d / "missing-dir" / "gx.npy")


@error_case("unwritable_grad_input_link_at_output", USAGE, "--grad-input", link_intact)
def unwritable_grad_input_link_at_output(d):
    previous_file(d / "victim.npy")
    (d / "y.npy").symlink_to("victim.npy")
    return with_gradient(d, d / "y.npy", d / "missing-dir" / "gx.npy")


# --- inputs that are not .npy files, or announce more than they hold ------------------------------

@error_case("directory_input", USAGE, "directory")
def directory_input(d):
    (d / "adir.npy").mkdir()
    return transform(d, d / "adir.npy")


@error_case("directory_input_spectrum", USAGE, "adir.npy")
def directory_input_spectrum(d):
    (d / "adir.npy").mkdir()
    return ["spectrum", "--input", d / "adir.npy"]


@error_case("directory_grad_output", USAGE, "directory")
def directory_grad_output(d):
    (d / "gy.npy").mkdir()
    return transform(d, good_input(d), "--grad-output", d / "gy.npy", "--grad-input", d / "gx.npy")


def npy_with_header(directory, header, payload=b"\0" * 64):
    """A version 1.0 .npy file with the given header dict text and payload."""
    text = header.encode("latin1")
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    path = directory / "x.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + payload)
    return path


@error_case("header_shape_beyond_file", USAGE, "truncated")
def header_shape_beyond_file(d):
    # 10¹² × 8 doubles (64 TB) announced by a 192-byte file: refused before any allocation.
    return transform(d, npy_with_header(
        d, "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 8), }"))


@error_case("header_shape_overflowing", USAGE, "larger than the file")
def header_shape_overflowing(d):
    # rows × cols × 8 overflows 64 bits.
    return ["spectrum", "--input", npy_with_header(
        d, "{'descr': '<f4', 'fortran_order': False, 'shape': (9000000000000000000, "
           "9000000000000000000), }")]


# --- numeric flags out of range: refused while parsing, naming the flag and the value -------------

def flag(d, command, flag_name, value):
    """`command` (TRANSFORM, POWER or an experiment's name) with `flag_name=value` appended."""
    if command in (TRANSFORM, POWER):
        args = [*command, "--input", good_input(d), "--output", d / "y.npy"]
    else:
        args = ["experiment", command, "--out", d / "never"]
    return [*args, f"{flag_name}={value}"]


TRANSFORM = ("transform", "--method", "iternorm")
POWER = ("transform", "--method", "power")


@error_case("iters_above_max", USAGE, "--iters", shows("'1001'"))
def iters_above_max(d):
    return flag(d, TRANSFORM, "--iters", "1001")


@error_case("iters_not_integer", USAGE, "--iters", shows("'4.5'"))
def iters_not_integer(d):
    return flag(d, TRANSFORM, "--iters", "4.5")


@error_case("power_nan", USAGE, "--power", shows("'nan'"))
def power_nan(d):
    return flag(d, POWER, "--power", "nan")


@error_case("power_above_max", USAGE, "--power", shows("'9'"))
def power_above_max(d):
    return flag(d, POWER, "--power", "9")


@error_case("eps_inf", USAGE, "--eps", shows("'inf'"))
def eps_inf(d):
    return flag(d, TRANSFORM, "--eps", "inf")


@error_case("eps_nan", USAGE, "--eps", shows("'nan'"))
def eps_nan(d):
    return flag(d, TRANSFORM, "--eps", "nan")


@error_case("eps_trailing_text", USAGE, "--eps", shows("'0.1x'"))
def eps_trailing_text(d):
    return flag(d, TRANSFORM, "--eps", "0.1x")


@error_case("groups_above_max", USAGE, "--groups", shows("'65537'"))
def groups_above_max(d):
    return flag(d, TRANSFORM, "--groups", "65537")


@error_case("groups_overflowing", USAGE, "--groups", shows("'99999999999999999999'"))
def groups_overflowing(d):
    return flag(d, TRANSFORM, "--groups", "99999999999999999999")


@error_case("collapse_steps_above_max", USAGE, "--steps", shows("'1000001'"))
def collapse_steps_above_max(d):
    return flag(d, "collapse", "--steps", "1000001")


@error_case("collapse_lr_nan", USAGE, "--lr", shows("'nan'"))
def collapse_lr_nan(d):
    return flag(d, "collapse", "--lr", "nan")


@error_case("collapse_batch_above_max", USAGE, "--batch", shows("'131073'"))
def collapse_batch_above_max(d):
    return flag(d, "collapse", "--batch", "131073")


@error_case("collapse_powers_nan", USAGE, "--powers", shows("'nan'"))
def collapse_powers_nan(d):
    return flag(d, "collapse", "--powers", "0.5,nan")


@error_case("maps_samples_above_max", USAGE, "--samples", shows("'10000000'"))
def maps_samples_above_max(d):
    return flag(d, "maps", "--samples", "10000000")


@error_case("maps_decay_nan", USAGE, "--decay", shows("'nan'"))
def maps_decay_nan(d):
    return flag(d, "maps", "--decay", "nan")


@error_case("dynamics_iters_above_max", USAGE, "--iters", shows("'65'"))
def dynamics_iters_above_max(d):
    return flag(d, "intl-dynamics", "--iters", "1,65")


@error_case("dynamics_probe_step_zero", USAGE, "--probe-step", shows("'0'"))
def dynamics_probe_step_zero(d):
    return flag(d, "intl-dynamics", "--probe-step", "0")


@error_case("real_probe_train_above_max", USAGE, "--probe-train", shows("'60001'"))
def real_probe_train_above_max(d):
    return flag(d, "real", "--probe-train", "60001")


@error_case("real_seed_negative", USAGE, "--seed", shows("'-1'"))
def real_seed_negative(d):
    return flag(d, "real", "--seed", "-1")


@error_case("spectrum_nan", USAGE, "nan")
def spectrum_nan(d):
    x = embedding(np.random.default_rng(4), 64, 8)
    x[63, 0] = np.nan
    return ["spectrum", "--input", save(d, "x.npy", x), "--json"]


def main():
    args = parse_args({"--case": {"required": True, "choices": sorted(CASES)}})
    build, status, needle, verify = CASES[args.case]
    with scratch_dir() as tmp:
        directory = Path(tmp)
        argv = build(directory)
        before = sorted(p.name for p in directory.rglob("*"))
        result = run_cli(args.cli, *argv)
        after = sorted(p.name for p in directory.rglob("*"))
        if verify is not None:
            verify(directory, result.stderr)

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
