/* test_sampler.c: the sampler on hand-made logits: greedy, determinism
 * per seed, top-k = 1 equals greedy, top-p / min-p cut-offs, temperature,
 * the empirical distribution matching softmax, and the exact arithmetic
 * of the repeat / presence / frequency penalties over their window. */
#define _POSIX_C_SOURCE 200809L   /* stat */
#include "engine_test.h"

enum { V = 1000 };

static llm_sampler *mk(float temp, int top_k, float top_p, float min_p, uint64_t seed) {
    llm_sampler_params p = llm_sampler_default_params();
    p.temp = temp;
    p.top_k = top_k;
    p.top_p = top_p;
    p.min_p = min_p;
    p.seed = seed;
    p.repeat_penalty = 1.0f;
    llm_sampler *s = llm_sampler_new(&p, V);
    REQUIRE(s != NULL, "sampler");
    return s;
}

static void random_logits(float *l, uint64_t seed) {
    uint64_t x = seed * 2654435761u + 1;
    for (int i = 0; i < V; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        l[i] = (float)((double)(x >> 40) / (double)(1 << 24) * 8.0 - 4.0);
    }
}

static int argmax(const float *l) {
    int b = 0;
    for (int i = 1; i < V; i++) if (l[i] > l[b]) b = i;
    return b;
}

static void test_greedy_and_seed(void) {
    static float l[V];
    llm_sampler *g = mk(0, 40, 0.95f, 0.05f, 1), *k1 = mk(1.0f, 1, 1.0f, 0, 7);
    for (int r = 0; r < 50; r++) {
        random_logits(l, (uint64_t)r);
        int a = argmax(l);
        CHECK(llm_sampler_sample(g, l) == a, "greedy round %d", r);
        CHECK(llm_sampler_sample(k1, l) == a, "top-k 1 round %d", r);
    }
    llm_sampler_free(g);
    llm_sampler_free(k1);

    /* Same seed, same tokens; other seed, other tokens; reset replays. */
    llm_sampler *a = mk(1.0f, 0, 1.0f, 0, 1234), *b = mk(1.0f, 0, 1.0f, 0, 1234),
                *c = mk(1.0f, 0, 1.0f, 0, 1235);
    int32_t first[100];
    int same_ab = 0, same_ac = 0;
    for (int r = 0; r < 100; r++) {
        random_logits(l, 99);
        for (int i = 0; i < V; i++) l[i] *= 0.3f;   /* flat: many candidates */
        int32_t ta = llm_sampler_sample(a, l), tb = llm_sampler_sample(b, l), tc = llm_sampler_sample(c, l);
        first[r] = ta;
        same_ab += ta == tb;
        same_ac += ta == tc;
    }
    CHECK(same_ab == 100, "same seed: %d of 100 equal", same_ab);
    CHECK(same_ac < 20, "different seeds: %d of 100 equal", same_ac);
    llm_sampler_reset(a);
    int replay = 0;
    for (int r = 0; r < 100; r++) replay += llm_sampler_sample(a, l) == first[r];
    CHECK(replay == 100, "reset replays the seed: %d", replay);
    llm_sampler_free(a); llm_sampler_free(b); llm_sampler_free(c);
}

