/* build.c: validate inputs, hash, write the tar atomically. See build.h. */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "cli_util.h"
#include "gguf.h"
#include "tar.h"
#include "vcache.h"
#include "wasm_check.h"

extern char **environ;

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* One member to write: from memory, or a byte range of an open file. */
typedef struct {
    const char *path;
    const uint8_t *mem;
    int fd;
    uint64_t offset, size;
    const uint8_t *sha256;   /* expected */
    /* The input's identity when it was hashed, if its times were settled:
     * then an unchanged identity after copying proves it unchanged (a
     * write moves ctime). NULL: re-hash while copying instead. */
    const struct stat *st0;
} src_member;

static bool same_identity(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Times older than the coarse-timestamp window when st was taken at
 * time `at` (see vcache.h). */
static bool settled(const struct stat *st, time_t at) {
    return at - st->st_mtim.tv_sec >= VCACHE_RACY_SECONDS && at - st->st_ctim.tv_sec >= VCACHE_RACY_SECONDS;
}

static bool copy_member(tarw *w, const src_member *s, progress *pg, uint64_t *done, uint64_t total,
                        char *err, size_t errlen) {
    enum { CHUNK = 1 << 20 };
    char inner[300];
    if (!tarw_begin(w, s->path, s->size, err, errlen)) return false;
    if (s->mem) {
        if (!tarw_data(w, s->mem, (size_t)s->size, err, errlen)) return false;
        *done += s->size;
        return true;
    }
    uint8_t *buf = malloc(CHUNK), h[32];
    if (!buf) return fail(err, errlen, "out of memory");
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    uint64_t off = 0;
    while (off < s->size) {
        size_t want = s->size - off < CHUNK ? (size_t)(s->size - off) : CHUNK;
        ssize_t r = pread(s->fd, buf, want, (off_t)(s->offset + off));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            free(buf);
            return fail(err, errlen, "%s: input shrank or could not be read while packing", s->path);
        }
        if (!s->st0) crypto_hash_sha256_update(&st, buf, (size_t)r);
        if (!tarw_data(w, buf, (size_t)r, inner, sizeof inner)) {
            free(buf);
            return fail(err, errlen, "%s: %s", s->path, inner);
        }
        off += (uint64_t)r;
        *done += (uint64_t)r;
        progress_cb(pg, *done, total);
    }
    free(buf);
    if (s->st0) {
        struct stat now;
        if (fstat(s->fd, &now) != 0 || !same_identity(s->st0, &now))
            return fail(err, errlen, "%s: input changed while packing", s->path);
        return true;
    }
    crypto_hash_sha256_final(&st, h);
    if (memcmp(h, s->sha256, 32) != 0) return fail(err, errlen, "%s: input changed while packing", s->path);
    return true;
}

static bool write_bundle(const char *out, const char *mjson, size_t mlen, const char *sig, size_t siglen,
                         const src_member *m, size_t n, char *err, size_t errlen) {
    int64_t mtime;
    atomic_out ao;
    if (!tar_source_date_epoch(&mtime, err, errlen)) return false;
    if (!atomic_begin(&ao, out, err, errlen)) return false;
    tarw *w = tarw_open(ao.fd, mtime, err, errlen);
    bool ok = w != NULL;
    uint64_t total = mlen + siglen, done = 0;
    for (size_t i = 0; i < n; i++) total += m[i].size;
    progress pg;
    progress_start(&pg, "writing", total);
    src_member man = {BUNDLE_MANIFEST, (const uint8_t *)mjson, -1, 0, mlen, NULL, NULL};
    src_member sg = {BUNDLE_SIGNATURE, (const uint8_t *)sig, -1, 0, siglen, NULL, NULL};
    ok = ok && copy_member(w, &man, &pg, &done, total, err, errlen);
    if (ok && sig) ok = copy_member(w, &sg, &pg, &done, total, err, errlen);
    for (size_t i = 0; ok && i < n; i++) ok = copy_member(w, &m[i], &pg, &done, total, err, errlen);
    progress_end(&pg);
    if (ok) {
        ok = tarw_close(w, err, errlen);
        w = NULL;
    }
    if (w) tarw_abort(w);
    if (!ok) {
        atomic_abort(&ao);
        return false;
    }
    return atomic_commit(&ao, err, errlen);
}

