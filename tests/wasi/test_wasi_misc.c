/* args, environ, clocks, random, poll_oneoff, proc_exit, the unsupported
 * calls' errnos, the context's configuration errors, the errno table and
 * the import table. */
#define _GNU_SOURCE
#include "harness.h"
#include "wasi_int.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

static sandbox sb;
static wasi_ctx *c;

static void args_env(void) {
    CHECK_EQ(W(args_sizes_get)(c, 100, 104), E_OK);
    CHECK_EQ(g32(100), 3);
    CHECK_EQ(g32(104), strlen("prog") + 1 + strlen("arg one") + 1 + 1);
    CHECK_EQ(W(args_get)(c, 200, 300), E_OK);
    CHECK_EQ(g32(200), 300);
    CHECK(!strcmp((char *)h_mem.data + g32(200), "prog"));
    CHECK(!strcmp((char *)h_mem.data + g32(204), "arg one"));
    CHECK(!strcmp((char *)h_mem.data + g32(208), ""));
    CHECK_EQ(W(environ_sizes_get)(c, 100, 104), E_OK);
    CHECK_EQ(g32(100), 2);
    CHECK_EQ(g32(104), strlen("GREETING=hello") + 1 + strlen("EMPTY=") + 1);
    CHECK_EQ(W(environ_get)(c, 200, 300), E_OK);
    CHECK(!strcmp((char *)h_mem.data + g32(200), "GREETING=hello"));
    CHECK(!strcmp((char *)h_mem.data + g32(204), "EMPTY="));
    /* nothing from the host environment leaks in */
    CHECK(getenv("PATH") == NULL || !strstr((char *)h_mem.data + 300, "PATH="));
}

static uint64_t mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void clocks_random(void) {
    for (uint32_t id = 0; id < 4; id++) {
        CHECK_EQ(W(clock_res_get)(c, id, 100), E_OK);
        CHECK(g64(100) > 0);
        CHECK_EQ(W(clock_time_get)(c, id, 1, 100), E_OK);
    }
    CHECK_EQ(W(clock_time_get)(c, 0, 0, 100), E_OK);
    CHECK(g64(100) > 1600000000ull * 1000000000ull);            /* realtime is wall time */
    CHECK_EQ(W(clock_time_get)(c, 1, 0, 100), E_OK);
    uint64_t a = g64(100);
    CHECK_EQ(W(clock_time_get)(c, 1, 0, 100), E_OK);
    CHECK(g64(100) >= a);
    CHECK_EQ(W(clock_time_get)(c, 4, 0, 100), E_INVAL);
    CHECK_EQ(W(clock_res_get)(c, 99, 100), E_INVAL);
    memset(h_mem.data + 1000, 0, 64);
    CHECK_EQ(W(random_get)(c, 1000, 64), E_OK);
    int nonzero = 0;
    for (int i = 0; i < 64; i++) nonzero += h_mem.data[1000 + i] != 0;
    CHECK(nonzero > 32);
    CHECK_EQ(W(random_get)(c, 1000, 0), E_OK);
}

/* subscription i at 2048 + 48 i; events at 8192 */
static void sub_clock(int i, uint64_t ud, uint32_t id, uint64_t timeout, uint16_t flags) {
    uint32_t p = 2048 + 48 * (uint32_t)i;
    memset(h_mem.data + p, 0, 48);
    s64(p, ud);
    h_mem.data[p + 8] = 0;
    s32(p + 16, id);
    s64(p + 24, timeout);
    s64(p + 32, 0);
    h_mem.data[p + 40] = (uint8_t)flags;
}
static void sub_fd(int i, uint64_t ud, uint8_t type, uint32_t fd) {
    uint32_t p = 2048 + 48 * (uint32_t)i;
    memset(h_mem.data + p, 0, 48);
    s64(p, ud);
    h_mem.data[p + 8] = type;
    s32(p + 16, fd);
}

static void on_alarm(int sig) { (void)sig; }

