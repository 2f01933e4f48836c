#!/usr/bin/env bash
# Installs everything spectral needs on Debian 12 (bookworm). Idempotent: fast when already done.
# Catch2 v3 and CMake >= 3.25 come from bookworm-backports; the backports entry is derived from
# the machine's own Debian sources so that no mirror is hard-coded here.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  build-essential ninja-build pkg-config git clang-format doxygen
  libeigen3-dev libbenchmark-dev libtorch-dev libopenblas-dev liblapacke-dev
  libturbojpeg0-dev libgloo-dev libcli11-dev nlohmann-json3-dev gnuplot-nox
  python3-torch python3-torchvision python3-numpy python3-pytest python3-venv
  dataset-fashion-mnist
)
backports=(cmake libcatch2-dev)

have_all() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || return 1
  done
}

backports_list=/etc/apt/sources.list.d/spectral-backports.sources
add_backports() {
  [ -f "$backports_list" ] && return 0
  local src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ]; then
    # Take the stanza that carries the plain 'bookworm' suite and rename its suites.
    awk 'BEGIN{RS="";ORS="\n\n"} /Suites:[^\n]*bookworm([ \n]|$)/ {
           sub(/Suites:[^\n]*/, "Suites: bookworm-backports"); print; exit }' "$src" \
      | $SUDO tee "$backports_list" >/dev/null
  else
    grep -E '^deb .* bookworm( |$)' /etc/apt/sources.list | head -n1 \
      | sed -E 's/ bookworm( |$)/ bookworm-backports\1/' \
      | $SUDO tee /etc/apt/sources.list.d/spectral-backports.list >/dev/null
    backports_list=/etc/apt/sources.list.d/spectral-backports.list
  fi
  [ -s "$backports_list" ] || { echo "setup: could not derive a bookworm-backports entry" >&2; exit 1; }
}

cmake_is_new() {
  command -v cmake >/dev/null || return 1
  local v; v=$(cmake --version | head -n1 | awk '{print $3}')
  [ "$(printf '%s\n3.28\n' "$v" | sort -V | head -n1)" = "3.28" ]
}

if have_all "${packages[@]}" libcatch2-dev && cmake_is_new; then
  echo "setup: all dependencies present"
else
  add_backports
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports "${backports[@]}" >/dev/null
  echo "setup: dependencies installed"
fi

# LibTorch and Eigen should share one fast BLAS: make OpenBLAS the system libblas/liblapack.
for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
  cand=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas | head -n1 || true)
  if [ -n "$cand" ] && [ "$(readlink -f /etc/alternatives/$alt 2>/dev/null)" != "$(readlink -f "$cand")" ]; then
    $SUDO update-alternatives --set "$alt" "$cand" >/dev/null
  fi
done
