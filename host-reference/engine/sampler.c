/* sampler.c: turning logits into a token (see llm.h for the order of
 * operations). The random numbers come from xoshiro256** seeded through
 * splitmix64, so a seed gives the same tokens on every platform. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "llm.h"

typedef struct {
    int32_t id;
    float logit;
    float p;
} cand;

struct llm_sampler {
    llm_sampler_params p;
    int n_vocab;
    uint64_t rng[4];
    int32_t *hist;          /* ring of the last repeat_last_n accepted tokens */
    int hist_cap, hist_len, hist_head;
    int32_t *count;         /* occurrences in the window, per token (scratch) */
    float *work;            /* penalised logits */
    cand *cands;
};

llm_sampler_params llm_sampler_default_params(void) {
    llm_sampler_params p = {
        .temp = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f,
        .repeat_penalty = 1.0f, .repeat_last_n = 64,
        .presence_penalty = 0.0f, .frequency_penalty = 0.0f, .seed = 0,
    };
    return p;
}

/* ---- RNG -------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(uint64_t s[4]) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Uniform in [0, 1) with 53 random bits. */
static double next_unit(uint64_t s[4]) { return (double)(next_u64(s) >> 11) * 0x1.0p-53; }

/* ---- life -------------------------------------------------------------- */

llm_sampler *llm_sampler_new(const llm_sampler_params *p, int n_vocab) {
    if (n_vocab < 1) return NULL;
    llm_sampler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = p ? *p : llm_sampler_default_params();
    s->n_vocab = n_vocab;
    s->hist_cap = s->p.repeat_last_n > 0 ? s->p.repeat_last_n : 1;
    s->hist = calloc((size_t)s->hist_cap, sizeof *s->hist);
    s->count = calloc((size_t)n_vocab, sizeof *s->count);
    s->work = calloc((size_t)n_vocab, sizeof *s->work);
    s->cands = calloc((size_t)n_vocab, sizeof *s->cands);
    if (!s->hist || !s->count || !s->work || !s->cands) {
        llm_sampler_free(s);
        return NULL;
    }
    llm_sampler_reset(s);
    return s;
}

void llm_sampler_free(llm_sampler *s) {
    if (!s) return;
    free(s->hist);
    free(s->count);
    free(s->work);
    free(s->cands);
    free(s);
}

void llm_sampler_reset(llm_sampler *s) {
    uint64_t sm = s->p.seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix64(&sm);
    s->hist_len = s->hist_head = 0;
}

void llm_sampler_accept(llm_sampler *s, int32_t token) {
    if (s->p.repeat_last_n <= 0) return;
    s->hist[s->hist_head] = token;
    s->hist_head = (s->hist_head + 1) % s->hist_cap;
    if (s->hist_len < s->hist_cap) s->hist_len++;
}

/* ---- steps --------------------------------------------------------------- */

void llm_sampler_apply_penalties(const llm_sampler *s, float *logits) {
    const llm_sampler_params *p = &s->p;
    if (s->hist_len == 0 || (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f &&
                             p->frequency_penalty == 0.0f))
        return;
    for (int i = 0; i < s->hist_len; i++) {
        int32_t t = s->hist[i];
        if (t >= 0 && t < s->n_vocab) s->count[t]++;
    }
    for (int i = 0; i < s->hist_len; i++) {
        int32_t t = s->hist[i];
        if (t < 0 || t >= s->n_vocab || s->count[t] == 0) continue;   /* done already */
        float l = logits[t];
        if (p->repeat_penalty != 1.0f) l = l > 0 ? l / p->repeat_penalty : l * p->repeat_penalty;
        l -= (float)s->count[t] * p->frequency_penalty + p->presence_penalty;
        logits[t] = l;
        s->count[t] = 0;
    }
}

/* Descending logit, then ascending id: a total order, so results never
 * depend on the sort algorithm. */
static int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit > y->logit ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Up to this k, top-k is one insertion pass; above, a quickselect. */
enum { TOP_K_PASS_MAX = 256 };

