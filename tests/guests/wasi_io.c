/* WASI guest test: stdin, poll on stdin, sleeping, clocks, random and the
 * exit status. Usage: test-wasi_io.wasm EXIT_CODE < input
 * Prints "stdin: N bytes, sum S", checks the rest itself, and exits with
 * EXIT_CODE when every check passed (99 otherwise).
 * test-wasi_io.wasm 0 sleep|block: sleeps 30 s / blocks reading stdin, so a
 * --timeout must stop it inside the host call. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fails;
#define EXPECT(cond, what) do { if (!(cond)) { fails++; \
    printf("FAIL line %d: %s (errno %d: %s)\n", __LINE__, what, errno, strerror(errno)); } } while (0)

static double now(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    /* "sleep" / "block": wait for a long time, for the --timeout tests */
    if (argc > 2 && !strcmp(argv[2], "sleep")) {
        struct timespec ts = {30, 0};
        nanosleep(&ts, NULL);
        return 98;
    }
    if (argc > 2 && !strcmp(argv[2], "block")) {
        char c;
        (void)read(0, &c, 1);
        return 98;
    }
    /* poll: stdin is a pipe or file with data (or EOF): readable at once */
    struct pollfd p = {0, POLLIN, 0};
    int r = poll(&p, 1, 1000);
    EXPECT(r == 1 && (p.revents & (POLLIN | POLLHUP)), "poll stdin readable");

    unsigned long sum = 0, n = 0;
    char buf[4096];
    ssize_t k;
    while ((k = read(0, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < k; i++) { sum = sum * 31 + (unsigned char)buf[i]; n++; }
    EXPECT(k == 0, "read stdin to EOF");
    printf("stdin: %lu bytes, sum %lu\n", n, sum);

    /* sleeping goes through poll_oneoff with a clock subscription */
    double t0 = now(CLOCK_MONOTONIC);
    struct timespec ts = {0, 30 * 1000 * 1000};
    EXPECT(nanosleep(&ts, NULL) == 0, "nanosleep");
    double dt = now(CLOCK_MONOTONIC) - t0;
    EXPECT(dt >= 0.030 && dt < 5.0, "slept about 30 ms");
    EXPECT(now(CLOCK_REALTIME) > 1.6e9, "realtime clock is wall time");

    unsigned char rnd[32] = {0};
    EXPECT(getentropy(rnd, sizeof rnd) == 0, "getentropy");
    int nz = 0;
    for (size_t i = 0; i < sizeof rnd; i++) nz += rnd[i] != 0;
    EXPECT(nz > 16, "random bytes look random");

    /* stdout is not seekable here; a write to stderr works */
    EXPECT(fprintf(stderr, "wasi_io: stderr works\n") > 0, "stderr");

    int code = argc > 1 ? atoi(argv[1]) : 0;
    fflush(stdout);
    if (fails) return 99;
    exit(code);
}
