/* fake_wasi.c: a tiny stand-in for wasi_snapshot_preview1, for runtime tests
 * only (args, environ, stdout/stderr writes, exit, clock, random). It lets
 * tests/rt run guests in-process without the real WASI layer, so runtime
 * tests do not depend on it. Not linked into any product. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "wasi.h"

struct Z_wasi_snapshot_preview1_instance_t {
    wasi_config cfg;
    wasm_rt_memory_t *mem;
};

wasi_ctx *wasi_ctx_new(const wasi_config *cfg, char *err, size_t errlen) {
    (void)err, (void)errlen;
    wasi_ctx *c = calloc(1, sizeof *c);
    if (c) c->cfg = *cfg;
    return c;
}
void wasi_ctx_free(wasi_ctx *c) { free(c); }
void wasi_ctx_set_memory(wasi_ctx *c, wasm_rt_memory_t *m) { c->mem = m; }

enum { OK = 0, BADF = 8, FAULT = 21, INVAL = 28, NOSYS = 52, SPIPE = 70 };

static uint8_t *at(wasi_ctx *c, uint32_t p, uint64_t n) {
    return (uint64_t)p + n <= c->mem->size ? c->mem->data + p : NULL;
}
static int put32(wasi_ctx *c, uint32_t p, uint32_t v) {
    uint8_t *d = at(c, p, 4);
    if (d) memcpy(d, &v, 4);
    return d != NULL;
}

static uint32_t strings_get(wasi_ctx *c, int n, const char *const *s, uint32_t ptrs, uint32_t buf) {
    for (int i = 0; i < n; i++) {
        size_t l = strlen(s[i]) + 1;
        uint8_t *d = at(c, buf, l);
        if (!d || !put32(c, ptrs + 4u * (uint32_t)i, buf)) return FAULT;
        memcpy(d, s[i], l);
        buf += (uint32_t)l;
    }
    return OK;
}
static uint32_t sizes_get(wasi_ctx *c, int n, const char *const *s, uint32_t pn, uint32_t psz) {
    uint32_t total = 0;
    for (int i = 0; i < n; i++) total += (uint32_t)strlen(s[i]) + 1;
    return put32(c, pn, (uint32_t)n) && put32(c, psz, total) ? OK : FAULT;
}

uint32_t Z_wasi_snapshot_preview1Z_args_get(wasi_ctx *c, uint32_t a, uint32_t b) { return strings_get(c, c->cfg.argc, c->cfg.argv, a, b); }
uint32_t Z_wasi_snapshot_preview1Z_args_sizes_get(wasi_ctx *c, uint32_t a, uint32_t b) { return sizes_get(c, c->cfg.argc, c->cfg.argv, a, b); }
uint32_t Z_wasi_snapshot_preview1Z_environ_get(wasi_ctx *c, uint32_t a, uint32_t b) { return strings_get(c, c->cfg.envc, c->cfg.envp, a, b); }
uint32_t Z_wasi_snapshot_preview1Z_environ_sizes_get(wasi_ctx *c, uint32_t a, uint32_t b) { return sizes_get(c, c->cfg.envc, c->cfg.envp, a, b); }

uint32_t Z_wasi_snapshot_preview1Z_fd_write(wasi_ctx *c, uint32_t fd, uint32_t iovs, uint32_t n, uint32_t pwritten) {
    if (fd != 1 && fd != 2) return BADF;
    int host = fd == 1 ? c->cfg.fd_stdout : c->cfg.fd_stderr;
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *v = at(c, iovs + 8 * i, 8);
        if (!v) return FAULT;
        uint32_t p, l;
        memcpy(&p, v, 4);
        memcpy(&l, v + 4, 4);
        uint8_t *d = at(c, p, l);
        if (!d) return FAULT;
        for (uint32_t o = 0; o < l;) {
            ssize_t w = write(host, d + o, l - o);
            if (w <= 0) return 29; /* EIO */
            o += (uint32_t)w;
        }
        total += l;
    }
    return put32(c, pwritten, total) ? OK : FAULT;
}
uint32_t Z_wasi_snapshot_preview1Z_fd_close(wasi_ctx *c, uint32_t fd) { (void)c; return fd <= 2 ? OK : BADF; }
uint32_t Z_wasi_snapshot_preview1Z_fd_seek(wasi_ctx *c, uint32_t fd, uint64_t off, uint32_t wh, uint32_t p) { (void)c, (void)off, (void)wh, (void)p; return fd <= 2 ? SPIPE : BADF; }
uint32_t Z_wasi_snapshot_preview1Z_fd_fdstat_get(wasi_ctx *c, uint32_t fd, uint32_t p) {
    if (fd > 2) return BADF;
    uint8_t *d = at(c, p, 24);
    if (!d) return FAULT;
    memset(d, 0, 24);
    d[0] = 2; /* character device */
    uint64_t rights = ~0ull;
    memcpy(d + 8, &rights, 8);
    return OK;
}
uint32_t Z_wasi_snapshot_preview1Z_fd_prestat_get(wasi_ctx *c, uint32_t fd, uint32_t p) { (void)c, (void)fd, (void)p; return BADF; }
uint32_t Z_wasi_snapshot_preview1Z_fd_prestat_dir_name(wasi_ctx *c, uint32_t fd, uint32_t p, uint32_t l) { (void)c, (void)fd, (void)p, (void)l; return BADF; }
uint32_t Z_wasi_snapshot_preview1Z_clock_time_get(wasi_ctx *c, uint32_t id, uint64_t prec, uint32_t p) {
    (void)prec;
    struct timespec ts;
    clock_gettime(id == 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    uint8_t *d = at(c, p, 8);
    if (!d) return FAULT;
    memcpy(d, &ns, 8);
    return OK;
}
uint32_t Z_wasi_snapshot_preview1Z_random_get(wasi_ctx *c, uint32_t p, uint32_t n) {
    uint8_t *d = at(c, p, n);
    if (!d) return FAULT;
    for (uint32_t i = 0; i < n; i++) d[i] = (uint8_t)rand();
    return OK;
}
uint32_t Z_wasi_snapshot_preview1Z_fd_fdstat_set_flags(wasi_ctx *c, uint32_t fd, uint32_t fl) { (void)c, (void)fl; return fd <= 2 ? OK : BADF; }
uint32_t Z_wasi_snapshot_preview1Z_fd_read(wasi_ctx *c, uint32_t fd, uint32_t iovs, uint32_t n, uint32_t pread) {
    (void)iovs, (void)n;   /* stdin is always at its end */
    if (fd != 0) return BADF;
    return put32(c, pread, 0) ? OK : FAULT;
}
uint32_t Z_wasi_snapshot_preview1Z_path_open(wasi_ctx *c, uint32_t fd, uint32_t df, uint32_t p, uint32_t l, uint32_t of,
                                        uint64_t rb, uint64_t ri, uint32_t ff, uint32_t pfd) {
    (void)c, (void)fd, (void)df, (void)p, (void)l, (void)of, (void)rb, (void)ri, (void)ff, (void)pfd;
    return BADF;   /* no preopens */
}
uint32_t Z_wasi_snapshot_preview1Z_sched_yield(wasi_ctx *c) { (void)c; return OK; }
void Z_wasi_snapshot_preview1Z_proc_exit(wasi_ctx *c, uint32_t code) { (void)c; wlrt_exit(code); }

const host_import wasi_imports[] = {
    {"wasi_snapshot_preview1", "args_get", "ii:i"},
    {"wasi_snapshot_preview1", "args_sizes_get", "ii:i"},
    {"wasi_snapshot_preview1", "environ_get", "ii:i"},
    {"wasi_snapshot_preview1", "environ_sizes_get", "ii:i"},
    {"wasi_snapshot_preview1", "fd_write", "iiii:i"},
    {"wasi_snapshot_preview1", "fd_close", "i:i"},
    {"wasi_snapshot_preview1", "fd_seek", "iIii:i"},
    {"wasi_snapshot_preview1", "fd_fdstat_get", "ii:i"},
    {"wasi_snapshot_preview1", "fd_prestat_get", "ii:i"},
    {"wasi_snapshot_preview1", "fd_fdstat_set_flags", "ii:i"},
    {"wasi_snapshot_preview1", "fd_read", "iiii:i"},
    {"wasi_snapshot_preview1", "path_open", "iiiiiIIii:i"},
    {"wasi_snapshot_preview1", "fd_prestat_dir_name", "iii:i"},
    {"wasi_snapshot_preview1", "clock_time_get", "iIi:i"},
    {"wasi_snapshot_preview1", "random_get", "ii:i"},
    {"wasi_snapshot_preview1", "sched_yield", ":i"},
    {"wasi_snapshot_preview1", "proc_exit", "i:"},
};
const size_t wasi_n_imports = sizeof wasi_imports / sizeof wasi_imports[0];
