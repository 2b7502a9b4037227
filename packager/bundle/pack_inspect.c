/* pack_inspect.c: inspect and extract. See pack_cmds.h. */
#include "pack_cmds.h"

#include <errno.h>
#include <fcntl.h>
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
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = true;
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

/* Creates name in dfd without following any symlink; an existing entry is
 * replaced only with force, and only after removing the entry itself. */
static int create_at(int dfd, const char *name, bool force, const char *shown, char *err, size_t errlen) {
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!force) {
            pack_errf(err, errlen, "%s already exists (use --force to overwrite)", shown);
            return -1;
        }
        if (S_ISDIR(st.st_mode) || unlinkat(dfd, name, 0) != 0) {
            pack_errf(err, errlen, "%s exists and cannot be replaced", shown);
            return -1;
        }
    }
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) pack_errf(err, errlen, "%s: %s", shown, strerror(errno));
    return fd;
}

static bool write_all(int fd, const void *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return true;
}

static bool extract_one(int dfd, const char *dir, const char *name, const char *mem, int src, uint64_t off,
                        uint64_t size, bool force, char *err, size_t errlen) {
    char shown[4400];
    snprintf(shown, sizeof shown, "%s/%s", dir, name);
    int sub = -1;
    const char *leaf = name;
    const char *slash = strchr(name, '/');
    if (slash) {   /* only "models/<alias>.gguf": one level, made here */
        char d[64];
        snprintf(d, sizeof d, "%.*s", (int)(slash - name), name);
        if (mkdirat(dfd, d, 0755) != 0 && errno != EEXIST) {
            pack_errf(err, errlen, "%s/%s: %s", dir, d, strerror(errno));
            return false;
        }
        sub = openat(dfd, d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            pack_errf(err, errlen, "%s/%s: not a directory (or a symlink): %s", dir, d, strerror(errno));
            return false;
        }
        leaf = slash + 1;
    }
    int fd = create_at(sub >= 0 ? sub : dfd, leaf, force, shown, err, errlen);
    if (sub >= 0) close(sub);
    if (fd < 0) return false;
    bool ok = true;
    if (mem) {
        ok = write_all(fd, mem, (size_t)size);
    } else {
        static char buf[1 << 20];
        for (uint64_t done = 0; ok && done < size;) {
            size_t want = size - done < sizeof buf ? (size_t)(size - done) : sizeof buf;
            ssize_t r = pread(src, buf, want, (off_t)(off + done));
            ok = r > 0 && write_all(fd, buf, (size_t)r);
            done += r > 0 ? (uint64_t)r : 0;
        }
    }
    ok = close(fd) == 0 && ok;
    if (!ok) pack_errf(err, errlen, "%s: write failed: %s", shown, strerror(errno));
    return ok;
}

int pack_cmd_extract(int argc, char **argv) {
    const char *path = NULL, *dir = NULL;
    bool force = false;
    bundle_trust trust = {0};
    char err[1024], inner[900];
    static const char usage[] = "[-p PUB]... [--force] BUNDLE DIR";
    if (!ms_init(err, sizeof err)) return pack_fail("extract", err);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) force = true;
        else if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--trust")) && i + 1 < argc) {
            if (!bundle_trust_add_file(&trust, argv[++i], err, sizeof err)) {
                bundle_trust_free(&trust);
                return pack_fail("extract", err);
            }
        }
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else {
            bundle_trust_free(&trust);
            return pack_usage("extract", usage, argv[i]);
        }
    }
    if (!path || !dir) {
        bundle_trust_free(&trust);
        return pack_usage("extract", usage, NULL);
    }
    bundle *b = bundle_open(path, err, sizeof err);
    /* Check everything before writing anything: the signature when keys
     * are given, and always every member's hash. */
    bool sig_ok = b && (trust.n == 0 || bundle_verify_signature(b, &trust, NULL, inner, sizeof inner));
    bundle_trust_free(&trust);
    if (!b) return pack_fail("extract", err);
    if (!sig_ok) {
        pack_errf(err, sizeof err, "%s: %s", path, inner);
        bundle_close(b);
        return pack_fail("extract", err);
    }
    progress pg;
    progress_start(&pg, "checking", bundle_file_size(b));
    bool ok = bundle_check_members(b, 0, NULL, progress_cb, &pg, inner, sizeof inner);
    progress_end(&pg);
    if (!ok) {
        pack_errf(err, sizeof err, "%s: %s", path, inner);
        bundle_close(b);
        return pack_fail("extract", err);
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        pack_errf(err, sizeof err, "%s: %s", dir, strerror(errno));
        bundle_close(b);
        return pack_fail("extract", err);
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        pack_errf(err, sizeof err, "%s: not a directory: %s", dir, strerror(errno));
        bundle_close(b);
        return pack_fail("extract", err);
    }
    size_t len;
    const char *mj = bundle_manifest_bytes(b, &len);
    ok = extract_one(dfd, dir, BUNDLE_MANIFEST, mj, -1, 0, len, force, err, sizeof err);
    if (ok && bundle_is_signed(b)) {
        const char *st = bundle_signature_text(b, &len);
        ok = extract_one(dfd, dir, BUNDLE_SIGNATURE, st, -1, 0, len, force, err, sizeof err);
    }
    for (size_t i = 0; ok && i < bundle_member_count(b); i++) {
        const bundle_member *bm = bundle_member_at(b, i);
        ok = extract_one(dfd, dir, bm->path, NULL, bundle_fd(b), bm->offset, bm->size, force, err, sizeof err);
    }
    close(dfd);
    size_t n = bundle_member_count(b);
    bundle_close(b);
    if (!ok) return pack_fail("extract", err);
    fprintf(stderr, "extracted %zu members into %s\n", n + 1, dir);
    return 0;
}
