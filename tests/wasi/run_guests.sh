#!/usr/bin/env bash
# Integration: the WASI C guests (tests/guests/wasi_*.c) and the hello
# example run through wasmlet-run with --dir/--env grants. Asserts their
# output and exit status, and that nothing outside the granted folders
# changed. Needs WASMLET_BIN and WASMLET_GUESTS (set by ctest).
set -u
RUN="${WASMLET_BIN:?}/wasmlet-run"
G="${WASMLET_GUESTS:?}"
for f in "$RUN" "$G/test-wasi_fs.wasm" "$G/test-wasi_io.wasm" "$G/hello.wasm"; do
  [ -e "$f" ] || { echo "run_guests: missing $f (build everything first)"; exit 1; }
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fails=0
ok()   { echo "ok   $1"; }
bad()  { echo "FAIL $1"; fails=$((fails + 1)); }
expect() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got [$2], want [$3]"; fi; }
contains() { case "$2" in *"$3"*) ok "$1" ;; *) bad "$1: [$3] not in output:"; echo "$2" ;; esac; }
# Everything under $1 except the folder $2: names, types, sizes, mtimes.
snapshot() { (cd "$1" && find . -path "./$2" -prune -o -printf '%p %y %s %T@\n' | sort); }

# ---- wasi_fs: files, read-only preopen, escapes -------------------------
sb="$tmp/fs"
mkdir -p "$sb/box" "$sb/ro" "$sb/outside"
printf secret > "$sb/outside/secret.txt"
printf 'read only' > "$sb/ro/ro.txt"
ln -s ../outside "$sb/box/lnk_out"
ln -s "$sb/outside" "$sb/box/abs_out"
ln -s loop2 "$sb/box/loop1"
ln -s loop1 "$sb/box/loop2"
before="$(snapshot "$sb" box)"
out="$("$RUN" --dir "$sb/box:/box" --dir "$sb/ro:/ro:ro" --env "GREETING=hi wasm" \
        "$G/test-wasi_fs.wasm" one "two words" 2>&1)"
rc=$?
echo "$out" | grep FAIL
expect "wasi_fs exit status" "$rc" 0
contains "wasi_fs summary" "$out" ", 0 failed"
expect "wasi_fs wrote box/out.txt" "$(cat "$sb/box/out.txt" 2>/dev/null)" "written by guest
appended"
expect "nothing outside box/ changed (ro/, outside/, the sandbox root)" "$(snapshot "$sb" box)" "$before"
expect "secret untouched" "$(cat "$sb/outside/secret.txt")" "secret"
expect "box holds only what the guest left" "$(cd "$sb/box" && ls -A | tr '\n' ' ')" \
       "abs_out lnk_out loop1 loop2 out.txt "

# ---- wasi_io: stdin, poll, sleep, random, exit status ---------------------
expect_sum() {   # the guest's checksum: s = s*31 + byte, 32-bit
  local s=0 b
  for b in $(od -An -v -tu1 "$1"); do s=$(( (s * 31 + b) & 0xffffffff )); done
  echo "$s"
}
printf 'hello\nworld\n' > "$tmp/in.txt"
out="$("$RUN" "$G/test-wasi_io.wasm" 7 < "$tmp/in.txt" 2>/dev/null)"
expect "wasi_io exit code from proc_exit" "$?" 7
expect "wasi_io stdin from a file" "$out" "stdin: 12 bytes, sum $(expect_sum "$tmp/in.txt")"
out="$(cat "$tmp/in.txt" | "$RUN" "$G/test-wasi_io.wasm" 0 2>/dev/null)"
expect "wasi_io stdin from a pipe" "$out" "stdin: 12 bytes, sum $(expect_sum "$tmp/in.txt")"
out="$("$RUN" "$G/test-wasi_io.wasm" 0 < /dev/null 2>&1)"
expect "wasi_io empty stdin" "$out" "stdin: 0 bytes, sum 0
wasi_io: stderr works"
# A guest asleep or blocked inside a host call still obeys --timeout.
start=$(date +%s%N)
"$RUN" --timeout 0.5 "$G/test-wasi_io.wasm" 0 sleep < /dev/null > /dev/null 2>&1
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -ne 0 ] && [ "$rc" -ne 98 ] && [ "$ms" -lt 5000 ] && ok "timeout during poll_oneoff sleep ($ms ms, status $rc)" \
  || bad "timeout during sleep: status $rc after $ms ms"
mkfifo "$tmp/fifo"
exec 3<>"$tmp/fifo"          # held open: the guest's read never sees EOF
start=$(date +%s%N)
"$RUN" --timeout 0.5 "$G/test-wasi_io.wasm" 0 block < "$tmp/fifo" > /dev/null 2>&1
rc=$?
exec 3>&-
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" -ne 0 ] && [ "$rc" -ne 98 ] && [ "$ms" -lt 9000 ] && ok "timeout during blocking fd_read ($ms ms, status $rc)" \
  || bad "timeout during blocked read: status $rc after $ms ms"

# ---- hello: the example guest --------------------------------------------
data="$tmp/data"
mkdir -p "$data"
echo "a line from the host" > "$data/hello-in.txt"
out="$("$RUN" --dir "$data:/data" --env GREETING=hi "$G/hello.wasm" Ada 2>&1)"
expect "hello exit status" "$?" 0
contains "hello greets" "$out" "hello, Ada, from wasm"
contains "hello sees the granted env" "$out" "GREETING = hi"
contains "hello reads the granted file" "$out" "/data/hello-in.txt says: a line from the host"
expect "hello wrote its file" "$(cat "$data/hello-out.txt" 2>/dev/null)" \
       "hello, Ada (read 21 bytes from /data/hello-in.txt)"
rm -f "$data/hello-out.txt"
out="$("$RUN" "$G/hello.wasm" 2>&1)"
expect "hello without grants exits 0" "$?" 0
contains "hello says the folder is not granted" "$out" "was its folder granted with --dir"
contains "hello says GREETING is not set" "$out" "GREETING is not set"
out="$("$RUN" --dir "$data:/data:ro" "$G/hello.wasm" 2>&1)"
contains "hello refused writing a read-only grant" "$out" "cannot write /data/hello-out.txt"
[ ! -e "$data/hello-out.txt" ] && ok "read-only grant left no file" || bad "read-only grant was written"

# ---- bad grants are refused by name ----------------------------------------
out="$("$RUN" --dir "$tmp/no-such-dir:/x" "$G/hello.wasm" 2>&1)"
rc=$?
[ "$rc" -ne 0 ] && ok "missing --dir refused (status $rc)" || bad "missing --dir accepted"
contains "the message names the folder" "$out" "$tmp/no-such-dir"

if [ "$fails" -ne 0 ]; then echo "run_guests: $fails check(s) failed"; exit 1; fi
echo "run_guests: all checks passed"
