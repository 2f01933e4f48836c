# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""What the command-line tests of intl_train, intl_eval and make_image_folder share: the
one-line error contract, the out-of-range table check, and the case runner."""
import argparse
import os
import shutil
import sys
import tempfile
import time


def expect_error(result, code, program, *fragments):
    """`result` failed with exit `code` and one stderr line "<program>: error: ..." holding every
    fragment; returns that line."""
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    assert result.returncode == code, (result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"{program}: error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def refuses_out_of_range(command, table, program, out):
    """Every (arguments, fragment) row of `table`, run by command(arguments), fails at once with
    exit 2 and one error line naming the flag (fragment) and the value, and creates no `out`."""
    failures = []
    for args, fragment in table:
        start = time.monotonic()
        result = command(args)
        seconds = time.monotonic() - start
        lines = [l for l in result.stderr.splitlines() if l.strip()]
        value = args[-1].split(",")[-1]  # a list flag's offending value is its last
        if (result.returncode != 2 or len(lines) != 1 or
                not lines[0].startswith(f"{program}: error:") or fragment not in lines[0]):
            failures.append(f"{args}: exit {result.returncode}, stderr {result.stderr!r}")
        elif value not in lines[0]:
            failures.append(f"{args}: the value is not in {lines[0]!r}")
        elif seconds > 20:
            failures.append(f"{args}: took {seconds:.1f} s")
        if os.path.exists(out):
            failures.append(f"{args}: created {out}")
            shutil.rmtree(out)
    assert not failures, "\n".join(failures)
    print(f"{len(table)} out-of-range values refused")


def run_case(cases, prefix="spectral_cli_test_"):
    """`--exe PATH --case NAME`: runs cases["case_" + NAME](absolute exe, a fresh temporary
    folder) and prints "NAME: ok"."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--exe", required=True)
    parser.add_argument("--case", required=True)
    args = parser.parse_args()
    case = cases.get("case_" + args.case)
    if case is None:
        sys.exit(f"unknown case {args.case}")
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        case(os.path.abspath(args.exe), tmp)
    print(f"{args.case}: ok")
