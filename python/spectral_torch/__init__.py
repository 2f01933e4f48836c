# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""spectral_torch: the spectral library's transforms as PyTorch ops and modules.

A drop-in for the whitening modules of the reference SSL code (INTL's Whitening2dIterNorm,
W-MSE's Whitening2d) whose backward is the library's exact hand-written one: no NaN at repeated
eigenvalues, no per-call host synchronisation on CUDA, float16/bfloat16 inputs computed in
float32. The ops are registered as torch.ops.spectral.*.
"""

from ._library import ops
from .distributed import gather_with_grad
from .functional import (IntlTerms, Spectrum, check, intl_loss, spectrum, trace_loss,
                         transform)
from .modules import IterNorm, PowerTransform, SpectralTransform, Whitening

__version__ = ops.version()
built_with_cuda = ops.built_with_cuda()

__all__ = ["IterNorm", "Whitening", "PowerTransform", "SpectralTransform", "transform",
           "trace_loss", "intl_loss", "spectrum", "check", "IntlTerms", "Spectrum",
           "gather_with_grad", "built_with_cuda", "ops"]
