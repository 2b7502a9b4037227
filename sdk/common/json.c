/* json.c: strict JSON reader (recursive descent into an arena) and writer.
 * See json.h for the contract. */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ------------------------------------------------------------
 * Chunks are chained; the root value lives in the first chunk, so freeing
 * the root's chunk list frees everything. */
typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    max_align_t data[];
} chunk;

typedef struct {
    const char *s;
    size_t n, pos;
    int depth;
    chunk *head;
    char *err;
    size_t errlen;
    bool failed;
} parser;

static void *arena_alloc(parser *p, size_t size) {
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!p->head || p->head->cap - p->head->used < size) {
        size_t cap = size > 16384 ? size : 16384;
        chunk *c = malloc(sizeof(chunk) + cap);
        if (!c) return NULL;
        c->next = p->head;
        c->used = 0;
        c->cap = cap;
        p->head = c;
    }
    void *r = (char *)p->head->data + p->head->used;
    p->head->used += size;
    return r;
}

static void arena_free(chunk *c) {
    while (c) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
}

static bool fail(parser *p, const char *fmt, ...) {
    if (p->failed) return false;
    p->failed = true;
    if (p->err && p->errlen) {
        char msg[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(p->err, p->errlen, "json: %s at offset %zu", msg, p->pos);
    }
    return false;
}

static void skip_ws(parser *p) {
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static bool literal(parser *p, const char *word) {
    size_t k = strlen(word);
    if (p->n - p->pos < k || memcmp(p->s + p->pos, word, k) != 0)
        return fail(p, "invalid literal");
    p->pos += k;
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(parser *p, unsigned *out) {
    if (p->n - p->pos < 4) return fail(p, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + i]);
        if (h < 0) return fail(p, "bad hex digit in \\u escape");
        v = v << 4 | (unsigned)h;
    }
    p->pos += 4;
    *out = v;
    return true;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 63));
        o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 63));
    o[2] = (char)(0x80 | (cp >> 6 & 63)); o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* Length of one valid UTF-8 sequence at s (n bytes left), or 0 if invalid
 * (overlong forms, surrogates and values past U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t k;
    unsigned cp, min;
    if ((c & 0xE0) == 0xC0) { k = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { k = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { k = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return k;
}

/* Parses a string at p->pos (which is at the opening quote). The decoded
 * form is never longer than the source, so one allocation of the source
 * length suffices. */
static bool parse_string(parser *p, const char **out, size_t *out_len) {
    size_t start = ++p->pos, end = start;
    while (end < p->n && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n) return fail(p, "unterminated string");
    char *o = arena_alloc(p, end - start + 1);
    if (!o) return fail(p, "out of memory");
    size_t k = 0;
    while (p->s[p->pos] != '"') {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) return fail(p, "control character in string");
        if (c != '\\') {
            size_t l = utf8_len((const unsigned char *)p->s + p->pos, p->n - p->pos);
            if (!l) return fail(p, "invalid UTF-8 in string");
            memcpy(o + k, p->s + p->pos, l);
            k += l;
            p->pos += l;
            continue;
        }
        p->pos++;
        char e = p->s[p->pos++];
        switch (e) {
        case '"': o[k++] = '"'; break;
        case '\\': o[k++] = '\\'; break;
        case '/': o[k++] = '/'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!read_hex4(p, &cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(p, "unpaired low surrogate");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (p->n - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                    return fail(p, "unpaired high surrogate");
                p->pos += 2;
                if (!read_hex4(p, &lo)) return false;
                if (lo < 0xDC00 || lo > 0xDFFF) return fail(p, "unpaired high surrogate");
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            k += put_utf8(o + k, cp);
            break;
        }
        default:
            p->pos--;
            return fail(p, "invalid escape '\\%c'", e);
        }
    }
    p->pos++;
    o[k] = 0;
    *out = o;
    *out_len = k;
    return true;
}

static bool parse_number(parser *p, json_value *v) {
    size_t start = p->pos;
    const char *s = p->s;
    size_t i = p->pos;
    bool integral = true;
    if (i < p->n && s[i] == '-') i++;
    if (i >= p->n) return fail(p, "truncated number");
    if (s[i] == '0') i++;
    else if (s[i] >= '1' && s[i] <= '9') while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    else { p->pos = i; return fail(p, "digit expected after '-'"); }
    if (i < p->n && s[i] == '.') {
        integral = false;
        i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9') { p->pos = i; return fail(p, "digit expected after '.'"); }
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        integral = false;
        i++;
        if (i < p->n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9') { p->pos = i; return fail(p, "digit expected in exponent"); }
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    /* strtod needs a terminated copy: the source may not be NUL-terminated. */
    char tmp[64];
    size_t len = i - start;
    char *buf = len < sizeof tmp ? tmp : malloc(len + 1);
    if (!buf) return fail(p, "out of memory");
    memcpy(buf, s + start, len);
    buf[len] = 0;
    v->type = JSON_NUMBER;
    v->number = strtod(buf, NULL);
    if (integral) {
        errno = 0;
        long long ll = strtoll(buf, NULL, 10);
        if (errno == 0) { v->is_int = true; v->integer = ll; }
    }
    if (buf != tmp) free(buf);
    if (!isfinite(v->number)) return fail(p, "number out of range");
    p->pos = i;
    return true;
}

static bool parse_value(parser *p, json_value *v);

/* Elements are gathered in a temporary growable array, then copied into
 * the arena at their final size. */
static bool parse_array(parser *p, json_value *v) {
    p->pos++;
    v->type = JSON_ARRAY;
    json_value *tmp = NULL;
    size_t n = 0, cap = 0;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == ']') { p->pos++; return true; }
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            json_value *t = realloc(tmp, cap * sizeof *t);
            if (!t) { free(tmp); return fail(p, "out of memory"); }
            tmp = t;
        }
        memset(&tmp[n], 0, sizeof tmp[n]);
        if (!parse_value(p, &tmp[n])) { free(tmp); return false; }
        n++;
        skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->n && p->s[p->pos] == ']') { p->pos++; break; }
        free(tmp);
        return fail(p, "',' or ']' expected");
    }
    v->items = arena_alloc(p, n * sizeof *tmp);
    if (!v->items) { free(tmp); return fail(p, "out of memory"); }
    memcpy(v->items, tmp, n * sizeof *tmp);
    v->len = n;
    free(tmp);
    return true;
}

static bool parse_object(parser *p, json_value *v) {
    p->pos++;
    v->type = JSON_OBJECT;
    json_member *tmp = NULL;
    size_t n = 0, cap = 0;
    skip_ws(p);
    if (p->pos < p->n && p->s[p->pos] == '}') { p->pos++; return true; }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->n || p->s[p->pos] != '"') { free(tmp); return fail(p, "object key expected"); }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            json_member *t = realloc(tmp, cap * sizeof *t);
            if (!t) { free(tmp); return fail(p, "out of memory"); }
            tmp = t;
        }
        memset(&tmp[n], 0, sizeof tmp[n]);
        size_t key_at = p->pos;
        if (!parse_string(p, &tmp[n].key, &tmp[n].key_len)) { free(tmp); return false; }
        for (size_t i = 0; i < n; i++) {
            if (tmp[i].key_len == tmp[n].key_len && memcmp(tmp[i].key, tmp[n].key, tmp[n].key_len) == 0) {
                const char *dup = tmp[n].key;   /* lives in the arena */
                free(tmp);
                p->pos = key_at;
                return fail(p, "duplicate key \"%.40s\"", dup);
            }
        }
        skip_ws(p);
        if (p->pos >= p->n || p->s[p->pos] != ':') { free(tmp); return fail(p, "':' expected"); }
        p->pos++;
        if (!parse_value(p, &tmp[n].value)) { free(tmp); return false; }
        n++;
        skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] == ',') { p->pos++; continue; }
        if (p->pos < p->n && p->s[p->pos] == '}') { p->pos++; break; }
        free(tmp);
        return fail(p, "',' or '}' expected");
    }
    v->members = arena_alloc(p, n * sizeof *tmp);
    if (!v->members) { free(tmp); return fail(p, "out of memory"); }
    memcpy(v->members, tmp, n * sizeof *tmp);
    v->len = n;
    free(tmp);
    return true;
}

