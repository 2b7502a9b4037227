/* tar.c: reproducible tar writer over libarchive, strict header reader.
 * See tar.h. */
#include "tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAX_MAX (64 * 1024)
#define TRAILER_MAX (64 * 1024)

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static bool read_at(int fd, void *buf, size_t n, uint64_t off) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}

/* ---- reader ------------------------------------------------------------- */

/* Octal field, NUL/space padded. Base-256 (GNU binary) is refused: large
 * sizes travel in pax records. */
static bool octal(const uint8_t *f, size_t n, uint64_t *out) {
    size_t i = 0;
    uint64_t v = 0;
    if (f[0] & 0x80) return false;
    while (i < n && f[i] == ' ') i++;
    size_t digits = 0;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (v >> 61) return false;
        v = (v << 3) | (uint64_t)(f[i] - '0');
    }
    if (digits == 0) return false;
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != 0) return false;
    *out = v;
    return true;
}

static bool all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

/* Unsafe names never reach a caller, whatever it does with them. */
static const char *path_problem(const char *p) {
    if (!p[0]) return "empty name";
    if (p[0] == '/') return "absolute path";
    if (strchr(p, '\\')) return "backslash in name";
    for (const char *c = p;;) {
        const char *e = strchr(c, '/');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        if (l == 0) return "empty path component";
        if (l == 2 && c[0] == '.' && c[1] == '.') return "parent directory (..) component";
        if (l == 1 && c[0] == '.') return "current directory (.) component";
        if (!e) break;
        c = e + 1;
    }
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) return "control character in name";
    return NULL;
}

static const char *type_name(uint8_t t) {
    switch (t) {
    case '1': return "a hard link";
    case '2': return "a symbolic link";
    case '3': return "a character device";
    case '4': return "a block device";
    case '5': return "a directory";
    case '6': return "a FIFO";
    case '7': return "a contiguous file";
    case 'g': return "a pax global header";
    case 'L': case 'K': return "a GNU long name/link header";
    case 'S': return "a GNU sparse file";
    default: return NULL;
    }
}

/* pax records: "<len> <key>=<value>\n". Only path and size are allowed. */
static bool parse_pax(const char *d, size_t n, char *path, bool *has_path, uint64_t *size, bool *has_size,
                      uint64_t at, char *err, size_t errlen) {
    size_t i = 0;
    while (i < n) {
        size_t len = 0, j = i;
        while (j < n && d[j] >= '0' && d[j] <= '9' && len < PAX_MAX) len = len * 10 + (size_t)(d[j++] - '0');
        if (j == i || j >= n || d[j] != ' ' || len <= j - i + 1 || len > n - i || d[i + len - 1] != '\n')
            return fail(err, errlen, "tar: pax header at offset %llu: malformed record", (unsigned long long)at);
        const char *kv = d + j + 1, *end = d + i + len - 1;
        const char *eq = memchr(kv, '=', (size_t)(end - kv));
        if (!eq) return fail(err, errlen, "tar: pax header at offset %llu: record without '='", (unsigned long long)at);
        size_t kl = (size_t)(eq - kv), vl = (size_t)(end - eq - 1);
        if (kl == 4 && memcmp(kv, "path", 4) == 0) {
            if (vl == 0 || vl > TAR_PATH_MAX || memchr(eq + 1, 0, vl))
                return fail(err, errlen, "tar: pax header at offset %llu: bad path record", (unsigned long long)at);
            memcpy(path, eq + 1, vl);
            path[vl] = 0;
            *has_path = true;
        } else if (kl == 4 && memcmp(kv, "size", 4) == 0) {
            uint64_t v = 0;
            if (vl == 0 || vl > 19) return fail(err, errlen, "tar: pax header at offset %llu: bad size record", (unsigned long long)at);
            for (size_t k = 0; k < vl; k++) {
                char ch = eq[1 + k];
                if (ch < '0' || ch > '9')
                    return fail(err, errlen, "tar: pax header at offset %llu: bad size record", (unsigned long long)at);
                v = v * 10 + (uint64_t)(ch - '0');
            }
            *size = v;
            *has_size = true;
        } else {
            return fail(err, errlen, "tar: pax header at offset %llu: unsupported record \"%.*s\"",
                        (unsigned long long)at, (int)(kl > 40 ? 40 : kl), kv);
        }
        i += len;
    }
    return true;
}

