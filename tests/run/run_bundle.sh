#!/bin/bash
# wasmlet-run on signed bundles, end to end: the complete example packed with
# stories260K runs to the golden text from a signed bundle; unsigned,
# untrusted, tampered and non-bundle files are refused with their messages;
# the operator can grant only what the manifest asks for and can pin the
# engine's threads (WASMLET_PIN, same text; a bad list refused); the model is mapped
# straight out of the bundle (no extraction: nothing is written anywhere,
# the mapping of the bundle file is visible in /proc while a guest waits).
set -u
B=${WASMLET_BIN:?}; G=${WASMLET_GUESTS:?}; S=${WASMLET_SHARED:-../shared}
RUN=$B/wasmlet-run; PACK=$B/wasmlet-pack
model=$S/models/stories260K.gguf; golden=$S/golden/stories260K-greedy256.txt
[ -f "$model" ] && [ -f "$golden" ] || { echo "skip: $model or $golden missing"; exit 77; }
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
expect() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1: got [$2] want [$3]"; fi; }
# refused NAME MESSAGE-PART CMD...: non-zero exit, one line naming the problem.
refused() {
  local name=$1 msg=$2; shift 2
  local out rc
  out=$("$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -ne 0 ] && grep -qF -- "$msg" <<<"$out"; then ok "$name refused ($rc)"
  else bad "$name: rc $rc, message [$out], want [$msg]"; fi
}
T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
export XDG_CONFIG_HOME=$T/config          # an empty per-user trusted-keys dir
export XDG_CACHE_HOME=${WASMLET_TEST_CACHE:-$T/cache}
mkdir -p "$XDG_CONFIG_HOME" "$T/tmp"
export TMPDIR=$T/tmp

"$PACK" keygen -W -p "$T/k.pub" -s "$T/k.sec" >/dev/null 2>&1 || { bad "keygen"; exit 1; }
"$PACK" keygen -W -p "$T/other.pub" -s "$T/other.sec" >/dev/null 2>&1
build() {  # build OUT [extra flags]
  local out=$1; shift
  "$PACK" build --wasm "$G/complete.wasm" --model "default=$model" --name t --version 1 "$@" -o "$out" >/dev/null 2>&1
}
build "$T/app.wasmlet" -s "$T/k.sec" --dir /data:ro --env GREETING=from-manifest --ctx-size 512 \
  || { bad "build signed bundle"; exit 1; }
build "$T/unsigned.wasmlet" || bad "build unsigned bundle"
build "$T/other.wasmlet" -s "$T/other.sec" || bad "build bundle with another key"

want=$(sed -n "s/^TEXT '\(.*\)'$/\1/p" "$golden" | sed "s/\\\\'/'/g")
want=$(printf '%b' "$want")
got=$("$RUN" --trust "$T/k.pub" "$T/app.wasmlet" default '' --temp 0 --n-predict 256 2>"$T/err")
expect "signed bundle: greedy 256 == golden" "${got# }" "$want"
[ -s "$T/err" ] && sed 's/^/    stderr: /' "$T/err"
expect "nothing written to TMPDIR" "$(ls -A "$T/tmp")" ""

# The operator can pin the engine's threads; the text does not change, and
# a bad CPU list is refused naming the variable.
got=$(WASMLET_PIN=auto "$RUN" --trust "$T/k.pub" "$T/app.wasmlet" default '' --temp 0 --n-predict 256 2>/dev/null)
expect "WASMLET_PIN=auto: greedy 256 == golden" "${got# }" "$want"
refused "WASMLET_PIN=x1" "CPU pin list 'x1': bad CPU number at 'x1' (from WASMLET_PIN)" \
  env WASMLET_PIN=x1 "$RUN" --trust "$T/k.pub" "$T/app.wasmlet" default '' --n-predict 4

# The per-user trusted-keys dir works as --trust does.
mkdir -p "$XDG_CONFIG_HOME/wasmlet/trusted-keys"
cp "$T/k.pub" "$XDG_CONFIG_HOME/wasmlet/trusted-keys/"
chmod 700 "$XDG_CONFIG_HOME/wasmlet" "$XDG_CONFIG_HOME/wasmlet/trusted-keys"
got=$("$RUN" "$T/app.wasmlet" default 'Once' --temp 0 --n-predict 4 2>&1) \
  && ok "key from the trusted-keys dir" || bad "trusted-keys dir: $got"
rm -rf "$XDG_CONFIG_HOME/wasmlet"

refused "unsigned bundle" "unsigned" "$RUN" --trust "$T/k.pub" "$T/unsigned.wasmlet" default x
got=$("$RUN" --allow-unsigned "$T/unsigned.wasmlet" default 'Once' --temp 0 --n-predict 4 2>&1) \
  && ok "unsigned bundle with --allow-unsigned" || bad "--allow-unsigned: $got"
refused "bundle signed by an untrusted key" "key" "$RUN" --trust "$T/k.pub" "$T/other.wasmlet" default x
refused "signed bundle, no trusted key at all" "key" "$RUN" "$T/app.wasmlet" default x

# A byte flipped in the model member (the file changes, so the verified
# cache cannot vouch for it; the member hash catches it).
cp "$T/app.wasmlet" "$T/flip.wasmlet"
# The model member's offset, as inspect reports it; flip a byte 1000 in.
off=$("$PACK" inspect --json "$T/app.wasmlet" | grep -o '"path": "models/default.gguf", "offset": [0-9]*' | grep -o '[0-9]*$')
off=$((off + 1000))
printf '\x5a' | dd of="$T/flip.wasmlet" bs=1 seek=$off conv=notrunc status=none
refused "bit flip in a member" "SHA-256 mismatch" "$RUN" --trust "$T/k.pub" "$T/flip.wasmlet" default x
head -c 3000 "$T/app.wasmlet" > "$T/trunc.wasmlet"
refused "truncated bundle" "trunc" "$RUN" --trust "$T/k.pub" "$T/trunc.wasmlet" default x
printf 'not a bundle at all\n' > "$T/junk.wasmlet"
refused "a text file" "junk.wasmlet" "$RUN" --trust "$T/k.pub" "$T/junk.wasmlet"
: > "$T/empty.wasmlet"
refused "an empty file" "empty.wasmlet" "$RUN" --trust "$T/k.pub" "$T/empty.wasmlet"

# wasmlet-pack refuses, at pack time, a guest wasmlet-run could not run.
if command -v wat2wasm >/dev/null; then
  cat > "$T/badimport.wat" <<'WAT'
(module
  (import "env" "launch_missiles" (func $m (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $m (i32.const 1)))))
WAT
  wat2wasm "$T/badimport.wat" -o "$T/badimport.wasm"
  refused "pack: a guest importing what the host lacks" "env.launch_missiles" \
    "$PACK" build --wasm "$T/badimport.wasm" --model "default=$model" --name b --version 1 -o "$T/bad.wasmlet"
  expect "pack: no bundle left behind" "$(ls "$T"/bad.wasmlet* 2>/dev/null)" ""
fi

# A module's names are its author's text: refusals quoting them stay one
# line and carry no terminal escapes.
if command -v wat2wasm >/dev/null; then
  printf '(module (import "evil\\0a\\1b[31mred" "x" (func)) (memory (export "memory") 1) (func (export "_start")))' > "$T/evil.wat"
  wat2wasm "$T/evil.wat" -o "$T/evil.wasm"
  msg=$("$RUN" "$T/evil.wasm" 2>&1 >/dev/null)
  if [ "$(printf '%s' "$msg" | wc -l)" -eq 0 ] && ! printf '%s' "$msg" | grep -q $'\x1b' && grep -q "evil" <<<"$msg"; then
    ok "hostile import names are printed on one line, escapes neutralised"
  else bad "hostile import name message: [$msg]"; fi
fi

# Environment: the manifest's variables reach the guest; the operator's
# --env overrides them.
if [ -f "$G/hello.wasm" ]; then
  "$PACK" build --wasm "$G/hello.wasm" --model "default=$model" --name h --version 1 -s "$T/k.sec" \
    --env GREETING=from-manifest -o "$T/hello.wasmlet" >/dev/null 2>&1
  got=$("$RUN" --trust "$T/k.pub" "$T/hello.wasmlet" 2>&1 | grep GREETING | xargs)
  expect "manifest environment reaches the guest" "$got" "GREETING = from-manifest"
  got=$("$RUN" --trust "$T/k.pub" --env GREETING=operator "$T/hello.wasmlet" 2>&1 | grep GREETING | xargs)
  expect "operator --env overrides the manifest" "$got" "GREETING = operator"
fi

# Capabilities: only what the manifest asks for; its read-only stays so.
mkdir -p "$T/data"
refused "a --dir the bundle does not ask for" "does not ask for directory '/other'" \
  "$RUN" --trust "$T/k.pub" --dir "$T/data:/other" "$T/app.wasmlet" default x
refused "--trust on a plain wasm module" "for bundles" "$RUN" --trust "$T/k.pub" "$G/complete.wasm"

# The tokenizer is granted read-only at /bundle/<name>, straight from the
# mapping: the guest tokenizer reads it and agrees with the engine's.
if [ -f "$G/tokenize.wasm" ]; then
  "$PACK" build --wasm "$G/tokenize.wasm" --model "default=$model" --name tk --version 1 -s "$T/k.sec" \
    -o "$T/tok.wasmlet" >/dev/null 2>&1
  text="Once upon a time, Lily saw a big red ball."
  got=$("$RUN" --trust "$T/k.pub" "$T/tok.wasmlet" /bundle/default.gguf "$text" --ids 2>&1)
  want=$("$B/wasmlet-llm" -m "$model" --tokenize --bos -p "$text" 2>&1)
  expect "guest tokenizer reads /bundle/default.gguf" "$(echo $got)" "$(echo $want)"
  refused "a file the bundle does not hold" "" "$RUN" --trust "$T/k.pub" "$T/tok.wasmlet" /bundle/nonexistent.gguf x
fi

# Zero copy: while the guest waits on stdin, the bundle file itself is
# mapped into the host (the model is read from there, not from a copy).
if [ -f "$G/chat.wasm" ]; then
  "$PACK" build --wasm "$G/chat.wasm" --model "default=$model" --name c --version 1 -s "$T/k.sec" \
    -o "$T/chat.wasmlet" >/dev/null 2>&1
  mkfifo "$T/in"
  "$RUN" --trust "$T/k.pub" "$T/chat.wasmlet" default --template plain --n-predict 4 --temp 0 \
    < "$T/in" > "$T/chat.out" 2>&1 &
  pid=$!
  exec 3>"$T/in"
  printf 'Once upon a time\n' >&3
  mapped=""
  for _ in $(seq 100); do
    if grep -q "chat.wasmlet" /proc/$pid/maps 2>/dev/null && [ -s "$T/chat.out" ]; then
      mapped=$(grep -c "chat.wasmlet" /proc/$pid/maps); break
    fi
    sleep 0.1
  done
  exec 3>&-
  wait $pid
  if [ -n "$mapped" ]; then ok "model mapped from the bundle file ($mapped mappings)"
  else bad "no mapping of chat.wasmlet seen in /proc/$pid/maps"; sed 's/^/    /' "$T/chat.out"; fi
  expect "still nothing written to TMPDIR" "$(ls -A "$T/tmp")" ""
fi

# --timeout stops a long generation inside WASI-NN's compute, between tokens.
start=$(date +%s%N)
"$RUN" --timeout 0.5 --env n_predict=1000000 --env ctx_size=100000 \
  --nn-preload "default:GGML:AUTO:$model" "$G/complete.wasm" default '' --ignore-eos >/dev/null 2>"$T/to.err"
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc -eq 210 ] && grep -q "trap: timeout" "$T/to.err" && [ $ms -lt 5000 ]; then ok "timeout inside compute ($ms ms)"
else bad "timeout inside compute: rc $rc after $ms ms: $(cat "$T/to.err")"; fi

echo "$fails failed"
[ $fails -eq 0 ]
