/* cache.c: see cache.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cache.h"
#include "rt_internal.h"
#include "shim.h"

extern char **environ;

#define ENTRY_MAGIC "WLSO\1\0\0\0"
#define ENTRY_HEAD (8 + 32)
#define MAX_ENTRY ((size_t)1 << 30)
static const char *const CFLAGS[] = {"-O1", "-fPIC", "-shared", "-fvisibility=hidden",
                                     "-ffp-contract=off", "-w",
                                     "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1"};
#define N_CFLAGS (sizeof CFLAGS / sizeof CFLAGS[0])
#define CHECK_MODE "bounds=guard-pages"

static const char *cc_name(void) {
    const char *c = getenv("WASMLET_CC");
    return c && *c ? c : "cc";
}

/* ---- the folder -------------------------------------------------------- */

int wlrt_cache_default_dir(char *buf, size_t len, char *err, size_t errlen) {
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (x && x[0] == '/') n = snprintf(buf, len, "%s/wasmlet/modules", x);
    else if (home && home[0] == '/') n = snprintf(buf, len, "%s/.cache/wasmlet/modules", home);
    else { snprintf(err, errlen, "no cache folder: set XDG_CACHE_HOME or HOME, or pass --cache-dir"); return 0; }
    if (n < 0 || (size_t)n >= len) { snprintf(err, errlen, "cache folder path too long"); return 0; }
    return 1;
}

/* mkdir -p, the last component private (0700); then check it is ours and private. */
static int private_dir(const char *dir, char *err, size_t errlen) {
    char tmp[PATH_MAX];
    if (strlen(dir) >= sizeof tmp) { snprintf(err, errlen, "cache folder path too long"); return 0; }
    strcpy(tmp, dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %.300s: %s", tmp, strerror(errno));
            return 0;
        }
        *p = '/';
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create cache folder %.300s: %s", dir, strerror(errno));
        return 0;
    }
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cache folder %.300s is not a directory", dir);
        return 0;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        snprintf(err, errlen, "cache folder %.300s must be owned by you with mode 0700 (it holds native code); "
                 "fix it or pass --cache-dir", dir);
        return 0;
    }
    return 1;
}

/* ---- the key ----------------------------------------------------------- */

static int find_in_path(const char *name, char *out, size_t len) {
    if (strchr(name, '/')) return realpath(name, out) != NULL;
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        char cand[PATH_MAX];
        if (n && n + strlen(name) + 2 < sizeof cand) {
            snprintf(cand, sizeof cand, "%.*s/%s", (int)n, path, name);
            if (access(cand, X_OK) == 0 && len >= PATH_MAX && realpath(cand, out)) return 1;
        }
        path += n + (path[n] == ':');
    }
    return 0;
}

static void hash_identity(crypto_hash_sha256_state *h, const char *path) {
    struct stat st;
    char buf[PATH_MAX + 128];
    int n;
    if (stat(path, &st) == 0)
        n = snprintf(buf, sizeof buf, "%s %lld %lld.%09ld %llu\n", path, (long long)st.st_size,
                     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned long long)st.st_ino);
    else
        n = snprintf(buf, sizeof buf, "%s missing\n", path);
    crypto_hash_sha256_update(h, (const unsigned char *)buf, (size_t)n);
}