static void poll(void) {
    /* one relative clock */
    sub_clock(0, 0x1111, 1, 20000000, 0);
    uint64_t t0 = mono_ns();
    CHECK_EQ(W(poll_oneoff)(c, 2048, 8192, 1, 256), E_OK);
    uint64_t dt = mono_ns() - t0;
    CHECK(dt >= 20000000 && dt < 2000000000);
    CHECK_EQ(g32(256), 1);
    CHECK_EQ(g64(8192), 0x1111);
    CHECK_EQ(g32(8192 + 8) & 0xffff, 0);          /* error */
    CHECK_EQ(h_mem.data[8192 + 10], 0);           /* type clock */
    /* the earlier of two clocks fires alone; absolute realtime works */
    CHECK_EQ(W(clock_time_get)(c, 0, 0, 100), E_OK);
    sub_clock(0, 1, 1, 500000000, 0);
    sub_clock(1, 2, 0, g64(100) + 10000000, 1);   /* now + 10 ms, absolute */
    t0 = mono_ns();
    CHECK_EQ(W(poll_oneoff)(c, 2048, 8192, 2, 256), E_OK);
    dt = mono_ns() - t0;
    CHECK(dt < 400000000);
    CHECK_EQ(g32(256), 1);
    CHECK_EQ(g64(8192), 2);
    /* an absolute time in the past fires at once */
    sub_clock(0, 3, 1, 1, 1);
    CHECK_EQ(W(poll_oneoff)(c, 2048, 8192, 1, 256), E_OK);
    CHECK_EQ(g32(256), 1);
    /* an unknown clock is an event with EINVAL; no subscriptions is EINVAL */
    sub_clock(0, 4, 77, 0, 0);
    CHECK_EQ(W(poll_oneoff)(c, 2048, 8192, 1, 256), E_OK);
    CHECK_EQ(g32(8192 + 8) & 0xffff, E_INVAL);
    CHECK_EQ(W(poll_oneoff)(c, 2048, 8192, 0, 256), E_INVAL);

    /* stdin as a pipe: nothing to read -> the clock; data -> fd_read event */
    int pp[2];
    CHECK(pipe(pp) == 0);
    wasi_config cfg = {0, NULL, 0, NULL, NULL, 0, pp[0], 1, 2};
    char err[128];
    wasi_ctx *pc = wasi_ctx_new(&cfg, err, sizeof err);
    wasi_ctx_set_memory(pc, &h_mem);
    sub_fd(0, 10, 1, 0);
    sub_clock(1, 11, 1, 10000000, 0);
    CHECK_EQ(W(poll_oneoff)(pc, 2048, 8192, 2, 256), E_OK);
    CHECK_EQ(g32(256), 1);
    CHECK_EQ(g64(8192), 11);
    CHECK(write(pp[1], "hello", 5) == 5);
    CHECK_EQ(W(poll_oneoff)(pc, 2048, 8192, 2, 256), E_OK);
    CHECK_EQ(g32(256), 1);
    CHECK_EQ(g64(8192), 10);
    CHECK_EQ(h_mem.data[8192 + 10], 1);
    CHECK_EQ(g64(8192 + 16), 5);                  /* nbytes available */
    /* writer closed and drained: hangup */
    char tmp[8];
    CHECK(read(pp[0], tmp, 5) == 5);
    close(pp[1]);
    sub_fd(0, 12, 1, 0);
    CHECK_EQ(W(poll_oneoff)(pc, 2048, 8192, 1, 256), E_OK);
    CHECK_EQ(g32(8192 + 24) & 0xffff, 1);         /* fd_readwrite_hangup */
    /* a bad fd is an event carrying BADF, not a failed call */
    sub_fd(0, 13, 1, 42);
    CHECK_EQ(W(poll_oneoff)(pc, 2048, 8192, 1, 256), E_OK);
    CHECK_EQ(g32(256), 1);
    CHECK_EQ(g32(8192 + 8) & 0xffff, E_BADF);
    /* an unknown event type fails the call */
    sub_fd(0, 14, 9, 0);
    CHECK_EQ(W(poll_oneoff)(pc, 2048, 8192, 1, 256), E_INVAL);
    wasi_ctx_free(pc);
    close(pp[0]);

    /* EINTR during the wait: the runtime hook runs, the wait completes. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;          /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 5000}};
    setitimer(ITIMER_REAL, &it, NULL);
    int before = h_interrupts;
    sub_clock(0, 20, 1, 40000000, 0);
    t0 = mono_ns();
    CHECK_EQ(W(poll_oneoff)(c, 2048, 8192, 1, 256), E_OK);
    dt = mono_ns() - t0;
    CHECK(h_interrupts > before);
    CHECK(dt >= 40000000);
    CHECK_EQ(g64(8192), 20);
}

static void stdio_flags(void) {
    /* A guest may make its stdin non-blocking; the host's fd gets its own
     * flags back when the context goes (a shell's terminal must not be left
     * non-blocking). */
    int pp[2];
    CHECK(pipe(pp) == 0);
    wasi_config cfg = {0, NULL, 0, NULL, NULL, 0, pp[0], -1, -1};
    char err[128];
    wasi_ctx *pc = wasi_ctx_new(&cfg, err, sizeof err);
    wasi_ctx_set_memory(pc, &h_mem);
    CHECK_EQ(W(fd_fdstat_set_flags)(pc, 0, 4 /* NONBLOCK */), E_OK);
    CHECK(fcntl(pp[0], F_GETFL) & O_NONBLOCK);
    CHECK_EQ(W(fd_fdstat_get)(pc, 0, 100), E_OK);
    CHECK_EQ(h_mem.data[102], 4);
    CHECK_EQ(h_mem.data[100], 0);                 /* a pipe: filetype unknown */
    CHECK(!(g64(108) & RT_FD_SEEK));
    char buf[8];
    CHECK_EQ(h_read(pc, 0, buf, sizeof buf, NULL), 6 /* AGAIN */);
    wasi_ctx_free(pc);
    CHECK(!(fcntl(pp[0], F_GETFL) & O_NONBLOCK));
    close(pp[0]);
    close(pp[1]);
}

