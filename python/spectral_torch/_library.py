# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Loads the operator library (_spectral_ops.so) that registers torch.ops.spectral.*."""

from pathlib import Path

import torch

_HERE = Path(__file__).resolve().parent


def _load() -> None:
    candidates = sorted(_HERE.glob("_spectral_ops*.so"))
    if not candidates:
        raise ImportError(
            f"spectral_torch: the operator library _spectral_ops.so is missing from {_HERE}; "
            "build the package (cmake --build --preset release) or install it (pip install .)")
    try:
        torch.ops.load_library(str(candidates[0]))
    except OSError as error:
        raise ImportError(
            f"spectral_torch: cannot load {candidates[0].name} into torch {torch.__version__}: "
            f"{error}. The package must be built against this Python's torch; rebuild it "
            "against this torch (pip install --no-build-isolation .)") from error


_load()
ops = torch.ops.spectral
