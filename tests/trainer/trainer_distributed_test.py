#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""intl_train across processes and on ImageFolder input, end to end.

Cases (--case NAME):
  two_process      2 ranks (c10d Gloo on a free localhost port) vs 1 process, Fashion-MNIST subset,
                   resnet18 --width 8 --projector 64, --batch 16, 2 steps: in float64 every saved
                   parameter and buffer agrees to 1e-8 relative and the last loss to 1e-10, while a
                   run with twice the learning rate differs by far more (the check can see a wrong
                   gradient scale); in float32 the last loss agrees to 5e-5 (its rounding noise).
  imagefolder      --dataset imagefolder on 21 real JPEGs written with TurboJPEG (ctypes), one
                   corrupt: 2 steps with 1 and with 2 processes, skipped_files == 1 in summary.json
                   and in the log; without the corrupt file, float64 checkpoints of 1 and 2
                   processes agree to 1e-8.
  imagefolder_multi_crop
                   the same folder without the corrupt file, --multi-crop (six crop sizes): 1 and
                   2 processes train 2 steps and their float64 checkpoints agree to 1e-8.
  batch_not_divisible, rank_out_of_range, missing_imagefolder_root
                   exit 2 with one line naming the flag and the value.
  rendezvous_timeout
                   world size 2 without a peer, as rank 0 and as rank 1: the waiting line comes
                   before the wait, and after --rendezvous-timeout one error line, exit 2.
Exits 77 (ctest SKIP_RETURN_CODE) when intl_train was built without a c10d backend."""
import ctypes
import json
import os
import subprocess
import sys
import threading
import time

import cli_checks
from ranks import NO_BACKEND, SKIP, Skipped, free_port, wait_for_ranks

TIMEOUT = 600.0
TINY = ["--train-subset", "32", "--batch", "16", "--width", "8", "--projector", "64",
        "--epochs", "1", "--max-steps", "2", "--threads", "1", "--no-progress",
        "--no-random-baseline", "--eval-train-subset", "64", "--eval-test-subset", "32",
        "--linear-epochs", "1", "--knn-every", "0"]


def launch(exe, world, args, tag):
    """Runs `world` ranks concurrently; returns their stdout. Raises on failure or timeout."""
    port = str(free_port())
    env = {k: v for k, v in os.environ.items()
           if k not in ("WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT")}
    procs = []
    for rank in range(world):
        extra = [] if world == 1 else ["--world-size", str(world), "--rank", str(rank),
                                       "--master-addr", "127.0.0.1", "--master-port", port]
        procs.append(subprocess.Popen([exe, *args, *extra], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, env=env))
    return wait_for_ranks(procs, tag, TIMEOUT)


def summary(out):
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        return json.load(f)


def state(out):
    """{name: float64 tensor} of the saved encoder's parameters and buffers."""
    import torch  # Debian's python3-torch (SPECTRAL_PYTHON)
    module = torch.jit.load(os.path.join(out, "checkpoint.pt")).model
    tensors = dict(module.named_parameters())
    tensors.update(dict(module.named_buffers()))
    return {k: v.detach().double() for k, v in tensors.items()}


def worst_relative(a, b):
    """Largest ‖a−b‖/‖b‖ over the tensors, and its name."""
    assert sorted(a) == sorted(b), (sorted(a), sorted(b))
    worst = (0.0, "")
    for name in a:
        norm = max(b[name].norm().item(), 1e-300)
        worst = max(worst, ((a[name] - b[name]).norm().item() / norm, name))
    return worst


def relative(x, y):
    return abs(x - y) / max(abs(y), 1e-300)