static void process_and_unsupported(void) {
    jmp_buf jb;
    h_exit_jmp = &jb;
    if (!setjmp(jb)) {
        W(proc_exit)(c, 42);
        CHECK(!"proc_exit returned");
    }
    h_exit_jmp = NULL;
    CHECK_EQ(h_exit_code, 42);
    CHECK_EQ(W(proc_raise)(c, 9), E_NOSYS);
    CHECK_EQ(W(sched_yield)(c), E_OK);
    CHECK_EQ(W(sock_accept)(c, 3, 0, 100), E_NOTSOCK);
    CHECK_EQ(W(sock_recv)(c, 3, 0, 0, 0, 100, 104), E_NOTSOCK);
    CHECK_EQ(W(sock_send)(c, 3, 0, 0, 0, 100), E_NOTSOCK);
    CHECK_EQ(W(sock_shutdown)(c, 3, 0), E_NOTSOCK);
    CHECK_EQ(W(sock_shutdown)(c, 99, 0), E_BADF);
}

static void config_errors(void) {
    char err[256];
    wasi_preopen pre = {"/nonexistent/dir/for/wasi/test", "/x", 0};
    wasi_config cfg = {0, NULL, 0, NULL, &pre, 1, -1, -1, -1};
    CHECK(wasi_ctx_new(&cfg, err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/dir/for/wasi/test") != NULL);
    pre.host_path = "/etc/hostname";                 /* not a directory */
    CHECK(wasi_ctx_new(&cfg, err, sizeof err) == NULL);
    CHECK(strstr(err, "/etc/hostname") != NULL);
    const char *bad_env[] = {"NOEQUALS"};
    wasi_config cfg2 = {0, NULL, 1, bad_env, NULL, 0, -1, -1, -1};
    CHECK(wasi_ctx_new(&cfg2, err, sizeof err) == NULL);
    CHECK(strstr(err, "NOEQUALS") != NULL);
    /* guest name defaults to the host path; preopens start at fd 3 even
     * with no stdio */
    wasi_preopen pre2 = {sb.box, NULL, 0};
    wasi_config cfg3 = {0, NULL, 0, NULL, &pre2, 1, -1, -1, -1};
    wasi_ctx *x = wasi_ctx_new(&cfg3, err, sizeof err);
    CHECK(x != NULL);
    wasi_ctx_set_memory(x, &h_mem);
    CHECK_EQ(W(fd_prestat_get)(x, 3, 100), E_OK);
    CHECK_EQ(g32(104), strlen(sb.box));
    CHECK_EQ(W(fd_fdstat_get)(x, 0, 100), E_BADF);
    wasi_ctx_free(x);
}

static void tables(void) {
    /* WASI's errno numbering, spot-checked across the range */
    CHECK_EQ(wasi_errno(E2BIG), 1);
    CHECK_EQ(wasi_errno(EACCES), 2);
    CHECK_EQ(wasi_errno(EBADF), 8);
    CHECK_EQ(wasi_errno(EEXIST), 20);
    CHECK_EQ(wasi_errno(EFAULT), 21);
    CHECK_EQ(wasi_errno(EINVAL), 28);
    CHECK_EQ(wasi_errno(ELOOP), 32);
    CHECK_EQ(wasi_errno(ENOENT), 44);
    CHECK_EQ(wasi_errno(ENOTDIR), 54);
    CHECK_EQ(wasi_errno(ENOTEMPTY), 55);
    CHECK_EQ(wasi_errno(EPERM), 63);
    CHECK_EQ(wasi_errno(EROFS), 69);
    CHECK_EQ(wasi_errno(EXDEV), 75);
    CHECK_EQ(wasi_errno(EOPNOTSUPP), 58);
    CHECK_EQ(wasi_errno(EWOULDBLOCK), 6);
    CHECK_EQ(wasi_errno(123456), 29);               /* unknown -> EIO */
    /* import table: unique names, well-formed signatures, an address each */
    CHECK_EQ(wasi_n_imports, 46);
    for (size_t i = 0; i < wasi_n_imports; i++) {
        const host_import *h = &wasi_imports[i];
        CHECK(!strcmp(h->module, "wasi_snapshot_preview1"));
        CHECK(strspn(h->sig, "iIfF:") == strlen(h->sig) && strchr(h->sig, ':'));
        CHECK(wasi_import_fns[i] != NULL);
        for (size_t j = 0; j < i; j++) CHECK(strcmp(h->name, wasi_imports[j].name));
        if (!strcmp(h->name, "fd_write")) CHECK(!strcmp(h->sig, "iiii:i"));
        if (!strcmp(h->name, "proc_exit")) CHECK(!strcmp(h->sig, "i:"));
        if (!strcmp(h->name, "path_open")) CHECK(!strcmp(h->sig, "iiiiiIIii:i"));
    }
}

int main(void) {
    h_mem_reset();
    sb_make(&sb);
    c = h_ctx(&sb);
    args_env();
    clocks_random();
    poll();
    stdio_flags();
    process_and_unsupported();
    config_errors();
    tables();
    wasi_ctx_free(c);
    sb_remove(&sb);
    return h_finish("test_wasi_misc");
}
