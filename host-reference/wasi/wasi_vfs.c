/* wasi_vfs.c: read-only virtual files backed by host memory (bundle members
 * mapped straight out of the bundle file), shown to the guest as regular
 * files in a virtual preopened directory.
 *
 * A virtual fd has no host fd (host -1); the fd_* and path_* imports check
 * rights and guest pointers as for any fd and then hand a virtual one to
 * the functions here. The directory and its files carry only reading
 * rights (R_VDIR, R_VFILE), so every call that would change something is
 * refused by the rights check itself with NOTCAPABLE, exactly as beneath a
 * read-only --dir. Paths are resolved lexically over a flat directory with
 * the errnos the kernel gives beneath a real one; nothing here can name a
 * host file. Data is never copied except into the guest's own buffers.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include "wasi_int.h"

/* ---- adding files (host side, before the guest runs) ------------------- */
static bool valid_name(const char *name) {
    size_t n = strlen(name);
    return n > 0 && n <= NAME_MAX && !strchr(name, '/') && strcmp(name, ".") &&
           strcmp(name, "..");
}

/* Creates the virtual directory as the next preopen. The guest finds
 * preopens by probing fds from 3 until the first that is not one, so the
 * new one must directly follow the others: refused once the guest has
 * opened or closed anything. */
static int add_vdir(wasi_ctx *c, const char *guest_dir, char *err, size_t errlen) {
    uint32_t next = 3 + (uint32_t)c->n_pre;
    for (uint32_t i = 3; i < c->nfds; i++) {
        if (c->fds[i].used != (i < next) || (c->fds[i].used && c->fds[i].preopen < 0)) {
            snprintf(err, errlen, "virtual directory '%s': the guest has already changed its fds",
                     guest_dir);
            return -1;
        }
    }
    if (next >= WASI_MAX_FDS) {
        snprintf(err, errlen, "virtual directory '%s': too many preopened directories", guest_dir);
        return -1;
    }
    /* The slot itself, even when stdio slots below it are free. */
    wasi_fd *fds = next < c->nfds ? c->fds : realloc(c->fds, (next + 1) * sizeof *fds);
    if (fds && next >= c->nfds) {
        memset(fds + c->nfds, 0, (next + 1 - c->nfds) * sizeof *fds);
        c->fds = fds;
        c->nfds = next + 1;
    }
    char **names = realloc(c->pre_names, ((size_t)c->n_pre + 2) * sizeof *names);
    if (names) c->pre_names = names;
    wasi_vdir *v = realloc(c->vdirs, ((size_t)c->n_vdirs + 1) * sizeof *v);
    if (v) c->vdirs = v;
    char *copy = fds && names && v ? strdup(guest_dir) : NULL;
    if (!copy) {
        snprintf(err, errlen, "virtual directory '%s': out of memory", guest_dir);
        return -1;
    }
    uint32_t fd = next;
    c->pre_names[c->n_pre] = copy;
    c->pre_names[c->n_pre + 1] = NULL;
    c->vdirs[c->n_vdirs] = (wasi_vdir){.pre = c->n_pre};
    wasi_fd *f = &c->fds[fd];
    f->used = true;
    f->host = -1;
    f->type = W_FT_DIR;
    f->preopen = c->n_pre;
    f->vdir = c->n_vdirs + 1;
    f->vfile = -1;
    f->base = R_VDIR;
    f->inh = R_VDIR | R_VFILE;
    c->n_pre++;
    return c->n_vdirs++;
}

int wasi_ctx_add_vfile(wasi_ctx *c, const char *guest_dir, const char *name, const void *data,
                       uint64_t size, char *err, size_t errlen) {
    if (!c || !guest_dir || !name || (!data && size)) {
        snprintf(err, errlen, "virtual file: invalid arguments");
        return -1;
    }
    if (!guest_dir[0] || strlen(guest_dir) >= PATH_MAX) {
        snprintf(err, errlen, "virtual directory name '%.64s' is empty or too long", guest_dir);
        return -1;
    }
    if (!valid_name(name)) {
        snprintf(err, errlen, "virtual file name '%.64s' in '%s' is not one path component "
                 "of 1 to %d bytes", name, guest_dir, NAME_MAX);
        return -1;
    }
    if (size > INT64_MAX) {
        snprintf(err, errlen, "virtual file '%s/%s' is too large", guest_dir, name);
        return -1;
    }
    int k = -1;
    for (int i = 0; i < c->n_vdirs; i++)
        if (!strcmp(c->pre_names[c->vdirs[i].pre], guest_dir)) k = i;
    if (k < 0) {
        for (int i = 0; i < c->n_pre; i++)
            if (!strcmp(c->pre_names[i], guest_dir)) {
                snprintf(err, errlen, "virtual directory '%s' is already a granted directory",
                         guest_dir);
                return -1;
            }
        if ((k = add_vdir(c, guest_dir, err, errlen)) < 0) return -1;
    }
    wasi_vdir *v = &c->vdirs[k];
    for (uint32_t i = 0; i < v->n; i++)
        if (!strcmp(v->files[i].name, name)) {
            snprintf(err, errlen, "virtual file '%s/%s' added twice", guest_dir, name);
            return -1;
        }
    wasi_vent *files = v->n < UINT32_MAX - 2 ? realloc(v->files, ((size_t)v->n + 1) * sizeof *files)
                                             : NULL;
    if (files) v->files = files;
    char *copy = files ? strdup(name) : NULL;
    if (!copy) {
        snprintf(err, errlen, "virtual file '%s/%s': out of memory", guest_dir, name);
        return -1;
    }
    v->files[v->n++] = (wasi_vent){copy, data, size};
    return 0;
}

