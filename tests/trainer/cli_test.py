#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""intl_train end to end: the documented errors (one line, non-zero exit, nothing half-written)
and a tiny run's files. Usage: cli_test.py --exe PATH --case NAME."""
import gzip
import json
import math
import os
import shutil
import subprocess

import cli_checks

FASHION = "/usr/share/datasets/fashion-mnist"
TINY = ["--train-subset", "128", "--eval-train-subset", "256", "--eval-test-subset", "128",
        "--batch", "32", "--width", "8", "--projector", "32", "--epochs", "2", "--warmup-epochs", "1",
        "--linear-epochs", "3", "--threads", "1", "--no-progress"]


def run(exe, *args):
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=900, check=False)


def expect_error(result, code, fragment):
    cli_checks.expect_error(result, code, "intl_train", fragment)


# Out-of-range values, one row per check: (arguments, fragment the one-line error must hold).
# Each must fail with exit 2 before any work: no data is read (--data names no folder) and no
# output folder appears.
OUT_OF_RANGE = [
    (["--epochs", "0"], "--epochs"), (["--epochs", "10001"], "--epochs"),
    (["--batch", "3"], "--batch"), (["--batch", "8193"], "--batch"),
    # the automatic beta 0.01 (log2 K - 3) is negative below K = 8 samples
    (["--batch", "4"], "--batch 4"), (["--batch", "7"], "--batch 7"),
    (["--axis", "features", "--projector", "4"], "--projector 4"),
    (["--lr", "0"], "--lr"), (["--lr", "nan"], "--lr"), (["--lr", "inf"], "--lr"),
    (["--lr", "101"], "--lr"),
    (["--wd", "-1"], "--wd"), (["--wd", "nan"], "--wd"), (["--wd", "2"], "--wd"),
    (["--warmup-epochs", "-1"], "--warmup-epochs"), (["--warmup-epochs", "10001"], "--warmup-epochs"),
    (["--width", "3"], "--width"), (["--width", "257"], "--width"),
    (["--projector", "1"], "--projector"), (["--projector", "16385"], "--projector"),
    (["--momentum", "-0.1"], "--momentum"), (["--momentum", "1.5"], "--momentum"),
    (["--momentum", "nan"], "--momentum"),
    (["--iters", "0"], "--iters"), (["--iters", "-1"], "--iters"), (["--iters", "65"], "--iters"),
    (["--power", "-1"], "--power"), (["--power", "nan"], "--power"), (["--power", "3"], "--power"),
    (["--eps", "-1"], "--eps"), (["--eps", "nan"], "--eps"), (["--eps", "inf"], "--eps"),
    (["--eps", "101"], "--eps"),
    (["--beta", "-1"], "--beta"), (["--beta", "nan"], "--beta"), (["--beta", "11"], "--beta"),
    (["--train-subset", "-1"], "--train-subset"),
    (["--train-subset", "100000001"], "--train-subset"),
    (["--eval-train-subset", "-1"], "--eval-train-subset"),
    (["--eval-test-subset", "-1"], "--eval-test-subset"),
    (["--knn-every", "-1"], "--knn-every"),
    (["--linear-epochs", "0"], "--linear-epochs"), (["--linear-epochs", "-1"], "--linear-epochs"),
    (["--linear-epochs", "1001"], "--linear-epochs"),
    (["--threads", "-1"], "--threads"), (["--threads", "1025"], "--threads"),
    (["--max-steps", "-1"], "--max-steps"),
    (["--image-size", "7"], "--image-size"), (["--image-size", "1025"], "--image-size"),
    (["--loader-threads", "-1"], "--loader-threads"), (["--loader-threads", "257"], "--loader-threads"),
    (["--world-size", "0"], "--world-size"), (["--world-size", "1025"], "--world-size"),
    (["--master-port", "0"], "--master-port"), (["--master-port", "65536"], "--master-port"),
    (["--rendezvous-timeout", "0"], "--rendezvous-timeout"),
    (["--rendezvous-timeout", "3601"], "--rendezvous-timeout"),
    (["--seed", "-1"], "--seed"),
    # the throughput modes check the same ranges, and their own
    (["--synthetic", "--synthetic-steps", "0"], "--synthetic-steps"),
    (["--synthetic", "--synthetic-steps", "100001"], "--synthetic-steps"),
    (["--synthetic", "--synthetic-size", "1025"], "--synthetic-size"),
    (["--synthetic", "--synthetic-channels", "2"], "--synthetic-channels"),
    (["--synthetic", "--batch", "3"], "--batch"), (["--synthetic", "--iters", "0"], "--iters"),
    (["--synthetic", "--width", "257"], "--width"), (["--synthetic", "--threads", "-1"], "--threads"),
    (["--loader-only", "--dataset", "imagefolder", "--image-size", "1025"], "--image-size"),
    (["--loader-only", "--dataset", "imagefolder", "--batch", "8193"], "--batch"),
    (["--pipeline", "--dataset", "imagefolder", "--beta", "nan"], "--beta"),
    (["--pipeline", "--dataset", "imagefolder", "--synthetic-steps", "-1"], "--synthetic-steps"),
]


