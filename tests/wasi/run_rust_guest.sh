#!/usr/bin/env bash
# Integration: a Rust std program (tests/wasi/rust_guest.rs) built for
# wasm32-wasi and run through wasmlet-run with --dir/--env grants. Rust's std
# requests its own rights sets and resolves preopens itself, so this checks
# the host against a second toolchain. SKIPs (77) when no rustc with the
# wasm32-wasi standard library is installed (Debian: rustc +
# libstd-rust-dev-wasm32).
set -u
RUN="${WASMLET_BIN:?}/wasmlet-run"
[ -x "$RUN" ] || { echo "run_rust_guest: missing $RUN"; exit 1; }
RUSTC=""
for r in /usr/bin/rustc "$(command -v rustc 2>/dev/null)"; do
  [ -n "$r" ] && [ -x "$r" ] || continue
  if [ -d "$("$r" --print sysroot 2>/dev/null)/lib/rustlib/wasm32-wasi/lib" ]; then RUSTC="$r"; break; fi
done
if [ -z "$RUSTC" ]; then
  echo "run_rust_guest: SKIP: no rustc with the wasm32-wasi std (apt-get install rustc libstd-rust-dev-wasm32)"
  exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
src="$(cd "$(dirname "$0")" && pwd)/rust_guest.rs"
if ! "$RUSTC" --edition 2021 -O -C strip=debuginfo --target wasm32-wasi "$src" -o "$tmp/rust_guest.wasm"; then
  echo "run_rust_guest: FAIL: $RUSTC could not build $src"; exit 1
fi
sb="$tmp/sb"
mkdir -p "$sb/box" "$sb/ro" "$sb/outside"
printf secret > "$sb/outside/secret.txt"
printf 'read only' > "$sb/ro/ro.txt"
ln -s ../outside "$sb/box/lnk_out"
snap() { (cd "$sb" && find . -path ./box -prune -o -printf '%p %y %s %T@\n' | sort); }
before="$(snap)"
out="$(echo "to rust" | "$RUN" --dir "$sb/box:/box" --dir "$sb/ro:/ro:ro" --env GREETING=hi \
        "$tmp/rust_guest.wasm" rust 2>&1)"
rc=$?
echo "$out"
fails=0
[ "$rc" -eq 0 ] || { echo "FAIL exit status $rc"; fails=1; }
case "$out" in *", 0 failed"*) ;; *) echo "FAIL no clean summary"; fails=1 ;; esac
[ "$(cat "$sb/box/rust-out.txt" 2>/dev/null)" = "written by rust" ] || { echo "FAIL box/rust-out.txt"; fails=1; }
[ "$(snap)" = "$before" ] || { echo "FAIL something outside box/ changed"; fails=1; }
[ "$(cd "$sb/box" && ls -A | tr '\n' ' ')" = "lnk_out rust-out.txt " ] || { echo "FAIL box holds extra files"; fails=1; }
[ "$fails" -eq 0 ] && echo "run_rust_guest: all checks passed"
exit "$fails"
