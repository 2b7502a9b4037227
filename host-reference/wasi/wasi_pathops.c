/* wasi_pathops.c: the path_* imports. Each resolves its path(s) with
 * wasi_resolve (directory beneath the preopen + a plain last name) and then
 * acts on that name with a *at() call that does not follow symlinks, so no
 * operation can reach outside the directory fd it was given. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include "wasi_int.h"

#define FN(name) Z_wasi_snapshot_preview1Z_##name

/* Checks the directory fd's rights, copies the path and resolves it. */
static uint32_t at(wasi_ctx *c, uint32_t fd, uint64_t need, uint32_t path, uint32_t len,
                   bool follow, int *parent, char name[256]) {
    wasi_fd *f;
    char p[PATH_MAX];
    *parent = -1;
    uint32_t e = wasi_fd_get(c, fd, need, &f);
    if (e) return e;
    if (f->type != W_FT_DIR) return W_ENOTDIR;
    /* A virtual directory answers the calls it has rights for itself;
     * no other reaches here with its rights, and none gets a host fd. */
    if (f->vdir) return W_ENOTCAPABLE;
    if ((e = wasi_copy_path(c, path, len, p, sizeof p))) return e;
    return wasi_resolve(f->host, p, follow, parent, name);
}

static bool is_virtual(wasi_ctx *c, uint32_t fd) {
    return fd < c->nfds && c->fds[fd].used && c->fds[fd].vdir;
}

static uint32_t done(int parent, int r) {
    uint32_t e = r ? wasi_errno(errno) : 0;
    if (parent >= 0) close(parent);
    return e;
}

uint32_t FN(path_create_directory)(wasi_ctx *c, uint32_t fd, uint32_t path, uint32_t len) {
    int p;
    char name[256];
    uint32_t e = at(c, fd, R_PATH_CREATE_DIRECTORY, path, len, false, &p, name);
    if (e) return e;
    return done(p, mkdirat(p, name, 0777));
}

uint32_t FN(path_filestat_get)(wasi_ctx *c, uint32_t fd, uint32_t flags, uint32_t path,
                               uint32_t len, uint32_t buf) {
    int p;
    char name[256];
    uint8_t *out = wasi_mem(c, buf, 64);
    if (!out) return W_EFAULT;
    if (is_virtual(c, fd)) return wasi_v_path_filestat(c, fd, path, len, out);
    uint32_t e = at(c, fd, R_PATH_FILESTAT_GET, path, len, flags & W_LOOKUP_FOLLOW, &p, name);
    if (e) return e;
    struct stat st;
    int r = fstatat(p, name, &st, AT_SYMLINK_NOFOLLOW);
    if (r == 0) wasi_put_filestat(out, &st);
    return done(p, r);
}

uint32_t FN(path_filestat_set_times)(wasi_ctx *c, uint32_t fd, uint32_t flags, uint32_t path,
                                     uint32_t len, uint64_t atim, uint64_t mtim, uint32_t fst) {
    int p;
    char name[256];
    struct timespec ts[2];
    uint32_t e = wasi_times(atim, mtim, fst, ts);
    if (e) return e;
    e = at(c, fd, R_PATH_FILESTAT_SET_TIMES, path, len, flags & W_LOOKUP_FOLLOW, &p, name);
    if (e) return e;
    return done(p, utimensat(p, name, ts, AT_SYMLINK_NOFOLLOW));
}

uint32_t FN(path_link)(wasi_ctx *c, uint32_t ofd, uint32_t oflags, uint32_t opath,
                       uint32_t olen, uint32_t nfd, uint32_t npath, uint32_t nlen) {
    int op, np;
    char oname[256], nname[256];
    /* With FOLLOW the source is resolved here, beneath its preopen; the
     * kernel is never asked to follow a link (it could lead outside). */
    uint32_t e = at(c, ofd, R_PATH_LINK_SOURCE, opath, olen, oflags & W_LOOKUP_FOLLOW, &op, oname);
    if (e) return e;
    e = at(c, nfd, R_PATH_LINK_TARGET, npath, nlen, false, &np, nname);
    if (e) { close(op); return e; }
    int r = linkat(op, oname, np, nname, 0);
    close(op);
    return done(np, r);
}

