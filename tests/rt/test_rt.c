/* test_rt: the guest runtime in-process (wl_rt + the test WASI stand-in).
 *   test_rt SUBTEST     one of: traps limits hostcalls cycles two_guests
 *                       threads refuse hostcrash
 * Guests come from $WASMLET_GUESTS; compiled guests are cached in
 * $WLRT_TEST_CACHE (shared by the test run). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "wasi.h"
#include "wasm_reader.h"
#include "wlrt.h"

static int failures;
#define CHECK(c, ...)                                                   \
    do {                                                                \
        if (!(c)) {                                                     \
            failures++;                                                 \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #c); \
            fprintf(stderr, __VA_ARGS__);                               \
            fputc('\n', stderr);                                        \
        }                                                               \
    } while (0)

/* ---- test-only host imports (module wasmlet_test) ---------------------- */
static int g_block_pipe[2];
/* A real NULL store, not one the sanitizers intercept first. */
__attribute__((no_sanitize("undefined", "address"))) static void null_store(int v) {
    static int *volatile p;
    *p = v;
}
void Z_wasmlet_testZ_crash(void *ctx) {
    (void)ctx;
    null_store(1);   /* a host bug: must kill the process, not look like a guest trap */
}
void Z_wasmlet_testZ_block(void *ctx) {
    (void)ctx;
    char c;
    for (;;) {   /* blocks until the timeout signal interrupts it */
        if (read(g_block_pipe[0], &c, 1) < 0) wlrt_check_interrupt();
    }
}
uint32_t Z_wasmlet_testZ_depth(void *ctx, uint32_t n) { (void)ctx; return n; }
static const host_import test_imports[] = {
    {"wasmlet_test", "crash", ":"}, {"wasmlet_test", "block", ":"}, {"wasmlet_test", "depth", "i:i"}};

static wlrt_import_table g_tables[2];
static wlrt_options g_opt;

static wlrt_module *load(const char *name) {
    char path[1024], err[1024];
    snprintf(path, sizeof path, "%s/%s", getenv("WASMLET_GUESTS"), name);
    wlrt_module *m = wlrt_module_load(path, &g_opt, err, sizeof err);
    if (!m) { fprintf(stderr, "cannot load %s: %s\n", path, err); exit(1); }
    return m;
}

/* Runs a fresh instance with args; its stdout goes to out (if given). */
static wlrt_result run(wlrt_module *m, const char *args, uint64_t cap, uint64_t timeout_ms,
                       char *out, size_t outlen) {
    const char *argv[8] = {"guest"};
    int argc = 1;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", args);
    char *save = NULL;
    for (char *s = strtok_r(buf, " ", &save); s && argc < 8; s = strtok_r(NULL, " ", &save)) argv[argc++] = s;
    FILE *f = tmpfile();
    wasi_config cfg = {.argc = argc, .argv = argv, .fd_stdin = 0, .fd_stdout = fileno(f), .fd_stderr = 2};
    char err[512];
    wasi_ctx *ctx = wasi_ctx_new(&cfg, err, sizeof err);
    int dummy;
    wlrt_binding b[] = {{"wasi_snapshot_preview1", ctx}, {"wasmlet_test", &dummy}};
    wlrt_instance *inst = wlrt_instance_new(m, b, 2, cap, err, sizeof err);
    wlrt_result r = {.status = WLRT_TRAPPED, .trap = -1};
    if (inst) {
        wasi_ctx_set_memory(ctx, wlrt_instance_memory(inst));
        r = wlrt_instance_run(inst, timeout_ms);
        wlrt_instance_free(inst);
    } else {
        CHECK(0, "instantiate: %s", err);
    }
    wasi_ctx_free(ctx);
    if (out) {
        rewind(f);
        size_t n = fread(out, 1, outlen - 1, f);
        out[n] = 0;
    }
    fclose(f);
    return r;
}

static void expect_trap(wlrt_module *m, const char *args, int trap, uint64_t cap, uint64_t timeout) {
    wlrt_result r = run(m, args, cap, timeout, NULL, 0);
    CHECK(r.status == WLRT_TRAPPED && r.trap == trap, "%s: status %d trap %d (%s), want trap %d (%s)",
          args, r.status, r.trap, wlrt_trap_name(r.trap), trap, wlrt_trap_name(trap));
    /* the process and a new instance are fine afterwards */
    char out[64];
    r = run(m, "ok", 0, 0, out, sizeof out);
    CHECK(r.status == WLRT_RETURNED && strcmp(out, "ok\n") == 0, "after %s: ok run gave %d '%s'", args, r.status, out);
}

