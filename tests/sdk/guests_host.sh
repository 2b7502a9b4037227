#!/bin/bash
# guests_host.sh MODE: the example guests on the real host.
#   tok: the tokenize guest against the shared tokenizer vectors.
#   nn:  complete/chat/embed and the nn_* test guests with stories260K
#        (wasmlet-run --nn-preload).
# Skips (77) while wasmlet-run lacks what the mode needs, or without the
# guests or the shared data.
set -u
mode=${1:-nn}
G=${WASMLET_GUESTS:-}
S=${WASMLET_SHARED:-}
RUN=${WASMLET_BIN:-}/wasmlet-run
model=$S/models/stories260K.gguf
golden=$S/golden/stories260K-greedy256.txt
[ -x "$RUN" ] || { echo "skip: no $RUN"; exit 77; }
[ -f "$G/tokenize.wasm" ] || { echo "skip: guests not built in '$G'"; exit 77; }
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
expect() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: got [$2] want [$3]"; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$mode" == tok ]; then
  n=0
  for v in llama-spm llama-bpe phi-3 gpt-2; do
    f="$S/tokenizer/ggml-vocab-$v.gguf"
    [ -f "$f" ] || continue
    n=$((n + 1))
    "$RUN" --dir "$S/tokenizer:/tok" "$G/tokenize.wasm" "/tok/ggml-vocab-$v.gguf" --no-special --no-parse-special \
      --ids --split '\n__ggml_vocab_test__\n' < "$f.inp" > "$tmp/$v.out" 2>&1
    if diff <(sed 's/^ //' "$f.out") "$tmp/$v.out" > "$tmp/$v.diff"; then ok "guest tokenizer $v == vectors"
    else bad "guest tokenizer $v: $(head -c 300 "$tmp/$v.diff")"; fi
  done
  [ $n -gt 0 ] || { echo "skip: no vocabularies in $S/tokenizer"; exit 77; }
  echo "$fails failed"
  [ $fails -eq 0 ]
  exit
fi

"$RUN" --help 2>&1 | grep -q -- --nn-preload || { echo "skip: wasmlet-run has no --nn-preload yet"; exit 77; }
[ -f "$model" ] && [ -f "$golden" ] || { echo "skip: $model or $golden missing"; exit 77; }
run() { "$RUN" --nn-preload "default:GGML:AUTO:$model" "$@"; }

# Guests see only the environment granted with --env.
# The golden text is a Python-style quoted string on the TEXT line.
want=$(sed -n "s/^TEXT '\(.*\)'$/\1/p" "$golden" | sed "s/\\\\'/'/g")
want=$(printf '%b' "$want")
whole=$(run "$G/complete.wasm" default '' --temp 0 --n-predict 256 --usage 2>"$tmp/usage")
# SentencePiece's first piece after BOS carries the dummy-prefix space
# (" Once"); hosts that print pieces as WasmEdge does keep it.
expect "complete, greedy 256 from BOS == golden" "${whole# }" "$want"
expect "usage" "$(cat "$tmp/usage")" '{"input_tokens":1,"output_tokens":256,"end":"max_tokens"}'
streamed=$(run --env temp=0 --env n_predict=256 "$G/complete.wasm" default '' --stream)
expect "complete, streamed == whole" "$streamed" "$whole"

for t in nn_errors nn_rust_style; do
  [ -f "$G/test-$t.wasm" ] || continue
  out=$(run --env temp=0 --env n_predict=32 --env ctx_size=128 "$G/test-$t.wasm" default 'Once upon a time' 2>&1); rc=$?
  if [ $rc -eq 0 ]; then ok "$t"; else bad "$t (rc $rc):"; echo "$out" | grep -v '^ok' | sed 's/^/    /'; fi
done
if [ -f "$G/test-nn_loadloop.wasm" ]; then
  out=$(run "$G/test-nn_loadloop.wasm" default 100 2>&1) && ok "nn_loadloop: $out" || bad "nn_loadloop: $out"
fi

out=$(run "$G/chat.wasm" default 'Once upon a time' --template plain --temp 0 --n-predict 16 2>&1); rc=$?
[ $rc -eq 0 ] && [ -n "$out" ] && ok "chat one-shot (plain)" || bad "chat: rc $rc: $out"
out=$(run "$G/embed.wasm" default 'hello world' 2>&1); rc=$?
[ $rc -eq 0 ] && [[ "$out" == '{"index":0,"n_embedding":64,"embedding":['* ]] && ok "embed (64 dims)" || bad "embed: rc $rc: $out"
out=$(run "$G/complete.wasm" nosuch hi 2>&1); rc=$?
[ $rc -eq 1 ] && [[ "$out" == *103* ]] && ok "unknown alias" || bad "unknown alias: rc $rc: $out"
echo "$fails failed"
[ $fails -eq 0 ]
