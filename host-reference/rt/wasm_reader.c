/* wasm_reader.c: see wasm_reader.h. Every read is bounds-checked against
 * the enclosing section; the first problem sticks (r->bad) and every loop
 * stops on it, so a hostile count cannot make us spin. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wasm_reader.h"

typedef struct {
    const uint8_t *p;
    size_t pos, end;
    int bad;
    char *err;
    size_t errlen;
} rd;

static int fail(rd *r, const char *fmt, ...) {
    if (r->bad) return 0;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "%s at byte %zu", msg, r->pos);
    r->bad = 1;
    r->pos = r->end;
    return 0;
}

static uint8_t u8(rd *r) {
    if (r->bad) return 0;
    if (r->pos >= r->end) return (uint8_t)fail(r, "unexpected end of section");
    return r->p[r->pos++];
}

/* Unsigned/signed LEB128 of at most `bits` bits. */
static uint64_t leb(rd *r, int bits, int is_signed) {
    uint64_t v = 0;
    int shift = 0;
    for (;;) {
        uint8_t b = u8(r);
        if (r->bad) return 0;
        if (shift >= bits) return fail(r, "LEB128 number too long");
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && is_signed && (b & 0x40)) v |= ~(uint64_t)0 << shift;
            if (!is_signed && bits < 64 && shift > bits && (v >> bits))
                return fail(r, "LEB128 number out of range");
            return v;
        }
    }
}
static uint32_t u32(rd *r) { return (uint32_t)leb(r, 32, 0); }

static void skip(rd *r, size_t n) {
    if (r->bad) return;
    if (n > r->end - r->pos) { fail(r, "unexpected end of section"); return; }
    r->pos += n;
}

/* A count of items each at least min_size bytes long. */
static uint32_t count(rd *r, size_t min_size, const char *what) {
    uint32_t n = u32(r);
    if (!r->bad && (uint64_t)n * min_size > r->end - r->pos)
        return (uint32_t)fail(r, "%s count %u is larger than the section", what, n);
    return n;
}