def case_out_of_range(exe, tmp):
    data = os.path.join(tmp, "no-data")
    out = os.path.join(tmp, "out")
    cli_checks.refuses_out_of_range(
        lambda args: subprocess.run([exe, "--data", data, "--out", out, *args],
                                    capture_output=True, text=True, timeout=60, check=False),
        OUT_OF_RANGE, "intl_train", out)


def case_unknown_flag(exe, tmp):
    expect_error(run(exe, "--no-such-flag"), 2, "no-such-flag")


def case_bad_value(exe, tmp):
    expect_error(run(exe, "--method", "simclr"), 2, "simclr")


def case_missing_dataset(exe, tmp):
    missing = os.path.join(tmp, "nowhere")
    expect_error(run(exe, "--data", missing, "--out", os.path.join(tmp, "out"), *TINY), 2, missing)
    assert not os.path.exists(os.path.join(tmp, "out", "checkpoint.pt"))


def case_corrupt_file(exe, tmp):
    data = os.path.join(tmp, "fashion")
    shutil.copytree(FASHION, data)
    with gzip.open(os.path.join(data, "train-images-idx3-ubyte.gz"), "wb") as f:
        f.write(b"\x00\x00\x08\x03" + b"\x00" * 20)  # right magic, truncated payload
    expect_error(run(exe, "--data", data, "--out", os.path.join(tmp, "out"), *TINY), 2,
                 "train-images-idx3-ubyte.gz")


def case_cuda_request(exe, tmp):
    out = os.path.join(tmp, "out")
    result = run(exe, "--device", "cuda", "--out", out, *TINY)
    if result.returncode == 0:  # a build with the CUDA bridge on a GPU machine: it trains there
        with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
            summary = json.load(f)
        assert summary["completed"] and summary["config"]["device"].startswith("cuda"), summary
        return
    expect_error(result, 2, "--device cuda")


def case_amp_on_cpu(exe, tmp):
    expect_error(run(exe, "--amp", "--out", os.path.join(tmp, "out"), *TINY), 2, "--amp")


def case_channels_last(exe, tmp):
    # The NHWC layout is a layout only: a CPU run with it trains and checkpoints as usual.
    out = os.path.join(tmp, "out")
    result = run(exe, "--channels-last", "--no-random-baseline", "--out", out, *TINY)
    assert result.returncode == 0, result.stderr
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    assert summary["completed"] and summary["config"]["channels_last"] is True, summary["config"]
    assert summary["config"]["device"] == "cpu", summary["config"]


def case_numerical_failure(exe, tmp):
    # ZCA over 32 features from 32 samples: a singular covariance at the first step.
    result = run(exe, "--transform", "zca", "--axis", "features", "--out",
                 os.path.join(tmp, "out"), *TINY)
    expect_error(result, 3, "training diverged at step 0")


