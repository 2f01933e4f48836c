# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""What the multi-process tests share: a free localhost port, and waiting for every rank of a
job with one deadline (a rank that fails or hangs fails the job; a build without c10d skips)."""
import socket
import subprocess
import time

SKIP = 77  # ctest SKIP_RETURN_CODE
NO_BACKEND = "this build has no c10d backend"


class Skipped(Exception):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_ranks(procs, tag, timeout):
    """Each rank's stdout, in rank order. Raises Skipped when a rank reports no c10d backend,
    RuntimeError when one exits non-zero or the job outlives `timeout` seconds (all killed)."""
    deadline = time.monotonic() + timeout
    outputs, failed = [], []
    try:
        for rank, p in enumerate(procs):
            out, _ = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
            outputs.append(out)
            if p.returncode != 0:
                failed.append(f"{tag} rank {rank} exited {p.returncode}: {out.strip()[-2000:]}")
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
            p.wait()
        raise RuntimeError(f"{tag}: timed out after {timeout:.0f} s")
    if any(NO_BACKEND in f for f in failed):
        raise Skipped(failed[0])
    if failed:
        raise RuntimeError("\n".join(failed))
    return outputs
