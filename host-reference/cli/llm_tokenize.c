/* llm_tokenize.c: `wasmlet-llm -m FILE --tokenize [-p TEXT] [--bos] [--special]`.
 * Prints the token ids of TEXT (or of standard input when there is no -p),
 * space-separated on one line. No BOS unless --bos; --special makes
 * control-token texts in the input into their tokens. Works on
 * vocabulary-only GGUFs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "llm_cli.h"
#include "tokenizer.h"

/* The usage; the flags it lists are the ones llm_cli_tokenize's loop takes. */
#define USAGE "usage: wasmlet-llm -m FILE --tokenize [-p TEXT] [--bos] [--special]"
static const char help_text[] =
    USAGE "\n"
    "Print the token ids of TEXT, space-separated on one line.\n"
    "  -m, --model FILE   the GGUF file (a vocabulary-only one will do)\n"
    "  -p, --prompt TEXT  the text (default: all of standard input)\n"
    "  --bos              start with the BOS token\n"
    "  --special          control-token texts in the input become their tokens\n"
    "  -h, --help         print this help and exit\n";

static char *read_stdin(size_t *len) {
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = cap > ((size_t)1 << 30) ? NULL : realloc(buf, cap * 2);
            if (!nb) { free(buf); return NULL; }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf && ferror(stdin)) { free(buf); return NULL; }
    *len = n;
    return buf;
}

int llm_cli_tokenize(int argc, char **argv) {
    const char *model = NULL, *prompt = NULL;
    unsigned flags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--tokenize") == 0) continue;
        if (strcmp(a, "--bos") == 0) { flags |= TOK_BOS; continue; }
        if (strcmp(a, "--special") == 0) { flags |= TOK_PARSE_SPECIAL; continue; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(help_text, stdout);
            return 0;
        }
        if ((strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0 || strcmp(a, "-p") == 0 ||
             strcmp(a, "--prompt") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "wasmlet-llm: %s needs a value (" USAGE "; see --tokenize --help)\n", a);
                return 2;
            }
            if (a[1] == 'm' || a[2] == 'm') model = argv[++i]; else prompt = argv[++i];
            continue;
        }
        fprintf(stderr, "wasmlet-llm: unknown option '%s' for --tokenize (" USAGE "; see --tokenize --help)\n", a);
        return 2;
    }
    if (!model) {
        fprintf(stderr, "wasmlet-llm: --tokenize needs -m FILE (" USAGE "; see --tokenize --help)\n");
        return 2;
    }
    char err[512];
    gguf_file *g = gguf_open_file(model, err, sizeof err);
    if (!g) {
        fprintf(stderr, "wasmlet-llm: %s: %s\n", model, err);
        return 1;
    }
    tokenizer *t = tok_load_gguf(g, err, sizeof err);
    if (!t) {
        fprintf(stderr, "wasmlet-llm: %s: %s\n", model, err);
        gguf_close(g);
        return 1;
    }
    size_t len;
    char *text = NULL;
    if (prompt) {
        len = strlen(prompt);
    } else if (!(text = read_stdin(&len))) {
        fprintf(stderr, "wasmlet-llm: cannot read standard input\n");
        tok_free(t);
        gguf_close(g);
        return 1;
    }
    tok_ids ids = {0};
    int rc = 0;
    if (!tok_encode(t, prompt ? prompt : text, len, flags, &ids, err, sizeof err)) {
        fprintf(stderr, "wasmlet-llm: %s\n", err);
        rc = 1;
    } else {
        for (size_t i = 0; i < ids.n; i++) printf(i ? " %d" : "%d", ids.ids[i]);
        putchar('\n');
        if (fflush(stdout) != 0) rc = 1;
    }
    tok_ids_free(&ids);
    free(text);
    tok_free(t);
    gguf_close(g);
    return rc;
}
