# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""gather=True with two processes (Gloo on localhost): each rank's half batch, all-gathered with
a backward, gives every rank the single-process loss of the global batch and, after the
gradients are summed over the ranks, the single-process gradient."""

import os
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import spectral_torch as st
from conftest import embedding

WORLD = 2


def loss_of(whitening, z0, z1):
    """A loss of both whitened views that needs every sample of the batch."""
    y0, y1 = whitening(z0), whitening(z1)
    return (y0 - y1).pow(2).sum() + st.trace_loss(y0, 0)


def rank_main(rank, port, views, results):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    try:
        rows = views[0].shape[0] // WORLD
        local = [v[rank * rows:(rank + 1) * rows].clone().requires_grad_() for v in views]
        whitening = st.IterNorm(axis=0, gather=True)
        loss = loss_of(whitening, *local)
        loss.backward()
        grads = [z.grad.clone() for z in local]

        # The gradient reaching the gather is shared with another node (the sum with w):
        # summing it over the ranks must not change what w receives.
        w = torch.ones(1, dtype=torch.float64, requires_grad=True)
        (st.gather_with_grad(local[0].detach().requires_grad_()) + w).sum().backward()
        shared = w.grad.item()

        # Ranks with different batch sizes: a ValueError on every rank, no aborted process.
        try:
            st.gather_with_grad(local[0][:rows - rank])
            mismatch = "no error"
        except ValueError as error:
            mismatch = str(error)
        results[rank] = (loss.detach(), grads, shared, mismatch)
    finally:
        dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_equal_one_process():
    views = [embedding(16, 12, seed=70 + v) for v in range(2)]
    whole = [v.clone().requires_grad_() for v in views]
    expected = loss_of(st.IterNorm(axis=0), *whole)
    expected.backward()

    manager = mp.Manager()
    results = manager.dict()
    mp.spawn(rank_main, args=(free_port(), views, results), nprocs=WORLD, join=True)

    for rank in range(WORLD):
        loss, grads, shared, mismatch = results[rank]
        assert shared == views[0].numel()  # one per entry of the gathered (global) batch
        assert "every rank must pass the same shape" in mismatch
        assert torch.allclose(loss, expected.detach(), rtol=1e-12)
        for z, grad in zip(whole, grads):
            # The gathered batch's gradient is summed over the ranks' (identical) losses.
            assert torch.allclose(grad, WORLD * z.grad[rank * 8:(rank + 1) * 8], rtol=1e-9,
                                  atol=1e-12)