static void test_cutoffs(void) {
    static float l[V];
    for (int i = 0; i < V; i++) l[i] = -10.0f;
    l[10] = 2.0f; l[20] = 1.5f; l[30] = 1.0f; l[40] = -1.0f;
    /* softmax over the four (the rest ~0): p ~ .48 .29 .18 .02 */
    llm_sampler *k2 = mk(1.0f, 2, 1.0f, 0, 3), *p50 = mk(1.0f, 0, 0.5f, 0, 3),
                *p1 = mk(1.0f, 0, 0.01f, 0, 3), *m = mk(1.0f, 0, 1.0f, 0.3f, 3),
                *hot = mk(100.0f, 3, 1.0f, 0, 3);
    int seen_k2[V] = {0}, seen_p50[V] = {0}, seen_m[V] = {0}, seen_hot[V] = {0};
    for (int r = 0; r < 3000; r++) {
        seen_k2[llm_sampler_sample(k2, l)]++;
        seen_p50[llm_sampler_sample(p50, l)]++;
        CHECK(llm_sampler_sample(p1, l) == 10, "top-p 0.01 keeps only the best");
        seen_m[llm_sampler_sample(m, l)]++;
        seen_hot[llm_sampler_sample(hot, l)]++;
    }
    CHECK(seen_k2[10] + seen_k2[20] == 3000 && seen_k2[10] > seen_k2[20] && seen_k2[20] > 0,
          "top-k 2: %d %d", seen_k2[10], seen_k2[20]);
    /* top-p 0.5: .48 < .5 so the second is needed too, not the third */
    CHECK(seen_p50[10] + seen_p50[20] == 3000 && seen_p50[20] > 0, "top-p 0.5: %d %d %d",
          seen_p50[10], seen_p50[20], seen_p50[30]);
    /* min-p 0.3: keeps p >= .3 * .48 = .145: tokens 10, 20, 30 */
    CHECK(seen_m[10] + seen_m[20] + seen_m[30] == 3000 && seen_m[30] > 0, "min-p: %d %d %d",
          seen_m[10], seen_m[20], seen_m[30]);
    /* temperature 100 flattens the top 3 to nearly uniform */
    CHECK(seen_hot[10] > 850 && seen_hot[30] > 850, "hot: %d %d %d", seen_hot[10], seen_hot[20],
          seen_hot[30]);
    llm_sampler_free(k2); llm_sampler_free(p50); llm_sampler_free(p1); llm_sampler_free(m);
    llm_sampler_free(hot);
}

static void test_distribution(void) {
    static float l[V];
    for (int i = 0; i < V; i++) l[i] = -INFINITY;
    l[1] = 0.0f; l[2] = 1.0f; l[3] = 2.0f;
    const double z = 1 + exp(1.0) + exp(2.0);
    const double want[4] = {0, 1 / z, exp(1.0) / z, exp(2.0) / z};
    llm_sampler *s = mk(1.0f, 0, 1.0f, 0, 77);
    int count[4] = {0};
    const int N = 20000;
    for (int r = 0; r < N; r++) {
        int32_t t = llm_sampler_sample(s, l);
        REQUIRE(t >= 1 && t <= 3, "token %d has zero probability", t);
        count[t]++;
    }
    for (int t = 1; t <= 3; t++) {
        double got = (double)count[t] / N, sd = sqrt(want[t] * (1 - want[t]) / N);
        CHECK(fabs(got - want[t]) < 5 * sd, "token %d: frequency %.4f, softmax %.4f", t, got, want[t]);
    }
    /* temperature 0.5 squares the odds */
    llm_sampler_free(s);
    s = mk(0.5f, 0, 1.0f, 0, 78);
    count[1] = count[2] = count[3] = 0;
    for (int r = 0; r < N; r++) count[llm_sampler_sample(s, l)]++;
    const double z2 = 1 + exp(2.0) + exp(4.0);
    CHECK(fabs((double)count[3] / N - exp(4.0) / z2) < 0.015, "temp 0.5: %d", count[3]);
    llm_sampler_free(s);
}

static void test_penalties(void) {
    static float l[V], out[V];
    for (int i = 0; i < V; i++) l[i] = (float)(i % 7) - 3.0f;   /* positive and negative */
    llm_sampler_params p = llm_sampler_default_params();
    p.temp = 0;
    p.repeat_penalty = 2.0f;
    p.repeat_last_n = 4;
    p.presence_penalty = 0.5f;
    p.frequency_penalty = 0.25f;
    llm_sampler *s = llm_sampler_new(&p, V);
    /* history 5, 6, 6, 9, 4: the window (4) is 6, 6, 9, 4; 5 fell out */
    const int32_t hist[] = {5, 6, 6, 9, 4};
    for (int i = 0; i < 5; i++) llm_sampler_accept(s, hist[i]);
    memcpy(out, l, sizeof out);
    llm_sampler_apply_penalties(s, out);
    /* logit 6 % 7 - 3 = 3 > 0: 3/2 - 2*.25 - .5 = 0.5 */
    CHECK(fabs(out[6] - 0.5f) < 1e-6, "token 6: %g", out[6]);
    /* token 9: -1 < 0: -1*2 - .25 - .5 = -2.75 */
    CHECK(fabs(out[9] + 2.75f) < 1e-6, "token 9: %g", out[9]);
    /* token 4: 1/2 - .75 = -.25 */
    CHECK(fabs(out[4] + 0.25f) < 1e-6, "token 4: %g", out[4]);
    CHECK(out[5] == l[5], "token 5 is outside the window: %g", out[5]);
    int changed = 0;
    for (int i = 0; i < V; i++) changed += out[i] != l[i];
    CHECK(changed == 3, "%d logits changed", changed);
    /* negative logits are multiplied: token 1 (value -2) */
    llm_sampler_accept(s, 1);
    memcpy(out, l, sizeof out);
    llm_sampler_apply_penalties(s, out);
    CHECK(fabs(out[1] - (-2.0f * 2.0f - 0.25f - 0.5f)) < 1e-6, "token 1: %g", out[1]);
    /* A penalised best token loses greedy sampling to the runner-up. */
    for (int i = 0; i < V; i++) out[i] = -5.0f;
    out[100] = 3.0f; out[200] = 2.0f;
    llm_sampler_accept(s, 100);
    CHECK(llm_sampler_sample(s, out) == 200, "penalty did not demote token 100");
    llm_sampler_free(s);
    /* Off by default: no change. */
    llm_sampler_params d = llm_sampler_default_params();
    s = llm_sampler_new(&d, V);
    llm_sampler_accept(s, 6);
    memcpy(out, l, sizeof out);
    llm_sampler_apply_penalties(s, out);
    CHECK(memcmp(out, l, sizeof out) == 0, "defaults changed logits");
    llm_sampler_free(s);
}