static unsigned spin_native(unsigned n) {
    unsigned h = 2166136261u;
    for (unsigned i = 0; i < n; i++) h = (h ^ i) * 16777619u;
    return h;
}

/* ---- subtests ---------------------------------------------------------- */

static void t_traps(void) {
    wlrt_module *m = load("test-rt_traps.wasm");
    expect_trap(m, "oob-load", WASM_RT_TRAP_OOB, 0, 0);
    expect_trap(m, "oob-store", WASM_RT_TRAP_OOB, 0, 0);
    expect_trap(m, "div0", WASM_RT_TRAP_DIV_BY_ZERO, 0, 0);
    expect_trap(m, "unreachable", WASM_RT_TRAP_UNREACHABLE, 0, 0);
    expect_trap(m, "shadow", WASM_RT_TRAP_OOB, 0, 0);
    expect_trap(m, "recurse", WASM_RT_TRAP_EXHAUSTION, 0, 0);
    wlrt_result r = run(m, "exit 7", 0, 0, NULL, 0);
    CHECK(r.status == WLRT_EXITED && r.exit_code == 7, "exit 7: status %d code %u", r.status, r.exit_code);
    CHECK(wlrt_exit_status(&r) == 7, "exit status %d", wlrt_exit_status(&r));
    wlrt_module_free(m);
}

static void t_limits(void) {
    wlrt_module *m = load("test-rt_traps.wasm");
    expect_trap(m, "loop", WLRT_TRAP_TIMEOUT, 0, 200);
    expect_trap(m, "alloc", WLRT_TRAP_MEMORY_LIMIT, 16u << 20, 0);
    wlrt_result r = run(m, "alloc", 16u << 20, 0, NULL, 0);
    CHECK(r.inner_trap == WASM_RT_TRAP_UNREACHABLE, "alloc: inner trap %d", r.inner_trap);
    CHECK(wlrt_exit_status(&r) == WLRT_EXIT_MEMORY_LIMIT, "alloc: exit status %d", wlrt_exit_status(&r));
    char out[64];
    r = run(m, "grow", 16u << 20, 0, out, sizeof out);
    CHECK(r.status == WLRT_EXITED && r.exit_code == 3 && r.memory_refused && !strcmp(out, "grow refused\n"),
          "grow under a cap: status %d code %u refused %d out '%s'", r.status, r.exit_code, r.memory_refused, out);
    r = run(m, "grow", 0, 0, out, sizeof out);
    CHECK(r.status == WLRT_EXITED && r.exit_code == 4, "grow without a cap: status %d code %u", r.status, r.exit_code);
    /* initial memory (stack-first guests start above 1 MiB) over the cap */
    char err[256];
    int dummy;
    wasi_config cfg = {.argc = 0, .fd_stdout = 1, .fd_stderr = 2};
    wasi_ctx *ctx = wasi_ctx_new(&cfg, err, sizeof err);
    wlrt_binding b[] = {{"wasi_snapshot_preview1", ctx}, {"wasmlet_test", &dummy}};
    wlrt_instance *inst = wlrt_instance_new(m, b, 2, 65536, err, sizeof err);
    CHECK(!inst && strstr(err, "memory limit"), "instance over the cap: %s", inst ? "created" : err);
    wasi_ctx_free(ctx);
    wlrt_module_free(m);
}

static void t_hostcalls(void) {
    wlrt_module *m = load("test-rt_hostcall.wasm");
    if (pipe(g_block_pipe) != 0) { CHECK(0, "pipe"); return; }
    /* blocked in a host call: EINTR, wlrt_check_interrupt() unwinds */
    expect_trap(m, "block", WLRT_TRAP_TIMEOUT, 0, 300);
    /* guest recursion that reaches a host call with little stack left */
    expect_trap(m, "deep", WASM_RT_TRAP_EXHAUSTION, 0, 0);
    char out[64];
    wlrt_result r = run(m, "", 0, 0, out, sizeof out);
    CHECK(r.status == WLRT_RETURNED && !strcmp(out, "done\n"), "plain run: %d '%s'", r.status, out);
    wlrt_module_free(m);
}