static bool parse_value(parser *p, json_value *v) {
    skip_ws(p);
    if (p->pos >= p->n) return fail(p, "value expected");
    if (++p->depth > JSON_MAX_DEPTH) return fail(p, "nesting deeper than %d", JSON_MAX_DEPTH);
    bool ok;
    switch (p->s[p->pos]) {
    case '{': ok = parse_object(p, v); break;
    case '[': ok = parse_array(p, v); break;
    case '"': v->type = JSON_STRING; ok = parse_string(p, &v->str, &v->len); break;
    case 't': v->type = JSON_BOOL; v->boolean = true; ok = literal(p, "true"); break;
    case 'f': v->type = JSON_BOOL; v->boolean = false; ok = literal(p, "false"); break;
    case 'n': v->type = JSON_NULL; ok = literal(p, "null"); break;
    default:
        if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
            ok = parse_number(p, v);
        else if ((unsigned char)p->s[p->pos] >= 0x21 && (unsigned char)p->s[p->pos] < 0x7f)
            ok = fail(p, "value expected, found '%c'", p->s[p->pos]);
        else
            ok = fail(p, "value expected, found byte 0x%02x", (unsigned char)p->s[p->pos]);
        break;
    }
    p->depth--;
    return ok;
}

/* The root value is allocated first in the arena, and the chunk chain is
 * recovered from a hidden header stored just before it. */
