#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
# The installed package must be relocatable: install the build tree into <tmp>/a, move it to
# <tmp>/b, check that no installed file remembers <tmp>/a, the source or the build tree (or a
# library path of this machine in the CMake and pkg-config files), then build and run the
# consumer from <tmp>/b: with find_package(spectral COMPONENTS blas), and with pkg-config
# (spectral, and spectral-blas when the build has spectral::blas).
#
# usage: relocation.sh <cmake> <build dir> <source dir> <consumer dir> <generator> <c++ compiler>
#                      <has blas: ON|OFF> [<pkg-config>]
set -euo pipefail

cmake=$1 build=$2 source=$3 consumer=$4 generator=$5 cxx=$6 has_blas=$7 pkg_config=${8:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spectral-relocation.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "relocation: FAIL: $*" >&2; exit 1; }
step() { echo "relocation: $*"; }

step "install into $tmp/a"
env -u DESTDIR "$cmake" --install "$build" --prefix "$tmp/a" >/dev/null
mv "$tmp/a" "$tmp/b"
prefix=$tmp/b
step "moved to $prefix"

[ -f "$prefix/share/cmake/spectral/spectral-config.cmake" ] || fail "no spectral-config.cmake"
[ -f "$prefix/share/pkgconfig/spectral.pc" ] || fail "no share/pkgconfig/spectral.pc"

# No installed text file may name where it was installed, built or configured from.
for path in "$tmp/a" "$build" "$source"; do
  hits=$(grep -rIlF -- "$path" "$prefix" 2>&1 || true)
  if [ -n "$hits" ]; then
    fail "installed files contain the absolute path $path:"$'\n'"$hits"
  fi
done
# The package files find their dependencies on the consumer's machine: no paths of this one.
# (grep's output, not its status: a match in one folder and a missing other one give status 2.)
hits=$(grep -rInE -- '(^|[^A-Za-z0-9_])/(usr|opt|home|tmp)/' \
         "$prefix/share/cmake/spectral" "$prefix/share/pkgconfig" 2>&1 || true)
if [ -n "$hits" ]; then
  fail "package files contain absolute paths:"$'\n'"$hits"
fi
step "no absolute paths in the installed files"

work=$tmp/work
mkdir -p "$work"

# CMake consumer.
cmake_args=(-DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx"
            -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DSPECTRAL_CONSUME=find_package)
if [ "$has_blas" = ON ]; then
  cmake_args+=(-DSPECTRAL_CONSUMER_BLAS=ON)
fi
step "configure the CMake consumer (spectral::blas: $has_blas)"
"$cmake" -S "$consumer" -B "$work/cmake" -G "$generator" "${cmake_args[@]}"
found_dir=$("$cmake" -L -N "$work/cmake" | sed -n 's/^spectral_DIR:PATH=//p')
[ "$found_dir" = "$prefix/share/cmake/spectral" ] ||
  fail "find_package(spectral) used $found_dir, not $prefix/share/cmake/spectral"
"$cmake" --build "$work/cmake"
"$work/cmake/consumer" || fail "the CMake consumer's check failed"

# pkg-config consumers.
if [ -z "$pkg_config" ]; then
  step "pkg-config not found: the pkg-config consumers are not checked"
  exit 0
fi
export PKG_CONFIG_PATH=$prefix/share/pkgconfig
pcdir=$("$pkg_config" --variable=pcfiledir spectral)
[ "$pcdir" = "$prefix/share/pkgconfig" ] || fail "pkg-config used $pcdir/spectral.pc"

modules=(spectral)
if [ "$has_blas" = ON ]; then
  modules+=(spectral-blas)
fi
for module in "${modules[@]}"; do
  read -r -a cflags <<<"$("$pkg_config" --cflags "$module")"
  read -r -a libs <<<"$("$pkg_config" --libs "$module")"
  step "$module: ${cflags[*]} ${libs[*]}"
  case " ${cflags[*]} " in
    *" -I$prefix/"*) ;;
    *) fail "pkg-config --cflags $module does not point into $prefix" ;;
  esac
  defines=()
  if [ "$module" = spectral-blas ]; then
    defines=(-DSPECTRAL_CONSUMER_EXPECT_BLAS)
  fi
  "$cxx" -std=c++20 "${defines[@]}" "${cflags[@]}" "$consumer/main.cpp" -o "$work/$module" \
    "${libs[@]}"
  "$work/$module" || fail "the pkg-config ($module) consumer's check failed"
done
step "all consumers built from the moved prefix and passed"