def case_tiny_run(exe, tmp):
    out = os.path.join(tmp, "out")
    result = run(exe, "--out", out, *TINY)
    assert result.returncode == 0, result.stderr
    assert "random init" in result.stdout and "INTL pretrained" in result.stdout, result.stdout
    with open(os.path.join(out, "metrics.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    assert [r["epoch"] for r in records] == [1, 2], records
    for key in ("loss", "lr", "images_per_s", "knn_top1", "effective_rank"):
        assert all(isinstance(r[key], float) for r in records), key
    assert "linear_top1" in records[-1]
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    assert summary["completed"] and "random_init" in summary and "final" in summary
    assert os.path.exists(os.path.join(out, "checkpoint.pt"))
    staged = [n for n in os.listdir(out) if n.endswith(".partial") or n.startswith(".plots-")]
    assert not staged, os.listdir(out)  # every file renamed into place
    if shutil.which("gnuplot"):
        for png in ("loss.png", "accuracy.png", "spectrum.png"):
            assert os.path.getsize(os.path.join(out, png)) > 1000, png
    evaluated = run(exe, "--out", out, "--eval-only", *TINY)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "linear top-1" in evaluated.stdout, evaluated.stdout
    with open(os.path.join(out, "evaluation.json"), encoding="utf-8") as f:
        assert json.load(f)["epoch"] == 2


def case_synthetic(exe, tmp):
    result = run(exe, "--synthetic", "--synthetic-steps", "2", "--synthetic-size", "32",
                 "--batch", "16", "--width", "8", "--projector", "32", "--threads", "1", "--phases")
    assert result.returncode == 0, result.stderr
    assert "images/s" in result.stdout, result.stdout
    phases = [l for l in result.stdout.splitlines() if "ms per phase" in l]
    assert len(phases) == 1, result.stdout
    times = [float(part.split()[-1]) for part in phases[0].split(":", 1)[1].split(",")]
    assert len(times) == 4 and all(t > 0.0 for t in times), phases[0]
    # INTL-M through the same step: the momentum encoder takes the anchor view.
    momentum = run(exe, "--synthetic", "--synthetic-steps", "2", "--synthetic-size", "32",
                   "--batch", "16", "--width", "8", "--projector", "32", "--threads", "1",
                   "--method", "intl_m")
    assert momentum.returncode == 0 and "images/s" in momentum.stdout, momentum.stderr
    bad = run(exe, "--synthetic", "--synthetic-size", "2")
    expect_error(bad, 2, "--synthetic-size")


def case_loader_only(exe, tmp):
    root = os.path.join(tmp, "imagenet")
    writer = os.path.join(os.path.dirname(exe), "make_image_folder")
    made = subprocess.run([writer, "--out", root, "--classes", "2", "--per-class", "24",
                           "--width", "160", "--height", "120", "--threads", "1"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr
    common = ["--dataset", "imagefolder", "--data", root, "--loader-only", "--batch", "8",
              "--synthetic-steps", "3", "--loader-threads", "2", "--image-size", "64"]
    for extra, crops in (([], "2 crops of 64x64 each"),
                         (["--multi-crop"], "6 crops, the largest 64x64")):
        result = run(exe, *common, *extra)
        assert result.returncode == 0, result.stderr
        line = [l for l in result.stdout.splitlines() if l.startswith("loader: 3 batches")]
        assert len(line) == 1 and crops in line[0] and "0 files skipped" in line[0], result.stdout
        assert float(line[0].split(" images/s")[0].split()[-1]) > 0.0, line[0]
    # The step timers run two views: --multi-crop is refused there, not silently ignored.
    expect_error(run(exe, "--synthetic", "--multi-crop", "--synthetic-size", "32"), 2,
                 "--multi-crop")


def print_config(exe, tmp, *args):
    """The --print-config object for `args`; no data is read and no output folder appears."""
    out = os.path.join(tmp, "never")
    result = run(exe, "--out", out, *args, "--print-config")
    assert result.returncode == 0, result.stderr
    assert not os.path.exists(out), "--print-config wrote " + out
    return json.loads(result.stdout)


def expect_values(config, expected):
    for key, value in expected.items():
        got = config[key]
        if isinstance(value, float):
            assert math.isclose(got, value, rel_tol=1e-12), (key, got, value)
        elif isinstance(value, list) and value and isinstance(value[0], float):
            assert len(got) == len(value) and all(
                math.isclose(a, b, rel_tol=1e-12) for a, b in zip(got, value)), (key, got, value)
        else:
            assert got == value, (key, got, value)


def tiny(epochs):
    """TINY with --epochs replaced."""
    args = list(TINY)
    args[args.index("--epochs") + 1] = str(epochs)
    return args


RECIPES = ["fashion-mnist", "cifar10", "cifar100", "imagenet", "imagenet-100ep-multicrop",
           "imagenet-200ep-multicrop", "imagenet-400ep-multicrop", "imagenet-800ep-multicrop",
           "imagenet-800ep", "imagenet100"]


def case_print_config(exe, tmp):
    # Without --recipe or --dataset: the Fashion-MNIST main job.
    expect_values(print_config(exe, tmp), {
        "recipe": "fashion-mnist", "dataset": "fashion-mnist", "arch": "resnet18",
        "imagenet_stem": False, "projector": 2048, "projector_hidden": 2048, "lr": 0.3,
        "wd": 1e-4, "decay_1d": True, "epochs": 30, "batch": 256, "method": "intl",
        "crop_sizes": [28, 28], "blur_probs": [0.0, 0.0], "solarize_probs": [0.0, 0.2],
        "beta": 0.05, "iters": 4, "axis": "samples", "amp": False})
    # --dataset imagefolder takes the reference's ImageNet defaults (cfg.py).
    imagenet = print_config(exe, tmp, "--dataset", "imagefolder", "--data", "/nowhere")
    expect_values(imagenet, {
        "recipe": "imagenet", "arch": "resnet50", "imagenet_stem": True, "lr": 0.5, "wd": 1e-05,
        "decay_1d": False, "projector": 8192, "projector_hidden": 8192, "epochs": 100,
        "batch": 256, "method": "intl", "multi_crop": False, "crop_sizes": [224, 224],
        "min_scales": [0.08, 0.08], "blur_probs": [1.0, 0.1], "solarize_probs": [0.0, 0.2],
        "amp": False, "data": "/nowhere"})
    # Mixed precision is the recipe's on a GPU only, and a flag turns it off.
    assert print_config(exe, tmp, "--recipe", "imagenet", "--device", "cuda")["amp"] is True
    assert print_config(exe, tmp, "--recipe", "imagenet", "--device", "cuda",
                        "--no-amp")["amp"] is False
    expect_values(print_config(exe, tmp, "--recipe", "imagenet-100ep-multicrop"), {
        "method": "intl_m", "multi_crop": True, "momentum": 0.996, "lr": 0.5, "epochs": 100,
        "crop_sizes": [224, 224, 192, 160, 128, 96], "blur_probs": [0.5] * 6,
        "solarize_probs": [0.1] * 6, "min_scales": [0.2, 0.2, 0.171, 0.143, 0.114, 0.086],
        "max_scales": [1.0, 1.0, 0.857, 0.714, 0.571, 0.429]})
    expect_values(print_config(exe, tmp, "--recipe", "imagenet-800ep"),
                  {"method": "intl", "multi_crop": False, "lr": 0.3, "epochs": 800})
    expect_values(print_config(exe, tmp, "--recipe", "imagenet-400ep-multicrop"),
                  {"method": "intl_m", "lr": 0.4, "epochs": 400})
    expect_values(print_config(exe, tmp, "--recipe", "imagenet100"), {
        "arch": "resnet18", "imagenet_stem": True, "batch": 128, "projector": 8192,
        "projector_hidden": 4096, "epochs": 400, "lr": 0.5, "wd": 2.5e-05, "decay_1d": False,
        "beta": 0.04})
    expect_values(print_config(exe, tmp, "--dataset", "cifar100"), {
        "recipe": "cifar100", "arch": "resnet18", "imagenet_stem": False, "epochs": 1000,
        "knn_every": 5, "linear_epochs": 500, "wd": 1e-4, "decay_1d": True, "crop_sizes": [32, 32]})
    # An explicit --recipe wins over the data set's, the default one included.
    expect_values(print_config(exe, tmp, "--recipe", "fashion-mnist", "--dataset", "cifar10"),
                  {"recipe": "fashion-mnist", "dataset": "cifar10", "epochs": 30})
    # Every flag overrides its recipe's value.
    expect_values(print_config(exe, tmp, "--recipe", "imagenet", "--lr", "0.1", "--arch",
                               "resnet18", "--cifar-stem", "--projector", "64", "--epochs", "3",
                               "--decay-1d", "--multi-crop", "--image-size", "112"), {
        "lr": 0.1, "arch": "resnet18", "imagenet_stem": False, "projector": 64,
        "projector_hidden": 64, "epochs": 3, "decay_1d": True, "multi_crop": True,
        "crop_sizes": [112, 112, 96, 80, 64, 48], "wd": 1e-05})
    # Every key is a flag of --help (a --no- form for the flags that are on by default).
    help_text = run(exe, "--help").stdout
    for recipe in RECIPES:
        config = print_config(exe, tmp, "--recipe", recipe)
        assert config["recipe"] == recipe and recipe in help_text, recipe
        for key in config:
            flag = "--" + key.replace("_", "-")
            no_flag = "--no-" + key.replace("_", "-")
            assert flag in help_text or no_flag in help_text, key
    # A recipe without a default data folder asks for one before any work.
    expect_error(run(exe, "--recipe", "cifar10", "--out", os.path.join(tmp, "out")), 2,
                 "--data: the cifar10 recipe has no default data folder")
    # bf16 autocast beside fp16 (no loss scaling), only with --amp.
    assert print_config(exe, tmp, "--device", "cuda", "--amp", "--amp-dtype",
                        "bf16")["amp_dtype"] == "bf16"
    expect_error(run(exe, "--amp-dtype", "bf16", "--print-config"), 2, "--amp-dtype bf16: needs --amp")
    expect_error(run(exe, "--recipe", "bogus", "--print-config"), 2, "bogus")
    expect_error(run(exe, "--lr", "0", "--print-config"), 2, "--lr")


def case_view_lists(exe, tmp):
    views = ["--crop-sizes", "28,20,14", "--min-scales", "0.2,0.1,0.05", "--max-scales",
             "1,0.5,0.3", "--blur-probs", "0,0.5,0.5", "--solarize-probs", "0,0.2,0.1"]
    expect_values(print_config(exe, tmp, *views), {
        "crop_sizes": [28, 20, 14], "min_scales": [0.2, 0.1, 0.05], "max_scales": [1.0, 0.5, 0.3],
        "blur_probs": [0.0, 0.5, 0.5], "solarize_probs": [0.0, 0.2, 0.1]})
    # A list alone replaces the recipe's values of its own step, view by view.
    expect_values(print_config(exe, tmp, "--blur-probs", "0.5,0.25"),
                  {"crop_sizes": [28, 28], "blur_probs": [0.5, 0.25], "solarize_probs": [0.0, 0.2]})
    for args, fragment in ((["--crop-sizes", "28,20,14"], "--min-scales"),
                           (["--blur-probs", "0.5,0.5,0.5"], "--blur-probs: 3 values for 2 views"),
                           (["--blur-probs", "1.5,0"], "--blur-probs"),
                           (["--min-scales", "0.5,0.5", "--max-scales", "0.4,1"], "--min-scales"),
                           (["--crop-sizes", "28", "--min-scales", "0.2", "--max-scales", "1",
                             "--blur-probs", "0", "--solarize-probs", "0"], "--crop-sizes"),
                           (["--crop-sizes", "28,4"], "--crop-sizes")):
        expect_error(run(exe, *args, "--print-config"), 2, fragment)
    # Three views of three sizes train, each whitened on its own.
    out = os.path.join(tmp, "out")
    result = run(exe, "--out", out, *tiny(1), "--no-random-baseline", *views)
    assert result.returncode == 0, result.stderr
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    assert summary["completed"] and summary["config"]["views"] == 3, summary["config"]


def case_resume_config(exe, tmp):
    out = os.path.join(tmp, "out")
    first = run(exe, "--out", out, *tiny(1), "--no-random-baseline")
    assert first.returncode == 0, first.stderr
    with open(os.path.join(out, "run_config.json"), encoding="utf-8") as f:
        record = json.load(f)
    assert record["command_line"][0] == exe and "--train-subset" in record["command_line"], record
    assert record["spectral_version"].count(".") == 2, record
    assert record["config"]["lr"] == 0.3 and record["config"]["epochs"] == 1, record["config"]
    # A flag that changes the run is refused, naming the setting and both values ...
    cli_checks.expect_error(run(exe, "--out", out, *tiny(2), "--resume", "--lr", "0.2", "--iters",
                                "5"), 2, "intl_train", "--resume", "iters: 4 -> 5",
                            "lr: 0.3 -> 0.2")
    # ... while --epochs and how the run is carried out (evaluation, device) may change.
    resumed = run(exe, "--out", out, *tiny(2), "--resume", "--knn-every", "0", "--device", "cpu",
                  "--no-random-baseline")
    assert resumed.returncode == 0, resumed.stderr
    with open(os.path.join(out, "metrics.jsonl"), encoding="utf-8") as f:
        assert [json.loads(line)["epoch"] for line in f] == [1, 2]
    # A new run in the folder that stops before its first checkpoint leaves the saved run's
    # configuration beside the saved run's checkpoint.
    stopped = run(exe, "--out", out, *tiny(1), "--lr", "0.2", "--max-steps", "1",
                  "--no-random-baseline")
    assert stopped.returncode == 0, stopped.stderr
    with open(os.path.join(out, "run_config.json"), encoding="utf-8") as f:
        assert json.load(f)["config"]["lr"] == 0.3


if __name__ == "__main__":
    cli_checks.run_case(globals())
