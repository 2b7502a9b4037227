/* tar.h: the bundle's container, POSIX tar.
 *
 * Writer (libarchive, pax "restricted": plain ustar headers, a pax size
 * record only for members of 8 GiB and more): every header is fixed (mode
 * 0644, uid/gid 0, empty user/group names, one mtime for all), so equal
 * inputs give equal bytes. Data stays uncompressed and starts on a 512-byte
 * boundary of the file.
 *
 * Reader (ours, headers only, never extracts): walks ustar headers with
 * pread, checks each checksum, magic, size and name, and returns each
 * regular member's data offset and size. Links, devices, FIFOs, dirs, GNU
 * and global headers, unsafe names (absolute, "..", ".", empty or
 * backslash components) and data past the end of the file are refused
 * with a message naming the member and its offset.
 */
#ifndef WASMLET_TAR_H
#define WASMLET_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK 512
#define TAR_PATH_MAX 256

typedef struct {
    char path[TAR_PATH_MAX + 1];
    uint64_t size;
    uint64_t header_offset;   /* first header of the member (pax header if any) */
    uint64_t data_offset;     /* multiple of TAR_BLOCK */
} tar_entry;

/* Reads the member whose header is at *pos and moves *pos past its data.
 * Returns 1 (entry filled), 0 (end of archive: two zero blocks followed by
 * nothing but zero padding), or -1 (err filled). */
int tar_next(int fd, uint64_t file_size, uint64_t *pos, tar_entry *e, char *err, size_t errlen);

typedef struct tarw tarw;
/* mtime: seconds since the epoch for every member. */
tarw *tarw_open(int fd, int64_t mtime, char *err, size_t errlen);
bool tarw_begin(tarw *w, const char *path, uint64_t size, char *err, size_t errlen);
bool tarw_data(tarw *w, const void *p, size_t n, char *err, size_t errlen);
/* Finishes the archive (end blocks, padding) and frees w. */
bool tarw_close(tarw *w, char *err, size_t errlen);
void tarw_abort(tarw *w);

/* SOURCE_DATE_EPOCH (decimal seconds) when set and valid, else 0. */
bool tar_source_date_epoch(int64_t *out, char *err, size_t errlen);

#endif
