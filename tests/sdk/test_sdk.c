#define _POSIX_C_SOURCE 200809L   /* setenv */
/* test_sdk.c: layer 2 of the guest SDK against the scripted fake model:
 * whole characters only, stop strings across pieces, max tokens, the
 * too_large retry, usage and embedding parsing, options as host JSON,
 * environment and flag parsing, and readable errors. */
#include <stdlib.h>

#include "json.h"
#include "mock_nn.h"
#include "t.h"
#include "wasmlet/wasmlet.h"

int t_failed, t_checks;

/* Independent UTF-8 check (not the product's): well-formed per RFC 3629. */
static int valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; }
        else return 0;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000)) return 0;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

typedef struct {
    char text[8192];
    size_t len;
    int calls, bad_chunks, stop_after;
} sink;

static int to_sink(const char *t, size_t n, void *u) {
    sink *s = u;
    s->calls++;
    if (n == 0 || !valid_utf8((const unsigned char *)t, n)) s->bad_chunks++;
    if (s->len + n < sizeof s->text) {
        memcpy(s->text + s->len, t, n);
        s->len += n;
        s->text[s->len] = 0;
    }
    return s->stop_after && s->calls >= s->stop_after;
}

static wl_model *open_default(const wl_options *o) {
    wl_model *m = NULL;
    int e = wl_open(&m, "default", o);
    CHECK(e == WL_OK && m, "wl_open: %d %s", e, wl_last_error());
    return m;
}

static void test_split_utf8(void) {
    /* Every character class, split inside 2-, 3- and 4-byte sequences. */
    static const char *const pieces[] = {
        "h\xC3", "\xA9llo \xE2", "\x82", "\xAC \xF0\x9F", "\x98", "\x80!", " \xE4\xB8\xAD\xE6", "\x96\x87", NULL,
    };
    mock_reset();
    mock.pieces = pieces;
    mock.meta = "{\"input_tokens\": 5, \"output_tokens\": 8, \"llama_build_number\": 1, \"llama_commit\": \"x\"}";
    wl_model *m = open_default(NULL);
    sink s = { 0 };
    wl_result r;
    int e = wl_generate_stream(m, "prompt", to_sink, &s, &r);
    CHECK(e == WL_OK, "stream: %s", wl_last_error());
    CHECK(s.bad_chunks == 0, "%d chunks were empty or not whole UTF-8", s.bad_chunks);
    CHECK_STR(s.text, "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80! \xE4\xB8\xAD\xE6\x96\x87");
    CHECK(r.end == WL_END_EOS && r.output_tokens == 8 && r.input_tokens == 5,
          "end %d out %u in %u", r.end, r.output_tokens, r.input_tokens);
    CHECK(mock.n_fini == 1, "fini_single called %d times", mock.n_fini);
    CHECK_STR(mock.prompt, "prompt");
    wl_close(m);
    CHECK(mock.n_unload == 1, "unload called %d times", mock.n_unload);

    /* Invalid bytes become U+FFFD, one per maximal invalid subpart; an
     * unfinished sequence at the end too. */
    static const char *const bad[] = { "a\xFF", "b\xF0\x9F", "c", "\xED\xA0\x80", "d\xE2\x82", NULL };
    mock_reset();
    mock.pieces = bad;
    m = open_default(NULL);
    memset(&s, 0, sizeof s);
    e = wl_generate_stream(m, "", to_sink, &s, &r);
    CHECK(e == WL_OK && s.bad_chunks == 0, "invalid bytes: %d, %d bad chunks", e, s.bad_chunks);
    CHECK_STR(s.text, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "d\xEF\xBF\xBD");
    CHECK(r.input_tokens == 0, "no metadata support should leave input_tokens 0");
    wl_close(m);
}

/* Property: for random byte strings (valid and invalid UTF-8, stop strings
 * sprinkled in) split at random points, the streamed text is the same as
 * for the whole string in one piece, every chunk is whole valid UTF-8, and
 * the text ends right before the earliest stop string. */
