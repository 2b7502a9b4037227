/* build.h: write bundles (wasmlet-pack build and sign).
 *
 * Contract: bundle_build() validates every input before writing anything
 * (the wasm's structure, each GGUF through the GGUF reader, the tokenizer
 * GGUF's vocabulary), hashes the inputs, and writes the bundle atomically:
 * on any failure, including an input that changes while it is copied, no
 * output file and no temp file remain. bundle_resign() checks an existing
 * bundle's members and rewrites it, atomically, with a new signature.
 */
#ifndef WASMLET_BUILD_H
#define WASMLET_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "minisign.h"

typedef struct { const char *alias, *file; } build_model;

typedef struct {
    const char *wasm_path;
    const char *tokenizer_path;   /* NULL: the tokenizer of the "default" (else first) model */
    const char *name, *version, *description;
    build_model models[MANIFEST_MAX_MODELS];
    size_t n_models;
    manifest_dir dirs[MANIFEST_MAX_DIRS];
    size_t n_dirs;
    manifest_env env[MANIFEST_MAX_ENV];
    size_t n_env;
    uint64_t max_memory, timeout_seconds, ctx_size;
    const ms_seckey *key;         /* NULL: unsigned */
    bool optimize;                /* wasm-opt -Oz --strip-debug */
    const char *out;
} build_opts;

/* An extra check of the guest after the structural one, e.g. the host's
 * import checker (host-reference/rt wasm_check_imports), installed by the
 * program that links both. NULL (default): structural check only. */
typedef bool (*bundle_wasm_checker)(const uint8_t *wasm, size_t len, char *err, size_t errlen);
void bundle_set_wasm_checker(bundle_wasm_checker fn);

bool bundle_build(const build_opts *o, char *err, size_t errlen);
bool bundle_resign(const char *path, const ms_seckey *key, char *err, size_t errlen);
/* The same with a signature made elsewhere (e.g. `minisign -S` on the
 * extracted manifest.json, keeping the secret key out of this tool); it
 * must verify with pk before it is embedded. */
bool bundle_attach_signature(const char *path, const char *sig_text, const ms_pubkey *pk, char *err, size_t errlen);

/* The .minisig text for a manifest: trusted comment carries the timestamp
 * (SOURCE_DATE_EPOCH when set, so signed bundles stay reproducible). */
char *bundle_sign_manifest(const ms_seckey *key, const manifest *m, const char *json, size_t len,
                           char *err, size_t errlen);

#endif
