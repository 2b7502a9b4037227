#!/bin/sh
# test_bench_cli.sh BIN_DIR WORK_DIR: the bench tools' command lines.
# A flag or an unknown type is refused with one line and exit 2 before
# anything is made (a flag taken for DIR used to create that folder and
# generate gigabytes of models in it); --help prints the usage, exit 0.
bin="$1"; work="$2"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect() {   # expect STATUS CMD...: exit status; a refusal is one line
    status="$1"; shift
    timeout 20 "$@" >"$work/out" 2>"$work/err"; got=$?   # a refusal is instant; making models is not
    [ "$got" -eq "$status" ] || fail "$* exited $got, expected $status ($(cat "$work/err"))"
    [ "$status" -eq 0 ] || [ "$(wc -l <"$work/err")" -eq 1 ] || fail "$*: stderr is not one line: $(cat "$work/err")"
}
mkdir -p "$work" && cd "$work" || exit 1
rm -rf ./-x ./--bogus "$work/models"
expect 0 "$bin/bench_engine" --help
grep -q "BENCH_RUNS" "$work/out" || fail "bench_engine --help does not list the environment"
expect 0 "$bin/bench_startup" -h
grep -q "usage: bench_startup DIR" "$work/out" || fail "bench_startup -h prints no usage"
expect 2 "$bin/bench_engine" -x
expect 2 "$bin/bench_engine" --bogus Q4_0
expect 2 "$bin/bench_engine" "$work/models" Q4_0 Q9_9
expect 2 "$bin/bench_startup" -x
timeout 20 "$bin/bench_engine" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bench_engine without DIR did not exit 2"
for d in ./-x ./--bogus "$work/models"; do
    [ ! -e "$d" ] || fail "a refused command line left $d behind"
done
[ "$fails" -eq 0 ] && echo "bench cli: all checks passed"
exit "$fails"
