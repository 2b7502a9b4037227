/* wl_options.c: options, their JSON form for the host, and the settings
 * WasmEdge's example guests take from the environment and the command line.
 *
 * One table describes every setting once: its JSON key for the host, the
 * environment variable the WasmEdge examples read, and the flag. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "wl_internal.h"

void wl_options_init(wl_options *o) {
    memset(o, 0, sizeof *o);
    o->ctx_size = o->batch_size = o->threads = o->max_tokens = o->top_k = -1;
    o->temp = o->top_p = o->min_p = o->repeat_penalty = NAN;
    o->presence_penalty = o->frequency_penalty = NAN;
    o->seed = -1;
    o->enable_log = o->ignore_eos = -1;
}

int wl_options_add_stop(wl_options *o, const char *s) {
    if (!s || !*s) return wl_fail(WL_E_ARG, "stop string: empty");
    if (strlen(s) >= WL_STOP_LEN)
        return wl_fail(WL_E_ARG, "stop string: longer than %d bytes", WL_STOP_LEN - 1);
    for (size_t i = 0; i < o->n_stop; i++)
        if (strcmp(o->stop[i], s) == 0) return WL_OK;
    if (o->n_stop == WL_MAX_STOP) return wl_fail(WL_E_ARG, "stop string: more than %d", WL_MAX_STOP);
    memcpy(o->stop[o->n_stop++], s, strlen(s) + 1);
    return WL_OK;
}

typedef enum { S_INT, S_U32, S_SEED, S_FLOAT, S_BOOL, S_STOP } skind;

typedef struct {
    const char *key;    /* host JSON key (dashed) */
    const char *env;    /* WasmEdge example env name; flags are --env with - or _ */
    const char *alt;    /* another flag name, or NULL */
    skind k;
    size_t off;
    const char *help;
} setting;

#define F(m) offsetof(wl_options, m)
static const setting settings[] = {
    { "n-predict", "n_predict", "max-tokens", S_INT, F(max_tokens), "tokens to generate at most" },
    { "ctx-size", "ctx_size", NULL, S_U32, F(ctx_size), "context size in tokens" },
    { "batch-size", "batch_size", NULL, S_U32, F(batch_size), "prompt batch size" },
    { "threads", "threads", NULL, S_U32, F(threads), "threads the host uses" },
    { "reverse-prompt", "reverse_prompt", "stop", S_STOP, F(stop), "stop string (repeatable)" },
    { "enable-log", "enable_log", NULL, S_BOOL, F(enable_log), "host logging (flag: no value)" },
    { "temp", "temp", NULL, S_FLOAT, F(temp), "temperature, 0 = greedy" },
    { "top-k", "top_k", NULL, S_U32, F(top_k), "top-k sampling" },
    { "top-p", "top_p", NULL, S_FLOAT, F(top_p), "top-p sampling" },
    { "min-p", "min_p", NULL, S_FLOAT, F(min_p), "min-p sampling" },
    { "repeat-penalty", "repeat_penalty", NULL, S_FLOAT, F(repeat_penalty), "repetition penalty" },
    { "presence-penalty", "presence_penalty", NULL, S_FLOAT, F(presence_penalty), "presence penalty" },
    { "frequency-penalty", "frequency_penalty", NULL, S_FLOAT, F(frequency_penalty), "frequency penalty" },
    { "seed", "seed", NULL, S_SEED, F(seed), "sampling seed" },
    { "ignore-eos", "ignore_eos", NULL, S_BOOL, F(ignore_eos), "keep generating past end of text" },
};
#undef F
#define N_SETTINGS (sizeof settings / sizeof settings[0])

static void *field(wl_options *o, const setting *s) { return (char *)o + s->off; }
static const void *cfield(const wl_options *o, const setting *s) { return (const char *)o + s->off; }

char *wl_options_json(const wl_options *o) {
    json_buf b = { 0 };
    bool first = true;
    json_buf_raw(&b, "{", 1);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        const void *p = cfield(o, s);
        bool set;
        switch (s->k) {
        case S_INT: case S_U32: set = *(const int32_t *)p >= 0; break;
        case S_SEED: set = *(const int64_t *)p >= 0; break;
        case S_FLOAT: set = !isnan(*(const double *)p); break;
        case S_BOOL: set = *(const int *)p >= 0; break;
        case S_STOP: set = o->n_stop > 0; break;
        default: set = false;
        }
        if (!set) continue;
        if (!first) json_buf_raw(&b, ",", 1);
        first = false;
        json_buf_cstr(&b, s->key);
        json_buf_raw(&b, ":", 1);
        switch (s->k) {
        case S_INT: case S_U32: json_buf_i64(&b, *(const int32_t *)p); break;
        case S_SEED: json_buf_i64(&b, *(const int64_t *)p); break;
        case S_FLOAT: json_buf_f64(&b, *(const double *)p); break;
        case S_BOOL: json_buf_raw(&b, *(const int *)p ? "true" : "false", *(const int *)p ? 4 : 5); break;
        case S_STOP: json_buf_cstr(&b, o->stop[0]); break;
        }
    }
    if (o->embedding) {
        if (!first) json_buf_raw(&b, ",", 1);
        json_buf_raw(&b, "\"embedding\":true", 16);
    }
    json_buf_raw(&b, "}", 1);
    if (b.oom) {
        json_buf_free(&b);
        return NULL;
    }
    return b.data;
}

