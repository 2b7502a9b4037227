/* embed: the embedding of each input line, one JSON object per line.
 *
 *   embed [ALIAS] [TEXT] [options]
 *
 * Without TEXT, every non-empty stdin line is embedded. Output lines are
 * {"index":I,"n_embedding":N,"embedding":[...]} (the host's vector, which
 * WasmEdge's GGML backend L2-normalizes). The model is opened with
 * "embedding":true; ctx_size, batch_size, threads come from the
 * environment (JSON) or flags as in the other examples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "wasmlet/io.h"
#include "wasmlet/wasmlet.h"

static int embed_one(wl_model *m, const char *text, size_t index) {
    float *v = NULL;
    size_t dim = 0;
    if (wl_embed(m, text, &v, &dim, NULL)) {
        fprintf(stderr, "embed: line %zu: %s\n", index + 1, wl_last_error());
        return 1;
    }
    json_buf b = { 0 };
    json_buf_raw(&b, "{\"index\":", 9);
    json_buf_u64(&b, index);
    json_buf_raw(&b, ",\"n_embedding\":", 15);
    json_buf_u64(&b, dim);
    json_buf_raw(&b, ",\"embedding\":[", 14);
    for (size_t i = 0; i < dim; i++) {
        if (i) json_buf_raw(&b, ",", 1);
        json_buf_f64(&b, v[i]);
    }
    json_buf_raw(&b, "]}\n", 3);
    free(v);
    if (b.oom) {
        fprintf(stderr, "embed: out of memory\n");
        return 1;
    }
    fwrite(b.data, 1, b.len, stdout);
    json_buf_free(&b);
    return 0;
}

int main(int argc, char **argv) {
    wl_options o;
    wl_options_init(&o);
    if (wl_options_from_env(&o)) {
        fprintf(stderr, "embed: %s\n", wl_last_error());
        return 2;
    }
    o.embedding = true;
    const char *alias = NULL, *text = NULL;
    for (int i = 1; i < argc;) {
        int e = wl_options_parse_arg(&o, argc, argv, &i);
        if (e == WL_OK) continue;
        if (e != WL_E_NOTFOUND) {
            fprintf(stderr, "embed: %s\n", wl_last_error());
            return 2;
        }
        const char *a = argv[i++];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: embed [ALIAS] [TEXT] [options]\n  without TEXT: one embedding per stdin line\n%s",
                   wl_options_help());
            return 0;
        }
        if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "embed: unknown option %s\n", a);
            return 2;
        }
        if (!alias) alias = a;
        else if (!text) text = a;
        else {
            fprintf(stderr, "embed: unexpected argument \"%s\"\n", a);
            return 2;
        }
    }
    wl_model *m = NULL;
    if (wl_open(&m, alias ? alias : "default", &o)) {
        fprintf(stderr, "embed: %s\n", wl_last_error());
        return 1;
    }
    int rc = 0;
    if (text) {
        rc = embed_one(m, text, 0);
    } else {
        char *line = NULL;
        size_t cap = 0, index = 0;
        int got = 0;
        while (rc == 0 && (got = wl_read_line(stdin, &line, &cap)) > 0) {
            if (line[0]) rc = embed_one(m, line, index++);
        }
        if (got < 0) {
            fprintf(stderr, "embed: out of memory reading input\n");
            rc = 1;
        }
        free(line);
    }
    wl_close(m);
    return rc;
}
