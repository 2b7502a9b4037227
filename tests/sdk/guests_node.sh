#!/bin/bash
# guests_node.sh: the SDK's real wasm32 build, end to end: the example
# guests and nn_rust_style run under node's WASI with fake_host.mjs (a
# scripted wasi_ephemeral_nn), and their import sections are checked.
# Skips (77) without node or without the built guests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
G=${WASMLET_GUESTS:-}
S=${WASMLET_SHARED:-$here/../../../shared}
command -v node >/dev/null || { echo "skip: node not installed"; exit 77; }
[ -f "$G/complete.wasm" ] || { echo "skip: guests not built in '$G'"; exit 77; }
run() { node --no-warnings "$here/fake_host.mjs" "$@"; }
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
expect() { # name, got, want
  if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: got [$2] want [$3]"; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

want=$(printf 'Once upon a time\xe2\x80\x9d.\nThe end')
expect "complete, whole" "$(run "$G/complete.wasm" default '' 2>"$tmp/e1")" "$want"
expect "complete, streamed" "$(run "$G/complete.wasm" default '' --stream --usage 2>"$tmp/e2")" "$want"
expect "complete usage" "$(cat "$tmp/e2")" '{"input_tokens":1,"output_tokens":8,"end":"eos"}'
expect "n_predict from the environment (whole)" "$(n_predict=3 run "$G/complete.wasm" default hi)" "Once upon a"
expect "--n-predict flag (streamed)" "$(run "$G/complete.wasm" default hi --stream --n-predict 3)" "Once upon a"
expect "stop string (whole)" "$(run "$G/complete.wasm" default hi --stop ' time')" "Once upon a"
expect "stop string (streamed)" "$(reverse_prompt='" time"' run "$G/complete.wasm" default hi --stream)" "Once upon a"
expect "too_large retry, whole (40000 bytes)" "$(run "$G/complete.wasm" long hi | wc -c)" 40000
expect "too_large retry, a 3000-byte piece" "$(run "$G/complete.wasm" long hi --stream | wc -c)" 3000
expect "prompt from stdin" "$(echo hello | run "$G/complete.wasm" --n-predict 1)" "Once"
out=$(run "$G/complete.wasm" nosuch hi 2>&1); rc=$?
[ $rc -eq 1 ] && [[ "$out" == *'"nosuch"'*'103'* ]] && ok "unknown alias: $out" || bad "unknown alias: rc $rc: $out"
out=$(ctx_size=abc run "$G/complete.wasm" default hi 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *ctx_size* ]] && ok "bad env value: $out" || bad "bad env value: rc $rc: $out"
out=$(run "$G/complete.wasm" default hi --temp hot 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *--temp* ]] && ok "bad flag value: $out" || bad "bad flag value: rc $rc: $out"
expect "chat one-shot" "$(run "$G/chat.wasm" default Hello --template chatml --system 'Be brief.')" "$want"
expect "chat interactive, two turns" "$(printf 'Hi\nAgain\n' | run "$G/chat.wasm" --template llama-3 --no-stream 2>/dev/null)" \
  "$(printf '%s\n%s' "$want" "$want")"
out=$(run "$G/chat.wasm" default Hi --template vicuna 2>&1); rc=$?
[ $rc -ne 0 ] && [[ "$out" == *vicuna* ]] && ok "unknown template refused" || bad "unknown template: rc $rc: $out"
out=$(run "$G/chat.wasm" default Hi --no-such-flag 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *--no-such-flag* ]] && ok "unknown flag refused" || bad "unknown flag: rc $rc: $out"
out=$(run "$G/chat.wasm" default Hi --system 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *"missing value"* ]] && ok "flag without its value" || bad "flag without value: rc $rc: $out"
out=$(run "$G/tokenize.wasm" 2>&1); rc=$?
[ $rc -eq 2 ] && [[ "$out" == *GGUF* ]] && ok "tokenize without a file" || bad "tokenize without a file: rc $rc: $out"
out=$(run "$G/tokenize.wasm" /nonexistent.gguf hi 2>&1); rc=$?
[ $rc -eq 1 ] && [[ "$out" == */nonexistent.gguf* ]] && ok "tokenize, missing file" || bad "tokenize missing file: rc $rc: $out"
printf 'GGUF\3\0\0\0garbage' > "$tmp/bad.gguf"
out=$(run --dir "$tmp:/t" "$G/tokenize.wasm" /t/bad.gguf hi 2>&1); rc=$?
[ $rc -eq 1 ] && [[ "$out" == */t/bad.gguf:* ]] && ok "tokenize, corrupt file: $out" || bad "tokenize corrupt file: rc $rc: $out"
expect "embed" "$(printf 'a\n\nb\n' | run "$G/embed.wasm" embed)" \
  "$(printf '{"index":0,"n_embedding":4,"embedding":[0.5,-0.5,0.5,-0.5]}\n{"index":1,"n_embedding":4,"embedding":[0.5,-0.5,0.5,-0.5]}')"
