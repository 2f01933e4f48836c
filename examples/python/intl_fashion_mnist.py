#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""INTL pretraining on Fashion-MNIST in plain PyTorch with spectral_torch.IterNorm.

The loop is the reference INTL objective (winci-ai/INTL, methods/intl.py): two augmented views
of every image go through a small CNN encoder and an MLP projector to D = 512; each view's N×D
embedding is whitened by IterNorm over the N×N covariance of the samples (axis 0, T = 4) and

    loss = 1/(V−1) Σ_{i≥1} [nMSE(Ŷ_i, Ŷ_0) + β·(TL(Ŷ_i) + TL(Ŷ_0))],  β = 0.01·(log2 N − 3),

nMSE = 2 − 2·mean cosine similarity, TL = spectral_torch.trace_loss. No labels are used in
training; at the end the frozen encoder is scored by a 20-nearest-neighbour (cosine) vote on the
test set, the training images being the neighbours.

Run it from the repository root (the images come from Debian's dataset-fashion-mnist):

    PYTHONPATH=build/release/python /usr/bin/python3 examples/python/intl_fashion_mnist.py

or, with the package installed (pip install --no-build-isolation .), without PYTHONPATH. --help lists the flags.
"""

import argparse
import gzip
import math
import struct
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

try:
    import spectral_torch
except ImportError as import_error:
    sys.exit(f"intl_fashion_mnist: error: {import_error}")

PROG = "intl_fashion_mnist"
MEAN, STD = 0.2860, 0.3530  # of the Fashion-MNIST training pixels
EMBEDDING = 512  # on axis 0 the N×N covariance of a batch has rank ≤ D − 1


def read_idx(path: Path, magic: int, item_shape: tuple) -> torch.Tensor:
    """A gzipped IDX file of unsigned bytes (magic 0x801: labels, 0x803: images) as uint8."""
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    ndim = len(item_shape) + 1
    header = 4 + 4 * ndim
    if len(data) < header or struct.unpack(">I", data[:4])[0] != magic:
        raise ValueError(f"{path}: not an IDX file of magic {magic:#x}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if tuple(shape[1:]) != item_shape or len(data) != header + math.prod(shape):
        raise ValueError(f"{path}: unexpected shape {shape} or size {len(data)}")
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).reshape(shape)


def load_split(folder: Path, prefix: str):
    images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", 0x803, (28, 28))
    labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 0x801, ())
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} {prefix} images but {len(labels)} labels")
    return images.unsqueeze(1), labels.long()


def augment(images: torch.Tensor) -> torch.Tensor:
    """One random view of each uint8 image: a resized crop (area 35–100 %, aspect 3/4–4/3) and a
    horizontal flip as one affine resampling, then contrast/brightness jitter and noise."""
    n, device = len(images), images.device
    uniform = lambda low, high, *shape: torch.empty(n, *shape, device=device).uniform_(low, high)
    area, ratio = uniform(0.35, 1.0), uniform(math.log(3 / 4), math.log(4 / 3)).exp()
    width, height = (area * ratio).sqrt().clamp(max=1), (area / ratio).sqrt().clamp(max=1)
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0] = width * torch.where(uniform(0, 1) < 0.5, -1.0, 1.0)
    theta[:, 1, 1] = height
    theta[:, 0, 2], theta[:, 1, 2] = (1 - width) * uniform(-1, 1), (1 - height) * uniform(-1, 1)
    x = images.float() / 255
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    x = x * uniform(0.6, 1.4, 1, 1, 1) + uniform(-0.1, 0.1, 1, 1, 1) + 0.05 * torch.randn_like(x)
    return (x - MEAN) / STD


def conv_block(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, padding=1, bias=False),
                         nn.BatchNorm2d(outputs), nn.ReLU(inplace=True))


def make_encoder() -> nn.Sequential:
    """28×28 grey image → 128 features: three conv blocks, two 2×2 poolings, a global average."""
    return nn.Sequential(conv_block(1, 32), nn.MaxPool2d(2), conv_block(32, 64), nn.MaxPool2d(2),
                         conv_block(64, 128), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def make_projector(features=128, hidden=512, out=EMBEDDING) -> nn.Sequential:
    return nn.Sequential(nn.Linear(features, hidden, bias=False), nn.BatchNorm1d(hidden),
                         nn.ReLU(inplace=True), nn.Linear(hidden, out))


def nmse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """2 − 2·mean cosine similarity of the rows (the reference's norm_mse_loss)."""
    return 2 - 2 * F.cosine_similarity(a, b, dim=1).mean()


def intl_objective(whitened: list, beta: float):
    """INTL's loss over V ≥ 2 whitened views of one batch (views[0] the anchor), and its mean
    nMSE, detached, for the log."""
    anchor, trace_anchor = whitened[0], spectral_torch.trace_loss(whitened[0], axis=0)
    alignment = [nmse(y, anchor) for y in whitened[1:]]
    terms = [a + beta * (spectral_torch.trace_loss(y, axis=0) + trace_anchor)
             for a, y in zip(alignment, whitened[1:])]
    return sum(terms) / len(terms), sum(alignment).detach() / len(alignment)


@torch.no_grad()
def features(encoder: nn.Module, images: torch.Tensor, chunk: int = 1000) -> torch.Tensor:
    """Unit-length encoder features of the unaugmented images."""
    return torch.cat([F.normalize(encoder((images[i:i + chunk].float() / 255 - MEAN) / STD))
                      for i in range(0, len(images), chunk)])


@torch.no_grad()
def knn_accuracy(bank, bank_labels, queries, query_labels, k=20, temperature=0.1) -> float:
    """Cosine k-NN, each neighbour's vote weighted by exp(similarity / temperature)."""
    correct = 0
    for i in range(0, len(queries), 1000):
        similarity, index = (queries[i:i + 1000] @ bank.T).topk(k, dim=1)
        votes = torch.zeros(len(index), 10, device=bank.device)
        votes.scatter_add_(1, bank_labels[index], (similarity / temperature).exp())
        correct += (votes.argmax(1) == query_labels[i:i + 1000]).sum().item()
    return correct / len(queries)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="passes over the images (≥ 1)")
    parser.add_argument("--batch", type=int, default=256,
                        help=f"images per step N (≥ 16; < {EMBEDDING} keeps Σ full rank)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--limit", type=int, default=0,
                        help="train on the first LIMIT images only (0: all 60000)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--data", type=Path, default=Path("/usr/share/datasets/fashion-mnist"),
                        help="folder of the four gzipped IDX files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    if args.batch < 16:  # β = 0.01·(log2 N − 3) must stay positive
        parser.error(f"--batch must be at least 16, got {args.batch}")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        parser.error(f"--lr must be a positive number, got {args.lr}")
    if args.limit < 0 or 0 < args.limit < args.batch:
        parser.error(f"--limit must be 0 (all) or at least --batch {args.batch}, got {args.limit}")
    return args


def fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 1


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.device == "cuda" and not (torch.cuda.is_available() and spectral_torch.built_with_cuda):
        return fail("--device cuda needs a GPU and a spectral_torch built with CUDA")
    try:
        train_images, train_labels = load_split(args.data, "train")
        test_images, test_labels = load_split(args.data, "t10k")
    except (OSError, ValueError) as error:
        return fail(f"cannot read Fashion-MNIST from {args.data}: {error}")
    if args.limit:
        train_images, train_labels = train_images[:args.limit], train_labels[:args.limit]
    if len(train_images) < args.batch:
        return fail(f"{len(train_images)} training images, fewer than --batch {args.batch}")

    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    train_images, test_images = train_images.to(device), test_images.to(device)
    encoder, projector = make_encoder().to(device), make_projector().to(device)
    whiten = spectral_torch.IterNorm(axis=0, iterations=4)  # INTL's defaults
    beta = 0.01 * (math.log2(args.batch) - 3)
    optimizer = torch.optim.Adam([*encoder.parameters(), *projector.parameters()], lr=args.lr)
    steps = len(train_images) // args.batch  # whole batches only: β and IterNorm see N = batch
    print(f"INTL on {len(train_images)} images: {steps} steps of {args.batch} per epoch, "
          f"beta {beta:.4f}, D {EMBEDDING}, {whiten}, device {args.device}")

    for epoch in range(1, args.epochs + 1):
        encoder.train(), projector.train()
        start, total = time.perf_counter(), torch.zeros(2, device=device)
        order = torch.randperm(len(train_images), device=device)
        for step in range(steps):
            batch = train_images[order[step * args.batch:(step + 1) * args.batch]]
            views = [augment(batch), augment(batch)]
            loss, alignment = intl_objective([whiten(projector(encoder(v))) for v in views], beta)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += torch.stack([loss.detach(), alignment])
        spectral_torch.check()  # raises what the CUDA transforms recorded; the loss is read next
        mean_loss, mean_alignment = (total / steps).tolist()
        print(f"epoch {epoch}/{args.epochs}: loss {mean_loss:.6f} (nMSE {mean_alignment:.4f}), "
              f"{time.perf_counter() - start:.1f} s", flush=True)

    encoder.eval()
    accuracy = knn_accuracy(features(encoder, train_images), train_labels.to(device),
                            features(encoder, test_images), test_labels.to(device))
    print(f"k-NN accuracy: {accuracy:.4f} (k=20, cosine, {len(test_images)} test images, "
          f"{len(train_images)} training images as neighbours)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
