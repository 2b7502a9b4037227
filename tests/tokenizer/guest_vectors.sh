#!/bin/sh
# The tokenizer inside a wasm guest (tests/guests/tok_vectors.c) run by
# wasmlet-run over each vector file, output compared with the .out file.
set -u
dir="${WASMLET_SHARED:-../shared}/tokenizer"
run="${WASMLET_BIN:-}/wasmlet-run"
guest="${WASMLET_GUESTS:-}/test-tok_vectors.wasm"
[ -d "$dir" ] || { echo "SKIP: $dir missing"; exit 77; }
[ -x "$run" ] || { echo "SKIP: no $run"; exit 77; }
[ -f "$guest" ] || { echo "SKIP: no $guest (build target guests)"; exit 77; }
dir="$(cd "$dir" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cache="${WASMLET_BIN}/../tok-guest-cache"
fail=0
for v in ${1:-llama-spm llama-bpe gpt-2 phi-3}; do
  g="$dir/ggml-vocab-$v.gguf"
  "$run" --cache-dir "$cache" --dir "$dir:$dir:ro" --timeout 600 "$guest" "$g" "$g.inp" > "$tmp/out" ||
    { echo "FAIL $v: guest exit status $?"; fail=1; continue; }
  if cmp -s "$tmp/out" "$g.out"; then echo "$v: identical"; else echo "FAIL $v: output differs"; diff "$tmp/out" "$g.out" | head -5; fail=1; fi
done
exit $fail
