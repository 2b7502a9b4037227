/* pack_inspect.c: inspect and extract. See pack_cmds.h. */
#include "pack_cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "cli_util.h"
#include "json.h"
#include "pack_util.h"

/* ---- inspect ------------------------------------------------------------ */

#define RAW(b, s) json_buf_raw((b), (s), strlen(s))

static void inspect_json(const bundle *b, const char *path) {
    const manifest *m = bundle_manifest(b);
    json_buf j = {0};
    char hex[65], id[17];
    RAW(&j, "{\"file\": ");
    json_buf_cstr(&j, path);
    RAW(&j, ", \"file_size\": ");
    json_buf_u64(&j, bundle_file_size(b));
    RAW(&j, ", \"name\": ");
    json_buf_cstr(&j, m->name);
    RAW(&j, ", \"version\": ");
    json_buf_cstr(&j, m->version);
    RAW(&j, ", \"description\": ");
    json_buf_cstr(&j, m->description);
    sha256_hex(bundle_manifest_sha256(b), hex);
    RAW(&j, ", \"manifest_sha256\": ");
    json_buf_cstr(&j, hex);
    RAW(&j, ", \"signed\": ");
    RAW(&j, bundle_is_signed(b) ? "true" : "false");
    RAW(&j, ", \"signer_key_id\": ");
    if (bundle_is_signed(b)) {
        ms_keyid_hex(bundle_signature(b)->keyid, id);
        json_buf_cstr(&j, id);
        RAW(&j, ", \"trusted_comment\": ");
        json_buf_cstr(&j, bundle_signature(b)->trusted_comment);
    } else {
        RAW(&j, "null, \"trusted_comment\": null");
    }
    RAW(&j, ", \"tokenizer\": ");
    json_buf_cstr(&j, m->tokenizer);
    RAW(&j, ", \"members\": [");
    for (size_t i = 0; i < bundle_member_count(b); i++) {
        const bundle_member *bm = bundle_member_at(b, i);
        sha256_hex(bm->sha256, hex);
        RAW(&j, i ? ", {\"path\": " : "{\"path\": ");
        json_buf_cstr(&j, bm->path);
        RAW(&j, ", \"offset\": ");
        json_buf_u64(&j, bm->offset);
        RAW(&j, ", \"size\": ");
        json_buf_u64(&j, bm->size);
        RAW(&j, ", \"sha256\": ");
        json_buf_cstr(&j, hex);
        RAW(&j, "}");
    }
    RAW(&j, "], \"models\": [");
    for (size_t i = 0; i < m->n_models; i++) {
        const manifest_model *md = &m->models[i];
        RAW(&j, i ? ", {\"alias\": " : "{\"alias\": ");
        json_buf_cstr(&j, md->alias);
        RAW(&j, ", \"path\": ");
        json_buf_cstr(&j, md->path);
        RAW(&j, ", \"architecture\": ");
        json_buf_cstr(&j, md->architecture);
        RAW(&j, ", \"quantization\": ");
        json_buf_cstr(&j, md->quantization);
        RAW(&j, ", \"context_length\": ");
        json_buf_u64(&j, md->context_length);
        RAW(&j, ", \"parameter_count\": ");
        json_buf_u64(&j, md->parameter_count);
        RAW(&j, "}");
    }
    RAW(&j, "], \"capabilities\": {\"dirs\": [");
    for (size_t i = 0; i < m->n_dirs; i++) {
        RAW(&j, i ? ", {\"guest_path\": " : "{\"guest_path\": ");
        json_buf_cstr(&j, m->dirs[i].guest_path);
        RAW(&j, m->dirs[i].readonly ? ", \"readonly\": true}" : ", \"readonly\": false}");
    }
    RAW(&j, "], \"env\": {");
    for (size_t i = 0; i < m->n_env; i++) {
        if (i) RAW(&j, ", ");
        json_buf_cstr(&j, m->env[i].key);
        RAW(&j, ": ");
        json_buf_cstr(&j, m->env[i].value);
    }
    RAW(&j, "}}, \"limits\": {\"max_memory\": ");
    json_buf_u64(&j, m->max_memory);
    RAW(&j, ", \"timeout_seconds\": ");
    json_buf_u64(&j, m->timeout_seconds);
    RAW(&j, ", \"ctx_size\": ");
    json_buf_u64(&j, m->ctx_size);
    RAW(&j, "}}\n");
    if (!j.oom) fwrite(j.data, 1, j.len, stdout);
    json_buf_free(&j);
}

