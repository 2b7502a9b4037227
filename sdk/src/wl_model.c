/* wl_model.c: models by alias, generation (whole and streamed), embeddings
 * and usage, over the layer-1 wrappers (contract in wasmlet/wasmlet.h). */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "wl_internal.h"

/* A host that claims to need more than this for one output is refused
 * rather than believed. */
#define WL_OUTPUT_MAX ((size_t)256 << 20)
/* First buffer sizes. Generous on purpose: WasmEdge before 0.14.1 ignored
 * buf_max and wrote the whole output anyway, so the first buffer is all
 * the protection a guest has there (LlamaEdge reserves 24 KiB). */
#define FIRST_PIECE 1024
#define FIRST_META 1024
#define FIRST_TEXT (32 * 1024)

/* Hosts keep one graph per alias and the options belong to the graph, so
 * handles sharing a graph take turns: whichever is about to generate sends
 * its options again when another handle sent its own since. */
#define MAX_OWNERS 16
static struct { bool used; wl_nn_graph graph; const wl_model *owner; } owners[MAX_OWNERS];

static void set_owner(const wl_model *m) {
    int free_slot = -1;
    for (int i = 0; i < MAX_OWNERS; i++) {
        if (owners[i].used && owners[i].graph == m->graph) {
            owners[i].owner = m;
            return;
        }
        if (!owners[i].used && free_slot < 0) free_slot = i;
    }
    if (free_slot >= 0) {   /* with no slot left, every call re-sends */
        owners[free_slot].used = true;
        owners[free_slot].graph = m->graph;
        owners[free_slot].owner = m;
    }
}

static bool is_owner(const wl_model *m) {
    for (int i = 0; i < MAX_OWNERS; i++)
        if (owners[i].used && owners[i].graph == m->graph) return owners[i].owner == m;
    return false;
}

static void drop_owner(const wl_model *m) {
    for (int i = 0; i < MAX_OWNERS; i++)
        if (owners[i].used && owners[i].owner == m) owners[i].used = false;
}

/* Sends m's options unless the graph already has them. */
static int claim_graph(wl_model *m) {
    if (is_owner(m)) return WL_OK;
    char *cfg = wl_options_json(&m->opts);
    if (!cfg) return wl_fail(WL_E_NOMEM, "out of memory");
    int e = strcmp(cfg, "{}") ? wl_nn_set_input_bytes(m->ctx, WL_NN_INPUT_CONFIG, cfg, strlen(cfg)) : WL_OK;
    free(cfg);
    if (e) return wl_fail(e, "set_input (config of model \"%s\"): %s (wasi-nn error %d)", m->alias,
                          wl_nn_strerror(e), e);
    set_owner(m);
    return WL_OK;
}

int wl_open(wl_model **out, const char *alias, const wl_options *opts) {
    if (!out) return wl_fail(WL_E_ARG, "wl_open: no result pointer");
    *out = NULL;
    if (!alias || !*alias) return wl_fail(WL_E_ARG, "wl_open: empty model alias");
    if (strlen(alias) >= sizeof ((wl_model *)0)->alias)
        return wl_fail(WL_E_ARG, "wl_open: model alias longer than 127 bytes");
    wl_model *m = calloc(1, sizeof *m);
    if (!m) return wl_fail(WL_E_NOMEM, "wl_open: out of memory");
    memcpy(m->alias, alias, strlen(alias) + 1);
    if (opts) m->opts = *opts;
    else wl_options_init(&m->opts);
    char *cfg = wl_options_json(&m->opts);
    if (!cfg) {
        free(m);
        return wl_fail(WL_E_NOMEM, "wl_open: out of memory");
    }
    bool has_cfg = strcmp(cfg, "{}") != 0;
    int e = wl_nn_load_by_name(alias, has_cfg ? cfg : NULL, &m->graph);
    if (e) {
        free(cfg);
        free(m);
        return wl_fail(e, "wl_open(\"%s\"): %s: %s (wasi-nn error %d)", alias,
                       has_cfg ? "load_by_name_with_config" : "load_by_name", wl_nn_strerror(e), e);
    }
    e = wl_nn_init_context(m->graph, &m->ctx);
    if (e) {
        free(cfg);
        wl_nn_unload(m->graph);
        free(m);
        return wl_fail(e, "wl_open(\"%s\"): init_execution_context: %s (wasi-nn error %d)", alias,
                       wl_nn_strerror(e), e);
    }
    /* A graph shared with an earlier load kept its first config. */
    if (has_cfg) e = wl_nn_set_input_bytes(m->ctx, WL_NN_INPUT_CONFIG, cfg, strlen(cfg));
    free(cfg);
    if (e) {
        wl_nn_unload(m->graph);
        free(m);
        return wl_fail(e, "wl_open(\"%s\"): set_input (config): %s (wasi-nn error %d)", alias,
                       wl_nn_strerror(e), e);
    }
    set_owner(m);
    *out = m;
    return WL_OK;
}

