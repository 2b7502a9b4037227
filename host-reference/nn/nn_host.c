/* nn_host.c: one guest's WASI-NN state (graphs, execution contexts) and the
 * generation loops behind compute and compute_single. The wasm-facing
 * imports, with their pointer checks, are in nn_imports.c.
 *
 * As in WasmEdge's GGML backend, options, sampler and KV cache belong to
 * the graph; an execution context holds a prompt, its output and the
 * streaming position. */
#define _POSIX_C_SOURCE 200809L
#include "nn_host.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void nn_log(nn_host *h, const char *fmt, ...) {
    FILE *f = h->params.log ? h->params.log : stderr;
    va_list ap;
    va_start(ap, fmt);
    fputs("wasi-nn: ", f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    va_end(ap);
}

nn_host *nn_host_new(nn_registry *r, const nn_params *p) {
    nn_host *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->reg = r;
    if (p) h->params = *p;
    return h;
}

static void ctx_clear(nn_exec *c) {
    tok_ids_free(&c->prompt);
    json_buf_free(&c->out);
    memset(c, 0, sizeof *c);
}

void nn_graph_free(nn_host *h, uint32_t g) {
    nn_graph *gr = &h->graphs[g];
    for (uint32_t i = 0; i < NN_MAX_CTX; i++)
        if (h->ctxs[i].in_use && h->ctxs[i].graph == g) ctx_clear(&h->ctxs[i]);
    llm_context_free(gr->lctx);
    if (gr->shared) nn_registry_release(h->reg, gr->shared);
    llm_model_free(gr->own_model);
    tok_free(gr->own_tok);
    gguf_close(gr->own_gguf);
    free(gr->own_bytes);
    memset(gr, 0, sizeof *gr);
}

void nn_host_free(nn_host *h) {
    if (!h) return;
    for (uint32_t g = 0; g < NN_MAX_GRAPHS; g++)
        if (h->graphs[g].in_use) nn_graph_free(h, g);
    free(h);
}

void nn_host_set_memory(nn_host *h, wasm_rt_memory_t *mem) { h->mem = mem; }

/* Tokens that end a generation: EOS, the metadata's EOT/EOM, and control
 * tokens that the chat formats of the major families use as turn ends. */
static void find_eog(nn_graph *gr) {
    const tokenizer *t = gr->tok;
    gr->n_eog = 0;
    if (tok_eos(t) >= 0) gr->eog[gr->n_eog++] = tok_eos(t);
    const gguf_file *f = llm_model_gguf(gr->model);
    static const char *keys[] = { "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id" };
    for (size_t i = 0; i < 2; i++) {
        const gguf_kv *kv = gguf_find(f, keys[i]);
        int64_t v;
        if (kv && gguf_kv_int(kv, &v) && v >= 0 && v < (int64_t)tok_n_vocab(t) && gr->n_eog < NN_MAX_EOG)
            gr->eog[gr->n_eog++] = (int32_t)v;
    }
    static const char *texts[] = { "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>",
                                   "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0] && gr->n_eog < NN_MAX_EOG; i++) {
        int32_t id = tok_find(t, texts[i], strlen(texts[i]));
        if (id >= 0 && tok_token_type(t, id) == TOK_TYPE_CONTROL) gr->eog[gr->n_eog++] = id;
    }
}

bool nn_is_eog(const nn_graph *gr, int32_t id) {
    for (int i = 0; i < gr->n_eog; i++)
        if (gr->eog[i] == id) return true;
    return false;
}

int nn_graph_init(nn_host *h, uint32_t *out) {
    for (uint32_t g = 0; g < NN_MAX_GRAPHS; g++) {
        if (h->graphs[g].in_use) continue;
        memset(&h->graphs[g], 0, sizeof h->graphs[g]);
        h->graphs[g].in_use = true;
        nn_options_default(&h->graphs[g].opt);
        *out = g;
        return NN_OK;
    }
    nn_log(h, "too many graphs loaded at once (%d)", NN_MAX_GRAPHS);
    return NN_RUNTIME_ERROR;
}

