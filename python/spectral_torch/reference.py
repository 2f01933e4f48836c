# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""The reference code's whitening modules in plain PyTorch (autograd through torch.linalg and
the Newton loop), for A/B comparisons: the drop-in test and the benchmark run them beside
spectral_torch's modules.

Written from the formulas of INTL's Whitening2dIterNorm (training mode) and the W-MSE /
CW-RGP Whitening2d family: Σ of the centred layout X (axis 0: X = Z, the samples; axis 1:
X = Zᵀ, the features) with divisor M − 1, plus eps·I; Y = W X_c. One group.
"""

import torch
from torch import nn

from .functional import axis_name


def whitening_matrix(sigma: torch.Tensor, method: str, iterations: int = 4,
                     power: float = 0.5) -> torch.Tensor:
    """W = f(Σ) for one K×K covariance, as the reference code computes it."""
    k = sigma.shape[0]
    if method == "iternorm":  # Whitening2dIterNorm.whiten_matrix on a batch of one
        sigma3 = sigma.reshape(1, k, k)
        trace = sigma.trace().reshape(1, 1, 1)
        sigma_norm = sigma3 * trace.reciprocal()
        projection = torch.eye(k, dtype=sigma.dtype, device=sigma.device).reshape(1, k, k)
        for _ in range(iterations):
            projection = torch.baddbmm(projection, torch.matrix_power(projection, 3), sigma_norm,
                                       beta=1.5, alpha=-0.5)
        return (projection * trace.reciprocal().sqrt()).reshape(k, k)
    if method == "cholesky":  # W-MSE: W = L⁻¹ by a triangular solve
        lower = torch.linalg.cholesky(sigma)
        eye = torch.eye(k, dtype=sigma.dtype, device=sigma.device)
        return torch.linalg.solve_triangular(lower, eye, upper=False)
    eigenvalues, eigenvectors = torch.linalg.eigh(sigma)
    if method == "pca":
        # Descending eigenvalues; each eigenvector's largest-|entry| made positive (the
        # library's convention; the reference code leaves the signs to the eigensolver).
        eigenvectors = eigenvectors.flip(1)
        with torch.no_grad():
            rows = eigenvectors.abs().argmax(dim=0)
            signs = torch.sign(eigenvectors[rows, torch.arange(k, device=sigma.device)])
        return eigenvalues.flip(0).rsqrt().diag() @ (eigenvectors * signs).t()
    p = 0.5 if method == "zca" else power
    return eigenvectors @ eigenvalues.pow(-p).diag() @ eigenvectors.t()


class ReferenceWhitening(nn.Module):
    """Y = W X_c with W = whitening_matrix(Σ); method as in spectral_torch.transform."""

    def __init__(self, method: str, axis=0, eps: float = 0.0, iterations: int = 4,
                 power: float = 0.5):
        super().__init__()
        self.method = method
        self.axis = axis_name(axis)
        self.eps = eps
        self.iterations = iterations
        self.power = power

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = z if self.axis == "samples" else z.t()
        k, m = x.shape
        xn = x - x.mean(dim=1, keepdim=True)
        sigma = xn @ xn.t() / (m - 1)
        if self.eps > 0:
            sigma = sigma + self.eps * torch.eye(k, dtype=z.dtype, device=z.device)
        y = whitening_matrix(sigma, self.method, self.iterations, self.power) @ xn
        return y if self.axis == "samples" else y.t()


def IterNorm(axis=0, iterations: int = 4, eps: float = 0.0) -> ReferenceWhitening:
    """INTL's Whitening2dIterNorm (training mode)."""
    return ReferenceWhitening("iternorm", axis=axis, eps=eps, iterations=iterations)


def Whitening(method: str = "zca", axis=1, eps: float = 0.0) -> ReferenceWhitening:
    """W-MSE's Whitening2d (cholesky) and the ZCA / PCA whitening of CW-RGP."""
    return ReferenceWhitening(method, axis=axis, eps=eps)
