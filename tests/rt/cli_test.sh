#!/usr/bin/env bash
# wasmlet-run as a user runs it: traps and exit codes, bad flags, refused
# modules, and the compile cache.   cli_test.sh traps|flags|refuse|cache
# Needs WASMLET_BIN, WASMLET_GUESTS, WLRT_TEST_CACHE (shared warm cache).
set -uo pipefail
RUN="$WASMLET_BIN/wasmlet-run"
G="$WASMLET_GUESTS"
TRAPS="$G/test-rt_traps.wasm"
W="$(mktemp -d)"
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect STATUS STDERR_SUBSTRING -- command...   (stderr must be one line if a substring is given)
expect() {
    local want="$1" msg="$2"; shift 3
    "$@" >"$W/out" 2>"$W/err"
    local rc=$?
    if [ "$rc" != "$want" ]; then fail "$* -> exit $rc, want $want; stderr: $(cat "$W/err")"; return; fi
    if [ -n "$msg" ]; then
        grep -qF -- "$msg" "$W/err" || fail "$* -> stderr lacks '$msg': $(cat "$W/err")"
        [ "$(grep -c . "$W/err")" = 1 ] || fail "$* -> stderr is not one line: $(cat "$W/err")"
    fi
}

run() { "$RUN" --cache-dir "$WLRT_TEST_CACHE" "$@"; }

case "${1:-}" in
traps)
    expect 0 "" -- run "$TRAPS" ok
    grep -qx ok "$W/out" || fail "ok mode printed $(cat "$W/out")"
    expect 7 "" -- run "$TRAPS" exit 7
    expect 201 "trap: out of bounds memory access" -- run "$TRAPS" oob-load
    expect 201 "trap: out of bounds memory access" -- run "$TRAPS" oob-store
    expect 203 "trap: integer divide by zero" -- run "$TRAPS" div0
    expect 205 "trap: unreachable" -- run "$TRAPS" unreachable
    expect 201 "trap: out of bounds memory access" -- run "$TRAPS" shadow
    expect 208 "trap: call stack exhausted" -- run "$TRAPS" recurse
    start=$(date +%s%N)
    expect 210 "trap: timeout" -- run --timeout 0.3 "$TRAPS" loop
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$ms" -lt 5000 ] || fail "--timeout 0.3 took $ms ms"
    expect 211 "trap: memory limit" -- run --max-memory 16M "$TRAPS" alloc
    expect 3 "refused memory past --max-memory" -- run --max-memory 16M "$TRAPS" grow
    expect 4 "" -- run "$TRAPS" grow
    ;;
flags)
    expect 2 "unknown option --frobnicate" -- "$RUN" --frobnicate "$TRAPS"
    expect 2 "--max-memory 12Q" -- "$RUN" --max-memory 12Q "$TRAPS"
    expect 2 "--max-memory 1" -- "$RUN" --max-memory 1 "$TRAPS"
    expect 2 "--timeout abc" -- "$RUN" --timeout abc "$TRAPS"
    expect 2 "--timeout -1" -- "$RUN" --timeout -1 "$TRAPS"
    expect 2 "--timeout needs a value" -- "$RUN" --timeout
    expect 2 "--env NOEQUALS" -- "$RUN" --env NOEQUALS "$TRAPS"
    expect 2 "--dir :x" -- "$RUN" --dir :x "$TRAPS"
    expect 2 "missing app.wasm" -- "$RUN"
    expect 2 "/nonexistent-dir" -- "$RUN" --dir /nonexistent-dir:/data "$TRAPS" ok
    expect 126 "No such file" -- "$RUN" "$W/nope.wasm"
    expect 0 "" -- "$RUN" -h
    grep -q -- "--max-memory" "$W/out" || fail "-h does not list --max-memory"
    # guest arguments that look like options belong to the guest
    expect 9 "" -- run "$TRAPS" exit 9 --timeout
    ;;
refuse)
    WLRT_TEST_CACHE="$W/refuse-cache"   # private: nothing may be compiled into it
    head -c 1000 "$G/hello.wasm" >"$W/trunc.wasm"
    expect 126 "malformed module" -- run "$W/trunc.wasm"
    { printf '\0asm\1\0\0\0'; head -c 3000 /dev/urandom; } >"$W/garbage.wasm"
    expect 126 "malformed module" -- run "$W/garbage.wasm"
    echo "not wasm at all" >"$W/text.wasm"
    expect 126 "not a WebAssembly module" -- run "$W/text.wasm"
    cat >"$W/mistyped.wat" <<'EOF'
