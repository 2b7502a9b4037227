#!/usr/bin/env bash
# The main job: run the hello guest on the reference host.
# (Grows into: pack the chat example with a model into a signed bundle and
# run it; see issue notes.)
set -euo pipefail
B="$1"; shift || true
exec "$B/bin/wasmlet-run" "$B/guests/hello.wasm" "$@"