static long vmsize_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %ld", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static void t_cycles(void) {
    wlrt_module *m = load("test-rt_traps.wasm");
    char err[256];
    int dummy;
    wasi_config cfg = {.argc = 0, .fd_stdout = 1, .fd_stderr = 2};
    wasi_ctx *ctx = wasi_ctx_new(&cfg, err, sizeof err);
    wlrt_binding b[] = {{"wasi_snapshot_preview1", ctx}, {"wasmlet_test", &dummy}};
    long before = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20000; i++) {
        if (i == 100) before = vmsize_kb();
        wlrt_instance *inst = wlrt_instance_new(m, b, 2, 0, err, sizeof err);
        if (!inst) { CHECK(0, "cycle %d: %s", i, err); break; }
        wlrt_instance_free(inst);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long after = vmsize_kb();
    printf("VmSize after 100 cycles %ld kB, after 20000 cycles %ld kB; %.1f us per instantiate+free\n", before,
           after, ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / 20000);
    CHECK(after - before < 64 * 1024, "address space grew by %ld kB", after - before);
    wasi_ctx_free(ctx);
    wlrt_module_free(m);
}

static void t_two_guests(void) {
    wlrt_module *a = load("test-rt_traps.wasm"), *h = load("hello.wasm");
    char out[256], want[64];
    wlrt_result r = run(h, "x", 0, 0, out, sizeof out);
    CHECK(r.status != WLRT_TRAPPED && strstr(out, "argv[1] = x"), "hello: %d '%s'", r.status, out);
    r = run(a, "spin 1000", 0, 0, out, sizeof out);
    snprintf(want, sizeof want, "spin %u\n", spin_native(1000));
    CHECK(r.status == WLRT_RETURNED && !strcmp(out, want), "spin: '%s' want '%s'", out, want);
    r = run(h, "y z", 0, 0, out, sizeof out);
    CHECK(strstr(out, "argv[2] = z"), "hello again: '%s'", out);
    wlrt_module_free(a);
    wlrt_module_free(h);
}

typedef struct { wlrt_module *m, *h; int which; int bad; } worker;

static void *work(void *p) {
    worker *w = p;
    char out[256], want[64];
    for (int i = 0; i < 20; i++) {
        unsigned n = 20000u + (unsigned)i * 1000u + (unsigned)w->which;
        char args[64];
        snprintf(args, sizeof args, "spin %u", n);
        snprintf(want, sizeof want, "spin %u\n", spin_native(n));
        wlrt_result r = run(w->m, args, 0, 0, out, sizeof out);
        if (r.status != WLRT_RETURNED || strcmp(out, want)) w->bad++;
        snprintf(args, sizeof args, "t%d", w->which);
        snprintf(want, sizeof want, "argv[1] = t%d", w->which);
        r = run(w->h, args, 0, 0, out, sizeof out);
        if (r.status == WLRT_TRAPPED || !strstr(out, want)) w->bad++;
        static const char *const traps[] = {"oob-load", "recurse", "div0", "loop"};
        static const int codes[] = {WASM_RT_TRAP_OOB, WASM_RT_TRAP_EXHAUSTION, WASM_RT_TRAP_DIV_BY_ZERO,
                                    WLRT_TRAP_TIMEOUT};
        int k = (i + w->which) % 4;
        /* a timer is armed for every run; only the endless loop reaches it */
        r = run(w->m, traps[k], 0, k == 3 ? 30 : 20000, NULL, 0);
        if (r.status != WLRT_TRAPPED || r.trap != codes[k]) {
            fprintf(stderr, "thread %d: %s gave status %d trap %d\n", w->which, traps[k], r.status, r.trap);
            w->bad++;
        }
    }
    return NULL;
}

