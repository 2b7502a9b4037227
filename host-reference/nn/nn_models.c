/* nn_models.c: model aliases and their lazily opened, shared models.
 * A model is opened on first use and freed when its last user lets go, so
 * load/unload cycles do not grow the process. */
#define _POSIX_C_SOURCE 200809L
#include "nn_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct nn_registry {
    pthread_mutex_t lock;
    nn_model *models;     /* singly linked, in registration order */
};

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

nn_registry *nn_registry_new(void) {
    nn_registry *r = calloc(1, sizeof *r);
    if (r) pthread_mutex_init(&r->lock, NULL);
    return r;
}

static void unload_model(nn_model *m) {
    tok_free(m->tok);
    llm_model_free(m->model);
    gguf_close(m->buf_gguf);
    m->tok = NULL;
    m->model = NULL;
    m->buf_gguf = NULL;
}

void nn_registry_free(nn_registry *r) {
    if (!r) return;
    for (nn_model *m = r->models, *next; m; m = next) {
        next = m->next;
        unload_model(m);
        free(m->path);
        free(m);
    }
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static bool valid_alias(const char *a, size_t n) {
    if (n == 0 || n >= NN_MAX_ALIAS) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)a[i] < 0x20 || a[i] == ':' || a[i] == 0x7f) return false;
    return true;
}

static nn_model *find(nn_registry *r, const char *alias, size_t n) {
    for (nn_model *m = r->models; m; m = m->next)
        if (strlen(m->alias) == n && memcmp(m->alias, alias, n) == 0) return m;
    return NULL;
}

static bool add(nn_registry *r, const char *alias, size_t n, const char *path,
                const void *data, size_t len, char *err, size_t errlen) {
    if (!valid_alias(alias, n))
        return fail(err, errlen, "wasi-nn: bad model alias '%.*s' (1-%d bytes, no ':' or control characters)",
                    (int)(n > 80 ? 80 : n), alias, NN_MAX_ALIAS - 1);
    if (find(r, alias, n)) return fail(err, errlen, "wasi-nn: model alias '%.*s' registered twice", (int)n, alias);
    nn_model *m = calloc(1, sizeof *m);
    if (!m || (path && !(m->path = strdup(path)))) {
        free(m);
        return fail(err, errlen, "wasi-nn: out of memory");
    }
    memcpy(m->alias, alias, n);
    m->data = data;
    m->len = len;
    nn_model **tail = &r->models;
    while (*tail) tail = &(*tail)->next;
    *tail = m;
    return true;
}

bool nn_registry_preload(nn_registry *r, const char *spec, char *err, size_t errlen) {
    /* alias:ENCODING:TARGET:path — the path may itself contain ':'. */
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    const char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
    if (!c3 || c3[1] == 0)
        return fail(err, errlen, "--nn-preload '%s': expected alias:GGML:AUTO:path", spec);
    size_t enc_len = (size_t)(c2 - c1 - 1), tgt_len = (size_t)(c3 - c2 - 1);
    if (!(enc_len == 4 && strncasecmp(c1 + 1, "GGML", 4) == 0))
        return fail(err, errlen, "--nn-preload '%s': encoding '%.*s' is not supported (only GGML)", spec,
                    (int)enc_len, c1 + 1);
    static const char *targets[] = { "AUTO", "CPU", "GPU", "TPU" };
    bool ok = false;
    for (size_t i = 0; i < 4; i++)
        if (strlen(targets[i]) == tgt_len && strncasecmp(c2 + 1, targets[i], tgt_len) == 0) ok = true;
    if (!ok)
        return fail(err, errlen, "--nn-preload '%s': target '%.*s' is not one of AUTO, CPU, GPU, TPU", spec,
                    (int)tgt_len, c2 + 1);
    pthread_mutex_lock(&r->lock);
    ok = add(r, spec, (size_t)(c1 - spec), c3 + 1, NULL, 0, err, errlen);
    pthread_mutex_unlock(&r->lock);
    return ok;
}

bool nn_registry_add_buffer(nn_registry *r, const char *alias, const void *data, size_t len,
                            const llm_source *src, char *err, size_t errlen) {
    pthread_mutex_lock(&r->lock);
    bool ok = add(r, alias, strlen(alias), NULL, data, len, err, errlen);
    if (ok && src) {
        nn_model *m = find(r, alias, strlen(alias));
        m->src = *src;
        m->has_src = true;
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static bool open_model(nn_model *m, char *err, size_t errlen) {
    char e[256];
    if (m->path) {
        struct stat st;
        if (stat(m->path, &st) != 0)
            return fail(err, errlen, "model file '%s' for alias '%s' does not exist", m->path, m->alias);
        m->model = llm_model_open(m->path, e, sizeof e);
    } else {
        m->buf_gguf = gguf_open_buffer(m->data, m->len, e, sizeof e);
        if (m->buf_gguf) m->model = llm_model_load_source(m->buf_gguf, m->has_src ? &m->src : NULL, e, sizeof e);
    }
    if (!m->model) {
        unload_model(m);
        return fail(err, errlen, "model '%s': %s", m->alias, e);
    }
    m->tok = tok_load_gguf(llm_model_gguf(m->model), e, sizeof e);
    if (!m->tok) {
        unload_model(m);
        return fail(err, errlen, "model '%s': %s", m->alias, e);
    }
    return true;
}

int nn_registry_acquire(nn_registry *r, const char *alias, size_t n, nn_model **out,
                        char *err, size_t errlen) {
    pthread_mutex_lock(&r->lock);
    nn_model *m = find(r, alias, n);
    int rc = NN_OK;
    if (!m) {
        snprintf(err, errlen, "no model registered as '%.*s'", (int)(n > 80 ? 80 : n), alias);
        rc = NN_MODEL_NOT_FOUND;
    } else if (!m->model && !open_model(m, err, errlen)) {
        /* A missing file is "model not found" as on WasmEdge; a file we
         * cannot use is the guest's invalid argument. */
        rc = (m->path && strstr(err, "does not exist")) ? NN_MODEL_NOT_FOUND : NN_INVALID_ARGUMENT;
    } else {
        m->users++;
        *out = m;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

void nn_registry_release(nn_registry *r, nn_model *m) {
    pthread_mutex_lock(&r->lock);
    if (m->users > 0 && --m->users == 0) unload_model(m);
    pthread_mutex_unlock(&r->lock);
}
