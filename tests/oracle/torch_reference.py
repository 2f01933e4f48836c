#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""PyTorch autograd oracle for the spectral transforms (run with /usr/bin/python3).

Re-implements, in torch float64, the way the reference code (winci-ai/INTL methods/whitening.py,
methods/intl.py, methods/base.py; CW-RGP / W-MSE whitening for ZCA, PCA, Cholesky) computes
the forward pass, and obtains every gradient from torch autograd. No backward is hand-written.

Usage:  torch_reference.py CASE_DIR

Reads CASE_DIR/case.json and the input .npy files (float32 or float64), writes float64 .npy
outputs into the same directory and exits 0. On any error it prints one line to stderr and
exits 1. Cases:

  {"op": "transform", "method": "zca|pca|cholesky|power|iternorm", "power": 0.5, "iters": 4,
   "axis": "samples|features", "groups": 1, "eps": 0.0}
      inputs z.npy (N×D), gy.npy (N×D)           outputs y.npy, gz.npy (gz = d<gy, y>/dz)
  {"op": "trace_loss", "axis": "samples|features"}
      inputs y.npy                               outputs loss.npy (shape (1,)), gy.npy
  {"op": "nmse"}
      inputs a.npy, b.npy                        outputs loss.npy, ga.npy, gb.npy
  {"op": "intl", "method": ..., "iters": 4, "axis": ..., "groups": 1, "eps": 0, "beta": 0.05,
   "views": V}
      inputs z0.npy ... z{V-1}.npy               outputs loss.npy, g0.npy ... g{V-1}.npy