static uint32_t rng = 12345;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void test_random_splits(void) {
    static const char *const alphabet[] = { "a", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xFF",
                                            "\xE2\x82", "\x80", "\xED\xA0\x80", "<", "|", "end", "S" };
    wl_options o;
    wl_options_init(&o);
    wl_options_add_stop(&o, "<|end");
    wl_options_add_stop(&o, "\xE2\x82\xAC\xE2\x82\xAC");
    wl_options_add_stop(&o, "SS");
    mock_reset();
    wl_model *m = open_default(&o);
    int bad = 0;
    for (int round = 0; round < 300; round++) {
        char text[256];
        size_t n = 0;
        int parts = (int)(next_rand() % 24);
        for (int k = 0; k < parts; k++) {
            const char *a = alphabet[next_rand() % (sizeof alphabet / sizeof alphabet[0])];
            if (n + strlen(a) >= sizeof text) break;
            memcpy(text + n, a, strlen(a));
            n += strlen(a);
        }
        text[n] = 0;
        /* Reference: the whole string as one piece. */
        const char *one[] = { text, NULL };
        mock.pieces = one;
        sink ref = { 0 };
        wl_result rr;
        wl_generate_stream(m, "p", to_sink, &ref, &rr);
        /* The same bytes cut at random points. */
        static char buf[64][256];
        const char *cut[65];
        size_t np = 0, pos = 0;
        while (pos < n && np < 63) {
            size_t len = 1 + next_rand() % 5;
            if (len > n - pos) len = n - pos;
            memcpy(buf[np], text + pos, len);
            buf[np][len] = 0;
            cut[np] = buf[np];
            np++;
            pos += len;
        }
        if (pos < n) {
            memcpy(buf[np], text + pos, n - pos);
            buf[np][n - pos] = 0;
            cut[np] = buf[np];
            np++;
        }
        cut[np] = NULL;
        mock.pieces = cut;
        sink got = { 0 };
        wl_result rg;
        wl_generate_stream(m, "p", to_sink, &got, &rg);
        if (strcmp(got.text, ref.text) != 0 || got.bad_chunks || ref.bad_chunks || rg.end != rr.end ||
            rg.stop_index != rr.stop_index) {
            if (bad++ < 3) printf("split mismatch for round %d: \"%s\" vs \"%s\"\n", round, got.text, ref.text);
        }
        /* No stop string survives in the text. */
        for (size_t k = 0; k < o.n_stop; k++)
            if (strstr(got.text, o.stop[k])) bad++;
    }
    CHECK(bad == 0, "%d random split rounds disagreed", bad);
    wl_close(m);
}

