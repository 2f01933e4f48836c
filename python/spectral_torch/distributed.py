# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""All-gather with a backward, as the reference code's FullGatherLayer."""

import torch
import torch.distributed as dist


class _GatherWithGrad(torch.autograd.Function):
    """Forward: every rank's batch, concatenated in rank order. Backward: the gradients of the
    gathered tensor summed over the ranks (each rank's loss is a function of every batch), and
    this rank's slice returned."""

    @staticmethod
    def forward(ctx, z):
        world = dist.get_world_size()
        # Every rank must send the same shape: a mismatch would make all_gather abort a process.
        shape = torch.tensor(z.shape, dtype=torch.int64, device=z.device)
        shapes = [torch.empty_like(shape) for _ in range(world)]
        dist.all_gather(shapes, shape)
        sizes = [tuple(s.tolist()) for s in shapes]
        if any(size != sizes[0] for size in sizes):
            raise ValueError(f"z: every rank must pass the same shape to the gather, got {sizes}")
        parts = [torch.empty_like(z) for _ in range(world)]
        dist.all_gather(parts, z.contiguous())
        ctx.rows = z.shape[0]
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad):
        # A copy: the engine may share `grad` with other nodes, which must not see the sum.
        grad = grad.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(grad)
        rank = dist.get_rank()
        return grad[rank * ctx.rows:(rank + 1) * ctx.rows]


def gather_with_grad(z: torch.Tensor) -> torch.Tensor:
    """z itself without an initialised process group of two or more ranks; otherwise every
    rank's z (same shape on every rank) concatenated along the batch, with the backward above."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return z
    return _GatherWithGrad.apply(z)