Conventions (Z is N×D, one sample per row):
  axis "features": X = Zᵀ (K = D, M = N), centre each feature over the batch, Σ is D×D.
  axis "samples":  X = Z  (K = N, M = D), centre each sample over its features, Σ is N×N.
  (INTL's --axis 1 is "features", --axis 0 is "samples".)
  Σ = X_c X_cᵀ/(M−1) + eps·I. groups G split the D columns of Z into G contiguous blocks that
  are transformed independently. Methods (Y = W X_c):
  zca W = U Λ^{-1/2} Uᵀ; power W = U Λ^{-p} Uᵀ; pca W = Λ^{-1/2} Uᵀ (eigenvalues descending,
  each eigenvector's largest-|entry| positive); cholesky W = L⁻¹ (triangular solve);
  iternorm: the Newton–Schulz loop of INTL's Whitening2dIterNorm.whiten_matrix.
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

DTYPE = torch.float64
METHODS = ("zca", "pca", "cholesky", "power", "iternorm")
AXES = ("samples", "features")


class OracleError(Exception):
    """Bad case description or input files."""


# ---------------------------------------------------------------------------------------------
# I/O
# ---------------------------------------------------------------------------------------------

def load_matrix(case_dir: Path, name: str) -> torch.Tensor:
    path = case_dir / name
    if not path.is_file():
        raise OracleError(f"missing input file {path}")
    array = np.load(path, allow_pickle=False)
    if array.ndim != 2:
        raise OracleError(f"{name} must be 2-D, got shape {array.shape}")
    if array.dtype not in (np.float32, np.float64):
        raise OracleError(f"{name} must be float32 or float64, got {array.dtype}")
    return torch.tensor(np.asarray(array, dtype=np.float64), dtype=DTYPE)


def save(case_dir: Path, name: str, tensor: torch.Tensor) -> None:
    array = tensor.detach().cpu().numpy().astype(np.float64)
    np.save(case_dir / name, np.ascontiguousarray(array))


# ---------------------------------------------------------------------------------------------
# Case parsing
# ---------------------------------------------------------------------------------------------

def transform_config(case: dict) -> dict:
    method = case.get("method", "iternorm")
    if method == "iter_norm":
        method = "iternorm"
    if method not in METHODS:
        raise OracleError(f"unknown method {method!r}, expected one of {METHODS}")
    axis = case.get("axis", "samples")
    if axis not in AXES:
        raise OracleError(f"unknown axis {axis!r}, expected one of {AXES}")
    groups = int(case.get("groups", 1))
    iters = int(case.get("iters", 4))
    power = float(case.get("power", 0.5))
    eps = float(case.get("eps", 0.0))
    if groups < 1:
        raise OracleError(f"groups must be >= 1, got {groups}")
    if iters < 0:
        raise OracleError(f"iters must be >= 0, got {iters}")
    if power < 0:
        raise OracleError(f"power must be >= 0, got {power}")
    return {"method": method, "axis": axis, "groups": groups, "iters": iters,
            "power": power, "eps": eps}


def axis_of(case: dict) -> str:
    axis = case.get("axis", "samples")
    if axis not in AXES:
        raise OracleError(f"unknown axis {axis!r}, expected one of {AXES}")
    return axis


# ---------------------------------------------------------------------------------------------
# Transforms (forward only; autograd supplies the backward)
# ---------------------------------------------------------------------------------------------

def whiten_matrix_iternorm(sigma: torch.Tensor, iterations: int) -> torch.Tensor:
    """INTL's Whitening2dIterNorm.whiten_matrix on a (1, K, K) batch."""
    eye = torch.eye(sigma.shape[-1], dtype=DTYPE).reshape(1, sigma.shape[-1], sigma.shape[-1])
    trace = sigma.diagonal(offset=0, dim1=-1, dim2=-2).sum(-1)
    trace = trace.reshape(sigma.size(0), 1, 1)
    sigma_norm = sigma * trace.reciprocal()
    projection = eye
    for _ in range(iterations):
        projection = torch.baddbmm(projection, torch.matrix_power(projection, 3), sigma_norm,
                                   beta=1.5, alpha=-0.5)
    return projection * trace.reciprocal().sqrt()


def whiten_matrix_power(sigma: torch.Tensor, p: float) -> torch.Tensor:
    """W = U diag(λ^{-p}) Uᵀ via torch.linalg.eigh (ZCA is p = 1/2)."""
    eigvals, eigvecs = torch.linalg.eigh(sigma)
    if p > 0 and bool((eigvals <= 0).any()):
        raise OracleError("covariance has a non-positive eigenvalue; use eps > 0 or M > K")
    return eigvecs @ torch.diag(eigvals.pow(-p)) @ eigvecs.t()


def whiten_matrix_pca(sigma: torch.Tensor) -> torch.Tensor:
    """W = Λ^{-1/2} Uᵀ, eigenvalues descending, largest-|entry| of each eigenvector positive."""
    eigvals, eigvecs = torch.linalg.eigh(sigma)
    if bool((eigvals <= 0).any()):
        raise OracleError("covariance has a non-positive eigenvalue; use eps > 0 or M > K")
    eigvals = eigvals.flip(0)
    eigvecs = eigvecs.flip(1)
    with torch.no_grad():  # the sign convention is locally constant: no gradient through it
        rows = eigvecs.abs().argmax(dim=0)
        signs = torch.sign(eigvecs[rows, torch.arange(eigvecs.shape[1])])
    eigvecs = eigvecs * signs
    return torch.diag(eigvals.rsqrt()) @ eigvecs.t()


def transform_x(x: torch.Tensor, cfg: dict) -> torch.Tensor:
    """Y = W X_c for one group in the K×M layout."""
    k, m = x.shape
    if m < 2:
        raise OracleError(f"need M >= 2 observations per covariance entry, got M={m}")
    xc = x - x.mean(dim=1, keepdim=True)
    sigma = xc @ xc.t() / (m - 1) + cfg["eps"] * torch.eye(k, dtype=DTYPE)
    method = cfg["method"]
    if method == "iternorm":
        # Mirrors INTL: batch of one matrix; decorrelated = bmm(xn_g, matrix) with xn_g = X_cᵀ.
        w = whiten_matrix_iternorm(sigma.reshape(1, k, k), cfg["iters"])
        return torch.bmm(xc.t().reshape(1, m, k), w).reshape(m, k).t()
    if method == "cholesky":
        chol = torch.linalg.cholesky(sigma)
        return torch.linalg.solve_triangular(chol, xc, upper=False)
    if method == "pca":
        return whiten_matrix_pca(sigma) @ xc
    p = 0.5 if method == "zca" else cfg["power"]
    return whiten_matrix_power(sigma, p) @ xc


def transform(z: torch.Tensor, cfg: dict) -> torch.Tensor:
    """Ẑ = transform(Z) for an N×D embedding, per the axis/groups conventions."""
    n, d = z.shape
    groups = cfg["groups"]
    if d % groups != 0:
        raise OracleError(f"D={d} is not divisible by groups={groups}")
    width = d // groups
    blocks = []
    for g in range(groups):
        block = z[:, g * width:(g + 1) * width]
        if cfg["axis"] == "features":
            blocks.append(transform_x(block.t(), cfg).t())
        else:
            blocks.append(transform_x(block, cfg))
    return torch.cat(blocks, dim=1)


# ---------------------------------------------------------------------------------------------
# Losses (INTL methods/intl.py TL, methods/base.py norm_mse_loss / cal_trade_off)
# ---------------------------------------------------------------------------------------------

def trace_loss(y: torch.Tensor, axis: str) -> torch.Tensor:
    """INTL's TL(x, axis): axis 0 ("samples") transposes first; variances with divisor M−1."""
    x = y.t() if axis == "samples" else y
    rows = x.shape[0]
    x = x - x.mean(dim=0)
    variances = torch.pow(x, 2).sum(dim=0) / (rows - 1)
    return (variances - 1).pow(2).sum()


def norm_mse_loss(x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
    x0 = F.normalize(x0)
    x1 = F.normalize(x1)
    return 2 - 2 * (x0 * x1).sum(dim=-1).mean()


def trade_off_beta(k: int) -> float:
    return (math.log2(k) - 3) * 0.01


# ---------------------------------------------------------------------------------------------
# Ops
# ---------------------------------------------------------------------------------------------

def run_transform(case_dir: Path, case: dict) -> None:
    cfg = transform_config(case)
    z = load_matrix(case_dir, "z.npy").requires_grad_(True)
    gy = load_matrix(case_dir, "gy.npy")
    if gy.shape != z.shape:
        raise OracleError(f"gy.npy has shape {tuple(gy.shape)} but z.npy has {tuple(z.shape)}")
    y = transform(z, cfg)
    (y * gy).sum().backward()
    save(case_dir, "y.npy", y)
    save(case_dir, "gz.npy", z.grad)


def run_trace_loss(case_dir: Path, case: dict) -> None:
    axis = axis_of(case)
    y = load_matrix(case_dir, "y.npy").requires_grad_(True)
    loss = trace_loss(y, axis)
    loss.backward()
    save(case_dir, "loss.npy", loss.reshape(1))
    save(case_dir, "gy.npy", y.grad)


def run_nmse(case_dir: Path, case: dict) -> None:
    del case
    a = load_matrix(case_dir, "a.npy").requires_grad_(True)
    b = load_matrix(case_dir, "b.npy").requires_grad_(True)
    if a.shape != b.shape:
        raise OracleError(f"a.npy {tuple(a.shape)} and b.npy {tuple(b.shape)} differ in shape")
    loss = norm_mse_loss(a, b)
    loss.backward()
    save(case_dir, "loss.npy", loss.reshape(1))
    save(case_dir, "ga.npy", a.grad)
    save(case_dir, "gb.npy", b.grad)


def run_intl(case_dir: Path, case: dict) -> None:
    cfg = transform_config(case)
    views = int(case.get("views", 2))
    if views < 2:
        raise OracleError(f"intl needs views >= 2, got {views}")
    zs = [load_matrix(case_dir, f"z{v}.npy").requires_grad_(True) for v in range(views)]
    for v, z in enumerate(zs):
        if z.shape != zs[0].shape:
            raise OracleError(f"z{v}.npy has shape {tuple(z.shape)}, z0.npy {tuple(zs[0].shape)}")
    beta = case.get("beta")
    if beta is None:  # cal_trade_off: K = batch size (samples axis) or embedding size (features)
        n, d = zs[0].shape
        beta = trade_off_beta(n if cfg["axis"] == "samples" else d)
    beta = float(beta)

    # INTL.forward: every crop is compared with crop 0; TL(crop 0) is added once per pair.
    t = [transform(z, cfg) for z in zs]
    tl = [trace_loss(y, cfg["axis"]) for y in t]
    loss = 0
    for i in range(1, views):
        loss = loss + norm_mse_loss(t[i], t[0]) + beta * (tl[i] + tl[0])
    loss = loss / (views - 1)
    loss.backward()
    save(case_dir, "loss.npy", loss.reshape(1))
    for v, z in enumerate(zs):
        save(case_dir, f"g{v}.npy", z.grad)


OPS = {"transform": run_transform, "trace_loss": run_trace_loss, "nmse": run_nmse,
       "intl": run_intl}


def main(argv: list) -> int:
    try:
        if len(argv) != 2:
            raise OracleError("usage: torch_reference.py CASE_DIR")
        case_dir = Path(argv[1])
        case_file = case_dir / "case.json"
        if not case_file.is_file():
            raise OracleError(f"missing {case_file}")
        with open(case_file, encoding="utf-8") as handle:
            case = json.load(handle)
        op = case.get("op")
        if op not in OPS:
            raise OracleError(f"unknown op {op!r}, expected one of {tuple(OPS)}")
        torch.set_grad_enabled(True)
        OPS[op](case_dir, case)
    except Exception as error:  # noqa: BLE001 - the protocol is: one line on stderr, exit 1
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"torch_reference: {type(error).__name__}: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
