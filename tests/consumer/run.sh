#!/bin/sh
# Stage an install of this build and build a tiny outside project against
# it twice: once with find_package(mailwire), once with pkg-config.
# Usage: run.sh BUILD_DIR WORK_DIR C_COMPILER
set -eu
build=$1 work=$2 cc=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

# 1. CMake package
cmake -S "$here" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_C_COMPILER="$cc" >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; exit 1; }
cmake --build "$work/cmake-build" >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; exit 1; }
"$work/cmake-build/consumer_shared"
"$work/cmake-build/consumer_static"

# 2. pkg-config; the .pc file carries the configure-time prefix, so the
#    staged prefix is passed as an override.
pcdir=$(dirname "$(find "$prefix" -name mailwire.pc | head -n 1)")
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$prefix" --cflags --libs mailwire)
# shellcheck disable=SC2086
"$cc" -std=c99 -Wall -Werror -o "$work/consumer_pc" "$here/consumer.c" $flags
libdir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --define-variable=prefix="$prefix" --variable=libdir mailwire)
LD_LIBRARY_PATH="$libdir" "$work/consumer_pc"
echo "3 passed, 0 failed"