static void test_stops(void) {
    static const char *const pieces[] = { "Hello wor", "ld<|im", "_e", "nd|>more", "text", NULL };
    wl_options o;
    wl_options_init(&o);
    CHECK(wl_options_add_stop(&o, "User:") == WL_OK, "add stop");
    CHECK(wl_options_add_stop(&o, "<|im_end|>") == WL_OK, "add stop");
    mock_reset();
    mock.pieces = pieces;
    wl_model *m = open_default(&o);
    sink s = { 0 };
    wl_result r;
    int e = wl_generate_stream(m, "p", to_sink, &s, &r);
    CHECK(e == WL_OK, "%s", wl_last_error());
    CHECK_STR(s.text, "Hello world");
    CHECK(r.end == WL_END_STOP && r.stop_index == 1, "end %d stop %d", r.end, r.stop_index);
    CHECK(mock.n_compute_single == 4, "stopped after %d tokens, want 4", mock.n_compute_single);
    CHECK(r.output_tokens == 4, "output tokens %u", r.output_tokens);

    /* A prefix of a stop that turns out not to be one is delivered. */
    static const char *const near[] = { "xUs", "e", "d <|im_", "start|> ok", NULL };
    mock.pieces = near;
    memset(&s, 0, sizeof s);
    e = wl_generate_stream(m, "p", to_sink, &s, &r);
    CHECK(e == WL_OK && r.end == WL_END_EOS, "near miss: %d end %d", e, r.end);
    CHECK_STR(s.text, "xUsed <|im_start|> ok");
    /* Held-back prefix at the very end is delivered too. */
    static const char *const tail[] = { "abc Use", NULL };
    mock.pieces = tail;
    memset(&s, 0, sizeof s);
    e = wl_generate_stream(m, "p", to_sink, &s, &r);
    CHECK_STR(s.text, "abc Use");

    /* Earliest stop wins even when a later-listed stop is earlier. */
    static const char *const both[] = { "a <|im_end|>", " User:", NULL };
    mock.pieces = both;
    memset(&s, 0, sizeof s);
    e = wl_generate_stream(m, "p", to_sink, &s, &r);
    CHECK_STR(s.text, "a ");
    CHECK(r.stop_index == 1, "stop index %d", r.stop_index);

    /* The same text whole: host left the stop text (and more) in. */
    mock.whole = "Hello world<|im_end|>more text";
    char *text = NULL;
    size_t len = 0;
    e = wl_generate(m, "p", &text, &len, &r);
    CHECK(e == WL_OK, "%s", wl_last_error());
    CHECK_STR(text, "Hello world");
    CHECK(len == 11 && r.end == WL_END_STOP && r.stop_index == 1, "len %zu end %d", len, r.end);
    free(text);
    wl_close(m);
}

static void test_max_tokens_and_ends(void) {
    static const char *const pieces[] = { "a", "b", "c", "d", "e", "f", NULL };
    wl_options o;
    wl_options_init(&o);
    o.max_tokens = 3;
    mock_reset();
    mock.pieces = pieces;
    wl_model *m = open_default(&o);
    sink s = { 0 };
    wl_result r;
    int e = wl_generate_stream(m, "p", to_sink, &s, &r);
    CHECK(e == WL_OK && r.end == WL_END_MAX_TOKENS, "max tokens: %d end %d", e, r.end);
    CHECK_STR(s.text, "abc");
    CHECK(mock.n_compute_single == 3, "compute_single %d times", mock.n_compute_single);
    wl_close(m);

    /* Context full ends generation normally. */
    mock_reset();
    mock.pieces = pieces;
    mock.end_code = WL_NN_CONTEXT_FULL;
    m = open_default(NULL);
    memset(&s, 0, sizeof s);
    e = wl_generate_stream(m, "p", to_sink, &s, &r);
    CHECK(e == WL_OK && r.end == WL_END_CONTEXT && r.output_tokens == 6, "ctx full: %d %d", e, r.end);
    CHECK_STR(s.text, "abcdef");

    /* The callback stops it. */
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    e = wl_generate_stream(m, "p", to_sink, &s, &r);
    CHECK(e == WL_OK && r.end == WL_END_CALLBACK && s.calls == 2, "callback stop: %d %d", r.end, s.calls);
    CHECK(mock.n_fini == 2, "fini_single after every stream (%d)", mock.n_fini);

    /* A host error mid-stream is an error with a message. */
    mock.end_code = WL_NN_RUNTIME_ERROR;
    memset(&s, 0, sizeof s);
    e = wl_generate_stream(m, "p", to_sink, &s, &r);
    CHECK(e == WL_NN_RUNTIME_ERROR, "runtime error passed through: %d", e);
    CHECK(strstr(wl_last_error(), "compute_single") && strstr(wl_last_error(), "token 7"),
          "message: %s", wl_last_error());
    wl_close(m);
}

