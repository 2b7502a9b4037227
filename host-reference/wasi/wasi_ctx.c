/* wasi_ctx.c: the per-instance WASI context (args, environment, fd table
 * with stdio and preopens), guest memory helpers, and the args_* / environ_*
 * imports, which only copy what the context was given. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/uio.h>
#include "wasi_int.h"

/* ---- fd table ----------------------------------------------------------- */
uint32_t wasi_fd_get(wasi_ctx *c, uint32_t fd, uint64_t need, wasi_fd **out) {
    if (fd >= c->nfds || !c->fds[fd].used) return W_EBADF;
    wasi_fd *f = &c->fds[fd];
    if ((f->base & need) != need) {
        /* A right this kind of fd can never have: say why in POSIX terms. */
        if (f->type == W_FT_DIR && (need & (R_FD_READ | R_FD_WRITE))) return W_EISDIR;
        if (f->type != W_FT_DIR && (need & R_DIR & ~R_FILE)) return W_ENOTDIR;
        return W_ENOTCAPABLE;
    }
    *out = f;
    return 0;
}

int64_t wasi_fd_alloc(wasi_ctx *c) {
    for (uint32_t i = 0; i < c->nfds; i++)
        if (!c->fds[i].used) { memset(&c->fds[i], 0, sizeof c->fds[i]); return i; }
    if (c->nfds >= WASI_MAX_FDS) return -1;
    uint32_t n = c->nfds ? c->nfds * 2 : 8;
    if (n > WASI_MAX_FDS) n = WASI_MAX_FDS;
    wasi_fd *f = realloc(c->fds, n * sizeof *f);
    if (!f) return -1;
    memset(f + c->nfds, 0, (n - c->nfds) * sizeof *f);
    c->fds = f;
    int64_t i = c->nfds;
    c->nfds = n;
    return i;
}

void wasi_fd_release(wasi_fd *f) {
    if (!f->used) return;
    if (f->dir) closedir(f->dir);
    if (f->borrowed && f->host >= 0) fcntl(f->host, F_SETFL, f->orig_fl);  /* undo NONBLOCK/APPEND */
    if (!f->borrowed && f->host >= 0) close(f->host);
    memset(f, 0, sizeof *f);
}

/* ---- guest memory ------------------------------------------------------- */
uint32_t wasi_store_u32(wasi_ctx *c, uint32_t ptr, uint32_t v) {
    uint8_t *p = wasi_mem(c, ptr, 4);
    if (!p) return W_EFAULT;
    put_u32(p, v);
    return 0;
}

uint32_t wasi_store_u64(wasi_ctx *c, uint32_t ptr, uint64_t v) {
    uint8_t *p = wasi_mem(c, ptr, 8);
    if (!p) return W_EFAULT;
    put_u64(p, v);
    return 0;
}

uint32_t wasi_iovecs(wasi_ctx *c, uint32_t iovs, uint32_t n, struct iovec *out,
                     int max, int *nout) {
    const uint8_t *a = wasi_mem(c, iovs, (uint64_t)n * 8);
    if (!a) return W_EFAULT;
    uint64_t total = 0;
    int k = 0;
    for (uint32_t i = 0; i < n && k < max; i++) {
        uint32_t buf = get_u32(a + 8 * i), len = get_u32(a + 8 * i + 4);
        uint8_t *p = wasi_mem(c, buf, len);
        if (!p) return W_EFAULT;
        /* The count we report back is a u32: never move more than that. */
        if (total + len > UINT32_MAX) len = (uint32_t)(UINT32_MAX - total);
        out[k].iov_base = p;
        out[k].iov_len = len;
        k++;
        total += len;
        if (total == UINT32_MAX) break;
    }
    *nout = k;
    return 0;
}

/* ---- context ------------------------------------------------------------ */
static char **copy_strings(const char *const *src, int n, uint32_t *bytes) {
    char **dst = calloc((size_t)n + 1, sizeof *dst);
    uint64_t total = 0;
    if (!dst) return NULL;
    for (int i = 0; i < n; i++) {
        dst[i] = strdup(src[i]);
        if (!dst[i]) return dst;       /* caller sees the NULL and fails */
        total += strlen(src[i]) + 1;
    }
    *bytes = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
    return dst;
}