/* Stores one JSON value into a setting; `where` names it for messages. */
static int store(wl_options *o, const setting *s, const json_value *v, const char *where) {
    void *p = field(o, s);
    switch (s->k) {
    case S_INT: case S_U32: case S_SEED: {
        int64_t lo = s->k == S_INT ? -1 : 0, hi = s->k == S_SEED ? INT64_MAX : INT32_MAX;
        if (v->type != JSON_NUMBER || !v->is_int || v->integer < lo || v->integer > hi)
            return wl_fail(WL_E_ARG, "%s: expected an integer in [%lld, %lld]", where, (long long)lo,
                           (long long)hi);
        if (s->k == S_SEED) *(int64_t *)p = v->integer;
        else *(int32_t *)p = (int32_t)v->integer;
        return WL_OK;
    }
    case S_FLOAT:
        if (v->type != JSON_NUMBER || v->number < 0)
            return wl_fail(WL_E_ARG, "%s: expected a non-negative number", where);
        *(double *)p = v->number;
        return WL_OK;
    case S_BOOL:
        if (v->type != JSON_BOOL) return wl_fail(WL_E_ARG, "%s: expected true or false", where);
        *(int *)p = v->boolean;
        return WL_OK;
    case S_STOP:
        if (v->type != JSON_STRING || v->len != strlen(v->str))
            return wl_fail(WL_E_ARG, "%s: expected a JSON string", where);
        if (wl_options_add_stop(o, v->str)) return wl_fail(WL_E_ARG, "%s: %s", where, wl_last_error());
        return WL_OK;
    }
    return WL_E_ARG;
}

static int store_text(wl_options *o, const setting *s, const char *text, const char *where) {
    char jerr[128];
    json_value *v = json_parse(text, strlen(text), jerr, sizeof jerr);
    /* A stop string is its text as given (WasmEdge's examples take
     * reverse_prompt that way), or a JSON string when it is written as one
     * (so escapes like \n work). Everything else must be JSON. */
    if (s->k == S_STOP && (!v || v->type != JSON_STRING)) {
        json_free(v);
        int e = wl_options_add_stop(o, text);
        return e ? wl_fail(e, "%s: %s", where, wl_last_error()) : WL_OK;
    }
    if (!v) return wl_fail(WL_E_ARG, "%s: not a JSON value (%s)", where, jerr);
    int e = store(o, s, v, where);
    json_free(v);
    return e;
}

int wl_options_from_env(wl_options *o) {
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const char *val = getenv(settings[i].env);
        if (!val) continue;
        char where[64];
        snprintf(where, sizeof where, "environment variable %s", settings[i].env);
        int e = store_text(o, &settings[i], val, where);
        if (e) return e;
    }
    return WL_OK;
}

/* "--top-k" / "--top_k" match "top-k". */
static bool flag_is(const char *arg, const char *name) {
    if (!name || arg[0] != '-' || arg[1] != '-') return false;
    arg += 2;
    for (; *name; name++, arg++) {
        char c = *arg == '_' ? '-' : *arg;
        char n = *name == '_' ? '-' : *name;
        if (c != n) return false;
    }
    return *arg == 0;
}

int wl_options_parse_arg(wl_options *o, int argc, char **argv, int *i) {
    const char *arg = argv[*i];
    for (size_t k = 0; k < N_SETTINGS; k++) {
        const setting *s = &settings[k];
        if (!flag_is(arg, s->env) && !flag_is(arg, s->alt)) continue;
        char where[64];
        snprintf(where, sizeof where, "option %s", arg);
        if (s->k == S_BOOL) {
            *(int *)field(o, s) = 1;
            *i += 1;
            return WL_OK;
        }
        if (*i + 1 >= argc) return wl_fail(WL_E_ARG, "%s: missing value", where);
        int e = store_text(o, s, argv[*i + 1], where);
        if (e) return e;
        *i += 2;
        return WL_OK;
    }
    return WL_E_NOTFOUND;
}

const char *wl_options_help(void) {
    static char text[1536];
    if (text[0]) return text;
    size_t n = 0;
    for (size_t k = 0; k < N_SETTINGS && n < sizeof text; k++) {
        char flag[48];
        snprintf(flag, sizeof flag, "--%s%s%s", settings[k].key, settings[k].alt ? ", --" : "",
                 settings[k].alt ? settings[k].alt : "");
        n += (size_t)snprintf(text + n, sizeof text - n, "  %-30s %s (env %s)\n", flag,
                              settings[k].help, settings[k].env);
    }
    return text;
}
