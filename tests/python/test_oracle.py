# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Equality with the reference formulas (tests/oracle/torch_reference.py: the reference code's
forward in torch float64, gradients by autograd): outputs and input gradients in float64 (to
rounding) and float32 (to float32 rounding), the trace loss, INTL's objective and β's rule."""

import math

import pytest
import torch

import spectral_torch as st
import torch_reference as oracle
from conftest import METHODS, embedding, method_kwargs, shape_for

# float64: rounding of a K ≤ 16 eigen/Newton computation; float32: the same over ε = 6e-8.
TOLERANCE = {torch.float64: 1e-9, torch.float32: 2e-4}


def oracle_config(method, axis, groups, **kwargs):
    return oracle.transform_config({"method": method, "axis": ("samples", "features")[axis],
                                    "groups": groups, "iters": kwargs.get("iterations", 4),
                                    "power": kwargs.get("power", 0.5),
                                    "eps": kwargs.get("eps", 0.0)})


def relative_error(actual, expected):
    return float((actual.detach().double() - expected.detach()).abs().max()
                 / expected.detach().abs().max())


@pytest.mark.parametrize("dtype", (torch.float64, torch.float32), ids=("f64", "f32"))
@pytest.mark.parametrize("groups", (1, 2))
@pytest.mark.parametrize("axis", (0, 1))
@pytest.mark.parametrize("method", METHODS)
def test_transform_and_gradient(method, axis, groups, dtype):
    rows, cols = shape_for(axis, groups)
    kwargs = method_kwargs(method)
    z = embedding(rows, cols, seed=40 + axis, dtype=dtype).requires_grad_()
    grad_out = embedding(rows, cols, seed=97, dtype=dtype)
    y = st.transform(z, method, axis=axis, groups=groups, **kwargs)
    (y * grad_out).sum().backward()

    z64 = z.detach().double().requires_grad_()
    y_ref = oracle.transform(z64, oracle_config(method, axis, groups, **kwargs))
    (y_ref * grad_out.double()).sum().backward()

    assert y.dtype == dtype and z.grad.dtype == dtype
    assert relative_error(y, y_ref) < TOLERANCE[dtype]
    assert relative_error(z.grad, z64.grad) < TOLERANCE[dtype]


@pytest.mark.parametrize("iterations", (1, 2, 4, 7))
def test_iternorm_iterations_and_eps(iterations):
    z = embedding(10, 6, seed=8)
    y = st.transform(z, "iternorm", axis=1, iterations=iterations, eps=0.1)
    y_ref = oracle.transform(z, oracle_config("iternorm", 1, 1, iterations=iterations, eps=0.1))
    assert relative_error(y, y_ref) < 1e-10


@pytest.mark.parametrize("axis", (0, 1))
def test_trace_loss(axis):
    y = embedding(9, 7, seed=2).requires_grad_()
    loss = st.trace_loss(y, axis)
    loss.backward()
    y_ref = y.detach().clone().requires_grad_()
    expected = oracle.trace_loss(y_ref, ("samples", "features")[axis])
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    assert relative_error(y.grad, y_ref.grad) < 1e-12


@pytest.mark.parametrize("views", (2, 4))
@pytest.mark.parametrize("axis", (0, 1))
def test_intl_loss(axis, views):
    rows, cols = (16, 24) if axis == 0 else (24, 16)
    zs = [embedding(rows, cols, seed=60 + v).requires_grad_() for v in range(views)]
    terms = st.intl_loss(zs, axis=axis, terms=True)
    terms.loss.backward()

    refs = [z.detach().clone().requires_grad_() for z in zs]
    cfg = oracle_config("iternorm", axis, 1)
    beta = oracle.trade_off_beta(16)  # K = 16 on either axis here
    whitened = [oracle.transform(z, cfg) for z in refs]
    tl = [oracle.trace_loss(y, cfg["axis"]) for y in whitened]
    expected = sum(oracle.norm_mse_loss(whitened[i], whitened[0]) + beta * (tl[i] + tl[0])
                   for i in range(1, views)) / (views - 1)
    expected.backward()

    assert terms.loss.item() == pytest.approx(expected.item(), rel=1e-10)
    assert not terms.alignment.requires_grad and not terms.trace.requires_grad
    assert (terms.alignment + beta * terms.trace).item() == pytest.approx(terms.loss.item(),
                                                                         rel=1e-12)
    for z, ref in zip(zs, refs):
        assert relative_error(z.grad, ref.grad) < 1e-9


def test_beta_rule():
    zs = [embedding(256, 32, seed=v) for v in range(2)]
    automatic = st.intl_loss(zs, axis=0, terms=True)
    beta = 0.01 * (math.log2(256) - 3)
    assert automatic.loss.item() == pytest.approx(
        (automatic.alignment + beta * automatic.trace).item(), rel=1e-12)
    given = st.intl_loss(zs, beta=0.5, axis=0, terms=True)
    assert given.loss.item() == pytest.approx((given.alignment + 0.5 * given.trace).item(),
                                              rel=1e-12)
