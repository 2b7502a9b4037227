#!/bin/sh
# The committed sdk/common/tok_unicode_tables.c must be what the generator
# makes from this machine's Unicode data (skips without python3 or the data).
# Usage: check_unicode_tables.sh SOURCE_DIR
src="$1"
ucd=/usr/share/unicode
[ -f "$ucd/UnicodeData.txt" ] && [ -f "$ucd/PropList.txt" ] || { echo "SKIP: no $ucd"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
python3 "$src/scripts/gen_unicode_tables.py" "$ucd" "$tmp" || exit 1
cmp -s "$tmp" "$src/sdk/common/tok_unicode_tables.c" || {
  echo "tok_unicode_tables.c is out of date: run scripts/gen_unicode_tables.py $ucd sdk/common/tok_unicode_tables.c"
  exit 1
}
echo "tables up to date"