char *bundle_sign_manifest(const ms_seckey *key, const manifest *m, const char *json, size_t len,
                           char *err, size_t errlen) {
    int64_t ts;
    char tc[600], uc[128], id[17];
    if (!tar_source_date_epoch(&ts, err, errlen)) return NULL;
    if (!getenv("SOURCE_DATE_EPOCH")) ts = (int64_t)time(NULL);
    snprintf(tc, sizeof tc, "timestamp:%lld\tfile:%s\tbundle:%s %s\thashed", (long long)ts, BUNDLE_MANIFEST,
             m->name, m->version);
    ms_keyid_hex(key->keyid, id);
    snprintf(uc, sizeof uc, "signature from wasmlet-pack secret key %s", id);
    return ms_sign(key, json, len, uc, tc, err, errlen);
}

/* ---- input validation --------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen) {
    char *p = ms_read_small_file(path, max, len, err, errlen);
    return (uint8_t *)p;
}

/* wasm-opt -Oz --strip-debug, through a temp file; returns the new bytes. */
static uint8_t *optimize_wasm(const char *in, size_t *len, char *err, size_t errlen) {
    const char *tmpdir = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
    char out[4096];
    snprintf(out, sizeof out, "%s/wasmlet-opt-XXXXXX", tmpdir);
    int fd = mkstemp(out);
    if (fd < 0) {
        fail(err, errlen, "--optimize: cannot create a temp file in %s: %s", tmpdir, strerror(errno));
        return NULL;
    }
    close(fd);
    char *argv[] = {"wasm-opt", "-Oz", "--strip-debug", "--strip-producers", (char *)in, "-o", out, NULL};
    pid_t pid;
    int status = 0;
    uint8_t *bytes = NULL;
    /* The child gets our environment minus the signing password. */
    size_t ne = 0;
    while (environ[ne]) ne++;
    char **envp = calloc(ne + 1, sizeof *envp);
    if (!envp) {
        unlink(out);
        fail(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0, k = 0; i < ne; i++)
        if (strncmp(environ[i], "WASMLET_PASSWORD=", 17) != 0) envp[k++] = environ[i];
    int spawned = posix_spawnp(&pid, "wasm-opt", NULL, NULL, argv, envp);
    free(envp);
    if (spawned != 0) {
        fail(err, errlen, "--optimize: cannot run wasm-opt (install binaryen)");
    } else if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fail(err, errlen, "--optimize: wasm-opt failed on %s (status %d)", in, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    } else {
        bytes = read_file(out, (size_t)1 << 30, len, err, errlen);
    }
    unlink(out);
    return bytes;
}

typedef struct {
    int fd;
    uint64_t size;
    uint8_t sha[32];
    struct stat st;   /* identity when hashed */
    time_t at;        /* when st was taken */
} input;

static bool open_input(const char *path, input *in, progress *pg, char *err, size_t errlen) {
    struct stat st;
    char inner[200];
    in->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);   /* a FIFO must not block us */
    if (in->fd < 0) return fail(err, errlen, "%s: %s", path, strerror(errno));
    if (fstat(in->fd, &in->st) != 0 || !S_ISREG(in->st.st_mode)) return fail(err, errlen, "%s: not a regular file", path);
    in->at = time(NULL);
    in->size = (uint64_t)in->st.st_size;
    progress_start(pg, "hashing", in->size);
    bool ok = bundle_hash_range(in->fd, 0, in->size, in->sha, progress_cb, pg, 0, in->size, inner, sizeof inner);
    progress_end(pg);
    if (!ok) return fail(err, errlen, "%s: %s", path, inner);
    if (fstat(in->fd, &st) != 0 || !same_identity(&st, &in->st)) return fail(err, errlen, "%s: changed while it was hashed", path);
    return true;
}

static bool has_vocab(const gguf_file *g) {
    const gguf_kv *kv;
    char e[200];
    return gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &kv, e, sizeof e) && kv->arr_len > 0;
}

static char *gstr(gguf_str s) {
    char *c = malloc((size_t)s.len + 1);
    if (c) {
        memcpy(c, s.ptr, (size_t)s.len);
        c[s.len] = 0;
    }
    return c;
}

/* Before handing a path to the GGUF reader: a FIFO or device would block
 * or never end. */
