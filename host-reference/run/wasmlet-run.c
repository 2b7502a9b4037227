/* wasmlet-run: run a wasm32-wasi command module or a signed bundle.
 *   wasmlet-run [options] app.wasm [args...]
 *   wasmlet-run [options] app.wasmlet [args...]
 * Exit status: the guest's exit code, or 2 (bad command line), 126 (module
 * or bundle refused, or not compilable), 200+n (trap n), 210 (timeout), 211
 * (memory limit). See docs/execution.md and docs/bundle.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nn.h"
#include "run_bundle.h"
#include "wasi.h"
#include "wlrt.h"

#define MAX_DIRS 64
#define MAX_ENVS 1024
#define MAX_PRELOADS 64
#define MAX_TRUST 64
#define BUNDLE_GUEST_DIR "/bundle"   /* where a bundle's tokenizer appears */

static void usage(FILE *f) {
    fprintf(f,
            "usage: wasmlet-run [options] app.wasm [args...]\n"
            "  --dir HOST[:GUEST][:ro]  grant a directory (repeatable; GUEST defaults to HOST)\n"
            "  --env K=V                set a guest environment variable (repeatable)\n"
            "  --max-memory SIZE        cap the guest's memory (e.g. 256M, 1G; default 4G)\n"
            "  --timeout SECONDS        stop the guest after this wall-clock time\n"
            "  --nn-preload A:GGML:AUTO:PATH  register a model for WASI-NN under alias A (repeatable)\n"
            "  --nn-compat=wasmedge-0.14     a zero output buffer size means \"large enough\" (old LlamaEdge)\n"
            "  --trust KEY.pub          trust this public key for bundles (repeatable; also\n"
            "                           ~/.config/wasmlet/trusted-keys/*.pub)\n"
            "  --allow-unsigned         run a bundle that carries no signature\n"
            "  --verify-full            re-hash every bundle member even if this file was verified before\n"
            "  --precompile             translate and compile into the cache, then exit\n"
            "  --cache-dir DIR          compile cache folder (default $XDG_CACHE_HOME/wasmlet/modules)\n"
            "  -v, --verbose            say whether the cache was hit\n"
            "  -h, --help               this help\n");
}

static int bad(const char *fmt, const char *arg) {
    fprintf(stderr, "wasmlet-run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see wasmlet-run -h)\n");
    return WLRT_EXIT_USAGE;
}

/* "256M" -> bytes; 0 on a bad size. */
static uint64_t parse_size(const char *s) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-') return 0;
    uint64_t mul = 1;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': mul = 1ull << 10; end++; break;
    case 'm': case 'M': mul = 1ull << 20; end++; break;
    case 'g': case 'G': mul = 1ull << 30; end++; break;
    default: return 0;
    }
    if (*end == 'i' || *end == 'B') end += (*end == 'i') ? (end[1] == 'B' ? 2 : 1) : 1;
    if (*end || v > (1ull << 40) / mul) return 0;
    return v * mul;
}

/* "1.5" -> 1500 ms; 0 on a bad value. */
static uint64_t parse_seconds(const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 1e7) return 0;
    uint64_t ms = (uint64_t)(v * 1000.0 + 0.5);
    return ms ? ms : 1;
}

static int parse_dir(char *arg, wasi_preopen *p) {
    size_t n = strlen(arg);
    p->readonly = 0;
    if (n > 3 && strcmp(arg + n - 3, ":ro") == 0) {
        p->readonly = 1;
        arg[n - 3] = 0;
    }
    char *colon = strchr(arg, ':');
    if (colon) *colon = 0;
    p->host_path = arg;
    p->guest_path = colon ? colon + 1 : arg;
    return arg[0] != 0 && p->guest_path[0] != 0;
}

/* File scope: they (and the strings they point to) live as long as the run. */
static wasi_preopen dirs[MAX_DIRS];
static const char *envs[MAX_ENVS];
static const char *preloads[MAX_PRELOADS];
static const char *trust[MAX_TRUST];

