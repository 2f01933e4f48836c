#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Weights out of and into the trainer, checked with Debian's PyTorch and torchvision.

Cases:
  export_torchvision    intl_train (the imagenet recipe: ResNet-50, ImageNet stem) on a small
                        ImageFolder, intl_export of its checkpoint: torch.load opens the file,
                        torchvision's resnet50 loads it with only fc.* missing, and every tensor
                        equals the checkpoint's (read with torch.jit.load); an INTL-M run's
                        --momentum-encoder export equals its momentum encoder.
  reference_checkpoint  a checkpoint in the reference code's layout (state_dict with
                        module.backbone.* and module.projector.* keys, an optimizer, an
                        argparse.Namespace): scripts/convert_checkpoint.py turns it into a file
                        intl_eval --pretrained loads, whose backbone then equals the original
                        tensor by tensor; intl_eval on the .pth.tar itself either loads it too
                        or names the converter; a file whose pickle names os.system converts
                        without running it.
Usage: weights_test.py --train PATH --export PATH --eval PATH --writer PATH --case NAME."""
import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile

PYTHON = "/usr/bin/python3"
CONVERTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                         "convert_checkpoint.py")


def run(*command):
    return subprocess.run(list(command), capture_output=True, text=True, timeout=900, check=False)


def expect_error(result, program, *fragments):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith(f"{program}: error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def image_folder(writer, root, with_val=False):
    made = run(writer, "--out", root, "--classes", "2", "--per-class", "8", "--width", "48",
               "--height", "40", "--threads", "1")
    assert made.returncode == 0, made.stderr
    if with_val:
        shutil.copytree(os.path.join(root, "train"), os.path.join(root, "val"))


def archive_tensor(module, dotted):
    """A tensor of a LibTorch archive (torch.jit.load) by its dotted name."""
    for part in dotted.split("."):
        module = getattr(module, part)
    return module


def case_export_torchvision(args, tmp):
    import torch
    import torchvision
    root = os.path.join(tmp, "images")
    image_folder(args.writer, root)
    out = os.path.join(tmp, "run")
    trained = run(args.train, "--dataset", "imagefolder", "--data", root, "--image-size", "32",
                  "--batch", "8", "--epochs", "1", "--projector", "32", "--threads", "2",
                  "--loader-threads", "1", "--no-progress", "--out", out)
    assert trained.returncode == 0, trained.stderr
    checkpoint = os.path.join(out, "checkpoint.pt")
    exported = os.path.join(tmp, "backbone.pth")
    result = run(args.export, "--checkpoint", checkpoint, "--output", exported)
    assert result.returncode == 0, result.stderr
    print(result.stdout.strip())
    # An existing file is kept unless --force; an intl run has no momentum encoder.
    expect_error(run(args.export, "--checkpoint", checkpoint, "--output", exported),
                 "intl_export", "exists", "--force")
    assert run(args.export, "--checkpoint", checkpoint, "--output", exported,
               "--force").returncode == 0
    expect_error(run(args.export, "--checkpoint", checkpoint, "--output",
                     os.path.join(tmp, "teacher.pth"), "--momentum-encoder"),
                 "intl_export", "teacher/backbone", "intl_m")
    expect_error(run(args.export, "--checkpoint", os.path.join(tmp, "none.pt"), "--output",
                     os.path.join(tmp, "x.pth")), "intl_export", "none.pt")

    state = torch.load(exported)
    assert isinstance(state, dict) and len(state) > 300, len(state)
    model = torchvision.models.resnet50()
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert sorted(missing) == ["fc.bias", "fc.weight"] and not unexpected, (missing, unexpected)
    saved = torch.jit.load(checkpoint)
    reference = model.state_dict()
    for name, tensor in state.items():
        original = archive_tensor(saved, "model.backbone." + name)
        assert torch.equal(tensor, original), name
        assert torch.equal(reference[name], original), name
    # Trained, not initial, weights: the one step moved conv1 away from a fresh model's.
    assert not torch.equal(state["conv1.weight"], torchvision.models.resnet50().conv1.weight)
    print(f"{len(state)} tensors: torchvision resnet50 loads them with only fc.* missing; "
          "every tensor equals the checkpoint's")

    # An INTL-M run: --momentum-encoder exports the momentum encoder's backbone.
    out_m = os.path.join(tmp, "run_m")
    trained = run(args.train, "--method", "intl_m", "--train-subset", "64", "--batch", "32",
                  "--epochs", "1", "--width", "8", "--projector", "32", "--eval-train-subset", "64",
                  "--eval-test-subset", "32", "--linear-epochs", "1", "--no-random-baseline",
                  "--threads", "2", "--no-progress", "--out", out_m)
    assert trained.returncode == 0, trained.stderr
    teacher_file = os.path.join(tmp, "teacher.pth")
    result = run(args.export, "--checkpoint", os.path.join(out_m, "checkpoint.pt"), "--output",
                 teacher_file, "--momentum-encoder")
    assert result.returncode == 0, result.stderr
    teacher = torch.load(teacher_file)
    saved = torch.jit.load(os.path.join(out_m, "checkpoint.pt"))
    assert all(torch.equal(t, archive_tensor(saved, "teacher.backbone." + n))
               for n, t in teacher.items()), "the momentum encoder's tensors differ"
    assert not torch.equal(teacher["conv1.weight"], archive_tensor(saved, "model.backbone.conv1.weight"))


def reference_layout(path):
    """A checkpoint as the reference code saves it, from a seeded torchvision ResNet-18 with
    non-trivial BN statistics; returns the backbone's state dict."""
    import argparse as argparse_module
    import torch
    import torchvision
    torch.manual_seed(11)
    backbone = torchvision.models.resnet18()
    backbone.fc = torch.nn.Identity()
    with torch.no_grad():
        for name, buffer in backbone.named_buffers():
            if name.endswith("running_mean"):
                buffer.uniform_(-0.3, 0.3)
            elif name.endswith("running_var"):
                buffer.uniform_(0.5, 1.5)
    state = collections.OrderedDict()
    for name, tensor in backbone.state_dict().items():
        state["module.backbone." + name] = tensor.clone()  # not moved by the step below
    state["module.projector.0.weight"] = torch.randn(16, 512)
    optimizer = torch.optim.SGD(backbone.parameters(), lr=0.5, momentum=0.9)
    backbone(torch.randn(2, 3, 32, 32)).sum().backward()
    optimizer.step()
    torch.save({"epoch": 100, "arch": "resnet18", "state_dict": state,
                "optimizer": optimizer.state_dict(),
                "args": argparse_module.Namespace(lr=0.5, method="intl")}, path)
    return {k[len("module.backbone."):]: v for k, v in state.items()
            if k.startswith("module.backbone.")}