static void inspect_text(const bundle *b, const char *path) {
    const manifest *m = bundle_manifest(b);
    char hex[65], id[17];
    printf("bundle       %s (%llu bytes)\n", path, (unsigned long long)bundle_file_size(b));
    printf("name         %s\nversion      %s\n", m->name, m->version);
    if (m->description[0]) printf("description  %s\n", m->description);
    if (bundle_is_signed(b)) {
        ms_keyid_hex(bundle_signature(b)->keyid, id);
        printf("signer key   %s (not checked here: use verify -p KEY)\n", id);
        printf("trusted      %s\n", bundle_signature(b)->trusted_comment);
    } else {
        printf("signer key   none (unsigned)\n");
    }
    printf("tokenizer    %s\n\nmembers\n  %-28s %14s  %s\n", m->tokenizer, "path", "size", "sha256");
    for (size_t i = 0; i < bundle_member_count(b); i++) {
        const bundle_member *bm = bundle_member_at(b, i);
        sha256_hex(bm->sha256, hex);
        printf("  %-28s %14llu  %s\n", bm->path, (unsigned long long)bm->size, hex);
    }
    printf("\nmodels\n  %-16s %-12s %-8s %10s %14s\n", "alias", "arch", "quant", "context", "parameters");
    for (size_t i = 0; i < m->n_models; i++) {
        const manifest_model *md = &m->models[i];
        printf("  %-16s %-12s %-8s %10llu %14llu\n", md->alias, md->architecture, md->quantization,
               (unsigned long long)md->context_length, (unsigned long long)md->parameter_count);
    }
    printf("\ncapabilities\n");
    if (!m->n_dirs && !m->n_env) printf("  (none)\n");
    for (size_t i = 0; i < m->n_dirs; i++)
        printf("  dir  %s (%s)\n", m->dirs[i].guest_path, m->dirs[i].readonly ? "read-only" : "read-write");
    for (size_t i = 0; i < m->n_env; i++) printf("  env  %s=%s\n", m->env[i].key, m->env[i].value);
    printf("\nlimits       max_memory %llu, timeout_seconds %llu, ctx_size %llu (0: host default)\n",
           (unsigned long long)m->max_memory, (unsigned long long)m->timeout_seconds, (unsigned long long)m->ctx_size);
}

int pack_cmd_inspect(int argc, char **argv) {
    const char *path = NULL;
    bool json = false;
    static const char help[] =
        "Show a bundle's manifest, members, models, capabilities, limits and signer\n"
        "(the signature is not verified: use verify).\n"
        "  --json      print one JSON object\n"
        "  -h, --help  print this help and exit\n";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
        else if (cli_is_help(argv[i])) return cli_help("inspect", "[--json] BUNDLE", help);
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else return pack_usage("inspect", "[--json] BUNDLE", argv[i]);
    }
    if (!path) return pack_usage("inspect", "[--json] BUNDLE", NULL);
    char err[1024];
    bundle *b = bundle_open(path, err, sizeof err);
    if (!b) return pack_fail("inspect", err);
    if (json) inspect_json(b, path);
    else inspect_text(b, path);
    bundle_close(b);
    return 0;
}

/* ---- extract ------------------------------------------------------------ */

/* extract is all or nothing. What can be checked before writing is: the
 * signature (with -p), every target name free (unless --force), no
 * symlink or directory in the way. Then each entry is copied to a temp
 * file beside its target, hashing the very bytes written, compared with
 * the manifest and fsynced; only when all of them are there are they moved
 * to their names. On any failure the run removes its temp files, the files
 * it put where there was none, and the directories it made. A file that
 * --force already replaced is not restored. */

typedef struct {
    const char *name;        /* below DIR: "app.wasm", "models/<alias>.gguf" */
    const char *leaf;        /* the name within its directory */
    bool in_sub;             /* in the one subdirectory (models/) */
    const char *mem;         /* manifest or signature bytes, else NULL */
    uint64_t off, size;      /* a member: its data in the bundle file */
    const uint8_t *sha256;   /* a member: what the manifest says */
    bool existed;            /* the name was taken (allowed by --force) */
    bool placed;             /* moved to its name */
    char tmp[64];            /* this run's temp file, "" when none */
} xentry;

