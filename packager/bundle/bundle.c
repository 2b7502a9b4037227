/* bundle.c: the bundle reader: structure, signature, member hashes.
 * See bundle.h. */
#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hugemap.h"
#include "tar.h"
#include "vcache.h"

struct bundle {
    int fd;
    struct stat st;
    char *manifest_text;
    size_t manifest_len;
    uint8_t manifest_sha[32];
    char *sig_text;
    size_t sig_len;
    bool is_signed;
    ms_signature sig;
    manifest m;
    bundle_member *members;
    size_t n_members;
};

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

static char *read_member(int fd, const tar_entry *e, size_t max, const char *what, char *err, size_t errlen) {
    if (e->size > max) {
        fail(err, errlen, "%s is %llu bytes, more than the %zu allowed", what, (unsigned long long)e->size, max);
        return NULL;
    }
    char *buf = malloc((size_t)e->size + 1);
    size_t got = 0;
    while (buf && got < e->size) {
        ssize_t r = pread(fd, buf + got, (size_t)e->size - got, (off_t)(e->data_offset + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (!buf || got != e->size) {
        free(buf);
        fail(err, errlen, "%s: read error", what);
        return NULL;
    }
    buf[got] = 0;
    return buf;
}

/* Why an unexpected entry is wrong, in the user's terms. */
static void unexpected(const bundle *b, size_t k, const char *name, const char *expected, char *err, size_t errlen) {
    if (!strcmp(name, BUNDLE_SIGNATURE) && !b->is_signed) {
        fail(err, errlen, "member '%s' is out of order: it must directly follow '%s'", name, BUNDLE_MANIFEST);
        return;
    }
    if (!strcmp(name, BUNDLE_MANIFEST) || !strcmp(name, BUNDLE_SIGNATURE)) {
        fail(err, errlen, "duplicate member '%s'", name);
        return;
    }
    for (size_t i = 0; i < k; i++)
        if (!strcmp(b->m.members[i].path, name)) {
            fail(err, errlen, "duplicate member '%s'", name);
            return;
        }
    if (manifest_find_member(&b->m, name)) {
        fail(err, errlen, "member '%s' is out of order: expected '%s' here (the manifest fixes the order)", name, expected);
        return;
    }
    fail(err, errlen, "member '%s' is not listed in the manifest", name);
}

static bool walk(bundle *b, const char *path, char *err, size_t errlen) {
    uint64_t size = (uint64_t)b->st.st_size, pos = 0;
    tar_entry e;
    char inner[400];
    if (size == 0) return fail(err, errlen, "%s: empty file, not a bundle", path);
    if (size < 3 * TAR_BLOCK) return fail(err, errlen, "%s: %llu bytes, too small to be a bundle", path, (unsigned long long)size);
    int r = tar_next(b->fd, size, &pos, &e, inner, sizeof inner);
    if (r < 0) return fail(err, errlen, "%s: not a bundle: %s", path, inner);
    if (r == 0) return fail(err, errlen, "%s: empty archive, not a bundle", path);
    if (strcmp(e.path, BUNDLE_MANIFEST) != 0)
        return fail(err, errlen, "%s: first member is '%s', expected '%s'", path, e.path, BUNDLE_MANIFEST);
    if (!(b->manifest_text = read_member(b->fd, &e, MANIFEST_MAX_BYTES, BUNDLE_MANIFEST, inner, sizeof inner)))
        return fail(err, errlen, "%s: %s", path, inner);
    b->manifest_len = (size_t)e.size;
    crypto_hash_sha256(b->manifest_sha, (const uint8_t *)b->manifest_text, b->manifest_len);
    if (!manifest_parse(b->manifest_text, b->manifest_len, &b->m, inner, sizeof inner))
        return fail(err, errlen, "%s: %s", path, inner);

    size_t entries = 1, k = 0;
    for (;;) {
        r = tar_next(b->fd, size, &pos, &e, inner, sizeof inner);
        if (r < 0) return fail(err, errlen, "%s: %s", path, inner);
        if (r == 0) break;
        if (++entries > BUNDLE_MAX_ENTRIES)
            return fail(err, errlen, "%s: more than %d archive members (tar bomb?)", path, BUNDLE_MAX_ENTRIES);
        if (entries == 2 && !strcmp(e.path, BUNDLE_SIGNATURE)) {
            if (!(b->sig_text = read_member(b->fd, &e, BUNDLE_SIG_MAX, BUNDLE_SIGNATURE, inner, sizeof inner)))
                return fail(err, errlen, "%s: %s", path, inner);
            b->sig_len = (size_t)e.size;
            if (!ms_sig_parse(b->sig_text, b->sig_len, &b->sig, inner, sizeof inner))
                return fail(err, errlen, "%s: %s: %s", path, BUNDLE_SIGNATURE, inner);
            b->is_signed = true;
            continue;
        }
        if (k == b->m.n_members) {
            unexpected(b, k, e.path, "the end of the archive", inner, sizeof inner);
            return fail(err, errlen, "%s: %s", path, inner);
        }
        const manifest_member *mm = &b->m.members[k];
        if (strcmp(e.path, mm->path) != 0) {
            unexpected(b, k, e.path, mm->path, inner, sizeof inner);
            return fail(err, errlen, "%s: %s", path, inner);
        }
        if (e.size != mm->size)
            return fail(err, errlen, "%s: member '%s' is %llu bytes in the archive, the manifest says %llu",
                        path, e.path, (unsigned long long)e.size, (unsigned long long)mm->size);
        b->members[k] = (bundle_member){mm->path, e.data_offset, e.size, mm->sha256};
        k++;
    }
    if (k < b->m.n_members)
        return fail(err, errlen, "%s: member '%s' listed in the manifest is missing from the archive", path, b->m.members[k].path);
    b->n_members = k;
    return true;
}

bundle *bundle_open(const char *path, char *err, size_t errlen) {
    bundle *b = calloc(1, sizeof *b);
    if (!b) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    b->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);   /* a FIFO must not block us */
    if (b->fd < 0) {
        fail(err, errlen, "%s: %s", path, strerror(errno));
        free(b);
        return NULL;
    }
    if (fstat(b->fd, &b->st) != 0 || !S_ISREG(b->st.st_mode)) {
        fail(err, errlen, "%s: not a regular file", path);
        bundle_close(b);
        return NULL;
    }
    b->members = calloc(2 + MANIFEST_MAX_MODELS, sizeof *b->members);
    if (!b->members || !walk(b, path, err, errlen)) {
        if (!b->members) fail(err, errlen, "out of memory");
        bundle_close(b);
        return NULL;
    }
    return b;
}

void bundle_close(bundle *b) {
    if (!b) return;
    if (b->fd >= 0) close(b->fd);
    free(b->manifest_text);
    free(b->sig_text);
    manifest_free(&b->m);
    free(b->members);
    free(b);
}

const manifest *bundle_manifest(const bundle *b) { return &b->m; }
const char *bundle_manifest_bytes(const bundle *b, size_t *len) {
    *len = b->manifest_len;
    return b->manifest_text;
}
const uint8_t *bundle_manifest_sha256(const bundle *b) { return b->manifest_sha; }
size_t bundle_member_count(const bundle *b) { return b->n_members; }
const bundle_member *bundle_member_at(const bundle *b, size_t i) { return i < b->n_members ? &b->members[i] : NULL; }
int bundle_fd(const bundle *b) { return b->fd; }
uint64_t bundle_file_size(const bundle *b) { return (uint64_t)b->st.st_size; }
bool bundle_is_signed(const bundle *b) { return b->is_signed; }
const ms_signature *bundle_signature(const bundle *b) { return b->is_signed ? &b->sig : NULL; }
const char *bundle_signature_text(const bundle *b, size_t *len) {
    *len = b->sig_len;
    return b->sig_text;
}

const bundle_member *bundle_find(const bundle *b, const char *path) {
    for (size_t i = 0; i < b->n_members; i++)
        if (!strcmp(b->members[i].path, path)) return &b->members[i];
    return NULL;
}

/* ---- trust ------------------------------------------------------------- */

bool bundle_trust_add_file(bundle_trust *t, const char *path, char *err, size_t errlen) {
    ms_pubkey pk;
    if (!ms_pubkey_load(path, &pk, err, errlen)) return false;
    ms_pubkey *k = realloc(t->keys, (t->n + 1) * sizeof *k);
    if (!k) return fail(err, errlen, "out of memory");
    t->keys = k;
    t->keys[t->n++] = pk;
    return true;
}

/* Whoever can write a trusted key (or its folder) decides what runs: only
 * the user and root may. */
static bool safe_owner(const struct stat *st) {
    return (st->st_uid == geteuid() || st->st_uid == 0) && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

bool bundle_trust_add_dir(bundle_trust *t, const char *dir, char *err, size_t errlen) {
    struct stat st;
    if (lstat(dir, &st) != 0) return errno == ENOENT ? true : fail(err, errlen, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return fail(err, errlen, "trusted keys: %s is not a directory", dir);
    if (!safe_owner(&st))
        return fail(err, errlen, "trusted keys: %s can be written by other users (fix with chmod go-w); not trusting it", dir);
    DIR *d = opendir(dir);
    if (!d) return fail(err, errlen, "%s: %s", dir, strerror(errno));
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".pub") != 0 || de->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode))
            ok = fail(err, errlen, "trusted keys: %s is not a regular file (symlinks are not followed here)", p);
        else if (!safe_owner(&st))
            ok = fail(err, errlen, "trusted keys: %s can be written by other users (fix with chmod go-w); not trusting it", p);
        else
            ok = bundle_trust_add_file(t, p, err, errlen);
    }
    closedir(d);
    return ok;
}

