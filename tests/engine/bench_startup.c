/* bench_startup.c: start-up of the engine on the bench models, each start
 * in a fresh process as a user would see it: mapping the model (and its
 * packed weights), making a context and producing the first token of a
 * 1-token prompt; then, after a 512-token prompt, the KV cache's resident
 * bytes and the process's anonymous memory beyond them (the mapped weights
 * are file-backed). The first start finds an empty
 * pack cache (it packs and writes the entry); the others map the entry.
 * Usage: bench_startup DIR (every DIR/tinyllama-*.gguf). BENCH_RUNS
 * (default 5) starts with a warm cache, median reported. The model file is
 * read once beforehand so it is in the page cache, as the target assumes. */
#define _POSIX_C_SOURCE 200809L   /* clock_gettime, setenv, popen */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "llm.h"

enum { PP = 512 };

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static long status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':') v = atol(line + n + 1);
    if (f) fclose(f);
    return v;
}

/* One start: prints "open_ms first_ms anon_beyond_mb kv_mb note". */
static int child(const char *path) {
    double t0 = now_ms();
    char err[512];
    llm_model *m = llm_model_open(path, err, sizeof err);
    if (!m) { fprintf(stderr, "%s: %s\n", path, err); return 1; }
    double t1 = now_ms();
    llm_context_params p = llm_context_default_params();
    p.n_ctx = 2048;
    p.n_threads = 2;
    llm_context *c = llm_context_new(m, &p, err, sizeof err);
    int32_t tok = 1;
    if (!c || !llm_eval(c, &tok, 1, false, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    double t2 = now_ms();
    /* A full prompt, so the scratch buffers are all touched. */
    int32_t *toks = malloc(sizeof(int32_t) * PP);
    const llm_hparams *hp = llm_model_hparams(m);
    for (int i = 0; i < PP; i++) toks[i] = 1 + (i * 7919) % (hp->n_vocab - 1);
    llm_kv_truncate(c, 0);
    if (!llm_eval(c, toks, PP, false, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    const double kv_mb = (double)llm_kv_resident_bytes(c) / (1024.0 * 1024.0);
    printf("%.1f %.1f %.1f %.1f %s\n", t1 - t0, t2 - t1, status_kb("RssAnon") / 1024.0 - kv_mb, kv_mb,
           llm_model_pack_note(m));
    free(toks);
    llm_context_free(c);
    llm_model_free(m);
    return 0;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Run one start in a fresh process; false if it failed. */
static int start(const char *self, const char *path, double v[4], char *note, size_t notelen) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --child '%s'", self, path);
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    char line[1024] = "";
    int ok = fgets(line, sizeof line, f) != NULL;
    ok = pclose(f) == 0 && ok;
    int used = 0;
    ok = ok && sscanf(line, "%lf %lf %lf %lf %n", &v[0], &v[1], &v[2], &v[3], &used) == 4;
    if (ok) {
        line[strcspn(line, "\n")] = 0;
        snprintf(note, notelen, "%s", line + used);
    }
    return ok;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--child") == 0) return child(argv[2]);
    static const char usage[] = "usage: bench_startup DIR\n"
                                "  times open + first token of each .gguf in DIR, each in a fresh process,\n"
                                "  BENCH_RUNS times (1-99, default 5)\n";
    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0') {
        if (argc != 2) fprintf(stderr, "bench_startup: one argument, DIR (see --help)\n");
        else fprintf(stderr, "bench_startup: \"%s\" is %s, not a folder (see --help)\n", argv[1],
                     argv[1][0] ? "an option" : "empty");
        return 2;
    }
    int runs = getenv("BENCH_RUNS") ? atoi(getenv("BENCH_RUNS")) : 5;
    if (runs < 1 || runs > 99) runs = 5;
    char cache[2048], cmd[8192];
    snprintf(cache, sizeof cache, "%s/pack-cache-startup", argv[1]);
    setenv("WASMLET_PACK_CACHE", cache, 1);
    DIR *d = opendir(argv[1]);
    if (!d) { fprintf(stderr, "bench_startup: cannot open %s\n", argv[1]); return 1; }
    printf("\nStart-up (fresh process per start, model in the page cache, 2 threads, n_ctx 2048; "
           "warm: median of %d)\n\n", runs);
    printf("| model | open ms, empty cache | open ms, warm | first token ms, warm | open + first token, warm "
           "| KV MB resident (512 tok) | anon MB beyond KV | weights |\n|---|---:|---:|---:|---:|---:|---:|---|\n");
    int rc = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "tinyllama-", 10) != 0 || n < 6 || strcmp(e->d_name + n - 5, ".gguf") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cat '%s' > /dev/null", cache, path);
        if (system(cmd) != 0) { rc = 1; continue; }
        double cold[4], v[4], open_ms[99], first_ms[99], total_ms[99], anon = 0, kv = 0;
        char note[600], cold_note[600];
        if (!start(argv[0], path, cold, cold_note, sizeof cold_note)) { rc = 1; continue; }
        for (int r = 0; r < runs; r++) {
            if (!start(argv[0], path, v, note, sizeof note)) { rc = 1; break; }
            open_ms[r] = v[0];
            first_ms[r] = v[1];
            total_ms[r] = v[0] + v[1];
            if (v[2] > anon) anon = v[2];
            if (v[3] > kv) kv = v[3];
        }
        qsort(open_ms, (size_t)runs, sizeof *open_ms, cmp);
        qsort(first_ms, (size_t)runs, sizeof *first_ms, cmp);
        qsort(total_ms, (size_t)runs, sizeof *total_ms, cmp);
        const char *how = strstr(note, "cache hit") ? "mapped from the pack cache" : note;
        printf("| %.*s | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %s |\n", (int)(n - 15), e->d_name + 10, cold[0],
               open_ms[runs / 2], first_ms[runs / 2], total_ms[runs / 2], kv, anon, how);
        fflush(stdout);
    }
    closedir(d);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache);
    if (system(cmd) != 0) rc = 1;
    return rc;
}
