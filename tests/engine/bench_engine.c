/* bench_engine.c: the engine on a TinyLlama-1.1B-shaped random model
 * (hidden 2048, 22 layers, 32 heads, 4 KV heads, FFN 5632, vocab 32000)
 * in every supported weight type: prompt processing of 512 tokens and
 * generation of 128 tokens at 1 and 2 threads (median of runs), the
 * machine's read bandwidth, and generation as a fraction of the roofline
 * (weight bytes per token / bandwidth). Models are generated once into
 * DIR and reused. Usage: bench_engine DIR [all | TYPE...]; without types
 * the three headline ones (Q4_0, Q4_K_M, Q8_0), "all" runs F32, F16,
 * BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K_M, Q5_K (pure) and Q6_K
 * (pure) too.
 * On a shared machine other work lowers both the bandwidth and the token
 * rates; the bandwidth is measured again after each model and the best
 * figure kept (the machine's capability), each generation run is also
 * held against the bandwidth probed just before and after it, and the
 * load average is printed so a reader can judge the conditions.
 * Also per model: the time to open it (mapping plus any repacking of the
 * weights) and to produce the first token of a 1-token prompt, and, with
 * BENCH_LONG=1, generation at position 2000 against position 50 (2
 * threads; the prompt of 2000 tokens is evaluated once).
 * Environment: BENCH_RUNS (default 3), BENCH_TG (tokens generated per
 * run, default 128), BENCH_LONG, BENCH_KV=f32|f16 (the KV cache's type,
 * as wasmlet-llm --kv-f32 / --kv-f16; the default is the engine's auto),
 * BENCH_FRESH=1 (drop the model file and the pack cache's entries from the
 * page cache first, then open the model once before measuring).
 * The table also gives the share of the weights' resident pages that the
 * process maps as 2 MB pages: see huge_share(). */
#define _GNU_SOURCE   /* clock_gettime, posix_fadvise */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bandwidth.h"
#include "kernels.h"
#include "llm.h"
#include "pack_cache.h"
#include "synth.h"

enum { PP = 512, MAX_TYPES = 16 };
static int TG = 128;

/* The engine's defaults, with the KV cache type BENCH_KV asks for. */
static llm_context_params bench_params(void) {
    llm_context_params p = llm_context_default_params();
    const char *e = getenv("BENCH_KV");
    p.kv_type = !e ? LLM_KV_AUTO : strcmp(e, "f32") == 0 ? LLM_KV_F32 : strcmp(e, "f16") == 0 ? LLM_KV_F16
                                                                                         : LLM_KV_AUTO;
    return p;
}
static const char *kv_name(void) {
    const llm_kv_type t = bench_params().kv_type;
    return t == LLM_KV_F32 ? "F32" : t == LLM_KV_F16 ? "F16" : "auto (F16 for quantized weights, else F32)";
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Keep the best of repeated measurements: other work only lowers them. */
static void measure_bw(double bw[3]) {
    for (int t = 1; t <= 2; t++) {
        double b = kn_read_bandwidth(t, 0, 5);
        if (b > bw[t]) bw[t] = b;
    }
}

static const char *loadavg(void) {
    static char buf[128];
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f || !fgets(buf, sizeof buf, f)) snprintf(buf, sizeof buf, "unknown\n");
    if (f) fclose(f);
    return buf;
}

/* Percent of the resident pages of the weights a token streams that the
 * process maps as 2 MB pages, or -1 if unknown: the pack cache's entries
 * if the model has any (quantized weights are streamed from there), else
 * the model file (from /proc/self/smaps). The engine maps weights so
 * that they can be huge (hugemap.h), but the page cache holds a file in
 * 2 MB pieces only if memory allowed it when the file was written or
 * read back: after memory pressure a part may sit in small pages, and a
 * token then costs more (on this machine a 1-thread Q4_0 token 5-8%: 66%
 * of its entry in 2 MB pages read 63-68 tok/s, 100% read 68-70 in the
 * same hour). BENCH_FRESH=1 reads each model back first. */
