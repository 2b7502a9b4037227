/* Tokenizer behaviour beyond the vector files. `test_tok_unit GROUP`:
 *   stream    the streaming UTF-8 decoder (no data needed)
 *   stories   stories260K.gguf's 512-token SentencePiece vocabulary
 *   special   special/control/user-defined tokens, BOS/EOS flags
 *   input     invalid UTF-8 and random bytes on every vocabulary
 * Groups needing ../shared exit 77 when it is absent. */
#include "tok_test_util.h"

/* ---- stream ------------------------------------------------------------- */

static bool valid_utf8(const uint8_t *s, size_t n) {
    tok_utf8_stream st;
    tok_stream_init(&st);
    char *out = malloc(TOK_STREAM_OUT_MAX(n));
    size_t o = tok_stream_push(&st, s, n, out);
    o += tok_stream_flush(&st, out + o);
    bool same = o == n && memcmp(out, s, n) == 0;   /* valid input passes unchanged */
    free(out);
    return same;
}

/* Feeds `in` split at every position in two pushes and in one-byte pushes;
 * all must give `want`. */
static void stream_case(const char *in, size_t n, const char *want) {
    char out[256];
    for (size_t cut = 0; cut <= n; cut++) {
        tok_utf8_stream s;
        tok_stream_init(&s);
        size_t o = tok_stream_push(&s, in, cut, out);
        o += tok_stream_push(&s, in + cut, n - cut, out + o);
        o += tok_stream_flush(&s, out + o);
        CHECK(o == strlen(want) && memcmp(out, want, o) == 0, "stream: input split at %zu: got '%.*s' want '%s'",
              cut, (int)o, out, want);
    }
    tok_utf8_stream s;
    tok_stream_init(&s);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = tok_stream_push(&s, in + i, 1, out + o);
        /* Whatever comes out is whole characters only. */
        CHECK(valid_utf8((const uint8_t *)out + o, k), "stream: partial character emitted");
        o += k;
    }
    o += tok_stream_flush(&s, out + o);
    CHECK(o == strlen(want) && memcmp(out, want, o) == 0, "stream: byte at a time: got '%.*s' want '%s'",
          (int)o, out, want);
}

#define R "\xEF\xBF\xBD"
static int group_stream(void) {
    const char *good = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80";
    stream_case(good, strlen(good), good);
    stream_case("\xE2\x82" "A", 3, R "A");             /* truncated, then ASCII */
    stream_case("\xC0\x80", 2, R R);                    /* overlong: both bytes invalid */
    stream_case("\xED\xA0\x80", 3, R R R);              /* surrogate */
    stream_case("\xF4\x90\x80\x80", 4, R R R R);        /* past U+10FFFF */
    stream_case("\xF0\x9F\x98", 3, R);                  /* unfinished at the end: flush */
    stream_case("\x80\xBF", 2, R R);                    /* lone continuation bytes */
    stream_case("\xE2\x28\xA1", 3, R "(" R);            /* bad second byte, maximal subpart */
    stream_case("\xFF\xFE" "a", 3, R R "a");
    /* Random bytes: output is always valid UTF-8. */
    uint32_t x = 12345;
    for (int round = 0; round < 2000; round++) {
        uint8_t in[16];
        size_t n = 1 + round % 16;
        for (size_t i = 0; i < n; i++) { x = x * 1103515245u + 12345u; in[i] = (uint8_t)(x >> 16); }
        tok_utf8_stream s;
        tok_stream_init(&s);
        char out[TOK_STREAM_OUT_MAX(16)];
        size_t o = tok_stream_push(&s, in, n, out);
        o += tok_stream_flush(&s, out + o);
        CHECK(o <= TOK_STREAM_OUT_MAX(n) && valid_utf8((uint8_t *)out, o), "stream: invalid output");
    }
    return g_failures ? 1 : 0;
}

/* ---- stories260K -------------------------------------------------------- */