def case_reference_checkpoint(args, tmp):
    import torch
    data = os.path.join(tmp, "images")
    image_folder(args.writer, data, with_val=True)
    original = os.path.join(tmp, "INTL_resnet18.pth.tar")
    backbone = reference_layout(original)
    evaluate = [args.eval, "--data", data, "--arch", "resnet18", "--imagenet-stem", "--epochs",
                "1", "--batch", "4", "--image-size", "32", "--threads", "2", "--loader-threads",
                "1", "--no-progress"]

    def check_loaded(out):
        saved = torch.jit.load(os.path.join(out, "eval_checkpoint.pt"))
        for name, tensor in backbone.items():
            assert torch.equal(archive_tensor(saved, "model.backbone." + name), tensor), name

    # The .pth.tar itself: read where this LibTorch's unpickler can, else the converter is named.
    direct = run(*evaluate, "--pretrained", original, "--out", os.path.join(tmp, "direct"))
    if direct.returncode == 0:
        check_loaded(os.path.join(tmp, "direct"))
        print("intl_eval read the reference checkpoint directly")
    else:
        expect_error(direct, "intl_eval", original, "scripts/convert_checkpoint.py")
        print("intl_eval names the converter for the reference checkpoint")

    converted = os.path.join(tmp, "converted.pt")
    result = run(PYTHON, CONVERTER, "--input", original, "--output", converted)
    assert result.returncode == 0, result.stderr
    assert f"wrote {len(backbone)} backbone tensors" in result.stdout, result.stdout
    refused = run(PYTHON, CONVERTER, "--input", original, "--output", converted)
    assert refused.returncode == 2 and "--force" in refused.stderr, refused.stderr
    out = os.path.join(tmp, "linear")
    loaded = run(*evaluate, "--pretrained", converted, "--out", out)
    assert loaded.returncode == 0, loaded.stderr
    check_loaded(out)  # a frozen backbone in eval mode: the eval checkpoint holds it unchanged
    print(f"converted checkpoint: {len(backbone)} backbone tensors loaded by intl_eval, equal")
    expect_error(run(args.eval, "--data", data, "--pretrained", converted, "--epochs", "1",
                     "--out", os.path.join(tmp, "r50"), "--no-progress"),
                 "intl_eval", "does not fit this model")

    # A pickle that names os.system: converted into placeholders, nothing runs.
    marker = os.path.join(tmp, "ran")
    hostile = os.path.join(tmp, "hostile.pth")
    script = ("import os, torch\n"
              "class Payload:\n"
              "    def __reduce__(self):\n"
              f"        return (os.system, ('touch {marker}',))\n"
              "torch.save({'payload': Payload(), 'state_dict': {'conv1.weight': torch.ones(2)}},"
              f" {hostile!r})\n")
    assert run(PYTHON, "-c", script).returncode == 0
    result = run(PYTHON, CONVERTER, "--input", hostile, "--output", os.path.join(tmp, "h.pt"))
    assert result.returncode == 0, result.stderr
    assert not os.path.exists(marker), "the converter ran code named by the file"
    for bad, fragment in (("not a checkpoint", "not a zip-format"), (None, "no such file")):
        path = os.path.join(tmp, "bad.pth")
        if bad is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(bad)
        else:
            path = os.path.join(tmp, "missing.pth")
        result = run(PYTHON, CONVERTER, "--input", path, "--output", os.path.join(tmp, "b.pt"))
        assert result.returncode == 2 and fragment in result.stderr, result.stderr


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--train", "--export", "--eval", "--writer", "--case"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spectral_weights_") as tmp:
        globals()["case_" + args.case](args, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
