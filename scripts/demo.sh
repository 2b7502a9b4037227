#!/usr/bin/env bash
# The main job: pack the chat example with a model into a signed bundle and
# run it on the reference host.
#   scripts/demo.sh BUILD_DIR [--model FILE.gguf] [PROMPT]
# Without --model (or WASMLET_MODEL) the build makes its own small model with
# `wasmlet-pack synth`: random weights, so the reply is gibberish by design;
# give a real GGUF (e.g. ../shared/models/stories260K.gguf) for real text.
set -euo pipefail
B="$(cd "$1" && pwd)"; shift || true
MODEL="${WASMLET_MODEL:-}"
if [ "${1:-}" = "--model" ]; then MODEL="$2"; shift 2; fi
PROMPT="${1:-Once upon a time}"
W="$B/demo"
mkdir -p "$W"

if [ -z "$MODEL" ]; then
  MODEL="$W/synth-tiny.gguf"
  if [ ! -f "$MODEL" ]; then
    echo "demo: no model given; making a small random-weight one ($MODEL)" >&2
    "$B/bin/wasmlet-pack" synth --layers 2 --dim 64 --heads 4 --kv-heads 2 --ffn 160 \
        --ctx 512 --type Q8_0 --seed 1 -o "$MODEL"
  fi
fi

# A signing key for this machine (unencrypted, as a CI key would be).
if [ ! -f "$W/demo.sec" ]; then
  "$B/bin/wasmlet-pack" keygen -W -p "$W/demo.pub" -s "$W/demo.sec" -f
fi

"$B/bin/wasmlet-pack" build --wasm "$B/guests/chat.wasm" --model default="$MODEL" \
    --name demo-chat --version 1.0 --description "the chat example" \
    --max-memory 268435456 --timeout 120 --ctx-size 512 \
    -s "$W/demo.sec" -o "$W/chat.wasmlet"
echo "demo: packed and signed $W/chat.wasmlet" >&2
"$B/bin/wasmlet-pack" inspect "$W/chat.wasmlet" >&2

# Settings as WasmEdge's examples take them: environment values in JSON.
exec "$B/bin/wasmlet-run" --trust "$W/demo.pub" \
    --env n_predict=64 --env temp=0 \
    "$W/chat.wasmlet" default "$PROMPT"
