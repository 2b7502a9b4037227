/* wasi_errno.c: host errno -> WASI errno, file types and filestat layout.
 * WASI numbers its errno values itself (alphabetical, 0..76), so every host
 * value goes through this table; anything unknown becomes EIO. */
#define _GNU_SOURCE
#include <errno.h>
#include "wasi_int.h"

static const struct { int host; uint16_t wasi; } errno_map[] = {
    {E2BIG, 1}, {EACCES, 2}, {EADDRINUSE, 3}, {EADDRNOTAVAIL, 4},
    {EAFNOSUPPORT, 5}, {EAGAIN, 6}, {EALREADY, 7}, {EBADF, 8}, {EBADMSG, 9},
    {EBUSY, 10}, {ECANCELED, 11}, {ECHILD, 12}, {ECONNABORTED, 13},
    {ECONNREFUSED, 14}, {ECONNRESET, 15}, {EDEADLK, 16}, {EDESTADDRREQ, 17},
    {EDOM, 18}, {EDQUOT, 19}, {EEXIST, 20}, {EFAULT, 21}, {EFBIG, 22},
    {EHOSTUNREACH, 23}, {EIDRM, 24}, {EILSEQ, 25}, {EINPROGRESS, 26},
    {EINTR, 27}, {EINVAL, 28}, {EIO, 29}, {EISCONN, 30}, {EISDIR, 31},
    {ELOOP, 32}, {EMFILE, 33}, {EMLINK, 34}, {EMSGSIZE, 35}, {EMULTIHOP, 36},
    {ENAMETOOLONG, 37}, {ENETDOWN, 38}, {ENETRESET, 39}, {ENETUNREACH, 40},
    {ENFILE, 41}, {ENOBUFS, 42}, {ENODEV, 43}, {ENOENT, 44}, {ENOEXEC, 45},
    {ENOLCK, 46}, {ENOLINK, 47}, {ENOMEM, 48}, {ENOMSG, 49},
    {ENOPROTOOPT, 50}, {ENOSPC, 51}, {ENOSYS, 52}, {ENOTCONN, 53},
    {ENOTDIR, 54}, {ENOTEMPTY, 55}, {ENOTRECOVERABLE, 56}, {ENOTSOCK, 57},
    {ENOTSUP, 58}, {ENOTTY, 59}, {ENXIO, 60}, {EOVERFLOW, 61},
    {EOWNERDEAD, 62}, {EPERM, 63}, {EPIPE, 64}, {EPROTO, 65},
    {EPROTONOSUPPORT, 66}, {EPROTOTYPE, 67}, {ERANGE, 68}, {EROFS, 69},
    {ESPIPE, 70}, {ESRCH, 71}, {ESTALE, 72}, {ETIMEDOUT, 73}, {ETXTBSY, 74},
    {EXDEV, 75},
#if EWOULDBLOCK != EAGAIN
    {EWOULDBLOCK, 6},
#endif
#if EOPNOTSUPP != ENOTSUP
    {EOPNOTSUPP, 58},
#endif
};

uint32_t wasi_errno(int e) {
    for (size_t i = 0; i < sizeof errno_map / sizeof errno_map[0]; i++)
        if (errno_map[i].host == e) return errno_map[i].wasi;
    return W_EIO;
}

uint8_t wasi_filetype(mode_t m) {
    switch (m & S_IFMT) {
    case S_IFREG: return W_FT_REG;
    case S_IFDIR: return W_FT_DIR;
    case S_IFLNK: return W_FT_SYMLINK;
    case S_IFCHR: return W_FT_CHAR;
    case S_IFBLK: return W_FT_BLOCK;
    case S_IFSOCK: return W_FT_SOCK_STREAM;
    default: return W_FT_UNKNOWN;   /* FIFOs have no WASI type of their own */
    }
}

static uint64_t ns(struct timespec t) {
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void wasi_put_filestat(uint8_t *p, const struct stat *st) {
    memset(p, 0, 64);
    put_u64(p + 0, (uint64_t)st->st_dev);
    put_u64(p + 8, (uint64_t)st->st_ino);
    put_u8(p + 16, wasi_filetype(st->st_mode));
    put_u64(p + 24, (uint64_t)st->st_nlink);
    put_u64(p + 32, (uint64_t)st->st_size);
    put_u64(p + 40, ns(st->st_atim));
    put_u64(p + 48, ns(st->st_mtim));
    put_u64(p + 56, ns(st->st_ctim));
}
