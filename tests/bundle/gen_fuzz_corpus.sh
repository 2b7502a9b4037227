#!/bin/bash
# gen_fuzz_corpus.sh OUTDIR: seed inputs for fuzz_bundle, made by our own
# tools at test time (no model files in the repository): a tiny synthesized
# model packed with a minimal guest into a signed and an unsigned bundle,
# plus the signed bundle's manifest, signature and public key on their own.
set -eu
OUT=$1
B=${WASMLET_BIN:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rm -rf "$OUT" && mkdir -p "$OUT"
"$B/wasmlet-pack" synth --layers 1 --dim 8 --heads 2 --kv-heads 1 --ffn 16 --vocab 300 --ctx 16 \
  --type F32 --seed 1 -o "$T/m.gguf" >/dev/null
printf '(module (memory (export "memory") 1) (func (export "_start")))' > "$T/a.wat"
wat2wasm "$T/a.wat" -o "$T/a.wasm"
"$B/wasmlet-pack" keygen -W -p "$T/k.pub" -s "$T/k.sec" -f >/dev/null
"$B/wasmlet-pack" build --wasm "$T/a.wasm" --model "default=$T/m.gguf" --name fuzz --version 1 \
  -s "$T/k.sec" -o "$OUT/signed.wasmlet" >/dev/null
"$B/wasmlet-pack" build --wasm "$T/a.wasm" --model "default=$T/m.gguf" --name fuzz --version 1 \
  --dir /data:ro --env A=b -o "$OUT/unsigned.wasmlet" >/dev/null
"$B/wasmlet-pack" extract -p "$T/k.pub" "$OUT/signed.wasmlet" "$T/x" >/dev/null
cp "$T/x/manifest.json" "$OUT/manifest.json"
cp "$T/x/manifest.json.minisig" "$OUT/sig.minisig"
cp "$T/k.pub" "$OUT/key.pub"
