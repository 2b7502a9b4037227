/* wasi_fd.c: the fd_* imports. Each checks the fd and its rights, then
 * every guest pointer it will write before doing anything with a side
 * effect (a read that consumed data and then faulted would lose it). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include "wasi_int.h"

#define FN(name) Z_wasi_snapshot_preview1Z_##name
#define MAX_IOV 1024

uint32_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]) {
    if ((fst & ~15u) || ((fst & W_FST_ATIM) && (fst & W_FST_ATIM_NOW)) ||
        ((fst & W_FST_MTIM) && (fst & W_FST_MTIM_NOW)))
        return W_EINVAL;
    uint64_t t[2] = {atim, mtim};
    for (int i = 0; i < 2; i++) {
        uint32_t set = i ? W_FST_MTIM : W_FST_ATIM, now = i ? W_FST_MTIM_NOW : W_FST_ATIM_NOW;
        if (fst & now) ts[i] = (struct timespec){0, UTIME_NOW};
        else if (fst & set)
            ts[i] = (struct timespec){(time_t)(t[i] / 1000000000u), (long)(t[i] % 1000000000u)};
        else ts[i] = (struct timespec){0, UTIME_OMIT};
    }
    return 0;
}

uint32_t FN(fd_advise)(wasi_ctx *c, uint32_t fd, uint64_t off, uint64_t len, uint32_t advice) {
    static const int map[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                              POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, R_FD_ADVISE, &f);
    if (e) return e;
    if (advice > 5 || off > INT64_MAX || len > INT64_MAX) return W_EINVAL;
    if (f->vdir) return 0;   /* memory-backed: nothing to advise */
    int r = posix_fadvise(f->host, (off_t)off, (off_t)len, map[advice]);
    return r ? wasi_errno(r) : 0;
}

uint32_t FN(fd_allocate)(wasi_ctx *c, uint32_t fd, uint64_t off, uint64_t len) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, R_FD_ALLOCATE, &f);
    if (e) return e;
    if (off > INT64_MAX || len > INT64_MAX - off) return W_EINVAL;
    if (len == 0) return W_EINVAL;
    int r = posix_fallocate(f->host, (off_t)off, (off_t)len);
    return r ? wasi_errno(r) : 0;
}

uint32_t FN(fd_close)(wasi_ctx *c, uint32_t fd) {
    if (fd >= c->nfds || !c->fds[fd].used) return W_EBADF;
    wasi_fd_release(&c->fds[fd]);
    return 0;
}

uint32_t FN(fd_datasync)(wasi_ctx *c, uint32_t fd) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, R_FD_DATASYNC, &f);
    if (e) return e;
    return fdatasync(f->host) ? wasi_errno(errno) : 0;
}

uint32_t FN(fd_sync)(wasi_ctx *c, uint32_t fd) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, R_FD_SYNC, &f);
    if (e) return e;
    return fsync(f->host) ? wasi_errno(errno) : 0;
}

uint32_t FN(fd_fdstat_get)(wasi_ctx *c, uint32_t fd, uint32_t buf) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, 0, &f);
    if (e) return e;
    uint8_t *p = wasi_mem(c, buf, 24);
    if (!p) return W_EFAULT;
    int fl = f->vdir ? 0 : fcntl(f->host, F_GETFL);
    if (fl < 0) return wasi_errno(errno);
    uint16_t flags = f->vflags;
    if (fl & O_APPEND) flags |= W_FDFL_APPEND;
    if (fl & O_NONBLOCK) flags |= W_FDFL_NONBLOCK;
    if ((fl & O_SYNC) == O_SYNC) flags |= W_FDFL_SYNC;
    else if (fl & O_DSYNC) flags |= W_FDFL_DSYNC;
    memset(p, 0, 24);
    put_u8(p, f->type);
    put_u16(p + 2, flags);
    put_u64(p + 8, f->base);
    put_u64(p + 16, f->inh);
    return 0;
}

