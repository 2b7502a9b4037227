/* run_bundle.h: what wasmlet-run takes from a signed bundle.
 *
 * Contract: run_bundle_open() opens the bundle through the bundle library
 * (signature against the trusted keys, member hashes or the verified-cache),
 * maps the guest module and every model straight out of the bundle file (no
 * extraction, no copy) and registers each model under its alias in reg.
 * The mappings live until run_bundle_close(). The manifest's capabilities
 * and limits are exposed for the caller to intersect with what the operator
 * grants. One-line errors name the bundle.
 */
#ifndef WASMLET_RUN_BUNDLE_H
#define WASMLET_RUN_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include "bundle.h"
#include "nn.h"

typedef struct { void *base; size_t len; } run_map;

typedef struct {
    bundle *b;
    const manifest *m;
    const void *wasm;
    size_t wasm_len;
    const void *tokenizer;     /* the tokenizer member (may be a model member) */
    size_t tokenizer_len;
    run_map maps[2 + MANIFEST_MAX_MODELS];
    int n_maps;
} run_bundle;

bool run_bundle_open(run_bundle *rb, const char *path, const char *const *trust, size_t n_trust,
                     bool allow_unsigned, bool full_verify, nn_registry *reg, char *err, size_t errlen);
void run_bundle_close(run_bundle *rb);

/* Is this file a bundle (a tar archive) rather than a wasm module? */
bool run_is_bundle(const char *path);

#endif
