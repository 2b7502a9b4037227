/* Every guest pointer/length is checked against the memory's current size:
 * a bad one is FAULT (21), with no side effect and no host crash (run under
 * ASan in CI: an unchecked access would be reported there). */
#define _GNU_SOURCE
#include "harness.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static sandbox sb;
static wasi_ctx *c;

/* Addresses that are out or straddle the end. */
static const uint32_t bad[] = {GMEM, GMEM - 1, GMEM - 3, 0xfffffffcu, 0xffffffffu};
#define NBAD (sizeof bad / sizeof bad[0])

static void scalars(void) {
    for (size_t i = 0; i < NBAD; i++) {
        uint32_t b = bad[i];
        CHECK_EQ(W(args_sizes_get)(c, b, 0), E_FAULT);
        CHECK_EQ(W(args_sizes_get)(c, 0, b), E_FAULT);
        CHECK_EQ(W(args_get)(c, b, 100), E_FAULT);
        CHECK_EQ(W(args_get)(c, 100, b), E_FAULT);
        CHECK_EQ(W(environ_sizes_get)(c, b, 0), E_FAULT);
        CHECK_EQ(W(environ_get)(c, 100, b), E_FAULT);
        CHECK_EQ(W(clock_time_get)(c, 1, 0, b), E_FAULT);
        CHECK_EQ(W(clock_res_get)(c, 1, b), E_FAULT);
        CHECK_EQ(W(fd_fdstat_get)(c, 3, b), E_FAULT);
        CHECK_EQ(W(fd_filestat_get)(c, 3, b), E_FAULT);
        CHECK_EQ(W(fd_prestat_get)(c, 3, b), E_FAULT);
        CHECK_EQ(W(fd_prestat_dir_name)(c, 3, b, 4), E_FAULT);
        CHECK_EQ(W(random_get)(c, b, 16), E_FAULT);
        CHECK_EQ(W(fd_readdir)(c, 3, b, 64, 0, 0), E_FAULT);
        CHECK_EQ(W(fd_readdir)(c, 3, 0, 64, 0, b), E_FAULT);
        CHECK_EQ(W(poll_oneoff)(c, b, 0, 1, 200), E_FAULT);
        CHECK_EQ(W(poll_oneoff)(c, 0, b, 1, 200), E_FAULT);
        CHECK_EQ(W(poll_oneoff)(c, 0, 100, 1, b), E_FAULT);
    }
    /* lengths that run past the end, including u32 wrap-around */
    CHECK_EQ(W(random_get)(c, 16, GMEM), E_FAULT);
    CHECK_EQ(W(random_get)(c, 0xfffffff0u, 0x20), E_FAULT);
    CHECK_EQ(W(random_get)(c, 0, GMEM), E_OK);           /* exactly the whole memory is fine */
    CHECK_EQ(W(fd_prestat_dir_name)(c, 3, 100, 0xffffffffu), E_FAULT);
    CHECK_EQ(W(poll_oneoff)(c, 0, 100, 0x10000000u, 200), E_INVAL);   /* absurd count */
}

