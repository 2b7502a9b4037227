/* complete: one prompt in, its completion out (streamed or whole).
 *
 *   complete [ALIAS] [PROMPT] [--stream] [--usage] [sampling flags]
 *
 * ALIAS is the model the host registered (default "default"; WasmEdge:
 * --nn-preload default:GGML:AUTO:model.gguf). Without PROMPT the prompt is
 * read from stdin. Settings come from WasmEdge-style environment variables
 * holding JSON (n_predict, ctx_size, temp, ...) and then from flags. The
 * completion is written to stdout exactly, with nothing added; --usage
 * writes one JSON line with the token counts to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmlet/io.h"
#include "wasmlet/wasmlet.h"

static int usage(int code) {
    fprintf(code ? stderr : stdout,
            "usage: complete [ALIAS] [PROMPT] [--stream] [--usage] [options]\n"
            "  ALIAS     model alias (default \"default\"); PROMPT: else read from stdin\n"
            "  --stream  print tokens as they are generated\n"
            "  --usage   print {\"input_tokens\":N,\"output_tokens\":M,...} to stderr\n"
            "options (also environment variables holding JSON):\n%s",
            wl_options_help());
    return code;
}

static int print_text(const char *text, size_t len, void *user) {
    (void)user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static const char *end_name(wl_end e) {
    static const char *const names[] = { "eos", "stop", "max_tokens", "context_full", "callback" };
    return (unsigned)e < 5 ? names[e] : "?";
}

int main(int argc, char **argv) {
    wl_options o;
    wl_options_init(&o);
    if (wl_options_from_env(&o)) {
        fprintf(stderr, "complete: %s\n", wl_last_error());
        return 2;
    }
    const char *alias = NULL, *prompt = NULL;
    int stream = 0, show_usage = 0;
    for (int i = 1; i < argc;) {
        int e = wl_options_parse_arg(&o, argc, argv, &i);
        if (e == WL_OK) continue;
        if (e != WL_E_NOTFOUND) {
            fprintf(stderr, "complete: %s\n", wl_last_error());
            return 2;
        }
        const char *a = argv[i++];
        if (strcmp(a, "--stream") == 0) stream = 1;
        else if (strcmp(a, "--usage") == 0) show_usage = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return usage(0);
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "complete: unknown option %s\n", a);
            return usage(2);
        } else if (!alias) alias = a;
        else if (!prompt) prompt = a;
        else {
            fprintf(stderr, "complete: unexpected argument \"%s\" (quote the prompt)\n", a);
            return 2;
        }
    }
    char *owned = NULL;
    if (!prompt) {
        owned = wl_read_all(stdin, NULL);
        if (!owned) {
            fprintf(stderr, "complete: out of memory reading the prompt\n");
            return 1;
        }
        prompt = owned;
    }
    wl_model *m = NULL;
    if (wl_open(&m, alias ? alias : "default", &o)) {
        fprintf(stderr, "complete: %s\n", wl_last_error());
        free(owned);
        return 1;
    }
    wl_result r;
    int e;
    if (stream) {
        e = wl_generate_stream(m, prompt, print_text, NULL, &r);
    } else {
        char *text = NULL;
        size_t len = 0;
        e = wl_generate(m, prompt, &text, &len, &r);
        if (!e) fwrite(text, 1, len, stdout);
        free(text);
    }
    fflush(stdout);
    if (e) fprintf(stderr, "complete: %s\n", wl_last_error());
    else if (show_usage)
        fprintf(stderr, "{\"input_tokens\":%u,\"output_tokens\":%u,\"end\":\"%s\"}\n", r.input_tokens,
                r.output_tokens, end_name(r.end));
    wl_close(m);
    free(owned);
    return e ? 1 : 0;
}