uint32_t FN(path_open)(wasi_ctx *c, uint32_t fd, uint32_t dirflags, uint32_t path, uint32_t len,
                       uint32_t oflags, uint64_t base, uint64_t inh, uint32_t fdflags,
                       uint32_t fd_out) {
    wasi_fd *d;
    uint64_t need = R_PATH_OPEN | (oflags & W_O_CREAT ? R_PATH_CREATE_FILE : 0) |
                    (oflags & W_O_TRUNC ? R_PATH_FILESTAT_SET_SIZE : 0);
    uint32_t e = wasi_fd_get(c, fd, need, &d);
    if (e) return e;
    if (d->type != W_FT_DIR) return W_ENOTDIR;
    if ((oflags & ~15u) || (fdflags & ~0x1fu)) return W_EINVAL;
    uint8_t *out = wasi_mem(c, fd_out, 4);
    if (!out) return W_EFAULT;
    /* Asking to write where writing is not granted fails here rather than
     * at the first write. Other rights beyond the directory's inheritable
     * set are narrowed away (toolchains ask for broad sets). */
    if ((base & R_FD_WRITE) && !(d->inh & R_FD_WRITE)) return W_ENOTCAPABLE;
    uint64_t dinh = d->inh;
    base &= dinh;
    inh &= dinh;
    if (d->vdir) return wasi_v_open(c, d, path, len, oflags, base, inh, fdflags, out);

    int p;
    char name[256];
    if ((e = at(c, fd, 0, path, len, dirflags & W_LOOKUP_FOLLOW, &p, name))) return e;
    int fl = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
    /* A directory is never opened for writing, whatever rights come along. */
    bool rd = base & (R_FD_READ | R_FD_READDIR);
    bool wr = (base & R_FD_WRITE) && !(oflags & W_O_DIRECTORY);
    fl |= wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (oflags & W_O_CREAT) fl |= O_CREAT;
    if (oflags & W_O_DIRECTORY) fl |= O_DIRECTORY;
    if (oflags & W_O_EXCL) fl |= O_EXCL;
    if (oflags & W_O_TRUNC) fl |= O_TRUNC;
    if (fdflags & W_FDFL_APPEND) fl |= O_APPEND;
    if (fdflags & W_FDFL_DSYNC) fl |= O_DSYNC;
    if (fdflags & W_FDFL_SYNC) fl |= O_SYNC;
    if (fdflags & W_FDFL_RSYNC) fl |= O_RSYNC;
    if (fdflags & W_FDFL_NONBLOCK) fl |= O_NONBLOCK;
    int h;
    while ((h = openat(p, name, fl, 0666)) < 0 && errno == EINTR) wlrt_check_interrupt();
    e = h < 0 ? wasi_errno(errno) : 0;
    close(p);
    if (e) return e;
    struct stat st;
    if (fstat(h, &st)) { e = wasi_errno(errno); close(h); return e; }
    int64_t nfd = wasi_fd_alloc(c);
    if (nfd < 0) { close(h); return W_EMFILE; }
    wasi_fd *f = &c->fds[nfd];
    f->used = true;
    f->host = h;
    f->preopen = -1;
    f->type = wasi_filetype(st.st_mode);
    if (f->type == W_FT_DIR) {
        f->base = base & R_DIR;
        f->inh = inh;
    } else {
        f->base = base & R_FILE;
        if (!S_ISREG(st.st_mode)) f->base &= ~(R_FD_SEEK | R_FD_TELL);
        f->inh = 0;
    }
    put_u32(out, (uint32_t)nfd);
    return 0;
}

