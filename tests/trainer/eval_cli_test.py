#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""intl_eval end to end: the documented errors (one line, exit 2, nothing written) and a tiny
linear evaluation with --resume on an ImageFolder of real JPEGs. Usage:
eval_cli_test.py --exe PATH --case NAME."""
import base64
import json
import os
import subprocess

import cli_checks

# A 16x16 baseline JPEG (written with TurboJPEG): enough for the pipeline, the accuracy is moot.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1R"
    "V19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2Nj"
    "Y2NjY2NjY2NjY2NjY2P/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAA"
    "AgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6"
    "Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXG"
    "x8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREA"
    "AgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5"
    "OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPE"
    "xcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCtElXIkqOJKuRJXMe0f//Z")
TINY = ["--arch", "resnet18", "--cifar-stem", "--width", "8", "--batch", "4", "--image-size", "16",
        "--threads", "1", "--loader-threads", "1", "--no-progress", "--lr-classifier", "4"]


def run(exe, *args):
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=600, check=False)


def expect_error(result, fragment):
    cli_checks.expect_error(result, 2, "intl_eval", fragment)


def make_tree(root):
    for split, count in (("train", 4), ("val", 2)):
        for k in range(3):
            folder = os.path.join(root, split, f"n0000000{k}")
            os.makedirs(folder)
            for i in range(count):
                with open(os.path.join(folder, f"n0000000{k}_{i}.JPEG"), "wb") as f:
                    f.write(JPEG)
    with open(os.path.join(root, "val", "n00000000", "broken.JPEG"), "wb") as f:
        f.write(b"not a jpeg")


# Out-of-range values: (arguments, fragment of the one-line error). Each fails with exit 2
# before any work: --data names no folder and no output folder appears.
OUT_OF_RANGE = [
    (["--epochs", "-1"], "--epochs"), (["--epochs", "1001"], "--epochs"),
    (["--batch", "0"], "--batch"), (["--batch", "8193"], "--batch"),
    (["--mode", "finetune", "--batch", "1"], "--batch"),
    (["--lr-classifier", "0"], "--lr-classifier"), (["--lr-classifier", "nan"], "--lr-classifier"),
    (["--lr-classifier", "101"], "--lr-classifier"),
    (["--lr-backbone", "-1"], "--lr-backbone"), (["--lr-backbone", "nan"], "--lr-backbone"),
    (["--lr-backbone", "inf"], "--lr-backbone"),
    (["--wd", "-1"], "--wd"), (["--wd", "inf"], "--wd"),
    (["--milestones", "0"], "--milestones"), (["--milestones", "60,1001"], "--milestones"),
    (["--gamma", "0"], "--gamma"), (["--gamma", "1.5"], "--gamma"), (["--gamma", "nan"], "--gamma"),
    (["--image-size", "7"], "--image-size"), (["--image-size", "1025"], "--image-size"),
    (["--loader-threads", "0"], "--loader-threads"),
    (["--loader-threads", "257"], "--loader-threads"),
    (["--threads", "-1"], "--threads"), (["--threads", "1025"], "--threads"),
    (["--width", "3"], "--width"), (["--width", "257"], "--width"),
    (["--seed", "-1"], "--seed"),
]


def case_out_of_range(exe, tmp):
    data = os.path.join(tmp, "no-data")
    out = os.path.join(tmp, "out")
    cli_checks.refuses_out_of_range(
        lambda args: run(exe, "--data", data, "--out", out, "--random-init", *args),
        OUT_OF_RANGE, "intl_eval", out)


def case_finetune_small_split(exe, tmp):
    # Fine-tuning on fewer images than one batch is refused before any training, naming both
    # sizes (a split of one image would otherwise run 0 steps and report a "completed" run).
    data = os.path.join(tmp, "data")
    out = os.path.join(tmp, "out")
    make_tree(data)
    for names in (["n00000001_0.JPEG"], ["n00000000_0.JPEG", "n00000001_0.JPEG", "n00000002_0.JPEG"]):
        split = os.path.join(tmp, "split.txt")
        with open(split, "w") as f:
            f.write("\n".join(names) + "\n")
        result = run(exe, "--data", data, "--out", out, "--random-init", "--mode", "finetune",
                     "--train-split", split, "--epochs", "1", *TINY)
        expect_error(result, "--batch 4")
        assert f"{len(names)} training images" in result.stderr, result.stderr
        assert not os.path.exists(out), os.listdir(out)
    # A split of exactly one batch trains.
    split = os.path.join(tmp, "split.txt")
    with open(split, "w") as f:
        f.write("".join(f"n0000000{k}_{i}.JPEG\n" for k in range(2) for i in range(2)))
    result = run(exe, "--data", data, "--out", out, "--random-init", "--mode", "finetune",
                 "--train-split", split, "--epochs", "1", *TINY)
    assert result.returncode == 0, result.stderr + result.stdout
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    assert summary["completed"] and summary["final"]["loss"] > 0.0, summary


def case_unknown_flag(exe, tmp):
    expect_error(run(exe, "--data", tmp, "--no-such-flag"), "no-such-flag")


def case_missing_pretrained(exe, tmp):
    missing = os.path.join(tmp, "nowhere", "checkpoint.pt")
    out = os.path.join(tmp, "out")
    expect_error(run(exe, "--data", tmp, "--out", out, "--pretrained", missing, *TINY), missing)
    assert not os.path.exists(out)
    expect_error(run(exe, "--data", tmp, "--out", out, *TINY), "--pretrained")


def case_missing_split(exe, tmp):
    make_tree(tmp)
    with open(os.path.join(tmp, "1percent.txt"), "w") as f:
        f.write("n00000001_0.JPEG\nn01440764_10026.JPEG\n")
    expect_error(run(exe, "--data", tmp, "--random-init", "--mode", "finetune", "--train-split",
                     os.path.join(tmp, "1percent.txt"), "--out", os.path.join(tmp, "out"), *TINY),
                 "n01440764_10026.JPEG")
    assert not os.path.exists(os.path.join(tmp, "out", "eval_checkpoint.pt"))


def case_tiny_run(exe, tmp):
    data = os.path.join(tmp, "data")
    out = os.path.join(tmp, "out")
    make_tree(data)
    first = run(exe, "--data", data, "--out", out, "--random-init", "--epochs", "1", *TINY)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "broken.JPEG" in first.stdout, first.stdout  # the corrupt file is reported
    second = run(exe, "--data", data, "--out", out, "--random-init", "--epochs", "2", "--resume",
                 *TINY)
    assert second.returncode == 0, second.stderr + second.stdout
    assert "resumed" in second.stdout, second.stdout
    with open(os.path.join(out, "metrics.jsonl")) as f:
        metrics = [json.loads(line) for line in f]
    assert [m["epoch"] for m in metrics] == [1, 2], metrics
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    final = summary["final"]
    assert summary["completed"] and summary["epochs_completed"] == 2, summary
    assert 0.0 <= final["val_top1"] <= final["val_top5"] <= 100.0, final
    assert final["skipped_val"] == 1 and final["loss"] > 0.0, final
    assert os.path.getsize(os.path.join(out, "eval_checkpoint.pt")) > 0
    assert not any(name.endswith(".partial") for name in os.listdir(out)), os.listdir(out)


if __name__ == "__main__":
    cli_checks.run_case(globals(), prefix="intl_eval_cli_")