static bool regular_file(const char *what, const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) return fail(err, errlen, "%s %s: %s", what, path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(err, errlen, "%s %s: not a regular file", what, path);
    return true;
}

/* Fills architecture, quantization (the tensor type holding most bytes),
 * context length and parameter count from the GGUF. */
static bool describe_model(const char *file, manifest_model *md, bool *vocab, char *err, size_t errlen) {
    char e[300];
    if (!regular_file("model", file, err, errlen)) return false;
    gguf_file *g = gguf_open_file(file, e, sizeof e);
    if (!g) return fail(err, errlen, "model %s: %s", file, e);
    gguf_str arch;
    bool ok = gguf_get_str(g, "general.architecture", &arch, e, sizeof e);
    if (!ok) fail(err, errlen, "model %s: no general.architecture (%s)", file, e);
    if (ok && !(md->architecture = gstr(arch))) ok = fail(err, errlen, "out of memory");
    if (ok && (strlen(md->architecture) != arch.len || arch.len == 0))
        ok = fail(err, errlen, "model %s: general.architecture is empty or holds a NUL", file);
    /* Members start on 512-byte boundaries: tensor alignment survives only
     * if it divides 512. */
    if (ok && (gguf_alignment(g) == 0 || 512 % gguf_alignment(g) != 0))
        ok = fail(err, errlen, "model %s: general.alignment %u does not divide 512, tensors would lose their alignment in the bundle",
                  file, gguf_alignment(g));
    uint64_t n = gguf_tensor_count(g);
    if (ok && n == 0) ok = fail(err, errlen, "model %s: no tensors", file);
    uint64_t bytes_by_type[64] = {0}, params = 0;
    for (uint64_t i = 0; ok && i < n; i++) {
        const gguf_tensor *t = gguf_tensor_at(g, i);
        params += t->n_elems;
        if (t->type < 64) bytes_by_type[t->type] += t->n_bytes;
    }
    if (ok) {
        uint32_t best = 0;
        for (uint32_t t = 0; t < 64; t++)
            if (bytes_by_type[t] > bytes_by_type[best]) best = t;
        const gguf_type_info *ti = gguf_tensor_type_info(best);
        md->quantization = strdup(ti ? ti->name : "unknown");
        md->parameter_count = params;
        char key[128];
        snprintf(key, sizeof key, "%s.context_length", md->architecture);
        uint64_t ctx = 0;
        if (!gguf_get_u64(g, key, &ctx, e, sizeof e)) ctx = 0;
        md->context_length = ctx;
        *vocab = has_vocab(g);
        if (!md->quantization) ok = fail(err, errlen, "out of memory");
    }
    gguf_close(g);
    return ok;
}

static bundle_wasm_checker wasm_checker;
void bundle_set_wasm_checker(bundle_wasm_checker fn) { wasm_checker = fn; }