static void iovecs(void) {
    /* the iovec array itself out of range, or its length overflowing */
    CHECK_EQ(W(fd_write)(c, 1, GMEM - 4, 1, 256), E_FAULT);
    CHECK_EQ(W(fd_write)(c, 1, 0, 0x20000000u, 256), E_FAULT);   /* n*8 = 4 GiB */
    CHECK_EQ(W(fd_write)(c, 1, 0, 0x1fffffffu, 256), E_FAULT);
    /* a buffer out of range / wrapping */
    s32(512, GMEM - 2); s32(516, 4);
    CHECK_EQ(W(fd_write)(c, 1, 512, 1, 256), E_FAULT);
    s32(512, 0xfffffff0u); s32(516, 0x20);
    CHECK_EQ(W(fd_write)(c, 1, 512, 1, 256), E_FAULT);
    s32(512, 100); s32(516, 0xffffffffu);
    CHECK_EQ(W(fd_read)(c, 0, 512, 1, 256), E_FAULT);
    /* good first iovec, bad second: nothing is written */
    s32(512, 4096); s32(516, 3); s32(520, GMEM); s32(524, 1);
    memcpy(h_mem.data + 4096, "abc", 3);
    uint32_t fd;
    CHECK_EQ(h_open(c, 3, "f", 1, OF_CREAT, RT_ALL, 0, &fd), E_OK);
    s32(512, 4096); s32(516, 3); s32(520, GMEM); s32(524, 1);
    CHECK_EQ(W(fd_write)(c, fd, 512, 2, 256), E_FAULT);
    CHECK_EQ(W(fd_pwrite)(c, fd, 512, 2, 0, 256), E_FAULT);
    char p[512];
    struct stat st;
    snprintf(p, sizeof p, "%s/f", sb.box);
    CHECK(stat(p, &st) == 0 && st.st_size == 0);
    /* a bad result pointer: nothing written, nothing consumed */
    s32(512, 4096); s32(516, 3);
    CHECK_EQ(W(fd_write)(c, fd, 512, 1, GMEM - 2), E_FAULT);
    CHECK(stat(p, &st) == 0 && st.st_size == 0);
    CHECK_EQ(W(fd_write)(c, fd, 512, 1, 256), E_OK);
    for (size_t i = 0; i < NBAD; i++) {
        CHECK_EQ(W(fd_tell)(c, fd, bad[i]), E_FAULT);
        CHECK_EQ(W(fd_filestat_get)(c, fd, bad[i]), E_FAULT);
    }
    CHECK_EQ(W(fd_seek)(c, fd, 0, 0, GMEM - 4), E_FAULT);
    CHECK_EQ(W(fd_seek)(c, fd, 0, 0, 300), E_OK);
    CHECK_EQ(W(fd_read)(c, fd, 512, 1, GMEM), E_FAULT);
    CHECK_EQ(W(fd_tell)(c, fd, 300), E_OK);
    CHECK_EQ(g64(300), 0);                              /* the read did not happen */
    CHECK_EQ(W(fd_pread)(c, fd, 512, 1, 0, GMEM), E_FAULT);
    W(fd_close)(c, fd);
    /* a pipe: the data stays in it when the count cannot be stored */
    int pp[2];
    CHECK(pipe(pp) == 0);
    CHECK(write(pp[1], "xyz", 3) == 3);
    wasi_config cfg = {0, NULL, 0, NULL, NULL, 0, pp[0], -1, -1};
    char err[128];
    wasi_ctx *pc = wasi_ctx_new(&cfg, err, sizeof err);
    wasi_ctx_set_memory(pc, &h_mem);
    s32(512, 4096); s32(516, 16);
    CHECK_EQ(W(fd_read)(pc, 0, 512, 1, 0xffffffffu), E_FAULT);
    CHECK_EQ(W(fd_read)(pc, 0, 512, 1, 256), E_OK);
    CHECK_EQ(g32(256), 3);
    CHECK_EQ(W(fd_write)(pc, 1, 512, 1, 256), E_BADF);   /* stdout absent */
    wasi_ctx_free(pc);
    close(pp[0]);
    close(pp[1]);
    /* A reader that went away is EPIPE for the guest, not a SIGPIPE that
     * kills the host (this process would die here otherwise). */
    CHECK(pipe(pp) == 0);
    close(pp[0]);
    wasi_config cfg2 = {0, NULL, 0, NULL, NULL, 0, -1, pp[1], -1};
    pc = wasi_ctx_new(&cfg2, err, sizeof err);
    wasi_ctx_set_memory(pc, &h_mem);
    s32(512, 4096); s32(516, 3);
    CHECK_EQ(W(fd_write)(pc, 1, 512, 1, 256), 64 /* PIPE */);
    CHECK_EQ(W(fd_write)(pc, 1, 512, 1, 256), 64);
    wasi_ctx_free(pc);
    close(pp[1]);
}

