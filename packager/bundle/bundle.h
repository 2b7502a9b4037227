/* bundle.h: open, check and map a wasmlet bundle (docs/bundle.md).
 *
 * Contract: bundle_open() reads the tar headers and the manifest only
 * (never member data) and refuses, with one line naming the member and
 * offset, any archive that is not exactly: manifest.json, optionally
 * manifest.json.minisig, then the manifest's members in the manifest's
 * order with the manifest's sizes. It writes nothing anywhere.
 * bundle_verify_signature() checks the minisign signature over the
 * manifest bytes against a set of trusted keys. bundle_check_members()
 * hashes every member (SHA-256) against the manifest, or trusts a per-user
 * verified-cache entry for this exact file (see vcache.h) unless
 * BUNDLE_VERIFY_FULL is given. Members are at fixed offsets of the open
 * file: bundle_map_member() maps one read-only with no copy.
 */
#ifndef WASMLET_BUNDLE_H
#define WASMLET_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "minisign.h"

#define BUNDLE_MANIFEST "manifest.json"
#define BUNDLE_SIGNATURE "manifest.json.minisig"
#define BUNDLE_SIG_MAX (16 * 1024)
/* Archive entries a valid bundle can hold: manifest, signature, wasm,
 * tokenizer and MANIFEST_MAX_MODELS models. */
#define BUNDLE_MAX_ENTRIES (4 + MANIFEST_MAX_MODELS)

typedef struct {
    const char *path;        /* points into the manifest */
    uint64_t offset, size;   /* data offset in the bundle file */
    const uint8_t *sha256;
} bundle_member;

typedef struct bundle bundle;

bundle *bundle_open(const char *path, char *err, size_t errlen);
void bundle_close(bundle *b);

const manifest *bundle_manifest(const bundle *b);
const char *bundle_manifest_bytes(const bundle *b, size_t *len);
const uint8_t *bundle_manifest_sha256(const bundle *b);
size_t bundle_member_count(const bundle *b);
const bundle_member *bundle_member_at(const bundle *b, size_t i);
const bundle_member *bundle_find(const bundle *b, const char *path);
int bundle_fd(const bundle *b);
uint64_t bundle_file_size(const bundle *b);
bool bundle_is_signed(const bundle *b);
/* The signature as stored (valid only when signed); not yet verified. */
const ms_signature *bundle_signature(const bundle *b);
const char *bundle_signature_text(const bundle *b, size_t *len);

/* A set of trusted public keys. */
typedef struct { ms_pubkey *keys; size_t n; } bundle_trust;
bool bundle_trust_add_file(bundle_trust *t, const char *path, char *err, size_t errlen);
/* Every *.pub in dir (missing dir: nothing added, true). */
bool bundle_trust_add_dir(bundle_trust *t, const char *dir, char *err, size_t errlen);
/* $XDG_CONFIG_HOME/wasmlet/trusted-keys or ~/.config/wasmlet/trusted-keys */
bool bundle_trust_add_user_dir(bundle_trust *t, char *err, size_t errlen);
void bundle_trust_free(bundle_trust *t);

/* On success *signer (may be NULL) is the trusted key that signed. */
bool bundle_verify_signature(const bundle *b, const bundle_trust *t, const ms_pubkey **signer,
                             char *err, size_t errlen);

enum { BUNDLE_VERIFY_FULL = 1, BUNDLE_NO_CACHE = 2 };
typedef void (*bundle_progress_fn)(void *ctx, uint64_t done, uint64_t total);
/* *cached (may be NULL) tells whether the verified-cache vouched for the
 * members (no hashing done). */
bool bundle_check_members(bundle *b, unsigned flags, bool *cached, bundle_progress_fn progress,
                          void *progress_ctx, char *err, size_t errlen);

/* What wasmlet-run does with a bundle, in one call: open; trust the key
 * files given plus the per-user trusted-keys directory; require a valid
 * signature from one of them (an unsigned bundle passes only with
 * allow_unsigned; a bundle signed by an unknown key never does); check the
 * members (flags as above). NULL with a one-line err naming the bundle. */
bundle *bundle_open_verified(const char *path, const char *const *trust_files, size_t n_trust,
                             bool allow_unsigned, unsigned flags, char *err, size_t errlen);

/* Map a member read-only. *data is the member's first byte; unmap with
 * bundle_unmap(base, len). */
bool bundle_map_member(const bundle *b, const bundle_member *m, const void **data, void **base,
                       size_t *len, char *err, size_t errlen);
void bundle_unmap(void *base, size_t len);

/* SHA-256 of n bytes of fd from offset (pread, streaming). */
bool bundle_hash_range(int fd, uint64_t offset, uint64_t n, uint8_t out[32],
                       bundle_progress_fn progress, void *ctx, uint64_t done_before, uint64_t total,
                       char *err, size_t errlen);

#endif
