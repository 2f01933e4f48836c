# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""torch.autograd.gradcheck (float64, central finite differences) of every instance on either
axis with one and two groups, through the op, the modules and the losses."""

import pytest
import torch
from torch.autograd import gradcheck

import spectral_torch as st
from conftest import METHODS, embedding, method_kwargs, shape_for


@pytest.mark.parametrize("groups", (1, 2))
@pytest.mark.parametrize("axis", (0, 1))
@pytest.mark.parametrize("method", METHODS)
def test_transform(method, axis, groups):
    rows, cols = shape_for(axis, groups)
    z = embedding(rows, cols, seed=11 + groups).requires_grad_()
    kwargs = method_kwargs(method)
    assert gradcheck(lambda t: st.transform(t, method, axis=axis, groups=groups, **kwargs), (z,),
                     eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("module", (st.IterNorm(axis=0), st.IterNorm(axis=1, iterations=6),
                                    st.Whitening("zca"), st.Whitening("cholesky"),
                                    st.Whitening("pca", axis=1, eps=0.01), st.PowerTransform(0.25)),
                         ids=repr)
def test_modules(module):
    rows, cols = shape_for(0 if module.axis == "samples" else 1, 1)
    z = embedding(rows, cols, seed=3).requires_grad_()
    assert gradcheck(module, (z,), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("axis", (0, 1))
def test_trace_loss(axis):
    y = embedding(7, 9, seed=5).requires_grad_()
    assert gradcheck(lambda t: st.trace_loss(t, axis), (y,), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("axis", (0, 1))
def test_intl_loss_three_views(axis):
    rows, cols = (8, 12) if axis == 0 else (12, 8)
    views = [embedding(rows, cols, seed=20 + v).requires_grad_() for v in range(3)]
    assert gradcheck(lambda *vs: st.intl_loss(list(vs), beta=0.05, axis=axis), tuple(views),
                     eps=1e-6, atol=1e-6, rtol=1e-4)
