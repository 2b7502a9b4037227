/* bench_wasi: what a WASI call costs on the host side (no guest: the
 * imports are called directly, as the generated code would). Prints a
 * table of median ns per call over 5 runs. Not a test. */
#define _GNU_SOURCE
#include "harness.h"
#include "wasi_int.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

static sandbox sb;
static wasi_ctx *c;
static int pipe_r;

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*op_fn)(void);
static void run(const char *name, op_fn op, int iters) {
    double t[5];
    for (int r = 0; r < 5; r++) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++) op();
        t[r] = (now_ns() - t0) / iters;
    }
    qsort(t, 5, sizeof t[0], cmp);
    printf("| %-46s | %9.0f |\n", name, t[2]);
}

static char host_file[512];
static void op_host_stat(void) {
    struct stat st;
    if (stat(host_file, &st)) abort();
}
static void op_host_open(void) {
    int fd = open(host_file, O_RDONLY);
    if (fd < 0) abort();
    close(fd);
}
static void op_clock(void) { W(clock_time_get)(c, 1, 0, 100); }
static void op_write_pipe(void) {
    s32(512, 4096); s32(516, 16);
    W(fd_write)(c, 7, 512, 1, 256);
    char drain[64];
    if (read(pipe_r, drain, sizeof drain) < 0) abort();
}
static void op_write(void) {
    s32(512, 4096); s32(516, 16);
    W(fd_write)(c, 5, 512, 1, 256);
}
static void op_open_close(void) {
    uint32_t e = W(path_open)(c, 3, 1, 1024, 9, 0, RT_FD_READ, 0, 0, 256);
    if (!e) W(fd_close)(c, g32(256));
}
static void op_stat(void) { W(path_filestat_get)(c, 3, 1, 1024, 9, 600); }
static void op_readdir(void) {
    uint64_t cookie = 0;
    for (;;) {
        W(fd_readdir)(c, 6, 8192, 4096, cookie, 256);
        uint32_t used = g32(256), off = 0;
        while (off + 24 <= used) {
            uint32_t nl = g32(8192 + off + 16);
            if (off + 24 + nl > used) break;
            cookie = g64(8192 + off);
            off += 24 + nl;
        }
        if (used < 4096) break;
    }
}

/* Virtual files (a second context, vc: /bundle at fd 3) next to a host
 * file of the same size read through c (fd 8). */
static wasi_ctx *vc;
static uint32_t host_fd8 = 8, vfile_fd;
static void op_vopen_close(void) {
    uint32_t e = W(path_open)(vc, 3, 0, 1024, 14, 0, RT_FD_READ, 0, 0, 256);
    if (!e) W(fd_close)(vc, g32(256));
}
static void op_vstat(void) { W(path_filestat_get)(vc, 3, 0, 1024, 14, 600); }
static void op_vpread(void) {
    s32(512, 4096); s32(516, 16384);
    W(fd_pread)(vc, vfile_fd, 512, 1, 65536, 256);
}
static void op_hpread(void) {
    s32(512, 4096); s32(516, 16384);
    W(fd_pread)(c, host_fd8, 512, 1, 65536, 256);
}