static int utf8_ok(const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
        if (k == 9 || c == 0 || k > n - i - 1) return 0;
        uint32_t cp = k == 0 ? c : k == 1 ? c & 0x1f : k == 2 ? c & 0x0f : c & 0x07;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

static char *name(rd *r) {
    uint32_t n = u32(r);
    size_t at = r->pos;
    skip(r, n);
    if (r->bad) return NULL;
    if (!utf8_ok(r->p + at, n)) {
        r->pos = at;
        fail(r, "name is not valid UTF-8 (or contains NUL)");
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) { fail(r, "out of memory"); return NULL; }
    memcpy(s, r->p + at, n);
    s[n] = 0;
    return s;
}

static char valtype(rd *r) {
    uint8_t t = u8(r);
    switch (t) {
    case 0x7f: return 'i';
    case 0x7e: return 'I';
    case 0x7d: return 'f';
    case 0x7c: return 'F';
    case 0x70: return 'r';
    case 0x6f: return 'e';
    case 0x7b:
        r->pos--;
        return (char)fail(r, "the module uses SIMD (v128), which wasm2c 1.0.32 cannot "
                             "translate; rebuild the guest without -msimd128");
    default: r->pos--; return (char)fail(r, "unknown value type 0x%02x", t);
    }
}

static void limits(rd *r, uint32_t *min, uint32_t *max, uint32_t cap, const char *what) {
    uint8_t f = u8(r);
    if (f == 2 || f == 3) { fail(r, "shared %s (threads) is not supported", what); return; }
    if (f > 1) { fail(r, "%s limits flag 0x%02x (memory64?) is not supported", what, f); return; }
    *min = u32(r);
    *max = f ? u32(r) : cap;
    if (!r->bad && (*min > cap || *max > cap || *min > *max))
        fail(r, "%s limits %u..%u are invalid", what, *min, *max);
}

static void reftype(rd *r) {
    uint8_t t = u8(r);
    if (!r->bad && t != 0x70 && t != 0x6f) { r->pos--; fail(r, "unknown reference type 0x%02x", t); }
}

static void blocktype(rd *r) {
    if (r->bad) return;
    if (r->pos >= r->end) { fail(r, "unexpected end of section"); return; }
    uint8_t b = r->p[r->pos];
    if (b == 0x40) { r->pos++; return; }
    if (b >= 0x6f && b <= 0x7f) { valtype(r); return; }
    leb(r, 33, 1);   /* a type index */
}

/* One instruction's opcode and immediates. Returns the block depth change. */
static int instr(rd *r) {
    size_t at = r->pos;
    uint8_t op = u8(r);
    if (r->bad) return 0;
    switch (op) {
    case 0x02: case 0x03: case 0x04: blocktype(r); return 1;
    case 0x0b: return -1;
    case 0x00: case 0x01: case 0x05: case 0x0f: case 0x1a: case 0x1b: case 0xd1: return 0;
    case 0x0c: case 0x0d: case 0x10: case 0xd2:
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
        u32(r); return 0;
    case 0x0e: {
        uint32_t n = count(r, 1, "br_table target");
        for (uint32_t i = 0; i <= n && !r->bad; i++) u32(r);
        return 0;
    }
    case 0x11: u32(r); u32(r); return 0;
    case 0x1c: {
        uint32_t n = count(r, 1, "select type");
        for (uint32_t i = 0; i < n && !r->bad; i++) valtype(r);
        return 0;
    }
    case 0x3f: case 0x40:
        if (u8(r) != 0) fail(r, "memory index other than 0 (multi-memory) is not supported");
        return 0;
    case 0x41: leb(r, 32, 1); return 0;
    case 0x42: leb(r, 64, 1); return 0;
    case 0x43: skip(r, 4); return 0;
    case 0x44: skip(r, 8); return 0;
    case 0xd0: reftype(r); return 0;
    case 0x06: case 0x07: case 0x08: case 0x09: case 0x18: case 0x19:
        r->pos = at;
        return fail(r, "the module uses exception handling, which is not supported");
    case 0x12: case 0x13:
        r->pos = at;
        return fail(r, "the module uses tail calls, which wasm2c 1.0.32 cannot translate");
    case 0xfd:
        r->pos = at;
        return fail(r, "the module uses SIMD (v128), which wasm2c 1.0.32 cannot translate; "
                       "rebuild the guest without -msimd128");
    case 0xfe:
        r->pos = at;
        return fail(r, "the module uses atomics (threads), which are not supported");
    case 0xfc: {
        uint32_t sub = u32(r);
        if (sub <= 7) return 0;                                 /* saturating truncation */
        switch (sub) {
        case 8: u32(r); u8(r); return 0;                        /* memory.init */
        case 9: case 13: case 15: case 16: case 17: u32(r); return 0;
        case 10: u8(r); u8(r); return 0;                        /* memory.copy */
        case 11: u8(r); return 0;                               /* memory.fill */
        case 12: case 14: u32(r); u32(r); return 0;
        default: r->pos = at; return fail(r, "unknown opcode 0xfc %u", sub);
        }
    }
    default:
        if (op >= 0x28 && op <= 0x3e) {                         /* loads/stores: memarg */
            if (u32(r) >= 64) fail(r, "memory access with a memory index (multi-memory) is not supported");
            u32(r);
            return 0;
        }
        if (op >= 0x45 && op <= 0xc4) return 0;                 /* numeric, sign extension */
        r->pos = at;
        return fail(r, "unknown opcode 0x%02x", op);
    }
}

/* An instruction sequence up to and including its final `end`. */
static void expr(rd *r) {
    long depth = 1;
    while (depth > 0 && !r->bad) depth += instr(r);
}

typedef struct { char *sig; int start_shape; } functype;

static void read_types(rd *r, functype **types, uint32_t *nt) {
    uint32_t n = count(r, 3, "type");
    if (r->bad) return;
    *types = calloc(n ? n : 1, sizeof **types);
    if (!*types) { fail(r, "out of memory"); return; }
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        if (u8(r) != 0x60) { r->pos--; fail(r, "type %u is not a function type", i); return; }
        uint32_t np = count(r, 1, "parameter");
        char *s = r->bad ? NULL : malloc((size_t)np + 2);
        if (!s) { fail(r, "out of memory"); return; }
        (*types)[i].sig = s;
        *nt = i + 1;
        for (uint32_t k = 0; k < np && !r->bad; k++) s[k] = valtype(r);
        uint32_t nr = count(r, 1, "result");
        if (r->bad) return;
        s = realloc(s, (size_t)np + nr + 2);
        if (!s) { fail(r, "out of memory"); return; }
        (*types)[i].sig = s;
        s[np] = ':';
        for (uint32_t k = 0; k < nr && !r->bad; k++) s[np + 1 + k] = valtype(r);
        s[np + 1 + nr] = 0;
        (*types)[i].start_shape = np == 0 && nr == 0;
    }
}

