/* wasi_path.c: resolving guest paths beneath a preopened directory.
 *
 * Every path operation is split into "the directory holding the last
 * component" (opened here, beneath the preopen) and a plain name that the
 * caller hands to a *at() call with AT_SYMLINK_NOFOLLOW / O_NOFOLLOW. The
 * directory part is opened by the kernel with openat2(RESOLVE_BENEATH),
 * which refuses "..", absolute paths and symlinks that leave the root, and
 * guards against concurrent renames. Kernels without openat2 get a walk
 * that opens one component at a time with O_NOFOLLOW, expands symlinks
 * itself and answers ".." from its own stack of directory fds, so it never
 * asks the kernel to go up. A symlink in the last position is expanded here
 * too, by splicing its target into the path and starting again from the
 * root, so the same rules apply to it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#if defined(__linux__) && __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2 1
#endif
#include "wasi_int.h"

#define MAX_SYMLINKS 40
#define MAX_DEPTH 128     /* directory fds held by the portable walk */

enum { MODE_UNKNOWN, MODE_OPENAT2, MODE_WALK };
static atomic_int resolve_mode = MODE_UNKNOWN;
static atomic_int force_walk;

void wasi_path_force_walk(int on) { atomic_store(&force_walk, on); }

#ifdef HAVE_OPENAT2
static int openat2_dir(int root, const char *path) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    for (int tries = 0;; tries++) {
        long r = syscall(SYS_openat2, root, path, &how, sizeof how);
        if (r >= 0) return (int)r;
        /* EAGAIN: a rename raced with ".." resolution; the kernel asks us
         * to retry rather than risk an escape. */
        if ((errno == EAGAIN && tries < 32) || errno == EINTR) continue;
        return -1;
    }
}
#endif

bool wasi_path_using_walk(void) {
    if (atomic_load(&force_walk)) return true;
#ifdef HAVE_OPENAT2
    int m = atomic_load(&resolve_mode);
    if (m == MODE_UNKNOWN) {
        /* Probe once. Seccomp filters in some containers answer EPERM for
         * syscalls they do not know, so EPERM means "absent" here too. */
        int fd = openat2_dir(AT_FDCWD, ".");
        m = MODE_OPENAT2;
        if (fd >= 0) close(fd);
        else if (errno == ENOSYS || errno == EPERM) m = MODE_WALK;
        atomic_store(&resolve_mode, m);
    }
    return m == MODE_WALK;
#else
    return true;
#endif
}

/* Next component of *p (skipping slashes) into c: 1, 0 at the end, -1 if
 * longer than NAME_MAX. */
static int next_comp(const char **p, char c[NAME_MAX + 1]) {
    const char *s = *p;
    while (*s == '/') s++;
    if (!*s) return 0;
    size_t n = strcspn(s, "/");
    *p = s + n;
    if (n > NAME_MAX) return -1;
    memcpy(c, s, n);
    c[n] = 0;
    return 1;
}

/* The portable walk: opens directory `path` beneath root. */
static uint32_t walk_dir(int root, const char *path, int *out) {
    char work[PATH_MAX], tmp[PATH_MAX], comp[NAME_MAX + 1], target[PATH_MAX];
    int stack[MAX_DEPTH];
    int depth = 0, links = 0;
    uint32_t err = 0;
    if (strlen(path) >= sizeof work) return W_ENAMETOOLONG;
    strcpy(work, path);
    const char *rest = work;
    for (int r; (r = next_comp(&rest, comp)) != 0;) {
        if (r < 0) { err = W_ENAMETOOLONG; break; }
        if (!strcmp(comp, ".")) continue;
        if (!strcmp(comp, "..")) {
            if (depth == 0) { err = W_ENOTCAPABLE; break; }
            close(stack[--depth]);
            continue;
        }
        int cur = depth ? stack[depth - 1] : root;
        struct stat st;
    again:
        if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) != 0) { err = wasi_errno(errno); break; }
        if (S_ISLNK(st.st_mode)) {
            if (++links > MAX_SYMLINKS) { err = W_ELOOP; break; }
            ssize_t n = readlinkat(cur, comp, target, sizeof target);
            if (n < 0 && errno == EINVAL) goto again;   /* replaced since fstatat */
            if (n < 0) { err = wasi_errno(errno); break; }
            if ((size_t)n >= sizeof target) { err = W_ENAMETOOLONG; break; }
            target[n] = 0;
            if (target[0] == '/') { err = W_ENOTCAPABLE; break; }
            int w = snprintf(tmp, sizeof tmp, "%s/%s", target, rest);
            if (w < 0 || (size_t)w >= sizeof tmp) { err = W_ENAMETOOLONG; break; }
            strcpy(work, tmp);
            rest = work;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) { err = W_ENOTDIR; break; }
        if (depth == MAX_DEPTH) { err = W_ENAMETOOLONG; break; }
        /* O_NOFOLLOW: if the name became a symlink since fstatat, this
         * opens the link itself and O_DIRECTORY then fails; nothing is
         * followed. */
        int fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) { err = wasi_errno(errno); break; }
        stack[depth++] = fd;
    }
    if (!err) {
        int fd = depth ? stack[--depth] : fcntl(root, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) err = wasi_errno(errno);
        *out = fd;
    }
    while (depth > 0) close(stack[--depth]);
    return err;
}

