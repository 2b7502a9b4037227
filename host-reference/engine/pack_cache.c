/* pack_cache.c: entries of repacked weights, mapped like the weights. */
#define _GNU_SOURCE   /* O_NOFOLLOW, O_CLOEXEC, fallocate-free posix_fallocate, MADV_* */
#include "pack_cache.h"
#include "hugemap.h"
#include "llm_err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The header is the first page; the data starts 2 MB into the file and is
 * mapped at a 2 MB-aligned address. A token streams the whole entry, and
 * through 4 KB pages the TLB misses cost about a tenth of generation speed;
 * aligned like this, the 2 MB folios that 2 MB-aligned writes leave in the
 * page cache (and that reads through a huge-page mapping allocate) are
 * mapped as huge pages. The gap is a hole in the file. */
#define HEADER 4096
#define MAGIC "WLPACK\0\2"

typedef struct {
    char magic[8];
    pack_desc d;
} header;

static void make_header(header *h, const pack_desc *d) {
    memset(h, 0, sizeof *h);   /* padding too: headers compare as bytes */
    memcpy(h->magic, MAGIC, 8);
    h->d.src = d->src;
    memcpy(h->d.table, d->table, sizeof h->d.table);
    h->d.n_mats = d->n_mats;
    h->d.layout = d->layout;
    h->d.bytes = d->bytes;
}

/* The entry's name: a 64-bit FNV-1a of its header. Collisions only cost a
 * miss, since the header is compared in full. */
static bool entry_path(char *buf, size_t len, const char *dir, const pack_desc *d) {
    header h;
    make_header(&h, d);
    uint64_t x = 0xcbf29ce484222325u;
    const unsigned char *p = (const unsigned char *)&h;
    for (size_t i = 0; i < sizeof h; i++) x = (x ^ p[i]) * 0x100000001b3u;
    int n = snprintf(buf, len, "%s/%016llx.pack", dir, (unsigned long long)x);
    return n > 0 && (size_t)n < len;
}

bool pack_cache_dir(char *buf, size_t len, char *nt, size_t ntlen) {
    const char *e = getenv("WASMLET_PACK_CACHE"), *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (e && *e) {
        if (strcmp(e, "off") == 0 || strcmp(e, "0") == 0) return llm_fail(nt, ntlen, "cache off (WASMLET_PACK_CACHE)");
        if (e[0] != '/') return llm_fail(nt, ntlen, "cache off: WASMLET_PACK_CACHE is not an absolute path");
        n = snprintf(buf, len, "%s", e);
    } else if (x && x[0] == '/') {
        n = snprintf(buf, len, "%s/wasmlet/packed", x);
    } else if (home && home[0] == '/') {
        n = snprintf(buf, len, "%s/.cache/wasmlet/packed", home);
    } else {
        return llm_fail(nt, ntlen, "cache off: no HOME or XDG_CACHE_HOME");
    }
    if (n <= 0 || (size_t)n >= len) return llm_fail(nt, ntlen, "cache off: folder path too long");
    return true;
}

/* mkdir -p with private new folders; the last one must be ours and 0700. */
static bool private_dir(const char *dir, char *nt, size_t ntlen) {
    char tmp[4096];
    if (strlen(dir) >= sizeof tmp) return llm_fail(nt, ntlen, "cache folder path too long");
    strcpy(tmp, dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return llm_fail(nt, ntlen, "cannot create %.300s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return llm_fail(nt, ntlen, "cannot create %.300s: %s", dir, strerror(errno));
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return llm_fail(nt, ntlen, "%.300s is not a folder", dir);
    if (st.st_uid != geteuid() || (st.st_mode & 077))
        return llm_fail(nt, ntlen, "%.300s is not private (must be yours, mode 0700)", dir);
    return true;
}

void *pack_cache_map(const char *dir, const pack_desc *d, char *nt, size_t ntlen) {
    char path[4096];
    if (!entry_path(path, sizeof path, dir, d)) {
        llm_fail(nt, ntlen, "cache folder path too long");
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        llm_fail(nt, ntlen, errno == ENOENT ? "no entry %.300s" : "cannot open %.300s", path);
        return NULL;
    }
    struct stat st;
    header want, got;
    make_header(&want, d);
    const char *why = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) why = "is not a regular file";
    else if (st.st_uid != geteuid() || (st.st_mode & 022)) why = "is not private (yours, writable by you only)";
    else if ((uint64_t)st.st_size != PACK_CACHE_DATA + d->bytes) why = "has the wrong size";
    else if (pread(fd, &got, sizeof got, 0) != (ssize_t)sizeof got || memcmp(&got, &want, sizeof got) != 0)
        why = "does not match this model";
    void *map = MAP_FAILED;
    if (!why) {
        map = hugemap_file(fd, PACK_CACHE_DATA, d->bytes);
        if (map == MAP_FAILED) why = "cannot be mapped";
    }
    if (!why) futimens(fd, NULL);   /* last use, for eviction */
    close(fd);
    if (why) {
        llm_fail(nt, ntlen, "entry %.300s %s", path, why);
        return NULL;
    }
    llm_fail(nt, ntlen, "cache hit %.300s", path);
    return map;
}

bool pack_cache_create(const char *dir, const pack_desc *d, pack_writer *w, char *nt, size_t ntlen) {
    memset(w, 0, sizeof *w);
    w->fd = -1;
    if (!private_dir(dir, nt, ntlen)) return false;
    if (!entry_path(w->path, sizeof w->path, dir, d) ||
        snprintf(w->tmp, sizeof w->tmp, "%s.tmp.XXXXXX", w->path) >= (int)sizeof w->tmp)
        return llm_fail(nt, ntlen, "cache folder path too long");
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) return llm_fail(nt, ntlen, "cannot create %.300s: %s", w->tmp, strerror(errno));
    /* Reserve the blocks now: a full disk fails here, before any work. */
    int rc = posix_fallocate(w->fd, PACK_CACHE_DATA, (off_t)d->bytes);
    if (rc != 0) {
        llm_fail(nt, ntlen, "cannot reserve %llu bytes in %.300s: %s", (unsigned long long)d->bytes,
             dir, strerror(rc));
        pack_cache_abort(w);
        return false;
    }
    w->bytes = d->bytes;
    return true;
}

