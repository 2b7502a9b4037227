/* vcache.h: the per-user verified-bundle cache (threat model: docs/bundle.md).
 *
 * Contract: an entry says "the file with this identity (device, inode,
 * size, mtime and ctime in nanoseconds) held members matching the manifest
 * whose SHA-256 is M". It lives in a private directory (created 0700,
 * refused unless owned by us and not accessible to others), one small file
 * per (device, inode). Entries are written only when the file's
 * timestamps were older than VCACHE_RACY_SECONDS when hashing started (a
 * write in the same timestamp tick as our first fstat would otherwise
 * leave the times unchanged). Any
 * problem with the cache makes lookups miss; it never causes a failure.
 */
#ifndef WASMLET_VCACHE_H
#define WASMLET_VCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define VCACHE_RACY_SECONDS 2

/* WASMLET_CACHE_DIR, else $XDG_CACHE_HOME/wasmlet/verified, else
 * ~/.cache/wasmlet/verified. Creates it; false when unusable. */
bool vcache_dir(char *out, size_t outlen);
bool vcache_lookup(const struct stat *st, const uint8_t manifest_sha[32]);
/* before/after: fstat of the bundle before and after hashing; started:
 * the time of the first fstat. */
void vcache_store(const struct stat *before, const struct stat *after, time_t started, const uint8_t manifest_sha[32]);

#endif
