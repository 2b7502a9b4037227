#!/bin/sh
# wasmlet-llm --tokenize on vector files: every case of each .inp, fed on
# standard input, must print the ids of the same line of the .out; also -p,
# --bos, a bad flag and a missing file. Usage: cli_tokenize.sh WASMLET_LLM
set -u
bin="$1"
dir="${WASMLET_SHARED:-../shared}/tokenizer"
[ -f "$dir/ggml-vocab-llama-bpe.gguf" ] || { echo "SKIP: $dir missing"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0
for v in llama-spm llama-bpe; do
  g="$dir/ggml-vocab-$v.gguf"
  # Split the cases into files (awk: RS is the separator, last record empty).
  awk -v d="$tmp" 'BEGIN { RS = "\n__ggml_vocab_test__\n"; ORS = "" } { f = sprintf("%s/case%03d", d, NR); print > f; close(f) }' "$g.inp"
  n=0
  while IFS= read -r want; do
    n=$((n + 1))
    c="$(printf '%s/case%03d' "$tmp" "$n")"
    [ -f "$c" ] || : > "$c"
    got="$("$bin" -m "$g" --tokenize < "$c")" || { echo "FAIL $v case $n: exit status"; fail=1; continue; }
    want="${want# }"
    [ "$got" = "$want" ] || { echo "FAIL $v case $n: got '$got' want '$want'"; fail=1; }
  done < "$g.out"
  rm -f "$tmp"/case*
  echo "$v: $n cases"
done
g="$dir/ggml-vocab-llama-bpe.gguf"
[ "$("$bin" -m "$g" --tokenize -p "Hello world")" = "9906 1917" ] || { echo "FAIL -p"; fail=1; }
[ "$("$bin" -m "$g" --tokenize --bos -p "Hello world")" = "128000 9906 1917" ] || { echo "FAIL --bos"; fail=1; }
[ "$("$bin" -m "$g" --tokenize --special -p "<|eot_id|>")" = "128009" ] || { echo "FAIL --special"; fail=1; }
"$bin" -m "$g" --tokenize --bogus -p x 2>"$tmp/err"; [ $? -eq 2 ] && grep -q "unknown option" "$tmp/err" || { echo "FAIL bad flag"; fail=1; }
"$bin" -m "$tmp/none.gguf" --tokenize -p x 2>"$tmp/err"; [ $? -eq 1 ] && [ -s "$tmp/err" ] || { echo "FAIL missing file"; fail=1; }
"$bin" -m "$dir/ggml-vocab-llama-bpe.gguf.inp" --tokenize -p x 2>"$tmp/err"; [ $? -eq 1 ] && [ -s "$tmp/err" ] || { echo "FAIL not a gguf"; fail=1; }
exit $fail