bool pack_cache_write(const pack_writer *w, uint64_t off, const void *data, size_t len) {
    if (off > w->bytes || len > w->bytes - off) return false;
    const char *p = data;
    while (len) {
        ssize_t n = pwrite(w->fd, p, len, (off_t)(PACK_CACHE_DATA + off));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

void pack_cache_abort(pack_writer *w) {
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
    }
    w->fd = -1;
}

static uint64_t cache_max(void) {
    const char *e = getenv("WASMLET_PACK_CACHE_MAX");
    uint64_t def = 16ull << 30;
    if (!e || !*e) return def;
    char *end;
    unsigned long long v = strtoull(e, &end, 10);
    int shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20 : *end == 'G' || *end == 'g' ? 30 : 0;
    if (shift) end++;
    if (end == e || *end || v > (UINT64_MAX >> shift)) return def;
    return (uint64_t)v << shift;
}

/* Remove the least recently used entries (never keep) while the folder
 * holds more than the limit, and temporary files a crashed start left
 * behind (older than an hour). */
static void evict(const char *dir, const char *keep) {
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct ent { char name[64]; uint64_t size; time_t used; } *ents = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    time_t now = time(NULL);
    int dfd = dirfd(dp);
    for (struct dirent *de; (de = readdir(dp));) {
        size_t len = strlen(de->d_name);
        struct stat st;
        if (len >= sizeof ents->name || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (strstr(de->d_name, ".pack.tmp.")) {
            if (now - st.st_mtime > 3600) unlinkat(dfd, de->d_name, 0);
            continue;
        }
        if (len < 6 || strcmp(de->d_name + len - 5, ".pack") != 0) continue;
        if (n == cap) {
            struct ent *e = realloc(ents, (cap = cap ? 2 * cap : 16) * sizeof *ents);
            if (!e) break;
            ents = e;
        }
        memcpy(ents[n].name, de->d_name, len + 1);
        ents[n].size = (uint64_t)st.st_size;
        ents[n].used = st.st_mtime;
        total += ents[n].size;
        n++;
    }
    const char *keep_name = strrchr(keep, '/') ? strrchr(keep, '/') + 1 : keep;
    for (uint64_t max = cache_max(); total > max;) {
        size_t oldest = n;
        for (size_t i = 0; i < n; i++)
            if (ents[i].size && strcmp(ents[i].name, keep_name) != 0 &&
                (oldest == n || ents[i].used < ents[oldest].used))
                oldest = i;
        if (oldest == n) break;
        unlinkat(dfd, ents[oldest].name, 0);
        total -= ents[oldest].size;
        ents[oldest].size = 0;
    }
    free(ents);
    closedir(dp);
}

void *pack_cache_commit(pack_writer *w, const pack_desc *d, char *nt, size_t ntlen) {
    header h;
    make_header(&h, d);
    char hdr[HEADER] = {0};
    memcpy(hdr, &h, sizeof h);
    /* Header last: until it is there, no reader accepts the file. */
    if (pwrite(w->fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
        fchmod(w->fd, 0600) != 0) {
        llm_fail(nt, ntlen, "cannot write %.300s: %s", w->tmp, strerror(errno));
        pack_cache_abort(w);
        return NULL;
    }
    void *map = hugemap_file(w->fd, PACK_CACHE_DATA, d->bytes);
    if (map == MAP_FAILED) {
        llm_fail(nt, ntlen, "cannot map %.300s: %s", w->tmp, strerror(errno));
        pack_cache_abort(w);
        return NULL;
    }
    if (rename(w->tmp, w->path) != 0) {
        /* Still a good copy for this process; only later starts lose it. */
        llm_fail(nt, ntlen, "packed, but cannot rename into %.300s: %s", w->path, strerror(errno));
        unlink(w->tmp);
    } else {
        llm_fail(nt, ntlen, "packed into new cache entry %.300s", w->path);
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", w->path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = 0;
            evict(dir, w->path);
        }
    }
    close(w->fd);
    w->fd = -1;
    return map;
}