static const char *section_name(int id) {
    static const char *names[] = {"custom", "type", "import", "function", "table", "memory",
                                  "global", "export", "start", "element", "code", "data",
                                  "data count", "tag"};
    return id >= 0 && id <= 13 ? names[id] : "unknown";
}

/* Wasm's required section order (custom sections may appear anywhere). */
static int section_rank(int id) {
    static const int rank[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
    return id >= 0 && id <= 13 ? rank[id] : -1;
}

/* Names in a module are the module author's text: a message quoting them
 * must stay one line and must not drive the operator's terminal. */
static void one_line(char *msg) {
    for (unsigned char *c = (unsigned char *)msg; *c; c++)
        if (*c < 0x20 || *c == 0x7f) *c = '?';
}

int wasm_read(const uint8_t *p, size_t n, wasm_info *w, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    w->mem_max = 65536;
    rd r = {.p = p, .pos = 0, .end = n, .err = err, .errlen = errlen};
    static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    if (n < 8 || memcmp(p, magic, 4) != 0) {
        snprintf(err, errlen, "not a WebAssembly module (bad magic number)");
        return 0;
    }
    if (memcmp(p + 4, magic + 4, 4) != 0) {
        snprintf(err, errlen, "unsupported WebAssembly version %u (only 1)",
                 p[4] | p[5] << 8 | p[6] << 16 | (unsigned)p[7] << 24);
        return 0;
    }
    r.pos = 8;
    functype *types = NULL;
    uint32_t ntypes = 0, nfuncs_imported = 0, nfuncs = 0, *func_type = NULL;
    uint32_t nmems = 0, code_count = 0;
    int last_rank = 0, have_code = 0;
    while (r.pos < n && !r.bad) {
        size_t sec_at = r.pos;
        int id = u8(&r);
        uint32_t size = u32(&r);
        if (r.bad) break;
        if (size > n - r.pos) { r.pos = sec_at; fail(&r, "section %d (%s) runs past the end of the module", id, section_name(id)); break; }
        if (id == 13) { r.pos = sec_at; fail(&r, "the module uses exception handling (tag section), which is not supported"); break; }
        if (section_rank(id) < 0) { r.pos = sec_at; fail(&r, "unknown section id %d", id); break; }
        if (id != 0) {
            if (section_rank(id) <= last_rank) { r.pos = sec_at; fail(&r, "section %d (%s) is out of order or repeated", id, section_name(id)); break; }
            last_rank = section_rank(id);
        }
        rd s = r;   /* the section's own reader */
        s.end = r.pos + size;
        switch (id) {
        case 0: { char *nm = name(&s); free(nm); s.pos = s.end; break; }
        case 1: read_types(&s, &types, &ntypes); break;
        case 2: {
            uint32_t k = count(&s, 4, "import");
            if (s.bad) break;
            w->imports = calloc(k ? k : 1, sizeof *w->imports);
            if (!w->imports) { fail(&s, "out of memory"); break; }
            for (uint32_t i = 0; i < k && !s.bad; i++) {
                wasm_import *im = &w->imports[i];
                w->n_imports = i + 1;
                im->module = name(&s);
                im->name = name(&s);
                im->kind = u8(&s);
                uint32_t a, b;
                switch (s.bad ? -1 : im->kind) {
                case -1: break;
                case WASM_EXTERN_FUNC: {
                    uint32_t t = u32(&s);
                    if (!s.bad && t >= ntypes) { fail(&s, "import %s.%s has type %u of %u", im->module, im->name, t, ntypes); break; }
                    if (!s.bad) im->sig = strdup(types[t].sig);
                    nfuncs_imported++;
                    break;
                }
                case WASM_EXTERN_TABLE: reftype(&s); limits(&s, &a, &b, UINT32_MAX, "table"); break;
                case WASM_EXTERN_MEMORY: limits(&s, &a, &b, 65536, "memory"); nmems++; break;
                case WASM_EXTERN_GLOBAL: valtype(&s); if (u8(&s) > 1) fail(&s, "bad global mutability"); break;
                case 4: fail(&s, "the module imports a tag (exception handling), which is not supported"); break;
                default: fail(&s, "import %s.%s has unknown kind %d", im->module, im->name, im->kind);
                }
            }
            break;
        }
        case 3: {
            nfuncs = count(&s, 1, "function");
            if (s.bad) break;
            func_type = calloc(nfuncs ? nfuncs : 1, sizeof *func_type);
            if (!func_type) { fail(&s, "out of memory"); break; }
            for (uint32_t i = 0; i < nfuncs && !s.bad; i++) {
                func_type[i] = u32(&s);
                if (!s.bad && func_type[i] >= ntypes) fail(&s, "function %u has type %u of %u", i, func_type[i], ntypes);
            }
            break;
        }
        case 4: {
            uint32_t k = count(&s, 2, "table");
            for (uint32_t i = 0; i < k && !s.bad; i++) { uint32_t a, b; reftype(&s); limits(&s, &a, &b, UINT32_MAX, "table"); }
            break;
        }
        case 5: {
            uint32_t k = count(&s, 2, "memory");
            for (uint32_t i = 0; i < k && !s.bad; i++) limits(&s, &w->mem_min, &w->mem_max, 65536, "memory");
            nmems += k;
            if (!s.bad && nmems > 1) fail(&s, "the module has %u memories (multi-memory is not supported)", nmems);
            break;
        }
        case 6: {
            uint32_t k = count(&s, 3, "global");
            for (uint32_t i = 0; i < k && !s.bad; i++) {
                valtype(&s);
                if (u8(&s) > 1) fail(&s, "bad global mutability");
                expr(&s);
            }
            break;
        }
        case 7: {
            uint32_t k = count(&s, 3, "export");
            for (uint32_t i = 0; i < k && !s.bad; i++) {
                char *nm = name(&s);
                int kind = u8(&s);
                uint32_t idx = u32(&s);
                if (!s.bad && kind > 3) fail(&s, "export %s has unknown kind %d", nm, kind);
                if (!s.bad && strcmp(nm, "memory") == 0 && kind == WASM_EXTERN_MEMORY) w->memory_exported = 1;
                if (!s.bad && strcmp(nm, "_start") == 0) {
                    w->start_exported = 1;
                    uint32_t total = nfuncs_imported + nfuncs;
                    if (kind == WASM_EXTERN_FUNC && idx >= total) fail(&s, "export _start names function %u of %u", idx, total);
                    else if (kind == WASM_EXTERN_FUNC && idx >= nfuncs_imported)
                        w->start_ok = types[func_type[idx - nfuncs_imported]].start_shape;
                }
                free(nm);
            }
            break;
        }
        case 8: u32(&s); break;
        case 9: {
            uint32_t k = count(&s, 1, "element segment");
            for (uint32_t i = 0; i < k && !s.bad; i++) {
                uint32_t flags = u32(&s);
                if (flags > 7) { fail(&s, "element segment flags %u", flags); break; }
                if (flags == 2 || flags == 6) u32(&s);                 /* table index */
                if (!(flags & 1)) expr(&s);                            /* active: offset */
                if (flags & 3) {                                       /* elemkind / reftype */
                    if (flags & 4) reftype(&s);
                    else if (u8(&s) != 0) fail(&s, "element kind must be 0");
                }
                uint32_t m = count(&s, 1, "element");
                for (uint32_t j = 0; j < m && !s.bad; j++) {
                    if (flags & 4) expr(&s);
                    else u32(&s);
                }
            }
            break;
        }
        case 12: u32(&s); break;
        case 10: {
            have_code = 1;
            code_count = count(&s, 2, "function body");
            if (!s.bad && code_count != nfuncs) { fail(&s, "%u function bodies for %u functions", code_count, nfuncs); break; }
            for (uint32_t i = 0; i < code_count && !s.bad; i++) {
                uint32_t sz = u32(&s);
                if (s.bad) break;
                if (sz > s.end - s.pos) { fail(&s, "function body %u runs past its section", i); break; }
                rd b = s;
                b.end = s.pos + sz;
                uint32_t groups = count(&b, 2, "local group");
                uint64_t locals = 0;
                for (uint32_t g = 0; g < groups && !b.bad; g++) {
                    locals += u32(&b);
                    valtype(&b);
                    if (locals > 50000) fail(&b, "function body %u declares %llu locals", i, (unsigned long long)locals);
                }
                expr(&b);
                if (!b.bad && b.pos != b.end) fail(&b, "function body %u has bytes after its final end", i);
                if (b.bad) { s.bad = 1; break; }
                s.pos = b.end;
            }
            break;
        }
        case 11: {
            uint32_t k = count(&s, 1, "data segment");
            for (uint32_t i = 0; i < k && !s.bad; i++) {
                uint32_t flags = u32(&s);
                if (flags > 2) { fail(&s, "data segment flags %u", flags); break; }
                if (flags == 2 && u32(&s) != 0) fail(&s, "data segment for memory other than 0");
                if (flags != 1) expr(&s);
                skip(&s, u32(&s));
            }
            break;
        }
        }
        if (!s.bad && s.pos != s.end) fail(&s, "section %d (%s) has %zu unread bytes", id, section_name(id), s.end - s.pos);
        if (s.bad) { r.bad = 1; break; }
        r.pos = s.end;
    }
    if (!r.bad && nfuncs && !have_code) {
        snprintf(err, errlen, "the module declares %u functions but has no code section", nfuncs);
        r.bad = 1;
    }
    for (uint32_t i = 0; i < ntypes; i++) free(types[i].sig);
    free(types);
    free(func_type);
    if (r.bad) {
        if (errlen) one_line(err);
        wasm_info_free(w);
        return 0;
    }
    return 1;
}

void wasm_info_free(wasm_info *w) {
    for (uint32_t i = 0; i < w->n_imports; i++) {
        free(w->imports[i].module);
        free(w->imports[i].name);
        free(w->imports[i].sig);
    }
    free(w->imports);
    memset(w, 0, sizeof *w);
}

int wasm_check_command(const wasm_info *w, char *err, size_t errlen) {
    if (!w->memory_exported) {
        snprintf(err, errlen, "the module does not export its memory as \"memory\" (not a WASI command)");
        return 0;
    }
    if (!w->start_exported) {
        snprintf(err, errlen, "the module has no \"_start\" export (not a WASI command; a reactor?)");
        return 0;
    }
    if (!w->start_ok) {
        snprintf(err, errlen, "the module's \"_start\" export is not a function () -> ()");
        return 0;
    }
    return 1;
}

static const char *type_name(char c) {
    switch (c) {
    case 'i': return "i32";
    case 'I': return "i64";
    case 'f': return "f32";
    case 'F': return "f64";
    case 'r': return "funcref";
    case 'e': return "externref";
    default: return "?";
    }
}

void wasm_sig_pretty(const char *sig, char *buf, size_t len) {
    size_t o = 0;
    const char *colon = strchr(sig, ':');
    size_t np = colon ? (size_t)(colon - sig) : strlen(sig);
    const char *res = colon ? colon + 1 : "";
    size_t nr = strlen(res);
    o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "(");
    for (size_t i = 0; i < np; i++)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", i ? "," : "", type_name(sig[i]));
    o += (size_t)snprintf(buf + o, o < len ? len - o : 0, ") -> %s", nr == 1 ? "" : "(");
    for (size_t i = 0; i < nr; i++)
        o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", i ? "," : "", type_name(res[i]));
    if (nr != 1) snprintf(buf + o, o < len ? len - o : 0, ")");
}