static double huge_share(const char *model_file) {
    char model_path[4096];
    if (!realpath(model_file, model_path)) return -1;   /* smaps names files by their real paths */
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[1024];
    int kind = 0;   /* of the current mapping: 1 model file, 2 pack entry */
    double rss[3] = {0}, pmd[3] = {0};
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        char path[900] = "";
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %899[^\n]", &a, &b, path) >= 2) {
            size_t n = strlen(path);
            if (n > 10 && strcmp(path + n - 10, " (deleted)") == 0) path[n -= 10] = 0;   /* an entry replaced since */
            kind = strcmp(path, model_path) == 0 ? 1 : n > 5 && strcmp(path + n - 5, ".pack") == 0 ? 2 : 0;
            continue;
        }
        double kb;
        if (kind && sscanf(line, "Rss: %lf", &kb) == 1) rss[kind] += kb;
        if (kind && sscanf(line, "FilePmdMapped: %lf", &kb) == 1) pmd[kind] += kb;
    }
    fclose(f);
    const int k = rss[2] > 0 ? 2 : 1;
    return rss[k] > 0 ? 100.0 * pmd[k] / rss[k] : -1;
}

/* Drop a file's pages from the page cache (pages other processes map
 * stay). */
static void evict(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    fdatasync(fd);   /* dirty pages (a file just written) would stay */
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

static void evict_model(const char *path) {
    evict(path);
    char dir[4096], note[256];
    if (!pack_cache_dir(dir, sizeof dir, note, sizeof note)) return;
    DIR *d = opendir(dir);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".pack") != 0) continue;
        char p[4096 + 256];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        evict(p);
    }
    closedir(d);
}

static bool ensure_model(const char *path, const char *type) {
    struct stat st;
    if (stat(path, &st) == 0) return true;
    fprintf(stderr, "bench-engine: generating %s (once; it is cached)\n", path);
    char *argv[] = {"synth", "-o", (char *)path, "--layers", "22", "--dim", "2048", "--heads", "32",
                    "--kv-heads", "4", "--ffn", "5632", "--vocab", "32000", "--ctx", "2048",
                    "--type", (char *)type, "--seed", "1", NULL};
    return pack_synth((int)(sizeof argv / sizeof argv[0]) - 1, argv) == 0;
}

/* The read bandwidth right now, with as many threads as the run uses.
 * On this kind of VM the 2-thread figure moves between two levels
 * (~45 and ~65 GB/s) within seconds, with where the host runs the two
 * vCPUs; a best-of-run bandwidth then makes a run that met the low level
 * look slow, so each generation run is also held against probes taken
 * just before and after it (the higher of the two). The probe's buffer is
 * the default 512 MiB: until session 8 it was 128 MiB, which the L3 partly
 * held (1 thread 43-47 GB/s against 40-43 from 512 MiB up), so the figures
 * around each run were held against 4-8% too much. */
static double probe_bw(int threads) { return kn_read_bandwidth(threads, 0, 3); }

/* tokens/s of prompt processing and generation: medians over runs, the
 * best run (on a shared machine the closest to what it can do), and the
 * median over runs of generation against the bandwidth probed around it
 * (percent). */
