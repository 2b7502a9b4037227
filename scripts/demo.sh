#!/usr/bin/env bash
# The main job: run the hello guest on the reference host, granting it one
# folder and one environment variable, and show what it wrote back.
#   scripts/demo.sh BUILD_DIR [NAME]
# (Grows into: pack the chat example with a model into a signed bundle and
# run it; see issue notes.)
set -euo pipefail
B="$1"; shift || true
D="$(mktemp -d)"
trap 'rm -rf "$D"' EXIT
echo "a file the host granted" >"$D/hello-in.txt"
"$B/bin/wasmlet-run" --dir "$D:/data" --env GREETING=hi --max-memory 64M --timeout 10 \
    "$B/guests/hello.wasm" "$@"
echo "host sees: $(cat "$D/hello-out.txt")"
