/* wasm_check.c: section-level walk of a wasm binary. See wasm_check.h. */
#include "wasm_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct { const uint8_t *p; size_t n, pos; } rd;

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static bool leb_u32(rd *r, uint32_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (r->pos >= r->n) return false;
        uint8_t b = r->p[r->pos++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (v > UINT32_MAX) return false;
            *out = (uint32_t)v;
            return true;
        }
    }
    return false;
}

static bool name(rd *r, const uint8_t **s, uint32_t *len) {
    if (!leb_u32(r, len) || *len > r->n - r->pos) return false;
    *s = r->p + r->pos;
    r->pos += *len;
    return true;
}

static bool limits(rd *r) {
    uint32_t flags, x;
    if (r->pos >= r->n) return false;
    flags = r->p[r->pos++];
    if (flags > 3 || !leb_u32(r, &x)) return false;
    return !(flags & 1) || leb_u32(r, &x);
}

/* Order of the non-custom sections: datacount (12) sits before code (10). */
static int rank(uint8_t id) {
    static const int order[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return id <= 12 ? order[id] : -1;
}

static bool imports(rd *r, size_t *count, char *err, size_t errlen) {
    uint32_t n;
    if (!leb_u32(r, &n)) return fail(err, errlen, "wasm: import section: bad count");
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *m, *f;
        uint32_t ml, fl, x;
        if (!name(r, &m, &ml) || !name(r, &f, &fl) || r->pos >= r->n)
            return fail(err, errlen, "wasm: import %u: truncated name", i);
        uint8_t kind = r->p[r->pos++];
        bool ok;
        switch (kind) {
        case 0: ok = leb_u32(r, &x); break;                                   /* func: type index */
        case 1: ok = r->pos < r->n && (r->pos++, limits(r)); break;           /* table */
        case 2: ok = limits(r); break;                                         /* memory */
        case 3: ok = r->pos + 2 <= r->n && (r->pos += 2, true); break;         /* global */
        default: ok = false;
        }
        if (!ok) return fail(err, errlen, "wasm: import %u (%.*s.%.*s): bad descriptor", i, (int)(ml > 64 ? 64 : ml), m,
                             (int)(fl > 64 ? 64 : fl), f);
    }
    *count = n;
    return true;
}

static bool has_start_export(rd *r, char *err, size_t errlen, bool *found) {
    uint32_t n;
    if (!leb_u32(r, &n)) return fail(err, errlen, "wasm: export section: bad count");
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s;
        uint32_t l, idx;
        if (!name(r, &s, &l) || r->pos >= r->n) return fail(err, errlen, "wasm: export %u: truncated", i);
        uint8_t kind = r->p[r->pos++];
        if (!leb_u32(r, &idx)) return fail(err, errlen, "wasm: export %u: bad index", i);
        if (kind == 0 && l == 6 && memcmp(s, "_start", 6) == 0) *found = true;
    }
    return true;
}

bool wasm_check(const uint8_t *p, size_t n, size_t *n_imports, char *err, size_t errlen) {
    rd r = {p, n, 8};
    if (n < 8 || memcmp(p, "\0asm", 4) != 0) return fail(err, errlen, "wasm: not a WebAssembly binary (bad magic)");
    if (memcmp(p + 4, "\1\0\0\0", 4) != 0) return fail(err, errlen, "wasm: unsupported binary version");
    int last = 0;
    bool start = false;
    *n_imports = 0;
    while (r.pos < n) {
        size_t at = r.pos;
        uint8_t id = p[r.pos++];
        uint32_t size;
        if (!leb_u32(&r, &size) || size > n - r.pos)
            return fail(err, errlen, "wasm: section at offset %zu: size runs past the end of the file", at);
        if (id != 0) {
            int k = rank(id);
            if (k < 0) return fail(err, errlen, "wasm: section at offset %zu: unknown section id %u", at, id);
            if (k <= last) return fail(err, errlen, "wasm: section %u at offset %zu: out of order or repeated", id, at);
            last = k;
        }
        rd s = {p + r.pos, size, 0};
        if (id == 0) {
            const uint8_t *nm;
            uint32_t nl;
            if (!name(&s, &nm, &nl)) return fail(err, errlen, "wasm: custom section at offset %zu: bad name", at);
        } else if (id == 2) {
            if (!imports(&s, n_imports, err, errlen)) return false;
            if (s.pos != s.n) return fail(err, errlen, "wasm: import section: %zu trailing bytes", s.n - s.pos);
        } else if (id == 7) {
            if (!has_start_export(&s, err, errlen, &start)) return false;
            if (s.pos != s.n) return fail(err, errlen, "wasm: export section: %zu trailing bytes", s.n - s.pos);
        }
        r.pos += size;
    }
    if (!start) return fail(err, errlen, "wasm: no exported function \"_start\" (not a WASI command module)");
    return true;
}
