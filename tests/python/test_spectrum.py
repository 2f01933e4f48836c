# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""spectrum(): the eigenvalues of the covariance (against torch.linalg.eigvalsh in float64),
its effective rank and condition number, on either axis and per group."""

import math

import pytest
import torch

import spectral_torch as st
from conftest import embedding


def covariance(x):
    xc = x - x.mean(dim=1, keepdim=True)
    return xc @ xc.t() / (x.shape[1] - 1)


@pytest.mark.parametrize("axis", (0, 1))
def test_eigenvalues_and_summaries(axis):
    z = embedding(30, 12, seed=21, dtype=torch.float32)
    result = st.spectrum(z, axis=axis)
    x = z.double() if axis == 0 else z.double().t()
    expected = torch.linalg.eigvalsh(covariance(x)).flip(0)
    assert result.eigenvalues.dtype == torch.float64
    assert torch.allclose(result.eigenvalues, expected, rtol=1e-10, atol=1e-12 * expected[0])
    if axis == 1:  # D = 12 < N: full rank
        p = expected / expected.sum()
        assert result.effective_rank == pytest.approx(math.exp(-(p * p.log()).sum().item()),
                                                      rel=1e-10)
        assert result.condition_number == pytest.approx((expected[0] / expected[-1]).item(),
                                                         rel=1e-8)
    else:  # 30 samples of 12 features: the 30×30 covariance has rank 11
        assert math.isinf(result.condition_number)
        assert 1.0 <= result.effective_rank <= 11.0


def test_group_and_eps():
    z = embedding(40, 12, seed=22)
    second = st.spectrum(z, groups=2, group=1, eps=0.5)
    expected = torch.linalg.eigvalsh(covariance(z[:, 6:].t()) + 0.5 * torch.eye(6)).flip(0)
    assert torch.allclose(second.eigenvalues, expected, rtol=1e-10)


def test_collapsed_embedding_has_rank_one():
    direction = embedding(1, 16, seed=23)
    z = torch.linspace(-1, 1, 50, dtype=torch.float64).unsqueeze(1) * direction
    assert st.spectrum(z).effective_rank == pytest.approx(1.0, abs=1e-6)
