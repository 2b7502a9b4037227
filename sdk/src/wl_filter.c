/* wl_filter.c: bytes from the model -> whole UTF-8 characters -> stop
 * strings -> the caller's callback (contract in wl_internal.h).
 *
 * UTF-8 repair follows Unicode's "maximal subpart" practice: each maximal
 * invalid subsequence becomes one U+FFFD, so the text delivered is always
 * valid and the same however the bytes were split into pieces. */
#include <stdlib.h>
#include <string.h>

#include "wl_internal.h"

static const char replacement[] = "\xEF\xBF\xBD";

void wl_filter_init(wl_filter *f, const wl_options *o, wl_text_cb cb, void *user) {
    memset(f, 0, sizeof *f);
    f->stops = o ? (const char (*)[WL_STOP_LEN])o->stop : NULL;
    f->n_stop = o ? o->n_stop : 0;
    f->cb = cb;
    f->user = user;
    f->stop_index = -1;
}

void wl_filter_free(wl_filter *f) {
    free(f->held);
    f->held = NULL;
    f->n_held = f->cap_held = 0;
}

static int hold(wl_filter *f, const void *p, size_t n) {
    if (f->cap_held - f->n_held < n) {
        size_t cap = f->cap_held ? f->cap_held : 64;
        while (cap - f->n_held < n) cap *= 2;
        char *h = realloc(f->held, cap);
        if (!h) return wl_fail(WL_E_NOMEM, "generate: out of memory buffering text");
        f->held = h;
        f->cap_held = cap;
    }
    memcpy(f->held + f->n_held, p, n);
    f->n_held += n;
    return WL_OK;
}

/* Length of a valid sequence led by b, and the range its second byte must
 * fall in (which excludes overlongs, surrogates and code points > U+10FFFF);
 * 0 for a byte that cannot lead. */
static int seq_len(unsigned char b, unsigned char *lo, unsigned char *hi) {
    *lo = 0x80;
    *hi = 0xBF;
    if (b < 0x80) return 1;
    if (b < 0xC2) return 0;
    if (b < 0xE0) return 2;
    if (b < 0xF0) {
        if (b == 0xE0) *lo = 0xA0;
        if (b == 0xED) *hi = 0x9F;
        return 3;
    }
    if (b < 0xF5) {
        if (b == 0xF0) *lo = 0x90;
        if (b == 0xF4) *hi = 0x8F;
        return 4;
    }
    return 0;
}

/* Moves whole characters from (pend + in) into held; keeps an unfinished
 * tail in pend. */
static int repair(wl_filter *f, const unsigned char *in, size_t n) {
    size_t i = 0;
    while (i < n || f->n_pend) {
        if (f->n_pend == 0) {
            /* Fast path: a run of ASCII. */
            size_t j = i;
            while (j < n && in[j] < 0x80) j++;
            if (j > i) {
                int e = hold(f, in + i, j - i);
                if (e) return e;
                i = j;
                continue;
            }
        }
        /* Gather one sequence into pend. */
        if (f->n_pend == 0) f->pend[f->n_pend++] = in[i++];
        unsigned char lo, hi;
        int need = seq_len(f->pend[0], &lo, &hi);
        if (need == 0) {
            f->n_pend = 0;
            int e = hold(f, replacement, 3);
            if (e) return e;
            continue;
        }
        bool bad = false;
        while ((int)f->n_pend < need && i < n) {
            unsigned char c = in[i];
            unsigned char l = f->n_pend == 1 ? lo : 0x80, h = f->n_pend == 1 ? hi : 0xBF;
            if (c < l || c > h) { bad = true; break; }  /* c starts over, not consumed */
            f->pend[f->n_pend++] = in[i++];
        }
        if (bad) {
            f->n_pend = 0;
            int e = hold(f, replacement, 3);
            if (e) return e;
            continue;
        }
        if ((int)f->n_pend < need) break;   /* wait for the next piece */
        int e = hold(f, f->pend, f->n_pend);
        f->n_pend = 0;
        if (e) return e;
    }
    return WL_OK;
}

static bool deliver(wl_filter *f, size_t n) {
    if (n == 0 || !f->cb) return true;
    if (f->cb(f->held, n, f->user) == 0) return true;
    f->ended = true;
    f->end = WL_END_CALLBACK;
    return false;
}

static void drop_front(wl_filter *f, size_t n) {
    if (n == 0) return;
    memmove(f->held, f->held + n, f->n_held - n);
    f->n_held -= n;
}

/* Earliest stop string in held; ties go to the lower index. */
static int find_stop(const wl_filter *f, size_t *at) {
    int best = -1;
    for (size_t s = 0; s < f->n_stop; s++) {
        size_t sl = strlen(f->stops[s]);
        if (sl == 0 || sl > f->n_held) continue;
        for (size_t p = 0; p + sl <= f->n_held; p++) {
            if (best >= 0 && p >= *at) break;
            if (memcmp(f->held + p, f->stops[s], sl) == 0) {
                *at = p;
                best = (int)s;
                break;
            }
        }
    }
    return best;
}

/* Bytes at the end of held that are a proper prefix of some stop string. */
static size_t stop_prefix_tail(const wl_filter *f) {
    size_t keep = 0;
    for (size_t s = 0; s < f->n_stop; s++) {
        size_t sl = strlen(f->stops[s]);
        size_t max = sl - (sl > 0);
        if (max > f->n_held) max = f->n_held;
        for (size_t k = max; k > keep; k--) {
            if (memcmp(f->held + f->n_held - k, f->stops[s], k) == 0) {
                keep = k;
                break;
            }
        }
    }
    return keep;
}

static void settle(wl_filter *f, bool final) {
    size_t at = 0;
    int s = find_stop(f, &at);
    if (s >= 0) {
        if (deliver(f, at)) {
            f->ended = true;
            f->end = WL_END_STOP;
            f->stop_index = s;
        }
        f->n_held = 0;
        return;
    }
    size_t n = final ? f->n_held : f->n_held - stop_prefix_tail(f);
    if (deliver(f, n)) drop_front(f, n);
    else f->n_held = 0;
}

int wl_filter_push(wl_filter *f, const void *bytes, size_t n) {
    if (f->ended) return WL_OK;
    int e = repair(f, bytes, n);
    if (e) return e;
    settle(f, false);
    return WL_OK;
}

int wl_filter_finish(wl_filter *f) {
    if (f->ended) return WL_OK;
    if (f->n_pend) {
        f->n_pend = 0;
        int e = hold(f, replacement, 3);
        if (e) return e;
    }
    settle(f, true);
    return WL_OK;
}

size_t wl_trailing_eog(const char *text, size_t len) {
    static const char *const marks[] = {
        "</s>", "<|eot_id|>", "<|end_of_text|>", "<|im_end|>", "<|end|>",
        "<|endoftext|>", "<end_of_turn>", "<eos>",
    };
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        size_t ml = strlen(marks[i]);
        if (len >= ml && memcmp(text + len - ml, marks[i], ml) == 0) return ml;
    }
    return 0;
}