static void t_threads(void) {
    /* thread 1 gets its own loaded copy of the trap guest */
    wlrt_module *m0 = load("test-rt_traps.wasm"), *m1 = load("test-rt_traps.wasm"), *h = load("hello.wasm");
    worker w[2] = {{m0, h, 0, 0}, {m1, h, 1, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, work, &w[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(w[0].bad == 0 && w[1].bad == 0, "thread failures: %d %d", w[0].bad, w[1].bad);
    wlrt_module_free(m0);
    wlrt_module_free(m1);
    wlrt_module_free(h);
}

/* ---- refused modules --------------------------------------------------- */

static size_t leb(uint8_t *o, uint32_t v) {
    size_t n = 0;
    do { o[n] = v & 0x7f; v >>= 7; if (v) o[n] |= 0x80; n++; } while (v);
    return n;
}
/* A module from its type section's types, one import, memory, _start. */
static size_t build(uint8_t *out, const char *imod, const char *iname, const uint8_t *type, size_t tlen) {
    uint8_t body[512];
    size_t n = 0, k = 0;
    memcpy(out, "\0asm\1\0\0\0", 8);
    n = 8;
    /* types: 0 = the import's, 1 = () -> () */
    k = 0; body[k++] = 2; memcpy(body + k, type, tlen); k += tlen; body[k++] = 0x60; body[k++] = 0; body[k++] = 0;
    out[n++] = 1; n += leb(out + n, (uint32_t)k); memcpy(out + n, body, k); n += k;
    k = 0; body[k++] = 1;
    body[k++] = (uint8_t)strlen(imod); memcpy(body + k, imod, strlen(imod)); k += strlen(imod);
    body[k++] = (uint8_t)strlen(iname); memcpy(body + k, iname, strlen(iname)); k += strlen(iname);
    body[k++] = 0; body[k++] = 0;
    out[n++] = 2; n += leb(out + n, (uint32_t)k); memcpy(out + n, body, k); n += k;
    static const uint8_t rest[] = {
        3, 2, 1, 1,                                   /* one function of type 1 */
        5, 3, 1, 0, 1,                                /* memory 1 page */
        7, 19, 2, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0, 6, '_', 's', 't', 'a', 'r', 't', 0, 1,
        10, 4, 1, 2, 0, 0x0b};                        /* body: no locals, end */
    memcpy(out + n, rest, sizeof rest);
    return n + sizeof rest;
}

static void expect_refused(const uint8_t *wasm, size_t len, const char *what, const char *want) {
    char err[512] = "";
    wlrt_module *m = wlrt_module_load_bytes(wasm, len, what, &g_opt, err, sizeof err);
    CHECK(!m && strstr(err, want), "%s: want '%s', got '%s'", what, want, m ? "loaded" : err);
    if (m) wlrt_module_free(m);
    else printf("refused %-10s %s\n", what, err);
}

static void t_refuse(void) {
    uint8_t w[1024];
    static const uint8_t t_i_i[] = {0x60, 1, 0x7f, 1, 0x7f};
    static const uint8_t t_fdw[] = {0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f};
    static const uint8_t t_v128[] = {0x60, 1, 0x7b, 0};
    size_t n = build(w, "wasi_snapshot_preview1", "fd_write", t_fdw, sizeof t_fdw);
    char err[256];
    wlrt_module *ok = wlrt_module_load_bytes(w, n, "good", &g_opt, err, sizeof err);
    CHECK(ok != NULL, "the well-formed hand-built module is refused: %s", err);
    wlrt_module_free(ok);
    /* cut anywhere: refused (at a section boundary the rest is a smaller
     * but incomplete module, refused for what it lacks) */
    for (size_t cut = 0; cut < n; cut++) {
        char e[256] = "";
        wlrt_module *t = wlrt_module_load_bytes(w, cut, "truncated", &g_opt, e, sizeof e);
        CHECK(!t && e[0], "module cut at %zu bytes was accepted", cut);
        if (t) wlrt_module_free(t);
    }
    expect_refused(w, 5, "truncated", "not a WebAssembly module");
    expect_refused(w, n - 3, "truncated", "malformed module: ");
    n = build(w, "wasi_snapshot_preview1", "fd_write", t_i_i, sizeof t_i_i);
    expect_refused(w, n, "mistyped", "import wasi_snapshot_preview1.fd_write: signature (i32) -> i32 "
                                     "does not match host (i32,i32,i32,i32) -> i32");
    n = build(w, "env", "foo", t_i_i, sizeof t_i_i);
    expect_refused(w, n, "unknown", "import env.foo: unknown import module");
    n = build(w, "wasi_snapshot_preview1", "no_such_call", t_i_i, sizeof t_i_i);
    expect_refused(w, n, "missing", "import wasi_snapshot_preview1.no_such_call: the host does not provide");
    n = build(w, "wasi_snapshot_preview1", "fd_write", t_v128, sizeof t_v128);
    expect_refused(w, n, "simd", "SIMD");
    n = build(w, "wasi_snapshot_preview1", "fd_write", t_fdw, sizeof t_fdw);
    w[n - 14] = 'X';   /* "_start" -> "Xstart" */
    expect_refused(w, n, "no-start", "no \"_start\" export");
    n = build(w, "wasi_snapshot_preview1", "fd_write", t_fdw, sizeof t_fdw);
    w[n - 23] = 'M';   /* "memory" -> "Memory" */
    expect_refused(w, n, "no-memory", "does not export its memory");
    uint8_t garbage[4096];
    srand(1);
    for (int round = 0; round < 200; round++) {
        memcpy(garbage, "\0asm\1\0\0\0", 8);
        for (size_t i = 8; i < sizeof garbage; i++) garbage[i] = (uint8_t)rand();
        char e2[256];
        wlrt_module *g = wlrt_module_load_bytes(garbage, 8 + (size_t)(rand() % 4000), "garbage", &g_opt, e2, sizeof e2);
        CHECK(!g, "random bytes were accepted");
        if (g) wlrt_module_free(g);
    }
    expect_refused((const uint8_t *)"hello world, not wasm", 21, "text", "not a WebAssembly module");

    /* mutations of a real module: the reader accepts or refuses, never crashes
     * (run under ASan in CI) */
    char path[1024];
    snprintf(path, sizeof path, "%s/test-rt_traps.wasm", getenv("WASMLET_GUESTS"));
    FILE *f = fopen(path, "rb");
    static uint8_t orig[1 << 20], mut[1 << 20];
    size_t len = f ? fread(orig, 1, sizeof orig, f) : 0;
    if (f) fclose(f);
    CHECK(len > 1000, "cannot read %s", path);
    int accepted = 0, refused = 0;
    for (int round = 0; round < 5000 && len > 1000; round++) {
        memcpy(mut, orig, len);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++) mut[8 + (size_t)rand() % (len - 8)] = (uint8_t)rand();
        size_t l = round % 5 == 0 ? (size_t)rand() % len : len;
        wasm_info wi;
        char e3[256];
        if (wasm_read(mut, l, &wi, e3, sizeof e3)) { accepted++; wasm_info_free(&wi); }
        else refused++;
    }
    printf("mutated modules: %d read, %d refused\n", accepted, refused);
    CHECK(refused > 0, "no mutation was refused");
}

/* ---- host faults are not guest traps ----------------------------------- */

static void crash_child(const char *how) {
    wlrt_module *m = load("test-rt_hostcall.wasm");
    if (!strcmp(how, "import")) run(m, "crash", 0, 0, NULL, 0);
    run(m, "", 0, 0, NULL, 0);
    null_store(2);   /* host code, no guest running */
    exit(0);
}

static void t_hostcrash(void) {
    static const char *const hows[] = {"import", "outside"};
    for (int i = 0; i < 2; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            /* ASan would report the fault itself; we want to see the raw signal */
            setenv("ASAN_OPTIONS", "handle_segv=0:detect_leaks=0", 1);
            execl("/proc/self/exe", "test_rt", "crash-child", hows[i], (char *)NULL);
            _exit(99);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "host NULL dereference (%s): status 0x%x, want death by SIGSEGV",
              hows[i], st);
    }
}

int main(int argc, char **argv) {
    if (!getenv("WASMLET_GUESTS") || !getenv("WLRT_TEST_CACHE")) {
        fprintf(stderr, "test_rt: set WASMLET_GUESTS and WLRT_TEST_CACHE\n");
        return 2;
    }
    g_tables[0] = (wlrt_import_table){wasi_imports, wasi_n_imports};
    g_tables[1] = (wlrt_import_table){test_imports, 3};
    g_opt = (wlrt_options){.cache_dir = getenv("WLRT_TEST_CACHE"), .tables = g_tables, .n_tables = 2};
    const char *t = argc > 1 ? argv[1] : "";
    if (!strcmp(t, "crash-child")) crash_child(argc > 2 ? argv[2] : "");
    else if (!strcmp(t, "traps")) t_traps();
    else if (!strcmp(t, "limits")) t_limits();
    else if (!strcmp(t, "hostcalls")) t_hostcalls();
    else if (!strcmp(t, "cycles")) t_cycles();
    else if (!strcmp(t, "two_guests")) t_two_guests();
    else if (!strcmp(t, "threads")) t_threads();
    else if (!strcmp(t, "refuse")) t_refuse();
    else if (!strcmp(t, "hostcrash")) t_hostcrash();
    else { fprintf(stderr, "test_rt: unknown subtest '%s'\n", t); return 2; }
    printf("%s: %s\n", t, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