static void test_nan(void) {
    static float l[V];
    for (int i = 0; i < V; i++) l[i] = NAN;
    l[500] = 1.0f;
    llm_sampler *s = mk(1.0f, 10, 0.9f, 0.1f, 9), *g = mk(0, 0, 1, 0, 9);
    CHECK(llm_sampler_sample(s, l) == 500, "NaN logits are never chosen");
    CHECK(llm_sampler_sample(g, l) == 500, "greedy skips NaN");
    llm_sampler_free(s);
    llm_sampler_free(g);
}

/* Top-k keeps exactly the k best by (logit descending, id ascending), in
 * that order: with the same seed it must draw what the no-top-k path draws
 * from logits where everything else is -inf, and only tokens of that set.
 * The logits have 12 levels, so ties straddle the k-th place; k covers
 * the insertion pass (k <= 256) and the quickselect above it. */
static const float *ref_l;
static int ref_cmp(const void *a, const void *b) {
    const int x = *(const int *)a, y = *(const int *)b;
    if (ref_l[x] != ref_l[y]) return ref_l[x] > ref_l[y] ? -1 : 1;
    return (x > y) - (x < y);
}

static void test_top_k_exact(void) {
    static float l[V], masked[V];
    static int order[V];
    static const int ks[] = {1, 2, 3, 7, 40, 100, 256, 257, 500, V - 1};   /* both sides of TOP_K_PASS_MAX */
    for (int r = 0; r < 20; r++) {
        random_logits(l, 1000 + (uint64_t)r);
        for (int i = 0; i < V; i++) l[i] = floorf(l[i] * 1.5f) * 0.5f;   /* 12 levels */
        if (r % 2) for (int i = 0; i < V; i++) l[i] = -l[i];            /* ties high or low */
        for (int i = 0; i < V; i++) order[i] = i;
        ref_l = l;
        qsort(order, V, sizeof order[0], ref_cmp);
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
            const int k = ks[ki];
            static bool in_top[V];
            for (int i = 0; i < V; i++) { masked[i] = -INFINITY; in_top[i] = false; }
            for (int i = 0; i < k; i++) { masked[order[i]] = l[order[i]]; in_top[order[i]] = true; }
            llm_sampler *a = mk(1.5f, k, 1.0f, 0, (uint64_t)(r * 10 + ki)),
                        *b = mk(1.5f, 0, 1.0f, 0, (uint64_t)(r * 10 + ki));
            int bad = 0, differ = 0;
            for (int d = 0; d < 30; d++) {
                const int32_t ta = llm_sampler_sample(a, l), tb = llm_sampler_sample(b, masked);
                bad += !in_top[ta];
                differ += ta != tb;
            }
            CHECK(bad == 0 && differ == 0, "round %d top-k %d: %d draws outside the k best, %d differ", r, k,
                  bad, differ);
            llm_sampler_free(a);
            llm_sampler_free(b);
        }
    }
}

int main(void) {
    test_top_k_exact();
    test_greedy_and_seed();
    test_cutoffs();
    test_distribution();
    test_penalties();
    test_nan();
    return t_result("test_sampler");
}