void wl_close(wl_model *m) {
    if (!m) return;
    drop_owner(m);
    wl_nn_unload(m->graph);
    free(m);
}

const wl_options *wl_model_options(const wl_model *m) { return m ? &m->opts : NULL; }

int wl_set_options(wl_model *m, const wl_options *opts) {
    if (!m || !opts) return wl_fail(WL_E_ARG, "wl_set_options: NULL argument");
    char *cfg = wl_options_json(opts);
    if (!cfg) return wl_fail(WL_E_NOMEM, "wl_set_options: out of memory");
    int e = wl_nn_set_input_bytes(m->ctx, WL_NN_INPUT_CONFIG, cfg, strlen(cfg));
    free(cfg);
    if (e) return wl_fail_nn(e, "wl_set_options: set_input (config)");
    m->opts = *opts;
    set_owner(m);
    return WL_OK;
}

/* get_output(_single) into a reusable buffer that grows as the host asks. */
static int read_grow(wl_nn_ctx c, uint32_t index, bool single, char **buf, size_t *cap, size_t *len) {
    const char *what = single ? "get_output_single" : "get_output";
    for (int tries = 0; tries < 40; tries++) {
        if (!*buf) {
            char *b = malloc(*cap + 1);
            if (!b) return wl_fail(WL_E_NOMEM, "%s: out of memory for %zu bytes", what, *cap);
            *buf = b;
        }
        size_t w = 0;
        int e = single ? wl_nn_get_output_single(c, index, *buf, *cap, &w)
                       : wl_nn_get_output(c, index, *buf, *cap, &w);
        if (e == WL_NN_TOO_LARGE) {
            /* Current hosts say how much they need; older ones say nothing. */
            size_t next = w > *cap ? w : *cap * 2;
            if (next > WL_OUTPUT_MAX)
                return wl_fail(WL_E_FORMAT, "%s(%u): host wants %zu bytes, more than the %zu allowed",
                               what, index, next, WL_OUTPUT_MAX);
            free(*buf);
            *buf = NULL;
            *cap = next;
            continue;
        }
        if (e) return wl_fail(e, "%s(%u): %s (wasi-nn error %d)", what, index, wl_nn_strerror(e), e);
        if (w > *cap)
            return wl_fail(WL_E_FORMAT, "%s(%u): host reports %zu bytes written into a %zu-byte buffer",
                           what, index, w, *cap);
        (*buf)[w] = 0;
        *len = w;
        return WL_OK;
    }
    return wl_fail(WL_E_FORMAT, "%s(%u): buffer still too small after 40 retries", what, index);
}

int wl_read_output(wl_nn_ctx c, uint32_t index, bool single, size_t hint, char **out, size_t *len) {
    if (!out || !len) return wl_fail(WL_E_ARG, "wl_read_output: NULL argument");
    char *buf = NULL;
    size_t cap = hint ? hint : 256;
    int e = read_grow(c, index, single, &buf, &cap, len);
    if (e) {
        free(buf);
        buf = NULL;
    }
    *out = buf;
    return e;
}

static int get_uint(const json_value *root, const char *key, uint32_t *out) {
    const json_value *v = json_get(root, key);
    if (!v || v->type != JSON_NUMBER || !v->is_int || v->integer < 0 || v->integer > UINT32_MAX)
        return wl_fail(WL_E_FORMAT, "usage metadata: \"%s\" missing or not a count", key);
    *out = (uint32_t)v->integer;
    return WL_OK;
}

int wl_parse_usage(const char *json, size_t len, uint32_t *in, uint32_t *out) {
    /* Hosts written in C may count the string's terminator. */
    while (len > 0 && json[len - 1] == 0) len--;
    char jerr[128];
    json_value *root = json_parse(json, len, jerr, sizeof jerr);
    if (!root) return wl_fail(WL_E_FORMAT, "usage metadata: %s", jerr);
    uint32_t a = 0, b = 0;
    int e = root->type != JSON_OBJECT ? wl_fail(WL_E_FORMAT, "usage metadata: not a JSON object")
                                      : get_uint(root, "input_tokens", &a);
    if (!e) e = get_uint(root, "output_tokens", &b);
    json_free(root);
    if (e) return e;
    if (in) *in = a;
    if (out) *out = b;
    return WL_OK;
}