static bool check_header(const uint8_t *h, uint64_t at, char *err, size_t errlen) {
    uint64_t stored;
    if (!octal(h + 148, 8, &stored))
        return fail(err, errlen, "tar: header at offset %llu: not a tar header (bad checksum field)", (unsigned long long)at);
    uint64_t sum = 0;
    for (int i = 0; i < TAR_BLOCK; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
    if (sum != stored)
        return fail(err, errlen, "tar: header at offset %llu: checksum mismatch (damaged or not a tar archive)", (unsigned long long)at);
    if (memcmp(h + 257, "ustar\0" "00", 8) != 0)
        return fail(err, errlen, "tar: header at offset %llu: not a POSIX ustar header", (unsigned long long)at);
    return true;
}

static bool end_of_archive(int fd, uint64_t file_size, uint64_t pos, char *err, size_t errlen) {
    uint8_t buf[TAR_BLOCK];
    if (pos + TAR_BLOCK > file_size || !read_at(fd, buf, TAR_BLOCK, pos))
        return fail(err, errlen, "tar: offset %llu: end-of-archive marker is missing its second zero block (truncated)", (unsigned long long)pos);
    if (!all_zero(buf, TAR_BLOCK))
        return fail(err, errlen, "tar: offset %llu: data after the end of the archive (a lone zero block, then non-zero bytes)",
                    (unsigned long long)pos);
    pos += TAR_BLOCK;
    if (file_size - pos > TRAILER_MAX)
        return fail(err, errlen, "tar: %llu bytes after the end of the archive", (unsigned long long)(file_size - pos));
    while (pos < file_size) {
        size_t n = file_size - pos < TAR_BLOCK ? (size_t)(file_size - pos) : TAR_BLOCK;
        if (!read_at(fd, buf, n, pos)) return fail(err, errlen, "tar: read error after the end of the archive");
        if (!all_zero(buf, n))
            return fail(err, errlen, "tar: offset %llu: data after the end of the archive", (unsigned long long)pos);
        pos += n;
    }
    return true;
}

int tar_next(int fd, uint64_t file_size, uint64_t *pos, tar_entry *e, char *err, size_t errlen) {
    uint8_t h[TAR_BLOCK];
    char pax_path[TAR_PATH_MAX + 1];
    bool has_pax = false, has_path = false, has_size = false;
    uint64_t pax_size = 0;
    memset(e, 0, sizeof *e);
    e->header_offset = *pos;
    for (;;) {
        uint64_t at = *pos;
        if (at > file_size || file_size - at < TAR_BLOCK) {
            fail(err, errlen, at == file_size ? "tar: archive ends at offset %llu without an end-of-archive marker (truncated)"
                                              : "tar: offset %llu: partial header block (truncated)",
                 (unsigned long long)at);
            return -1;
        }
        if (!read_at(fd, h, TAR_BLOCK, at)) {
            fail(err, errlen, "tar: read error at offset %llu", (unsigned long long)at);
            return -1;
        }
        if (all_zero(h, TAR_BLOCK)) {
            if (has_pax) {
                fail(err, errlen, "tar: pax header at offset %llu is not followed by a member", (unsigned long long)e->header_offset);
                return -1;
            }
            return end_of_archive(fd, file_size, at + TAR_BLOCK, err, errlen) ? 0 : -1;
        }
        if (!check_header(h, at, err, errlen)) return -1;
        uint64_t size;
        if (!octal(h + 124, 12, &size)) {
            fail(err, errlen, "tar: header at offset %llu: bad size field", (unsigned long long)at);
            return -1;
        }
        uint8_t type = h[156];
        uint64_t data = at + TAR_BLOCK;
        if (type == 'x') {
            if (has_pax) {
                fail(err, errlen, "tar: header at offset %llu: two pax headers in a row", (unsigned long long)at);
                return -1;
            }
            if (size > PAX_MAX || data + size > file_size) {
                fail(err, errlen, "tar: pax header at offset %llu: size %llu too large or past the end of the file",
                     (unsigned long long)at, (unsigned long long)size);
                return -1;
            }
            char *d = malloc(size ? size : 1);
            if (!d || !read_at(fd, d, size, data)) {
                free(d);
                fail(err, errlen, "tar: read error at offset %llu", (unsigned long long)data);
                return -1;
            }
            bool ok = parse_pax(d, size, pax_path, &has_path, &pax_size, &has_size, at, err, errlen);
            free(d);
            if (!ok) return -1;
            has_pax = true;
            *pos = data + (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
            continue;
        }
        /* The name, for messages, before deciding anything else. */
        char name[TAR_PATH_MAX + 1];
        size_t pl = strnlen((const char *)h + 345, 155), nl = strnlen((const char *)h, 100);
        if (pl) snprintf(name, sizeof name, "%.*s/%.*s", (int)pl, (const char *)h + 345, (int)nl, (const char *)h);
        else snprintf(name, sizeof name, "%.*s", (int)nl, (const char *)h);
        if (has_path) snprintf(name, sizeof name, "%s", pax_path);
        if (type != '0' && type != 0) {
            const char *what = type_name(type);
            if (what) fail(err, errlen, "tar: member '%s' at offset %llu is %s; bundles hold regular files only", name, (unsigned long long)at, what);
            else fail(err, errlen, "tar: member '%s' at offset %llu has unknown type '%c'", name, (unsigned long long)at, type >= 0x20 && type < 0x7f ? type : '?');
            return -1;
        }
        const char *bad = path_problem(name);
        if (bad) {
            fail(err, errlen, "tar: member '%s' at offset %llu: unsafe name (%s)", name, (unsigned long long)at, bad);
            return -1;
        }
        if (has_size) size = pax_size;
        if (size > file_size || data > file_size - size) {
            fail(err, errlen, "tar: member '%s' at offset %llu declares %llu bytes, past the end of the file (truncated or hostile)",
                 name, (unsigned long long)at, (unsigned long long)size);
            return -1;
        }
        memcpy(e->path, name, sizeof name);
        e->size = size;
        e->data_offset = data;
        uint64_t padded = (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
        *pos = data + padded;
        return 1;
    }
}

/* ---- writer ------------------------------------------------------------- */

struct tarw {
    struct archive *a;
    int64_t mtime;
};

tarw *tarw_open(int fd, int64_t mtime, char *err, size_t errlen) {
    tarw *w = calloc(1, sizeof *w);
    if (!w) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    w->mtime = mtime;
    w->a = archive_write_new();
    if (!w->a || archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
        archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(w->a, 10240) != ARCHIVE_OK ||
        /* no padding after the end-of-archive marker: the file ends there */
        archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(w->a, fd) != ARCHIVE_OK) {
        fail(err, errlen, "tar: cannot start writing: %s", w->a ? archive_error_string(w->a) : "out of memory");
        tarw_abort(w);
        return NULL;
    }
    return w;
}

bool tarw_begin(tarw *w, const char *path, uint64_t size, char *err, size_t errlen) {
    struct archive_entry *e = archive_entry_new();
    if (!e) return fail(err, errlen, "out of memory");
    archive_entry_set_pathname(e, path);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, (time_t)w->mtime, 0);
    int r = archive_write_header(w->a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK) return fail(err, errlen, "tar: writing header of '%s': %s", path, archive_error_string(w->a));
    return true;
}

bool tarw_data(tarw *w, const void *p, size_t n, char *err, size_t errlen) {
    while (n > 0) {
        la_ssize_t r = archive_write_data(w->a, p, n);
        if (r <= 0) return fail(err, errlen, "tar: write failed: %s", archive_error_string(w->a));
        p = (const char *)p + r;
        n -= (size_t)r;
    }
    return true;
}

bool tarw_close(tarw *w, char *err, size_t errlen) {
    bool ok = archive_write_close(w->a) == ARCHIVE_OK;
    if (!ok) fail(err, errlen, "tar: finishing the archive: %s", archive_error_string(w->a));
    archive_write_free(w->a);
    free(w);
    return ok;
}

void tarw_abort(tarw *w) {
    if (!w) return;
    if (w->a) {
        archive_write_fail(w->a);
        archive_write_free(w->a);
    }
    free(w);
}

bool tar_source_date_epoch(int64_t *out, char *err, size_t errlen) {
    const char *s = getenv("SOURCE_DATE_EPOCH");
    *out = 0;
    if (!s || !*s) return true;
    int64_t v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9' || v > (INT64_C(1) << 40))
            return fail(err, errlen, "SOURCE_DATE_EPOCH=\"%s\" is not a number of seconds", s);
        v = v * 10 + (*c - '0');
    }
    *out = v;
    return true;
}
