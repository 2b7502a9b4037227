#!/bin/sh
# wasmlet-llm --info on real files, on refused files (one-line error, exit 1)
# and on bad flags (exit 2). Usage: cli_info.sh WASMLET_LLM; WASMLET_SHARED
# points at the shared test data (skips with 77 without it).
set -u
bin="$1"
shared="${WASMLET_SHARED:-../shared}"
[ -f "$shared/models/stories260K.gguf" ] || { echo "SKIP: no $shared/models"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
no() { echo "FAIL: $*"; fail=1; }
has() { grep -q -- "$2" "$1" || no "$1 lacks '$2'"; }

"$bin" -m "$shared/models/stories260K.gguf" --info >"$tmp/out" 2>"$tmp/err" || no "info exit $?"
for l in "gguf version: *3" "alignment: *32" "architecture: *llama" "embedding: *64" "layers: *5" \
         "heads: *8" "kv heads: *4" "vocab size: *512" "tokenizer: *llama" "tensors: *48" \
         "weight types: *F32 x48"; do has "$tmp/out" "$l"; done
[ -s "$tmp/err" ] && no "stderr not empty"

"$bin" -m "$shared/models/stories260K-gguf-v1.gguf" --info --all >"$tmp/all" 2>&1 || no "v1 --all exit $?"
has "$tmp/all" "gguf version: *1"
has "$tmp/all" "token_embd.weight *F32 *64 x 512"
has "$tmp/all" "tokenizer.ggml.tokens *array *\[512 x string\]"

"$bin" -m "$shared/models/llama-2-tiny-random.gguf" --info >"$tmp/f16" 2>&1 || no "f16 exit $?"
has "$tmp/f16" "weight types: *F32 x3 .*F16 x9"

# refused files: exit 1, exactly one line on stderr naming the problem
refused() {  # file expected-substring
    "$bin" -m "$1" --info >"$tmp/o" 2>"$tmp/e"
    rc=$?
    [ $rc -eq 1 ] || no "$1: exit $rc, want 1"
    [ "$(wc -l <"$tmp/e")" -eq 1 ] || no "$1: stderr is not one line: $(cat "$tmp/e")"
    has "$tmp/e" "$2"
}
printf 'not a model at all\n' >"$tmp/text"
refused "$tmp/text" "bad magic"
head -c 5000 "$shared/models/stories260K.gguf" >"$tmp/trunc"
refused "$tmp/trunc" "runs past end of file"
refused "$tmp/missing.gguf" "cannot open"
# a known key of the wrong type: llama.block_count as a string
{ printf 'GGUF\003\000\000\000\000\000\000\000\000\000\000\000\002\000\000\000\000\000\000\000'
  printf '\024\000\000\000\000\000\000\000general.architecture\010\000\000\000\005\000\000\000\000\000\000\000llama'
  printf '\021\000\000\000\000\000\000\000llama.block_count\010\000\000\000\004\000\000\000\000\000\000\000five'
} >"$tmp/wrongtype"
refused "$tmp/wrongtype" "key 'llama.block_count' at offset 98: expected uint64, found string"

"$bin" --info >/dev/null 2>&1; [ $? -eq 2 ] || no "no -m: want exit 2"
"$bin" -m "$tmp/text" --info --bogus >/dev/null 2>&1; [ $? -eq 2 ] || no "bad flag: want exit 2"
[ $fail -eq 0 ] && echo "ok: wasmlet-llm --info"
exit $fail
