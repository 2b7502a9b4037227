/* test_pack_cache.c: the cache of repacked weights (pack_cache.h). A
 * model packed into a new entry, mapped from it later, packed in memory
 * and loaded from a buffer with the file's identity all give the same
 * logits bit for bit; entries that are damaged, foreign, stale or not
 * private are not used; the folder's size limit evicts old entries; a
 * cache that cannot be used leaves the model working. Usage: WORKDIR. */
#define _GNU_SOURCE   /* setenv, utimensat */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "engine_test.h"
#include "kernels.h"
#include "pack_cache.h"

static const char *g_model;
static char g_dir[1024];
static float *g_ref;   /* logits of the first open */
static int g_vocab;

static llm_model *open_note(const char *want, const char *what) {
    llm_model *m = t_open(g_model);
    const char *note = llm_model_pack_note(m);
    CHECK(strstr(note, want) != NULL, "%s: note '%s' lacks '%s'", what, note, want);
    return m;
}

/* Logits of a 5-token prompt; the first call keeps them as reference. */
static void check_logits(llm_model *m, const char *what) {
    llm_context *c = t_ctx(m, 64, 2, 8);
    int32_t toks[5] = {1, 17, 42, 99, 7};
    char err[256];
    REQUIRE(llm_eval(c, toks, 5, false, err, sizeof err), "%s: eval: %s", what, err);
    const float *lg = llm_get_logits(c, 0);
    if (!g_ref) {
        g_vocab = llm_model_hparams(m)->n_vocab;
        g_ref = malloc(sizeof(float) * (size_t)g_vocab);
        memcpy(g_ref, lg, sizeof(float) * (size_t)g_vocab);
    } else {
        CHECK(memcmp(lg, g_ref, sizeof(float) * (size_t)g_vocab) == 0, "%s: logits differ from the first load", what);
    }
    llm_context_free(c);
}

static void use(const char *want, const char *what) {
    llm_model *m = open_note(want, what);
    check_logits(m, what);
    llm_model_free(m);
}

/* The one entry in g_dir (the test keeps one at a time unless it says). */
static int entries(char *path, size_t len) {
    DIR *d = opendir(g_dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l > 5 && strcmp(e->d_name + l - 5, ".pack") == 0) {
            n++;
            if (path) snprintf(path, len, "%s/%s", g_dir, e->d_name);
        }
    }
    if (d) closedir(d);
    return n;
}

static void poke(const char *path, off_t off) {
    int fd = open(path, O_RDWR);
    REQUIRE(fd >= 0, "open %s", path);
    unsigned char b;
    REQUIRE(pread(fd, &b, 1, off) == 1, "read %s", path);
    b ^= 0x5a;
    REQUIRE(pwrite(fd, &b, 1, off) == 1, "write %s", path);
    close(fd);
}

/* The entry's data is mapped from PACK_CACHE_DATA at a 2 MB-aligned
 * address (so its 2 MB folios can be huge-page mappings), read-only. */
static void check_mapping(const char *entry, const char *what) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return;   /* not Linux */
    char line[2048];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, off;
        char perms[8], path[1400] = "";
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %1399s", &lo, &hi, perms, &off, path) != 5) continue;
        if (strcmp(path, entry) != 0) continue;
        found++;
        CHECK(lo % (2u << 20) == 0, "%s: entry mapped at %llx, not 2 MB-aligned", what, lo);
        CHECK(off == PACK_CACHE_DATA, "%s: entry mapped from offset %llx", what, off);
        CHECK(perms[0] == 'r' && perms[1] == '-', "%s: entry mapped %s", what, perms);
    }
    fclose(f);
    CHECK(found == 1, "%s: %d mappings of %s", what, found, entry);
}

/* Resident and total kB of this process's mappings of `path` (-1: none,
 * or not known here). */
static long resident_kb(const char *path, long *size_kb) {
    char canon[4096];
    if (realpath(path, canon)) path = canon;   /* smaps names the file by its real path */
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[2048];
    bool ours = false;
    long size = -1, rss = -1, v;
    while (fgets(line, sizeof line, f)) {
        char p[1400] = "";
        unsigned long long lo, hi;
        if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %1399[^\n]", &lo, &hi, p) >= 2) {
            ours = strcmp(p, path) == 0;
            continue;
        }
        if (ours && sscanf(line, "Size: %ld", &v) == 1) size = (size < 0 ? 0 : size) + v;
        if (ours && sscanf(line, "Rss: %ld", &v) == 1) rss = (rss < 0 ? 0 : rss) + v;
    }
    fclose(f);
    if (size_kb) *size_kb = size;
    return rss;
}

