#!/bin/bash
# bench_guest.sh: generation through a guest (complete.wasm on wasmlet-run,
# streamed and whole) against the engine CLI alone (wasmlet-llm), same
# model and settings. Startup differs between the two, so the figure is the
# marginal cost per token: (time for N2 tokens - time for N1) / (N2 - N1),
# each the median of RUNS runs. A benchmark, never a test. On a tiny model
# a token is a fraction of a millisecond and the CLI and the host may differ
# in per-token bookkeeping: set BENCH_MODEL to a real model for the figure
# that matters.
set -u
G=${WASMLET_GUESTS:?} S=${WASMLET_SHARED:?} B=${WASMLET_BIN:?}
M=${BENCH_MODEL:-$S/models/stories260K.gguf}
RUNS=${BENCH_RUNS:-5} N1=64 N2=512 T=${BENCH_THREADS:-2}
[ -f "$M" ] || { echo "bench-sdk: $M missing"; exit 0; }
"$B/wasmlet-run" --help 2>&1 | grep -q -- --nn-preload || { echo "bench-sdk: wasmlet-run has no --nn-preload yet"; exit 0; }

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ns() {   # command... -> median wall time in ns
  for _ in $(seq "$RUNS"); do
    local s; s=$(now); "$@" >/dev/null 2>&1; echo $(( $(now) - s ))
  done | median
}
cli() { "$B/wasmlet-llm" -m "$M" -p "" -n "$1" --temp 0 --ignore-eos -c 600 -t "$T"; }
guest() { local n=$1; shift
  "$B/wasmlet-run" --nn-preload "default:GGML:AUTO:$M" "$G/complete.wasm" default "" --n-predict "$n" \
    --temp 0 --ignore-eos --ctx-size 600 --threads "$T" "$@"; }
guest 1 >/dev/null 2>&1   # translate + compile into the cache first

printf '%-16s %12s %12s %14s %10s\n' "path" "t($N1) ms" "t($N2) ms" "us/token" "overhead"
base=""
for what in cli guest-stream guest-whole; do
  case $what in
    cli) a=$(time_ns cli $N1); b=$(time_ns cli $N2);;
    guest-stream) a=$(time_ns guest $N1 --stream); b=$(time_ns guest $N2 --stream);;
    guest-whole) a=$(time_ns guest $N1); b=$(time_ns guest $N2);;
  esac
  per=$(( (b - a) / (N2 - N1) ))
  [ -z "$base" ] && base=$per
  over=$(awk -v p="$per" -v q="$base" 'BEGIN { printf "%+.1f%%", (p - q) * 100 / q }')
  awk -v w="$what" -v a="$a" -v b="$b" -v p="$per" -v o="$over" \
    'BEGIN { printf "%-16s %12.1f %12.1f %14.1f %10s\n", w, a / 1e6, b / 1e6, p / 1e3, o }'
done