static int cache_key(const uint8_t *wasm, size_t len, char hex[65], char *wasm2c, char *cc,
                     char *err, size_t errlen) {
    if (!find_in_path("wasm2c", wasm2c, PATH_MAX)) {
        snprintf(err, errlen, "wasm2c not found in PATH (install Debian's wabt)");
        return 0;
    }
    if (!find_in_path(cc_name(), cc, PATH_MAX)) {
        snprintf(err, errlen, "C compiler '%s' not found in PATH", cc_name());
        return 0;
    }
    unsigned char d[32];
    crypto_hash_sha256(d, wasm, len);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    static const char tag[] = "wasmlet compile cache v1\n" CHECK_MODE "\n";
    crypto_hash_sha256_update(&h, (const unsigned char *)tag, sizeof tag);
    crypto_hash_sha256_update(&h, d, sizeof d);
    hash_identity(&h, wasm2c);
    hash_identity(&h, cc);
    hash_identity(&h, "/usr/include/wasm-rt.h");
    for (size_t i = 0; i < N_CFLAGS; i++)
        crypto_hash_sha256_update(&h, (const unsigned char *)CFLAGS[i], strlen(CFLAGS[i]) + 1);
    char abi[32];
    int n = snprintf(abi, sizeof abi, "shim %d %s", WLRT_GUEST_ABI, WLRT_SHIM_MODULE);
    crypto_hash_sha256_update(&h, (const unsigned char *)abi, (size_t)n);
    crypto_hash_sha256_final(&h, d);
    sodium_bin2hex(hex, 65, d, 32);
    return 1;
}

/* ---- files ------------------------------------------------------------- */

static uint8_t *read_fd(int fd, size_t size, char *err, size_t errlen, const char *what) {
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) { snprintf(err, errlen, "out of memory reading %.300s", what); return NULL; }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) { snprintf(err, errlen, "cannot read %.300s", what); free(buf); return NULL; }
        got += (size_t)r;
    }
    return buf;
}

static int write_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        b += w;
        n -= (size_t)w;
    }
    return 1;
}

static int write_file(const char *path, const void *p, size_t n, int mode) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return 0;
    int ok = write_all(fd, p, n);
    return close(fd) == 0 && ok;
}

/* dlopen from a sealed memfd holding exactly the verified bytes. The fd
 * stays open while the module is loaded: glibc finds an already-loaded
 * object by its path, so two live modules must never share
 * "/proc/self/fd/N". */
static void *dlopen_bytes(const uint8_t *so, size_t n, int *fd_out, char *err, size_t errlen) {
    int fd = memfd_create("wasmlet-guest", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) { snprintf(err, errlen, "memfd_create: %s", strerror(errno)); return NULL; }
    if (!write_all(fd, so, n)) { snprintf(err, errlen, "memfd write failed"); close(fd); return NULL; }
    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, errlen, "cannot load the compiled guest: %s", dlerror());
        close(fd);
    } else {
        *fd_out = fd;
    }
    return h;
}

/* 1 loaded, 0 no usable entry (err says why if it was there but bad). */
static void *load_entry(const char *path, int *present, int *fd_out, char *err, size_t errlen) {
    *present = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return NULL;
    *present = 1;
    struct stat st;
    uint8_t *buf = NULL;
    void *h = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        snprintf(err, errlen, "cache entry %.300s is not a regular file of yours", path);
    } else if ((size_t)st.st_size < ENTRY_HEAD || (size_t)st.st_size > MAX_ENTRY) {
        snprintf(err, errlen, "cache entry %.300s has a bad size", path);
    } else if ((buf = read_fd(fd, (size_t)st.st_size, err, errlen, path))) {
        unsigned char d[32];
        size_t n = (size_t)st.st_size - ENTRY_HEAD;
        crypto_hash_sha256(d, buf + ENTRY_HEAD, n);
        if (memcmp(buf, ENTRY_MAGIC, 8) != 0 || sodium_memcmp(d, buf + 8, 32) != 0)
            snprintf(err, errlen, "cache entry %.300s fails its integrity check (tampered or corrupt)", path);
        else
            h = dlopen_bytes(buf + ENTRY_HEAD, n, fd_out, err, errlen);
    }
    free(buf);
    close(fd);
    return h;
}

