#!/bin/sh
# test_cli.sh BIN_DIR WORK_DIR: wasmlet-llm's generation mode and
# wasmlet-pack synth from the outside: bad flags (exit 2, one line),
# -h/--help in every mode, unusable models (exit 1), stories260K's greedy
# ids and text against the golden file, --logits JSON, timings on stderr,
# synth determinism.
bin="$1"; work="$2"; shared="${WASMLET_SHARED:-../shared}"
llm="$bin/wasmlet-llm"; pack="$bin/wasmlet-pack"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# expect STATUS CMD...: exit status and a single-line stderr
expect() {
    status="$1"; shift
    "$@" >"$work/out" 2>"$work/err"; got=$?
    [ "$got" -eq "$status" ] || fail "$* exited $got, expected $status ($(cat "$work/err"))"
    [ "$status" -eq 0 ] || [ "$(wc -l <"$work/err")" -eq 1 ] || fail "$*: stderr is not one line: $(cat "$work/err")"
}

mkdir -p "$work"
bin=$(cd "$bin" && pwd) && work=$(cd "$work" && pwd) || exit 1
llm="$bin/wasmlet-llm"; pack="$bin/wasmlet-pack"
"$pack" synth -o "$work/cli.gguf" --layers 1 --dim 32 --heads 2 --ffn 64 --seed 9 || fail "synth"
m="$work/cli.gguf"
for bad in "--temp abc" "--temp -1" "-n -2" "-n 1x" "-t 0" "-c -5" "--top-p 1.5" "--seed -3" \
           "--bogus 1" "--top-k" "--repeat-penalty 0" "--logits 0" "stray"; do
    # shellcheck disable=SC2086
    expect 2 "$llm" -m "$m" $bad
done
expect 2 "$llm" -p hi
expect 1 "$llm" -m "$work/does-not-exist.gguf"
printf 'GGUF\003\000\000\000garbage' >"$work/junk.gguf"
expect 1 "$llm" -m "$work/junk.gguf"
expect 2 "$pack" synth -o "$work/x.gguf" --type Q3_K
expect 2 "$pack" synth -o "$work/x.gguf" --dim 64 --type Q4_K
expect 2 "$pack" synth -o "$work/x.gguf" --arch gpt2
expect 2 "$pack" synth --layers 2
expect 2 "$pack" bogus
expect 2 "$pack" synth -o "$work/x.gguf" --bogus   # a last unknown flag is unknown, not valueless
grep -q "unknown flag '--bogus'" "$work/err" || fail "synth --bogus at the end: $(cat "$work/err")"

# -h/--help in every mode, wherever a flag may stand: the mode's usage on
# stdout, nothing on stderr, exit 0, no file made and no model opened (a
# missing one is named); a flag's value is never a flag ("-p --help").
help_ok() {   # help_ok CMD...: run in an empty folder
    rm -rf "$work/help" && mkdir "$work/help" || exit 1
    (cd "$work/help" && "$@") >"$work/out" 2>"$work/err"; got=$?
    [ "$got" -eq 0 ] || fail "$* exited $got ($(cat "$work/err"))"
    [ ! -s "$work/err" ] || fail "$*: stderr: $(cat "$work/err")"
    grep -q '^usage: ' "$work/out" || fail "$*: no usage line on stdout: $(head -3 "$work/out")"
    [ -z "$(ls -A "$work/help")" ] || fail "$*: left $(ls -A "$work/help")"
}
nomodel="$work/does-not-exist.gguf"
for h in -h --help; do
    help_ok "$llm" $h
    grep -q '^usage: wasmlet-llm -m FILE \[-p PROMPT\]' "$work/out" || fail "$h: not generation's usage"
    grep -q -- '--info' "$work/out" && grep -q -- '--tokenize' "$work/out" || fail "$h does not name the other modes"
    help_ok "$llm" -m "$nomodel" -p hi -n 4 $h
    help_ok "$llm" $h -m "$nomodel" --bogus
    help_ok "$llm" -m "$nomodel" --info $h
    grep -q '^usage: wasmlet-llm -m FILE --info' "$work/out" || fail "--info $h: $(head -1 "$work/out")"
    help_ok "$llm" --info $h
    help_ok "$llm" $h --info
    help_ok "$llm" -m "$nomodel" --tokenize -p hi $h
    grep -q '^usage: wasmlet-llm -m FILE --tokenize' "$work/out" || fail "--tokenize $h: $(head -1 "$work/out")"
    help_ok "$llm" --tokenize $h
