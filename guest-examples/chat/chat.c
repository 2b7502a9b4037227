/* chat: an interactive chat on stdin/stdout, or one question with a
 * prompt argument.
 *
 *   chat [ALIAS] [PROMPT] [--system TEXT] [--template NAME]
 *        [--tokenizer GGUF] [--no-stream] [sampling flags]
 *
 * Each stdin line is one user message; the reply is streamed to stdout and
 * ends with a newline. "[You]: " and "[Bot]: " markers go to stderr, so
 * stdout holds only the replies. --template names a built-in (llama-2,
 * llama-3, chatml, phi-3, mistral, gemma, plain); --tokenizer reads a GGUF
 * (a bundle's tokenizer file or the model) the guest has been granted, to
 * pick the model's own template and to count tokens so old turns are
 * dropped before the context overflows (default: the environment variable
 * WASMLET_TOKENIZER, when set). Settings as in complete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmlet/io.h"
#include "wasmlet/chat.h"

static int print_text(const char *text, size_t len, void *user) {
    (void)user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static int usage(int code) {
    fprintf(code ? stderr : stdout,
            "usage: chat [ALIAS] [PROMPT] [--system TEXT] [--template NAME] [--tokenizer GGUF]\n"
            "            [--no-stream] [options]\n"
            "  templates: %s\n"
            "options (also environment variables holding JSON):\n%s",
            wl_template_names(), wl_options_help());
    return code;
}

static int turn(wl_chat *c, const char *text, int stream) {
    char *reply = NULL;
    int e = wl_chat_send(c, text, stream ? print_text : NULL, NULL, stream ? NULL : &reply, NULL);
    if (e) {
        fprintf(stderr, "chat: %s\n", wl_last_error());
        return e;
    }
    if (reply) fputs(reply, stdout);
    free(reply);
    fputc('\n', stdout);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv) {
    wl_options o;
    wl_options_init(&o);
    if (wl_options_from_env(&o)) {
        fprintf(stderr, "chat: %s\n", wl_last_error());
        return 2;
    }
    const char *alias = NULL, *prompt = NULL, *system = NULL, *tpl = NULL, *tokfile = NULL;
    int stream = 1;
    for (int i = 1; i < argc;) {
        int e = wl_options_parse_arg(&o, argc, argv, &i);
        if (e == WL_OK) continue;
        if (e != WL_E_NOTFOUND) {
            fprintf(stderr, "chat: %s\n", wl_last_error());
            return 2;
        }
        const char *a = argv[i++];
        const char **val = strcmp(a, "--system") == 0 ? &system
                         : strcmp(a, "--template") == 0 ? &tpl
                         : strcmp(a, "--tokenizer") == 0 ? &tokfile : NULL;
        if (val) {
            if (i >= argc) {
                fprintf(stderr, "chat: option %s: missing value\n", a);
                return 2;
            }
            *val = argv[i++];
        } else if (strcmp(a, "--no-stream") == 0) stream = 0;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return usage(0);
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "chat: unknown option %s\n", a);
            return usage(2);
        } else if (!alias) alias = a;
        else if (!prompt) prompt = a;
        else {
            fprintf(stderr, "chat: unexpected argument \"%s\" (quote the prompt)\n", a);
            return 2;
        }
    }
    /* A host that grants the bundle's tokenizer file may say where. */
    if (!tokfile) tokfile = getenv("WASMLET_TOKENIZER");
    wl_vocab *vocab = NULL;
    if (tokfile && wl_vocab_open(&vocab, tokfile)) {
        fprintf(stderr, "chat: %s\n", wl_last_error());
        return 1;
    }
    wl_model *m = NULL;
    wl_chat *c = NULL;
    int rc = 1;
    if (wl_open(&m, alias ? alias : "default", &o) || wl_chat_new(&c, m, tpl, vocab) ||
        (system && wl_chat_set_system(c, system))) {
        fprintf(stderr, "chat: %s\n", wl_last_error());
        goto out;
    }
    if (!tpl && !vocab) fprintf(stderr, "chat: no --template or --tokenizer given: using \"plain\"\n");
    if (prompt) {
        rc = turn(c, prompt, stream) ? 1 : 0;
        goto out;
    }
    char *line = NULL;
    size_t cap = 0;
    rc = 0;
    for (;;) {
        fputs("[You]: ", stderr);
        int got = wl_read_line(stdin, &line, &cap);
        if (got < 0) {
            fprintf(stderr, "chat: out of memory reading input\n");
            rc = 1;
        }
        if (got <= 0) break;
        if (!line[0]) continue;
        fputs("[Bot]: ", stderr);
        if (turn(c, line, stream)) {
            rc = 1;
            break;
        }
    }
    free(line);
out:
    wl_chat_free(c);
    wl_close(m);
    wl_vocab_free(vocab);
    return rc;
}