def case_two_process(exe, tmp):
    runs = {}
    for tag, world, extra in (("one64", 1, ["--float64"]), ("two64", 2, ["--float64"]),
                              ("one64_lr", 1, ["--float64", "--lr", "0.6"]),
                              ("one32", 1, []), ("two32", 2, [])):
        out = os.path.join(tmp, tag)
        launch(exe, world, [*TINY, *extra, "--out", out], tag)
        runs[tag] = out
    one, two = summary(runs["one64"]), summary(runs["two64"])
    assert one["steps"] == 2 and two["steps"] == 2, (one["steps"], two["steps"])
    assert two["config"]["world_size"] == 2 and two["config"]["batch_per_rank"] == 8, two["config"]
    loss_err = relative(two["last_step_loss"], one["last_step_loss"])
    print(f"float64 last loss: 1 process {one['last_step_loss']:.17g}, "
          f"2 processes {two['last_step_loss']:.17g}, rel diff {loss_err:.3e}")
    assert one["last_step_loss"] > 0.0
    assert loss_err <= 1e-10, loss_err
    reference = state(runs["one64"])
    assert all(t.abs().sum().item() > 0 for k, t in reference.items() if k.endswith("weight"))
    err, name = worst_relative(state(runs["two64"]), reference)
    print(f"float64 checkpoint, 2 vs 1 process: worst rel diff {err:.3e} ({name})")
    assert err <= 1e-8, (err, name)
    # The 2 steps move the parameters far beyond the tolerance: a gradient off by a factor
    # (no averaging, a wrong gather slice) would show like this change of learning rate does.
    moved, moved_name = worst_relative(state(runs["one64_lr"]), reference)
    print(f"float64 checkpoint, lr 0.6 vs 0.3: worst rel diff {moved:.3e} ({moved_name})")
    assert moved > 1e-4, (moved, moved_name)
    one32, two32 = summary(runs["one32"]), summary(runs["two32"])
    err32 = relative(two32["last_step_loss"], one32["last_step_loss"])
    print(f"float32 last loss: rel diff {err32:.3e}")
    # float32 rounding alone (1 vs 2 intra-op threads in one process) moves this loss by ~5e-6.
    assert err32 <= 5e-5, err32
    assert not [n for n in os.listdir(runs["two64"]) if n.endswith(".partial")]  # all renamed


