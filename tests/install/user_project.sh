#!/bin/bash
# Installs the build into a temporary prefix, builds a small guest in its
# own CMake project with the installed toolchain file, and runs it.
set -eu
BUILD=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cmake --install "$BUILD" --prefix "$T/prefix" >/dev/null
mkdir -p "$T/app"
cat > "$T/app/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(userapp C)
add_executable(userapp main.c)
target_include_directories(userapp PRIVATE ${WASMLET_INCLUDE_DIR})
target_link_libraries(userapp PRIVATE ${WASMLET_LIBRARY})
CM
cat > "$T/app/main.c" <<'C'
#include <stdio.h>
#include "wasmlet/wasi_nn.h"
int main(void) {
    /* Links the SDK; error text comes from it. */
    printf("sdk says: %s\n", wl_nn_strerror(WL_NN_PROMPT_TOO_LONG));
    return 0;
}
C
cmake -S "$T/app" -B "$T/app/build" -DCMAKE_TOOLCHAIN_FILE="$T/prefix/share/wasmlet/cmake/wasm32-wasi.cmake" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$T/app/build" >/dev/null
[ -f "$T/app/build/userapp.wasm" ] || { echo "FAIL: no userapp.wasm (suffix lost?)"; ls "$T/app/build"; exit 1; }
out=$("$T/prefix/bin/wasmlet-run" --cache-dir "$T/cache" "$T/app/build/userapp.wasm")
[ "$out" = "sdk says: prompt too long for the context" ] || { echo "FAIL: output [$out]"; exit 1; }
echo "ok - user project built with the installed toolchain file runs: $out"