int main(void) {
    char p[512];
    h_mem_reset();
    sb_make(&sb);
    snprintf(p, sizeof p, "%s/a", sb.box); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/a/b", sb.box); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/a/b/c.txt", sb.box); h_write_file(p, "x");
    snprintf(p, sizeof p, "%s/many", sb.box); mkdir(p, 0755);
    for (int i = 0; i < 100; i++) {
        snprintf(p, sizeof p, "%s/many/file-%03d.txt", sb.box, i);
        h_write_file(p, "x");
    }
    c = h_ctx(&sb);
    gstr(1024, "a/b/c.txt");
    uint32_t fd;
    if (h_open(c, 3, "/dev/null", 1, 0, 0, 0, &fd) != E_NOTCAPABLE) return 1;   /* sanity */
    int devnull = open("/dev/null", O_WRONLY);
    /* fd 5: /dev/null as a writable stream, fd 6: the 100-file directory */
    int64_t slot = wasi_fd_alloc(c);
    c->fds[slot] = (wasi_fd){.used = true, .host = devnull, .type = W_FT_CHAR, .preopen = -1,
                             .base = RT_FD_WRITE};
    if (h_open(c, 3, "many", 0, OF_DIRECTORY, RT_FD_READDIR, 0, &fd) || fd != 6) return 1;
    int pp[2];
    if (pipe(pp)) return 1;
    pipe_r = pp[0];
    slot = wasi_fd_alloc(c);     /* fd 7: a pipe (guarded against SIGPIPE) */
    c->fds[slot] = (wasi_fd){.used = true, .host = pp[1], .type = W_FT_UNKNOWN, .preopen = -1,
                             .base = RT_FD_WRITE};
    gstr(1024, "a/b/c.txt");
    if (W(path_filestat_get)(c, 3, 1, 1024, 9, 600)) return 1;

    printf("| %-46s | ns / call |\n", "WASI host call (median of 5 runs)");
    printf("|------------------------------------------------|-----------|\n");
    run("clock_time_get (monotonic)", op_clock, 200000);
    run("fd_write 16 B to /dev/null", op_write, 200000);
    run("fd_write 16 B to a pipe (+ read back)", op_write_pipe, 100000);
    snprintf(host_file, sizeof host_file, "%s/a/b/c.txt", sb.box);
    run("baseline: host stat() of the same file", op_host_stat, 50000);
    run("baseline: host open() + close()", op_host_open, 50000);
    run("path_filestat_get a/b/c.txt (openat2)", op_stat, 50000);
    run("path_open + fd_close a/b/c.txt (openat2)", op_open_close, 50000);
    wasi_path_force_walk(1);
    run("path_filestat_get a/b/c.txt (portable walk)", op_stat, 50000);
    run("path_open + fd_close a/b/c.txt (portable walk)", op_open_close, 50000);
    wasi_path_force_walk(0);
    run("fd_readdir 102 entries, 4 KiB buffer", op_readdir, 5000);

    enum { VSIZE = 1 << 20 };
    char *bytes = malloc(VSIZE), err[256];
    if (!bytes) return 1;
    for (int i = 0; i < VSIZE; i++) bytes[i] = (char)(i * 7);
    snprintf(p, sizeof p, "%s/big.bin", sb.box);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(bytes, 1, VSIZE, f) != VSIZE || fclose(f)) return 1;
    if (h_open(c, 3, "big.bin", 0, 0, RT_FD_READ | RT_FD_SEEK, 0, &fd) || fd != host_fd8) return 1;
    wasi_config vcfg = {.fd_stdin = -1, .fd_stdout = -1, .fd_stderr = -1};
    vc = wasi_ctx_new(&vcfg, err, sizeof err);
    if (!vc || wasi_ctx_add_vfile(vc, "/bundle", "tokenizer.gguf", bytes, VSIZE, err, sizeof err))
        return 1;
    wasi_ctx_set_memory(vc, &h_mem);
    gstr(1024, "tokenizer.gguf");
    if (W(path_open)(vc, 3, 0, 1024, 14, 0, RT_FD_READ | RT_FD_SEEK, 0, 0, 256)) return 1;
    vfile_fd = g32(256);
    run("path_open + fd_close, virtual file", op_vopen_close, 200000);
    run("path_filestat_get, virtual file", op_vstat, 200000);
    run("fd_pread 16 KiB, host file (page cache)", op_hpread, 50000);
    run("fd_pread 16 KiB, virtual file (memcpy)", op_vpread, 50000);
    wasi_ctx_free(vc);
    free(bytes);
    wasi_ctx_free(c);
    sb_remove(&sb);
    return 0;
}
