# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures of the spectral_torch tests: seeded, well-conditioned data, the PyTorch oracle
(tests/oracle/torch_reference.py) on the path, and exit status 77 (ctest's "skipped") for a file
whose every test was skipped, so a GPU file never counts as passed without a GPU."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "oracle"))

SKIPPED_EXIT_STATUS = 77

METHODS = ("iternorm", "zca", "pca", "cholesky", "power")


def embedding(rows: int, cols: int, seed: int, dtype=torch.float64, device="cpu"):
    """An N×D embedding whose columns have distinct scales (no repeated eigenvalues, no
    degenerate covariance), from its own generator."""
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(rows, cols, generator=generator, dtype=torch.float64)
    scales = torch.linspace(0.5, 2.0, cols, dtype=torch.float64)
    mix = torch.eye(cols, dtype=torch.float64) + 0.1 * torch.randn(
        cols, cols, generator=generator, dtype=torch.float64)
    return ((z * scales) @ mix + 0.3).to(dtype=dtype, device=device)


def shape_for(axis: int, groups: int):
    """N, D with more observations than the covariance size on either axis (M > K)."""
    return (24, 8 * groups) if axis == 1 else (6, 8 * groups)


def method_kwargs(method: str) -> dict:
    return {"power": 0.3} if method == "power" else {}


class _Outcomes:
    passed = 0
    skipped = 0


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed:
        _Outcomes.passed += 1
    if report.skipped:
        _Outcomes.skipped += 1


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == 0 and _Outcomes.passed == 0 and _Outcomes.skipped > 0:
        session.exitstatus = SKIPPED_EXIT_STATUS


@pytest.fixture
def cuda_device():
    import spectral_torch
    if not spectral_torch.built_with_cuda:
        pytest.skip("spectral_torch was built against a LibTorch without CUDA")
    if not torch.cuda.is_available():
        pytest.skip("no GPU")
    return torch.device("cuda")