typedef struct {
    const char *bundle, *dir;
    int dfd, sub;            /* DIR and DIR/<subname>; -1 while absent */
    char subname[64];
    bool made_dir, made_sub;
    xentry e[BUNDLE_MAX_ENTRIES];
    size_t n;
} extraction;

static int parent_fd(const extraction *x, const xentry *e) { return e->in_sub ? x->sub : x->dfd; }

static bool x_add(extraction *x, const char *name, const char *mem, uint64_t off, uint64_t size,
                  const uint8_t *sha256, char *err, size_t errlen) {
    if (x->n == BUNDLE_MAX_ENTRIES) {
        pack_errf(err, errlen, "%s: too many members", x->bundle);
        return false;
    }
    xentry *e = &x->e[x->n++];
    *e = (xentry){.name = name, .leaf = name, .mem = mem, .off = off, .size = size, .sha256 = sha256};
    const char *slash = strchr(name, '/');
    if (!slash) return true;
    /* The manifest allows only "models/<alias>.gguf": one level. */
    size_t dl = (size_t)(slash - name);
    if (dl == 0 || dl >= sizeof x->subname || strchr(slash + 1, '/') || !slash[1] ||
        (x->subname[0] && (strlen(x->subname) != dl || strncmp(x->subname, name, dl)))) {
        pack_errf(err, errlen, "%s: member path '%s' cannot be extracted", x->bundle, name);
        return false;
    }
    memcpy(x->subname, name, dl);
    x->subname[dl] = 0;
    e->leaf = slash + 1;
    e->in_sub = true;
    return true;
}

/* Opens DIR and its subdirectory when they exist (never through a symlink
 * below DIR) and checks every target name. Writes nothing. */
