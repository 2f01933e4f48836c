# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Precision and memory: float16/bfloat16 computed in float32 and returned in the input's
dtype; no copy of a contiguous float32 input (the op works on the tensor's memory); strided
input, inference mode and grad-free calls give the same numbers."""

import pytest
import torch
from torch.profiler import ProfilerActivity, profile

import spectral_torch as st
from conftest import METHODS, embedding, method_kwargs

COPY_OPS = ("aten::copy_", "aten::clone", "aten::_to_copy")


@pytest.mark.parametrize("dtype", (torch.float16, torch.bfloat16), ids=("f16", "bf16"))
@pytest.mark.parametrize("method", ("iternorm", "zca", "cholesky"))
def test_half_inputs_run_in_float32(method, dtype):
    z = embedding(32, 8, seed=7, dtype=dtype).requires_grad_()
    y = st.transform(z, method, axis=1)
    assert y.dtype == dtype
    expected = st.transform(z.detach().float(), method, axis=1).to(dtype)
    assert torch.equal(y, expected)
    y.float().pow(2).sum().backward()
    assert z.grad.dtype == dtype and torch.isfinite(z.grad.float()).all()
    # The gradient is the float32 one rounded to the input's dtype (up to that rounding).
    z32 = z.detach().float().requires_grad_()
    st.transform(z32, method, axis=1).to(dtype).float().pow(2).sum().backward()
    scale = z32.grad.abs().max()
    assert (z.grad.float() - z32.grad).abs().max() <= 2e-2 * scale


def copies_made(call):
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        call()
    return [event.name for event in prof.events() if event.name in COPY_OPS]


@pytest.mark.parametrize("method", METHODS)
def test_contiguous_float32_is_not_copied(method):
    z = embedding(64, 16, seed=9, dtype=torch.float32).requires_grad_()
    grad_out = embedding(64, 16, seed=10, dtype=torch.float32)
    kwargs = method_kwargs(method)

    def forward_backward(tensor):
        y = st.transform(tensor, method, axis=1, **kwargs)
        y.backward(grad_out)

    assert copies_made(lambda: forward_backward(z)) == []
    # The detector sees a copy where one is needed: a transposed (strided) input.
    strided = z.detach().t().contiguous().t().requires_grad_()
    assert not strided.is_contiguous()
    assert copies_made(lambda: forward_backward(strided)) != []


def test_strided_input_equals_contiguous():
    z = embedding(40, 10, seed=12)
    strided = z.t().contiguous().t()
    assert torch.equal(st.transform(strided, "zca", axis=1), st.transform(z, "zca", axis=1))


@pytest.mark.parametrize("method", METHODS)
def test_grad_free_paths_give_the_same_bits(method):
    kwargs = method_kwargs(method)
    z = embedding(30, 6, seed=13).requires_grad_()
    with_grad = st.transform(z, method, axis=1, **kwargs)
    with torch.no_grad():
        no_grad = st.transform(z, method, axis=1, **kwargs)
    with torch.inference_mode():
        inference = st.transform(z.detach(), method, axis=1, **kwargs)
    assert with_grad.requires_grad and not no_grad.requires_grad
    assert torch.equal(with_grad.detach(), no_grad)
    assert torch.equal(no_grad, inference)


def test_meta_tensors_give_shapes():
    y = torch.ops.spectral.transform(torch.empty(8, 4, device="meta"), "zca", "features", 0.0,
                                     1, 0.5, 4)
    assert y.device.type == "meta" and y.shape == (8, 4)