/* The golden file's TEXT is a quoted string with \n, \', \" and \\ escapes. */
static size_t unquote(const char *p, char *out) {
    size_t o = 0;
    char q = *p++;
    for (; *p && *p != q; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            out[o++] = *p == 'n' ? '\n' : *p;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = 0;
    return o;
}

static void round_trip(const tokenizer *t, const char *s, const char *what) {
    tok_ids ids = {0};
    char err[256];
    CHECK(tok_encode(t, s, strlen(s), 0, &ids, err, sizeof err), "%s", err);
    size_t dl;
    char *back = tok_decode(t, ids.ids, ids.n, false, &dl);
    CHECK(back && dl == strlen(s) && memcmp(back, s, dl) == 0, "%s: round trip of '%s' gave '%s'", what, s,
          back ? back : "(null)");
    free(back);
    tok_ids_free(&ids);
}

static int group_stories(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/models/stories260K.gguf", shared_dir());
    FILE *probe = fopen(path, "rb");
    if (!probe) { fprintf(stderr, "SKIP: %s missing\n", path); return SKIP; }
    fclose(probe);
    gguf_file *g;
    tokenizer *t = load_tok(path, &g);
    if (!t) return 1;
    CHECK(tok_get_model(t) == TOK_MODEL_SPM, "model");
    CHECK(tok_n_vocab(t) == 512 && tok_bos(t) == 1 && tok_eos(t) == 2 && tok_unk(t) == 0, "specials");
    CHECK(tok_pad(t) == -1, "padding 0xFFFFFFFF is none");
    CHECK(tok_adds_bos(t) && !tok_adds_eos(t), "default flags");
    /* Pieces: byte tokens, the space marker, control tokens. */
    size_t l;
    const char *p = tok_piece(t, 3 + 'A', false, &l);
    CHECK(p && l == 1 && p[0] == 'A', "<0x41> piece");
    CHECK(tok_piece(t, 1, false, &l) && l == 0, "<s> piece without special");
    p = tok_piece(t, 1, true, &l);
    CHECK(p && l == 3 && memcmp(p, "<s>", 3) == 0, "<s> piece with special");
    CHECK(tok_piece(t, 512, false, &l) == NULL && tok_piece(t, -1, false, &l) == NULL, "out of range piece");

    /* The golden run: its ids decode to its text, and the text encodes back
     * to BOS + the same ids (greedy output of this model is canonical). */
    snprintf(path, sizeof path, "%s/golden/stories260K-greedy256.txt", shared_dir());
    size_t gl;
    char *gold = read_file(path, &gl);
    if (gold) {
        int32_t ids[300];
        size_t n = 0;
        char *q = strstr(gold, "IDS ") + 4, *text_line = strstr(gold, "TEXT ");
        while (n < 300 && *q && *q != '\n') {
            char *e;
            long v = strtol(q, &e, 10);
            if (e == q) break;
            ids[n++] = (int32_t)v;
            q = e;
        }
        CHECK(n == 256 && text_line, "golden file format");
        char *want = malloc(gl + 1);
        size_t wl = unquote(text_line + 5, want);
        size_t dl;
        char *got = tok_decode(t, ids, n, false, &dl);
        CHECK(got && dl == wl && memcmp(got, want, wl) == 0, "decode(golden ids) != golden text:\n%s\n%s", got, want);
        tok_ids enc = {0};
        char err[256];
        CHECK(tok_encode(t, want, wl, TOK_ADD_SPECIAL, &enc, err, sizeof err), "%s", err);
        /* The run stops mid-story, so compare the ids of complete lines. */
        size_t same = 0;
        while (same + 1 < enc.n && same < n && enc.ids[same + 1] == ids[same]) same++;
        CHECK(enc.n > 0 && enc.ids[0] == 1, "BOS first");
        CHECK(same + 8 >= n, "encode(golden text) agrees with the golden ids for only %zu of %zu", same, n);
        tok_ids_free(&enc);
        free(got);
        free(want);
        free(gold);
    }
    const char *strs[] = {"Once upon a time", "Lily and Ben went to the park.", "  two  spaces ",
                          "\xE4\xBD\xA0\xE5\xA5\xBD (byte fallback) \xF0\x9F\x98\x80", "x\ny\n\n", "a\tb"};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) round_trip(t, strs[i], "stories260K");
    /* Characters outside the 512 tokens fall back to <0xNN> bytes. */
    tok_ids ids = {0};
    char err[256];
    CHECK(tok_encode(t, "\xE4\xBD\xA0", 3, 0, &ids, err, sizeof err), "%s", err);
    bool bytes = ids.n >= 3;
    for (size_t i = ids.n - 3; bytes && i < ids.n; i++) bytes = tok_token_type(t, ids.ids[i]) == TOK_TYPE_BYTE;
    CHECK(bytes, "CJK character as three byte tokens");
    tok_ids_free(&ids);
    tok_free(t);
    gguf_close(g);
    return g_failures ? 1 : 0;
}