uint32_t FN(fd_fdstat_set_flags)(wasi_ctx *c, uint32_t fd, uint32_t flags) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, R_FD_FDSTAT_SET_FLAGS, &f);
    if (e) return e;
    if (flags & ~0x1fu) return W_EINVAL;
    /* Linux cannot change the sync flags of an open file. */
    if (flags & (W_FDFL_DSYNC | W_FDFL_RSYNC | W_FDFL_SYNC)) return W_ENOTSUP;
    int fl = fcntl(f->host, F_GETFL);
    if (fl < 0) return wasi_errno(errno);
    fl &= ~(O_APPEND | O_NONBLOCK);
    if (flags & W_FDFL_APPEND) fl |= O_APPEND;
    if (flags & W_FDFL_NONBLOCK) fl |= O_NONBLOCK;
    return fcntl(f->host, F_SETFL, fl) ? wasi_errno(errno) : 0;
}

uint32_t FN(fd_fdstat_set_rights)(wasi_ctx *c, uint32_t fd, uint64_t base, uint64_t inh) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, 0, &f);
    if (e) return e;
    if ((base & ~f->base) || (inh & ~f->inh)) return W_ENOTCAPABLE;   /* only ever drop */
    f->base = base;
    f->inh = inh;
    return 0;
}

uint32_t FN(fd_filestat_get)(wasi_ctx *c, uint32_t fd, uint32_t buf) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, R_FD_FILESTAT_GET, &f);
    if (e) return e;
    uint8_t *p = wasi_mem(c, buf, 64);
    if (!p) return W_EFAULT;
    if (f->vdir) { wasi_v_filestat(c, f, p); return 0; }
    struct stat st;
    if (fstat(f->host, &st)) return wasi_errno(errno);
    wasi_put_filestat(p, &st);
    return 0;
}

uint32_t FN(fd_filestat_set_size)(wasi_ctx *c, uint32_t fd, uint64_t size) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, R_FD_FILESTAT_SET_SIZE, &f);
    if (e) return e;
    if (size > INT64_MAX) return W_EINVAL;
    return ftruncate(f->host, (off_t)size) ? wasi_errno(errno) : 0;
}

uint32_t FN(fd_filestat_set_times)(wasi_ctx *c, uint32_t fd, uint64_t atim, uint64_t mtim,
                                   uint32_t fst) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, R_FD_FILESTAT_SET_TIMES, &f);
    if (e) return e;
    struct timespec ts[2];
    if ((e = wasi_times(atim, mtim, fst, ts))) return e;
    return futimens(f->host, ts) ? wasi_errno(errno) : 0;
}

/* One read or write with EINTR handled: the runtime may stop the guest
 * there (time limit); otherwise the call is retried. */
typedef ssize_t (*xfer_fn)(int, const struct iovec *, int, off_t);
static ssize_t do_readv(int fd, const struct iovec *v, int n, off_t o) { (void)o; return readv(fd, v, n); }

/* A write to a pipe or socket whose reader is gone must be EPIPE for the
 * guest, not a SIGPIPE that kills the host: SIGPIPE is blocked for this
 * thread around the write and a signal it raised is consumed. */
static ssize_t write_nosigpipe(int fd, const struct iovec *v, int n, off_t o, bool at) {
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t r = at ? pwritev(fd, v, n, o) : writev(fd, v, n);
    int e = errno;
    if (r < 0 && e == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return r;
}
static ssize_t do_writev(int fd, const struct iovec *v, int n, off_t o) {
    return write_nosigpipe(fd, v, n, o, false);
}
static ssize_t do_pwritev(int fd, const struct iovec *v, int n, off_t o) {
    return write_nosigpipe(fd, v, n, o, true);
}
/* Files, terminals and devices never raise SIGPIPE: plain calls. */
static ssize_t plain_writev(int fd, const struct iovec *v, int n, off_t o) {
    (void)o;
    return writev(fd, v, n);
}
static bool may_sigpipe(const wasi_fd *f) {
    return f->type == W_FT_UNKNOWN || f->type == W_FT_SOCK_STREAM || f->type == W_FT_SOCK_DGRAM;
}

static uint32_t xfer(wasi_ctx *c, uint32_t fd, uint64_t need, uint32_t iovs, uint32_t n,
                     uint64_t off, xfer_fn fn, uint32_t result_ptr) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, need, &f);
    if (e) return e;
    if (off > INT64_MAX) return W_EINVAL;
    struct iovec v[MAX_IOV];
    int nv;
    if ((e = wasi_iovecs(c, iovs, n, v, MAX_IOV, &nv))) return e;
    uint8_t *res = wasi_mem(c, result_ptr, 4);
    if (!res) return W_EFAULT;
    if (f->vdir) {   /* only reads: a virtual file has no write right */
        uint32_t got;
        e = wasi_v_read(c, f, v, nv, off, need & R_FD_SEEK, &got);
        if (!e) put_u32(res, got);
        return e;
    }
    ssize_t r;
    if (fn == do_writev && !may_sigpipe(f)) fn = plain_writev;
    else if (fn == do_pwritev && !may_sigpipe(f)) fn = pwritev;
    while ((r = fn(f->host, v, nv, (off_t)off)) < 0 && errno == EINTR) wlrt_check_interrupt();
    if (r < 0) return wasi_errno(errno);
    put_u32(res, (uint32_t)r);
    return 0;
}