int wl_parse_embedding(const char *json, size_t len, float **vec, size_t *dim) {
    char jerr[128];
    json_value *root = json_parse(json, len, jerr, sizeof jerr);
    if (!root) return wl_fail(WL_E_FORMAT, "embedding output: %s", jerr);
    const json_value *n = json_get(root, "n_embedding");
    const json_value *arr = json_get(root, "embedding");
    int e = WL_OK;
    if (!n || n->type != JSON_NUMBER || !n->is_int || n->integer < 0)
        e = wl_fail(WL_E_FORMAT, "embedding output: \"n_embedding\" missing or not a count");
    else if (!arr || arr->type != JSON_ARRAY)
        e = wl_fail(WL_E_FORMAT, "embedding output: \"embedding\" missing or not an array");
    else if ((uint64_t)n->integer != arr->len)
        e = wl_fail(WL_E_FORMAT, "embedding output: n_embedding is %lld but the array holds %zu",
                    (long long)n->integer, arr->len);
    float *v = NULL;
    if (!e) {
        v = malloc((arr->len ? arr->len : 1) * sizeof *v);
        if (!v) e = wl_fail(WL_E_NOMEM, "embedding output: out of memory");
    }
    for (size_t i = 0; !e && i < arr->len; i++) {
        if (arr->items[i].type != JSON_NUMBER)
            e = wl_fail(WL_E_FORMAT, "embedding output: element %zu is not a number", i);
        else v[i] = (float)arr->items[i].number;
    }
    if (!e) {
        *vec = v;
        *dim = arr->len;
    } else {
        free(v);
    }
    json_free(root);
    return e;
}

static void result_init(wl_result *r) {
    memset(r, 0, sizeof *r);
    r->end = WL_END_EOS;
    r->stop_index = -1;
}

static int set_prompt(wl_model *m, const char *prompt, const char *who) {
    if (!m || !prompt) return wl_fail(WL_E_ARG, "%s: NULL model or prompt", who);
    int e = claim_graph(m);
    if (e) return wl_fail(e, "%s: %s", who, wl_last_error());
    e = wl_nn_set_input_bytes(m->ctx, WL_NN_INPUT_PROMPT, prompt, strlen(prompt));
    if (e) return wl_fail(e, "%s: set_input (prompt of %zu bytes): %s (wasi-nn error %d)", who,
                          strlen(prompt), wl_nn_strerror(e), e);
    return WL_OK;
}

int wl_generate_stream(wl_model *m, const char *prompt, wl_text_cb cb, void *user, wl_result *res) {
    if (!m) return wl_fail(WL_E_ARG, "wl_generate_stream: NULL model");
    return wl_stream_with(m, &m->opts, prompt, cb, user, res);
}

int wl_stream_with(wl_model *m, const wl_options *o, const char *prompt, wl_text_cb cb, void *user,
                   wl_result *res) {
    wl_result r;
    result_init(&r);
    int rc = set_prompt(m, prompt, "wl_generate_stream");
    if (rc) return rc;
    wl_filter f;
    wl_filter_init(&f, o, cb, user);
    char *piece = NULL;
    size_t cap = FIRST_PIECE, n = 0;
    for (;;) {
        if (o->max_tokens >= 0 && r.output_tokens >= (uint32_t)o->max_tokens) {
            r.end = WL_END_MAX_TOKENS;
            break;
        }
        int e = wl_nn_compute_single(m->ctx);
        if (e == WL_NN_END_OF_SEQUENCE) break;
        if (e == WL_NN_CONTEXT_FULL) {
            r.end = WL_END_CONTEXT;
            break;
        }
        if (e) {
            rc = wl_fail(e, "wl_generate_stream: compute_single (token %u): %s (wasi-nn error %d)",
                         r.output_tokens + 1, wl_nn_strerror(e), e);
            break;
        }
        r.output_tokens++;
        rc = read_grow(m->ctx, WL_NN_OUTPUT_TEXT, true, &piece, &cap, &n);
        if (!rc) rc = wl_filter_push(&f, piece, n);
        if (rc || f.ended) break;
    }
    if (!rc && !f.ended) rc = wl_filter_finish(&f);
    if (f.ended) {
        r.end = f.end;
        r.stop_index = f.stop_index;
    }
    wl_filter_free(&f);
    if (!rc && r.output_tokens > 0) {
        /* Usage is a courtesy of the host: a host that has none is no
         * failure, a host that sends garbage is. */
        size_t mlen = 0;
        cap = FIRST_META;
        free(piece);
        piece = NULL;
        int e = read_grow(m->ctx, WL_NN_OUTPUT_METADATA, true, &piece, &cap, &mlen);
        uint32_t in = 0;
        if (!e) rc = wl_parse_usage(piece, mlen, &in, NULL);
        if (!e && !rc) r.input_tokens = in;
        if (e) wl_clear_error();
    }
    free(piece);
    wl_nn_fini_single(m->ctx);
    if (res) *res = r;
    return rc;
}