/* ---- compiling --------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs argv with stdout/stderr into log; shows progress on a terminal. */
static int run_tool(char *const argv[], const char *log, const char *label, double t0,
                    int progress, char *err, size_t errlen) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) { snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(rc)); return 0; }
    int status;
    for (;;) {
        pid_t w = waitpid(pid, &status, progress ? WNOHANG : 0);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) { snprintf(err, errlen, "waitpid: %s", strerror(errno)); return 0; }
        if (progress) {
            fprintf(stderr, "\rwasmlet-run: compiling %s (first run; cached afterwards) %.1f s ", label, now_s() - t0);
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 1;
    char first[200] = "";
    FILE *f = fopen(log, "r");
    if (f) {
        if (!fgets(first, sizeof first, f)) first[0] = 0;
        fclose(f);
        first[strcspn(first, "\n")] = 0;
    }
    snprintf(err, errlen, "%s failed%s%s", argv[0], first[0] ? ": " : "", first);
    return 0;
}

static char *slurp(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size < MAX_ENTRY && (buf = malloc((size_t)st.st_size + 1))) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += (size_t)r;
        }
        if (got == (size_t)st.st_size) { buf[got] = 0; *len = got; }
        else { free(buf); buf = NULL; }
    }
    close(fd);
    return buf;
}

/* dir/name into a PATH_MAX buffer; 0 if it does not fit. */
static int pjoin(char *out, const char *dir, const char *name) {
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    return n > 0 && n < PATH_MAX;
}

static void remove_tree(const char *dir) {
    static const char *const files[] = {"in.wasm", WLRT_SHIM_MODULE ".c", WLRT_SHIM_MODULE ".h",
                                        "unit.c", "out.so", "entry", "log"};
    char p[PATH_MAX];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (pjoin(p, dir, files[i])) unlink(p);
    }
    rmdir(dir);
}

/* Folders of compiles that died (killed, power loss) more than an hour ago. */
static void remove_stale(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    time_t now = time(NULL);
    char p[PATH_MAX];
    struct stat st;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "tmp-", 4) == 0 && pjoin(p, dir, e->d_name) &&
            lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && st.st_mtime < now - 3600)
            remove_tree(p);
    closedir(d);
}

static void *compile(const uint8_t *wasm, size_t len, const char *label, const wasm_info *w,
                     const char *dir, const char *entry_path, const char *wasm2c, const char *cc,
                     int progress, int *fd_out, char *err, size_t errlen) {
    char tmp[PATH_MAX], p_wasm[PATH_MAX], p_c[PATH_MAX], p_h[PATH_MAX], p_unit[PATH_MAX],
        p_so[PATH_MAX], p_entry[PATH_MAX], p_log[PATH_MAX];
    remove_stale(dir);
    if (!pjoin(tmp, dir, "tmp-XXXXXX")) { snprintf(err, errlen, "cache folder path too long"); return NULL; }
    if (!mkdtemp(tmp)) { snprintf(err, errlen, "cannot create a folder in %.300s: %s", dir, strerror(errno)); return NULL; }
    if (!pjoin(p_wasm, tmp, "in.wasm") || !pjoin(p_c, tmp, WLRT_SHIM_MODULE ".c") ||
        !pjoin(p_h, tmp, WLRT_SHIM_MODULE ".h") || !pjoin(p_unit, tmp, "unit.c") ||
        !pjoin(p_so, tmp, "out.so") || !pjoin(p_entry, tmp, "entry") || !pjoin(p_log, tmp, "log")) {
        snprintf(err, errlen, "cache folder path too long");
        remove_tree(tmp);
        return NULL;
    }
    void *h = NULL;
    uint8_t *so = NULL;
    char *gen_h = NULL;
    size_t so_len = 0, h_len = 0;
    double t0 = now_s();
    if (!write_file(p_wasm, wasm, len, 0600)) { snprintf(err, errlen, "cannot write %.300s", p_wasm); goto out; }
    char *const t_argv[] = {(char *)wasm2c, p_wasm, "-o", p_c, "-n", WLRT_SHIM_MODULE, NULL};
    if (!run_tool(t_argv, p_log, label, t0, progress, err, errlen)) goto out;
    gen_h = slurp(p_h, &h_len);
    if (!gen_h) { snprintf(err, errlen, "wasm2c wrote no header"); goto out; }
    FILE *f = fopen(p_unit, "w");
    if (!f) { snprintf(err, errlen, "cannot write %.300s", p_unit); goto out; }
    int ok = wlrt_shim_write(f, gen_h, w, err, errlen);
    if (fclose(f) != 0 || !ok) { if (ok) snprintf(err, errlen, "cannot write %.300s", p_unit); goto out; }
    char *c_argv[N_CFLAGS + 6];
    size_t k = 0;
    c_argv[k++] = (char *)cc;
    for (size_t i = 0; i < N_CFLAGS; i++) c_argv[k++] = (char *)CFLAGS[i];
    c_argv[k++] = "-o";
    c_argv[k++] = p_so;
    c_argv[k++] = p_unit;
    c_argv[k] = NULL;
    if (!run_tool(c_argv, p_log, label, t0, progress, err, errlen)) goto out;
    so = (uint8_t *)slurp(p_so, &so_len);
    if (!so) { snprintf(err, errlen, "the compiler wrote no shared object"); goto out; }
    uint8_t *entry = malloc(ENTRY_HEAD + so_len);
    if (!entry) { snprintf(err, errlen, "out of memory"); goto out; }
    memcpy(entry, ENTRY_MAGIC, 8);
    crypto_hash_sha256(entry + 8, so, so_len);
    memcpy(entry + ENTRY_HEAD, so, so_len);
    ok = write_file(p_entry, entry, ENTRY_HEAD + so_len, 0400) && rename(p_entry, entry_path) == 0;
    free(entry);
    if (!ok) { snprintf(err, errlen, "cannot store %.300s: %s", entry_path, strerror(errno)); goto out; }
    h = dlopen_bytes(so, so_len, fd_out, err, errlen);
    if (progress) fprintf(stderr, "\rwasmlet-run: compiled %s in %.1f s%20s\n", label, now_s() - t0, "");
out:
    if (!h && progress) fputc('\n', stderr);
    free(gen_h);
    free(so);
    remove_tree(tmp);
    return h;
}