uint32_t FN(fd_read)(wasi_ctx *c, uint32_t fd, uint32_t iovs, uint32_t n, uint32_t nread) {
    return xfer(c, fd, R_FD_READ, iovs, n, 0, do_readv, nread);
}
uint32_t FN(fd_write)(wasi_ctx *c, uint32_t fd, uint32_t iovs, uint32_t n, uint32_t nwritten) {
    return xfer(c, fd, R_FD_WRITE, iovs, n, 0, do_writev, nwritten);
}
uint32_t FN(fd_pread)(wasi_ctx *c, uint32_t fd, uint32_t iovs, uint32_t n, uint64_t off,
                      uint32_t nread) {
    return xfer(c, fd, R_FD_READ | R_FD_SEEK, iovs, n, off, preadv, nread);
}
uint32_t FN(fd_pwrite)(wasi_ctx *c, uint32_t fd, uint32_t iovs, uint32_t n, uint64_t off,
                       uint32_t nwritten) {
    return xfer(c, fd, R_FD_WRITE | R_FD_SEEK, iovs, n, off, do_pwritev, nwritten);
}

uint32_t FN(fd_prestat_get)(wasi_ctx *c, uint32_t fd, uint32_t buf) {
    if (fd >= c->nfds || !c->fds[fd].used || c->fds[fd].preopen < 0) return W_EBADF;
    uint8_t *p = wasi_mem(c, buf, 8);
    if (!p) return W_EFAULT;
    memset(p, 0, 8);   /* tag 0: a directory */
    put_u32(p + 4, (uint32_t)strlen(c->pre_names[c->fds[fd].preopen]));
    return 0;
}

uint32_t FN(fd_prestat_dir_name)(wasi_ctx *c, uint32_t fd, uint32_t path, uint32_t len) {
    if (fd >= c->nfds || !c->fds[fd].used || c->fds[fd].preopen < 0) return W_EBADF;
    const char *name = c->pre_names[c->fds[fd].preopen];
    size_t n = strlen(name);
    uint8_t *p = wasi_mem(c, path, len);
    if (!p) return W_EFAULT;
    if (len < n) return W_ENAMETOOLONG;
    memcpy(p, name, n);
    return 0;
}

static uint8_t dirent_type(DIR *d, const struct dirent *de) {
    switch (de->d_type) {
    case DT_REG: return W_FT_REG;
    case DT_DIR: return W_FT_DIR;
    case DT_LNK: return W_FT_SYMLINK;
    case DT_CHR: return W_FT_CHAR;
    case DT_BLK: return W_FT_BLOCK;
    case DT_SOCK: return W_FT_SOCK_STREAM;
    case DT_UNKNOWN: {
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return wasi_filetype(st.st_mode);
        return W_FT_UNKNOWN;
    }
    default: return W_FT_UNKNOWN;
    }
}

/* Cookies are entry indexes: entry k has cookie k and d_next k + 1. The
 * stream remembers where it is, so reading on from the last d_next costs
 * nothing; any other cookie rewinds and skips. */
