/* nn_imports.c: the wasi_ephemeral_nn imports as wasm2c calls them.
 * Everything a guest passes is checked here, before nn_host.c sees it:
 * handles against the tables, pointer/length pairs against the guest
 * memory's current size (with 64-bit arithmetic, so no sum can wrap). */
#define _POSIX_C_SOURCE 200809L
#include "nn_host.h"

#include <stdlib.h>
#include <string.h>

typedef uint32_t u32;

const host_import nn_imports[] = {
    { "wasi_ephemeral_nn", "load", "iiiii:i" },
    { "wasi_ephemeral_nn", "load_by_name", "iii:i" },
    { "wasi_ephemeral_nn", "load_by_name_with_config", "iiiii:i" },
    { "wasi_ephemeral_nn", "init_execution_context", "ii:i" },
    { "wasi_ephemeral_nn", "set_input", "iii:i" },
    { "wasi_ephemeral_nn", "compute", "i:i" },
    { "wasi_ephemeral_nn", "get_output", "iiiii:i" },
    { "wasi_ephemeral_nn", "compute_single", "i:i" },
    { "wasi_ephemeral_nn", "get_output_single", "iiiii:i" },
    { "wasi_ephemeral_nn", "fini_single", "i:i" },
    { "wasi_ephemeral_nn", "unload", "i:i" },
    { "wasi_ephemeral_nn", "finalize_execution_context", "i:i" },
};
const size_t nn_n_imports = sizeof nn_imports / sizeof nn_imports[0];

/* The guest bytes [ptr, ptr+len), or NULL when any of it is outside memory. */
static uint8_t *gmem(nn_host *h, u32 ptr, uint64_t len) {
    if (!h->mem || (uint64_t)ptr + len > h->mem->size) return NULL;
    return h->mem->data + ptr;
}

static bool put_u32(nn_host *h, u32 ptr, u32 v) {
    uint8_t *p = gmem(h, ptr, 4);
    if (!p) return false;
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
    return true;
}

