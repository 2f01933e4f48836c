# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""The drop-in check: INTL's training step written in plain PyTorch, once with the reference
whitening module (spectral_torch.reference.IterNorm: Whitening2dIterNorm's training-mode
forward in plain PyTorch, itself checked against the oracle below) and once with
spectral_torch.IterNorm, gives the same loss, the same gradient of every encoder parameter and
the same parameters after an SGD step."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import spectral_torch as st
import torch_reference as oracle
from conftest import METHODS, embedding, method_kwargs, shape_for
from spectral_torch import reference


def trace_loss(y, axis):
    """INTL's TL with the reference's layout (axis 0 transposes first)."""
    x = y.t() if axis == 0 else y
    x = x - x.mean(dim=0)
    return ((x.pow(2).sum(dim=0) / (x.shape[0] - 1)) - 1).pow(2).sum()


def norm_mse(a, b):
    return 2 - 2 * (F.normalize(a) * F.normalize(b)).sum(dim=-1).mean()


def intl_step(encoder, whitening, views, axis):
    """INTL.forward: whiten each view; every view against view 0, TL of both, averaged."""
    embeddings = [encoder(v) for v in views]
    k = embeddings[0].shape[0] if axis == 0 else embeddings[0].shape[1]
    beta = 0.01 * (math.log2(k) - 3)
    whitened = [whitening(z) for z in embeddings]
    loss = 0
    for i in range(1, len(views)):
        loss = loss + norm_mse(whitened[i], whitened[0]) + beta * (
            trace_loss(whitened[i], axis) + trace_loss(whitened[0], axis))
    return loss / (len(views) - 1)


def make_encoder(dtype):
    torch.manual_seed(1234)
    return nn.Sequential(nn.Linear(20, 48), nn.BatchNorm1d(48), nn.ReLU(),
                         nn.Linear(48, 32)).to(dtype)


def views_of(batch, dtype):
    generator = torch.Generator().manual_seed(99)
    images = torch.randn(batch, 20, generator=generator, dtype=torch.float64)
    return [(images + 0.2 * torch.randn(batch, 20, generator=generator, dtype=torch.float64)
             ).to(dtype) for _ in range(2)]


@pytest.mark.parametrize("dtype,tolerance", ((torch.float64, 1e-9), (torch.float32, 5e-4)),
                         ids=("f64", "f32"))
@pytest.mark.parametrize("axis", (0, 1))
def test_intl_step_equal(axis, dtype, tolerance):
    views = views_of(64, dtype)
    reference_encoder = make_encoder(dtype)
    encoder = copy.deepcopy(reference_encoder)

    expected = intl_step(reference_encoder, reference.IterNorm(axis), views, axis)
    expected.backward()
    loss = intl_step(encoder, st.IterNorm(axis=axis), views, axis)
    loss.backward()

    assert loss.dtype == dtype
    assert loss.item() == pytest.approx(expected.item(), rel=tolerance)
    # One scale for all: some gradients are zero up to rounding (a bias before BatchNorm).
    scale = max(p.grad.abs().max().item() for p in reference_encoder.parameters())
    for (name, p_ref), p in zip(reference_encoder.named_parameters(), encoder.parameters()):
        assert (p.grad - p_ref.grad).abs().max().item() <= tolerance * scale, name

    for model in (reference_encoder, encoder):
        torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9).step()
    for p_ref, p in zip(reference_encoder.parameters(), encoder.parameters()):
        assert torch.allclose(p, p_ref, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("axis", (0, 1))
def test_intl_loss_function_is_the_step(axis):
    """spectral_torch.intl_loss on the encoder outputs is the same objective."""
    views = views_of(64, torch.float64)
    encoder = make_encoder(torch.float64)
    expected = intl_step(encoder, reference.IterNorm(axis), views, axis)
    loss = st.intl_loss([encoder(v) for v in views], axis=axis)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-10)


@pytest.mark.parametrize("axis", (0, 1))
@pytest.mark.parametrize("method", METHODS)
def test_reference_modules_equal_the_oracle(method, axis):
    rows, cols = shape_for(axis, 1)
    z = embedding(rows, cols, seed=31)
    kwargs = method_kwargs(method)
    module = reference.ReferenceWhitening(method, axis=axis, eps=0.01, **kwargs)
    expected = oracle.transform(z, oracle.transform_config({
        "method": method, "axis": ("samples", "features")[axis], "eps": 0.01, **kwargs}))
    assert torch.allclose(module(z), expected, rtol=1e-10, atol=1e-12)