/* Opens directory `path` (relative; "" is the root itself) beneath root. */
static uint32_t open_dir(int root, const char *path, int *out) {
    *out = -1;
    if (!path[0]) {
        int fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) return wasi_errno(errno);
        *out = fd;
        return 0;
    }
    if (wasi_path_using_walk()) return walk_dir(root, path, out);
#ifdef HAVE_OPENAT2
    int fd = openat2_dir(root, path);
    if (fd < 0) return errno == EXDEV ? W_ENOTCAPABLE : wasi_errno(errno);
    *out = fd;
    return 0;
#else
    return W_ENOSYS;
#endif
}

uint32_t wasi_resolve(int root, const char *path, bool follow, int *parent,
                      char name[256]) {
    char cur[PATH_MAX], dir[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
    *parent = -1;
    if (strlen(path) >= sizeof cur) return W_ENAMETOOLONG;
    strcpy(cur, path);
    if (!cur[0]) return W_ENOENT;
    for (int links = 0;;) {
        if (cur[0] == '/') return W_ENOTCAPABLE;
        size_t n = strlen(cur);
        bool slash = false;
        while (n > 1 && cur[n - 1] == '/') { cur[--n] = 0; slash = true; }
        char *cut = strrchr(cur, '/');
        const char *base = cut ? cut + 1 : cur;
        size_t dlen = cut ? (size_t)(cut - cur) : 0;
        memcpy(dir, cur, dlen);
        dir[dlen] = 0;
        if (strlen(base) > NAME_MAX) return W_ENAMETOOLONG;

        int pfd;
        uint32_t err;
        if (!strcmp(base, "..")) {
            /* The directory the whole path names, operated on as ".". */
            err = open_dir(root, cur, &pfd);
            if (err) return err;
            *parent = pfd;
            strcpy(name, ".");
            return 0;
        }
        err = open_dir(root, dir, &pfd);
        if (err) return err;
        if ((follow || slash) && strcmp(base, ".")) {
            struct stat st;
            if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISLNK(st.st_mode)) {
                    ssize_t t = readlinkat(pfd, base, target, sizeof target);
                    int e = errno;
                    close(pfd);
                    if (++links > MAX_SYMLINKS) return W_ELOOP;
                    if (t < 0 && e == EINVAL) {          /* replaced since fstatat: again */
                        if (slash) strcat(cur, "/");
                        continue;
                    }
                    if (t < 0) return wasi_errno(e);
                    if ((size_t)t >= sizeof target) return W_ENAMETOOLONG;
                    target[t] = 0;
                    if (!target[0]) return W_ENOENT;
                    if (target[0] == '/') return W_ENOTCAPABLE;
                    int w = snprintf(next, sizeof next, "%s%s%s%s", dir,
                                     dlen ? "/" : "", target, slash ? "/" : "");
                    if (w < 0 || (size_t)w >= sizeof next) return W_ENAMETOOLONG;
                    strcpy(cur, next);
                    continue;
                }
                if (slash && !S_ISDIR(st.st_mode)) { close(pfd); return W_ENOTDIR; }
            }
        }
        *parent = pfd;
        strcpy(name, base);
        return 0;
    }
}

uint32_t wasi_copy_path(wasi_ctx *c, uint32_t ptr, uint32_t len, char *buf, size_t cap) {
    const uint8_t *p = wasi_mem(c, ptr, len);
    if (!p) return W_EFAULT;
    if (len >= cap) return W_ENAMETOOLONG;
    if (memchr(p, 0, len)) return W_EINVAL;
    memcpy(buf, p, len);
    buf[len] = 0;
    return 0;
}
