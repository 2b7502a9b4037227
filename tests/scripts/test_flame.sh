#!/bin/sh
# scripts/flame.py on a hand-written `perf script` text: exact folded
# counts, frame widths in proportion, and bad input refused in one line
# with no output file left. Usage: test_flame.sh SOURCE_DIR
src="$1"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
t="$(mktemp -d)"
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Three samples of one stack, one of another, one without frames (skipped);
# a header right after a sample's frames and the end of the text also end a
# sample.
cat > "$t/in.txt" <<'P'
app  100 10.000001:    1000 cpu-clock:ppp: 
	    10d04 kernel_a+0x1d4 (/bin/app)
	     90cc worker+0xaac (/bin/app)
	     9419 start+0x89 (/bin/app)

app  100 10.000002:    1000 cpu-clock:ppp: 
	    10d05 kernel_a+0x1d5 (/bin/app)
	     90cc worker+0xaac (/bin/app)
	     9419 start+0x89 (/bin/app)
app  101 10.000003:    1000 cpu-clock:ppp: 
app  100 10.000004:    1000 cpu-clock:ppp: 
	ffffffff815a7f61 clear_page+0xc1 ([kernel.kallsyms])
	     9419 start+0x89 (/bin/app)

app  100 10.000005:    1000 cpu-clock:ppp: 
	    10d04 kernel_a+0x1d4 (/bin/app)
	     90cc worker+0xaac (/bin/app)
	     9419 start+0x89 (/bin/app)
P
python3 "$src/scripts/flame.py" --title "t" -o "$t/out.svg" --folded "$t/out.folded" "$t/in.txt" \
  || fail "flame.py refused a good input"
printf 'start;clear_page 1\nstart;worker;kernel_a 3\n' > "$t/want.folded"
cmp -s "$t/out.folded" "$t/want.folded" || { cat "$t/out.folded"; fail "folded stacks differ"; }
grep -q '<title>all (4 samples, 100.0%)</title>' "$t/out.svg" || fail "root frame"
grep -q '^<rect width="100%" height="100%" fill=' "$t/out.svg" || fail "background: $(sed -n 3p "$t/out.svg")"
grep -q '%%' "$t/out.svg" && fail "a doubled % in the SVG"
# siblings in name order, each as wide as its share of 1200 px
grep -q '<title>clear_page (1 sample, 25.0%)</title><rect x="10.0" y="[0-9]*" width="300.0"' "$t/out.svg" \
  || fail "clear_page's frame is not the first 1/4"
grep -q '<title>worker (3 samples, 75.0%)</title><rect x="310.0" y="[0-9]*" width="900.0"' "$t/out.svg" \
  || fail "worker's frame is not the last 3/4"
grep -q '<title>kernel_a (3 samples, 75.0%)</title><rect x="310.0" y="[0-9]*" width="900.0"' "$t/out.svg" \
  || fail "kernel_a is not on top of worker"

# Bad inputs: one line on stderr, exit non-zero, no output file.
expect_refusal() {   # WHAT PATTERN ARGS...
  what="$1" pat="$2"; shift 2
  rm -f "$t/bad.svg" "$t/bad.svg.tmp"
  if python3 "$src/scripts/flame.py" -o "$t/bad.svg" "$@" 2> "$t/err"; then fail "$what: accepted"; fi
  [ "$(wc -l < "$t/err")" -eq 1 ] || { cat "$t/err"; fail "$what: not one line"; }
  grep -q "$pat" "$t/err" || { cat "$t/err"; fail "$what: message"; }
  [ ! -e "$t/bad.svg" ] && [ ! -e "$t/bad.svg.tmp" ] || fail "$what: left an output file"
}
grep -v '^	' "$t/in.txt" > "$t/noframes.txt"
expect_refusal "no call chains" "no samples with call chains" "$t/noframes.txt"
: > "$t/empty.txt"
expect_refusal "empty input" "no samples" "$t/empty.txt"
expect_refusal "missing input" "$t/missing.txt" "$t/missing.txt"
mkdir "$t/dir.svg"
if python3 "$src/scripts/flame.py" -o "$t/dir.svg" "$t/in.txt" 2> "$t/err"; then fail "a folder as output: accepted"; fi
[ "$(wc -l < "$t/err")" -eq 1 ] && grep -q 'dir.svg' "$t/err" || { cat "$t/err"; fail "a folder as output: message"; }
[ ! -e "$t/dir.svg.tmp" ] || fail "a folder as output: left its temporary file"
echo "flame.py ok"
