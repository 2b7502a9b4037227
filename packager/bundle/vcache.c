/* vcache.c: per-user verified-bundle cache. See vcache.h. */
#include "vcache.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* mkdir -p with 0700 for the parts we create. */
static bool mkdirs(const char *path) {
    char buf[4096];
    if (strlen(path) >= sizeof buf) return false;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) return false;
        *p = '/';
    }
    return mkdir(buf, 0700) == 0 || errno == EEXIST;
}

bool vcache_dir(char *out, size_t outlen) {
    const char *d = getenv("WASMLET_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    int n;
    if (d && d[0] == '/') n = snprintf(out, outlen, "%s", d);
    else if (x && x[0] == '/') n = snprintf(out, outlen, "%s/wasmlet/verified", x);
    else if (h && h[0] == '/') n = snprintf(out, outlen, "%s/.cache/wasmlet/verified", h);
    else return false;
    if (n < 0 || (size_t)n >= outlen || !mkdirs(out)) return false;
    struct stat st;
    /* Someone else able to write here could forge entries. */
    if (lstat(out, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
        return false;
    return true;
}

static bool entry_path(const struct stat *st, char *out, size_t outlen) {
    char dir[4000];
    if (!vcache_dir(dir, sizeof dir)) return false;
    int n = snprintf(out, outlen, "%s/%llx-%llx", dir, (unsigned long long)st->st_dev, (unsigned long long)st->st_ino);
    return n > 0 && (size_t)n < outlen;
}

static int entry_line(const struct stat *st, const uint8_t sha[32], char *out, size_t outlen) {
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    return snprintf(out, outlen, "wasmlet-verified 1 %llu %llu %lld %lld.%09ld %lld.%09ld %s\n",
                    (unsigned long long)st->st_dev, (unsigned long long)st->st_ino, (long long)st->st_size,
                    (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
                    st->st_ctim.tv_nsec, hex);
}

bool vcache_lookup(const struct stat *st, const uint8_t manifest_sha[32]) {
    char path[4096], want[256], got[257];
    if (!entry_path(st, path, sizeof path)) return false;
    int wl = entry_line(st, manifest_sha, want, sizeof want);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat est;
    ssize_t n = -1;
    if (fstat(fd, &est) == 0 && S_ISREG(est.st_mode) && est.st_uid == geteuid())
        n = read(fd, got, sizeof got - 1);
    close(fd);
    return n == wl && memcmp(got, want, (size_t)wl) == 0;
}

static bool same_identity(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

void vcache_store(const struct stat *before, const struct stat *after, time_t started, const uint8_t manifest_sha[32]) {
    char path[4096], tmp[4200], line[256];
    if (!same_identity(before, after)) return;   /* changed while we hashed */
    if (started - after->st_mtim.tv_sec < VCACHE_RACY_SECONDS || started - after->st_ctim.tv_sec < VCACHE_RACY_SECONDS)
        return;
    if (!entry_path(after, path, sizeof path)) return;
    int n = entry_line(after, manifest_sha, line, sizeof line);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return;
    bool ok = write(fd, line, (size_t)n) == n;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
}