/* A bundle asks for capabilities; the operator grants some of them. A
 * grant the bundle did not ask for is refused; a read-only request stays
 * read-only whatever the grant says. */
static int apply_manifest(const manifest *m, int ndirs, int *nenvs, uint64_t *max_mem, uint64_t *timeout_ms) {
    for (int d = 0; d < ndirs; d++) {
        const manifest_dir *want = NULL;
        for (size_t k = 0; k < m->n_dirs; k++)
            if (strcmp(m->dirs[k].guest_path, dirs[d].guest_path) == 0) want = &m->dirs[k];
        if (!want) {
            fprintf(stderr, "wasmlet-run: --dir %s: the bundle does not ask for directory '%s' "
                    "(wasmlet-pack inspect lists what it asks for)\n", dirs[d].host_path, dirs[d].guest_path);
            return WLRT_EXIT_USAGE;
        }
        if (want->readonly) dirs[d].readonly = 1;
    }
    /* The bundle's variables, unless the operator's --env sets the same
     * name (one value per name: the guest's getenv would take the first):
     * WASMLET_TOKENIZER (the tokenizer is granted read-only as
     * /bundle/<name>, a virtual file over the mapping), then the manifest's. */
    const char *slash = strrchr(m->tokenizer, '/');
    int nop = *nenvs;
    for (size_t k = 0; k <= m->n_env; k++) {
        const char *key = k ? m->env[k - 1].key : "WASMLET_TOKENIZER";
        const char *dir = k ? "" : BUNDLE_GUEST_DIR "/";
        const char *val = k ? m->env[k - 1].value : slash ? slash + 1 : m->tokenizer;
        size_t kl = strlen(key);
        int set_by_operator = 0;
        for (int o = 0; o < nop; o++)
            if (strncmp(envs[o], key, kl) == 0 && envs[o][kl] == '=') set_by_operator = 1;
        if (set_by_operator) continue;
        if (*nenvs == MAX_ENVS) {
            fprintf(stderr, "wasmlet-run: too many environment variables\n");
            return WLRT_EXIT_USAGE;
        }
        size_t n = kl + strlen(dir) + strlen(val) + 2;
        char *kv = malloc(n);
        if (!kv) return WLRT_EXIT_REFUSED;
        snprintf(kv, n, "%s=%s%s", key, dir, val);
        envs[(*nenvs)++] = kv;
    }
    /* Limits: the stricter of the bundle's and the operator's. */
    if (m->max_memory && (!*max_mem || m->max_memory < *max_mem)) *max_mem = m->max_memory;
    uint64_t t = m->timeout_seconds * 1000;   /* manifest_validate bounds it to 1e7 s */
    if (t && (!*timeout_ms || t < *timeout_ms)) *timeout_ms = t;
    return 0;
}

