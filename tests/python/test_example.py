# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""examples/python/intl_fashion_mnist.py as a user runs it: a tiny INTL pretraining run ends with
finite losses and a k-NN accuracy far above chance, and bad input ends with one line on stderr
and a non-zero exit status, without a traceback."""

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples/python/intl_fashion_mnist.py"
DATA = Path("/usr/share/datasets/fashion-mnist")


def run_example(*arguments: str) -> subprocess.CompletedProcess:
    # The current environment (PYTHONPATH set by the test runner) finds spectral_torch.
    return subprocess.run([sys.executable, str(EXAMPLE), *arguments], capture_output=True,
                          text=True, timeout=300)


def test_tiny_run_learns():
    if not DATA.is_dir():
        pytest.skip(f"Fashion-MNIST is not installed in {DATA} (dataset-fashion-mnist)")
    result = run_example("--epochs", "1", "--limit", "1024", "--batch", "128", "--seed", "0",
                         "--data", str(DATA))
    assert result.returncode == 0, result.stderr
    epochs = re.findall(r"^epoch \d+/\d+: loss (\S+) \(nMSE (\S+)\),", result.stdout,
                        flags=re.MULTILINE)
    assert len(epochs) == 1, result.stdout
    assert all(math.isfinite(float(value)) for line in epochs for value in line), result.stdout
    accuracy = re.search(r"^k-NN accuracy: ([0-9.]+)", result.stdout, flags=re.MULTILINE)
    assert accuracy, result.stdout
    # Ten classes: chance is 0.10; this run reaches about 0.70 (an untrained encoder
    # about 0.65).
    assert float(accuracy.group(1)) > 0.5, result.stdout


def test_missing_data_folder(tmp_path):
    missing = tmp_path / "no-such-folder"
    result = run_example("--epochs", "1", "--limit", "128", "--batch", "128",
                         "--data", str(missing))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(missing) in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("arguments", (["--epochs", "0"], ["--batch", "8"],
                                       ["--limit", "100", "--batch", "128"], ["--lr", "-1"]))
def test_bad_arguments(arguments):
    result = run_example(*arguments)
    assert result.returncode == 2  # argparse's usage error
    assert "Traceback" not in result.stderr
    assert "error:" in result.stderr
