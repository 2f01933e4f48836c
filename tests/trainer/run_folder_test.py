#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""intl_train's output folder under attack and faults: a hostile --out, links planted at its
files' names, a second run on a busy folder, a kill during evaluation, and checkpoints of another
model. Usage: run_folder_test.py --exe PATH --case NAME."""
import json
import os
import shutil
import signal
import subprocess
import time

import cli_checks

TINY = {"--train-subset": "128", "--eval-train-subset": "256", "--eval-test-subset": "128",
        "--batch": "32", "--width": "8", "--projector": "32", "--epochs": "1",
        "--warmup-epochs": "1", "--linear-epochs": "2", "--threads": "1"}


def tiny(**overrides):
    """The tiny run's flags, with overrides: tiny(epochs=2) sets --epochs 2."""
    flags = dict(TINY)
    flags.update({"--" + k.replace("_", "-"): str(v) for k, v in overrides.items()})
    return [x for item in flags.items() for x in item] + ["--no-progress", "--no-random-baseline"]


def run(exe, *args, cwd=None):
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=900, check=False,
                          cwd=cwd)


def expect_error(result, code, *fragments):
    cli_checks.expect_error(result, code, "intl_train", *fragments)


def records(out):
    with open(os.path.join(out, "metrics.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def leftovers(folder):
    return [n for n in os.listdir(folder) if n.endswith(".partial") or n.startswith(".plots-")]


def case_hostile_out(exe, tmp):
    # Quotes, a command substitution, gnuplot's pipe and command prefixes, a newline.
    out = os.path.join(tmp, "r'$(touch INJECTED_SHELL)';system('touch INJECTED_GP')'\n|<x")
    result = run(exe, "--out", out, *tiny(), cwd=tmp)
    assert result.returncode == 0, result.stderr
    for folder in (tmp, out):
        assert not {"INJECTED_SHELL", "INJECTED_GP"} & set(os.listdir(folder)), os.listdir(folder)
        assert not leftovers(folder), os.listdir(folder)
    if shutil.which("gnuplot"):
        for png in ("loss.png", "accuracy.png", "spectrum.png"):
            assert os.path.getsize(os.path.join(out, png)) > 1000, png
        assert "warning" not in result.stdout, result.stdout
    with open(os.path.join(out, "plots.gp"), encoding="utf-8") as f:
        assert "INJECTED" not in f.read()  # the folder's name never reaches the script


def case_planted_links(exe, tmp):
    out = os.path.join(tmp, "out")
    os.makedirs(out)
    victim = os.path.join(tmp, "victim")
    with open(victim, "w", encoding="utf-8") as f:
        f.write("precious")
    names = ["checkpoint.pt", "metrics.jsonl", "summary.json", "metrics.dat", "plots.gp",
             "loss.png", "accuracy.png", "spectrum.png"]
    for name in names:
        os.symlink(victim, os.path.join(out, name))
    result = run(exe, "--out", out, *tiny())
    assert result.returncode == 0, result.stderr
    with open(victim, encoding="utf-8") as f:
        assert f.read() == "precious"
    for name in names:
        path = os.path.join(out, name)
        if name.endswith(".png") and not shutil.which("gnuplot"):
            continue
        assert not os.path.islink(path) and os.path.isfile(path), name
    assert not leftovers(out), os.listdir(out)


def start_run(exe, out, epochs):
    return subprocess.Popen([exe, "--out", out, *tiny(epochs=epochs)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def case_busy_folder(exe, tmp):
    out = os.path.join(tmp, "out")
    first = start_run(exe, out, 20)
    try:
        lock = os.path.join(out, ".lock")
        deadline = time.time() + 120
        while time.time() < deadline:  # the lock file holds the holder's pid once taken
            if os.path.exists(lock) and open(lock, encoding="utf-8").read().strip():
                break
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        second = run(exe, "--out", out, *tiny())
        expect_error(second, 2, "--out", "another run is using this folder",
                     f"process {first.pid}")
        assert first.poll() is None  # the first run goes on
    finally:
        first.kill()
        first.communicate()
    # A killed holder leaves no lock behind: the next run proceeds.
    again = run(exe, "--out", out, *tiny())
    assert again.returncode == 0, again.stderr


def case_kill_during_evaluation(exe, tmp):
    out = os.path.join(tmp, "out")
    run_ = start_run(exe, out, 2)
    try:
        for line in run_.stdout:
            if line.startswith("epoch 2: evaluating"):
                run_.send_signal(signal.SIGKILL)
                break
        run_.communicate(timeout=120)
    finally:
        if run_.poll() is None:
            run_.kill()
    assert run_.returncode == -signal.SIGKILL, run_.returncode
    before = records(out)
    assert [r["epoch"] for r in before] == [1, 2], before
    assert before[1].get("evaluation") == "pending" and "loss" in before[1], before[1]
    assert "knn_top1" in before[0] and "knn_top1" not in before[1], before

    resumed = run(exe, "--out", out, "--resume", *tiny(epochs=2))
    assert resumed.returncode == 0, resumed.stderr
    assert "completed the interrupted evaluation of epoch 2" in resumed.stdout, resumed.stdout
    after = records(out)
    assert [r["epoch"] for r in after] == [1, 2], after
    assert after[1]["loss"] == before[1]["loss"]  # the same record, now complete
    assert "evaluation" not in after[1] and "linear_top1" in after[1], after[1]
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        summary = json.load(f)
    assert summary["completed"] and summary["final"]["epoch"] == 2, summary


def case_checkpoint_mismatch(exe, tmp):
    out = os.path.join(tmp, "out")
    first = run(exe, "--out", out, *tiny())
    assert first.returncode == 0, first.stderr
    with open(os.path.join(out, "checkpoint.pt"), "rb") as f:
        saved = f.read()
    checkpoint = os.path.join(out, "checkpoint.pt")
    # --resume compares the settings with the run's run_config.json and names each difference.
    expect_error(run(exe, "--out", out, "--resume", *tiny(epochs=2), "--imagenet-stem"), 2,
                 "--resume", "other settings", "imagenet_stem: false -> true")
    expect_error(run(exe, "--out", out, "--resume", *tiny(epochs=2, projector=64, lr=0.2)),
                 2, "--resume", "projector: 32 -> 64", "lr: 0.3 -> 0.2")
    expect_error(run(exe, "--out", out, "--resume", *tiny(epochs=2), "--method", "intl_m"),
                 2, '"intl" -> "intl_m"')
    # The checkpoint itself is checked tensor by tensor where no configuration is compared.
    expect_error(run(exe, "--out", out, "--eval-only", *tiny(width=16)), 2,
                 "--eval-only", "does not fit this model")
    with open(checkpoint, "rb") as f:
        assert f.read() == saved  # refused runs leave the checkpoint as it was
    # Without its run_config.json a run cannot be checked, so it is not resumed.
    os.remove(os.path.join(out, "run_config.json"))
    expect_error(run(exe, "--out", out, "--resume", *tiny(epochs=2)), 2, "run_config.json",
                 "is missing")


if __name__ == "__main__":
    cli_checks.run_case(globals(), prefix="spectral_run_folder_")