int main(int argc, char **argv) {
    int ndirs = 0, nenvs = 0, npreloads = 0, ntrust = 0, precompile = 0, verbose = 0;
    int compat = 0, allow_unsigned = 0, verify_full = 0;
    uint64_t max_mem = 0, timeout_ms = 0;
    const char *cache_dir = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        int has_val = i + 1 < argc;
        if (strcmp(a, "--") == 0) { i++; break; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); return 0; }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) { verbose = 1; continue; }
        if (strcmp(a, "--precompile") == 0) { precompile = 1; continue; }
        if (strcmp(a, "--allow-unsigned") == 0) { allow_unsigned = 1; continue; }
        if (strcmp(a, "--verify-full") == 0) { verify_full = 1; continue; }
        if (strncmp(a, "--nn-compat", 11) == 0) {
            const char *v = a[11] == '=' ? a + 12 : a[11] == 0 && has_val ? argv[++i] : NULL;
            if (!v || strcmp(v, "wasmedge-0.14") != 0)
                return bad("%s: the only compatibility mode is --nn-compat=wasmedge-0.14", a);
            compat = 1;
            continue;
        }
        if (strcmp(a, "--nn-preload") == 0 || strcmp(a, "--trust") == 0) {
            if (!has_val) return bad("%s needs a value", a);
            if (a[2] == 'n') {
                if (npreloads == MAX_PRELOADS) return bad("too many --nn-preload (the limit is %s)", "64");
                preloads[npreloads++] = argv[++i];
            } else {
                if (ntrust == MAX_TRUST) return bad("too many --trust (the limit is %s)", "64");
                trust[ntrust++] = argv[++i];
            }
            continue;
        }
        if (strcmp(a, "--dir") == 0 || strcmp(a, "--env") == 0 || strcmp(a, "--max-memory") == 0 ||
            strcmp(a, "--timeout") == 0 || strcmp(a, "--cache-dir") == 0) {
            if (!has_val) return bad("%s needs a value", a);
            char *v = argv[++i];
            if (strcmp(a, "--dir") == 0) {
                if (ndirs == MAX_DIRS) return bad("too many --dir (the limit is %s)", "64");
                char *copy = strdup(v);   /* split in place; lives as long as the run */
                if (!copy || !parse_dir(copy, &dirs[ndirs++])) return bad("--dir %s: expected HOST[:GUEST][:ro]", v);
            } else if (strcmp(a, "--env") == 0) {
                if (nenvs == MAX_ENVS) return bad("too many --env (the limit is %s)", "1024");
                if (!strchr(v, '=') || v[0] == '=') return bad("--env %s: expected KEY=VALUE", v);
                envs[nenvs++] = v;
            } else if (strcmp(a, "--max-memory") == 0) {
                if (!(max_mem = parse_size(v)) || max_mem < 65536)
                    return bad("--max-memory %s: expected a size of at least 64K such as 256M or 1G", v);
            } else if (strcmp(a, "--timeout") == 0) {
                if (!(timeout_ms = parse_seconds(v))) return bad("--timeout %s: expected a positive number of seconds", v);
            } else {
                cache_dir = v;
            }
            continue;
        }
        return bad("unknown option %s", a);
    }
    if (i >= argc) return bad("%s", "missing app.wasm");
    const char *path = argv[i];

    char err[1024];
    nn_registry *reg = nn_registry_new();
    if (!reg) return WLRT_EXIT_REFUSED;
    for (int k = 0; k < npreloads; k++) {
        if (!nn_registry_preload(reg, preloads[k], err, sizeof err)) {
            nn_registry_free(reg);
            return bad("%s", err);
        }
    }

    wlrt_import_table tables[] = {{wasi_imports, wasi_n_imports}, {nn_imports, nn_n_imports}};
    wlrt_options opt = {.cache_dir = cache_dir, .tables = tables, .n_tables = 2,
                        .progress = 1, .verbose = verbose};
    run_bundle rb = {0};
    bool is_bundle = run_is_bundle(path);
    wlrt_module *m = NULL;
    if (is_bundle) {
        if (!run_bundle_open(&rb, path, trust, (size_t)ntrust, allow_unsigned, verify_full, reg, err, sizeof err)) {
            fprintf(stderr, "wasmlet-run: %s\n", err);
            nn_registry_free(reg);
            return WLRT_EXIT_REFUSED;
        }
        int rc = apply_manifest(rb.m, ndirs, &nenvs, &max_mem, &timeout_ms);
        if (rc) {
            nn_registry_free(reg);
            run_bundle_close(&rb);
            return rc;
        }
        m = wlrt_module_load_bytes(rb.wasm, rb.wasm_len, path, &opt, err, sizeof err);
    } else {
        if (ntrust || allow_unsigned || verify_full) {
            nn_registry_free(reg);
            return bad("%s is a wasm module: --trust, --allow-unsigned and --verify-full are for bundles", path);
        }
        m = wlrt_module_load(path, &opt, err, sizeof err);
    }
    int status = WLRT_EXIT_REFUSED;
    wasi_ctx *ctx = NULL;
    nn_host *nh = NULL;
    wlrt_instance *inst = NULL;
    if (!m) {
        fprintf(stderr, "wasmlet-run: %s\n", err);
        goto out;
    }
    if (precompile) {
        if (verbose || isatty(2))
            fprintf(stderr, "wasmlet-run: %s is %s\n", path,
                    wlrt_module_was_compiled(m) ? "compiled and cached" : "already cached");
        status = 0;
        goto out;
    }

    /* A closed pipe is the guest's business: its write gets EPIPE, the
     * host does not die of SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    /* The guest sees its program name, not where the host keeps it. */
    const char *slash = strrchr(path, '/');
    argv[i] = (char *)(slash ? slash + 1 : path);
    wasi_config cfg = {.argc = argc - i, .argv = (const char *const *)argv + i,
                       .envc = nenvs, .envp = envs, .preopens = dirs, .n_preopens = ndirs,
                       .fd_stdin = 0, .fd_stdout = 1, .fd_stderr = 2};
    ctx = wasi_ctx_new(&cfg, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, "wasmlet-run: %s\n", err);
        status = WLRT_EXIT_USAGE;
        goto out;
    }
    if (is_bundle) {
        const char *slash = strrchr(rb.m->tokenizer, '/');
        if (wasi_ctx_add_vfile(ctx, BUNDLE_GUEST_DIR, slash ? slash + 1 : rb.m->tokenizer, rb.tokenizer,
                               rb.tokenizer_len, err, sizeof err) != 0) {
            fprintf(stderr, "wasmlet-run: %s: %s\n", path, err);
            goto out;
        }
    }
    nn_params np = {.compat_unbounded_output = compat != 0,
                    .ctx_cap = is_bundle ? (int64_t)rb.m->ctx_size : 0};   /* bounded by the manifest */
    nh = nn_host_new(reg, &np);
    if (!nh) goto out;
    wlrt_binding b[] = {{"wasi_snapshot_preview1", ctx}, {"wasi_ephemeral_nn", nh}};
    inst = wlrt_instance_new(m, b, 2, max_mem ? max_mem : ((uint64_t)1 << 32), err, sizeof err);
    if (!inst) {
        fprintf(stderr, "wasmlet-run: %s: %s\n", path, err);
        status = strncmp(err, "memory limit", 12) == 0 ? WLRT_EXIT_MEMORY_LIMIT : WLRT_EXIT_REFUSED;
        goto out;
    }
    wasi_ctx_set_memory(ctx, wlrt_instance_memory(inst));
    nn_host_set_memory(nh, wlrt_instance_memory(inst));
    wlrt_result r = wlrt_instance_run(inst, timeout_ms);
    fflush(stdout);
    if (r.status == WLRT_TRAPPED) {
        if (r.trap == WLRT_TRAP_TIMEOUT)
            fprintf(stderr, "wasmlet-run: %s: trap: timeout (still running after %.3g s)\n",
                    path, (double)timeout_ms / 1000.0);
        else if (r.trap == WLRT_TRAP_MEMORY_LIMIT)
            fprintf(stderr, "wasmlet-run: %s: trap: memory limit (refused memory past --max-memory%s%s)\n",
                    path, r.inner_trap ? ", then " : "", r.inner_trap ? wlrt_trap_name(r.inner_trap) : "");
        else
            fprintf(stderr, "wasmlet-run: %s: trap: %s\n", path, wlrt_trap_name(r.trap));
    } else if (r.memory_refused && wlrt_exit_status(&r) != 0) {
        fprintf(stderr, "wasmlet-run: %s: note: the guest was refused memory past --max-memory\n", path);
    }
    status = wlrt_exit_status(&r);
out:
    if (inst) wlrt_instance_free(inst);
    nn_host_free(nh);
    if (ctx) wasi_ctx_free(ctx);
    if (m) wlrt_module_free(m);
    nn_registry_free(reg);   /* before the bundle: its models point into the mapping */
    if (is_bundle) run_bundle_close(&rb);
    return status;
}
