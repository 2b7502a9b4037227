#!/bin/sh
# test_bench_cli.sh BIN_DIR WORK_DIR: the bench tools' command lines.
# A flag, an empty or type-named DIR, or an unknown type is refused with
# one line and exit 2 before anything is made (a flag taken for DIR used
# to create that folder and generate gigabytes of models in it); --help
# prints the usage, exit 0.
mkdir -p "$2" || exit 1
bin=$(cd "$1" && pwd) && work=$(cd "$2" && pwd) || exit 1
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect() {   # expect STATUS CMD...: exit status; a refusal is one line
    status="$1"; shift
    # a refusal is instant; making models is not (a regression times out)
    timeout 10 "$@" >"$work/out" 2>"$work/err"; got=$?
    [ "$got" -eq "$status" ] || fail "$* exited $got, expected $status ($(cat "$work/err"))"
    [ "$status" -eq 0 ] || [ "$(wc -l <"$work/err")" -eq 1 ] ||
        fail "$*: stderr is not one line: $(cat "$work/err")"
}
cd "$work" || exit 1
left="./-h ./--help ./-x ./--bogus ./all ./Q4_0 $work/models"
# shellcheck disable=SC2086
rm -rf $left
expect 0 "$bin/bench_engine" --help
grep -q "BENCH_RUNS" "$work/out" || fail "bench_engine --help does not list the environment"
expect 0 "$bin/bench_engine" -h
expect 0 "$bin/bench_startup" -h
grep -q "usage: bench_startup DIR" "$work/out" || fail "bench_startup -h prints no usage"
expect 0 "$bin/bench_startup" --help
expect 2 "$bin/bench_engine"
expect 2 "$bin/bench_engine" -x
expect 2 "$bin/bench_engine" --bogus Q4_0
expect 2 "$bin/bench_engine" ""
expect 2 "$bin/bench_engine" all
expect 2 "$bin/bench_engine" Q4_0 Q8_0
expect 2 "$bin/bench_engine" "$work/models" Q4_0 Q9_9
expect 2 "$bin/bench_startup"
expect 2 "$bin/bench_startup" -x
expect 2 "$bin/bench_startup" ""
for d in $left; do
    [ ! -e "$d" ] || fail "a refused command line left $d behind"
done
[ "$fails" -eq 0 ] && echo "bench cli: all checks passed"
exit "$fails"
