#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""make_image_folder end to end: every numeric flag out of range is refused before anything is
written (exit 2, one line naming the flag and the value); a refused thread ends the run with one
line and nothing written, never a signal; links planted in the output folder are not written
through. Usage: make_image_folder_test.py --exe PATH --case NAME."""
import os
import resource
import subprocess

import cli_checks

SMALL = ["--classes", "2", "--per-class", "3", "--width", "32", "--height", "24", "--threads", "2"]


def run(exe, *args, preexec_fn=None):
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=300,
                          check=False, preexec_fn=preexec_fn)


def expect_error(result, code, *fragments):
    cli_checks.expect_error(result, code, "make_image_folder", *fragments)


def case_bad_values(exe, tmp):
    out = os.path.join(tmp, "out")
    cases = [("--threads", "99999999999"), ("--threads", "1025"), ("--threads", "-1"),
             ("--classes", "0"), ("--classes", "100001"), ("--per-class", "0"),
             ("--per-class", "2.5"), ("--width", "8193"), ("--height", "15"),
             ("--quality", "101"), ("--noise", "nan"), ("--noise", "-1"), ("--noise", "inf"),
             ("--seed", "-1"), ("--seed", "18446744073709551616"), ("--seed", "1e3")]
    for flag, value in cases:
        expect_error(run(exe, "--out", out, flag, value), 2, flag, value)
        assert not os.path.exists(out), (flag, value, "created the output folder")
    # Each flag within its range, but together too many images.
    expect_error(run(exe, "--out", out, "--classes", "100000", "--per-class", "10000"), 2,
                 "--classes", "--per-class")
    assert not os.path.exists(out)


def case_thread_failure(exe, tmp):
    out = os.path.join(tmp, "out")

    def small_address_space():
        # 1024 thread stacks of 8 MiB cannot fit in 256 MiB: thread creation fails part way.
        resource.setrlimit(resource.RLIMIT_STACK, (8 << 20, 8 << 20))
        resource.setrlimit(resource.RLIMIT_AS, (256 << 20, 256 << 20))

    result = run(exe, "--out", out, *SMALL[:-2], "--threads", "1024",
                 preexec_fn=small_address_space)
    assert result.returncode > 0, ("killed by a signal" if result.returncode < 0 else "succeeded",
                                   result.returncode, result.stderr)
    expect_error(result, 1, "--threads 1024")
    assert not os.path.exists(out), "a partial folder was left behind"


def case_planted_links(exe, tmp):
    out = os.path.join(tmp, "out")
    folder = os.path.join(out, "train", "class_000")
    os.makedirs(folder)
    victim = os.path.join(tmp, "victim.txt")
    with open(victim, "w", encoding="utf-8") as f:
        f.write("precious\n")
    # The names a writer might open: the image itself and the sibling an older one staged it in.
    os.symlink(victim, os.path.join(folder, "img_0000000.JPEG"))
    os.symlink(victim, os.path.join(folder, "img_0000002.JPEG.tmp"))
    result = run(exe, "--out", out, *SMALL)
    assert result.returncode == 0, result.stderr
    with open(victim, "rb") as f:
        assert f.read() == b"precious\n", "wrote through a planted link"
    images = []
    for c in ("class_000", "class_001"):
        for name in sorted(os.listdir(os.path.join(out, "train", c))):
            path = os.path.join(out, "train", c, name)
            if name.endswith(".JPEG"):
                assert not os.path.islink(path), path
                with open(path, "rb") as f:
                    assert f.read(3) == b"\xff\xd8\xff", path
                images.append(name)
    assert len(images) == 6, images
    # A class folder that is a link is refused before anything is written into it.
    other = os.path.join(tmp, "elsewhere")
    os.makedirs(other)
    out2 = os.path.join(tmp, "out2")
    os.makedirs(os.path.join(out2, "train"))
    os.symlink(other, os.path.join(out2, "train", "class_001"))
    expect_error(run(exe, "--out", out2, *SMALL), 2, "class_001")
    assert os.listdir(other) == [], os.listdir(other)


if __name__ == "__main__":
    cli_checks.run_case(globals())