static int collect(const char *text, size_t len, void *user) {
    json_buf_raw(user, text, len);
    return 0;
}

int wl_generate(wl_model *m, const char *prompt, char **text, size_t *len, wl_result *res) {
    if (!m) return wl_fail(WL_E_ARG, "wl_generate: NULL model");
    return wl_whole_with(m, &m->opts, prompt, text, len, res);
}

int wl_whole_with(wl_model *m, const wl_options *o, const char *prompt, char **text, size_t *len,
                  wl_result *res) {
    if (!text) return wl_fail(WL_E_ARG, "wl_generate: no result pointer");
    *text = NULL;
    wl_result r;
    result_init(&r);
    int rc = set_prompt(m, prompt, "wl_generate");
    if (rc) return rc;
    int e = wl_nn_compute(m->ctx);
    if (e == WL_NN_CONTEXT_FULL) r.end = WL_END_CONTEXT;
    else if (e) return wl_fail(e, "wl_generate: compute: %s (wasi-nn error %d)", wl_nn_strerror(e), e);
    char *raw = NULL;
    size_t n = 0;
    rc = wl_read_output(m->ctx, WL_NN_OUTPUT_TEXT, false, FIRST_TEXT, &raw, &n);
    if (rc) return rc;
    char *meta = NULL;
    size_t mlen = 0;
    if (wl_read_output(m->ctx, WL_NN_OUTPUT_METADATA, false, FIRST_META, &meta, &mlen) == WL_OK) {
        rc = wl_parse_usage(meta, mlen, &r.input_tokens, &r.output_tokens);
        free(meta);
        if (rc) {
            free(raw);
            return rc;
        }
    } else {
        wl_clear_error();
    }
    size_t eog = wl_trailing_eog(raw, n);
    if (r.end != WL_END_CONTEXT && !eog && o->max_tokens >= 0 &&
        r.output_tokens >= (uint32_t)o->max_tokens)
        r.end = WL_END_MAX_TOKENS;
    json_buf out = { 0 };
    wl_filter f;
    wl_filter_init(&f, o, collect, &out);
    rc = wl_filter_push(&f, raw, n - eog);
    if (!rc) rc = wl_filter_finish(&f);
    if (f.ended) {
        r.end = f.end;
        r.stop_index = f.stop_index;
    }
    wl_filter_free(&f);
    free(raw);
    json_buf_raw(&out, "", 0);   /* an empty text is "" too, not NULL */
    if (!rc && out.oom) rc = wl_fail(WL_E_NOMEM, "wl_generate: out of memory");
    if (rc) {
        json_buf_free(&out);
        return rc;
    }
    *text = out.data;
    if (len) *len = out.len;
    if (res) *res = r;
    return WL_OK;
}

int wl_embed(wl_model *m, const char *text, float **vec, size_t *dim, wl_result *res) {
    if (!vec || !dim) return wl_fail(WL_E_ARG, "wl_embed: NULL result pointer");
    wl_result r;
    result_init(&r);
    int rc = set_prompt(m, text, "wl_embed");
    if (rc) return rc;
    int e = wl_nn_compute(m->ctx);
    if (e) return wl_fail(e, "wl_embed: compute: %s (wasi-nn error %d)", wl_nn_strerror(e), e);
    char *raw = NULL;
    size_t n = 0;
    rc = wl_read_output(m->ctx, WL_NN_OUTPUT_TEXT, false, FIRST_TEXT, &raw, &n);
    if (rc) return rc;
    rc = wl_parse_embedding(raw, n, vec, dim);
    free(raw);
    if (!rc) {
        char *meta = NULL;
        size_t mlen = 0;
        if (wl_read_output(m->ctx, WL_NN_OUTPUT_METADATA, false, FIRST_META, &meta, &mlen) == WL_OK)
            wl_parse_usage(meta, mlen, &r.input_tokens, &r.output_tokens);
        free(meta);
        wl_clear_error();
    }
    if (res) *res = r;
    return rc;
}
