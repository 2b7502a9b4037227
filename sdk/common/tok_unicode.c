/* tok_unicode.c: code point flags and the UTF-8 conversions the
 * pre-tokenizers need. */
#include "tok_internal.h"

uint8_t tok_uflags(uint32_t cp) {
    if (cp < 256) return tok_ulatin1[cp];
    if (cp >= 0x110000) return 0;
    size_t lo = 0, hi = tok_urange_count;   /* last start <= cp */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tok_urange_start[mid] <= cp) lo = mid; else hi = mid;
    }
    return tok_urange_flags[lo];
}

/* Leniency matches llama.cpp: continuation bytes are checked, overlong forms
 * and surrogates are not. Lead bytes F5..FF would give code points past
 * U+10FFFF, which llama.cpp cannot re-encode; we treat them as invalid. */
size_t tok_utf8_to_cps(const uint8_t *s, size_t len, uint32_t *cps) {
    size_t n = 0, i = 0;
    while (i < len) {
        uint8_t b = s[i];
        if (b < 0x80) { cps[n++] = b; i++; continue; }
        size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
        bool ok = need != 0 && b < 0xF5 && i + need <= len;
        for (size_t k = 1; ok && k < need; k++) ok = (s[i + k] & 0xC0) == 0x80;
        if (!ok) { cps[n++] = 0xFFFD; i++; continue; }
        uint32_t cp = b & (0x7F >> need);
        for (size_t k = 1; k < need; k++) cp = (cp << 6) | (s[i + k] & 0x3F);
        if (cp > 0x10FFFF) { cps[n++] = 0xFFFD; i++; continue; }
        cps[n++] = cp;
        i += need;
    }
    return n;
}

size_t tok_cp_to_utf8(uint32_t cp, uint8_t *o) {
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12)); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18)); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}
