# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""The link checker finds what it must: run on a scratch repository with known defects."""

import subprocess
import sys
import tempfile
from pathlib import Path

CHECKER = Path(__file__).with_name("check_links.py")


def run(root):
    result = subprocess.run([sys.executable, str(CHECKER), str(root)], capture_output=True,
                            text=True, check=False)
    return result.returncode, result.stdout


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main():
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        write(root, "README.md", "# Top\n[math](docs/math.md#iternorm) [self](#top) "
                                 "[web](https://example.org) `[not a link](nowhere.md)`\n")
        write(root, "docs/math.md", "# Math\n<a id=\"iternorm\"></a>\n## IterNorm's `f_T` map\n"
                                    "[back](../README.md#top) [h](#iternorms-f_t-map)\n"
                                    "```\n[in code](missing.md)\n```\n")
        write(root, "CHANGELOG.md", "# Changelog\n")
        write(root, "include/a.hpp", "// see docs/math.md#iternorm\n")
        status, out = run(root)
        assert status == 0, out
        assert "0 problems" in out, out

        write(root, "docs/extra.md", "[gone](missing.md) [bad anchor](math.md#nope) "
                                     "[outside](../../etc/passwd)\n")
        # The planted citations are split so that the real repository's check passes on this file.
        write(root, "include/b.hpp", "// docs/math.md" "#absent\n// spec \u00a74.2\n")
        write(root, "tests/c.cpp", "// the bar of issue" + " 7\n")
        status, out = run(root)
        assert status == 1, out
        expected = ["docs/extra.md:1: missing.md: no such file",
                    "docs/extra.md:1: math.md#nope: no anchor 'nope'",
                    "docs/extra.md:1: ../../etc/passwd: points outside the repository",
                    "include/b.hpp:1: docs/math.md" "#absent: no anchor 'absent'",
                    "include/b.hpp:2: cites the internal spec",
                    "tests/c.cpp:1: cites the internal spec"]
        for line in expected:
            assert line in out, f"missing '{line}' in:\n{out}"
        assert "6 problems" in out, out
    print("link checker: clean tree passes, 6 planted defects found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