(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")))
EOF
    wat2wasm "$W/mistyped.wat" -o "$W/mistyped.wasm" || fail "wat2wasm"
    expect 126 "import wasi_snapshot_preview1.fd_write: signature (i32) -> i32 does not match host (i32,i32,i32,i32) -> i32" \
        -- run "$W/mistyped.wasm"
    # a guest importing a module this host does not have
    expect 126 "import wasmlet_test.crash: unknown import module" -- run "$G/test-rt_hostcall.wasm"
    # nothing was compiled for any of them
    [ -z "$(ls -A "$WLRT_TEST_CACHE" 2>/dev/null)" ] || fail "refused modules reached the compiler: $(ls "$WLRT_TEST_CACHE")"
    ;;
cache)
    C="$W/cache"
    expect 0 "" -- "$RUN" -v --cache-dir "$C" "$G/hello.wasm"
    grep -q "compiling" "$W/err" || fail "first run did not compile: $(cat "$W/err")"
    [ "$(stat -c %a "$C")" = 700 ] || fail "cache folder mode $(stat -c %a "$C")"
    entry=$(ls "$C"/*.wlso)
    before=$(stat -c '%i %Y' "$entry")
    expect 0 "cache hit" -- "$RUN" -v --cache-dir "$C" "$G/hello.wasm"
    grep -q "compiling" "$W/err" && fail "second run compiled again"
    [ "$(stat -c '%i %Y' "$entry")" = "$before" ] || fail "the entry was rewritten"
    # a changed wasm (one more custom section) is a different module
    { cat "$G/hello.wasm"; printf '\0\5\4note'; } >"$W/changed.wasm"
    expect 0 "" -- "$RUN" -v --cache-dir "$C" "$W/changed.wasm"
    grep -q "compiling" "$W/err" || fail "changed wasm was not recompiled"
    [ "$(ls "$C"/*.wlso | wc -l)" = 2 ] || fail "want 2 entries"
    # a tampered object is not loaded: detected, replaced, and the run is right
    chmod u+w "$entry"
    printf 'X' | dd of="$entry" bs=1 seek=5000 conv=notrunc 2>/dev/null
    "$RUN" -v --cache-dir "$C" "$G/hello.wasm" who >"$W/out" 2>"$W/err"
    rc=$?
    [ $rc = 0 ] || fail "run after tampering: exit $rc"
    grep -q "integrity check" "$W/err" || fail "tampering not reported: $(cat "$W/err")"
    grep -q "compiling" "$W/err" || fail "tampered entry not recompiled"
    grep -q "hello, who" "$W/out" || fail "wrong output after tampering"
    # a truncated entry, and an entry replaced by a symlink, are not used
    chmod u+w "$entry"
    head -c 20 "$entry" >"$W/short" && cat "$W/short" >"$entry"
    expect 0 "" -- "$RUN" -v --cache-dir "$C" "$G/hello.wasm"
    grep -q "bad size" "$W/err" || fail "truncated entry not reported: $(cat "$W/err")"
    other=$(ls "$C"/*.wlso | grep -v "$entry" | head -1)
    rm -f "$entry" && ln -s "$other" "$entry"
    expect 0 "" -- "$RUN" -v --cache-dir "$C" "$G/hello.wasm"
    grep -q "compiling" "$W/err" || fail "a symlinked entry was followed"
    [ -L "$entry" ] && fail "the symlink is still there"
    # --precompile fills the cache; the run after it is a hit
    P="$W/pre"
    expect 0 "" -- "$RUN" --precompile --cache-dir "$P" "$TRAPS"
    [ -s "$W/out" ] && fail "--precompile ran the guest"
    expect 0 "cache hit" -- "$RUN" -v --cache-dir "$P" "$TRAPS" ok
    # a cache folder others can write to is refused
    chmod 755 "$P"
    expect 126 "mode 0700" -- "$RUN" --cache-dir "$P" "$TRAPS" ok
    ;;
*) echo "usage: cli_test.sh traps|flags|refuse|cache" >&2; exit 2 ;;
esac
[ "$fails" = 0 ] && echo "cli $1: ok" || echo "cli $1: $fails failures"
[ "$fails" = 0 ]
