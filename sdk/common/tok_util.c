/* tok_util.c: growable arrays, the hash table shape, the merge queue and
 * error messages shared by the tokenizer files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

void tok_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

bool tok_reserve(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem) return false;
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

bool tok_u32_push(tok_u32vec *a, uint32_t x) {
    if (!tok_reserve((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v)) return false;
    a->v[a->n++] = x;
    return true;
}

bool tok_bytes_put(tok_bytes *b, const void *p, size_t n) {
    if (n > SIZE_MAX - b->n) return false;
    if (!tok_reserve((void **)&b->v, &b->cap, b->n + n, 1)) return false;
    if (n) memcpy(b->v + b->n, p, n);
    b->n += n;
    return true;
}

bool tok_ids_push(tok_ids *v, int32_t id) {
    if (!tok_reserve((void **)&v->ids, &v->cap, v->n + 1, sizeof *v->ids)) return false;
    v->ids[v->n++] = id;
    return true;
}

void tok_ids_free(tok_ids *v) {
    free(v->ids);
    v->ids = NULL;
    v->n = v->cap = 0;
}

bool tok_table_init(tok_table *t, size_t n_items) {
    size_t cap = 16;
    while (cap < n_items * 2) {
        if (cap > (size_t)UINT32_MAX / 2) return false;
        cap *= 2;
    }
    t->slot = calloc(cap, sizeof *t->slot);
    t->mask = (uint32_t)(cap - 1);
    return t->slot != NULL;
}

/* A binary min-heap on key: the earliest merge first. */
bool tok_heap_push(tok_scratch *sc, size_t *n, tok_bigram b) {
    if (!tok_reserve(&sc->heap, &sc->heap_cap, *n + 1, sizeof(tok_bigram))) return false;
    tok_bigram *h = sc->heap;
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].key <= b.key) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = b;
    return true;
}

tok_bigram tok_heap_pop(tok_scratch *sc, size_t *n) {
    tok_bigram *h = sc->heap;
    tok_bigram top = h[0], last = h[--(*n)];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && h[c + 1].key < h[c].key) c++;
        if (last.key <= h[c].key) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = last;
    return top;
}

void tok_scratch_free(tok_scratch *s) {
    free(s->sym);
    free(s->heap);
    free(s->hash);
    free(s->cps);
    free(s->lens.v);
    free(s->tmp.v);
    free(s->word.v);
    free(s->raw.v);
    memset(s, 0, sizeof *s);
}