bool bundle_trust_add_user_dir(bundle_trust *t, char *err, size_t errlen) {
    const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
    char dir[4096];
    if (x && x[0] == '/') snprintf(dir, sizeof dir, "%s/wasmlet/trusted-keys", x);
    else if (h && h[0] == '/') snprintf(dir, sizeof dir, "%s/.config/wasmlet/trusted-keys", h);
    else return true;
    return bundle_trust_add_dir(t, dir, err, errlen);
}

void bundle_trust_free(bundle_trust *t) {
    free(t->keys);
    t->keys = NULL;
    t->n = 0;
}

bool bundle_verify_signature(const bundle *b, const bundle_trust *t, const ms_pubkey **signer,
                             char *err, size_t errlen) {
    char id[17], inner[256];
    if (!b->is_signed) return fail(err, errlen, "bundle is not signed");
    ms_keyid_hex(b->sig.keyid, id);
    for (size_t i = 0; i < t->n; i++) {
        if (memcmp(t->keys[i].keyid, b->sig.keyid, MS_KEYID_BYTES) != 0) continue;
        if (!ms_sig_verify(&b->sig, &t->keys[i], b->manifest_text, b->manifest_len, inner, sizeof inner))
            return fail(err, errlen, "signature by key %s is invalid (%s)", id, inner);
        if (signer) *signer = &t->keys[i];
        return true;
    }
    return fail(err, errlen, "bundle is signed by key %s, which is not trusted%s", id,
                t->n ? "" : " (no trusted keys given)");
}

