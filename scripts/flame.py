#!/usr/bin/env python3
"""flame.py: a flame graph (SVG) from `perf script` call chains.

    perf record -F 999 --call-graph fp -o perf.data CMD...   (frame pointers:
                                       ./dev.sh build profile)
    perf script -i perf.data | scripts/flame.py --title "..." -o flame.svg

Each sample of `perf script` is a header line, then one frame per line
(innermost first), then a blank line. Stacks are folded root-first; the
graph is drawn root at the bottom, each frame as wide as its share of the
samples, so the wide towers are where the time goes. `--folded FILE` also
writes the folded stacks ("a;b;c count" lines), which diff well between
two runs. Frames narrower than --min-percent are left out of the picture
(not of the totals). Only the standard library: it must run on a fresh
Debian machine.
"""
import argparse
import collections
import hashlib
import html
import io
import os
import re
import sys

FRAME = re.compile(r"^\s+[0-9a-f]+\s+(.*?)\s*(\(.*\))?$")


def frame_name(line):
    """'\t  10d04 kn_pack+0x1d4 (/path/bin)' -> 'kn_pack'; None if not a frame."""
    m = FRAME.match(line)
    if not m:
        return None
    sym = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1)) or "[unknown]"
    return sym.replace(";", ":")   # ';' separates frames in the folded form


def fold(lines):
    """Folded stacks (root first) and their sample counts. A sample starts
    at a line in column 0 (its header); its frames are the indented lines
    after it. Samples without frames (recorded without -g) are skipped."""
    counts = collections.Counter()
    stack = []

    def flush():
        if stack:
            counts[";".join(reversed(stack))] += 1
        stack.clear()

    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip():
            flush()
        elif not line[0].isspace():
            flush()
        else:
            name = frame_name(line)
            if name is not None:
                stack.append(name)
    flush()
    return counts


class Node:
    __slots__ = ("name", "count", "children")

    def __init__(self, name):
        self.name, self.count, self.children = name, 0, {}


def tree(counts):
    root = Node("all")
    for stack, n in counts.items():
        root.count += n
        node = root
        for name in stack.split(";"):
            node = node.children.setdefault(name, Node(name))
            node.count += n
    return root


def colour(name):
    """Warm colours, stable per name (so two graphs compare by eye)."""
    h = hashlib.md5(name.encode()).digest()
    return "rgb(%d,%d,%d)" % (205 + h[0] % 50, 80 + h[1] % 130, 40 + h[2] % 40)


def svg(root, title, min_percent):
    width, row, top = 1200.0, 17, 40
    depth = 0

    def height(node, d):
        nonlocal depth
        depth = max(depth, d)
        for c in node.children.values():
            if 100.0 * c.count / root.count >= min_percent:
                height(c, d + 1)

    height(root, 0)
    total_h = top + (depth + 1) * row + 10
    out = ['<?xml version="1.0" standalone="no"?>',
           '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="monospace" font-size="11">' % (width + 20, total_h),
           '<rect width="100%" height="100%" fill="#fafaf5"/>',
           '<text x="10" y="20" font-size="15">%s</text>' % html.escape(title),
           '<text x="10" y="34" fill="#555">%d samples; hover a frame for its share'
           '</text>' % root.count]

    def draw(node, x, d):
        w = width * node.count / root.count
        y = total_h - 10 - (d + 1) * row
        pct = 100.0 * node.count / root.count
        label = "%s (%d sample%s, %.1f%%)" % (node.name, node.count, "s"[node.count == 1:], pct)
        out.append('<g><title>%s</title><rect x="%.1f" y="%d" width="%.1f" height="%d" '
                   'fill="%s" stroke="#fafaf5" stroke-width="0.5"/>'
                   % (html.escape(label), 10 + x, y, w, row - 1, colour(node.name)))
        chars = int(w / 7)
        if chars >= 3:
            text = node.name if len(node.name) <= chars else node.name[:chars - 2] + ".."
            out.append('<text x="%.1f" y="%d">%s</text>' % (13 + x, y + row - 5, html.escape(text)))
        out.append("</g>")
        cx = x
        for c in sorted(node.children.values(), key=lambda c: c.name):
            if 100.0 * c.count / root.count >= min_percent:
                draw(c, cx, d + 1)
            cx += width * c.count / root.count

    draw(root, 0.0, 0)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", nargs="?", help="perf script output (default: stdin)")
    ap.add_argument("-o", "--output", required=True, help="SVG to write")
    ap.add_argument("--title", default="flame graph")
    ap.add_argument("--folded", help="also write the folded stacks here")
    ap.add_argument("--min-percent", type=float, default=0.1)
    a = ap.parse_args()
    try:
        src = (open(a.input, encoding="utf-8", errors="replace") if a.input else
               io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace"))
        counts = fold(src)
    except OSError as e:
        sys.exit("flame.py: %s: %s" % (a.input, e.strerror))
    if not counts:
        sys.exit("flame.py: %s: no samples with call chains (record with --call-graph)"
                 % (a.input or "stdin"))
    outputs = [(a.output, svg(tree(counts), a.title, a.min_percent))]
    if a.folded:
        outputs.append((a.folded, "".join("%s %d\n" % (stack, n) for stack, n in sorted(counts.items()))))
    for path, text in outputs:   # whole files or none: written aside, then renamed
        tmp = path + ".tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except OSError as e:
            if os.path.exists(tmp):
                os.unlink(tmp)
            sys.exit("flame.py: %s: %s" % (path, e.strerror))


if __name__ == "__main__":
    main()
