/* gguf_host.c: the native-only half of gguf.h: map a file read-only and
 * parse it in place (tensor data is never copied), and write a file
 * atomically (temp file in the same directory, fsync, rename). */
#define _POSIX_C_SOURCE 200809L
#include "gguf.h"
#include "hugemap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct { void *p; size_t n; } mapping;

static void unmap(void *ctx) {
    mapping *m = ctx;
    if (m->n) munmap(m->p, m->n);
    free(m);
}

gguf_file *gguf_open_file(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "gguf: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "gguf: %s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        snprintf(err, errlen, "gguf: %s: too large to map", path);
        close(fd);
        return NULL;
    }
    mapping *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "gguf: %s: out of memory", path);
        close(fd);
        return NULL;
    }
    m->n = (size_t)st.st_size;
    static const char empty[1];
    m->p = (void *)empty;
    if (m->n) {
        m->p = hugemap_file(fd, 0, m->n);
        if (m->p == MAP_FAILED) {
            snprintf(err, errlen, "gguf: cannot map %s: %s", path, strerror(errno));
            free(m);
            close(fd);
            return NULL;
        }
    }
    close(fd);  /* the mapping keeps the file alive */
    gguf_file *f = gguf_open_buffer(m->p, m->n, err, errlen);
    if (!f) {
        unmap(m);
        return NULL;
    }
    gguf_set_release(f, unmap, m);
    return f;
}

static bool to_file(void *ctx, const void *p, size_t n) {
    return fwrite(p, 1, n, (FILE *)ctx) == n;
}

bool gguf_writer_write_file(gguf_writer *w, const char *path, char *err, size_t errlen) {
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) {
        snprintf(err, errlen, "gguf: %s: out of memory", path);
        return false;
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "gguf: cannot create a temporary file beside %s: %s", path, strerror(errno));
        free(tmp);
        return false;
    }
    fchmod(fd, 0644);
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        snprintf(err, errlen, "gguf: %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return false;
    }
    bool ok = gguf_writer_emit(w, to_file, fp, err, errlen);
    if (ok && (fflush(fp) != 0 || fsync(fileno(fp)) != 0)) {
        snprintf(err, errlen, "gguf: writing %s: %s", tmp, strerror(errno));
        ok = false;
    } else if (!ok && err && errlen && !err[0]) {
        snprintf(err, errlen, "gguf: writing %s: %s", tmp, strerror(errno));
    }
    if (fclose(fp) != 0 && ok) {
        snprintf(err, errlen, "gguf: writing %s: %s", tmp, strerror(errno));
        ok = false;
    }
    if (ok && rename(tmp, path) != 0) {
        snprintf(err, errlen, "gguf: cannot rename %s to %s: %s", tmp, path, strerror(errno));
        ok = false;
    }
    if (!ok) unlink(tmp);
    free(tmp);
    return ok;
}
