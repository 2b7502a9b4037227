#!/usr/bin/env bash
# cli.sh: the bundle subcommands end to end through the wasmlet-pack binary
# (exit statuses, password sources, output streams, tar/minisign interop,
# -h/--help/help everywhere).
set -u
PACK="${WASMLET_BIN:-}/wasmlet-pack"
[ -x "$PACK" ] || { echo "SKIP: $PACK not built"; exit 77; }
T=$(mktemp -d /tmp/wasmlet-bundle-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
export WASMLET_CACHE_DIR="$T/cache" XDG_CONFIG_HOME="$T/config"
unset WASMLET_PASSWORD SOURCE_DATE_EPOCH
fails=0
check() {   # check DESCRIPTION COMMAND...
    local what="$1"; shift
    if ! "$@"; then echo "FAIL: $what"; fails=$((fails + 1)); fi
}
status() { "$@" >/dev/null 2>"$T/err"; echo $?; }

# A minimal WASI command module: () -> () "_start" and a "memory".
printf '\000asm\001\000\000\000\001\004\001\140\000\000\003\002\001\000\005\003\001\000\001\007\023\002\006_start\000\000\006memory\002\000\012\004\001\002\000\013' >"$T/app.wasm"
"$PACK" synth -o "$T/m.gguf" --type Q8_0 --seed 7 >/dev/null 2>&1 || { echo "FAIL: synth"; exit 1; }

check "keygen -W" test "$(status "$PACK" keygen -W -p "$T/k.pub" -s "$T/k.sec")" = 0
check "keygen without a password source refuses" test "$(status "$PACK" keygen -p "$T/x.pub" -s "$T/x.sec" </dev/null)" = 1
check "  ... and says how to give one" grep -q "no password" "$T/err"
check "  ... and writes nothing" test ! -e "$T/x.sec" -a ! -e "$T/x.pub"
check "usage error is status 2" test "$(status "$PACK" keygen -p "$T/x.pub")" = 2
check "unknown flag is status 2" test "$(status "$PACK" verify --what "$T/a.wasmlet")" = 2

# -h/--help, wherever a flag may stand, and "help [COMMAND]": the usage on
# stdout, nothing on stderr, exit 0, nothing else done (no file made, none
# read: the files named do not exist). A flag's value is never -h.
help_ok() {   # help_ok WHAT ARGS...: wasmlet-pack ARGS in an empty folder
    local what="$1" rc; shift
    rm -rf "$T/help" && mkdir "$T/help"
    (cd "$T/help" && "$PACK" "$@") >"$T/hout" 2>"$T/herr"; rc=$?
    check "$what: exit 0 (got $rc: $(head -1 "$T/herr"))" test "$rc" = 0
    check "$what: usage on stdout" grep -q '^usage: wasmlet-pack' "$T/hout"
    check "$what: nothing on stderr" test ! -s "$T/herr"
    check "$what: no file made" test -z "$(ls -A "$T/help")"
}
cmds="synth keygen build sign verify inspect extract"
for h in -h --help; do
    help_ok "wasmlet-pack $h" "$h"
    check "  ... lists every command" test "$(grep -c "^  \($(echo $cmds help | sed 's/ /\\|/g')\) " "$T/hout")" = 8
    for c in $cmds; do
        help_ok "$c $h" "$c" "$h"
        check "  ... is $c's usage" grep -q "^usage: wasmlet-pack $c " "$T/hout"
    done
    help_ok "synth ... $h" synth -o m.gguf --type Q8_0 "$h"
    help_ok "keygen ... $h" keygen -W -p k.pub -s k.sec "$h"
    help_ok "build ... $h" build --wasm "$T/app.wasm" --model "default=$T/m.gguf" --name n --version 1 -o b.wasmlet "$h"
    help_ok "sign ... $h" sign -s none.sec none.wasmlet "$h"
    help_ok "verify ... $h" verify -p none.pub none.wasmlet "$h"
    help_ok "inspect ... $h" inspect none.wasmlet "$h"
    help_ok "extract ... $h" extract -p none.pub none.wasmlet out "$h"
    help_ok "$h first" verify "$h" -p none.pub --bogus
done
help_ok "help" help
help_ok "help help" help help
for c in $cmds; do
    help_ok "help $c" help "$c"
    "$PACK" "$c" --help >"$T/hout2" 2>&1
    check "  ... is $c --help" cmp -s "$T/hout" "$T/hout2"
done
check "help bogus is status 2" test "$(status "$PACK" help bogus)" = 2
check "--bogus is status 2" test "$(status "$PACK" --bogus)" = 2
check "  ... one line naming it" test "$(grep -c "unknown command '--bogus'" "$T/err")/$(wc -l <"$T/err")" = 1/1
check "no command is status 2" test "$(status "$PACK")" = 2
check "  ... listing the commands on stderr" grep -q "^usage: wasmlet-pack COMMAND" "$T/err"
check "  ... and nothing on stdout" test -z "$("$PACK" 2>/dev/null)"
check "build --name --help: the name" test "$(status "$PACK" build --wasm "$T/app.wasm" \
      --model "default=$T/m.gguf" --name --help --version 1 -o "$T/hn.wasmlet")" = 0
check "  ... in the manifest" grep -q '"name": "--help"' "$T/hn.wasmlet"
# synth's help lists exactly the flags its parser takes, and it takes each
# one it lists (given "@", a flag is refused as unknown or not)
"$PACK" synth --help >"$T/synth-help" 2>&1
listed=$(awk '/^  -/ { f = $1; sub(/,$/, "", f); print f; if ($1 ~ /,$/) print $2 }' "$T/synth-help" | sort | tr '\n' ' ')
check "synth --help lists its flags (lists: $listed)" test "$listed" = "$(printf '%s\n' -o --arch --layers --dim \
      --heads --kv-heads --ffn --vocab --ctx --type --seed --rope-base --rope-scale --tied --tokenizer-from \
      --dequantize-from -h --help | sort | tr '\n' ' ')"
for f in $listed; do
    (cd "$T/help" && "$PACK" synth "$f" @ --layers 0) >/dev/null 2>"$T/err"
    check "synth takes $f" test "$(grep -c 'unknown flag' "$T/err")" = 0
done

check "build signed" test "$(status "$PACK" build --wasm "$T/app.wasm" --model "default=$T/m.gguf" --name chat \
      --version 0.1 --dir /data:ro --env LANG=C -s "$T/k.sec" -o "$T/a.wasmlet")" = 0
check "no progress bar when stderr is not a terminal" test "$(tr -cd '\r' <"$T/err" | wc -c)" = 0
check "verify" test "$(status "$PACK" verify -p "$T/k.pub" "$T/a.wasmlet")" = 0
"$PACK" verify -p "$T/k.pub" "$T/a.wasmlet" >"$T/out" 2>&1
check "verify names the signer" grep -q "signed by key $(sed -n 's/.*public key //p' "$T/k.pub")" "$T/out"
"$PACK" inspect --json "$T/a.wasmlet" >"$T/inspect.json"
check "inspect --json has the quantization" grep -q '"quantization": "Q8_0"' "$T/inspect.json"
check "inspect --json has the grant" grep -q '"guest_path": "/data", "readonly": true' "$T/inspect.json"
check "tar lists the members in order" test "$(tar -tf "$T/a.wasmlet" | tr '\n' ' ')" = \
      "manifest.json manifest.json.minisig app.wasm models/default.gguf "
check "extract" test "$(status "$PACK" extract -p "$T/k.pub" "$T/a.wasmlet" "$T/x")" = 0
check "extracted model is the input" cmp -s "$T/x/models/default.gguf" "$T/m.gguf"
if command -v minisign >/dev/null; then
    check "minisign verifies the manifest" minisign -Vq -p "$T/k.pub" -m "$T/x/manifest.json"
fi

# Password-protected key: from the environment, then from a file; never echoed.
check "keygen with WASMLET_PASSWORD" test "$(WASMLET_PASSWORD='hunter2 x' status "$PACK" keygen -p "$T/e.pub" -s "$T/e.sec")" = 0
check "password not echoed" test "$(grep -c hunter2 "$T/err")" = 0
printf 'hunter2 x\n' >"$T/pw"
"$PACK" build --wasm "$T/app.wasm" --model "default=$T/m.gguf" --name chat --version 0.1 -o "$T/u.wasmlet" 2>/dev/null
check "verify of an unsigned bundle fails" test "$(status "$PACK" verify -p "$T/e.pub" "$T/u.wasmlet")" = 1
check "  ... saying so" grep -q "not signed" "$T/err"
check "sign with --password-file" test "$(status "$PACK" sign -s "$T/e.sec" --password-file "$T/pw" "$T/u.wasmlet")" = 0
check "password not echoed" test "$(grep -c hunter2 "$T/err")" = 0
check "verify after sign" test "$(status "$PACK" verify -p "$T/e.pub" "$T/u.wasmlet")" = 0
check "the other key is refused" test "$(status "$PACK" verify -p "$T/k.pub" "$T/u.wasmlet")" = 1
check "  ... naming the signer as untrusted" grep -q "not trusted" "$T/err"
# The signing password does not reach child processes (wasm-opt here: a
# stand-in that records its environment).
mkdir -p "$T/fakebin"
printf '#!/bin/sh\nenv >"%s/optenv"\ncp "$4" "$6"\n' "$T" >"$T/fakebin/wasm-opt"
chmod +x "$T/fakebin/wasm-opt"
check "build --optimize -s with WASMLET_PASSWORD" test "$(PATH="$T/fakebin:$PATH" WASMLET_PASSWORD='hunter2 x' status "$PACK" \
      build --wasm "$T/app.wasm" --model "default=$T/m.gguf" --name chat --version 0.1 --optimize -s "$T/e.sec" -o "$T/o.wasmlet")" = 0
check "  ... ran the stand-in wasm-opt" test -s "$T/optenv"
check "  ... without the password in its environment" test "$(grep -c hunter2 "$T/optenv")" = 0
printf 'wrong\n' >"$T/bad"
check "wrong password" test "$(status "$PACK" sign -s "$T/e.sec" --password-file "$T/bad" "$T/u.wasmlet")" = 1
check "  ... is named" grep -q "wrong password" "$T/err"

# Keys made by the stock minisign sign bundles we accept (unencrypted and
# password-protected; minisign reads the password from stdin off a terminal).
if command -v minisign >/dev/null; then
    minisign -G -W -p "$T/mw.pub" -s "$T/mw.key" >/dev/null 2>&1
    check "sign with a minisign -G -W key" test "$(status "$PACK" sign -s "$T/mw.key" "$T/u.wasmlet")" = 0
    check "  ... verifies" test "$(status "$PACK" verify -p "$T/mw.pub" "$T/u.wasmlet")" = 0
    printf 'mini pw\nmini pw\n' | minisign -G -p "$T/mp.pub" -s "$T/mp.key" >/dev/null 2>&1
    check "build with a password-protected minisign key" test "$(WASMLET_PASSWORD='mini pw' status "$PACK" build \
          --wasm "$T/app.wasm" --model "default=$T/m.gguf" --name chat --version 0.1 -s "$T/mp.key" -o "$T/mp.wasmlet")" = 0
    check "  ... verifies" test "$(status "$PACK" verify -p "$T/mp.pub" "$T/mp.wasmlet")" = 0
    # CI signing with the stock tool: extract the manifest, minisign it,
    # embed the signature.
    "$PACK" extract "$T/mp.wasmlet" "$T/ext" 2>/dev/null
    minisign -S -s "$T/mw.key" -m "$T/ext/manifest.json" -x "$T/ext.minisig" -t "signed in CI" </dev/null >/dev/null 2>&1
    check "sign -x with a wrong -p is refused" test "$(status "$PACK" sign -x "$T/ext.minisig" -p "$T/k.pub" "$T/mp.wasmlet")" = 1
    check "  ... saying why" grep -q "does not verify" "$T/err"
    check "sign -x embeds minisign's signature" test "$(status "$PACK" sign -x "$T/ext.minisig" -p "$T/mw.pub" "$T/mp.wasmlet")" = 0
    check "  ... verifies" test "$(status "$PACK" verify -p "$T/mw.pub" "$T/mp.wasmlet")" = 0
    "$PACK" verify -p "$T/mw.pub" "$T/mp.wasmlet" >"$T/out" 2>&1
    check "  ... with minisign's trusted comment" grep -q "signed in CI" "$T/out"
else
    echo "note: minisign not installed: minisign-made key checks skipped"
fi

# A real guest through --optimize still runs (when the guests and the host
# are built).
HELLO="${WASMLET_GUESTS:-}/hello.wasm"
if [ -f "$HELLO" ] && [ -x "${WASMLET_BIN:-}/wasmlet-run" ] && command -v wasm-opt >/dev/null; then
    check "build --optimize a real guest" test "$(status "$PACK" build --wasm "$HELLO" --model "default=$T/m.gguf" \
          --name hello --version 1 --optimize -o "$T/h.wasmlet")" = 0
    "$PACK" extract "$T/h.wasmlet" "$T/h" 2>/dev/null
    check "optimized guest is smaller" test "$(stat -c %s "$T/h/app.wasm")" -lt "$(stat -c %s "$HELLO")"
    "$WASMLET_BIN/wasmlet-run" "$HELLO" 2>&1 | grep -v argv >"$T/run1.txt"
    "$WASMLET_BIN/wasmlet-run" "$T/h/app.wasm" 2>&1 | grep -v argv >"$T/run2.txt"
    check "optimized guest runs like the original" cmp -s "$T/run1.txt" "$T/run2.txt"
    check "  ... and prints something" test -s "$T/run2.txt"
else
    echo "note: hello.wasm, wasmlet-run or wasm-opt missing: --optimize run check skipped"
fi

# wasmlet-run with bundles (when it and the hello guest are built): trust
# from --trust or the per-user folder, unsigned only when allowed, tampered
# members refused, keys made by minisign accepted, nothing extracted.
RUN="${WASMLET_BIN:-}/wasmlet-run"
if [ -f "$HELLO" ] && [ -x "$RUN" ]; then
    "$PACK" build --wasm "$HELLO" --model "default=$T/m.gguf" --name hello --version 1 -s "$T/k.sec" -o "$T/hs.wasmlet" 2>/dev/null
    "$PACK" build --wasm "$HELLO" --model "default=$T/m.gguf" --name hello --version 1 -o "$T/hu.wasmlet" 2>/dev/null
    "$RUN" "$HELLO" 2>&1 | grep -v argv >"$T/run1.txt"
    mkdir -p "$T/tmp"
    TMPDIR="$T/tmp" "$RUN" --trust "$T/k.pub" "$T/hs.wasmlet" 2>&1 | grep -v argv >"$T/run3.txt"
    check "wasmlet-run runs a signed bundle like the bare guest" cmp -s "$T/run1.txt" "$T/run3.txt"
    check "  ... without extracting anything" test -z "$(ls -A "$T/tmp")"
    check "wasmlet-run refuses an untrusted signer" test "$(status "$RUN" "$T/hs.wasmlet")" = 126
    check "  ... naming the key" grep -q "which is not trusted" "$T/err"
    mkdir -p "$XDG_CONFIG_HOME/wasmlet/trusted-keys" && cp "$T/k.pub" "$XDG_CONFIG_HOME/wasmlet/trusted-keys/ci.pub"
    chmod 755 "$XDG_CONFIG_HOME/wasmlet/trusted-keys"; chmod 644 "$XDG_CONFIG_HOME/wasmlet/trusted-keys/ci.pub"
    check "wasmlet-run trusts the per-user keys folder" test "$(status "$RUN" "$T/hs.wasmlet")" = 0
    rm -r "$XDG_CONFIG_HOME/wasmlet/trusted-keys"
    check "wasmlet-run refuses an unsigned bundle" test "$(status "$RUN" --trust "$T/k.pub" "$T/hu.wasmlet")" = 126
    check "  ... pointing at --allow-unsigned" grep -q "allow-unsigned" "$T/err"
    check "wasmlet-run --allow-unsigned" test "$(status "$RUN" --allow-unsigned "$T/hu.wasmlet")" = 0
    if [ -f "$T/mw.key" ]; then
        cp "$T/hs.wasmlet" "$T/hm.wasmlet"
        "$PACK" sign -s "$T/mw.key" "$T/hm.wasmlet" 2>/dev/null
        check "wasmlet-run accepts a bundle signed with a minisign -G key" test "$(status "$RUN" --trust "$T/mw.pub" "$T/hm.wasmlet")" = 0
    fi
    # One flipped byte in the model member.
    off=$("$PACK" inspect --json "$T/hs.wasmlet" | grep -o '"path": "models/default.gguf", "offset": [0-9]*' | grep -o '[0-9]*$')
    cp "$T/hs.wasmlet" "$T/hx.wasmlet"
    printf 'X' | dd of="$T/hx.wasmlet" bs=1 seek=$((off + 100)) conv=notrunc status=none
    check "wasmlet-run refuses a tampered model" test "$(status "$RUN" --trust "$T/k.pub" "$T/hx.wasmlet")" = 126
    check "  ... saying which member" grep -q "member 'models/default.gguf': SHA-256 mismatch" "$T/err"
else
    echo "note: wasmlet-run or hello.wasm missing: wasmlet-run bundle checks skipped"
fi

# On a terminal (script(1) gives us one): the password prompt does not echo,
# and large jobs draw a progress bar on stderr.
if command -v script >/dev/null; then
    (sleep 2; printf 'tty pass\n'; sleep 2; printf 'tty pass\n'; sleep 1) |
        script -qec "'$PACK' keygen -p '$T/t.pub' -s '$T/t.sec'" /dev/null >"$T/tty.txt" 2>&1
    check "terminal prompt" grep -q "Password" "$T/tty.txt"
    check "terminal password not echoed" test "$(grep -c 'tty pass' "$T/tty.txt")" = 0
    check "terminal-made key decrypts" test "$(WASMLET_PASSWORD='tty pass' status "$PACK" sign -s "$T/t.sec" "$T/u.wasmlet")" = 0
    "$PACK" synth -o "$T/big.gguf" --dim 1024 --ffn 2816 --layers 2 --vocab 4096 --type F32 >/dev/null 2>&1
    script -qec "'$PACK' build --wasm '$T/app.wasm' --model 'default=$T/big.gguf' --name b --version 1 -o '$T/big.wasmlet'" \
        /dev/null >"$T/tty2.txt" 2>&1
    check "progress bar on a terminal" grep -q "hashing.*\[#*" "$T/tty2.txt"
    check "big bundle verifies structure" test "$(status "$PACK" inspect "$T/big.wasmlet")" = 0
fi

if [ "$fails" -ne 0 ]; then echo "cli.sh: $fails failure(s)"; exit 1; fi
echo "cli.sh: all checks passed"
