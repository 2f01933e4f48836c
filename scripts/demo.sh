#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
#
# The main demo: the `spectral` CLI on a generated anisotropic embedding (N=256, D=64, decaying
# spectrum), printing its spectrum, then the spectrum after each instance. Builds nothing:
# SPECTRAL_CLI overrides the tool (default build/release/examples/cli/spectral).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="${SPECTRAL_CLI:-$root/build/release/examples/cli/spectral}"
python=/usr/bin/python3  # Debian's python with numpy (the first python3 on PATH may lack it)
if [ ! -x "$cli" ]; then
  echo "demo: no spectral CLI at $cli; build it first or set SPECTRAL_CLI" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Z = G diag(0.95^j) Qᵀ + offset: the feature covariance's eigenvalues decay like 0.9^j.
"$python" - "$work/z.npy" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(2024)
n, d = 256, 64
basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
z = rng.standard_normal((n, d)) * 0.95 ** np.arange(d) @ basis.T + rng.standard_normal(d)
np.save(sys.argv[1], z.astype(np.float32))
PY

echo "== input embedding: 256 x 64 float32, decaying spectrum =="
"$cli" spectrum --input "$work/z.npy"

# "effective-rank condition-number" of an embedding's spectrum on an axis.
summary() {
  "$cli" spectrum --input "$1" --axis "$2" --json | "$python" -c '
import json, sys
r = json.load(sys.stdin)
c = r["condition_number"]
print("%.2f %s" % (r["effective_rank"], "inf" if c is None else "%.3g" % c))'
}

echo
echo "== spectrum before -> after each transformation, on the axis it transforms =="
printf '%-14s %-9s %18s   %s\n' instance axis "effective rank" "condition number"
while IFS='|' read -r name axis flags; do
  # shellcheck disable=SC2086  # flags holds several words on purpose
  "$cli" transform $flags --axis "$axis" --input "$work/z.npy" --output "$work/y.npy"
  before="$(summary "$work/z.npy" "$axis")"  # plain assignments, so that set -e sees failures
  after="$(summary "$work/y.npy" "$axis")"
  read -r rank_in cond_in <<<"$before"
  read -r rank_out cond_out <<<"$after"
  printf '%-14s %-9s %8s -> %-6s   %8s -> %s\n' "$name" "$axis" "$rank_in" "$rank_out" \
    "$cond_in" "$cond_out"
done <<'EOF_LIST'
zca|features|--method zca
pca|features|--method pca
cholesky|features|--method cholesky
power p=0.25|features|--method power --power 0.25
power p=0.75|features|--method power --power 0.75
iternorm T=4|features|--method iternorm --iters 4
iternorm T=4|samples|--method iternorm --iters 4
EOF_LIST
