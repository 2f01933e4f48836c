# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Functional form of spectral_torch: the transform, the losses, the spectrum and check().

Every function validates its arguments in Python where Python types are concerned (a bool is
not an axis) and leaves the rest to the library, whose rules and messages are the same as in
C++: invalid input raises ValueError, a numerical failure (a singular covariance for Cholesky,
for instance) RuntimeError.
"""

import math
import numbers
from typing import NamedTuple, Sequence, Union

import torch

from ._library import ops

Axis = Union[int, str]

METHODS = ("iternorm", "zca", "pca", "cholesky", "power")


def axis_name(axis: Axis, argument: str = "axis") -> str:
    """The library's axis name for the reference code's 0 (samples) / 1 (features) or a name."""
    if isinstance(axis, str) and axis in ("samples", "features"):
        return axis
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool) and axis in (0, 1):
        return "samples" if axis == 0 else "features"
    raise ValueError(f"{argument}: must be 0 (samples, the covariance of the N samples) or 1 "
                     f"(features, the covariance of the D features), got {axis!r}")


INT64_MAX = 2**63 - 1


def _integer(value, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{argument}: must be an integer, got {value!r}")
    if not -INT64_MAX <= int(value) <= INT64_MAX:
        raise ValueError(f"{argument}: must fit in 64 bits, got {value!r}")
    return int(value)


def _real(value, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{argument}: must be a real number, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{argument}: must be a finite real number, got {value!r}") from None


def _tensor(value, argument: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{argument}: must be a torch.Tensor, got {type(value).__name__}")
    return value


def _method(method) -> str:
    if not isinstance(method, str):
        raise ValueError(f"method: must be one of {METHODS}, got {method!r}")
    return method  # the library names the valid methods when it refuses one


def transform(z: torch.Tensor, method: str, *, axis: Axis = 0, eps: float = 0.0,
              groups: int = 1, power: float = 0.5, iterations: int = 4) -> torch.Tensor:
    """Y = ST(Z) for an N×D embedding, with the library's exact backward.

    method: "iternorm" (T = `iterations` Newton steps), "zca", "pca", "cholesky" or "power"
    (W = Σ^-power). axis 0 transforms the N×N covariance of the samples (INTL's axis=0), 1 the
    D×D covariance of the features. groups splits the D columns into equal blocks transformed
    independently; eps adds eps·I to Σ. float32 and float64 are computed in their precision,
    float16 and bfloat16 in float32; Y has z's dtype. On CUDA nothing synchronises: see check().
    """
    return ops.transform(_tensor(z, "z"), _method(method), axis_name(axis), _real(eps, "eps"),
                         _integer(groups, "groups"), _real(power, "power"),
                         _integer(iterations, "iterations"))


def trace_loss(y: torch.Tensor, axis: Axis = 0) -> torch.Tensor:
    """INTL's trace loss Σ_k (var_k − 1)² over the rows k of the whitening layout (axis 0: each
    sample's variance over its features; axis 1: each feature's over the samples), divisor
    M − 1."""
    return ops.trace_loss(_tensor(y, "y"), axis_name(axis))


class IntlTerms(NamedTuple):
    """INTL's objective and its parts (the parts carry no gradient)."""

    loss: torch.Tensor
    alignment: torch.Tensor
    trace: torch.Tensor


def intl_loss(views: Sequence[torch.Tensor], beta: float = None, *, axis: Axis = 0,
              iterations: int = 4, method: str = "iternorm", eps: float = 0.0, groups: int = 1,
              power: float = 0.5, terms: bool = False):
    """INTL's objective over V ≥ 2 views of the same batch (views[0] is the anchor):
    (1/(V−1)) Σ_{i≥1} [nMSE(Ẑ_i, Ẑ_0) + β·TL(Ẑ_i)] + β·TL(Ẑ_0), Ẑ_i = ST(Z_i).

    beta None is the reference's 0.01·(log2 K − 3), K = N (axis 0) or D (axis 1). Returns the
    loss, or IntlTerms(loss, alignment, trace) with terms=True.
    """
    if isinstance(views, torch.Tensor) or not isinstance(views, Sequence):
        raise ValueError("views: must be a list of N×D tensors, one per view, got "
                         f"{type(views).__name__}")
    tensors = [_tensor(v, f"views[{i}]") for i, v in enumerate(views)]
    weight = None if beta is None else _real(beta, "beta")
    loss, alignment, trace = ops.intl_loss(tensors, _method(method), axis_name(axis),
                                           _real(eps, "eps"), _integer(groups, "groups"),
                                           _real(power, "power"),
                                           _integer(iterations, "iterations"), weight)
    return IntlTerms(loss, alignment, trace) if terms else loss


class Spectrum(NamedTuple):
    """The spectrum of an embedding's covariance and its collapse summaries."""

    eigenvalues: torch.Tensor  # float64, descending
    effective_rank: float      # exp(entropy of the normalised spectrum), in [1, K]
    condition_number: float    # λ_max / λ_min, inf when Σ is numerically singular


def spectrum(z: torch.Tensor, axis: Axis = 1, *, eps: float = 0.0, groups: int = 1,
             group: int = 0) -> Spectrum:
    """Eigenvalues, effective rank and condition number of the covariance of z (axis 1: the
    D×D covariance of the features, as for a collapse check), computed in float64 on the CPU."""
    eigenvalues, rank, condition = ops.spectrum(_tensor(z, "z"), axis_name(axis),
                                                _real(eps, "eps"), _integer(groups, "groups"),
                                                _integer(group, "group"))
    return Spectrum(eigenvalues, rank, condition if math.isfinite(condition) else math.inf)


def check() -> None:
    """Raises what the CUDA transforms recorded since the last check (NaN input or gradient:
    ValueError; a singular covariance, a failed solver: RuntimeError), after waiting for them.

    On CUDA the transforms never wait for the GPU to report problems (that would stall every
    step); call check() where a synchronisation costs nothing, e.g. where the loss is read for
    logging. CPU calls raise at once, so check() has nothing to do there.
    """
    ops.check()
