#!/usr/bin/env python3
"""Expected pre-tokenizer splits, computed with a real regex engine.

Writes tests/tokenizer/pretok_cases.txt: one line per (variant, input):
    VARIANT <TAB> HEX(UTF-8 input) <TAB> word lengths in code points, comma-separated
test_tok_pretok.c checks our hand-written matchers against it. The
expressions are llama.cpp's per tokenizer.ggml.pre (facts); the split
semantics are its unicode_regex_split: each expression in turn splits every
piece the previous ones produced, matches and the gaps between them both
becoming pieces. Expressions without \\p{..} run on a view where non-ASCII
whitespace is U+000B (llama.cpp feeds them to std::wregex that way).
Needs the `regex` module (pip's, or python3-regex). Inputs avoid code points
assigned after Unicode 15.0 and U+001C..U+001F, where engines differ.
"""
import sys
import regex

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
LLAMA3 = (r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|"
          r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")
DS_LETTERS = ("A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293"
              "\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c"
              "\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5"
              "\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77"
              "\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59"
              "\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc"
              "\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107"
              "\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139"
              "\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee"
              "\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e"
              "\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\U00010400-\U0001044f"
              "\U000104b0-\U000104d3\U000104d8-\U000104fb\U00010c80-\U00010cb2\U00010cc0-\U00010cf2"
              "\U000118a0-\U000118df\U0001e900-\U0001e943")
CJK = "[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"
PORO = " ?[^(\\s|.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c)]+"
CONTR = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
UPPER = r"((?=[\p{L}])([^a-z]))"
LOWER = r"((?=[\p{L}])([^A-Z]))"
TEKKEN = (r"[^\r\n\p{L}\p{N}]?" + UPPER + "*" + LOWER + r"+|[^\r\n\p{L}\p{N}]?" + UPPER + "+" + LOWER +
          r"*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
GPT4O = (r"[^\r\n\p{L}\p{N}]?" + UPPER + "*" + LOWER + "+" + CONTR + r"?|[^\r\n\p{L}\p{N}]?" + UPPER + "+" +
         LOWER + "*" + CONTR + r"?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
DS3 = (r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|"
       r" ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SEED = CONTR + r"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"
BAILING = (r"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
           r"\s*[\r\n]|\s+(?!\S)|\s+")

VARIANTS = {
    'default': [r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"],
    'gpt-2': [GPT2],
    'llama3': [LLAMA3],
    'qwen2': [QWEN2],
    'deepseek-llm': ["[\r\n]", "\\s?[" + DS_LETTERS + "]+",
                     "\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+",
                     r"\s+$", CJK, r"\p{N}+"],
    'deepseek-coder': ["[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", CJK, r"\p{N}"],
    'falcon': [r"[\p{P}\$\+<=>\^~\|`]+", GPT2, r"[0-9][0-9][0-9]"],
    'starcoder': [r"\p{N}", GPT2],
    'poro-chat': [PORO],
    'viking': [PORO, r"\p{N}"],
    'tekken': [TEKKEN],
    'gpt-4o': [GPT4O],
    'deepseek-v3': [r"\p{N}{1,3}", "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+", DS3],
    'seed-coder': [SEED],
    'bailingmoe': [BAILING],
}

INPUTS = [
    "Hello world", " Hello  World!", "\n\n\n", "\t\n", "  \n  x", "a\r\nb\r\n\r\n  c",
    "It's we'RE they'll I'D 'S ' 'x", "1234567 89 0", "x=12345;y=6", "3.14159 and 2,718",
    "def f(x):\n    return x**2  # square\n", "if (a<=b && c!=d) { z ^= ~y | w; }",
    "\u00a1Hola! \u00bfQu\u00e9 tal? \u00d1and\u00fa", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!",
    "\u4f60\u597d\u4e16\u754c\uff0c\u6211\u662f\u4eba\u3002 \uac00\ub098\ub2e4 \u3042\u3044\u3046",
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e\u0964 \u0645\u0631\u062d\u0628\u0627\u060c \u0639\u0627\u0644\u0645",
    "\U0001f600 \U0001f680\U0001f30d \u2764\ufe0f \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "tab\tsep\u00a0nbsp\u3000ideo\u2003em", "   leading and trailing   ", "x   ", "   ",
    "\u03b1\u03b2\u03b3 \u1f7d\u1fbe\u2126\u212a \uff21\uff22\uff43\uff01\uff1f", "\u2018quoted\u2019 \u201cdouble\u201d \u2026",
    "\u0660\u0661\u0662 \u2460\u2461 \u00bd \u2167", "MixedCASE_snake-case kebab.dot/slash\\back",
    "$$$ +++ <<>> ^^ ~~ || ``", "a.b,c!d?e(f)g|h", "\u00e9\u0301 combining", "\x00\x01 ctrl \x7f",
    "\ufffd replacement", "line1\nline2\n\nline4\n", "  \t  \n\t\t", "word\u3000\u3000word",
    "HelloWorld ABCdef camelCaseWord XMLHttpRequest iPhone ALLCAPS x", "\u00c0\u00c9\u00ce\u00f5\u00fc \u0391\u0392\u0393\u03b1\u03b2\u03b3 \u00c9cole",
    "DON'T don't I'M You'RE we'Ll", "path/to/file.txt // comment /*x*/\n", "a/\n/\r\nb ++/ --",
    "e\u0301t\u00e9 \u0915\u093f\u0924\u093e\u092c \u05e9\u05b8\u05c1\u05dc\u05d5\u05b9\u05dd", "_private __dunder__ @decorator #hash",
    "\u3053\u3093\u306b\u3061\u306f\u4e16\u754c\u30ab\u30bf\u30ab\u30ca\u6f22\u5b57", "12345678901 3.14e-10 0x1F",
]


def ws_view(s):
    return ''.join('\x0b' if ord(c) > 0x7f and regex.match(r'\p{White_Space}', c) else c for c in s)


def compile_rx(rx):
    rx = rx.replace(r'\s', r'\p{White_Space}').replace(r'\S', r'\P{White_Space}')
    if rx.endswith('$'):
        rx = rx[:-1] + r'\Z'
    return regex.compile(rx, regex.V0)


def split(text, exprs):
    offsets = [len(text)] if text else []
    for rx in exprs:
        view = text if r'\p{' in rx else ws_view(text)
        c = compile_rx(rx)
        out, start = [], 0
        for off in offsets:
            seg, pos = view[start:start + off], 0
            for m in c.finditer(seg):
                if m.end() == m.start():
                    continue
                if m.start() > pos:
                    out.append(m.start() - pos)
                out.append(m.end() - m.start())
                pos = m.end()
            if pos < off:
                out.append(off - pos)
            start += off
        offsets = out
    return offsets


def main():
    lines = []
    for name, exprs in VARIANTS.items():
        for s in INPUTS:
            lens = split(s, exprs)
            assert sum(lens) == len(s)
            lines.append('%s\t%s\t%s' % (name, s.encode('utf-8').hex(), ','.join(map(str, lens))))
    text = '\n'.join(lines) + '\n'
    if len(sys.argv) > 1:
        open(sys.argv[1], 'w').write(text)
    else:
        sys.stdout.write(text)


if __name__ == '__main__':
    main()
