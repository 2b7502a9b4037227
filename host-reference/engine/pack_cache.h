/* pack_cache.h: the per-user cache of repacked weights.
 *
 * Contract: repacking a model's matrices for the kernels (kn_pack) costs
 * a copy of the weights at every start. A model read from a file keeps the
 * copy in <dir>/<key>.pack instead and later starts map it read-only, like
 * the weights themselves. An entry is used only when its header equals the
 * one expected in full: the source file's identity (device, inode, size,
 * modification and change times, the image's offset and length), the
 * kernel table and packing version, and the shape and place of every
 * packed matrix. The entry must be a regular file owned by this user and
 * writable by no one else, in a folder of mode 0700 owned by this user.
 * Entries are written to a temporary file (with pwrite: a fresh file's
 * pages filled through a shared mapping would be zeroed first, which cost
 * more than the packing) and renamed into place, so concurrent starts
 * never see half an entry. The data starts PACK_CACHE_DATA bytes into the
 * file and maps at a 2 MB-aligned address, so that the page cache's 2 MB
 * folios become huge-page mappings; writes in 2 MB-aligned pieces of 2 MB
 * are what leave such folios behind (model.c faults a mapped entry in
 * whole with hugemap_populate, which reads it back from disk in such
 * folios too). Anything unusual (no folder, disk full, a foreign file) is
 * a miss with a reason, never an error: the model then packs into
 * anonymous memory as without a cache.
 *
 * A stale or damaged entry can only give wrong numbers, never a memory
 * fault: packed data holds scales and quants, no offsets (kernels.h).
 * (Truncating an entry while a process maps it faults that process, as
 * truncating a mapped model file would; only its owner can.)
 *
 * Folder: $WASMLET_PACK_CACHE (an absolute path, or "off"), else
 * $XDG_CACHE_HOME/wasmlet/packed, else $HOME/.cache/wasmlet/packed. After
 * writing an entry the oldest entries (by last use) are removed while the
 * folder holds more than $WASMLET_PACK_CACHE_MAX bytes (suffix K, M or G;
 * default 16G).
 */
#ifndef WASMLET_PACK_CACHE_H
#define WASMLET_PACK_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llm.h"

#define PACK_CACHE_DATA ((uint64_t)2 << 20)   /* file offset of the data */
#define PACK_CACHE_WRITE ((size_t)2 << 20)    /* best write piece */

/* What an entry must match. */
typedef struct {
    llm_source src;
    char table[16];        /* kernel table name, NUL-padded */
    uint32_t n_mats;       /* packed matrices */
    uint64_t layout;       /* hash of every matrix's place, types and shape */
    uint64_t bytes;        /* packed data */
} pack_desc;

typedef struct {
    int fd;
    uint64_t bytes;
    char tmp[4096], path[4096];
} pack_writer;

/* The folder to use, into buf; false (with the reason in note) when the
 * cache is off or no folder can be named. */
bool pack_cache_dir(char *buf, size_t len, char *note, size_t notelen);

/* A read-only mapping of d->bytes, or NULL with the reason in note. */
void *pack_cache_map(const char *dir, const pack_desc *d, char *note, size_t notelen);

/* Start an entry: a temporary file in dir with d->bytes of data space
 * reserved. false (reason in note) when that cannot be done. */
bool pack_cache_create(const char *dir, const pack_desc *d, pack_writer *w, char *note, size_t notelen);
/* Write data at offset off of the data (any thread, disjoint ranges;
 * PACK_CACHE_WRITE-sized pieces at multiples of it keep huge folios). */
bool pack_cache_write(const pack_writer *w, uint64_t off, const void *data, size_t len);
/* Seal the entry (header, renamed into place) and map it read-only; NULL
 * (the entry given up, the reason in note) on failure. */
void *pack_cache_commit(pack_writer *w, const pack_desc *d, char *note, size_t notelen);
/* Give up an entry. */
void pack_cache_abort(pack_writer *w);

#endif
