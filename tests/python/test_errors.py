# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Every bad-input rule: invalid input raises ValueError naming the argument (and the value),
a numerical failure RuntimeError with the library's message; from forward and from backward,
through functions, modules and torch.ops.spectral alike."""

import math

import pytest
import torch

import spectral_torch as st
from conftest import embedding

Z = embedding(24, 8, seed=1, dtype=torch.float32)


def nan_at(z, row, col, value=math.nan):
    z = z.clone()
    z[row, col] = value
    return z


BAD_TRANSFORMS = [
    # (id, call, fragment of the message)
    ("not_a_tensor", lambda: st.transform([[1.0, 2.0]], "zca"), "z: must be a torch.Tensor"),
    ("one_dimension", lambda: st.transform(torch.ones(8), "zca"), "z: must be a 2-D"),
    ("three_dimensions", lambda: st.transform(torch.ones(2, 3, 4), "zca"), "z: must be a 2-D"),
    ("integer_tensor", lambda: st.transform(torch.ones(8, 4, dtype=torch.int64), "zca", axis=1),
     "z: must be floating point"),
    ("nan_input", lambda: st.transform(nan_at(Z, 3, 2), "zca", axis=1), "z: entry (3, 2) is nan"),
    ("inf_input", lambda: st.transform(nan_at(Z, 0, 1, math.inf), "iternorm"), "z: entry (0, 1)"),
    ("unknown_method", lambda: st.transform(Z, "svd"), "method: unknown method 'svd'"),
    ("method_not_string", lambda: st.transform(Z, 3), "method: must be one of"),
    ("axis_two", lambda: st.transform(Z, "zca", axis=2), "axis: must be 0"),
    ("axis_bool", lambda: st.transform(Z, "zca", axis=True), "axis: must be 0"),
    ("axis_name", lambda: st.transform(Z, "zca", axis="rows"), "axis: must be 0"),
    ("eps_negative", lambda: st.transform(Z, "zca", eps=-1.0), "eps: must be finite and >= 0"),
    ("eps_nan", lambda: st.transform(Z, "zca", eps=math.nan), "eps: must be finite and >= 0"),
    ("eps_inf", lambda: st.transform(Z, "zca", eps=math.inf), "eps: must be finite and >= 0"),
    ("eps_string", lambda: st.transform(Z, "zca", eps="0.1"), "eps: must be a real number"),
    ("groups_zero", lambda: st.transform(Z, "zca", groups=0), "groups: must be >= 1, got 0"),
    ("groups_not_dividing", lambda: st.transform(Z, "zca", axis=1, groups=3), "groups"),
    ("groups_float", lambda: st.transform(Z, "zca", groups=1.5), "groups: must be an integer"),
    ("iterations_negative", lambda: st.transform(Z, "iternorm", iterations=-1), "iterations"),
    ("iterations_huge", lambda: st.transform(Z, "iternorm", iterations=2**40), "iterations"),
    ("iterations_beyond_64_bits", lambda: st.transform(Z, "iternorm", iterations=2**70),
     "iterations: must fit in 64 bits"),
    ("groups_beyond_64_bits", lambda: st.transform(Z, "zca", groups=-2**70), "groups: must fit"),
    ("eps_beyond_float", lambda: st.transform(Z, "zca", eps=10**400), "eps: must be a finite"),
    ("power_negative", lambda: st.transform(Z, "power", power=-0.5), "power"),
    ("power_nan", lambda: st.transform(Z, "power", power=math.nan), "power"),
    ("one_observation", lambda: st.transform(Z[:1], "zca", axis=1), "observations"),
]


@pytest.mark.parametrize("call,fragment", [case[1:] for case in BAD_TRANSFORMS],
                         ids=[case[0] for case in BAD_TRANSFORMS])
def test_transform_refuses(call, fragment):
    with pytest.raises(ValueError) as error:
        call()
    assert fragment in str(error.value)


@pytest.mark.parametrize("make", (
    lambda: st.IterNorm(axis=3), lambda: st.IterNorm(iterations=-2), lambda: st.IterNorm(eps=-1),
    lambda: st.Whitening("iternorm"), lambda: st.Whitening("zca", groups=0),
    lambda: st.PowerTransform(-1.0), lambda: st.PowerTransform(math.inf)))
def test_modules_refuse_settings_at_construction(make):
    with pytest.raises(ValueError):
        make()


def test_ops_translate_too():
    with pytest.raises(ValueError, match="axis: must be 'samples'"):
        torch.ops.spectral.transform(Z, "zca", "rows", 0.0, 1, 0.5, 4)
    with pytest.raises(ValueError, match="groups: must be >= 1"):
        torch.ops.spectral.validate("zca", "features", 0.0, 0, 0.5, 4)


@pytest.mark.parametrize("method", ("iternorm", "zca", "pca", "cholesky", "power"))
def test_constant_input_is_a_numerical_failure(method):
    with pytest.raises(RuntimeError, match=method):
        st.transform(torch.ones(16, 4), method, axis=1)


def test_singular_covariance_for_cholesky():
    rank_two = embedding(24, 2, seed=3) @ embedding(2, 6, seed=4)  # 6 features of rank 2
    with pytest.raises(RuntimeError, match="cholesky"):
        st.transform(rank_two, "cholesky", axis=1)


@pytest.mark.parametrize("value", (math.nan, math.inf))
def test_nonfinite_gradient_raises_from_backward(value):
    z = Z.clone().requires_grad_()
    y = st.transform(z, "zca", axis=1)
    with pytest.raises(ValueError, match="grad_out"):
        (y * nan_at(torch.ones_like(y), 5, 1, value)).sum().backward()


BAD_LOSSES = [
    ("trace_loss_3d", lambda: st.trace_loss(torch.ones(2, 3, 4)), "y: must be a 2-D"),
    ("trace_loss_axis", lambda: st.trace_loss(Z, axis=-1), "axis: must be 0"),
    ("trace_loss_integer", lambda: st.trace_loss(torch.ones(8, 4, dtype=torch.int64), 1),
     "y: must be floating point"),
    ("trace_loss_one_observation", lambda: st.trace_loss(Z[:1], axis=1), "at least 2"),
    ("intl_one_view", lambda: st.intl_loss([Z]), "views: INTL needs at least 2 views"),
    ("intl_tensor_not_list", lambda: st.intl_loss(Z), "views: must be a list"),
    ("intl_not_tensors", lambda: st.intl_loss([Z, "view"]), "views[1]: must be a torch.Tensor"),
    ("intl_shapes", lambda: st.intl_loss([Z, Z[:12]]), "views[1]: shape"),
    ("intl_dtypes", lambda: st.intl_loss([Z, Z.double()]), "views[1]: Double"),
    ("trace_loss_empty", lambda: st.trace_loss(torch.empty(0, 4), 0), "y: must be non-empty"),
    ("intl_beta_beyond_float", lambda: st.intl_loss([Z, Z], beta=10**400), "beta: must be a"),
    ("intl_beta_negative", lambda: st.intl_loss([Z, Z], beta=-0.1), "beta: must be finite"),
    ("intl_beta_nan", lambda: st.intl_loss([Z, Z], beta=math.nan), "beta: must be finite"),
    ("intl_auto_beta_small_batch", lambda: st.intl_loss([Z[:6], Z[:6]], axis=0), "beta: "),
    ("spectrum_constant", lambda: st.spectrum(torch.ones(10, 4)), "covariance is zero"),
    ("spectrum_group", lambda: st.spectrum(Z, groups=2, group=2), "group: must be in [0, 2)"),
    ("spectrum_nan", lambda: st.spectrum(nan_at(Z, 1, 1)), "z: entry (1, 1) is nan"),
    ("spectrum_integer", lambda: st.spectrum(torch.ones(4, 4, dtype=torch.int32)),
     "z: must be floating point"),
]


@pytest.mark.parametrize("call,fragment", [case[1:] for case in BAD_LOSSES],
                         ids=[case[0] for case in BAD_LOSSES])
def test_losses_and_spectrum_refuse(call, fragment):
    with pytest.raises(ValueError) as error:
        call()
    assert fragment in str(error.value)


def test_second_backward_needs_retain_graph():
    z = Z.clone().requires_grad_()
    y = st.transform(z, "iternorm")
    grad_out = torch.ones_like(y)
    y.backward(grad_out)
    with pytest.raises(ValueError, match="retain_graph=True"):
        y.backward(grad_out)

    kept = Z.clone().requires_grad_()
    y = st.transform(kept, "iternorm")
    y.backward(grad_out, retain_graph=True)
    first = kept.grad.clone()
    y.backward(grad_out)
    assert torch.allclose(kept.grad, 2 * first)


def test_double_backward_is_refused():
    z = Z.double().requires_grad_()
    y = st.transform(z, "zca", axis=1)
    with pytest.raises(ValueError, match="not differentiable"):
        torch.autograd.grad((y * y).sum(), z, create_graph=True)


def test_numerical_failure_in_backward_is_a_runtime_error():
    """A finite gradient so large that ∂L/∂Z overflows float32: the library's numerical error
    leaves backward as RuntimeError with its message."""
    z = Z.clone().requires_grad_()
    y = st.transform(z, "zca", axis=1)
    with pytest.raises(RuntimeError, match="zca gradient: the result contains NaN or Inf"):
        y.backward(torch.full_like(y, 3e38))
