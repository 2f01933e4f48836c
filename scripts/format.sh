#!/usr/bin/env bash
# Formats the C++ and CUDA sources with .clang-format (clang-format 14, Debian 12's).
#   bash scripts/format.sh           rewrite the files in place
#   bash scripts/format.sh --check   change nothing; list every deviation and exit non-zero (CI)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=(-i)
if [ "${1:-}" = "--check" ]; then
  mode=(--dry-run --Werror)
elif [ $# -gt 0 ]; then
  echo "format.sh: unknown argument '$1' (expected nothing or --check)" >&2
  exit 2
fi
command -v clang-format >/dev/null || { echo "format.sh: clang-format not found (scripts/setup.sh installs it)" >&2; exit 2; }
git ls-files -z -- '*.hpp' '*.cpp' '*.cuh' '*.cu' | xargs -0 clang-format "${mode[@]}"
