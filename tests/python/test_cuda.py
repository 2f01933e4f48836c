# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""CUDA: the same numbers as the CPU for every instance, gradcheck on the device, autocast
inputs, no host synchronisation per call, and problems reported by check(). Every case is
skipped (and the file reported to ctest as skipped) without a GPU or a CUDA build."""

import math

import pytest
import torch
from torch.autograd import gradcheck

import spectral_torch as st
from conftest import METHODS, embedding, method_kwargs, shape_for


@pytest.mark.parametrize("dtype,tolerance", ((torch.float64, 1e-9), (torch.float32, 2e-4)),
                         ids=("f64", "f32"))
@pytest.mark.parametrize("groups", (1, 2))
@pytest.mark.parametrize("axis", (0, 1))
@pytest.mark.parametrize("method", METHODS)
def test_equals_cpu(cuda_device, method, axis, groups, dtype, tolerance):
    rows, cols = shape_for(axis, groups)
    kwargs = method_kwargs(method)
    z = embedding(rows, cols, seed=80, dtype=dtype)
    grad_out = embedding(rows, cols, seed=81, dtype=dtype)
    results = []
    for device in ("cpu", cuda_device):
        zd = z.to(device).requires_grad_()
        y = st.transform(zd, method, axis=axis, groups=groups, **kwargs)
        y.backward(grad_out.to(device))
        results.append((y.detach().cpu().double(), zd.grad.cpu().double()))
    for cpu, gpu in zip(*results):
        assert (gpu - cpu).abs().max() <= tolerance * cpu.abs().max()
    st.check()


@pytest.mark.parametrize("method", METHODS)
def test_gradcheck_on_device(cuda_device, method):
    z = embedding(24, 8, seed=82, device=cuda_device).requires_grad_()
    kwargs = method_kwargs(method)
    assert gradcheck(lambda t: st.transform(t, method, axis=1, **kwargs), (z,), eps=1e-6,
                     atol=1e-6, rtol=1e-4)


def test_autocast_half(cuda_device):
    z = embedding(64, 32, seed=83, dtype=torch.float32, device=cuda_device).requires_grad_()
    with torch.autocast("cuda", dtype=torch.float16):
        h = z.half()
        y = st.IterNorm()(h)
    assert y.dtype == torch.float16
    expected = st.transform(h.detach().float(), "iternorm").half()
    assert torch.equal(y, expected)
    y.float().pow(2).sum().backward()
    assert torch.isfinite(z.grad).all()


def test_calls_do_not_wait_for_the_gpu(cuda_device):
    """A transform queued behind a long kernel returns before that kernel ends."""
    z = embedding(256, 512, seed=84, dtype=torch.float32, device=cuda_device).requires_grad_()
    grad_out = torch.ones_like(z)
    st.transform(z, "iternorm").backward(grad_out)  # warm up (handles, workspaces)
    torch.cuda.synchronize()
    torch.cuda._sleep(2_000_000_000)  # about a second of spinning on the current stream
    y = st.transform(z, "iternorm")
    y.backward(grad_out)
    busy = not torch.cuda.current_stream().query()
    torch.cuda.synchronize()
    assert busy, "the host waited for the GPU during forward or backward"
    st.check()


def test_problems_are_raised_by_check(cuda_device):
    st.check()  # nothing pending
    z = embedding(32, 8, seed=85, device=cuda_device)
    z[3, 2] = math.nan
    st.transform(z, "zca", axis=1)  # recorded on the device, not raised here
    with pytest.raises(ValueError, match="z: contains NaN"):
        st.check()
    st.check()  # the record was cleared

    st.transform(torch.ones(32, 8, device=cuda_device), "cholesky", axis=1)
    with pytest.raises(RuntimeError, match="cholesky"):
        st.check()

    y = st.transform(embedding(32, 8, seed=86, device=cuda_device).requires_grad_(), "zca",
                     axis=1)
    y.backward(torch.full_like(y, math.inf))
    with pytest.raises(ValueError, match="grad_out"):
        st.check()


def test_bad_settings_raise_at_once(cuda_device):
    with pytest.raises(ValueError, match="groups"):
        st.transform(embedding(16, 6, seed=87, device=cuda_device), "zca", axis=1, groups=4)
