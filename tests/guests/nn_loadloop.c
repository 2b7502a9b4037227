/* nn_loadloop.c: loads and unloads a model many times, generating a few
 * tokens each time, so a host test can watch its memory stay flat.
 *
 *   test-nn_loadloop.wasm [ALIAS] [COUNT]     (COUNT defaults to 100)
 *
 * Prints "ok - ..." per phase; exits 1 on the first failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmlet/wasi_nn.h"

int main(int argc, char **argv) {
    const char *alias = argc > 1 ? argv[1] : "default";
    long count = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
    if (count <= 0 || count > 100000) {
        fprintf(stderr, "nn_loadloop: COUNT must be 1..100000\n");
        return 2;
    }
    static const char prompt[] = "Once upon a time";
    for (long i = 0; i < count; i++) {
        wl_nn_graph g;
        wl_nn_ctx c;
        const char *step = "load_by_name_with_config";
        int e = wl_nn_load_by_name(alias, "{\"ctx-size\":128,\"temp\":0}", &g);
        if (!e) { step = "init_execution_context"; e = wl_nn_init_context(g, &c); }
        if (!e) { step = "set_input"; e = wl_nn_set_input_bytes(c, 0, prompt, strlen(prompt)); }
        for (int k = 0; !e && k < 4; k++) { step = "compute_single"; e = wl_nn_compute_single(c); }
        if (e == WL_NN_END_OF_SEQUENCE) e = 0;
        if (!e) { step = "fini_single"; e = wl_nn_fini_single(c); }
        if (!e) { step = "unload"; e = wl_nn_unload(g); }
        if (e) {
            printf("not ok - cycle %ld: %s: %s (%d)\n", i + 1, step, wl_nn_strerror(e), e);
            return 1;
        }
    }
    printf("ok - %ld load/unload cycles\n", count);
    return 0;
}
