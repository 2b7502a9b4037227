/* tokenize: the model's tokenizer inside the guest.
 *
 *   tokenize GGUF [TEXT] [--count | --ids] [--no-special] [--no-parse-special]
 *            [--split SEP]
 *
 * GGUF is a file the guest may read (a vocabulary-only GGUF, a bundle's
 * tokenizer file, or a small model). Without TEXT, stdin is split into
 * cases at newlines (or at SEP, with \n written as a backslash-n) and each
 * is tokenized on its own. By default tokens are added and special-token
 * texts parsed the way the host tokenizes prompts.
 * Output per case: one "ID<TAB>PIECE" line per token (the piece as a JSON
 * string, or as <0xNN> bytes when it is not whole UTF-8), then a blank
 * line; --ids: the ids on one line separated by spaces; --count: the
 * number of tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "wasmlet/io.h"
#include "wasmlet/tokens.h"

static int valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 4;
        if (k == 4 || i + k >= n + (k == 0 ? 1 : 0)) return 0;   /* bad lead, or cut short */
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80) return 0;
        i += k + 1;
    }
    return 1;
}

/* Like strstr, but the input may hold NUL bytes. */
static const char *find(const char *h, size_t hl, const char *n, size_t nl) {
    for (size_t i = 0; nl && i + nl <= hl; i++)
        if (memcmp(h + i, n, nl) == 0) return h + i;
    return NULL;
}

enum { OUT_PIECES, OUT_IDS, OUT_COUNT };

static int one(const wl_vocab *v, const char *text, size_t len, bool add, bool parse, int mode) {
    int32_t *ids = NULL;
    size_t n = 0;
    if (wl_vocab_encode(v, text, len, add, parse, &ids, &n)) {
        fprintf(stderr, "tokenize: %s\n", wl_last_error());
        return 1;
    }
    if (mode == OUT_COUNT) printf("%zu\n", n);
    for (size_t i = 0; mode == OUT_IDS && i < n; i++) printf(i ? " %d" : "%d", ids[i]);
    if (mode == OUT_IDS) putchar('\n');
    for (size_t i = 0; mode == OUT_PIECES && i < n; i++) {
        size_t pl = 0;
        const char *p = wl_vocab_piece(v, ids[i], &pl);
        printf("%d\t", ids[i]);
        if (p && valid_utf8((const unsigned char *)p, pl)) {
            json_buf b = { 0 };
            json_buf_str(&b, p, pl);
            if (b.data) fwrite(b.data, 1, b.len, stdout);
            json_buf_free(&b);
        } else {
            for (size_t k = 0; p && k < pl; k++) printf("<0x%02X>", (unsigned char)p[k]);
        }
        putchar('\n');
    }
    if (mode == OUT_PIECES) putchar('\n');
    free(ids);
    return 0;
}

/* "\n" in a separator given on a command line means a newline. */
static void unescape(char *s) {
    char *o = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] == 'n') { *o++ = '\n'; s++; }
        else *o++ = *s;
    }
    *o = 0;
}

int main(int argc, char **argv) {
    const char *path = NULL, *text = NULL;
    char *sep = NULL;
    bool add = true, parse = true;
    int mode = OUT_PIECES;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--count") == 0) mode = OUT_COUNT;
        else if (strcmp(a, "--ids") == 0) mode = OUT_IDS;
        else if (strcmp(a, "--no-special") == 0) add = false;
        else if (strcmp(a, "--no-parse-special") == 0) parse = false;
        else if (strcmp(a, "--split") == 0 && i + 1 < argc) sep = argv[++i];
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: tokenize GGUF [TEXT] [--count | --ids] [--no-special] [--no-parse-special] "
                   "[--split SEP]\n");
            return 0;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "tokenize: unknown option %s (or missing value)\n", a);
            return 2;
        } else if (!path) path = a;
        else if (!text) text = a;
        else {
            fprintf(stderr, "tokenize: unexpected argument \"%s\"\n", a);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "tokenize: which GGUF file? (usage: tokenize GGUF [TEXT] ...)\n");
        return 2;
    }
    wl_vocab *v = NULL;
    if (wl_vocab_open(&v, path)) {
        fprintf(stderr, "tokenize: %s\n", wl_last_error());
        return 1;
    }
    int rc = 0;
    if (text) {
        rc = one(v, text, strlen(text), add, parse, mode);
    } else {
        size_t len = 0;
        char *in = wl_read_all(stdin, &len);
        if (!in) {
            fprintf(stderr, "tokenize: out of memory reading input\n");
            wl_vocab_free(v);
            return 1;
        }
        if (sep) unescape(sep);
        const char *s = sep && *sep ? sep : "\n";
        size_t sl = strlen(s), pos = 0;
        while (rc == 0 && pos < len) {
            const char *hit = find(in + pos, len - pos, s, sl);
            size_t end = hit ? (size_t)(hit - in) : len;
            rc = one(v, in + pos, end - pos, add, parse, mode);
            pos = hit ? end + sl : len;
        }
        free(in);
    }
    wl_vocab_free(v);
    return rc;
}