uint32_t FN(fd_readdir)(wasi_ctx *c, uint32_t fd, uint32_t buf, uint32_t len, uint64_t cookie,
                        uint32_t used_ptr) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, R_FD_READDIR, &f);
    if (e) return e;
    uint8_t *out = wasi_mem(c, buf, len), *used_p = wasi_mem(c, used_ptr, 4);
    if (!out || !used_p) return W_EFAULT;
    if (f->vdir) {
        uint32_t used;
        e = wasi_v_readdir(c, f, out, len, cookie, &used);
        if (!e) put_u32(used_p, used);
        return e;
    }
    if (!f->dir) {
        /* A fresh open file description: its position is the stream's own. */
        int d = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0) return wasi_errno(errno);
        if (!(f->dir = fdopendir(d))) { e = wasi_errno(errno); close(d); return e; }
        f->dir_pos = 0;
    }
    if (cookie < f->dir_pos) { rewinddir(f->dir); f->dir_pos = 0; }
    while (f->dir_pos < cookie) {
        errno = 0;
        if (!readdir(f->dir)) {
            if (errno) return wasi_errno(errno);
            put_u32(used_p, 0);
            return 0;
        }
        f->dir_pos++;
    }
    uint32_t used = 0;
    for (;;) {
        long at = telldir(f->dir);
        errno = 0;
        struct dirent *de = readdir(f->dir);
        if (!de) {
            if (errno) return wasi_errno(errno);
            break;
        }
        uint8_t ent[24 + 256];
        size_t nl = strlen(de->d_name);
        memset(ent, 0, 24);
        put_u64(ent, f->dir_pos + 1);
        put_u64(ent + 8, (uint64_t)de->d_ino);
        put_u32(ent + 16, (uint32_t)nl);
        put_u8(ent + 20, dirent_type(f->dir, de));
        memcpy(ent + 24, de->d_name, nl);
        size_t need = 24 + nl, room = len - used;
        if (need > room) {
            /* Fill the buffer with what fits (WASI's "more to come" signal)
             * and leave the entry to be read again. */
            memcpy(out + used, ent, room);
            used = len;
            seekdir(f->dir, at);
            break;
        }
        memcpy(out + used, ent, need);
        used += (uint32_t)need;
        f->dir_pos++;
    }
    put_u32(used_p, used);
    return 0;
}

uint32_t FN(fd_renumber)(wasi_ctx *c, uint32_t from, uint32_t to) {
    if (from >= c->nfds || !c->fds[from].used || to >= c->nfds || !c->fds[to].used)
        return W_EBADF;
    if (from == to) return 0;
    wasi_fd_release(&c->fds[to]);
    c->fds[to] = c->fds[from];
    memset(&c->fds[from], 0, sizeof c->fds[from]);
    return 0;
}

uint32_t FN(fd_seek)(wasi_ctx *c, uint32_t fd, uint64_t off, uint32_t whence, uint32_t newoff) {
    static const int wh[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    wasi_fd *f;
    /* With only the tell right, the one seek allowed is "where am I". */
    uint32_t e = wasi_fd_get(c, fd, R_FD_SEEK, &f);
    if (e == W_ENOTCAPABLE && off == 0 && whence == 1) e = wasi_fd_get(c, fd, R_FD_TELL, &f);
    if (e) return e;
    if (whence > 2) return W_EINVAL;
    uint8_t *p = wasi_mem(c, newoff, 8);
    if (!p) return W_EFAULT;
    if (f->vdir) {
        uint64_t pos;
        e = wasi_v_seek(c, f, off, whence, &pos);
        if (!e) put_u64(p, pos);
        return e;
    }
    off_t r = lseek(f->host, (off_t)(int64_t)off, wh[whence]);
    if (r < 0) return wasi_errno(errno);
    put_u64(p, (uint64_t)r);
    return 0;
}

uint32_t FN(fd_tell)(wasi_ctx *c, uint32_t fd, uint32_t newoff) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, R_FD_TELL, &f);
    if (e == W_ENOTCAPABLE) e = wasi_fd_get(c, fd, R_FD_SEEK, &f);   /* seek implies tell */
    if (e) return e;
    uint8_t *p = wasi_mem(c, newoff, 8);
    if (!p) return W_EFAULT;
    if (f->vdir) { put_u64(p, f->vpos); return 0; }
    off_t r = lseek(f->host, 0, SEEK_CUR);
    if (r < 0) return wasi_errno(errno);
    put_u64(p, (uint64_t)r);
    return 0;
}