/* ---- lookup ------------------------------------------------------------ */
wasi_vent *wasi_v_file(wasi_ctx *c, const wasi_fd *f) {
    return &c->vdirs[f->vdir - 1].files[f->vfile];
}

/* Resolves a guest path in a flat virtual directory: *file is the index of
 * the file it names, or -1 for the directory itself. The errnos are the
 * ones the kernel gives beneath a real directory: "" NOENT, absolute or
 * ".." out NOTCAPABLE, a file used as a directory NOTDIR, a component over
 * NAME_MAX NAMETOOLONG. */
static uint32_t lookup(const wasi_vdir *v, const char *path, int32_t *file) {
    if (!path[0]) return W_ENOENT;
    if (path[0] == '/') return W_ENOTCAPABLE;
    for (const char *s = path; *s;) {
        size_t n = strcspn(s, "/");
        if (n > NAME_MAX) return W_ENAMETOOLONG;
        s += n;
        while (*s == '/') s++;
    }
    int32_t at = -1;
    for (const char *s = path; *s;) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.') return W_ENOTCAPABLE;   /* above the root */
        if (!(n == 1 && s[0] == '.')) {
            for (uint32_t i = 0; i < v->n && at < 0; i++)
                if (strlen(v->files[i].name) == n && !memcmp(v->files[i].name, s, n))
                    at = (int32_t)i;
            if (at < 0) return W_ENOENT;
        }
        s += n;
        if (*s == '/' && at >= 0) return W_ENOTDIR;   /* "file/", "file/x", "file/.." */
        while (*s == '/') s++;
    }
    *file = at;
    return 0;
}

/* Checks the right, copies the guest path and resolves it. */
static uint32_t resolve(wasi_ctx *c, uint32_t fd, uint64_t need, uint32_t path, uint32_t len,
                        wasi_fd **d, int32_t *file) {
    char p[PATH_MAX];
    uint32_t e = wasi_fd_get(c, fd, need, d);
    if (e) return e;
    if ((e = wasi_copy_path(c, path, len, p, sizeof p))) return e;
    return lookup(&c->vdirs[(*d)->vdir - 1], p, file);
}

/* ---- stat -------------------------------------------------------------- */
/* Stable identities: device 0 (no real device), inode (directory << 32) |
 * 1 for the directory, | file + 2 for its files. Times are 0. */
static void put_stat(uint8_t *p, int vdir, int32_t file, uint64_t size) {
    memset(p, 0, 64);
    put_u64(p + 8, (uint64_t)vdir << 32 | (uint64_t)(file + 2));
    put_u8(p + 16, file < 0 ? W_FT_DIR : W_FT_REG);
    put_u64(p + 24, file < 0 ? 2 : 1);
    put_u64(p + 32, size);
}

void wasi_v_filestat(wasi_ctx *c, const wasi_fd *f, uint8_t out[64]) {
    put_stat(out, f->vdir, f->vfile, f->vfile < 0 ? 0 : wasi_v_file(c, f)->size);
}

uint32_t wasi_v_path_filestat(wasi_ctx *c, uint32_t fd, uint32_t path, uint32_t len,
                              uint8_t out[64]) {
    wasi_fd *d;
    int32_t file;
    uint32_t e = resolve(c, fd, R_PATH_FILESTAT_GET, path, len, &d, &file);
    if (e) return e;
    put_stat(out, d->vdir, file, file < 0 ? 0 : c->vdirs[d->vdir - 1].files[file].size);
    return 0;
}

uint32_t wasi_v_readlink(wasi_ctx *c, uint32_t fd, uint32_t path, uint32_t len) {
    wasi_fd *d;
    int32_t file;
    uint32_t e = resolve(c, fd, R_PATH_READLINK, path, len, &d, &file);
    return e ? e : W_EINVAL;   /* it exists and is not a symlink: readlink(2)'s answer */
}