void nn_graph_bind(nn_graph *gr, const llm_model *model, const tokenizer *tok) {
    gr->model = model;
    gr->tok = tok;
    find_eog(gr);
}

/* (Re)creates the engine context when the options that shape it changed. */
static int ensure_lctx(nn_host *h, nn_graph *gr) {
    const llm_hparams *hp = llm_model_hparams(gr->model);
    int n_ctx = gr->opt.ctx_size > 0 ? (int)(gr->opt.ctx_size > 1 << 20 ? 1 << 20 : gr->opt.ctx_size)
                                     : hp->n_ctx_train;
    if (h->params.ctx_cap > 0 && n_ctx > h->params.ctx_cap) n_ctx = (int)h->params.ctx_cap;
    int threads = (int)(gr->opt.threads < 1 ? 1 : gr->opt.threads > 256 ? 256 : gr->opt.threads);
    int batch = (int)(gr->opt.batch_size < 1 ? 512 : gr->opt.batch_size > 8192 ? 8192 : gr->opt.batch_size);
    if (gr->lctx && gr->lctx_n_ctx == n_ctx && gr->lctx_threads == threads && gr->lctx_batch == batch)
        return NN_OK;
    llm_context_free(gr->lctx);
    gr->lctx = NULL;
    llm_context_params cp = llm_context_default_params();
    cp.n_ctx = n_ctx;
    cp.n_threads = threads;
    cp.n_batch = batch;
    char err[256];
    gr->lctx = llm_context_new(gr->model, &cp, err, sizeof err);
    if (!gr->lctx) {
        nn_log(h, "cannot create a context of %d positions: %s", n_ctx, err);
        return NN_RUNTIME_ERROR;
    }
    gr->lctx_n_ctx = n_ctx;
    gr->lctx_threads = threads;
    gr->lctx_batch = batch;
    return NN_OK;
}

static void apply_sampler(nn_graph *gr) {
    llm_sampler_params sp = llm_sampler_default_params();
    sp.temp = (float)gr->opt.temp;
    sp.top_k = (int)(gr->opt.top_k > 1 << 30 ? 1 << 30 : gr->opt.top_k);
    sp.top_p = (float)gr->opt.top_p;
    sp.min_p = (float)gr->opt.min_p;
    sp.repeat_penalty = (float)gr->opt.repeat_penalty;
    sp.repeat_last_n = (int)(gr->opt.last_n_penalty < 0 ? 0 : gr->opt.last_n_penalty > 1 << 20 ? 1 << 20
                                                                 : gr->opt.last_n_penalty);
    sp.presence_penalty = (float)gr->opt.presence_penalty;
    sp.frequency_penalty = (float)gr->opt.frequency_penalty;
    sp.seed = gr->opt.seed;
    llm_set_sampler(gr->lctx, &sp);
}