void *wlrt_cache_open(const uint8_t *wasm, size_t len, const char *name, const wasm_info *w,
                      const wlrt_options *opt, int *compiled, int *fd_out, char *err, size_t errlen) {
    static int sodium_ok;
    if (!sodium_ok) sodium_ok = sodium_init() >= 0;
    char dir[PATH_MAX], wasm2c[PATH_MAX], cc[PATH_MAX], key[65], path[PATH_MAX + 80];
    *compiled = 0;
    if (opt && opt->cache_dir) {
        if (strlen(opt->cache_dir) >= sizeof dir) { snprintf(err, errlen, "cache folder path too long"); return NULL; }
        strcpy(dir, opt->cache_dir);
    } else if (!wlrt_cache_default_dir(dir, sizeof dir, err, errlen)) {
        return NULL;
    }
    if (!private_dir(dir, err, errlen)) return NULL;
    if (!cache_key(wasm, len, key, wasm2c, cc, err, errlen)) return NULL;
    if (snprintf(path, sizeof path, "%s/%s.wlso", dir, key) >= (int)sizeof path) {
        snprintf(err, errlen, "cache folder path too long");
        return NULL;
    }
    int present;
    char why[512] = "";
    void *h = load_entry(path, &present, fd_out, why, sizeof why);
    if (h) {
        if (opt && opt->verbose) fprintf(stderr, "wasmlet-run: cache hit %s\n", path);
        return h;
    }
    if (present) {
        fprintf(stderr, "wasmlet-run: %s; recompiling\n", why);
        unlink(path);
    }
    const char *label = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    int progress = opt && opt->progress && isatty(2);
    if (opt && opt->verbose) fprintf(stderr, "wasmlet-run: compiling %s into %s\n", label, path);
    h = compile(wasm, len, label, w, dir, path, wasm2c, cc, progress, fd_out, err, errlen);
    if (h) *compiled = 1;
    return h;
}
