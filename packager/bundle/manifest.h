/* manifest.h: the bundle manifest (manifest.json), its schema and rules.
 *
 * Contract: manifest_to_json() writes the one canonical form (fixed key
 * order, fixed indentation), so equal manifests give equal bytes.
 * manifest_parse() accepts exactly the schema in docs/bundle.md (format
 * version 1): every key present, no unknown key, types and ranges checked,
 * member paths canonical ("app.wasm", "tokenizer.gguf",
 * "models/<alias>.gguf") and in canonical order. Messages name the key.
 */
#ifndef WASMLET_MANIFEST_H
#define WASMLET_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_FORMAT "wasmlet-bundle"
#define MANIFEST_VERSION 1
#define MANIFEST_MAX_MODELS 16
#define MANIFEST_MAX_DIRS 64
#define MANIFEST_MAX_ENV 256
#define MANIFEST_MAX_BYTES (1024 * 1024)
#define MANIFEST_WASM_PATH "app.wasm"
#define MANIFEST_TOKENIZER_PATH "tokenizer.gguf"

typedef struct { char *path; uint64_t size; uint8_t sha256[32]; } manifest_member;
typedef struct {
    char *alias, *path, *architecture, *quantization;
    uint64_t context_length, parameter_count;
} manifest_model;
typedef struct { char *guest_path; bool readonly; } manifest_dir;
typedef struct { char *key, *value; } manifest_env;

typedef struct {
    char *name, *version, *description;
    char *wasm;        /* always MANIFEST_WASM_PATH */
    char *tokenizer;   /* MANIFEST_TOKENIZER_PATH or a model's path */
    manifest_member *members; size_t n_members;
    manifest_model *models; size_t n_models;
    manifest_dir *dirs; size_t n_dirs;
    manifest_env *env; size_t n_env;
    uint64_t max_memory, timeout_seconds, ctx_size;   /* 0: host default */
} manifest;

char *manifest_to_json(const manifest *m, size_t *len);   /* malloc'd */
bool manifest_parse(const char *text, size_t len, manifest *out, char *err, size_t errlen);
/* The checks manifest_parse applies, for a manifest built in memory. */
bool manifest_validate(const manifest *m, char *err, size_t errlen);
void manifest_free(manifest *m);
const manifest_member *manifest_find_member(const manifest *m, const char *path);

/* Rules shared with the command line. */
bool manifest_alias_ok(const char *alias);
bool manifest_guest_path_ok(const char *p);
bool manifest_env_key_ok(const char *k);

void sha256_hex(const uint8_t h[32], char out[65]);

#endif
