/* harness.c: see harness.h. Also provides the two runtime hooks WASI calls
 * (wlrt_exit, wlrt_check_interrupt), since no runtime is linked here. */
#define _GNU_SOURCE
#include "harness.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

int h_failures;
wasm_rt_memory_t h_mem;
int h_interrupts;
jmp_buf *h_exit_jmp;
uint32_t h_exit_code;

_Noreturn void wlrt_exit(uint32_t code) {
    h_exit_code = code;
    if (h_exit_jmp) longjmp(*h_exit_jmp, 1);
    fprintf(stderr, "wlrt_exit(%u) outside a test that expects it\n", code);
    abort();
}

void wlrt_check_interrupt(void) { h_interrupts++; }

void h_mem_reset(void) {
    if (!h_mem.data) h_mem.data = malloc(GMEM);
    if (!h_mem.data) abort();
    memset(h_mem.data, 0, GMEM);
    h_mem.size = GMEM;
    h_mem.pages = GMEM / 65536;
    h_mem.max_pages = h_mem.pages;
}

uint32_t gstr(uint32_t at, const char *s) {
    memcpy(h_mem.data + at, s, strlen(s) + 1);
    return at;
}
uint32_t g32(uint32_t at) { uint32_t v; memcpy(&v, h_mem.data + at, 4); return v; }
uint64_t g64(uint32_t at) { uint64_t v; memcpy(&v, h_mem.data + at, 8); return v; }
void s32(uint32_t at, uint32_t v) { memcpy(h_mem.data + at, &v, 4); }
void s64(uint32_t at, uint64_t v) { memcpy(h_mem.data + at, &v, 8); }

void h_write_file(const char *path, const char *content) {
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); abort(); }
    fputs(content, f);
    fclose(f);
}

long h_read_file(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
    return (long)n;
}

void sb_make(sandbox *sb) {
    const char *tmp = getenv("TMPDIR");
    snprintf(sb->root, sizeof sb->root, "%s/wasi-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(sb->root)) { perror("mkdtemp"); abort(); }
    snprintf(sb->box, sizeof sb->box, "%s/box", sb->root);
    snprintf(sb->ro, sizeof sb->ro, "%s/ro", sb->root);
    snprintf(sb->outside, sizeof sb->outside, "%s/outside", sb->root);
    char p[400];
    if (mkdir(sb->box, 0755) || mkdir(sb->ro, 0755) || mkdir(sb->outside, 0755)) abort();
    snprintf(p, sizeof p, "%s/secret.txt", sb->outside);
    h_write_file(p, "secret");
    snprintf(p, sizeof p, "%s/ro.txt", sb->ro);
    h_write_file(p, "read only");
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st; (void)ftw;
    if (type == FTW_DP) rmdir(path);
    else unlink(path);
    return 0;
}

void sb_remove(sandbox *sb) { nftw(sb->root, rm_one, 32, FTW_DEPTH | FTW_PHYS); }

static char *snap_buf;
static size_t snap_len, snap_cap;
static int snap_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)type; (void)ftw;
    char line[1024];
    int n = snprintf(line, sizeof line, "%s %o %lld %lld.%09ld\n", path, (unsigned)st->st_mode,
                     (long long)st->st_size, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    if (snap_len + (size_t)n + 1 > snap_cap) {
        snap_cap = (snap_cap + (size_t)n + 1) * 2;
        snap_buf = realloc(snap_buf, snap_cap);
        if (!snap_buf) abort();
    }
    memcpy(snap_buf + snap_len, line, (size_t)n + 1);
    snap_len += (size_t)n;
    return 0;
}

/* nftw order is the directory's order, which is stable while nothing
 * changes: a changed listing means something changed. */
char *h_snapshot(const char *dir) {
    snap_buf = NULL;
    snap_len = snap_cap = 0;
    nftw(dir, snap_one, 32, FTW_PHYS);
    if (!snap_buf) snap_buf = calloc(1, 1);
    return snap_buf;
}

wasi_ctx *h_ctx(const sandbox *sb) {
    static const char *argv[] = {"prog", "arg one", ""};
    static const char *envp[] = {"GREETING=hello", "EMPTY="};
    wasi_preopen pre[2] = {{sb->box, "/box", 0}, {sb->ro, "/ro", 1}};
    wasi_config cfg = {3, argv, 2, envp, pre, 2, 0, 1, 2};
    char err[256];
    wasi_ctx *c = wasi_ctx_new(&cfg, err, sizeof err);
    if (!c) { fprintf(stderr, "wasi_ctx_new: %s\n", err); abort(); }
    wasi_ctx_set_memory(c, &h_mem);
    return c;
}

/* Guest scratch layout for the shorthands: path at 1024, iovec at 512,
 * data at 4096.., results at 256. */
uint32_t h_open(wasi_ctx *c, uint32_t dirfd, const char *path, uint32_t lookup,
                uint32_t oflags, uint64_t base, uint32_t fdflags, uint32_t *fd_out) {
    gstr(1024, path);
    s32(256, 0xdeadbeef);
    uint32_t e = W(path_open)(c, dirfd, lookup, 1024, GLEN(path), oflags, base, RT_ALL, fdflags, 256);
    if (fd_out) *fd_out = g32(256);
    return e;
}

uint32_t h_write(wasi_ctx *c, uint32_t fd, const char *data, uint32_t *n) {
    uint32_t len = GLEN(data);
    memcpy(h_mem.data + 4096, data, len);
    s32(512, 4096);
    s32(516, len);
    uint32_t e = W(fd_write)(c, fd, 512, 1, 256);
    if (n) *n = g32(256);
    return e;
}

uint32_t h_read(wasi_ctx *c, uint32_t fd, char *out, uint32_t cap, uint32_t *n) {
    s32(512, 4096);
    s32(516, cap - 1);
    uint32_t e = W(fd_read)(c, fd, 512, 1, 256);
    uint32_t got = e ? 0 : g32(256);
    memcpy(out, h_mem.data + 4096, got);
    out[got] = 0;
    if (n) *n = got;
    return e;
}

int h_finish(const char *name) {
    if (h_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, h_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}