if [ -f "$G/test-nn_rust_style.wasm" ]; then
  out=$(temp=0 n_predict=64 run "$G/test-nn_rust_style.wasm" default 'Once' 2>&1); rc=$?
  [ $rc -eq 0 ] && [[ "$out" == *PASSED* ]] && ok "nn_rust_style on the fake host" || bad "nn_rust_style: $out"
fi

# The plain clang command line of docs/sdk.md, on the first example there.
lib="$G/../guest-build/sdk/libwasmlet.a"
sysroot=${XDG_CACHE_HOME:-$HOME/.cache}/wasmlet/wasi-sysroot
if command -v clang >/dev/null && [ -f "$lib" ] && [ -d "$sysroot/include" ]; then
  sed -n '/^## A first app/,/^## Errors/p' "$here/../../docs/sdk.md" | sed -n '/^```c$/,/^```$/p' | sed '1d;$d' > "$tmp/app.c"
  if clang --target=wasm32-wasi --sysroot="$sysroot" -O2 -Wall -Werror -I "$here/../../sdk/include" \
       -I "$here/../../sdk/common" "$tmp/app.c" "$lib" -Wl,--stack-first -Wl,-z,stack-size=1048576 \
       -o "$tmp/app.wasm" 2>"$tmp/cc.err"; then
    expect "docs' first app, built with plain clang" "$(run "$tmp/app.wasm" default hi 2>/dev/null)" "$want"
  else
    bad "docs' first app does not build: $(head -c 400 "$tmp/cc.err")"
  fi
fi

# The guest tokenizer against the shared vectors (no BOS, specials not parsed).
for v in llama-spm phi-3 gpt-2; do
  f="$S/tokenizer/ggml-vocab-$v.gguf"
  [ -f "$f" ] || { echo "skip: $f missing"; continue; }
  run --dir "$S/tokenizer:/tok" "$G/tokenize.wasm" "/tok/ggml-vocab-$v.gguf" --no-special --no-parse-special --ids \
    --split '\n__ggml_vocab_test__\n' < "$f.inp" > "$tmp/$v.out" 2>&1
  if diff <(sed 's/^ //' "$f.out") "$tmp/$v.out" > "$tmp/$v.diff"; then ok "guest tokenizer $v == vectors"
  else bad "guest tokenizer $v: $(head -c 300 "$tmp/$v.diff")"; fi
done

# Imports: only the two WASI modules, and only the wasi-nn functions used.
if command -v wasm-objdump >/dev/null; then
  for w in chat complete tokenize embed; do
    mods=$(wasm-objdump -x -j Import "$G/$w.wasm" | grep -o '<- [a-z_0-9]*\.' | sed 's/^<- //; s/\.$//' | sort -u | tr '\n' ' ')
    case "$mods" in
      "wasi_ephemeral_nn wasi_snapshot_preview1 "|"wasi_snapshot_preview1 ") ok "$w imports: $mods";;
      *) bad "$w imports unexpected modules: $mods";;
    esac
  done
  n=$(wasm-objdump -x -j Import "$G/tokenize.wasm" | grep -c wasi_ephemeral_nn)
  expect "tokenize imports no wasi-nn function" "$n" 0
  n=$(wasm-objdump -x -j Import "$G/embed.wasm" | grep -c 'compute_single\|finalize_execution_context')
  expect "embed imports neither compute_single nor finalize_execution_context" "$n" 0
fi
echo "$fails failed"
[ $fails -eq 0 ]
