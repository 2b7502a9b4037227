/* json.h: a strict JSON (RFC 8259) reader and a small writer.
 *
 * Contract: json_parse() accepts exactly one JSON value (surrounded by
 * optional whitespace), rejects everything else (trailing commas, comments,
 * NaN, bad escapes, unpaired surrogates, invalid UTF-8, control characters
 * in strings, nesting deeper than JSON_MAX_DEPTH) with a one-line message
 * naming the problem and the byte offset. The whole tree lives in one arena
 * freed by json_free(). Strings are decoded to UTF-8 and NUL-terminated
 * (they may also contain NUL from \u0000: use .len). Duplicate object keys
 * are refused: two readers of one document must never disagree on it.
 * Portable C11, shared by host and guest.
 */
#ifndef WASMLET_JSON_H
#define WASMLET_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
typedef struct json_member json_member;

struct json_value {
    json_type type;
    bool boolean;
    double number;
    bool is_int;          /* number written without fraction/exponent and fits int64 */
    int64_t integer;      /* valid when is_int */
    const char *str;      /* JSON_STRING: decoded, NUL-terminated */
    size_t len;           /* string length, or element / member count */
    json_value *items;    /* JSON_ARRAY */
    json_member *members; /* JSON_OBJECT, in document order */
};

struct json_member {
    const char *key;
    size_t key_len;
    json_value value;
};

/* NULL on error (err filled). The result is freed with json_free. */
json_value *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(json_value *root);

/* Object member by key, or NULL (also NULL when v is not an object). */
const json_value *json_get(const json_value *v, const char *key);
const char *json_type_name(json_type t);

/* ---- writer: an append-only growable buffer with JSON escaping ---------- */
typedef struct {
    char *data;
    size_t len, cap;
    bool oom;             /* set on allocation failure; further appends ignored */
} json_buf;

void json_buf_free(json_buf *b);
void json_buf_raw(json_buf *b, const char *s, size_t n);
void json_buf_str(json_buf *b, const char *s, size_t n);   /* quoted, escaped */
void json_buf_cstr(json_buf *b, const char *s);            /* quoted, escaped */
void json_buf_u64(json_buf *b, uint64_t v);
void json_buf_i64(json_buf *b, int64_t v);
void json_buf_f64(json_buf *b, double v);                  /* shortest round-trip form */

#endif
