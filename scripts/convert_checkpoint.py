#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Converts a PyTorch checkpoint's backbone into a file intl_eval --pretrained reads.

Input: a torch.save file holding a ResNet backbone: the reference INTL code's checkpoints
(`{"state_dict": {"module.backbone.conv1.weight": ...}, ...}`, e.g. its released .pth.tar
files), a `backbone.*` state dict, or a torchvision ResNet state dict (`fc.*` is dropped).
Output: the backbone in LibTorch's archive layout (`model.backbone.<torchvision name>`), which
every LibTorch reads; the unpickler of older LibTorch releases (1.13) cannot read torch.save
files directly.

    /usr/bin/python3 scripts/convert_checkpoint.py --input INTL_ep800_resnet50.pth.tar \\
        --output intl_resnet50.pt
    intl_eval --arch resnet50 --imagenet-stem --pretrained intl_resnet50.pt --data IMAGENET

The input is unpickled with an allow-list (tensors, OrderedDict and plain containers); any
other class it names becomes an inert placeholder, so no code named by the file runs. The output is written to a new temporary file beside it and renamed
into place; an existing output is refused unless --force is given.
"""
import argparse
import collections
import io
import os
import pickle
import sys
import tempfile
import zipfile

import torch

# torch.save's storage classes, by the name its pickle gives them, and their element types.
STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class StorageType:
    def __init__(self, dtype):
        self.dtype = dtype


def rebuild_tensor(storage, offset, size, stride, *unused):
    return storage.as_strided(tuple(size), tuple(stride), offset).clone()


def rebuild_parameter(data, *unused):
    return data


class Opaque:
    """Stands in for any other class the file names (an argparse.Namespace of arguments, say):
    it takes whatever the pickle gives it and runs nothing."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass


class CheckpointUnpickler(pickle.Unpickler):
    """Reads the pickle of a zip-format torch.save file with an allow-list: tensors (from the
    archive's records), OrderedDict and plain containers; every other class the file names
    becomes an Opaque placeholder, so no code named by the file runs (torch 1.13's torch.load
    cannot be given such an unpickler)."""

    def __init__(self, archive, prefix):
        super().__init__(io.BytesIO(archive.read(prefix + "data.pkl")), encoding="utf-8")
        self.archive = archive
        self.prefix = prefix

    def find_class(self, module, name):
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(STORAGE_DTYPES[name])
        allowed = {("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
                   ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
                   ("collections", "OrderedDict"): collections.OrderedDict}
        if (module, name) in allowed:
            return allowed[(module, name)]
        return type(f"opaque {module}.{name}", (Opaque,), {})

    def persistent_load(self, saved_id):
        kind, storage_type, key, _location, _numel = saved_id
        if kind != "storage" or not isinstance(storage_type, StorageType):
            raise ValueError(f"unsupported record {saved_id!r}")
        raw = bytearray(self.archive.read(f"{self.prefix}data/{key}"))
        if not raw:
            return torch.empty(0, dtype=storage_type.dtype)
        return torch.frombuffer(raw, dtype=storage_type.dtype)


def read_torch_save(path):
    """The object of a zip-format torch.save file (every torch since 1.6 writes this format)."""
    if not zipfile.is_zipfile(path):
        raise ValueError(f"--input {path}: not a zip-format torch.save file (a file of "
                         "torch < 1.6 must be re-saved first)")
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise ValueError(f"--input {path}: not a torch.save file (no single data.pkl)")
        prefix = pickles[0][: -len("data.pkl")]
        if any(n.startswith(prefix + "code/") for n in archive.namelist()):
            raise ValueError(f"--input {path}: a TorchScript archive; intl_eval reads these "
                             "directly when they hold model.backbone")
        try:
            return CheckpointUnpickler(archive, prefix).load()
        except (pickle.UnpicklingError, KeyError, EOFError, TypeError, AttributeError,
                ValueError, IndexError, RuntimeError) as e:
            raise ValueError(f"--input {path}: unreadable ({e})") from None


def backbone_entries(state):
    """The backbone's tensors of a state dict, keyed by torchvision names."""
    tensors = {k: v for k, v in state.items() if isinstance(k, str) and torch.is_tensor(v)}
    for prefix in ("module.backbone.", "backbone."):
        selected = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        if selected:
            return selected
    return {k: v for k, v in tensors.items() if not k.startswith("fc.")}


def load_state(path):
    data = read_torch_save(path)
    if not isinstance(data, dict):
        raise ValueError(f"--input {path}: holds {type(data).__name__}, not a dict")
    for key in ("state_dict", "model"):
        if isinstance(data.get(key), dict):
            return data[key]
    return data


def as_archive(tensors):
    """A scripted module tree whose attributes are the tensors: model.backbone.<name>."""
    root = torch.nn.Module()
    for name, tensor in tensors.items():
        *path, leaf = ("model.backbone." + name).split(".")
        node = root
        for part in path:
            if not hasattr(node, part):
                node.add_module(part, torch.nn.Module())
            node = getattr(node, part)
        node.register_buffer(leaf, tensor.detach().clone().contiguous())
    return torch.jit.script(root)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", required=True, help="torch.save file (.pth, .pth.tar)")
    parser.add_argument("--output", required=True, help="file to write (LibTorch archive)")
    parser.add_argument("--force", action="store_true", help="replace --output if it exists")
    args = parser.parse_args()
    try:
        if not os.path.isfile(args.input):
            raise ValueError(f"--input {args.input}: no such file")
        if os.path.lexists(args.output) and not args.force:
            raise ValueError(f"--output {args.output}: exists (give --force to replace it)")
        tensors = backbone_entries(load_state(args.input))
        if not tensors:
            raise ValueError(f"--input {args.input}: no backbone tensors (module.backbone.*, "
                             "backbone.* or torchvision keys)")
        module = as_archive(tensors)
        folder = os.path.dirname(os.path.abspath(args.output))
        fd, staged = tempfile.mkstemp(prefix=".convert-", suffix=".partial", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.jit.save(module, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(staged, args.output)
        except BaseException:
            os.unlink(staged)
            raise
    except (ValueError, OSError, RuntimeError, EOFError, TypeError, AttributeError) as e:
        print(f"convert_checkpoint: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {len(tensors)} backbone tensors to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