static void paths(void) {
    char p[512];
    for (size_t i = 0; i < NBAD; i++) {
        uint32_t b = bad[i];
        CHECK_EQ(W(path_open)(c, 3, 1, b, 4, 1, RT_ALL, RT_ALL, 0, 256), E_FAULT);
        CHECK_EQ(W(path_create_directory)(c, 3, b, 4), E_FAULT);
        CHECK_EQ(W(path_unlink_file)(c, 3, b, 4), E_FAULT);
        CHECK_EQ(W(path_remove_directory)(c, 3, b, 4), E_FAULT);
        CHECK_EQ(W(path_filestat_get)(c, 3, 1, b, 4, 600), E_FAULT);
        CHECK_EQ(W(path_filestat_set_times)(c, 3, 1, b, 4, 0, 0, 2), E_FAULT);
        CHECK_EQ(W(path_readlink)(c, 3, b, 4, 600, 10, 256), E_FAULT);
        CHECK_EQ(W(path_symlink)(c, b, 4, 3, 1024, 1), E_FAULT);
        gstr(1024, "name");
        CHECK_EQ(W(path_rename)(c, 3, 1024, 4, 3, b, 4), E_FAULT);
        CHECK_EQ(W(path_link)(c, 3, 0, b, 4, 3, 1024, 4), E_FAULT);
        CHECK_EQ(W(path_filestat_get)(c, 3, 1, 1024, 4, b), E_FAULT);
        CHECK_EQ(W(path_readlink)(c, 3, 1024, 4, b, 10, 256), E_FAULT);
        CHECK_EQ(W(path_readlink)(c, 3, 1024, 4, 600, 10, b), E_FAULT);
    }
    /* A path whose length runs off the end, and a huge length. */
    CHECK_EQ(W(path_create_directory)(c, 3, GMEM - 2, 4), E_FAULT);
    CHECK_EQ(W(path_create_directory)(c, 3, 0, 0xffffffffu), E_FAULT);
    /* path_open with a bad fd_out creates nothing */
    gstr(1024, "never");
    CHECK_EQ(W(path_open)(c, 3, 1, 1024, 5, 1, RT_ALL, RT_ALL, 0, GMEM - 1), E_FAULT);
    snprintf(p, sizeof p, "%s/never", sb.box);
    CHECK(access(p, F_OK) != 0);
}

static void no_memory(void) {
    /* A context whose memory was never set (or is empty) faults cleanly. */
    wasi_config cfg = {0, NULL, 0, NULL, NULL, 0, -1, -1, -1};
    char err[128];
    wasi_ctx *nc = wasi_ctx_new(&cfg, err, sizeof err);
    CHECK(nc != NULL);
    CHECK_EQ(W(args_sizes_get)(nc, 0, 4), E_FAULT);
    CHECK_EQ(W(random_get)(nc, 0, 1), E_FAULT);
    CHECK_EQ(W(random_get)(nc, 0, 0), E_FAULT);       /* no memory at all: even empty ranges */
    wasi_ctx_free(nc);
}

static void grown_memory(void) {
    /* The size is read on every call: after the memory grows, the new
     * pages are valid; before, they are not. */
    uint8_t *big = calloc(1, 2 * GMEM);
    wasm_rt_memory_t m = {big, 1, 2, GMEM};
    wasi_config cfg = {0, NULL, 0, NULL, NULL, 0, -1, -1, -1};
    char err[128];
    wasi_ctx *gc = wasi_ctx_new(&cfg, err, sizeof err);
    wasi_ctx_set_memory(gc, &m);
    CHECK_EQ(W(clock_time_get)(gc, 1, 0, GMEM + 8), E_FAULT);
    m.pages = 2;
    m.size = 2 * GMEM;
    CHECK_EQ(W(clock_time_get)(gc, 1, 0, GMEM + 8), E_OK);
    wasi_ctx_free(gc);
    free(big);
}

int main(void) {
    h_mem_reset();
    sb_make(&sb);
    c = h_ctx(&sb);
    scalars();
    iovecs();
    paths();
    no_memory();
    grown_memory();
    wasi_ctx_free(c);
    sb_remove(&sb);
    return h_finish("test_wasi_fault");
}
