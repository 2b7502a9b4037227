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
 */
#ifndef WASMLET_HUGEMAP_H
#define WASMLET_HUGEMAP_H

#include <stddef.h>
#include <stdint.h>

void *hugemap_file(int fd, uint64_t off, size_t len);

#endif