int nn_set_prompt(nn_host *h, nn_exec *c, const char *text, size_t len) {
    nn_graph *gr = &h->graphs[c->graph];
    int rc = ensure_lctx(h, gr);
    if (rc != NN_OK) return rc;
    tok_ids ids = {0};
    char err[256];
    if (!tok_encode(gr->tok, text, len, TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL, &ids, err, sizeof err)) {
        nn_log(h, "cannot tokenize the prompt: %s", err);
        tok_ids_free(&ids);
        return NN_RUNTIME_ERROR;
    }
    /* Room for the special tokens a chat turn adds, as WasmEdge keeps. */
    int max = gr->lctx_n_ctx - 4;
    if ((int64_t)ids.n > max) {
        nn_log(h, "prompt too long: %zu tokens, the context holds %d", ids.n, max < 0 ? 0 : max);
        tok_ids_free(&ids);
        return NN_PROMPT_TOO_LONG;
    }
    tok_ids_free(&c->prompt);
    c->prompt = ids;
    c->out.len = 0;
    if (c->out.data) c->out.data[0] = 0;
    c->n_out = 0;
    c->streaming = false;
    c->piece_len = 0;
    llm_kv_truncate(gr->lctx, 0);   /* each prompt starts a fresh cache */
    return NN_OK;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Evaluates the prompt from position 0 and primes the sampler's window. */
static int eval_prompt(nn_host *h, nn_exec *c) {
    nn_graph *gr = &h->graphs[c->graph];
    char err[256];
    if (c->prompt.n == 0) {
        nn_log(h, "no prompt set on this execution context");
        return NN_INVALID_ARGUMENT;
    }
    llm_kv_truncate(gr->lctx, 0);
    apply_sampler(gr);
    for (size_t i = 0; i < c->prompt.n; i++) llm_sampler_accept(llm_get_sampler(gr->lctx), c->prompt.ids[i]);
    double t0 = now_s();
    if (!llm_eval(gr->lctx, c->prompt.ids, (int)c->prompt.n, false, err, sizeof err)) {
        nn_log(h, "prompt evaluation failed: %s", err);
        return NN_RUNTIME_ERROR;
    }
    if (gr->opt.enable_log)
        nn_log(h, "prompt: %zu tokens, %.2f tokens/s", c->prompt.n, (double)c->prompt.n / (now_s() - t0));
    c->n_out = 0;
    return NN_OK;
}

/* stream-stdout: the host prints each piece as it is made. */
static void stream_piece(nn_host *h, const nn_graph *gr, const char *p, size_t n) {
    if (!gr->opt.stream_stdout || !p) return;
    FILE *f = h->params.stream ? h->params.stream : stdout;
    fwrite(p, 1, n, f);
    fflush(f);
}

static void append_piece(nn_host *h, nn_exec *c, int32_t id) {
    nn_graph *gr = &h->graphs[c->graph];
    size_t n = 0;
    const char *p = tok_piece(gr->tok, id, true, &n);
    if (!p) return;
    json_buf_raw(&c->out, p, n);
    stream_piece(h, gr, p, n);
}

/* Does the output end with (contain, as a new suffix) the stop text? Only
 * the tail the last piece could have completed needs looking at. */
static bool hit_stop(const nn_exec *c, const char *stop, size_t piece_len) {
    size_t k = strlen(stop);
    if (!k || c->out.len < k) return false;
    size_t from = c->out.len > k + piece_len ? c->out.len - k - piece_len : 0;
    for (size_t i = from; i + k <= c->out.len; i++)
        if (memcmp(c->out.data + i, stop, k) == 0) return true;
    return false;
}

/* Between tokens the host state is consistent and nothing temporary is
 * live, so a guest past its time limit may be unwound right there instead
 * of after the whole generation. The runtime defines this; hosts and tests
 * without one (no time limits) get this empty default. */
__attribute__((weak)) void wlrt_check_interrupt(void) {}

int nn_compute(nn_host *h, nn_exec *c) {
    nn_graph *gr = &h->graphs[c->graph];
    char err[256];
    if (gr->opt.embedding) return nn_embed(h, c);
    int rc = eval_prompt(h, c);
    if (rc != NN_OK) return rc;
    c->out.len = 0;
    json_buf_raw(&c->out, "", 0);
    int64_t limit = gr->opt.n_predict;
    double t0 = now_s();
    for (;;) {
        int32_t id = llm_sample(gr->lctx);
        size_t before = c->out.len;
        append_piece(h, c, id);
        c->n_out++;
        if (c->out.oom) { nn_log(h, "out of memory for the output"); return NN_RUNTIME_ERROR; }
        if (nn_is_eog(gr, id) && !gr->opt.ignore_eos) break;
        if (limit >= 0 && c->n_out >= limit) break;
        if (gr->opt.reverse_prompt[0] && hit_stop(c, gr->opt.reverse_prompt, c->out.len - before)) break;
        if (llm_pos(gr->lctx) >= gr->lctx_n_ctx) {
            nn_log(h, "context full after %d tokens", gr->lctx_n_ctx);
            return NN_CONTEXT_FULL;
        }
        wlrt_check_interrupt();
        if (!llm_eval(gr->lctx, &id, 1, false, err, sizeof err)) {
            nn_log(h, "evaluation failed: %s", err);
            return NN_RUNTIME_ERROR;
        }
    }
    if (gr->opt.enable_log)
        nn_log(h, "generation: %d tokens, %.2f tokens/s", c->n_out, c->n_out / (now_s() - t0));
    return NN_OK;
}

int nn_compute_single(nn_host *h, nn_exec *c) {
    nn_graph *gr = &h->graphs[c->graph];
    char err[256];
    if (!c->streaming) {
        int rc = eval_prompt(h, c);
        if (rc != NN_OK) return rc;
        c->streaming = true;
        c->out.len = 0;
    } else {
        if (c->last_eog) return NN_END_OF_SEQUENCE;
        if (llm_pos(gr->lctx) >= gr->lctx_n_ctx) return NN_CONTEXT_FULL;
        if (!llm_eval(gr->lctx, &c->last, 1, false, err, sizeof err)) {
            nn_log(h, "evaluation failed: %s", err);
            return NN_RUNTIME_ERROR;
        }
    }
    int32_t id = llm_sample(gr->lctx);
    c->last = id;
    c->piece_len = 0;
    if (nn_is_eog(gr, id) && !gr->opt.ignore_eos) {
        c->last_eog = true;
        return NN_END_OF_SEQUENCE;
    }
    size_t n = 0;
    const char *p = tok_piece(gr->tok, id, true, &n);
    if (p && n <= sizeof c->piece) {
        memcpy(c->piece, p, n);
        c->piece_len = n;
    }
    c->n_out++;
    stream_piece(h, gr, p, n);
    return NN_OK;
}

void nn_fini_single(nn_host *h, nn_exec *c) {
    nn_graph *gr = &h->graphs[c->graph];
    c->streaming = false;
    c->last_eog = false;
    c->piece_len = 0;
    if (gr->lctx) {
        llm_kv_truncate(gr->lctx, 0);
        apply_sampler(gr);
    }
}

int nn_embed(nn_host *h, nn_exec *c) {
    nn_graph *gr = &h->graphs[c->graph];
    char err[256];
    if (c->prompt.n == 0) {
        nn_log(h, "no prompt set on this execution context");
        return NN_INVALID_ARGUMENT;
    }
    int n = llm_model_hparams(gr->model)->n_embd;
    float *v = malloc((size_t)n * sizeof *v);
    if (!v) return NN_RUNTIME_ERROR;
    if (!llm_embed(gr->lctx, c->prompt.ids, (int)c->prompt.n, v, err, sizeof err)) {
        nn_log(h, "embedding failed: %s", err);
        free(v);
        return NN_RUNTIME_ERROR;
    }
    c->out.len = 0;
    json_buf_raw(&c->out, "{\"n_embedding\":", strlen("{\"n_embedding\":"));
    json_buf_i64(&c->out, n);
    json_buf_raw(&c->out, ",\"embedding\":[", strlen(",\"embedding\":["));
    for (int i = 0; i < n; i++) {
        if (i) json_buf_raw(&c->out, ",", 1);
        json_buf_f64(&c->out, v[i]);
    }
    json_buf_raw(&c->out, "]}", 2);
    free(v);
    c->n_out = 0;
    return c->out.oom ? NN_RUNTIME_ERROR : NN_OK;
}

void nn_metadata_json(const nn_exec *c, json_buf *b) {
    json_buf_raw(b, "{\"input_tokens\":", strlen("{\"input_tokens\":"));
    json_buf_u64(b, c->prompt.n);
    json_buf_raw(b, ",\"output_tokens\":", strlen(",\"output_tokens\":"));
    json_buf_i64(b, c->n_out);
    static const char tail[] = ",\"llama_build_number\":0,\"llama_commit\":\"wasmlet\"}";
    json_buf_raw(b, tail, sizeof tail - 1);
}
