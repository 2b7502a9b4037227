#!/usr/bin/env bash
# Developer entry point. Usage:
#   ./dev.sh demo [--model F.gguf] [PROMPT]
#                            install what is missing, build, pack the chat
#                            example into a signed bundle and run it
#   ./dev.sh test [MODE]     install what is missing, build, run all tests
#   ./dev.sh build [MODE]    build only           MODE: release (default) | asan | profile
#   ./dev.sh bench           build (release) and print the benchmark tables
#   ./dev.sh setup           install the Debian packages the project needs
# Environment: WASMLET_WERROR=1 adds -Werror; WASMLET_SHARED points at the
# test data (default ../shared); JOBS sets build parallelism.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")" && pwd)"
cd "$ROOT"

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  clang lld wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev
  wabt binaryen
  libsodium-dev libarchive-dev minisign
  unicode-data
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  rustc libstd-rust-dev-wasm32
  python3
)

setup() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  echo "setup: installing ${missing[*]}" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
  local mode="${1:-release}" dir="build/${1:-release}"
  local args=(-G Ninja -DWASMLET_WERROR="${WASMLET_WERROR:-0}")
  case "$mode" in
    release) args+=(-DCMAKE_BUILD_TYPE=Release) ;;
    asan)    args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DWASMLET_SANITIZE=ON) ;;
    # release code with frame pointers and symbols, for perf call graphs
    # (DWARF unwinding cannot cross the kernels' large stack frames)
    profile) args+=(-DCMAKE_BUILD_TYPE=Release
                    "-DCMAKE_C_FLAGS=-g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer") ;;
    *) echo "dev.sh: unknown build mode '$mode' (release, asan or profile)" >&2; exit 2 ;;
  esac
  if [ -n "${WASMLET_SHARED:-}" ]; then args+=(-DWASMLET_SHARED_DIR="$WASMLET_SHARED"); fi
  cmake -S . -B "$dir" "${args[@]}" >/dev/null
  cmake --build "$dir" -j "${JOBS:-$(nproc)}"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  setup) setup ;;
  build) setup; build "${1:-release}" ;;
  test)
    setup; build "${1:-release}"
    ctest --test-dir "build/${1:-release}" --output-on-failure -j "${JOBS:-$(nproc)}" ;;
  bench) setup; build release; cmake --build build/release --target bench ;;
  demo)
    setup; build release
    exec "$ROOT/scripts/demo.sh" "$ROOT/build/release" "$@" ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