static bool x_check(extraction *x, bool force, char *err, size_t errlen) {
    x->dfd = open(x->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (x->dfd < 0) {
        if (errno == ENOENT) return true;   /* made later: every name is free */
        pack_errf(err, errlen, "%s: not a directory: %s", x->dir, strerror(errno));
        return false;
    }
    struct stat st;
    if (x->subname[0] && fstatat(x->dfd, x->subname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        x->sub = S_ISDIR(st.st_mode) ? openat(x->dfd, x->subname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
        if (x->sub < 0) {
            pack_errf(err, errlen, "%s/%s: not a directory (or a symlink)", x->dir, x->subname);
            return false;
        }
    }
    for (size_t i = 0; i < x->n; i++) {
        xentry *e = &x->e[i];
        int pfd = parent_fd(x, e);
        if (pfd < 0) continue;
        if (fstatat(pfd, e->leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue;
            pack_errf(err, errlen, "%s/%s: %s", x->dir, e->name, strerror(errno));
            return false;
        }
        if (S_ISDIR(st.st_mode)) {
            pack_errf(err, errlen, "%s/%s is a directory and cannot be replaced", x->dir, e->name);
            return false;
        }
        if (!force) {
            pack_errf(err, errlen, "%s/%s already exists (use --force to overwrite)", x->dir, e->name);
            return false;
        }
        e->existed = true;
    }
    return true;
}

static bool x_make_dirs(extraction *x, char *err, size_t errlen) {
    if (x->dfd < 0) {
        if (mkdir(x->dir, 0755) == 0) x->made_dir = true;
        else if (errno != EEXIST) {
            pack_errf(err, errlen, "%s: %s", x->dir, strerror(errno));
            return false;
        }
        x->dfd = open(x->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (x->dfd < 0) {
            pack_errf(err, errlen, "%s: not a directory: %s", x->dir, strerror(errno));
            return false;
        }
    }
    if (x->subname[0] && x->sub < 0) {
        if (mkdirat(x->dfd, x->subname, 0755) == 0) x->made_sub = true;
        else if (errno != EEXIST) {
            pack_errf(err, errlen, "%s/%s: %s", x->dir, x->subname, strerror(errno));
            return false;
        }
        x->sub = openat(x->dfd, x->subname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (x->sub < 0) {
            pack_errf(err, errlen, "%s/%s: not a directory (or a symlink): %s", x->dir, x->subname, strerror(errno));
            return false;
        }
    }
    return true;
}

static bool write_all(int fd, const void *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return false;
        if (w == 0) {
            errno = EIO;
            return false;
        }
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return true;
}

/* Copies one entry to a new temp file in its directory, hashing the bytes
 * as they are written; a member must match the manifest. */
static bool x_copy(extraction *x, xentry *e, int src, progress *pg, uint64_t *done, uint64_t total,
                   char *err, size_t errlen) {
    int pfd = parent_fd(x, e), fd = -1;
    for (int k = 0; fd < 0 && k < 100; k++) {
        snprintf(e->tmp, sizeof e->tmp, ".wasmlet-extract.%ld.%zu.%d", (long)getpid(), (size_t)(e - x->e), k);
        fd = openat(pfd, e->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        e->tmp[0] = 0;
        pack_errf(err, errlen, "%s/%s: cannot create a file there: %s", x->dir, e->in_sub ? x->subname : ".",
                  strerror(errno));
        return false;
    }
    int why = 0;   /* errno of a failed write */
    if (e->mem) {
        if (!write_all(fd, e->mem, (size_t)e->size)) why = errno;
    } else {
        static uint8_t buf[1 << 20];
        crypto_hash_sha256_state st;
        crypto_hash_sha256_init(&st);
        for (uint64_t got = 0; !why && got < e->size;) {
            size_t want = e->size - got < sizeof buf ? (size_t)(e->size - got) : sizeof buf;
            ssize_t r = pread(src, buf, want, (off_t)(e->off + got));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) {
                pack_errf(err, errlen, "%s: member '%s': %s at byte %llu of %llu", x->bundle, e->name,
                          r < 0 ? strerror(errno) : "the file ends", (unsigned long long)got,
                          (unsigned long long)e->size);
                close(fd);
                return false;
            }
            crypto_hash_sha256_update(&st, buf, (size_t)r);
            if (!write_all(fd, buf, (size_t)r)) why = errno;
            got += (uint64_t)r;
            *done += (uint64_t)r;
            progress_cb(pg, *done, total);
        }
        uint8_t h[32];
        crypto_hash_sha256_final(&st, h);
        if (!why && sodium_memcmp(h, e->sha256, 32) != 0) {
            char got[65], want[65];
            sha256_hex(h, got);
            sha256_hex(e->sha256, want);
            pack_errf(err, errlen, "%s: member '%s': SHA-256 mismatch: content is %.16s..., the manifest says %.16s...",
                      x->bundle, e->name, got, want);
            close(fd);
            return false;
        }
    }
    if (!why && fsync(fd) != 0) why = errno;
    if (close(fd) != 0 && !why) why = errno;
    if (why) pack_errf(err, errlen, "%s/%s: write failed: %s", x->dir, e->name, strerror(why));
    return !why;
}

/* Moves a temp file to its name: over the old entry itself with --force
 * (rename never follows a symlink there), else never over anything. */
static bool x_place(extraction *x, xentry *e, char *err, size_t errlen) {
    int pfd = parent_fd(x, e);
    if (e->existed) {
        if (renameat(pfd, e->tmp, pfd, e->leaf) != 0) {
            pack_errf(err, errlen, "%s/%s: %s", x->dir, e->name, strerror(errno));
            return false;
        }
        e->placed = true;
        e->tmp[0] = 0;
        return true;
    }
    /* link() refuses an existing name: one that appeared since the check
     * is left alone. */
    if (linkat(pfd, e->tmp, pfd, e->leaf, 0) != 0) {
        if (errno == EEXIST)
            pack_errf(err, errlen, "%s/%s appeared during extraction (use --force to overwrite)", x->dir, e->name);
        else
            pack_errf(err, errlen, "%s/%s: %s", x->dir, e->name, strerror(errno));
        return false;
    }
    e->placed = true;
    if (unlinkat(pfd, e->tmp, 0) != 0) {
        pack_errf(err, errlen, "%s/%s: %s", x->dir, e->tmp, strerror(errno));
        return false;
    }
    e->tmp[0] = 0;
    return true;
}

static void x_rollback(extraction *x) {
    for (size_t i = 0; i < x->n; i++) {
        xentry *e = &x->e[i];
        int pfd = parent_fd(x, e);
        if (pfd < 0) continue;
        if (e->tmp[0]) unlinkat(pfd, e->tmp, 0);
        if (e->placed && !e->existed) unlinkat(pfd, e->leaf, 0);
    }
    if (x->made_sub) unlinkat(x->dfd, x->subname, AT_REMOVEDIR);
    if (x->made_dir) rmdir(x->dir);
}

static bool x_run(extraction *x, const bundle *b, bool force, char *err, size_t errlen) {
    size_t len;
    const char *mj = bundle_manifest_bytes(b, &len);
    if (!x_add(x, BUNDLE_MANIFEST, mj, 0, len, NULL, err, errlen)) return false;
    if (bundle_is_signed(b)) {
        const char *st = bundle_signature_text(b, &len);
        if (!x_add(x, BUNDLE_SIGNATURE, st, 0, len, NULL, err, errlen)) return false;
    }
    uint64_t total = 0, done = 0;
    for (size_t i = 0; i < bundle_member_count(b); i++) {
        const bundle_member *bm = bundle_member_at(b, i);
        if (!x_add(x, bm->path, NULL, bm->offset, bm->size, bm->sha256, err, errlen)) return false;
        total += bm->size;
    }
    if (!x_check(x, force, err, errlen)) return false;
    /* From here on the run writes: every failure is undone. */
    bool ok = x_make_dirs(x, err, errlen);
    progress pg;
    progress_start(&pg, "extracting", total);
    for (size_t i = 0; ok && i < x->n; i++) ok = x_copy(x, &x->e[i], bundle_fd(b), &pg, &done, total, err, errlen);
    progress_end(&pg);
    for (size_t i = 0; ok && i < x->n; i++) ok = x_place(x, &x->e[i], err, errlen);
    if (ok) {
        /* Some file systems refuse fsync on a directory: not an error. */
        if (x->sub >= 0) (void)fsync(x->sub);
        (void)fsync(x->dfd);
    } else {
        x_rollback(x);
    }
    return ok;
}

int pack_cmd_extract(int argc, char **argv) {
    const char *path = NULL, *dir = NULL;
    bool force = false;
    char err[1024], inner[900];
    static const char usage[] = "[-p PUB]... [--force] BUNDLE DIR";
    static const char help[] =
        "Unpack a bundle's manifest, signature and members into DIR (made if\n"
        "missing), all or nothing, checking each member's SHA-256 as it is written.\n"
        "  -p, --trust PUB  first check the signature against this key (repeatable)\n"
        "  --force          overwrite existing files in DIR\n"
        "  -h, --help       print this help and exit\n";
    /* The whole argv is checked before any key file is read. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = true;
        else if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--trust")) && i + 1 < argc) i++;
        else if (cli_is_help(argv[i])) return cli_help("extract", usage, help);
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else return pack_usage("extract", usage, argv[i]);
    }
    if (!path || !dir) return pack_usage("extract", usage, NULL);
    if (!ms_init(err, sizeof err)) return pack_fail("extract", err);
    bundle_trust trust = {0};
    if (!cli_trust_args(argc, argv, &trust, err, sizeof err)) return pack_fail("extract", err);
    bundle *b = bundle_open(path, err, sizeof err);
    bool sig_ok = b && (trust.n == 0 || bundle_verify_signature(b, &trust, NULL, inner, sizeof inner));
    bundle_trust_free(&trust);
    if (!b) return pack_fail("extract", err);
    if (!sig_ok) {
        pack_errf(err, sizeof err, "%s: %s", path, inner);
        bundle_close(b);
        return pack_fail("extract", err);
    }
    static extraction x;
    x = (extraction){.bundle = path, .dir = dir, .dfd = -1, .sub = -1};
    bool ok = x_run(&x, b, force, err, sizeof err);
    if (x.sub >= 0) close(x.sub);
    if (x.dfd >= 0) close(x.dfd);
    size_t n = x.n;
    bundle_close(b);
    if (!ok) return pack_fail("extract", err);
    fprintf(stderr, "extracted %zu files into %s\n", n, dir);
    return 0;
}