/* ---- members ----------------------------------------------------------- */

bool bundle_hash_range(int fd, uint64_t offset, uint64_t n, uint8_t out[32],
                       bundle_progress_fn progress, void *ctx, uint64_t done_before, uint64_t total,
                       char *err, size_t errlen) {
    enum { CHUNK = 1 << 20 };
    crypto_hash_sha256_state st;
    uint8_t *buf = malloc(CHUNK);
    if (!buf) return fail(err, errlen, "out of memory");
    crypto_hash_sha256_init(&st);
    uint64_t done = 0;
    while (done < n) {
        size_t want = n - done < CHUNK ? (size_t)(n - done) : CHUNK;
        ssize_t r = pread(fd, buf, want, (off_t)(offset + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            free(buf);
            return fail(err, errlen, "read error at offset %llu%s", (unsigned long long)(offset + done),
                        r == 0 ? " (file shrank)" : "");
        }
        crypto_hash_sha256_update(&st, buf, (size_t)r);
        done += (uint64_t)r;
        if (progress) progress(ctx, done_before + done, total);
    }
    free(buf);
    crypto_hash_sha256_final(&st, out);
    return true;
}

bool bundle_check_members(bundle *b, unsigned flags, bool *cached, bundle_progress_fn progress,
                          void *progress_ctx, char *err, size_t errlen) {
    struct stat before, after;
    bool use_cache = !(flags & BUNDLE_NO_CACHE);
    if (cached) *cached = false;
    if (fstat(b->fd, &before) != 0) return fail(err, errlen, "fstat: %s", strerror(errno));
    time_t started = time(NULL);
    if (use_cache && !(flags & BUNDLE_VERIFY_FULL) && vcache_lookup(&before, b->manifest_sha)) {
        if (cached) *cached = true;
        return true;
    }
    uint64_t total = 0, done = 0;
    for (size_t i = 0; i < b->n_members; i++) total += b->members[i].size;
    for (size_t i = 0; i < b->n_members; i++) {
        const bundle_member *m = &b->members[i];
        uint8_t h[32];
        char inner[200];
        if (!bundle_hash_range(b->fd, m->offset, m->size, h, progress, progress_ctx, done, total, inner, sizeof inner))
            return fail(err, errlen, "member '%s': %s", m->path, inner);
        if (sodium_memcmp(h, m->sha256, 32) != 0) {
            char got[65], want[65];
            sha256_hex(h, got);
            sha256_hex(m->sha256, want);
            return fail(err, errlen, "member '%s': SHA-256 mismatch: content is %.16s..., the manifest says %.16s...",
                        m->path, got, want);
        }
        done += m->size;
    }
    if (use_cache && fstat(b->fd, &after) == 0) vcache_store(&before, &after, started, b->manifest_sha);
    return true;
}

bool bundle_map_member(const bundle *b, const bundle_member *m, const void **data, void **base,
                       size_t *len, char *err, size_t errlen) {
    long page = sysconf(_SC_PAGESIZE);
    uint64_t start = m->offset / (uint64_t)page * (uint64_t)page;
    uint64_t l = m->offset + m->size - start;
    if (l == 0 || l > SIZE_MAX) return fail(err, errlen, "member '%s': cannot map %llu bytes", m->path, (unsigned long long)l);
    void *p = hugemap_file(b->fd, start, (size_t)l);
    if (p == MAP_FAILED) return fail(err, errlen, "member '%s': mmap: %s", m->path, strerror(errno));
    *base = p;
    *len = (size_t)l;
    *data = (const uint8_t *)p + (m->offset - start);
    return true;
}

void bundle_unmap(void *base, size_t len) {
    if (base) munmap(base, len);
}

bundle *bundle_open_verified(const char *path, const char *const *trust_files, size_t n_trust,
                             bool allow_unsigned, unsigned flags, char *err, size_t errlen) {
    char inner[900];
    bundle_trust t = {0};
    bundle *b = bundle_open(path, err, errlen);
    if (!b) return NULL;
    bool ok = true;
    for (size_t i = 0; ok && i < n_trust; i++) ok = bundle_trust_add_file(&t, trust_files[i], inner, sizeof inner);
    if (ok) ok = bundle_trust_add_user_dir(&t, inner, sizeof inner);
    if (ok && (bundle_is_signed(b) || !allow_unsigned)) {
        ok = bundle_verify_signature(b, &t, NULL, inner, sizeof inner);
        if (!ok && !bundle_is_signed(b)) {
            size_t l = strlen(inner);
            snprintf(inner + l, sizeof inner - l, " (use --allow-unsigned to run it anyway)");
        }
    }
    if (ok) ok = bundle_check_members(b, flags, NULL, NULL, NULL, inner, sizeof inner);
    bundle_trust_free(&t);
    if (!ok) {
        fail(err, errlen, "%s: %s", path, inner);
        bundle_close(b);
        return NULL;
    }
    return b;
}
