/* tb.h: helpers shared by the bundle tests: checks, temp dirs, generated
 * inputs (a minimal WASI command module, small GGUF models through the GGUF
 * writer), running wasmlet-pack subcommands in-process. */
#ifndef WASMLET_TESTS_TB_H
#define WASMLET_TESTS_TB_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gguf.h"
#include "pack_cmds.h"

static int tb_failures;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            tb_failures++;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

/* err must mention want. */
#define CHECK_ERR(ok, err, want)                                                         \
    do {                                                                                 \
        CHECK(!(ok), "expected a failure mentioning \"%s\"", want);                      \
        CHECK(strstr((err), (want)) != NULL, "message \"%s\" lacks \"%s\"", (err), want); \
    } while (0)

static char tb_dir[256];

static inline void tb_rmrf(const char *p) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p);
    if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", p);
}

static inline void tb_cleanup(void) {
    if (tb_dir[0] && !getenv("TB_KEEP")) tb_rmrf(tb_dir);
}

static inline const char *tb_tmpdir(void) {
    snprintf(tb_dir, sizeof tb_dir, "/tmp/wasmlet-bundle-test-XXXXXX");
    if (!mkdtemp(tb_dir)) {
        perror("mkdtemp");
        exit(1);
    }
    atexit(tb_cleanup);
    /* Keep the verified-cache and trusted keys inside the test's sandbox. */
    char p[400];
    snprintf(p, sizeof p, "%s/cache", tb_dir);
    setenv("WASMLET_CACHE_DIR", p, 1);
    snprintf(p, sizeof p, "%s/config", tb_dir);
    setenv("XDG_CONFIG_HOME", p, 1);
    return tb_dir;
}

static inline char *tb_path(const char *name) {
    static char bufs[128][512];   /* a ring: callers keep a few dozen at once */
    static int k;
    char *b = bufs[k++ % 128];
    snprintf(b, 512, "%s/%s", tb_dir, name);
    return b;
}

static inline bool tb_write(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return false;
    bool ok = fwrite(p, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static inline uint8_t *tb_read(const char *path, size_t *n) {
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)l + 1);
    if (b && fread(b, 1, (size_t)l, f) != (size_t)l) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[l] = 0;
    *n = (size_t)l;
    return b;
}

static inline bool tb_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Entries in a directory other than . and .. */
static inline int tb_count_entries(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls -A '%s' 2>/dev/null | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

/* A minimal WASI command module: one () -> () function exported as
 * "_start", one memory exported as "memory", and a ".debug_x" custom
 * section (which --optimize strips). */
static const uint8_t tb_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                 /* type: () -> () */
    0x03, 0x02, 0x01, 0x00,                             /* func 0: type 0 */
    0x05, 0x03, 0x01, 0x00, 0x01,                       /* memory: min 1 */
    0x07, 0x13, 0x02, 0x06, '_', 's', 't', 'a', 'r', 't', 0x00, 0x00,
    0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00,     /* exports */
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b,                 /* code: empty body */
    0x00, 0x0d, 0x08, '.', 'd', 'e', 'b', 'u', 'g', '_', 'x', 'h', 'e', 'l', 'o', /* custom */
};

/* A small llama-shaped GGUF; vocab adds tokenizer.ggml.tokens. */
static inline bool tb_make_gguf(const char *path, bool vocab, uint32_t ctx, uint32_t seed) {
    char err[256];
    gguf_writer *w = gguf_writer_new(32);
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_u32(w, "llama.context_length", ctx);
    if (vocab) {
        const char *toks[] = {"<unk>", "<s>", "</s>", "a", "b", "c"};
        gguf_w_arr(w, "tokenizer.ggml.tokens", GGUF_T_STRING, toks, 6);
        gguf_w_str(w, "tokenizer.ggml.model", "llama");
    }
    float data[64 * 4];
    for (int i = 0; i < 64 * 4; i++) data[i] = (float)((i * 7 + (int)seed) % 13) / 13.0f;
    uint64_t ne[2] = {64, 4};
    gguf_w_tensor(w, "token_embd.weight", GGML_F32, 2, ne, data, sizeof data);
    uint64_t ne2[1] = {64};
    gguf_w_tensor(w, "output_norm.weight", GGML_F32, 1, ne2, data, 64 * sizeof(float));
    bool ok = gguf_writer_write_file(w, path, err, sizeof err);
    if (!ok) fprintf(stderr, "tb_make_gguf: %s\n", err);
    gguf_writer_free(w);
    return ok;
}

/* Runs a subcommand in-process: tb_run(pack_cmd_build, "build", "--wasm", x, NULL). */
static inline int tb_run(int (*cmd)(int, char **), ...) {
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, cmd);
    const char *a;
    while ((a = va_arg(ap, const char *)) && argc < 63) argv[argc++] = strdup(a);
    va_end(ap);
    argv[argc] = NULL;
    fflush(stdout);
    int r = cmd(argc, argv);
    fflush(stdout);
    for (int i = 0; i < argc; i++) free(argv[i]);
    return r;
}

/* Runs a subcommand with stdout sent to a file. */
static inline int tb_run_to(const char *out, int (*cmd)(int, char **), const char *a0, const char *a1, const char *a2) {
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    int r = tb_run(cmd, a0, a1, a2, NULL);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    return r;
}

/* Runs a shell command, returns its exit status. */
static inline int tb_sh(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int s = system(cmd);
    return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
}

static inline int tb_finish(const char *name) {
    if (tb_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, tb_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

#endif
