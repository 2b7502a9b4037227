/* wl_internal.h: shared by the layer-2 sources (sdk/src/wl_*.c), not public.
 *
 * wl_fail() records the message wl_last_error() returns and passes the code
 * through, so a failing path reads `return wl_fail(code, "...", ...)`.
 * wl_filter is the text pipeline between the model's byte pieces and the
 * caller: it repairs UTF-8 (whole characters only, invalid bytes become
 * U+FFFD), finds the earliest stop string even when it straddles pieces, and
 * holds back any tail that could still begin a stop string.
 */
#ifndef WASMLET_WL_INTERNAL_H
#define WASMLET_WL_INTERNAL_H

#include "wasmlet/wasmlet.h"

#if defined(__GNUC__)
#define WL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WL_PRINTF(a, b)
#endif

int wl_fail(int code, const char *fmt, ...) WL_PRINTF(2, 3);
/* A host error from wasi-nn call `what`: "<what>: <wl_nn_strerror> (code N)". */
int wl_fail_nn(int code, const char *what);
void wl_clear_error(void);

typedef struct {
    /* configuration */
    const char (*stops)[WL_STOP_LEN];
    size_t n_stop;
    wl_text_cb cb;
    void *user;
    /* state */
    unsigned char pend[4];   /* an unfinished UTF-8 sequence */
    size_t n_pend;
    char *held;              /* valid UTF-8 not yet delivered */
    size_t n_held, cap_held;
    bool ended;              /* a stop string or the callback ended it */
    wl_end end;
    int stop_index;
} wl_filter;

void wl_filter_init(wl_filter *f, const wl_options *o, wl_text_cb cb, void *user);
/* Feeds bytes. Returns WL_OK (check f->ended) or WL_E_NOMEM. */
int wl_filter_push(wl_filter *f, const void *bytes, size_t n);
/* End of input: an unfinished sequence becomes U+FFFD, held text is
 * delivered (it is no stop string, the input ended). */
int wl_filter_finish(wl_filter *f);
void wl_filter_free(wl_filter *f);

/* The end-of-turn markers hosts leave at the end of compute's output. */
size_t wl_trailing_eog(const char *text, size_t len);

/* Generation with options other than the model's (chat adds its
 * template's end-of-turn marker to the stop strings). */
int wl_stream_with(wl_model *m, const wl_options *o, const char *prompt, wl_text_cb cb, void *user,
                   wl_result *res);
int wl_whole_with(wl_model *m, const wl_options *o, const char *prompt, char **text, size_t *len,
                  wl_result *res);

/* Tests: the first prefix wl_vocab_open reads (0: the default, 8 MiB). */
void wl_vocab_set_first_prefix(size_t n);

struct wl_model {
    wl_nn_graph graph;
    wl_nn_ctx ctx;
    wl_options opts;
    char alias[128];
};

#endif
