/* mock_nn.h: a scripted fake model behind the layer-1 wrappers
 * (wl_nn_load_by_name, wl_nn_compute_single, ...), so the SDK's layer 2
 * runs natively in unit tests. The raw imports take 32-bit guest addresses
 * and cannot be called with native pointers; the typed wrappers can. */
#ifndef MOCK_NN_H
#define MOCK_NN_H

#include <stddef.h>

typedef struct {
    /* script */
    const char *const *pieces;   /* one per compute_single, NULL-terminated */
    int end_code;                /* compute_single after the last piece: 100 or 101 */
    const char *whole;           /* get_output(0) after compute */
    const char *meta;            /* get_output(_single)(1); NULL: not supported (error 6) */
    int load_err, init_err, compute_err;
    size_t prompt_limit;         /* set_input(0) longer than this: 102 (0: no limit) */
    int old_host;                /* TOO_LARGE without telling the size needed */
    int lie_written;             /* report more bytes written than the buffer holds */
    /* record */
    char config[1024];           /* last config JSON (load or set_input 1) */
    char prompt[8192];           /* last prompt */
    int n_load, n_load_cfg, n_unload, n_fini, n_compute_single, n_set_config, n_too_large;
    size_t next_piece;
} mock_state;

extern mock_state mock;
void mock_reset(void);

#endif