/* ---- special ------------------------------------------------------------ */

static tokenizer *vocab(const char *name, gguf_file **g) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-%s.gguf", shared_dir(), name);
    FILE *probe = fopen(path, "rb");
    if (!probe) return NULL;
    fclose(probe);
    return load_tok(path, g);
}

static void enc(const tokenizer *t, const char *s, unsigned flags, tok_ids *out) {
    char err[256];
    out->n = 0;
    CHECK(tok_encode(t, s, strlen(s), flags, out, err, sizeof err), "%s", err);
}

static bool contains(const tok_ids *v, int32_t id) {
    for (size_t i = 0; i < v->n; i++)
        if (v->ids[i] == id) return true;
    return false;
}

static int group_special(void) {
    gguf_file *g1, *g2;
    tokenizer *bpe = vocab("llama-bpe", &g1), *phi = vocab("phi-3", &g2);
    if (!bpe || !phi) { fprintf(stderr, "SKIP: vocabularies missing\n"); return SKIP; }
    tok_ids v = {0};
    const char *s = "<|begin_of_text|>Hi<|eot_id|>";
    int32_t bot = tok_find(bpe, "<|begin_of_text|>", 17), eot = tok_find(bpe, "<|eot_id|>", 10);
    CHECK(bot == 128000 && eot >= 0, "llama3 specials present");
    enc(bpe, s, 0, &v);
    CHECK(!contains(&v, bot) && !contains(&v, eot), "control text must not become tokens unless parsed");
    enc(bpe, s, TOK_PARSE_SPECIAL, &v);
    CHECK(v.n == 3 && v.ids[0] == bot && v.ids[2] == eot, "parsed: got %zu ids", v.n);
    enc(bpe, "Hi", TOK_ADD_SPECIAL, &v);
    CHECK(v.n == 2 && v.ids[0] == 128000, "llama3 adds BOS by default");
    enc(bpe, "Hi", TOK_EOS, &v);
    CHECK(v.n == 2 && v.ids[1] == tok_eos(bpe), "explicit EOS");
    enc(bpe, "", TOK_ADD_SPECIAL, &v);
    CHECK(v.n == 1 && v.ids[0] == 128000, "empty text with BOS");
    size_t l;
    CHECK(tok_piece(bpe, eot, false, &l) && l == 0, "control piece hidden");
    CHECK(tok_piece(bpe, eot, true, &l) && l == 10, "control piece shown with special");

    /* phi-3: </s> is user-defined, so it is split out even when specials are
     * not parsed; <|user|> (control) only when they are. */
    enc(phi, "a</s>b", 0, &v);
    CHECK(contains(&v, 2), "user-defined token always matched");
    enc(phi, "<|user|>", 0, &v);
    CHECK(!contains(&v, 32010), "control not matched unparsed");
    enc(phi, "<|user|>\nHello<|end|>", TOK_PARSE_SPECIAL, &v);
    CHECK(v.n >= 3 && v.ids[0] == 32010 && v.ids[v.n - 1] == 32007, "phi-3 chat markup");
    enc(phi, "Hello", TOK_ADD_SPECIAL, &v);
    CHECK(v.n >= 2 && v.ids[0] == 1, "phi-3 BOS");
    /* phi-3's specials swallow the whitespace after them (llama.cpp's
     * name-keyed rule); ids as llama.cpp gives them for this chat turn. */
    enc(phi, "<|user|>\nSYS\nHI<|end|>\n<|assistant|>\n", TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL, &v);
    const int32_t turn[] = {1, 32010, 317, 21554, 13, 17628, 32007, 32001};
    CHECK(v.n == 8 && memcmp(v.ids, turn, sizeof turn) == 0, "phi-3 chat turn: %zu ids", v.n);
    /* Any other model keeps that whitespace (llama-2's vocabulary). */
    gguf_file *g3;
    tokenizer *spm = vocab("llama-spm", &g3);
    if (spm) {
        enc(spm, "<s>\nHi", TOK_PARSE_SPECIAL, &v);
        CHECK(v.n >= 2 && v.ids[0] == 1 && contains(&v, 13), "whitespace after <s> kept");
        tok_free(spm);
        gguf_close(g3);
    }
    /* The longest special text wins where two start at the same place. */
    enc(phi, "<|endoftext|>", TOK_PARSE_SPECIAL, &v);
    CHECK(v.n == 1 && v.ids[0] == 32000, "longest special");
    tok_ids_free(&v);
    tok_free(bpe);
    tok_free(phi);
    gguf_close(g1);
    gguf_close(g2);
    return g_failures ? 1 : 0;
}

