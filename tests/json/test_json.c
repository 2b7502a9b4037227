/* Tests for the strict JSON reader and the writer (sdk/common/json.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "json.h"

static int failures, checks;
#define CHECK(c) do { checks++; if (!(c)) { failures++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

static json_value *parse(const char *s, char *err) {
    return json_parse(s, strlen(s), err, 200);
}

/* Parses s, expects failure whose message contains want. */
static void bad(const char *s, const char *want) {
    char err[200];
    json_value *v = parse(s, err);
    checks++;
    if (v || !strstr(err, want)) {
        failures++;
        fprintf(stderr, "bad input %s: got %s, want error containing '%s'\n", s,
                v ? "success" : err, want);
    }
    json_free(v);
}

static void test_values(void) {
    char err[200];
    json_value *v = parse(" {\"n-predict\": 128, \"temp\": 0.8, \"stop\": [\"a\\n\", \"\\u00e9\\ud83d\\ude00\"],"
                          " \"flag\": true, \"none\": null, \"neg\": -5e-1, \"big\": 12345678901234} ", err);
    CHECK(v != NULL);
    if (!v) { fprintf(stderr, "%s\n", err); return; }
    CHECK(v->type == JSON_OBJECT && v->len == 7);
    const json_value *n = json_get(v, "n-predict");
    CHECK(n && n->type == JSON_NUMBER && n->is_int && n->integer == 128);
    const json_value *t = json_get(v, "temp");
    CHECK(t && !t->is_int && fabs(t->number - 0.8) < 1e-12);
    const json_value *s = json_get(v, "stop");
    CHECK(s && s->type == JSON_ARRAY && s->len == 2);
    CHECK(s && strcmp(s->items[0].str, "a\n") == 0);
    CHECK(s && strcmp(s->items[1].str, "\xc3\xa9\xf0\x9f\x98\x80") == 0 && s->items[1].len == 6);
    CHECK(json_get(v, "flag")->boolean == true);
    CHECK(json_get(v, "none")->type == JSON_NULL);
    CHECK(json_get(v, "neg")->number == -0.5);
    CHECK(json_get(v, "big")->integer == 12345678901234LL);
    CHECK(json_get(v, "missing") == NULL);
    json_free(v);

    v = json_parse("\"a\\u0000b\"", 10, err, sizeof err);
    CHECK(v && v->len == 3 && v->str[1] == 0);
    json_free(v);

    /* Not NUL-terminated input: the parser must stay inside len. */
    char raw[4] = { '1', '2', '3', '4' };
    v = json_parse(raw, 2, err, sizeof err);
    CHECK(v && v->is_int && v->integer == 12);
    json_free(v);
}

static void test_bad(void) {
    bad("", "value expected at offset 0");
    bad("{", "object key expected");
    bad("{\"a\":1,}", "object key expected");
    bad("[1,]", "value expected");
    bad("[1 2]", "',' or ']' expected at offset 3");
    bad("{\"a\" 1}", "':' expected");
    bad("{\"a\":1,\"a\":2}", "duplicate key \"a\" at offset 7");
    bad("\"abc", "unterminated string");
    bad("\"a\\qb\"", "invalid escape");
    bad("\"\\u12G4\"", "bad hex digit");
    bad("\"\\ud800\"", "unpaired high surrogate");
    bad("\"\\udc00\"", "unpaired low surrogate");
    bad("\"\xc3\x28\"", "invalid UTF-8");
    bad("\"\xed\xa0\x80\"", "invalid UTF-8");        /* encoded surrogate */
    bad("\"\xc0\xaf\"", "invalid UTF-8");            /* overlong */
    bad("\"a\tb\"", "control character");
    bad("01", "trailing characters");
    bad("1.", "digit expected after '.'");
    bad("1e", "digit expected in exponent");
    bad("-", "truncated number");
    bad("+1", "value expected, found '+'");
    bad("-x", "digit expected after '-'");
    bad("NaN", "value expected, found 'N'");
    bad("1e999", "number out of range");
    bad("tru", "invalid literal");
    bad("nul", "invalid literal");
    bad("{} x", "trailing characters");
    bad("// c\n{}", "value expected, found '/'");
    bad("\x01", "value expected, found byte 0x01");
    char deep[200];
    memset(deep, '[', 100);
    deep[100] = 0;
    bad(deep, "nesting deeper than 64");
}

static void test_writer(void) {
    json_buf b = {0};
    json_buf_raw(&b, "{", 1);
    json_buf_cstr(&b, "k\"\\\n\x01");
    json_buf_raw(&b, ":[", 2);
    json_buf_u64(&b, 18446744073709551615ULL);
    json_buf_raw(&b, ",", 1);
    json_buf_i64(&b, -42);
    json_buf_raw(&b, ",", 1);
    json_buf_f64(&b, 0.1);
    json_buf_raw(&b, ",", 1);
    json_buf_f64(&b, 1.0 / 3.0);
    json_buf_raw(&b, "]}", 2);
    CHECK(!b.oom);
    CHECK(strcmp(b.data, "{\"k\\\"\\\\\\n\\u0001\":[18446744073709551615,-42,0.1,0.3333333333333333]}") == 0);
    /* What the writer writes, the reader reads back exactly. */
    char err[200];
    json_value *v = json_parse(b.data, b.len, err, sizeof err);
    CHECK(v && v->members[0].key_len == 5 && memcmp(v->members[0].key, "k\"\\\n\x01", 5) == 0);
    CHECK(v && v->members[0].value.items[3].number == 1.0 / 3.0);
    json_free(v);
    json_buf_free(&b);
}

int main(void) {
    test_values();
    test_bad();
    test_writer();
    printf("json: %d checks, %d failed\n", checks, failures);
    return failures != 0;
}