static bool measure(const llm_model *m, double mb, int threads, int runs, double *pp, double *tg,
                    double *tg_best, double *tg_pct_now) {
    llm_context_params p = bench_params();
    p.n_ctx = PP + TG + 8;
    p.n_threads = threads;
    p.n_batch = PP;
    char err[256];
    llm_context *c = llm_context_new(m, &p, err, sizeof err);
    if (!c) { fprintf(stderr, "bench-engine: %s\n", err); return false; }
    int32_t prompt[PP];
    for (int i = 0; i < PP; i++) prompt[i] = 3 + (i * 7919) % 30000;
    double pps[16], tgs[16], pct[16];
    for (int r = 0; r < runs; r++) {
        llm_kv_truncate(c, 0);
        double t0 = now_s();
        if (!llm_eval(c, prompt, PP, false, err, sizeof err)) { fprintf(stderr, "%s\n", err); break; }
        double t1 = now_s();
        /* Generation continues after a short prompt, as a chat turn would. */
        llm_kv_truncate(c, 16);
        int32_t tok = prompt[16];
        const double bw_before = probe_bw(threads);
        double t2 = now_s();
        for (int i = 0; i < TG; i++) {
            if (!llm_eval(c, &tok, 1, false, err, sizeof err)) { fprintf(stderr, "%s\n", err); break; }
            tok = 3 + (tok * 31) % 30000;
        }
        double t3 = now_s();
        const double bw_after = probe_bw(threads), bw_now = bw_before > bw_after ? bw_before : bw_after;
        pps[r] = PP / (t1 - t0);
        tgs[r] = TG / (t3 - t2);
        pct[r] = 100.0 * tgs[r] * mb / (bw_now * 1e3);
        fprintf(stderr, "  run %d: pp %.2f tok/s, tg %.2f tok/s (bandwidth around it %.1f/%.1f GB/s: %.1f%%)\n",
                r + 1, pps[r], tgs[r], bw_before, bw_after, pct[r]);
    }
    *pp = median(pps, runs);
    *tg = median(tgs, runs);
    *tg_best = tgs[runs - 1];   /* median() sorted them */
    *tg_pct_now = median(pct, runs);
    llm_context_free(c);
    return true;
}

/* Generation rate at positions pos..pos+n; the cache holds at least pos
 * positions (truncation only shortens it). */
static double gen_at(llm_context *c, int pos, int n) {
    char err[256];
    llm_kv_truncate(c, pos);
    int32_t tok = 5;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        if (!llm_eval(c, &tok, 1, false, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 0; }
        tok = 3 + (tok * 31) % 30000;
    }
    return n / (now_s() - t0);
}

/* Medians of each position's rates, and the median of the per-run ratios
 * (runs are interleaved pairs: with the 2-thread bandwidth moving between
 * levels, a ratio of separate medians can pair a fast and a slow run).
 * Each position has its own context: generating at 50 in the long one
 * would leave it 82 positions long, and every later "position 2000" run
 * would really run at 82 (the mistake this bench made until session 5). */
static void long_context(const llm_model *m, int runs, double *at50, double *at2000, double *ratio,
                         const char **kv) {
    enum { LONG = 2000, SHORT = 50 };
    llm_context_params p = bench_params();
    p.n_ctx = LONG + 64;
    p.n_threads = 2;
    char err[256] = "out of memory";
    llm_context *c = llm_context_new(m, &p, err, sizeof err);
    llm_context *cs = c ? llm_context_new(m, &p, err, sizeof err) : NULL;
    static int32_t prompt[LONG];
    for (int i = 0; i < LONG; i++) prompt[i] = 3 + (i * 7919) % 30000;
    *at50 = *at2000 = *ratio = 0;
    if (!cs || !llm_eval(c, prompt, LONG, false, err, sizeof err) ||
        !llm_eval(cs, prompt, SHORT, false, err, sizeof err)) {
        fprintf(stderr, "bench-engine: long context: %s\n", err);
        llm_context_free(c);
        llm_context_free(cs);
        return;
    }
    *kv = llm_context_kv_type(c) == GGML_F16 ? "F16" : "F32";
    double a[16], b[16], q[16];
    for (int r = 0; r < runs; r++) {   /* interleaved, so load changes hit both */
        b[r] = gen_at(c, LONG, 32);
        a[r] = gen_at(cs, SHORT, 32);
        q[r] = a[r] > 0 ? b[r] / a[r] : 0;
        fprintf(stderr, "  long context run %d: pos 50 %.2f tok/s, pos 2000 %.2f tok/s\n", r + 1, a[r], b[r]);
    }
    *at50 = median(a, runs);
    *at2000 = median(b, runs);
    *ratio = median(q, runs);
    llm_context_free(c);
    llm_context_free(cs);
}