static u32 rd_u32(const uint8_t *p) {
    return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static nn_graph *graph_of(nn_host *h, u32 g) {
    return g < NN_MAX_GRAPHS && h->graphs[g].in_use ? &h->graphs[g] : NULL;
}

static nn_exec *ctx_of(nn_host *h, u32 c) {
    return c < NN_MAX_CTX && h->ctxs[c].in_use ? &h->ctxs[c] : NULL;
}

static int bad(nn_host *h, const char *what) {
    nn_log(h, "%s", what);
    return NN_INVALID_ARGUMENT;
}

/* ---- load ------------------------------------------------------------- */

static int apply_config(nn_host *h, nn_graph *gr, const uint8_t *json, size_t len) {
    char err[256];
    int rc = nn_config_apply(&gr->opt, (const char *)json, len, err, sizeof err);
    if (rc != NN_OK) nn_log(h, "%s", err);
    return rc;
}

u32 Z_wasi_ephemeral_nnZ_load(nn_host *h, u32 builders, u32 count, u32 encoding, u32 target, u32 graph_out) {
    if (encoding != 6) {
        nn_log(h, "load: encoding %u is not supported (only GGML = 6)", encoding);
        return NN_INVALID_ENCODING;
    }
    if (target > 2) return bad(h, "load: execution target must be cpu, gpu or tpu");
    if (count < 1) return bad(h, "load: no model bytes given");
    const uint8_t *b = gmem(h, builders, (uint64_t)count * 8);
    if (!b || !gmem(h, graph_out, 4)) return bad(h, "load: builder array or graph pointer outside guest memory");
    u32 mptr = rd_u32(b), mlen = rd_u32(b + 4);
    const uint8_t *model = gmem(h, mptr, mlen);
    if (!model) return bad(h, "load: model bytes outside guest memory");
    /* WasmEdge reads "preload:PATH" as a host file: that would let a guest
     * read any file, so a sandboxing host refuses it. */
    if (mlen >= 8 && memcmp(model, "preload:", 8) == 0)
        return bad(h, "load: 'preload:' host paths are refused; use load_by_name with an alias");
    const uint8_t *cfg = NULL;
    u32 clen = 0;
    if (count > 1) {
        clen = rd_u32(b + 12);
        cfg = gmem(h, rd_u32(b + 8), clen);
        if (!cfg) return bad(h, "load: config bytes outside guest memory");
    }
    u32 g;
    int rc = nn_graph_init(h, &g);
    if (rc != NN_OK) return (u32)rc;
    nn_graph *gr = &h->graphs[g];
    if (cfg && (rc = apply_config(h, gr, cfg, clen)) != NN_OK) goto fail;
    /* The guest may change its memory later: the model is copied out. */
    gr->own_bytes = malloc(mlen ? mlen : 1);
    if (!gr->own_bytes) { rc = NN_RUNTIME_ERROR; goto fail; }
    memcpy(gr->own_bytes, model, mlen);
    char err[256];
    gr->own_gguf = gguf_open_buffer(gr->own_bytes, mlen, err, sizeof err);
    if (gr->own_gguf) gr->own_model = llm_model_load(gr->own_gguf, err, sizeof err);
    if (gr->own_model) gr->own_tok = tok_load_gguf(gr->own_gguf, err, sizeof err);
    if (!gr->own_tok) {
        nn_log(h, "load: %s", err);
        rc = NN_INVALID_ARGUMENT;
        goto fail;
    }
    nn_graph_bind(gr, gr->own_model, gr->own_tok);
    put_u32(h, graph_out, g);
    return NN_OK;
fail:
    nn_graph_free(h, g);
    return (u32)rc;
}

static u32 load_named(nn_host *h, u32 name_ptr, u32 name_len, const uint8_t *cfg, u32 clen, u32 graph_out) {
    const uint8_t *name = gmem(h, name_ptr, name_len);
    if (!name || !gmem(h, graph_out, 4)) return bad(h, "load_by_name: name or graph pointer outside guest memory");
    if (name_len == 0 || name_len >= NN_MAX_ALIAS) {
        nn_log(h, "load_by_name: no model registered under a %u-byte name", name_len);
        return NN_MODEL_NOT_FOUND;
    }
    /* A name already loaded gives the same graph; its config is ignored. */
    for (u32 g = 0; g < NN_MAX_GRAPHS; g++) {
        nn_graph *gr = &h->graphs[g];
        if (gr->in_use && gr->shared && strlen(gr->alias) == name_len && memcmp(gr->alias, name, name_len) == 0) {
            put_u32(h, graph_out, g);
            return NN_OK;
        }
    }
    u32 g;
    int rc = nn_graph_init(h, &g);
    if (rc != NN_OK) return (u32)rc;
    nn_graph *gr = &h->graphs[g];
    if (cfg && (rc = apply_config(h, gr, cfg, clen)) != NN_OK) goto fail;
    char err[512];
    rc = nn_registry_acquire(h->reg, (const char *)name, name_len, &gr->shared, err, sizeof err);
    if (rc != NN_OK) {
        nn_log(h, "load_by_name: %s", err);
        goto fail;
    }
    memcpy(gr->alias, name, name_len);
    nn_graph_bind(gr, gr->shared->model, gr->shared->tok);
    put_u32(h, graph_out, g);
    return NN_OK;
fail:
    nn_graph_free(h, g);
    return (u32)rc;
}

u32 Z_wasi_ephemeral_nnZ_load_by_name(nn_host *h, u32 name_ptr, u32 name_len, u32 graph_out) {
    return load_named(h, name_ptr, name_len, NULL, 0, graph_out);
}

u32 Z_wasi_ephemeral_nnZ_load_by_name_with_config(nn_host *h, u32 name_ptr, u32 name_len, u32 cfg_ptr,
                                                  u32 cfg_len, u32 graph_out) {
    const uint8_t *cfg = gmem(h, cfg_ptr, cfg_len);
    if (!cfg) return bad(h, "load_by_name_with_config: config outside guest memory");
    return load_named(h, name_ptr, name_len, cfg, cfg_len, graph_out);
}

u32 Z_wasi_ephemeral_nnZ_unload(nn_host *h, u32 g) {
    if (!graph_of(h, g)) return bad(h, "unload: no such graph");
    nn_graph_free(h, g);
    return NN_OK;
}

/* ---- execution contexts --------------------------------------------- */

u32 Z_wasi_ephemeral_nnZ_init_execution_context(nn_host *h, u32 g, u32 ctx_out) {
    if (!graph_of(h, g)) return bad(h, "init_execution_context: no such graph");
    if (!gmem(h, ctx_out, 4)) return bad(h, "init_execution_context: context pointer outside guest memory");
    for (u32 i = 0; i < NN_MAX_CTX; i++) {
        if (h->ctxs[i].in_use) continue;
        memset(&h->ctxs[i], 0, sizeof h->ctxs[i]);
        h->ctxs[i].in_use = true;
        h->ctxs[i].graph = g;
        put_u32(h, ctx_out, i);
        return NN_OK;
    }
    nn_log(h, "init_execution_context: too many contexts (%d)", NN_MAX_CTX);
    return NN_RUNTIME_ERROR;
}

u32 Z_wasi_ephemeral_nnZ_finalize_execution_context(nn_host *h, u32 c) {
    nn_exec *e = ctx_of(h, c);
    if (!e) return bad(h, "finalize_execution_context: no such context");
    tok_ids_free(&e->prompt);
    json_buf_free(&e->out);
    memset(e, 0, sizeof *e);
    return NN_OK;
}

u32 Z_wasi_ephemeral_nnZ_set_input(nn_host *h, u32 c, u32 index, u32 tensor_ptr) {
    nn_exec *e = ctx_of(h, c);
    if (!e) return bad(h, "set_input: no such context");
    const uint8_t *t = gmem(h, tensor_ptr, 20);
    if (!t) return bad(h, "set_input: tensor outside guest memory");
    u32 dims_ptr = rd_u32(t), dims_len = rd_u32(t + 4), type = rd_u32(t + 8);
    u32 data_ptr = rd_u32(t + 12), data_len = rd_u32(t + 16);
    if (!gmem(h, dims_ptr, (uint64_t)dims_len * 4)) return bad(h, "set_input: tensor dimensions outside guest memory");
    /* The wiggle model reads the type as one byte; a full u32 with zero
     * high bytes is what both read the same. */
    u32 t8 = type & 0xFF;
    if (t8 > 5 || t8 == 2 || t8 == 5) return bad(h, "set_input: tensor type must be f16, f32, u8 or i32");
    const uint8_t *data = gmem(h, data_ptr, data_len);
    if (!data) return bad(h, "set_input: tensor data outside guest memory");
    nn_graph *gr = &h->graphs[e->graph];
    if (index == 1) return (u32)apply_config(h, gr, data, data_len);
    return (u32)nn_set_prompt(h, e, (const char *)data, data_len);
}

u32 Z_wasi_ephemeral_nnZ_compute(nn_host *h, u32 c) {
    nn_exec *e = ctx_of(h, c);
    if (!e) return bad(h, "compute: no such context");
    return (u32)nn_compute(h, e);
}

u32 Z_wasi_ephemeral_nnZ_compute_single(nn_host *h, u32 c) {
    nn_exec *e = ctx_of(h, c);
    if (!e) return bad(h, "compute_single: no such context");
    return (u32)nn_compute_single(h, e);
}

u32 Z_wasi_ephemeral_nnZ_fini_single(nn_host *h, u32 c) {
    nn_exec *e = ctx_of(h, c);
    if (!e) return bad(h, "fini_single: no such context");
    nn_fini_single(h, e);
    return NN_OK;
}

/* ---- outputs ---------------------------------------------------------- */

/* Copies n bytes to the guest buffer. A short buffer gets nothing and
 * bytes_written = the size needed (current WasmEdge); in compat mode a zero
 * buf_max means "large enough", as older WasmEdge assumed, bounded by the
 * guest memory and by what those guests reserve. */
static u32 write_out(nn_host *h, const void *src, size_t n, u32 buf, u32 buf_max, u32 written) {
    if (!gmem(h, written, 4)) return bad(h, "get_output: bytes_written pointer outside guest memory");
    u32 cap = buf_max;
    if (buf_max == 0 && h->params.compat_unbounded_output) {
        cap = NN_COMPAT_OUTPUT_MAX;
        if (h->mem && (uint64_t)buf + cap > h->mem->size)
            cap = buf < h->mem->size ? h->mem->size - buf : 0;
    }
    if (cap && !gmem(h, buf, cap)) return bad(h, "get_output: output buffer outside guest memory");
    if (n > cap) {
        put_u32(h, written, (u32)(n > UINT32_MAX ? UINT32_MAX : n));
        return NN_TOO_LARGE;
    }
    if (n) memcpy(gmem(h, buf, n), src, n);
    put_u32(h, written, (u32)n);
    return NN_OK;
}

/* Output 0 is text (all of it, or the last piece when streaming); output 1
 * the token counts as JSON, the same for both. */
static u32 get_output(nn_host *h, const char *call, u32 c, u32 index, bool single, u32 buf, u32 buf_max,
                      u32 written) {
    nn_exec *e = ctx_of(h, c);
    if (!e) { nn_log(h, "%s: no such context", call); return NN_INVALID_ARGUMENT; }
    if (index == 0 && single) return write_out(h, e->piece, e->piece_len, buf, buf_max, written);
    if (index == 0) return write_out(h, e->out.data ? e->out.data : "", e->out.len, buf, buf_max, written);
    if (index != 1) { nn_log(h, "%s: index must be 0 (text) or 1 (metadata)", call); return NN_INVALID_ARGUMENT; }
    json_buf m = {0};
    nn_metadata_json(e, &m);
    u32 rc = m.oom ? NN_RUNTIME_ERROR : write_out(h, m.data, m.len, buf, buf_max, written);
    json_buf_free(&m);
    return rc;
}

u32 Z_wasi_ephemeral_nnZ_get_output(nn_host *h, u32 c, u32 index, u32 buf, u32 buf_max, u32 written) {
    return get_output(h, "get_output", c, index, false, buf, buf_max, written);
}

u32 Z_wasi_ephemeral_nnZ_get_output_single(nn_host *h, u32 c, u32 index, u32 buf, u32 buf_max, u32 written) {
    return get_output(h, "get_output_single", c, index, true, buf, buf_max, written);
}