static void test_stream_equals_whole(void) {
    static const char *const pieces[] = { "Once", " upon", " a", " time", "\xE2\x80", "\x9D.", NULL };
    mock_reset();
    mock.pieces = pieces;
    mock.whole = "Once upon a time\xE2\x80\x9D.</s>";
    mock.meta = "{\"input_tokens\":1,\"output_tokens\":7}";
    wl_model *m = open_default(NULL);
    sink s = { 0 };
    wl_result rs, rw;
    CHECK(wl_generate_stream(m, "", to_sink, &s, &rs) == WL_OK, "%s", wl_last_error());
    char *text = NULL;
    CHECK(wl_generate(m, "", &text, NULL, &rw) == WL_OK, "%s", wl_last_error());
    CHECK(text && strcmp(text, s.text) == 0, "stream \"%s\" vs whole \"%s\"", s.text, text ? text : "");
    CHECK(rw.input_tokens == 1 && rw.output_tokens == 7 && rw.end == WL_END_EOS, "usage %u %u end %d",
          rw.input_tokens, rw.output_tokens, rw.end);
    free(text);
    wl_close(m);
}

static void test_too_large(void) {
    mock_reset();
    static char big[40001];
    for (size_t i = 0; i < sizeof big - 1; i++) big[i] = (char)('a' + i % 26);
    big[sizeof big - 1] = 0;
    mock.whole = big;
    wl_model *m = open_default(NULL);
    char *text = NULL;
    size_t len = 0;
    int e = wl_generate(m, "p", &text, &len, NULL);
    CHECK(e == WL_OK && len == 40000 && text && memcmp(text, big, 40000) == 0, "grown read: %d len %zu", e, len);
    CHECK(mock.n_too_large == 1, "too_large seen %d times, want 1 (grow to the size needed)", mock.n_too_large);
    free(text);

    /* Raw reader: tiny hint, host that tells the size. */
    mock.n_too_large = 0;
    e = wl_read_output(3, 0, false, 4, &text, &len);
    CHECK(e == WL_OK && len == 40000 && mock.n_too_large == 1, "read_output: %d %zu %d", e, len, mock.n_too_large);
    free(text);
    /* A host that does not say how much: doubling. */
    mock.old_host = 1;
    mock.n_too_large = 0;
    e = wl_read_output(3, 0, false, 10000, &text, &len);
    CHECK(e == WL_OK && len == 40000 && mock.n_too_large == 2, "doubling: %d %zu %d", e, len, mock.n_too_large);
    free(text);
    mock.old_host = 0;
    /* Streaming pieces larger than the piece buffer. */
    static char piece[6001];
    memcpy(piece, big, 6000);
    const char *const pieces[] = { piece, "!", NULL };
    mock.pieces = pieces;
    mock.n_too_large = 0;
    sink s = { 0 };
    e = wl_generate_stream(m, "p", to_sink, &s, NULL);
    CHECK(e == WL_OK && s.len == 6001 && s.text[6000] == '!', "big piece: %d %zu", e, s.len);
    CHECK(mock.n_too_large == 1, "piece too_large seen %d times", mock.n_too_large);
    /* A host claiming more bytes than the buffer holds is refused. */
    mock.lie_written = 1;
    e = wl_read_output(3, 0, false, 16, &text, &len);
    CHECK(e == WL_E_FORMAT && text == NULL, "lying host: %d", e);
    CHECK(strstr(wl_last_error(), "26 bytes written into a 16-byte buffer") != NULL, "msg: %s", wl_last_error());
    wl_close(m);
}