static void free_strings(char **s, uint32_t n) {
    if (!s) return;
    for (uint32_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

/* Stdio rights: streams read or write, seek only on regular files (wasi-libc
 * reports a terminal only for a character device without seek rights). */
static void add_stdio(wasi_ctx *c, uint32_t fd, int host, bool out) {
    struct stat st;
    if (host < 0 || fstat(host, &st) != 0) return;
    wasi_fd *f = &c->fds[fd];
    f->used = true;
    f->borrowed = true;
    f->host = host;
    f->preopen = -1;
    f->type = wasi_filetype(st.st_mode);
    f->orig_fl = fcntl(host, F_GETFL);
    if (f->orig_fl < 0) f->orig_fl = 0;
    f->base = R_FD_FDSTAT_SET_FLAGS | R_FD_FILESTAT_GET | R_POLL_FD_READWRITE |
              (out ? R_FD_WRITE | R_FD_SYNC | R_FD_DATASYNC : R_FD_READ | R_FD_ADVISE);
    if (S_ISREG(st.st_mode)) f->base |= R_FD_SEEK | R_FD_TELL;
}

wasi_ctx *wasi_ctx_new(const wasi_config *cfg, char *err, size_t errlen) {
    wasi_ctx *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, errlen, "wasi: out of memory"); return NULL; }
    if (cfg->argc < 0 || cfg->envc < 0 || cfg->n_preopens < 0 ||
        (cfg->argc && !cfg->argv) || (cfg->envc && !cfg->envp) ||
        (cfg->n_preopens && !cfg->preopens)) {
        snprintf(err, errlen, "wasi: invalid configuration");
        free(c);
        return NULL;
    }
    for (int i = 0; i < cfg->envc; i++) {
        if (!cfg->envp[i] || !strchr(cfg->envp[i], '=') || cfg->envp[i][0] == '=') {
            snprintf(err, errlen, "environment entry '%s' is not KEY=VALUE",
                     cfg->envp[i] ? cfg->envp[i] : "(null)");
            free(c);
            return NULL;
        }
    }
    for (int i = 0; i < cfg->argc; i++)
        if (!cfg->argv[i]) { snprintf(err, errlen, "wasi: argument %d is NULL", i); free(c); return NULL; }
    c->argc = (uint32_t)cfg->argc;
    c->envc = (uint32_t)cfg->envc;
    c->argv = copy_strings(cfg->argv, cfg->argc, &c->argv_bytes);
    c->envp = copy_strings(cfg->envp, cfg->envc, &c->env_bytes);
    c->pre_names = calloc((size_t)cfg->n_preopens + 1, sizeof *c->pre_names);
    bool oom = !c->argv || !c->envp || !c->pre_names;
    for (uint32_t i = 0; !oom && i < c->argc; i++) oom = !c->argv[i];
    for (uint32_t i = 0; !oom && i < c->envc; i++) oom = !c->envp[i];
    if (oom || c->argv_bytes == UINT32_MAX || c->env_bytes == UINT32_MAX) {
        snprintf(err, errlen, "wasi: out of memory for arguments/environment");
        wasi_ctx_free(c);
        return NULL;
    }
    /* Fixed slots: 0-2 stdio, then the preopens in order from 3, where
     * wasi-libc looks for them (even when a stdio stream is absent). */
    c->nfds = 3 + (uint32_t)cfg->n_preopens;
    if (c->nfds > WASI_MAX_FDS || !(c->fds = calloc(c->nfds, sizeof *c->fds))) {
        snprintf(err, errlen, "wasi: too many preopened directories");
        c->nfds = 0;
        wasi_ctx_free(c);
        return NULL;
    }
    add_stdio(c, 0, cfg->fd_stdin, false);
    add_stdio(c, 1, cfg->fd_stdout, true);
    add_stdio(c, 2, cfg->fd_stderr, true);
    for (int i = 0; i < cfg->n_preopens; i++) {
        const wasi_preopen *p = &cfg->preopens[i];
        if (!p->host_path) { snprintf(err, errlen, "--dir %d: no host directory", i); wasi_ctx_free(c); return NULL; }
        const char *gname = p->guest_path ? p->guest_path : p->host_path;
        int host = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (host < 0) {
            snprintf(err, errlen, "cannot open directory '%s' for --dir: %s", p->host_path,
                     strerror(errno));
            wasi_ctx_free(c);
            return NULL;
        }
        uint32_t fd = 3 + (uint32_t)i;
        c->pre_names[i] = strdup(gname);
        if (!c->pre_names[i]) {
            close(host);
            snprintf(err, errlen, "wasi: out of memory");
            wasi_ctx_free(c);
            return NULL;
        }
        c->n_pre = i + 1;
        wasi_fd *f = &c->fds[fd];
        f->used = true;
        f->host = host;
        f->type = W_FT_DIR;
        f->preopen = i;
        f->base = R_DIR & ~(p->readonly ? R_MUTATE : 0);
        f->inh = (R_DIR | R_FILE) & ~(p->readonly ? R_MUTATE : 0);
    }
    return c;
}

