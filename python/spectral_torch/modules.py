# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""torch.nn modules with the reference code's constructor arguments.

IterNorm replaces INTL's Whitening2dIterNorm, Whitening(method="cholesky") W-MSE's and
solo-learn's Whitening2d. The modules hold no parameters or buffers: the transform always uses
the batch's statistics (the reference layers' running statistics only serve eval mode, which
INTL and W-MSE never use for the loss).
"""

import torch
from torch import nn

from . import functional
from .distributed import gather_with_grad


class SpectralTransform(nn.Module):
    """Y = ST(Z) for N×D embeddings with the library's exact backward (see functional.transform).

    gather=True: when torch.distributed is initialised with more than one process, the ranks'
    batches are first all-gathered with a backward that sums the gradients (the reference's
    FullGatherLayer), so the transform sees the global batch and returns it.
    """

    def __init__(self, method: str, *, axis=0, eps: float = 0.0, groups: int = 1,
                 power: float = 0.5, iterations: int = 4, gather: bool = False):
        super().__init__()
        self.method = functional._method(method)
        self.axis = functional.axis_name(axis)
        self.eps = functional._real(eps, "eps")
        self.groups = functional._integer(groups, "groups")
        self.power = functional._real(power, "power")
        self.iterations = functional._integer(iterations, "iterations")
        self.gather = bool(gather)
        # Bad settings are refused here, not at the first batch.
        functional.ops.validate(self.method, self.axis, self.eps, self.groups, self.power,
                                self.iterations)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.gather:
            z = gather_with_grad(z)
        return functional.transform(z, self.method, axis=self.axis, eps=self.eps,
                                    groups=self.groups, power=self.power,
                                    iterations=self.iterations)

    def extra_repr(self) -> str:
        text = f"method={self.method!r}, axis={self.axis!r}, eps={self.eps}, groups={self.groups}"
        if self.method == "power":
            text += f", power={self.power}"
        if self.method == "iternorm":
            text += f", iterations={self.iterations}"
        return text + (", gather=True" if self.gather else "")


class IterNorm(SpectralTransform):
    """INTL's Whitening2dIterNorm: T Newton–Schulz steps towards Σ^-1/2 on Σ/tr Σ.

    axis 0 (INTL's default) whitens the N×N covariance of the samples, 1 the D×D covariance of
    the features; iterations T = 4 as in every published INTL run.
    """

    def __init__(self, axis=0, iterations: int = 4, eps: float = 0.0, groups: int = 1,
                 gather: bool = False):
        super().__init__("iternorm", axis=axis, eps=eps, groups=groups, iterations=iterations,
                         gather=gather)


class Whitening(SpectralTransform):
    """Full whitening: "zca" (W = Σ^-1/2), "pca" (W = Λ^-1/2 Uᵀ) or "cholesky" (W = L⁻¹, W-MSE's
    Whitening2d). axis 1 (the default) whitens the D features over the batch."""

    def __init__(self, method: str = "zca", axis=1, eps: float = 0.0, groups: int = 1,
                 gather: bool = False):
        if method not in ("zca", "pca", "cholesky"):
            raise ValueError(f"method: must be 'zca', 'pca' or 'cholesky', got {method!r}")
        super().__init__(method, axis=axis, eps=eps, groups=groups, gather=gather)


class PowerTransform(SpectralTransform):
    """W = Σ^-p: p = 0 centres only, p = 1/2 is ZCA whitening."""

    def __init__(self, p: float, axis=1, eps: float = 0.0, groups: int = 1,
                 gather: bool = False):
        super().__init__("power", axis=axis, eps=eps, groups=groups, power=p, gather=gather)