static const char *kind_name(int k) {
    return k == WASM_EXTERN_TABLE ? "table" : k == WASM_EXTERN_MEMORY ? "memory" : "global";
}

int wasm_check_imports(const wasm_info *w, const wlrt_import_table *tables, int n_tables,
                       char *err, size_t errlen) {
    for (uint32_t i = 0; i < w->n_imports; i++) {
        const wasm_import *im = &w->imports[i];
        if (im->kind != WASM_EXTERN_FUNC) {
            snprintf(err, errlen, "import %s.%s: %s imports are not supported (the host provides only functions)",
                     im->module, im->name, kind_name(im->kind));
            if (errlen) one_line(err);
            return 0;
        }
        const host_import *found = NULL;
        int module_known = 0;
        for (int t = 0; t < n_tables && !found; t++)
            for (size_t k = 0; k < tables[t].n && !found; k++) {
                const host_import *h = &tables[t].imports[k];
                if (strcmp(h->module, im->module) != 0) continue;
                module_known = 1;
                if (strcmp(h->name, im->name) == 0) found = h;
            }
        if (!found) {
            snprintf(err, errlen, "import %s.%s: %s", im->module, im->name,
                     module_known ? "the host does not provide this function"
                                  : "unknown import module (the host does not provide it)");
            if (errlen) one_line(err);
            return 0;
        }
        if (strcmp(found->sig, im->sig) != 0) {
            char a[128], b[128];
            wasm_sig_pretty(im->sig, a, sizeof a);
            wasm_sig_pretty(found->sig, b, sizeof b);
            snprintf(err, errlen, "import %s.%s: signature %s does not match host %s",
                     im->module, im->name, a, b);
            if (errlen) one_line(err);
            return 0;
        }
    }
    return 1;
}