def write_jpeg(path, width, height, variant):
    """A smooth RGB image compressed with libjpeg-turbo's TurboJPEG API."""
    tj = ctypes.CDLL("libturbojpeg.so.0")
    tj.tjInitCompress.restype = ctypes.c_void_p
    tj.tjCompress2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                               ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                               ctypes.POINTER(ctypes.c_ulong), ctypes.c_int, ctypes.c_int,
                               ctypes.c_int]
    tj.tjFree.argtypes = [ctypes.c_void_p]
    tj.tjDestroy.argtypes = [ctypes.c_void_p]
    pixels = bytearray()
    for y in range(height):
        for x in range(width):
            pixels += bytes(((x * 255 // width + 37 * variant) % 256,
                             (y * 255 // height + 59 * variant) % 256,
                             ((x + y) * 7 + 91 * variant) % 256))
    handle = tj.tjInitCompress()
    assert handle, "tjInitCompress failed"
    buffer, size = ctypes.c_void_p(), ctypes.c_ulong(0)
    # TJPF_RGB = 0, TJSAMP_444 = 0, quality 95, TJFLAG_ACCURATEDCT = 4096
    rc = tj.tjCompress2(handle, bytes(pixels), width, width * 3, height, 0, ctypes.byref(buffer),
                        ctypes.byref(size), 0, 95, 4096)
    try:
        assert rc == 0, "tjCompress2 failed"
        data = ctypes.string_at(buffer, size.value)
    finally:
        tj.tjFree(buffer)
        tj.tjDestroy(handle)
    assert data[:2] == b"\xff\xd8", data[:4]
    with open(path, "wb") as f:
        f.write(data)


def image_folder(tmp):
    """ROOT/train/<class>/*.JPEG: 20 real JPEGs in 3 classes and one corrupt file; ROOT/val."""
    root = os.path.join(tmp, "imagenet")
    sizes = [(40, 32), (48, 48), (64, 40), (36, 52)]
    for i in range(20):
        folder = os.path.join(root, "train", f"n0{i % 3}")
        os.makedirs(folder, exist_ok=True)
        width, height = sizes[i % len(sizes)]
        write_jpeg(os.path.join(folder, f"img_{i}.JPEG"), width, height, i)
    with open(os.path.join(root, "train", "n01", "broken.JPEG"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 this is not a JPEG" + bytes(200))
    os.makedirs(os.path.join(root, "val", "n00"), exist_ok=True)
    write_jpeg(os.path.join(root, "val", "n00", "val_0.JPEG"), 40, 40, 99)
    return root


def case_imagefolder(exe, tmp):
    root = image_folder(tmp)
    # 21 files at batch 8: 2 steps. With 2 ranks, 4 rows each: rank 0 takes 12 files, rank 1 9,
    # so either still fills 2 batches when it holds the corrupt one.
    args = ["--dataset", "imagefolder", "--data", root, "--image-size", "32", "--batch", "8",
            "--beta", "0.01",
            "--epochs", "1", "--max-steps", "2", "--width", "8", "--projector", "32",
            "--imagenet-stem", "--threads", "1", "--loader-threads", "2", "--no-progress"]
    for world in (1, 2):
        out = os.path.join(tmp, f"run{world}")
        logs = launch(exe, world, [*args, "--out", out], f"imagefolder x{world}")
        s = summary(out)
        print(f"{world} process(es): steps {s['steps']}, skipped {s['skipped_files']}, "
              f"last loss {s['last_step_loss']:.6g}")
        assert s["steps"] == 2 and s["completed"], s
        assert s["skipped_files"] == 1, s["skipped_files"]
        assert s["config"]["train_images"] == 21 and s["config"]["image_size"] == 32, s["config"]
        assert s["last_step_loss"] > 0.0 and s["last_step_loss"] < 1e6, s["last_step_loss"]
        assert "skipped files (did not decode): 1" in logs[0], logs[0]
        with open(os.path.join(out, "metrics.jsonl"), encoding="utf-8") as f:
            records = [json.loads(line) for line in f]
        assert [r["skipped_files"] for r in records] == [1], records
        assert "knn_top1" not in records[0], records  # no per-epoch evaluation for ImageNet
        assert os.path.exists(os.path.join(out, "checkpoint.pt"))
    # Without the corrupt file the 2 ranks decode and augment exactly the 1-process batches.
    os.remove(os.path.join(root, "train", "n01", "broken.JPEG"))
    for world in (1, 2):
        launch(exe, world, [*args, "--float64", "--out", os.path.join(tmp, f"clean{world}")],
               f"clean imagefolder x{world}")
    one, two = summary(os.path.join(tmp, "clean1")), summary(os.path.join(tmp, "clean2"))
    assert one["steps"] == 2 and two["steps"] == 2 and two["skipped_files"] == 0, (one, two)
    err, name = worst_relative(state(os.path.join(tmp, "clean2")), state(os.path.join(tmp, "clean1")))
    print(f"float64 ImageFolder checkpoint, 2 vs 1 process: worst rel diff {err:.3e} ({name})")
    assert err <= 1e-8, (err, name)


def case_imagefolder_multi_crop(exe, tmp):
    # The six crops of docs/math.md#multi-crop decoded from one read of each file (32 → 32, 32,
    # 27, 23, 18, 14), each whitened on its own; 2 ranks equal 1 process in float64 here too.
    root = image_folder(tmp)
    os.remove(os.path.join(root, "train", "n01", "broken.JPEG"))
    args = ["--dataset", "imagefolder", "--data", root, "--image-size", "32", "--batch", "8",
            "--beta", "0.01", "--multi-crop", "--float64",
            "--epochs", "1", "--max-steps", "2", "--width", "8", "--projector", "32",
            "--imagenet-stem", "--threads", "1", "--loader-threads", "2", "--no-progress"]
    for world in (1, 2):
        launch(exe, world, [*args, "--out", os.path.join(tmp, f"multi{world}")],
               f"multi-crop imagefolder x{world}")
    one, two = summary(os.path.join(tmp, "multi1")), summary(os.path.join(tmp, "multi2"))
    assert one["steps"] == 2 and one["completed"] and one["config"]["views"] == 6, one
    assert two["steps"] == 2 and two["config"]["views"] == 6, two
    err, name = worst_relative(state(os.path.join(tmp, "multi2")), state(os.path.join(tmp, "multi1")))
    print(f"float64 multi-crop checkpoint, 2 vs 1 process: worst rel diff {err:.3e} ({name})")
    assert err <= 1e-8, (err, name)


def expect_error(exe, args, fragments, env=None):
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT")}
    full_env.update(env or {})
    result = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120,
                            check=False, env=full_env)
    print(cli_checks.expect_error(result, 2, "intl_train", *fragments))


def case_batch_not_divisible(exe, tmp):
    tiny = [a for i, a in enumerate(TINY) if a != "--batch" and TINY[i - 1] != "--batch"]
    expect_error(exe, [*tiny, "--batch", "10", "--world-size", "4", "--rank", "0",
                       "--out", os.path.join(tmp, "out")], ["--batch 10", "--world-size 4"])
    assert not os.path.exists(os.path.join(tmp, "out"))


def case_rank_out_of_range(exe, tmp):
    expect_error(exe, [*TINY, "--world-size", "2", "--rank", "2", "--out", os.path.join(tmp, "o")],
                 ["--rank 2", "--world-size 2"])
    # torchrun's variables are the defaults.
    expect_error(exe, [*TINY, "--out", os.path.join(tmp, "o")], ["--rank 5", "--world-size 4"],
                 env={"WORLD_SIZE": "4", "RANK": "5"})


def case_rendezvous_timeout(exe, tmp):
    # World size 2 and no peer: each rank says at once (before it blocks) what it waits for,
    # then gives up after --rendezvous-timeout with one error line naming what did not arrive.
    # Rank 0 serves the store and waits for rank 1; rank 1 (from torchrun's variables) waits for
    # rank 0's store.
    timeout = 6
    for rank in (0, 1):
        port = str(free_port())
        env = {k: v for k, v in os.environ.items()
               if k not in ("WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT")}
        if rank == 0:
            extra = ["--world-size", "2", "--rank", "0", "--master-port", port]
        else:
            extra = []
            env.update({"WORLD_SIZE": "2", "RANK": "1", "MASTER_ADDR": "127.0.0.1",
                        "MASTER_PORT": port})
        args = [exe, *TINY, "--out", os.path.join(tmp, f"out{rank}"),
                "--rendezvous-timeout", str(timeout), *extra]
        start = time.monotonic()
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=env)
        watchdog = threading.Timer(timeout + 300, proc.kill)  # a hang fails, never blocks ctest
        watchdog.start()
        lines = []
        try:
            for line in proc.stderr:
                if line.strip():
                    lines.append((time.monotonic() - start, line.rstrip("\n")))
            proc.wait()
        finally:
            watchdog.cancel()
        ended = time.monotonic() - start
        text = "\n".join(l for _, l in lines)
        if any(NO_BACKEND in l for _, l in lines):
            raise Skipped(text)
        print(f"rank {rank}: exit {proc.returncode} after {ended:.1f} s:\n{text}")
        assert proc.returncode == 2, (proc.returncode, text)
        waiting = [(t, l) for t, l in lines if l.startswith("rendezvous: rank")]
        assert len(waiting) == 1, text
        said, message = waiting[0]
        for fragment in (f"rank {rank} of 2", f"127.0.0.1:{port}", f"{timeout} s"):
            assert fragment in message, (fragment, message)
        errors = [l for _, l in lines if l.startswith("intl_train: error:")]
        assert len(errors) == 1 and errors[0] == lines[-1][1], text
        assert len(lines) == 2, text  # the waiting line and the error, nothing else
        missing = "the other 1 rank(s)" if rank == 0 else "rank 0"
        for fragment in ("rendezvous", f"rank {rank} of 2", missing, f"127.0.0.1:{port}",
                         "--rendezvous-timeout"):
            assert fragment in errors[0], (fragment, errors[0])
        # Said before the wait, not after it; and the wait ends with the timeout, not later.
        assert ended - said >= timeout - 1, (said, ended)
        assert ended - said <= timeout + 30, (said, ended)


def case_missing_imagefolder_root(exe, tmp):
    missing = os.path.join(tmp, "no_such_imagenet")
    expect_error(exe, ["--dataset", "imagefolder", "--data", missing, "--batch", "8",
                       "--out", os.path.join(tmp, "out")], ["--data", missing])


if __name__ == "__main__":
    try:
        cli_checks.run_case(globals())
    except Skipped as e:
        print(f"SKIPPED: {e}")
        sys.exit(SKIP)
    except (RuntimeError, AssertionError) as e:
        print(f"FAILED: {e!r}", file=sys.stderr)
        sys.exit(1)