bool bundle_build(const build_opts *o, char *err, size_t errlen) {
    manifest m = {0};
    input tok_in = {.fd = -1}, mod_in[MANIFEST_MAX_MODELS];
    uint8_t *wasm = NULL, wasm_sha[32];
    size_t wasm_len = 0, n_imports = 0;
    char *json = NULL, *sig = NULL, e[400];
    progress pg;
    bool ok = false;
    for (size_t i = 0; i < MANIFEST_MAX_MODELS; i++) mod_in[i].fd = -1;

    if (o->n_models == 0) {
        fail(err, errlen, "build: at least one --model alias=FILE is required");
        goto out;
    }
    if (o->n_models > MANIFEST_MAX_MODELS) {
        fail(err, errlen, "build: at most %d models", MANIFEST_MAX_MODELS);
        goto out;
    }
    /* The guest. */
    wasm = o->optimize ? optimize_wasm(o->wasm_path, &wasm_len, e, sizeof e)
                       : read_file(o->wasm_path, (size_t)1 << 30, &wasm_len, e, sizeof e);
    if (!wasm) {
        fail(err, errlen, "%s", e);
        goto out;
    }
    if (!wasm_check(wasm, wasm_len, &n_imports, e, sizeof e)) {
        fail(err, errlen, "%s: %s", o->wasm_path, e);
        goto out;
    }
    if (wasm_checker && !wasm_checker(wasm, wasm_len, e, sizeof e)) {
        fail(err, errlen, "%s: %s", o->wasm_path, e);
        goto out;
    }
    crypto_hash_sha256(wasm_sha, wasm, wasm_len);

    /* Models, then the tokenizer. */
    m.models = calloc(o->n_models, sizeof *m.models);
    m.members = calloc(2 + o->n_models, sizeof *m.members);
    if (!m.models || !m.members) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    size_t tok_from = 0;
    bool tok_vocab = false;
    for (size_t i = 0; i < o->n_models; i++) {
        manifest_model *md = &m.models[i];
        char path[96];
        bool vocab = false;
        m.n_models = i + 1;
        if (!manifest_alias_ok(o->models[i].alias)) {
            fail(err, errlen, "--model %s: bad alias (1-64 of A-Z a-z 0-9 _ - ., not starting with .)", o->models[i].alias);
            goto out;
        }
        snprintf(path, sizeof path, "models/%s.gguf", o->models[i].alias);
        md->alias = strdup(o->models[i].alias);
        md->path = strdup(path);
        if (!md->alias || !md->path) {
            fail(err, errlen, "out of memory");
            goto out;
        }
        if (!describe_model(o->models[i].file, md, &vocab, err, errlen)) goto out;
        if (!strcmp(md->alias, "default")) tok_from = i;
        if (i == tok_from) tok_vocab = vocab;
    }
    if (o->tokenizer_path) {
        char te[300];
        if (!regular_file("tokenizer", o->tokenizer_path, err, errlen)) goto out;
        gguf_file *g = gguf_open_file(o->tokenizer_path, te, sizeof te);
        if (!g) {
            fail(err, errlen, "tokenizer %s: %s", o->tokenizer_path, te);
            goto out;
        }
        bool v = has_vocab(g);
        gguf_close(g);
        if (!v) {
            fail(err, errlen, "tokenizer %s: no tokenizer.ggml.tokens vocabulary", o->tokenizer_path);
            goto out;
        }
    } else if (!tok_vocab) {
        fail(err, errlen, "model '%s' has no tokenizer.ggml.tokens vocabulary: give --tokenizer FILE",
             o->models[tok_from].alias);
        goto out;
    }

    /* Hash every input once; copying re-checks the hashes. */
    if (o->tokenizer_path && !open_input(o->tokenizer_path, &tok_in, &pg, err, errlen)) goto out;
    for (size_t i = 0; i < o->n_models; i++)
        if (!open_input(o->models[i].file, &mod_in[i], &pg, err, errlen)) goto out;

    m.name = strdup(o->name ? o->name : "");
    m.version = strdup(o->version ? o->version : "");
    m.description = strdup(o->description ? o->description : "");
    m.wasm = strdup(MANIFEST_WASM_PATH);
    m.tokenizer = strdup(o->tokenizer_path ? MANIFEST_TOKENIZER_PATH : m.models[tok_from].path);
    m.dirs = (manifest_dir *)o->dirs;   /* borrowed; detached before manifest_free */
    m.n_dirs = o->n_dirs;
    m.env = (manifest_env *)o->env;
    m.n_env = o->n_env;
    m.max_memory = o->max_memory;
    m.timeout_seconds = o->timeout_seconds;
    m.ctx_size = o->ctx_size;
    src_member src[2 + MANIFEST_MAX_MODELS];
    size_t k = 0;
    src[k] = (src_member){MANIFEST_WASM_PATH, wasm, -1, 0, wasm_len, wasm_sha, NULL};
    m.members[k++] = (manifest_member){strdup(MANIFEST_WASM_PATH), wasm_len, {0}};
    memcpy(m.members[0].sha256, wasm_sha, 32);
    if (o->tokenizer_path) {
        src[k] = (src_member){MANIFEST_TOKENIZER_PATH, NULL, tok_in.fd, 0, tok_in.size, tok_in.sha,
                              settled(&tok_in.st, tok_in.at) ? &tok_in.st : NULL};
        m.members[k] = (manifest_member){strdup(MANIFEST_TOKENIZER_PATH), tok_in.size, {0}};
        memcpy(m.members[k++].sha256, tok_in.sha, 32);
    }
    for (size_t i = 0; i < o->n_models; i++) {
        src[k] = (src_member){m.models[i].path, NULL, mod_in[i].fd, 0, mod_in[i].size, mod_in[i].sha,
                              settled(&mod_in[i].st, mod_in[i].at) ? &mod_in[i].st : NULL};
        m.members[k] = (manifest_member){strdup(m.models[i].path), mod_in[i].size, {0}};
        memcpy(m.members[k++].sha256, mod_in[i].sha, 32);
    }
    m.n_members = k;
    for (size_t i = 0; i < k; i++)
        if (!m.members[i].path) {
            fail(err, errlen, "out of memory");
            goto out;
        }
    if (!m.name || !m.version || !m.description || !m.wasm || !m.tokenizer) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    if (!manifest_validate(&m, e, sizeof e)) {
        fail(err, errlen, "build: %s", e);
        goto out;
    }
    size_t jlen;
    json = manifest_to_json(&m, &jlen);
    if (!json) {
        fail(err, errlen, "out of memory");
        goto out;
    }
    if (o->key && !(sig = bundle_sign_manifest(o->key, &m, json, jlen, err, errlen))) goto out;
    ok = write_bundle(o->out, json, jlen, sig, sig ? strlen(sig) : 0, src, k, err, errlen);
out:
    m.dirs = NULL;
    m.n_dirs = 0;
    m.env = NULL;
    m.n_env = 0;
    manifest_free(&m);
    free(wasm);
    free(json);
    free(sig);
    if (tok_in.fd >= 0) close(tok_in.fd);
    for (size_t i = 0; i < MANIFEST_MAX_MODELS; i++)
        if (mod_in[i].fd >= 0) close(mod_in[i].fd);
    return ok;
}

