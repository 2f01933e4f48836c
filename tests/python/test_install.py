# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""The documented install command, `pip install --no-build-isolation .`, in a fresh virtual
environment that sees the system's torch: the installed package imports from another folder
(not the build tree) and transforms. Skipped when scikit-build-core cannot be fetched (no
package registry)."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=900, **kwargs)


def test_pip_install_into_a_virtual_environment(tmp_path):
    environment = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(environment)
    python = str(environment / "bin" / "python")
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_USER")}

    fetched = run([python, "-m", "pip", "install", "-q", "scikit-build-core>=0.10"], env=clean)
    if fetched.returncode != 0:
        pytest.skip(f"scikit-build-core not installable here: {fetched.stderr.strip()[-300:]}")

    installed = run([python, "-m", "pip", "install", "--no-build-isolation", "-q", str(ROOT)],
                    env=clean, cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]

    probe = ("import torch, spectral_torch as st; "
             "print(st.__file__); "
             "z = torch.randn(32, 16, requires_grad=True); "
             "st.IterNorm()(z).pow(2).sum().backward(); "
             "print(bool(torch.isfinite(z.grad).all()))")
    result = run([python, "-c", probe], env=clean, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    location, finite = result.stdout.split()
    assert Path(location).is_relative_to(environment)
    assert finite == "True"