done
# generation's help lists exactly the flags the parser takes, and takes
# every flag it lists (given "@", a flag is refused as unknown or not)
"$llm" --help >"$work/help.txt" 2>&1
listed=$(awk '/^  -/ { f = $1; sub(/,$/, "", f); print f; if ($1 ~ /,$/) print $2 }' "$work/help.txt" | sort)
takes=$(printf '%s\n' -m --model -p --prompt -n --n-predict -c --ctx-size -t --threads --pin -b --batch-size \
        --temp --top-k --top-p --min-p --repeat-penalty --repeat-last-n --presence-penalty \
        --frequency-penalty -s --seed --logits --ignore-eos --ids --kv-f16 --kv-f32 -h --help | sort)
[ "$listed" = "$takes" ] || fail "--help lists: $(echo $listed)"
for f in $listed; do
    "$llm" "$f" @ -t 0 >/dev/null 2>"$work/err"
    grep -q "unknown flag" "$work/err" && fail "--help lists $f, the parser refuses it"
done
# values are never flags: "-p --help" is a prompt, "-m --help" a model file
expect 0 "$llm" -m "$m" --tokenize --bos -p --help
n_help=$(wc -w <"$work/out")
[ "$n_help" -gt 1 ] || fail "--tokenize -p --help: $(cat "$work/out")"
expect 0 "$llm" -m "$m" -p --help -n 2 --ids --ignore-eos --seed 1
grep -q '^usage' "$work/out" && fail "-p --help printed the usage"
grep -q "^prompt: $n_help tokens" "$work/err" || fail "-p --help is not the prompt: $(cat "$work/err")"
expect 1 "$llm" -m --help
grep -q "cannot open --help" "$work/err" || fail "-m --help: $(cat "$work/err")"
expect 1 "$llm" -m --help --info

# synth is deterministic for a seed and differs across seeds
"$pack" synth -o "$work/a.gguf" --seed 4 --type Q4_0 && "$pack" synth -o "$work/b.gguf" --seed 4 --type Q4_0 &&
    "$pack" synth -o "$work/c.gguf" --seed 5 --type Q4_0 || fail "synth runs"
cmp -s "$work/a.gguf" "$work/b.gguf" || fail "synth: same seed, different files"
cmp -s "$work/a.gguf" "$work/c.gguf" && fail "synth: different seeds, same file"

# generation on a synthetic model: ids, seed determinism, timings
expect 0 "$llm" -m "$m" -n 12 --ids --seed 3 --temp 1 --ignore-eos
[ "$(wc -w <"$work/out")" -eq 12 ] || fail "expected 12 ids, got $(cat "$work/out")"
grep -q '^prompt: 1 tokens, [0-9.]* tokens/s$' "$work/err" || fail "no prompt timing: $(cat "$work/err")"
grep -q '^generation: 12 tokens, [0-9.]* tokens/s$' "$work/err" || fail "no generation timing"
cp "$work/out" "$work/ids1"
expect 0 "$llm" -m "$m" -n 12 --ids --seed 3 --temp 1 --ignore-eos -t 2
cmp -s "$work/out" "$work/ids1" || fail "same seed, different tokens (1 vs 2 threads)"
# pinned threads: same tokens; a bad CPU list is refused, naming it
expect 0 "$llm" -m "$m" -n 12 --ids --seed 3 --temp 1 --ignore-eos -t 2 --pin auto
cmp -s "$work/out" "$work/ids1" || fail "--pin auto: different tokens"
expect 0 "$llm" -m "$m" -n 12 --ids --seed 3 --temp 1 --ignore-eos -t 2 --pin 0,0
cmp -s "$work/out" "$work/ids1" || fail "--pin 0,0: different tokens"
expect 2 "$llm" -m "$m" -n 1 --pin ""
for bad in "x" "0-" "1-0" "0,,0" "0;1" "99999" "1023" "0"; do
    expect 1 "$llm" -m "$m" -n 1 -t 2 --pin "$bad"
    grep -q "CPU" "$work/err" || fail "--pin '$bad': $(cat "$work/err")"
