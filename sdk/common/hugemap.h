/* hugemap.h: read-only file mappings placed for huge pages (native only).
 *
 * Contract: hugemap_file(fd, off, len) maps bytes [off, off+len) of fd
 * read-only and private, off a multiple of the page size, at an address
 * congruent to off modulo 2 MB, and asks for huge pages (MADV_HUGEPAGE, a
 * hint). The kernel can then map each 2 MB folio of the page cache with
 * one TLB entry instead of 512, and a read through the mapping fills 2 MB
 * folios; weights are streamed whole at every token, where 4 KB pages cost
 * a tenth of the speed in TLB misses. Returns MAP_FAILED (errno set) on
 * failure; unmap with munmap(p, len).
 *
 * hugemap_populate(p, len, total) faults a mapped range in now, in order,
 * where the kernel can (Linux 5.14+). For weights streamed whole at every
 * token: read back from disk this way, a file lands in the page cache in
 * 2 MB folios throughout (read back by a first token's own faults, two
 * threads at two places, a model kept 4-10% in small pages: 1-thread
 * generation 5-8% slower). Nothing is done when `total` (what the caller
 * populates in all; len for a single range) is over half the physical
 * memory: a rough guard (it knows no cgroup limit or other tenants)
 * against weights so large that the page cache would drop them again
 * before the first token reads them, reading them from disk twice.
 */
#ifndef WASMLET_HUGEMAP_H
#define WASMLET_HUGEMAP_H

#include <stddef.h>
#include <stdint.h>

void *hugemap_file(int fd, uint64_t off, size_t len);
void hugemap_populate(const void *p, size_t len, uint64_t total);

#endif
