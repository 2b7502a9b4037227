/* cache.h: the per-user cache of compiled guests.
 *
 * Contract: wlrt_cache_open() returns a dlopen handle for the native code of
 * a (checked) wasm module. The cache entry's key is the SHA-256 of the wasm,
 * the identity (path, size, mtime, inode) of wasm2c, the C compiler and
 * wasm-rt.h, the compile flags, the bounds-check mode and the shim ABI. On
 * a miss it runs wasm2c and cc in a private temporary folder and publishes
 * the entry with one rename. An entry holds the SHA-256 of the shared object
 * it carries; the object is hashed again on every load and loaded from a
 * sealed in-memory copy (memfd), so the bytes checked are the bytes run.
 * *fd is the memfd the object was loaded from: close it after dlclose.
 * The folder must be a directory owned by the user with mode 0700.
 * Threat model: docs/execution.md.
 */
#ifndef WASMLET_CACHE_H
#define WASMLET_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include "wasm_reader.h"
#include "wlrt.h"

/* The folder used when opt->cache_dir is NULL, into buf. */
int wlrt_cache_default_dir(char *buf, size_t len, char *err, size_t errlen);

void *wlrt_cache_open(const uint8_t *wasm, size_t len, const char *name, const wasm_info *w,
                      const wlrt_options *opt, int *compiled, int *fd, char *err, size_t errlen);

#endif