/* Rewrites the bundle with a signature: made with key, or an external one
 * (sig_text) that must verify with pk. */
static bool resign(const char *path, const ms_seckey *key, const char *sig_text, const ms_pubkey *pk,
                   char *err, size_t errlen) {
    bundle *b = bundle_open(path, err, errlen);
    if (!b) return false;
    progress pg;
    char e[400];
    struct stat st0;
    time_t at = time(NULL);
    if (fstat(bundle_fd(b), &st0) != 0) {
        fail(err, errlen, "%s: fstat: %s", path, strerror(errno));
        bundle_close(b);
        return false;
    }
    progress_start(&pg, "checking", bundle_file_size(b));
    bool ok = bundle_check_members(b, BUNDLE_VERIFY_FULL, NULL, progress_cb, &pg, e, sizeof e);
    progress_end(&pg);
    if (!ok) {
        fail(err, errlen, "%s: refusing to sign: %s", path, e);
        bundle_close(b);
        return false;
    }
    size_t mlen;
    const char *mj = bundle_manifest_bytes(b, &mlen);
    char *sig = NULL;
    if (key) {
        sig = bundle_sign_manifest(key, bundle_manifest(b), mj, mlen, err, errlen);
    } else {
        ms_signature s;
        char id[17];
        if (!ms_sig_parse(sig_text, strlen(sig_text), &s, e, sizeof e)) {
            fail(err, errlen, "%s", e);
        } else if (!ms_sig_verify(&s, pk, mj, mlen, e, sizeof e)) {
            ms_keyid_hex(s.keyid, id);
            fail(err, errlen, "the signature (key %s) does not verify against this bundle's manifest: %s", id, e);
        } else if (!(sig = strdup(sig_text))) {
            fail(err, errlen, "out of memory");
        }
    }
    src_member src[2 + MANIFEST_MAX_MODELS];
    size_t n = bundle_member_count(b);
    for (size_t i = 0; i < n; i++) {
        const bundle_member *bm = bundle_member_at(b, i);
        src[i] = (src_member){bm->path, NULL, bundle_fd(b), bm->offset, bm->size, bm->sha256,
                              settled(&st0, at) ? &st0 : NULL};
    }
    ok = sig && write_bundle(path, mj, mlen, sig, strlen(sig), src, n, err, errlen);
    free(sig);
    bundle_close(b);
    return ok;
}

bool bundle_resign(const char *path, const ms_seckey *key, char *err, size_t errlen) {
    return resign(path, key, NULL, NULL, err, errlen);
}

bool bundle_attach_signature(const char *path, const char *sig_text, const ms_pubkey *pk, char *err, size_t errlen) {
    return resign(path, NULL, sig_text, pk, err, errlen);
}