/* ---- open -------------------------------------------------------------- */
uint32_t wasi_v_open(wasi_ctx *c, wasi_fd *d, uint32_t path, uint32_t len, uint32_t oflags,
                     uint64_t base, uint64_t inh, uint32_t fdflags, uint8_t *fd_out) {
    int32_t file;
    int vdir = d->vdir;   /* d may move when the table grows */
    char p[PATH_MAX];
    uint32_t e = wasi_copy_path(c, path, len, p, sizeof p);
    if (e) return e;
    if ((e = lookup(&c->vdirs[vdir - 1], p, &file))) return e;
    /* O_CREAT and O_TRUNC never get here (the directory lacks their rights);
     * O_EXCL without O_CREAT means nothing, as for open(2). */
    if (file >= 0 && (oflags & W_O_DIRECTORY)) return W_ENOTDIR;
    int64_t nfd = wasi_fd_alloc(c);
    if (nfd < 0) return W_EMFILE;
    wasi_fd *f = &c->fds[nfd];
    f->used = true;
    f->host = -1;
    f->preopen = -1;
    f->vdir = vdir;
    f->vfile = file;
    f->vflags = (uint16_t)fdflags;
    f->type = file < 0 ? W_FT_DIR : W_FT_REG;
    f->base = base & (file < 0 ? R_VDIR : R_VFILE);
    f->inh = file < 0 ? inh & (R_VDIR | R_VFILE) : 0;
    put_u32(fd_out, (uint32_t)nfd);
    return 0;
}

/* ---- read, seek -------------------------------------------------------- */
uint32_t wasi_v_read(wasi_ctx *c, wasi_fd *f, const struct iovec *v, int nv, uint64_t off,
                     bool at, uint32_t *nread) {
    const wasi_vent *e = wasi_v_file(c, f);
    uint64_t pos = at ? off : f->vpos, total = 0;
    for (int i = 0; i < nv && pos < e->size; i++) {
        uint64_t k = v[i].iov_len < e->size - pos ? v[i].iov_len : e->size - pos;
        memcpy(v[i].iov_base, e->data + pos, (size_t)k);
        pos += k;
        total += k;
    }
    if (!at) f->vpos = pos;
    *nread = (uint32_t)total;   /* wasi_iovecs keeps the total within a u32 */
    return 0;
}

/* As lseek(2) on a regular file: any position from 0 to INT64_MAX, past
 * the end too; negative or overflowing is INVAL. */
uint32_t wasi_v_seek(wasi_ctx *c, wasi_fd *f, uint64_t off, uint32_t whence, uint64_t *pos) {
    int64_t from = whence == 0 ? 0 : whence == 1 ? (int64_t)f->vpos
                                                 : (int64_t)wasi_v_file(c, f)->size;
    int64_t d = (int64_t)off;
    if ((d > 0 && from > INT64_MAX - d) || from + d < 0) return W_EINVAL;
    f->vpos = (uint64_t)(from + d);
    *pos = f->vpos;
    return 0;
}

/* ---- readdir ----------------------------------------------------------- */
/* Entry k has cookie k and d_next k + 1: ".", "..", then the files in the
 * order they were added. An entry that does not fit fills the buffer (the
 * "there is more" signal) and comes again with the next call. */
uint32_t wasi_v_readdir(wasi_ctx *c, wasi_fd *f, uint8_t *out, uint32_t len, uint64_t cookie,
                        uint32_t *used_out) {
    const wasi_vdir *v = &c->vdirs[f->vdir - 1];
    uint64_t dir_ino = (uint64_t)f->vdir << 32 | 1;
    uint32_t used = 0;
    for (uint64_t k = cookie; k < 2 + (uint64_t)v->n && used < len; k++) {
        uint8_t ent[24 + NAME_MAX];
        const char *name = k == 0 ? "." : k == 1 ? ".." : v->files[k - 2].name;
        size_t nl = strlen(name);
        memset(ent, 0, 24);
        put_u64(ent, k + 1);
        put_u64(ent + 8, k < 2 ? dir_ino : (uint64_t)f->vdir << 32 | k);   /* file k - 2 */
        put_u32(ent + 16, (uint32_t)nl);
        put_u8(ent + 20, k < 2 ? W_FT_DIR : W_FT_REG);
        memcpy(ent + 24, name, nl);
        size_t need = 24 + nl, room = len - used;
        memcpy(out + used, ent, need < room ? need : room);
        used += (uint32_t)(need < room ? need : room);
    }
    *used_out = used;
    return 0;
}