/* ---- input -------------------------------------------------------------- */

static int group_input(void) {
    const char *names[] = {"llama-spm", "llama-bpe", "gpt-2", "phi-3"};
    int found = 0;
    for (int k = 0; k < 4; k++) {
        gguf_file *g;
        tokenizer *t = vocab(names[k], &g);
        if (!t) continue;
        found++;
        bool spm = tok_get_model(t) == TOK_MODEL_SPM;
        tok_ids v = {0};
        /* Invalid UTF-8: SPM keeps the bytes (byte fallback; a bad lead
         * byte takes the next bytes into its symbol, so a space right after
         * one would come back as U+2581's bytes, as in llama.cpp), BPE sees
         * one U+FFFD per bad byte. */
        const char *bad = spm ? "ok\xC3x\xE2\x82yz\xFF\xFE..\xED\xA0\x80" "end\x80"
                              : "ok \xC3 \xE2\x82 \xFF\xFE \xED\xA0\x80" " end";
        enc(t, bad, 0, &v);
        size_t dl;
        char *back = tok_decode(t, v.ids, v.n, false, &dl);
        if (spm) CHECK(back && dl == strlen(bad) && memcmp(back, bad, dl) == 0, "%s: bytes kept", names[k]);
        else CHECK(back && strstr(back, "ok " R " " R R " " R R " ") != NULL, "%s: U+FFFD per bad byte: '%s'",
                   names[k], back ? back : "");
        free(back);
        /* Random bytes and long runs: no crash, every id in range. */
        uint32_t x = 777u + (uint32_t)k;
        char buf[4096];
        for (int round = 0; round < 50; round++) {
            size_t n = (size_t)(round * 83) % sizeof buf;
            for (size_t i = 0; i < n; i++) {
                x = x * 1103515245u + 12345u;
                buf[i] = round % 3 == 0 ? (char)(x >> 16) : " a1.\n\t\xC3\xA9"[(x >> 16) % 9];
            }
            char err[256];
            v.n = 0;
            CHECK(tok_encode(t, buf, n, TOK_PARSE_SPECIAL, &v, err, sizeof err), "%s", err);
            for (size_t i = 0; i < v.n; i++)
                CHECK(v.ids[i] >= 0 && (uint32_t)v.ids[i] < tok_n_vocab(t), "id out of range");
        }
        memset(buf, 'a', sizeof buf);
        enc(t, "", 0, &v);
        CHECK(v.n == 0, "%s: empty text gives no tokens", names[k]);
        v.n = 0;
        char err[256];
        CHECK(tok_encode(t, buf, sizeof buf, 0, &v, err, sizeof err) && v.n > 0, "long word");
        tok_ids_free(&v);
        tok_free(t);
        gguf_close(g);
    }
    if (!found) { fprintf(stderr, "SKIP: vocabularies missing\n"); return SKIP; }
    return g_failures ? 1 : 0;
}

int main(int argc, char **argv) {
    const char *g = argc > 1 ? argv[1] : "";
    if (strcmp(g, "stream") == 0) return group_stream();
    if (strcmp(g, "stories") == 0) return group_stories();
    if (strcmp(g, "special") == 0) return group_special();
    if (strcmp(g, "input") == 0) return group_input();
    fprintf(stderr, "usage: test_tok_unit stream|stories|special|input\n");
    return 2;
}