static void test_usage_embedding(void) {
    uint32_t in = 9, out = 9;
    const char *ws = "{\"input_tokens\": 12, \"output_tokens\": 34, \"llama_build_number\": 3, \"llama_commit\": \"a\"}";
    CHECK(wl_parse_usage(ws, strlen(ws), &in, &out) == WL_OK && in == 12 && out == 34, "usage %u %u", in, out);
    const char nul[] = "{\"input_tokens\":3,\"output_tokens\":4}";
    CHECK(wl_parse_usage(nul, sizeof nul, &in, &out) == WL_OK && in == 3 && out == 4, "a counted NUL is tolerated");
    const char *bad[] = { "", "{", "[]", "{\"input_tokens\":1}", "{\"input_tokens\":-1,\"output_tokens\":1}",
                          "{\"input_tokens\":1.5,\"output_tokens\":1}", "{\"input_tokens\":\"1\",\"output_tokens\":1}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(wl_parse_usage(bad[i], strlen(bad[i]), &in, &out) == WL_E_FORMAT, "bad usage %zu accepted", i);

    float *v = NULL;
    size_t d = 0;
    const char *emb = "{\"n_embedding\":3,\"embedding\":[0.6,-0.8,0]}";
    CHECK(wl_parse_embedding(emb, strlen(emb), &v, &d) == WL_OK && d == 3 && v[0] == 0.6f && v[1] == -0.8f &&
          v[2] == 0.0f, "embedding parse");
    free(v);
    const char *ebad[] = { "{\"n_embedding\":2,\"embedding\":[1]}", "{\"n_embedding\":1,\"embedding\":[\"x\"]}",
                           "{\"embedding\":[1]}", "{\"n_embedding\":1,\"embedding\":{}}", "nope" };
    for (size_t i = 0; i < sizeof ebad / sizeof ebad[0]; i++) {
        v = NULL;
        CHECK(wl_parse_embedding(ebad[i], strlen(ebad[i]), &v, &d) == WL_E_FORMAT && !v, "bad embedding %zu", i);
    }
    CHECK(strstr(wl_last_error(), "embedding output") != NULL, "msg: %s", wl_last_error());

    wl_options o;
    wl_options_init(&o);
    o.embedding = true;
    mock_reset();
    mock.whole = "{\"n_embedding\":2,\"embedding\":[1,0]}";
    wl_model *m = open_default(&o);
    CHECK_STR(mock.config, "{\"embedding\":true}");
    CHECK(wl_embed(m, "hi", &v, &d, NULL) == WL_OK && d == 2 && v[0] == 1.0f, "wl_embed: %s", wl_last_error());
    free(v);
    wl_close(m);
}

static void test_options_json(void) {
    wl_options o;
    wl_options_init(&o);
    char *j = wl_options_json(&o);
    CHECK_STR(j, "{}");
    free(j);
    o.max_tokens = 16;
    o.ctx_size = 512;
    o.temp = 0;
    o.top_p = 0.9;
    o.seed = 42;
    o.enable_log = 0;
    wl_options_add_stop(&o, "a\"b\n");
    wl_options_add_stop(&o, "second");
    j = wl_options_json(&o);
    CHECK_STR(j, "{\"n-predict\":16,\"ctx-size\":512,\"reverse-prompt\":\"a\\\"b\\n\",\"enable-log\":false,"
                 "\"temp\":0,\"top-p\":0.9,\"seed\":42}");
    /* Counts must read back as JSON integers (hosts reject 512.0). */
    char err[64];
    json_value *v = json_parse(j, strlen(j), err, sizeof err);
    CHECK(v && json_get(v, "ctx-size")->is_int && json_get(v, "n-predict")->integer == 16, "types");
    json_free(v);
    free(j);

    mock_reset();
    wl_model *m = open_default(&o);
    CHECK(mock.n_load_cfg == 1 && mock.n_set_config == 1, "config sent at load and to the context: %d %d",
          mock.n_load_cfg, mock.n_set_config);
    wl_close(m);
    mock_reset();
    m = open_default(NULL);
    CHECK(mock.n_load == 1 && mock.n_load_cfg == 0 && mock.n_set_config == 0, "no options: plain load_by_name");
    wl_close(m);

    /* Two handles on one alias share the host's graph: each generation
     * re-sends the options only when the other handle's are in place. */
    mock_reset();
    static const char *const none[] = { NULL };
    mock.pieces = none;
    wl_options oa, ob;
    wl_options_init(&oa);
    wl_options_init(&ob);
    oa.temp = 0;
    ob.temp = 1.5;
    wl_model *a = open_default(&oa), *b = open_default(&ob);
    CHECK(mock.n_set_config == 2 && strcmp(mock.config, "{\"temp\":1.5}") == 0, "both sent at open");
    wl_generate_stream(a, "x", NULL, NULL, NULL);
    CHECK(mock.n_set_config == 3 && strcmp(mock.config, "{\"temp\":0}") == 0, "a re-sends: %s", mock.config);
    wl_generate_stream(a, "x", NULL, NULL, NULL);
    CHECK(mock.n_set_config == 3, "a's options still in place");
    mock.whole = "";
    char *t = NULL;
    wl_generate(b, "x", &t, NULL, NULL);
    free(t);
    CHECK(mock.n_set_config == 4 && strcmp(mock.config, "{\"temp\":1.5}") == 0, "b re-sends: %s", mock.config);
    wl_close(a);
    wl_close(b);

    CHECK(wl_options_add_stop(&o, "") == WL_E_ARG, "empty stop refused");
    char longs[WL_STOP_LEN + 1];
    memset(longs, 'x', WL_STOP_LEN);
    longs[WL_STOP_LEN] = 0;
    CHECK(wl_options_add_stop(&o, longs) == WL_E_ARG, "long stop refused");
    for (int i = 0; i < WL_MAX_STOP; i++) {
        char t[8];
        snprintf(t, sizeof t, "s%d", i);
        wl_options_add_stop(&o, t);
    }
    CHECK(o.n_stop == WL_MAX_STOP && wl_options_add_stop(&o, "one more") == WL_E_ARG, "stop limit");
}

static void test_env_and_flags(void) {
    wl_options o;
    wl_options_init(&o);
    setenv("ctx_size", "512", 1);
    setenv("n_predict", "-1", 1);
    setenv("temp", "0", 1);
    setenv("reverse_prompt", "\"<|im_end|>\"", 1);
    setenv("enable_log", "true", 1);
    setenv("seed", "1234", 1);
    CHECK(wl_options_from_env(&o) == WL_OK, "env: %s", wl_last_error());
    CHECK(o.ctx_size == 512 && o.max_tokens == -1 && o.temp == 0 && o.enable_log == 1 && o.seed == 1234 &&
          o.n_stop == 1 && strcmp(o.stop[0], "<|im_end|>") == 0, "env values");
    static const char *const bad[][2] = {
        { "ctx_size", "abc" }, { "ctx_size", "1.5" }, { "ctx_size", "-3" }, { "temp", "\"hot\"" },
        { "enable_log", "1" }, { "top_k", "99999999999" }, { "reverse_prompt", "" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wl_options_init(&o);
        setenv(bad[i][0], bad[i][1], 1);
        int e = wl_options_from_env(&o);
        CHECK(e == WL_E_ARG && strstr(wl_last_error(), bad[i][0]), "%s=%s: %d %s", bad[i][0], bad[i][1], e,
              wl_last_error());
        unsetenv(bad[i][0]);
    }
    /* reverse_prompt is text as given, or a JSON string. */
    wl_options_init(&o);
    setenv("reverse_prompt", "42", 1);
    CHECK(wl_options_from_env(&o) == WL_OK && o.n_stop == 1 && strcmp(o.stop[0], "42") == 0, "bare 42");
    wl_options_init(&o);
    setenv("reverse_prompt", "\"a\\nb\"", 1);
    CHECK(wl_options_from_env(&o) == WL_OK && o.n_stop == 1 && strcmp(o.stop[0], "a\nb") == 0, "JSON string");
    const char *names[] = { "ctx_size", "n_predict", "temp", "reverse_prompt", "enable_log", "seed" };
    for (size_t i = 0; i < 6; i++) unsetenv(names[i]);

    char *argv[] = { "x", "--temp", "0.5", "--top_k", "5", "--stop", "END", "--reverse-prompt", "\"Q:\"",
                     "--enable-log", "--max-tokens", "9", "prompt", "--ctx-size" };
    int argc = (int)(sizeof argv / sizeof argv[0]);
    wl_options_init(&o);
    int i = 1;
    while (i < 12) {
        int e = wl_options_parse_arg(&o, argc, argv, &i);
        CHECK(e == WL_OK, "flag %s: %s", argv[i], wl_last_error());
        if (e) break;
    }
    CHECK(i == 12 && o.temp == 0.5 && o.top_k == 5 && o.n_stop == 2 && strcmp(o.stop[1], "Q:") == 0 &&
          o.enable_log == 1 && o.max_tokens == 9, "flag values");
    CHECK(wl_options_parse_arg(&o, argc, argv, &i) == WL_E_NOTFOUND && i == 12, "non-flag left alone");
    i = 13;
    CHECK(wl_options_parse_arg(&o, argc, argv, &i) == WL_E_ARG && strstr(wl_last_error(), "missing value"),
          "missing value: %s", wl_last_error());
    char *argv2[] = { "x", "--top-p", "lots" };
    i = 1;
    CHECK(wl_options_parse_arg(&o, 3, argv2, &i) == WL_E_ARG && strstr(wl_last_error(), "--top-p"),
          "bad value: %s", wl_last_error());
    CHECK(strstr(wl_options_help(), "--n-predict, --max-tokens") != NULL, "help lists flags");
}

static void test_errors(void) {
    mock_reset();
    mock.load_err = WL_NN_MODEL_NOT_FOUND;
    wl_model *m = (wl_model *)1;
    int e = wl_open(&m, "nosuch", NULL);
    CHECK(e == WL_NN_MODEL_NOT_FOUND && m == NULL, "unknown alias: %d", e);
    CHECK(strstr(wl_last_error(), "\"nosuch\"") && strstr(wl_last_error(), "model not found") &&
          strstr(wl_last_error(), "103"), "message: %s", wl_last_error());
    CHECK(strcmp(wl_strerror(WL_NN_MODEL_NOT_FOUND), wl_nn_strerror(103)) == 0, "strerror passes host codes");
    CHECK(strcmp(wl_strerror(WL_E_NOMEM), "out of memory") == 0, "sdk codes named");

    mock_reset();
    mock.init_err = WL_NN_RUNTIME_ERROR;
    e = wl_open(&m, "default", NULL);
    CHECK(e == WL_NN_RUNTIME_ERROR && mock.n_unload == 1, "init failure unloads: %d %d", e, mock.n_unload);
    CHECK(wl_open(&m, "", NULL) == WL_E_ARG, "empty alias");

    mock_reset();
    mock.prompt_limit = 3;
    m = open_default(NULL);
    sink s = { 0 };
    e = wl_generate_stream(m, "too long", to_sink, &s, NULL);
    CHECK(e == WL_NN_PROMPT_TOO_LONG && strstr(wl_last_error(), "set_input (prompt of 8 bytes)"),
          "prompt too long: %d %s", e, wl_last_error());
    mock.prompt_limit = 0;
    mock.compute_err = WL_NN_INVALID_ARGUMENT;
    char *t = (char *)1;
    e = wl_generate(m, "x", &t, NULL, NULL);
    CHECK(e == WL_NN_INVALID_ARGUMENT && t == NULL && strstr(wl_last_error(), "compute"), "compute error");
    wl_close(m);
    wl_close(NULL);
}

int main(void) {
    test_split_utf8();
    test_stops();
    test_random_splits();
    test_max_tokens_and_ends();
    test_stream_equals_whole();
    test_too_large();
    test_usage_embedding();
    test_options_json();
    test_env_and_flags();
    test_errors();
    test_chat();
    printf("%d checks, %d failed\n", t_checks, t_failed);
    return t_failed ? 1 : 0;
}