uint32_t FN(path_readlink)(wasi_ctx *c, uint32_t fd, uint32_t path, uint32_t len, uint32_t buf,
                           uint32_t buf_len, uint32_t used) {
    int p;
    char name[256], target[PATH_MAX];
    uint8_t *out = wasi_mem(c, buf, buf_len), *up = wasi_mem(c, used, 4);
    if (!out || !up) return W_EFAULT;
    if (is_virtual(c, fd)) return wasi_v_readlink(c, fd, path, len);
    uint32_t e = at(c, fd, R_PATH_READLINK, path, len, false, &p, name);
    if (e) return e;
    ssize_t n = readlinkat(p, name, target, sizeof target);
    if (n >= 0) {
        size_t k = (size_t)n < buf_len ? (size_t)n : buf_len;   /* truncates, like readlink(2) */
        memcpy(out, target, k);
        put_u32(up, (uint32_t)k);
    }
    return done(p, n < 0);
}

uint32_t FN(path_remove_directory)(wasi_ctx *c, uint32_t fd, uint32_t path, uint32_t len) {
    int p;
    char name[256];
    uint32_t e = at(c, fd, R_PATH_REMOVE_DIRECTORY, path, len, false, &p, name);
    if (e) return e;
    return done(p, unlinkat(p, name, AT_REMOVEDIR));
}

uint32_t FN(path_rename)(wasi_ctx *c, uint32_t ofd, uint32_t opath, uint32_t olen, uint32_t nfd,
                         uint32_t npath, uint32_t nlen) {
    int op, np;
    char oname[256], nname[256];
    uint32_t e = at(c, ofd, R_PATH_RENAME_SOURCE, opath, olen, false, &op, oname);
    if (e) return e;
    e = at(c, nfd, R_PATH_RENAME_TARGET, npath, nlen, false, &np, nname);
    if (e) { close(op); return e; }
    int r = renameat(op, oname, np, nname);
    close(op);
    return done(np, r);
}

/* Walks the components of s, counting depth; false once it goes below 0. */
static bool climb(const char *s, long *depth) {
    while (*s) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.') { if (--*depth < 0) return false; }
        else if (n && !(n == 1 && s[0] == '.')) ++*depth;
        s += n;
        while (*s == '/') s++;
    }
    return true;
}

/* A link whose text is absolute or climbs above the preopen (counted from
 * the directory the link lives in) is refused: the guest could never follow
 * it (resolution stays beneath), but a host user later might. */
static bool symlink_escapes(const char *target, char *linkpath) {
    if (target[0] == '/') return true;
    long depth = 0;
    size_t n = strlen(linkpath);
    while (n > 1 && linkpath[n - 1] == '/') linkpath[--n] = 0;
    char *cut = strrchr(linkpath, '/');
    if (cut) {
        *cut = 0;
        if (!climb(linkpath, &depth)) return true;
    }
    return !climb(target, &depth);
}

uint32_t FN(path_symlink)(wasi_ctx *c, uint32_t tpath, uint32_t tlen, uint32_t fd,
                          uint32_t npath, uint32_t nlen) {
    int p;
    char name[256], target[PATH_MAX], link[PATH_MAX];
    uint32_t e = wasi_copy_path(c, tpath, tlen, target, sizeof target);
    if (e) return e;
    if ((e = wasi_copy_path(c, npath, nlen, link, sizeof link))) return e;
    if (!target[0]) return W_ENOENT;
    if ((e = at(c, fd, R_PATH_SYMLINK, npath, nlen, false, &p, name))) return e;
    if (symlink_escapes(target, link)) { close(p); return W_ENOTCAPABLE; }
    return done(p, symlinkat(target, p, name));
}

uint32_t FN(path_unlink_file)(wasi_ctx *c, uint32_t fd, uint32_t path, uint32_t len) {
    int p;
    char name[256];
    uint32_t e = at(c, fd, R_PATH_UNLINK_FILE, path, len, false, &p, name);
    if (e) return e;
    return done(p, unlinkat(p, name, 0));
}