/* Can this kernel populate mappings (MADV_POPULATE_READ, Linux 5.14)? */
static bool can_populate(void) {
#ifdef MADV_POPULATE_READ
    void *probe = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const bool can = probe != MAP_FAILED && madvise(probe, 4096, MADV_POPULATE_READ) == 0;
    if (probe != MAP_FAILED) munmap(probe, 4096);
    return can;
#else
    return false;
#endif
}

/* A mapped entry is faulted in whole at open (pack_cache.c's populate):
 * resident in full before any token ran. */
static void check_populated(const char *entry, const char *what) {
    if (!can_populate()) return;
    long size, rss = resident_kb(entry, &size);
    CHECK(size > 0 && rss == size, "%s: entry %ld of %ld kB resident after open", what, rss, size);
}

static void touch_model(int add_s) {
    struct stat st;
    REQUIRE(stat(g_model, &st) == 0, "stat model");
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    ts[1].tv_sec += add_s;
    REQUIRE(utimensat(AT_FDCWD, g_model, ts, 0) == 0, "utimensat");
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: test_engine_pack_cache WORKDIR\n"); return 2; }
    static char model[1024];
    snprintf(model, sizeof model, "%s/pack-cache-q8.gguf", argv[1]);
    snprintf(g_dir, sizeof g_dir, "%s/pack-cache", argv[1]);
    g_model = model;
    /* Rows in multiples of 16 (the packed kernels' groups); the output
     * matrix (4096 x 544 bytes, 2.2 MB) spans two 2 MB pieces of the
     * entry, and the edge between them cuts a group of 16 rows. */
    t_synth(model, "--layers", "2", "--dim", "512", "--heads", "8", "--kv-heads", "2", "--ffn", "1024",
            "--vocab", "4096", "--type", "Q8_0", "--seed", "21", NULL);
    char cmd[6000];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    REQUIRE(system(cmd) == 0, "%s", cmd);
    setenv("WASMLET_PACK_CACHE", g_dir, 1);
    unsetenv("WASMLET_PACK_CACHE_MAX");

    /* Weights the kernels use in place are faulted in at open too
     * (model.c's populate_weights): rows of 272 floats are no multiple of
     * the packed kernels' 32 columns, so nothing here is repacked. */
    if (can_populate()) {
        char f32[1100];
        snprintf(f32, sizeof f32, "%s/pack-cache-f32.gguf", argv[1]);
        t_synth(f32, "--layers", "2", "--dim", "272", "--heads", "4", "--kv-heads", "2", "--ffn", "560",
                "--vocab", "1024", "--type", "F32", "--seed", "22", NULL);
        llm_model *fm = t_open(f32);
        CHECK(strcmp(llm_model_pack_note(fm), "weights used in place") == 0, "F32 model: %s", llm_model_pack_note(fm));
        {
            const long rss = resident_kb(f32, NULL);
            const uint64_t need = llm_model_weight_bytes(fm);
            CHECK(rss >= 0 && (uint64_t)rss * 1024 >= need, "F32 model: %ld kB resident after open, weights %llu kB",
                  rss, (unsigned long long)(need / 1024));
        }
        llm_model_free(fm);
    }

    llm_model *m = t_open(model);
    if (strcmp(llm_model_pack_note(m), "weights used in place") == 0) {
        fprintf(stderr, "engine_pack_cache: the kernel table here (%s) repacks nothing; skipped\n",
                kn_get()->name);
        llm_model_free(m);
        return 77;
    }
    CHECK(strstr(llm_model_pack_note(m), "packed into new cache entry") != NULL, "first open: %s",
          llm_model_pack_note(m));
    check_logits(m, "first open");
    char entry[1200];
    REQUIRE(entries(entry, sizeof entry) == 1, "one entry after the first open");
    check_mapping(entry, "first open");
    check_populated(entry, "first open");
    llm_model_free(m);

    struct stat st;
    REQUIRE(stat(entry, &st) == 0 && (st.st_mode & 0777) == 0600, "entry mode 0600");
    REQUIRE(stat(g_dir, &st) == 0 && (st.st_mode & 0777) == 0700, "folder mode 0700");

    use("cache hit", "second open");
    m = open_note("cache hit", "hit, mapped");
    check_mapping(entry, "hit, mapped");
    check_populated(entry, "hit, mapped");
    llm_model_free(m);

    /* The same bytes as a buffer with the file's identity (a bundle's
     * model): the same entry. */
    {
        FILE *f = fopen(model, "rb");
        REQUIRE(f, "open model");
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        rewind(f);
        void *buf = malloc((size_t)len);
        REQUIRE(buf && fread(buf, 1, (size_t)len, f) == (size_t)len, "read model");
        llm_source src;
        REQUIRE(llm_source_of_fd(fileno(f), 0, (uint64_t)len, &src), "source of fd");
        fclose(f);
        char err[256];
        gguf_file *g = gguf_open_buffer(buf, (size_t)len, err, sizeof err);
        REQUIRE(g, "%s", err);
        llm_model *bm = llm_model_load_source(g, &src, err, sizeof err);
        REQUIRE(bm, "%s", err);
        CHECK(strstr(llm_model_pack_note(bm), "cache hit") != NULL, "buffer with source: %s",
              llm_model_pack_note(bm));
        check_logits(bm, "buffer with source");
        llm_model_free(bm);
        src.offset = 512;   /* another place in the file: another entry */
        bm = llm_model_load_source(g, &src, err, sizeof err);
        REQUIRE(bm, "%s", err);
        CHECK(strstr(llm_model_pack_note(bm), "new cache entry") != NULL, "other offset: %s",
              llm_model_pack_note(bm));
        llm_model_free(bm);
        bm = llm_model_load(g, err, sizeof err);   /* no source: no cache */
        REQUIRE(bm, "%s", err);
        CHECK(strcmp(llm_model_pack_note(bm), "packed in memory") == 0, "no source: %s", llm_model_pack_note(bm));
        check_logits(bm, "no source");
        llm_model_free(bm);
        gguf_close(g);
        free(buf);
    }
    REQUIRE(entries(NULL, 0) == 2, "two entries (offsets 0 and 512)");
    use("cache hit", "third open");

    /* A damaged header: not used, replaced. */
    poke(entry, 20);
    use("packed into new cache entry", "damaged header");
    use("cache hit", "after damaged header");

    /* Packed data that differs from what this build packs (a changed
     * layout, or a source edited behind its identity): not used. */
    poke(entry, (off_t)PACK_CACHE_DATA + 100);
    use("packed into new cache entry", "stale data");
    use("cache hit", "after stale data");

    /* Truncated. */
    REQUIRE(stat(entry, &st) == 0 && truncate(entry, st.st_size - 4096) == 0, "truncate");
    use("packed into new cache entry", "truncated entry");

    /* Writable by others: not trusted, replaced by a private one. */
    REQUIRE(chmod(entry, 0666) == 0, "chmod");
    use("packed into new cache entry", "world-writable entry");
    REQUIRE(stat(entry, &st) == 0 && (st.st_mode & 0777) == 0600, "replacement is 0600");

    /* A symlink in the entry's place is not followed. */
    snprintf(cmd, sizeof cmd, "mv '%s' '%s.real' && ln -s '%s.real' '%s'", entry, entry, entry, entry);
    REQUIRE(system(cmd) == 0, "%s", cmd);
    use("packed into new cache entry", "symlinked entry");
    REQUIRE(lstat(entry, &st) == 0 && S_ISREG(st.st_mode), "symlink replaced by a file");
    snprintf(cmd, sizeof cmd, "rm -f '%s.real'", entry);
    REQUIRE(system(cmd) == 0, "%s", cmd);

    /* The source changed: another key, a new entry; the old one stays
     * until the size limit asks for room. */
    int before = entries(NULL, 0);
    touch_model(5);
    use("packed into new cache entry", "touched model");
    CHECK(entries(NULL, 0) == before + 1, "a new entry for the touched model (%d -> %d)", before,
          entries(NULL, 0));
    setenv("WASMLET_PACK_CACHE_MAX", "1K", 1);
    touch_model(5);
    use("packed into new cache entry", "touched again, limit 1K");
    CHECK(entries(NULL, 0) == 1, "the limit keeps only the newest entry (%d)", entries(NULL, 0));
    use("cache hit", "after eviction");
    setenv("WASMLET_PACK_CACHE_MAX", "banana", 1);   /* unreadable: the default */
    use("cache hit", "bad limit");
    unsetenv("WASMLET_PACK_CACHE_MAX");

    /* Caches that cannot be used: the model still works, from memory. */
    setenv("WASMLET_PACK_CACHE", "off", 1);
    use("packed in memory; cache off", "cache off");
    setenv("WASMLET_PACK_CACHE", "relative/dir", 1);
    use("not an absolute path", "relative folder");
    char bad[1100];
    snprintf(bad, sizeof bad, "%s/afile", argv[1]);
    FILE *f = fopen(bad, "w");
    REQUIRE(f, "create %s", bad);
    fclose(f);
    snprintf(bad, sizeof bad, "%s/afile/sub", argv[1]);
    setenv("WASMLET_PACK_CACHE", bad, 1);
    use("packed in memory; cannot create", "folder under a file");
    snprintf(bad, sizeof bad, "%s/shared-dir", argv[1]);
    mkdir(bad, 0755);
    chmod(bad, 0755);
    setenv("WASMLET_PACK_CACHE", bad, 1);
    use("is not private", "folder readable by others");
    return t_result("engine_pack_cache");
}