done
expect 1 env WASMLET_PIN=bogus "$llm" -m "$m" -n 1
grep -q "WASMLET_PIN" "$work/err" || fail "WASMLET_PIN=bogus: $(cat "$work/err")"
# KV cache type: F32 for an F32 model, F16 for a quantized one, flags override
expect 0 "$llm" -m "$m" -n 2 --ids
grep -q '^load: .*; KV cache F32$' "$work/err" || fail "F32 model: $(grep '^load' "$work/err")"
expect 0 "$llm" -m "$m" -n 2 --ids --kv-f16
grep -q '^load: .*; KV cache F16$' "$work/err" || fail "--kv-f16: $(grep '^load' "$work/err")"
expect 0 "$llm" -m "$work/a.gguf" -n 2 --ids
grep -q '^load: .*; KV cache F16$' "$work/err" || fail "Q4_0 model: $(grep '^load' "$work/err")"
expect 0 "$llm" -m "$work/a.gguf" -n 2 --ids --kv-f32
grep -q '^load: .*; KV cache F32$' "$work/err" || fail "--kv-f32: $(grep '^load' "$work/err")"

if [ ! -d "$shared" ]; then
    echo "test_cli: no shared data: golden checks skipped" >&2
    [ $fails -eq 0 ] || exit 1
    exit 77
fi
s260="$shared/models/stories260K.gguf"
golden=$(head -1 "$shared/golden/stories260K-greedy256.txt" | sed 's/^IDS //')
expect 0 "$llm" -m "$s260" -n 256 --temp 0 --ids
[ "$(cat "$work/out")" = "$golden" ] || fail "stories260K greedy ids differ from the golden file"
expect 0 "$llm" -m "$s260" -n 40 --temp 0 --top-k 1 --ids --seed 1
[ "$(cat "$work/out")" = "$(echo "$golden" | cut -d' ' -f1-40)" ] || fail "--temp 0 --top-k 1 differs"
# A prompt goes through the tokenizer (BOS + 4 pieces) and greedy decoding
# continues exactly where the golden run was after those tokens.
expect 0 "$llm" -m "$s260" -p "Once upon a time" -n 20 --temp 0 --ids
[ "$(cat "$work/out")" = "$(echo "$golden" | cut -d' ' -f5-24)" ] || fail "prompted continuation: $(cat "$work/out")"
grep -q '^prompt: 5 tokens' "$work/err" || fail "prompt token count: $(cat "$work/err")"
expect 0 "$llm" -m "$s260" -n 256 --temp 0 -t 2
[ "$(head -c 52 "$work/out")" = "Once upon a time, there was a little girl named Lily" ] ||
    fail "text: $(head -c 200 "$work/out")"
grep -q "Lily's mom said, \"Lily, let's go to the park.\"" "$work/out" || fail "text: $(cat "$work/out")"
expect 0 "$llm" -m "$s260" -n 16 --temp 0 --logits 16
grep -q '^{"tokens": \[1, 403, 407, 261' "$work/out" || fail "--logits JSON: $(head -c 100 "$work/out")"
[ "$(grep -o '\], \[' "$work/out" | wc -l)" -eq 15 ] || fail "--logits: expected 16 rows"
expect 0 "$llm" -m "$shared/models/llama-2-tiny-random.gguf" -n 20 --ids --seed 1
[ "$(wc -w <"$work/out")" -eq 20 ] || fail "llama-2-tiny-random: $(cat "$work/out")"

# synth --tokenizer-from: the vocabulary (and its size) come from the file
expect 0 "$pack" synth -o "$work/tokfrom.gguf" --tokenizer-from "$s260" --dim 32 --heads 2 --layers 1
expect 0 "$llm" -m "$work/tokfrom.gguf" -p "Once upon a time" -n 5 --ids --ignore-eos --seed 1
grep -q '^prompt: 5 tokens' "$work/err" || fail "tokenizer copied: $(cat "$work/err")"
for id in $(cat "$work/out"); do [ "$id" -lt 512 ] || fail "id $id outside the copied vocabulary"; done
expect 2 "$pack" synth -o "$work/x.gguf" --tokenizer-from "$s260" --vocab 600
expect 1 "$pack" synth -o "$work/x.gguf" --tokenizer-from "$work/junk.gguf"

[ $fails -eq 0 ] && echo "test_cli: ok" >&2
[ $fails -eq 0 ]