/* The k best of l[0..n), in cand_cmp order, into c[0..k); all n when k
 * is 0 (off) or at least n. Returns how many. Small k (the default is 40):
 * one pass where a logit enters only if it beats the k-th best so far
 * (equal is not enough: its id is higher). Past the first few hundred
 * logits that is rare, so 32 000 logits cost ~20 us against the
 * quickselect's ~190, which at two threads left the other thread waiting
 * 2-3% of a token. An entry shifts up to k others, so large k (a guest may
 * ask for any) takes the quickselect: from k ~ 1000 on the pass is the
 * slower one. */
static int top_k(const float *l, int n, int k, cand *c) {
    if (k <= 0 || k >= n) k = n;
    if (k > TOP_K_PASS_MAX) {
        for (int i = 0; i < n; i++) c[i] = (cand){i, l[i], 0.0f};
        int lo = 0, hi = k < n ? n - 1 : 0;   /* quickselect the k best to the front */
        while (lo < hi) {
            cand pivot = c[(lo + hi) / 2];
            int i = lo, j = hi;
            while (i <= j) {
                while (cand_cmp(&c[i], &pivot) < 0) i++;
                while (cand_cmp(&c[j], &pivot) > 0) j--;
                if (i <= j) { cand t = c[i]; c[i] = c[j]; c[j] = t; i++; j--; }
            }
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else break;
        }
        qsort(c, (size_t)k, sizeof *c, cand_cmp);
        return k;
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m == k && !(l[i] > c[k - 1].logit)) continue;
        int j = m < k ? m++ : k - 1;   /* a full list drops its last */
        for (; j > 0 && l[i] > c[j - 1].logit; j--) c[j] = c[j - 1];
        c[j] = (cand){i, l[i], 0.0f};
    }
    return k;
}

/* p = softmax(logit / temp) over the n (sorted) candidates. */
static void softmax_cands(cand *c, int n, float temp) {
    double sum = 0;
    const float max = c[0].logit;
    if (isinf(max) && max < 0) {   /* nothing finite: uniform */
        for (int i = 0; i < n; i++) c[i].p = 1.0f / (float)n;
        return;
    }
    for (int i = 0; i < n; i++) {
        c[i].p = expf((c[i].logit - max) / temp);
        sum += c[i].p;
    }
    for (int i = 0; i < n; i++) c[i].p = (float)(c[i].p / sum);
}

int32_t llm_sampler_sample(llm_sampler *s, const float *logits) {
    const llm_sampler_params *p = &s->p;
    const int V = s->n_vocab;
    float *l = s->work;
    for (int i = 0; i < V; i++) l[i] = isnan(logits[i]) ? -INFINITY : logits[i];
    llm_sampler_apply_penalties(s, l);

    int32_t tok;
    if (p->temp <= 0.0f) {
        tok = 0;
        for (int i = 1; i < V; i++)
            if (l[i] > l[tok]) tok = i;
    } else {
        cand *c = s->cands;
        int n = top_k(l, V, p->top_k, c);
        softmax_cands(c, n, 1.0f);
        if (p->top_p < 1.0f) {
            double cum = 0;
            int keep = n;
            for (int i = 0; i < n; i++) {
                cum += c[i].p;
                if (cum >= p->top_p) { keep = i + 1; break; }
            }
            n = keep;
        }
        if (p->min_p > 0.0f) {
            const float floor = p->min_p * c[0].p;
            int keep = 1;
            while (keep < n && c[keep].p >= floor) keep++;
            n = keep;
        }
        softmax_cands(c, n, p->temp);
        /* If rounding leaves the sum of p below u, the last candidate that
         * has a probability at all is taken, never one of p = 0 (-inf). */
        double u = next_unit(s->rng), cum = 0;
        tok = c[0].id;
        for (int i = 0; i < n; i++) {
            if (c[i].p > 0) tok = c[i].id;
            cum += c[i].p;
            if (u < cum) break;
        }
    }
    llm_sampler_accept(s, tok);
    return tok;
}