typedef struct { chunk *chain; json_value root; } root_box;

json_value *json_parse(const char *text, size_t len, char *err, size_t errlen) {
    parser p = { .s = text, .n = len, .err = err, .errlen = errlen };
    if (err && errlen) err[0] = 0;
    if (!text && len) { snprintf(err, errlen, "json: no input"); return NULL; }
    root_box *box = arena_alloc(&p, sizeof *box);
    if (!box) { snprintf(err, errlen, "json: out of memory"); return NULL; }
    memset(box, 0, sizeof *box);
    bool ok = parse_value(&p, &box->root);
    if (ok) {
        skip_ws(&p);
        if (p.pos != p.n) ok = fail(&p, "trailing characters after the value");
    }
    if (!ok) { arena_free(p.head); return NULL; }
    box->chain = p.head;
    return &box->root;
}

void json_free(json_value *root) {
    if (!root) return;
    root_box *box = (root_box *)((char *)root - offsetof(root_box, root));
    arena_free(box->chain);
}

const json_value *json_get(const json_value *v, const char *key) {
    if (!v || v->type != JSON_OBJECT) return NULL;
    size_t k = strlen(key);
    for (size_t i = 0; i < v->len; i++)
        if (v->members[i].key_len == k && memcmp(v->members[i].key, key, k) == 0)
            return &v->members[i].value;
    return NULL;
}

const char *json_type_name(json_type t) {
    static const char *names[] = { "null", "boolean", "number", "string", "array", "object" };
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* ---- writer ----------------------------------------------------------- */
void json_buf_free(json_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void json_buf_raw(json_buf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n + 1) {
            if (cap > SIZE_MAX / 2) { b->oom = true; return; }
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (!d) { b->oom = true; return; }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void json_buf_str(json_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    json_buf_raw(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
                u[4] = hex[c >> 4]; u[5] = hex[c & 15]; u[6] = 0;
                esc = u;
            }
        }
        if (!esc) continue;
        json_buf_raw(b, s + run, i - run);
        json_buf_raw(b, esc, strlen(esc));
        run = i + 1;
    }
    json_buf_raw(b, s + run, n - run);
    json_buf_raw(b, "\"", 1);
}

void json_buf_cstr(json_buf *b, const char *s) { json_buf_str(b, s, strlen(s)); }

void json_buf_u64(json_buf *b, uint64_t v) {
    char t[24];
    int k = snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    json_buf_raw(b, t, (size_t)k);
}

void json_buf_i64(json_buf *b, int64_t v) {
    char t[24];
    int k = snprintf(t, sizeof t, "%lld", (long long)v);
    json_buf_raw(b, t, (size_t)k);
}

void json_buf_f64(json_buf *b, double v) {
    if (!isfinite(v)) { json_buf_raw(b, "null", 4); return; }
    char t[32];
    /* The shortest %g precision that reads back to the same double. */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v) break;
    }
    json_buf_raw(b, t, strlen(t));
}