void wasi_ctx_free(wasi_ctx *c) {
    if (!c) return;
    for (uint32_t i = 0; i < c->nfds; i++) wasi_fd_release(&c->fds[i]);
    free(c->fds);
    free_strings(c->argv, c->argc);
    free_strings(c->envp, c->envc);
    for (int i = 0; i < c->n_pre; i++) free(c->pre_names[i]);
    free(c->pre_names);
    for (int i = 0; i < c->n_vdirs; i++) {
        for (uint32_t k = 0; k < c->vdirs[i].n; k++) free(c->vdirs[i].files[k].name);
        free(c->vdirs[i].files);
    }
    free(c->vdirs);
    free(c);
}

void wasi_ctx_set_memory(wasi_ctx *c, wasm_rt_memory_t *mem) { c->mem = mem; }

/* ---- args and environment ----------------------------------------------- */
static uint32_t put_strings(wasi_ctx *c, char **s, uint32_t n, uint32_t bytes,
                            uint32_t ptrs, uint32_t buf) {
    uint8_t *pp = wasi_mem(c, ptrs, (uint64_t)n * 4);
    uint8_t *bp = wasi_mem(c, buf, bytes);
    if (!pp || !bp) return W_EFAULT;
    uint32_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(s[i]) + 1;
        put_u32(pp + 4 * i, buf + off);
        memcpy(bp + off, s[i], len);
        off += (uint32_t)len;
    }
    return 0;
}

static uint32_t put_sizes(wasi_ctx *c, uint32_t n, uint32_t bytes, uint32_t np, uint32_t bp) {
    uint8_t *a = wasi_mem(c, np, 4), *b = wasi_mem(c, bp, 4);
    if (!a || !b) return W_EFAULT;
    put_u32(a, n);
    put_u32(b, bytes);
    return 0;
}

uint32_t Z_wasi_snapshot_preview1Z_args_get(wasi_ctx *c, uint32_t argv, uint32_t buf) {
    return put_strings(c, c->argv, c->argc, c->argv_bytes, argv, buf);
}
uint32_t Z_wasi_snapshot_preview1Z_args_sizes_get(wasi_ctx *c, uint32_t argc, uint32_t size) {
    return put_sizes(c, c->argc, c->argv_bytes, argc, size);
}
uint32_t Z_wasi_snapshot_preview1Z_environ_get(wasi_ctx *c, uint32_t env, uint32_t buf) {
    return put_strings(c, c->envp, c->envc, c->env_bytes, env, buf);
}
uint32_t Z_wasi_snapshot_preview1Z_environ_sizes_get(wasi_ctx *c, uint32_t n, uint32_t size) {
    return put_sizes(c, c->envc, c->env_bytes, n, size);
}