static const char usage[] =
    "usage: bench_engine DIR [all | TYPE...]\n"
    "  DIR holds the generated bench models (made once, kept); TYPE is one of\n"
    "  F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K_M Q5_K Q6_K (default Q4_0 Q4_K_M Q8_0).\n"
    "  Environment: BENCH_RUNS (runs per figure, 1-16, default 3), BENCH_TG (generated\n"
    "  tokens, 8-1024, default 128), BENCH_LONG=1 (position 2000 against 50),\n"
    "  BENCH_FRESH=1 (models dropped from the page cache and read back first),\n"
    "  BENCH_KV=f32|f16 (KV cache type; default auto).\n";

static bool is_type(const char *name, const char *const *all, int n_all) {
    for (int k = 0; k < n_all; k++)
        if (strcmp(name, all[k]) == 0) return true;
    return false;
}

int main(int argc, char **argv) {
    static const char *headline[] = {"Q4_0", "Q4_K_M", "Q8_0"};
    static const char *all[] = {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0",
                                "Q5_1", "Q8_0", "Q4_K_M", "Q5_K", "Q6_K"};
    const int n_all = (int)(sizeof all / sizeof all[0]);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    /* DIR is created and filled with gigabytes of models: a flag, an
     * empty name or a type name (DIR forgotten) is never taken for it. */
    if (argc < 2) {
        fprintf(stderr, "bench-engine: DIR missing (see --help)\n");
        return 2;
    }
    const char *dir = argv[1];
    if (dir[0] == '-' || dir[0] == '\0' || strcmp(dir, "all") == 0 || is_type(dir, all, n_all)) {
        fprintf(stderr, "bench-engine: DIR \"%s\" is %s, not a folder for the models (see --help)\n", dir,
                dir[0] == '-' ? "an option" : dir[0] ? "a type list" : "empty");
        return 2;
    }
    const char **types = (const char **)headline;
    int n_types = 3;
    if (argc == 3 && strcmp(argv[2], "all") == 0) {
        types = (const char **)all;
        n_types = n_all;
    } else if (argc > 2) {
        if (argc - 2 > MAX_TYPES) {
            fprintf(stderr, "bench-engine: at most %d types\n", MAX_TYPES);
            return 2;
        }
        types = (const char **)argv + 2;
        n_types = argc - 2;
        for (int i = 0; i < n_types; i++)
            if (!is_type(types[i], all, n_all)) {
                fprintf(stderr, "bench-engine: unknown type %s (see --help)\n", types[i]);
                return 2;
            }
    }
    mkdir(dir, 0755);
    int runs = getenv("BENCH_RUNS") ? atoi(getenv("BENCH_RUNS")) : 3;
    if (runs < 1 || runs > 16) runs = 3;
    if (getenv("BENCH_TG")) TG = atoi(getenv("BENCH_TG"));
    if (TG < 8 || TG > 1024) TG = 128;

    const kn_ops *kn = kn_get();
    double bw[3] = {0};
    measure_bw(bw);
    printf("kernels: %s (cpu: %s)\n", kn ? kn->name : "none", kn_cpu_features());
    printf("load average at start: %s", loadavg());
    printf("TinyLlama-1.1B shape, random weights; pp %d tokens, tg %d tokens; median of %d runs; KV cache %s\n\n",
           PP, TG, runs, kv_name());
    double pp_r[MAX_TYPES][3], tg_r[MAX_TYPES][3], tgb_r[MAX_TYPES][3], tgn_r[MAX_TYPES][3], mb[MAX_TYPES], open_ms[MAX_TYPES],
        first_ms[MAX_TYPES], l50[MAX_TYPES], l2000[MAX_TYPES], lratio[MAX_TYPES], huge[MAX_TYPES];
    const char *kvt[MAX_TYPES];
    const bool longctx = getenv("BENCH_LONG") && atoi(getenv("BENCH_LONG")) > 0;
    const bool fresh = getenv("BENCH_FRESH") && atoi(getenv("BENCH_FRESH")) > 0;
    for (int i = 0; i < n_types; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tinyllama-%s.gguf", dir, types[i]);
        if (!ensure_model(path, types[i])) return 1;
        char err[512];
        if (fresh) {   /* read back through the engine's mapping, then measure as usual */
            evict_model(path);
            llm_model *w = llm_model_open(path, err, sizeof err);
            if (!w) { fprintf(stderr, "bench-engine: %s: %s\n", path, err); return 1; }
            llm_context_params p = bench_params();
            llm_context *c = llm_context_new(w, &p, err, sizeof err);
            int32_t tok = 1;
            if (!c || !llm_eval(c, &tok, 1, false, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
            llm_context_free(c);
            llm_model_free(w);
        }
        double t0 = now_s();
        llm_model *m = llm_model_open(path, err, sizeof err);
        if (!m) { fprintf(stderr, "bench-engine: %s: %s\n", path, err); return 1; }
        double t1 = now_s();
        {
            llm_context_params p = bench_params();
            p.n_ctx = 2048;
            llm_context *c = llm_context_new(m, &p, err, sizeof err);
            int32_t tok = 1;
            if (!c || !llm_eval(c, &tok, 1, false, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
            llm_context_free(c);
        }
        open_ms[i] = (t1 - t0) * 1e3;
        first_ms[i] = (now_s() - t1) * 1e3;
        mb[i] = (double)llm_model_weight_bytes(m) / 1e6;
        for (int t = 1; t <= 2; t++) {
            fprintf(stderr, "%s, %d thread(s):\n", types[i], t);
            if (!measure(m, mb[i], t, runs, &pp_r[i][t], &tg_r[i][t], &tgb_r[i][t], &tgn_r[i][t])) return 1;
        }
        l50[i] = l2000[i] = lratio[i] = 0;
        kvt[i] = "-";
        if (longctx) long_context(m, runs, &l50[i], &l2000[i], &lratio[i], &kvt[i]);
        /* Weights packed into anonymous memory (no usable cache) are not in
         * files: the column would describe the model file's leftovers. */
        huge[i] = strncmp(llm_model_pack_note(m), "packed in memory", 16) == 0 ? -2 : huge_share(path);
        llm_model_free(m);
        measure_bw(bw);
    }
    printf("memory read bandwidth (best of the measurements): %.2f GB/s (1 thread), "
           "%.2f GB/s (2 threads)\n", bw[1], bw[2]);
    printf("load average at end: %s", loadavg());
    printf("| type   | weights MB | threads | pp tok/s | tg tok/s | tg roofline tok/s | tg %% of roofline | best tg tok/s (%% of roofline) | tg %% of bandwidth around each run |\n");
    printf("|--------|-----------:|--------:|---------:|---------:|------------------:|-----------------:|------------------------------:|----------------------------------:|\n");
    for (int i = 0; i < n_types; i++)
        for (int t = 1; t <= 2; t++) {
            double roof = bw[t] * 1e3 / mb[i];
            printf("| %-6s | %10.0f | %7d | %8.2f | %8.2f | %17.2f | %15.1f%% | %19.2f (%5.1f%%) | %32.1f%% |\n",
                   types[i], mb[i], t, pp_r[i][t], tg_r[i][t], roof, 100.0 * tg_r[i][t] / roof,
                   tgb_r[i][t], 100.0 * tgb_r[i][t] / roof, tgn_r[i][t]);
        }
    printf("\n| type   | open ms (map + repack) | first token ms | weights in 2 MB pages | KV cache | tg at pos 50 | tg at pos 2000 | ratio (median of runs) |\n");
    printf("|--------|-----------------------:|---------------:|----------------------:|---------:|-------------:|---------------:|-----------------------:|\n");
    for (int i = 0; i < n_types; i++) {
        char hs[32] = "unknown";
        if (huge[i] >= 0) snprintf(hs, sizeof hs, "%.0f%%", huge[i]);
        else if (huge[i] == -2) snprintf(hs, sizeof hs, "n/a (in memory)");
        printf("| %-6s | %22.0f | %14.0f | %21s | %8s | %12.2f | %14.2f | %22.2f |\n", types[i], open_ms[i], first_ms[i],
               hs, kvt[i], l50[i], l2000[i], lratio[i]);
    }
    return 0;
}
