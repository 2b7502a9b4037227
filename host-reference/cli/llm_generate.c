/* llm_generate.c: `wasmlet-llm -m FILE [-p PROMPT] ...`: generate text
 * with llama.cpp's flags. Text streams to stdout as tokens arrive (whole
 * UTF-8 characters only), timings go to stderr. --ids prints the
 * generated token ids instead of text and --logits N prints, as JSON, the
 * evaluated tokens and the logits of the first N positions (for tests). */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime, sysconf, getpid */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "llm.h"
#include "llm_cli.h"
#include "llm_text.h"

typedef struct {
    const char *model, *prompt, *pin;
    int n_predict, n_ctx, n_threads, n_batch, logits_n;
    bool ignore_eos, ids, seed_set;
    llm_kv_type kv_type;
    llm_sampler_params sp;
} gen_opts;

static int usage_error(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "wasmlet-llm: ");
    fprintf(stderr, fmt, a, b);
    fputs(" (see wasmlet-llm --help)\n", stderr);
    return 2;
}

static bool parse_long(const char *s, long lo, long hi, long *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

static bool parse_float(const char *s, float lo, float hi, float *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || *end || !isfinite(v) || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* Every flag generation accepts, in --help order. parse_args looks flags up
 * here and usage() prints this table, so the help cannot list a flag the
 * parser refuses or miss one it takes. arg NULL: a switch (no value). */
typedef enum {
    G_MODEL, G_PROMPT, G_PREDICT, G_CTX, G_THREADS, G_PIN, G_BATCH, G_KV_F16, G_KV_F32,
    G_TEMP, G_TOP_K, G_TOP_P, G_MIN_P, G_REPEAT_PENALTY, G_REPEAT_LAST_N,
    G_PRESENCE_PENALTY, G_FREQUENCY_PENALTY, G_SEED, G_IGNORE_EOS, G_IDS, G_LOGITS, G_HELP
} gen_flag_id;

typedef struct {
    gen_flag_id id;
    const char *name, *alias, *arg, *help;
} gen_flag;

static const gen_flag gen_flags[] = {
    {G_MODEL, "-m", "--model", "FILE", "the GGUF model (required)"},
    {G_PROMPT, "-p", "--prompt", "TEXT", "the prompt (default: empty, BOS alone)"},
    {G_PREDICT, "-n", "--n-predict", "N", "tokens to generate (default 128; -1: until EOS)"},
    {G_CTX, "-c", "--ctx-size", "N", "context length (default: the model's, at most 4096)"},
    {G_THREADS, "-t", "--threads", "N", "threads, 1-256 (default: the online CPUs, max 64)"},
    {G_PIN, "--pin", NULL, "auto|CPUS", "pin threads to the allowed CPUs or a list: 0,2-3"},
    {G_BATCH, "-b", "--batch-size", "N", "tokens per prompt pass (default and most: 256)"},
    {G_KV_F16, "--kv-f16", NULL, NULL, "F16 KV cache (default for quantized models)"},
    {G_KV_F32, "--kv-f32", NULL, NULL, "F32 KV cache (default for F32/F16/BF16 models)"},
    {G_TEMP, "--temp", NULL, "F", "temperature, 0-100 (default 0.8; 0: greedy)"},
    {G_TOP_K, "--top-k", NULL, "N", "keep the N most likely tokens (default 40; 0: all)"},
    {G_TOP_P, "--top-p", NULL, "F", "keep the likeliest tokens up to mass F (default 0.95)"},
    {G_MIN_P, "--min-p", NULL, "F", "drop tokens below F x the top one (default 0.05)"},
    {G_REPEAT_PENALTY, "--repeat-penalty", NULL, "F", "penalize recent tokens' logits by F (default 1: off)"},
    {G_REPEAT_LAST_N, "--repeat-last-n", NULL, "N", "recent tokens the penalties look at (default 64)"},
    {G_PRESENCE_PENALTY, "--presence-penalty", NULL, "F", "subtract F from recent tokens' logits (default 0)"},
    {G_FREQUENCY_PENALTY, "--frequency-penalty", NULL, "F", "subtract F per recent occurrence (default 0)"},
    {G_SEED, "-s", "--seed", "N", "sampling seed (default: from the time and pid)"},
    {G_IGNORE_EOS, "--ignore-eos", NULL, NULL, "keep generating after the end-of-sequence token"},
    {G_IDS, "--ids", NULL, NULL, "print the generated token ids instead of text"},
    {G_LOGITS, "--logits", NULL, "N", "print tokens and the first N rows of logits as JSON"},
    {G_HELP, "-h", "--help", NULL, "print this help and exit"},
};
#define N_GEN_FLAGS (sizeof gen_flags / sizeof gen_flags[0])

static void usage(FILE *f) {
    fputs("usage: wasmlet-llm -m FILE [-p PROMPT] [options]  generate text\n"
          "       wasmlet-llm -m FILE --info ...       GGUF metadata (--info --help)\n"
          "       wasmlet-llm -m FILE --tokenize ...   token ids (--tokenize --help)\n"
          "Text streams to stdout, timings to stderr. Options (llama.cpp's):\n", f);
    for (size_t i = 0; i < N_GEN_FLAGS; i++) {
        const gen_flag *g = &gen_flags[i];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s%s%s", g->name, g->alias ? ", " : "", g->alias ? g->alias : "",
                 g->arg ? " " : "", g->arg ? g->arg : "");
        fprintf(f, "  %-22s %s\n", left, g->help);
    }
}

static const gen_flag *find_flag(const char *a) {
    for (size_t i = 0; i < N_GEN_FLAGS; i++)
        if (strcmp(a, gen_flags[i].name) == 0 || (gen_flags[i].alias && strcmp(a, gen_flags[i].alias) == 0))
            return &gen_flags[i];
    return NULL;
}

/* Returns 0 to generate, PARSE_HELP when the help was printed (exit 0),
 * else the exit status (2) after a one-line error. A flag's value is never
 * read as a flag: "-p --help" is the prompt "--help". */
#define PARSE_HELP (-1)
static int parse_args(int argc, char **argv, gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->prompt = "";
    o->n_predict = 128;
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    o->n_threads = nproc < 1 ? 1 : nproc > 64 ? 64 : (int)nproc;
    o->n_batch = 256;
    o->sp = llm_sampler_default_params();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const gen_flag *g = find_flag(a);
        if (!g) {
            if (a[0] != '-') return usage_error("unexpected argument '%s'%s", a, "");
            return usage_error("unknown flag '%s'%s", a, "");
        }
        /* Flags without a value. */
        switch (g->id) {
        case G_HELP: usage(stdout); return PARSE_HELP;
        case G_IGNORE_EOS: o->ignore_eos = true; continue;
        case G_IDS: o->ids = true; continue;
        case G_KV_F16: o->kv_type = LLM_KV_F16; continue;
        case G_KV_F32: o->kv_type = LLM_KV_F32; continue;
        default: break;
        }
        if (i + 1 >= argc) return usage_error("flag %s needs a value%s", a, "");
        const char *v = argv[++i];
        long n = 0;
        float f = 0;
        bool ok = true;
        switch (g->id) {
        case G_MODEL: o->model = v; break;
        case G_PROMPT: o->prompt = v; break;
        case G_PREDICT: ok = parse_long(v, -1, INT_MAX, &n); o->n_predict = (int)n; break;
        case G_CTX: ok = parse_long(v, 0, 1 << 20, &n); o->n_ctx = (int)n; break;
        case G_THREADS: ok = parse_long(v, 1, 256, &n); o->n_threads = (int)n; break;
        case G_PIN: ok = *v != 0; o->pin = v; break;   /* llm_context_new checks the list */
        case G_BATCH: ok = parse_long(v, 1, 1 << 16, &n); o->n_batch = (int)n; break;
        case G_TEMP: ok = parse_float(v, 0, 100, &f); o->sp.temp = f; break;
        case G_TOP_K: ok = parse_long(v, 0, INT_MAX, &n); o->sp.top_k = (int)n; break;
        case G_TOP_P: ok = parse_float(v, 0, 1, &f); o->sp.top_p = f; break;
        case G_MIN_P: ok = parse_float(v, 0, 1, &f); o->sp.min_p = f; break;
        case G_REPEAT_PENALTY: ok = parse_float(v, 0.0001f, 100, &f); o->sp.repeat_penalty = f; break;
        case G_REPEAT_LAST_N: ok = parse_long(v, 0, 1 << 20, &n); o->sp.repeat_last_n = (int)n; break;
        case G_PRESENCE_PENALTY: ok = parse_float(v, -100, 100, &f); o->sp.presence_penalty = f; break;
        case G_FREQUENCY_PENALTY: ok = parse_float(v, -100, 100, &f); o->sp.frequency_penalty = f; break;
        case G_SEED: {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            ok = *v && *v != '-' && !errno && !*end;
            o->sp.seed = s;
            o->seed_set = true;
            break;
        }
        case G_LOGITS: ok = parse_long(v, 1, 1 << 20, &n); o->logits_n = (int)n; break;
        default: ok = false; break;   /* the switches, handled above */
        }
        if (!ok) return usage_error("bad value '%s' for %s", v, a);
    }
    if (!o->model) return usage_error("missing -m MODEL.gguf%s%s", "", "");
    if (!o->seed_set) o->sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Logits of the first N positions, kept for --logits. */
typedef struct {
    int n, have, n_vocab;
    float *rows;
} logit_log;

static void log_rows(logit_log *lg, const llm_context *c, int rows) {
    for (int r = 0; r < rows && lg->have < lg->n; r++)
        memcpy(lg->rows + (size_t)lg->have++ * (size_t)lg->n_vocab, llm_get_logits(c, r),
               (size_t)lg->n_vocab * sizeof(float));
}

static void print_json(const logit_log *lg, const int32_t *toks, int n_toks) {
    printf("{\"tokens\": [");
    for (int i = 0; i < n_toks; i++) printf(i ? ", %d" : "%d", (int)toks[i]);
    printf("], \"logits\": [");
    for (int r = 0; r < lg->have; r++) {
        printf(r ? ", [" : "[");
        for (int i = 0; i < lg->n_vocab; i++)
            printf(i ? ", %.9g" : "%.9g", (double)lg->rows[(size_t)r * (size_t)lg->n_vocab + (size_t)i]);
        printf("]");
    }
    printf("]}\n");
}

int llm_cli_generate(int argc, char **argv) {
    gen_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc == PARSE_HELP ? 0 : rc;

    char err[512];
    double t_open = now_s();
    llm_model *m = llm_model_open(o.model, err, sizeof err);
    if (!m) { fprintf(stderr, "wasmlet-llm: %s: %s\n", o.model, err); return 1; }
    t_open = now_s() - t_open;
    const llm_hparams *hp = llm_model_hparams(m);
    llm_text *text = llm_text_new(llm_model_gguf(m), err, sizeof err);
    if (!text) {
        fprintf(stderr, "wasmlet-llm: %s: %s\n", o.model, err);
        llm_model_free(m);
        return 1;
    }

    llm_context_params cp = llm_context_default_params();
    cp.n_ctx = o.n_ctx ? o.n_ctx : (hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096);
    cp.n_threads = o.n_threads;
    cp.n_batch = o.n_batch;
    cp.kv_type = o.kv_type;
    cp.pin_cpus = o.pin;
    llm_context *c = llm_context_new(m, &cp, err, sizeof err);
    int32_t *toks = NULL;
    float *logrows = NULL;
    rc = 1;
    if (!c) { fprintf(stderr, "wasmlet-llm: %s\n", err); goto done; }
    if (!llm_set_sampler(c, &o.sp)) { fprintf(stderr, "wasmlet-llm: out of memory\n"); goto done; }

    const int n_ctx = llm_context_n_ctx(c);
    toks = malloc((size_t)n_ctx * sizeof *toks);
    if (!toks) { fprintf(stderr, "wasmlet-llm: out of memory\n"); goto done; }
    int n_prompt = llm_text_tokenize(text, o.prompt, toks, n_ctx, err, sizeof err);
    if (n_prompt < 0) { fprintf(stderr, "wasmlet-llm: prompt: %s\n", err); goto done; }
    if (n_prompt == 0) { fprintf(stderr, "wasmlet-llm: the prompt is empty and the model has "
                                 "no BOS token\n"); goto done; }

    logit_log lg = {o.logits_n < n_ctx ? o.logits_n : n_ctx, 0, hp->n_vocab, NULL};
    if (lg.n) {
        logrows = malloc((size_t)lg.n * (size_t)hp->n_vocab * sizeof *logrows);
        if (!logrows) { fprintf(stderr, "wasmlet-llm: out of memory\n"); goto done; }
        lg.rows = logrows;
    }

    llm_sampler *s = llm_get_sampler(c);
    for (int i = 0; i < n_prompt; i++) llm_sampler_accept(s, toks[i]);
    double t0 = now_s();
    if (!llm_eval(c, toks, n_prompt, lg.n > 0, err, sizeof err)) {
        fprintf(stderr, "wasmlet-llm: %s\n", err);
        goto done;
    }
    log_rows(&lg, c, lg.n > 0 ? n_prompt : 0);
    double t1 = now_s();

    int n_tok = n_prompt, n_gen = 0;
    const int limit = o.n_predict < 0 ? INT_MAX : o.n_predict;
    while (n_gen < limit) {
        int32_t t = llm_sample(c);
        if (t == hp->eos && !o.ignore_eos) break;
        n_gen++;
        toks[n_tok++] = t;
        if (o.ids) printf(n_gen > 1 ? " %d" : "%d", (int)t);
        else if (!lg.n) llm_text_emit(text, t, stdout);
        fflush(stdout);
        if (n_gen == limit) break;
        if (n_tok >= n_ctx) {
            fprintf(stderr, "wasmlet-llm: context full (%d tokens)\n", n_ctx);
            break;
        }
        if (!llm_eval(c, &t, 1, false, err, sizeof err)) {
            fprintf(stderr, "wasmlet-llm: %s\n", err);
            goto done;
        }
        log_rows(&lg, c, 1);
    }
    double t2 = now_s();
    if (!o.ids && !lg.n) llm_text_flush(text, stdout);
    if (o.ids) printf("\n");
    if (lg.n) print_json(&lg, toks, n_tok);
    else if (!o.ids) printf("\n");
    fflush(stdout);
    fprintf(stderr, "load: %.1f ms, %s; KV cache %s\n", t_open * 1e3, llm_model_pack_note(m),
            llm_context_kv_type(c) == GGML_F16 ? "F16" : "F32");
    fprintf(stderr, "prompt: %d tokens, %.2f tokens/s\n", n_prompt,
            t1 > t0 ? n_prompt / (t1 - t0) : 0.0);
    fprintf(stderr, "generation: %d tokens, %.2f tokens/s\n", n_gen,
            t2 > t1 && n_gen > 0 ? n_gen / (t2 - t1) : 0.0);
    rc = 0;
done:
    free(logrows);
    free(toks);
    llm_context_free(c);
    llm_text_free(text);
    llm_model_free(m);
    return rc;
}
