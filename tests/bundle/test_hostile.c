/* test_hostile.c: hostile bundles, each refused with its own message and
 * nothing written anywhere. The archives are assembled here by hand (our
 * own ustar headers), so the reader meets layouts no writer would make. */
#include <sodium.h>

#include "build.h"
#include "bundle.h"
#include "tb.h"

static char err[1024];
static ms_seckey key_k, key_o;
static bundle_trust trust;

/* ---- a hand-made tar writer --------------------------------------------- */

typedef struct { uint8_t *p; size_t n, cap; } buf;

static void put(buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 4096;
        b->p = realloc(b->p, b->cap);
    }
    if (p) memcpy(b->p + b->n, p, n);
    else memset(b->p + b->n, 0, n);
    b->n += n;
}

static void pad(buf *b) {
    if (b->n % 512) put(b, NULL, 512 - b->n % 512);
}

static void header(buf *b, const char *name, uint64_t size, char type, const char *magic) {
    uint8_t h[512] = {0};
    snprintf((char *)h, 100, "%s", name);
    memcpy(h + 100, "0000644", 8);
    memcpy(h + 108, "0000000", 8);
    memcpy(h + 116, "0000000", 8);
    snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
    memcpy(h + 136, "00000000000", 12);
    h[156] = (uint8_t)type;
    memcpy(h + 257, magic, 8);
    memcpy(h + 148, "        ", 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    put(b, h, 512);
}

typedef struct {
    const char *name;
    const void *data;
    size_t len;
    char type;              /* '0' unless testing other kinds */
    uint64_t header_size;   /* 0: len */
    const char *pax;        /* a pax record to put before it, or NULL */
} entry;

static void write_entries(buf *b, const entry *e, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (e[i].pax) {
            header(b, "PaxHeader", strlen(e[i].pax), 'x', "ustar\0" "00");
            put(b, e[i].pax, strlen(e[i].pax));
            pad(b);
        }
        header(b, e[i].name, e[i].header_size ? e[i].header_size : e[i].len, e[i].type ? e[i].type : '0', "ustar\0" "00");
        put(b, e[i].data, e[i].len);
        pad(b);
    }
}

/* One pax record "<len> <kv>\n", its length counting its own digits. */
static const char *pax(const char *kv) {
    static char ring[8][128];
    static int k;
    char *r = ring[k++ % 8];
    size_t n = strlen(kv) + 2, d = 1;
    while (snprintf(NULL, 0, "%zu", n + d) != (int)d) d++;
    snprintf(r, 128, "%zu %s\n", n + d, kv);
    return r;
}

static void end(buf *b) {
    put(b, NULL, 1024);
    if (b->n % 10240) put(b, NULL, 10240 - b->n % 10240);
}

/* ---- the pieces of a valid bundle --------------------------------------- */

static const char tok_data[] = "tokenizer bytes";
static const char m1_data[] = "model one: not really a GGUF, the reader only hashes it";
static const char m2_data[] = "model two";

static char *manifest_json_sized(const char *description, uint64_t second_size, size_t *len);
static char *manifest_json(const char *description, size_t *len) {
    return manifest_json_sized(description, sizeof m2_data - 1, len);
}

static char *manifest_json_sized(const char *description, uint64_t second_size, size_t *len) {
    manifest m = {0};
    manifest_member mem[4] = {
        {"app.wasm", sizeof tb_wasm, {0}},
        {"tokenizer.gguf", sizeof tok_data - 1, {0}},
        {"models/default.gguf", sizeof m1_data - 1, {0}},
        {"models/second.gguf", second_size, {0}},
    };
    crypto_hash_sha256(mem[0].sha256, tb_wasm, sizeof tb_wasm);
    crypto_hash_sha256(mem[1].sha256, (const uint8_t *)tok_data, sizeof tok_data - 1);
    crypto_hash_sha256(mem[2].sha256, (const uint8_t *)m1_data, sizeof m1_data - 1);
    crypto_hash_sha256(mem[3].sha256, (const uint8_t *)m2_data, sizeof m2_data - 1);
    manifest_model models[2] = {
        {"default", "models/default.gguf", "llama", "F32", 128, 1000},
        {"second", "models/second.gguf", "llama", "Q8_0", 128, 1000},
    };
    m.name = "demo";
    m.version = "1";
    m.description = (char *)description;
    m.wasm = "app.wasm";
    m.tokenizer = "tokenizer.gguf";
    m.members = mem;
    m.n_members = 4;
    m.models = models;
    m.n_models = 2;
    return manifest_to_json(&m, len);
}

static char *sign(const ms_seckey *k, const char *json, size_t len) {
    manifest m = {.name = "demo", .version = "1"};
    char *s = bundle_sign_manifest(k, &m, json, len, err, sizeof err);
    CHECK(s != NULL, "%s", err);
    return s;
}

static char *mj, *sig_k;
static size_t mj_len;

/* The canonical entry list: manifest, signature, wasm, tokenizer, models. */
static size_t valid_entries(entry *e) {
    e[0] = (entry){"manifest.json", mj, mj_len, 0, 0, NULL};
    e[1] = (entry){"manifest.json.minisig", sig_k, strlen(sig_k), 0, 0, NULL};
    e[2] = (entry){"app.wasm", tb_wasm, sizeof tb_wasm, 0, 0, NULL};
    e[3] = (entry){"tokenizer.gguf", tok_data, sizeof tok_data - 1, 0, 0, NULL};
    e[4] = (entry){"models/default.gguf", m1_data, sizeof m1_data - 1, 0, 0, NULL};
    e[5] = (entry){"models/second.gguf", m2_data, sizeof m2_data - 1, 0, 0, NULL};
    return 6;
}

static buf archive(const entry *e, size_t n) {
    buf b = {0};
    write_entries(&b, e, n);
    end(&b);
    return b;
}

/* ---- the check ---------------------------------------------------------- */

/* Opens, verifies the signature against key k, hashes every member; the
 * first failure's message must contain want (NULL: must be accepted).
 * Then the CLI: verify must fail, extract (with the key) must fail without
 * creating its target directory. */
static void expect(const char *label, const uint8_t *p, size_t n, const char *want) {
    const char *path = tb_path("hostile.wasmlet");
    CHECK(tb_write(path, p, n), "write");
    bundle *b = bundle_open(path, err, sizeof err);
    bool ok = b != NULL;
    if (ok) ok = bundle_verify_signature(b, &trust, NULL, err, sizeof err);
    if (ok) ok = bundle_check_members(b, BUNDLE_VERIFY_FULL, NULL, NULL, NULL, err, sizeof err);
    bundle_close(b);
    if (!want) {
        CHECK(ok, "%s: valid bundle refused: %s", label, err);
        return;
    }
    CHECK(!ok, "%s: accepted", label);
    CHECK(strstr(err, want) != NULL, "%s: message \"%s\" lacks \"%s\"", label, err, want);
    if (getenv("TB_VERBOSE")) printf("%-28s -> %s\n", label, err);
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("k.pub"), path, NULL) == 1, "%s: verify CLI", label);
    CHECK(tb_run(pack_cmd_extract, "extract", "-p", tb_path("k.pub"), path, tb_path("never"), NULL) == 1,
          "%s: extract CLI", label);
    CHECK(!tb_exists(tb_path("never")), "%s: extract wrote something", label);
}

static void expect_entries(const char *label, const entry *e, size_t n, const char *want) {
    buf b = archive(e, n);
    expect(label, b.p, b.n, want);
    free(b.p);
}

/* Offset of the data of the k-th regular entry of a hand-made archive. */
static size_t data_offset(const entry *e, size_t k) {
    size_t off = 0;
    for (size_t i = 0; i <= k; i++) {
        off += 512;
        if (i == k) return off;
        off += (e[i].len + 511) / 512 * 512;
    }
    return off;
}

int main(void) {
    tb_tmpdir();
    CHECK(ms_init(err, sizeof err), "%s", err);
    CHECK(tb_run(pack_cmd_keygen, "keygen", "-p", tb_path("k.pub"), "-s", tb_path("k.sec"), "-W", NULL) == 0, "keygen");
    ms_seckey_file f;
    CHECK(ms_seckey_load(tb_path("k.sec"), &f, err, sizeof err) && ms_seckey_unlock(&f, NULL, &key_k, err, sizeof err), "%s", err);
    ms_pubkey opk;
    ms_keygen(&opk, &key_o);
    CHECK(bundle_trust_add_file(&trust, tb_path("k.pub"), err, sizeof err), "%s", err);

    mj = manifest_json("", &mj_len);
    sig_k = sign(&key_k, mj, mj_len);
    entry e[64], v[64];
    size_t n = valid_entries(v);
    expect_entries("valid", v, n, NULL);

    /* Bit flips in each member. */
    {
        buf b = archive(v, n);
        static const char *const want[] = {"is invalid", "trusted comment was modified", "member 'app.wasm': SHA-256 mismatch",
                                           "member 'tokenizer.gguf': SHA-256", "member 'models/default.gguf': SHA-256",
                                           "member 'models/second.gguf': SHA-256"};
        for (size_t k = 0; k < n; k++) {
            size_t at = data_offset(v, k);
            if (k == 0) at += (size_t)(strstr(mj, "\"demo\"") - mj) + 1;           /* in the name */
            if (k == 1) at += (size_t)(strstr(sig_k, "\ntrusted comment: ") - sig_k) + 21;
            if (k >= 2) at += v[k].len / 2;
            b.p[at] ^= 0x02;
            char label[64];
            snprintf(label, sizeof label, "bit flip in %s", v[k].name);
            expect(label, b.p, b.n, want[k]);
            b.p[at] ^= 0x02;
        }
        expect("bit flips undone", b.p, b.n, NULL);
        /* The untrusted comment is, as in minisign, not covered. */
        b.p[data_offset(v, 1) + 25] ^= 0x02;
        expect("untrusted comment changed", b.p, b.n, NULL);
        free(b.p);
    }

    /* Added, removed, reordered, duplicated, renamed members. */
    memcpy(e, v, sizeof v);
    e[n] = (entry){"extra.txt", "hi", 2, 0, 0, NULL};
    expect_entries("member added", e, n + 1, "member 'extra.txt' is not listed in the manifest");
    expect_entries("model removed", v, n - 1, "member 'models/second.gguf' listed in the manifest is missing");
    expect_entries("wasm removed", v + 0, 2, "member 'app.wasm' listed in the manifest is missing");
    memcpy(e, v, sizeof v);
    e[2] = v[3];
    e[3] = v[2];
    expect_entries("reordered", e, n, "member 'tokenizer.gguf' is out of order: expected 'app.wasm'");
    memcpy(e, v, sizeof v);
    memmove(e + 4, e + 3, 3 * sizeof *e);
    e[3] = v[2];
    expect_entries("duplicated", e, n + 1, "duplicate member 'app.wasm'");
    memcpy(e, v, sizeof v);
    e[n] = v[0];
    expect_entries("manifest duplicated", e, n + 1, "duplicate member 'manifest.json'");
    memcpy(e, v, sizeof v);
    e[2].name = "app2.wasm";
    expect_entries("renamed", e, n, "member 'app2.wasm' is not listed in the manifest");
    memcpy(e, v, sizeof v);
    e[0] = v[2];
    expect_entries("manifest not first", e, n, "first member is 'app.wasm', expected 'manifest.json'");
    memcpy(e, v, sizeof v);
    e[1] = v[2];
    e[2] = v[1];
    expect_entries("signature third", e, n, "'manifest.json.minisig' is out of order: it must directly follow");

    /* Manifest edited without re-signing; signed by an untrusted key; unsigned. */
    size_t ej;
    char *edited = manifest_json("now with a description", &ej);
    memcpy(e, v, sizeof v);
    e[0].data = edited;
    e[0].len = ej;
    expect_entries("manifest edited", e, n, "is invalid (signature verification failed");
    char *sig_o = sign(&key_o, mj, mj_len);
    memcpy(e, v, sizeof v);
    e[1].data = sig_o;
    e[1].len = strlen(sig_o);
    expect_entries("untrusted key", e, n, "which is not trusted");
    memcpy(e, v, sizeof v);
    memmove(e + 1, e + 2, (n - 2) * sizeof *e);
    expect_entries("unsigned", e, n - 1, "bundle is not signed");
    memcpy(e, v, sizeof v);
    e[1].data = "untrusted comment: x\nnot base64 at all\n";
    e[1].len = strlen(e[1].data);
    expect_entries("garbage signature", e, n, "manifest.json.minisig: signature: expected 4 lines");
    /* A manifest the strict reader refuses even when signed. */
    {
        char *bad = malloc(mj_len + 32);
        size_t bl = (size_t)snprintf(bad, mj_len + 32, "{\"extra\": 1, %s", mj + 1);
        char *bs = sign(&key_k, bad, bl);
        memcpy(e, v, sizeof v);
        e[0] = (entry){"manifest.json", bad, bl, 0, 0, NULL};
        e[1] = (entry){"manifest.json.minisig", bs, strlen(bs), 0, 0, NULL};
        expect_entries("manifest unknown key", e, n, "manifest: top level: unknown key \"extra\"");
        e[0].data = "{\"format\": \"wasmlet-bundle\",}";
        e[0].len = strlen(e[0].data);
        expect_entries("manifest not JSON", e, n, "manifest: ");
        free(bad);
        free(bs);
    }

    /* Truncation at several points. */
    {
        buf b = archive(v, n);
        size_t cuts[] = {data_offset(v, 4) + 10, data_offset(v, 4) - 100, data_offset(v, 5) + (v[5].len + 511) / 512 * 512 + 512,
                         data_offset(v, 5) + 3};
        const char *want[] = {"past the end of the file (truncated", "partial header block (truncated)",
                              "missing its second zero block (truncated)", "past the end of the file (truncated"};
        for (size_t i = 0; i < 4; i++) {
            char label[64];
            snprintf(label, sizeof label, "truncated at %zu", cuts[i]);
            expect(label, b.p, cuts[i], want[i]);
        }
        expect("no end marker", b.p, data_offset(v, 5) + 512, "without an end-of-archive marker (truncated)");
        /* A byte flipped in the second end block. */
        size_t end2 = data_offset(v, 5) + (v[5].len + 511) / 512 * 512 + 512;
        b.p[end2 + 7] = 'x';
        expect("flip in end block", b.p, b.n, "a lone zero block, then non-zero bytes");
        b.p[end2 + 7] = 0;
        /* Garbage after the end of the archive. */
        b.p[b.n - 1] = 'x';
        expect("trailing data", b.p, b.n, "data after the end of the archive");
        free(b.p);
    }

    /* Unsafe names, anywhere in the archive. */
    static const char *const names[] = {"../evil", "/etc/evil", "models/../../x", "./app.wasm", "models//x", "a\\b"};
    static const char *const why[] = {"parent directory", "absolute path", "parent directory", "current directory",
                                      "empty path component", "backslash"};
    for (size_t i = 0; i < 6; i++) {
        memcpy(e, v, sizeof v);
        e[3].name = names[i];
        char label[64];
        snprintf(label, sizeof label, "unsafe name %s", names[i]);
        expect_entries(label, e, n, why[i]);
    }

    /* Links, devices, FIFOs, directories. */
    static const char types[] = {'2', '1', '3', '4', '6', '5', 'g', 'L'};
    static const char *const kinds[] = {"a symbolic link", "a hard link", "a character device", "a block device",
                                        "a FIFO", "a directory", "a pax global header", "a GNU long name"};
    for (size_t i = 0; i < sizeof types; i++) {
        memcpy(e, v, sizeof v);
        e[2].type = types[i];
        e[2].len = 0;
        char label[64];
        snprintf(label, sizeof label, "member of type %c", types[i]);
        expect_entries(label, e, n, kinds[i]);
    }

    /* Sizes: larger than declared, huge header size, huge pax size. */
    {
        uint8_t big[sizeof tb_wasm + 10];
        memcpy(big, tb_wasm, sizeof tb_wasm);
        memset(big + sizeof tb_wasm, 0, 10);
        memcpy(e, v, sizeof v);
        e[2].data = big;
        e[2].len = sizeof big;
        char want[128];
        snprintf(want, sizeof want, "member 'app.wasm' is %zu bytes in the archive, the manifest says %zu", sizeof big, sizeof tb_wasm);
        expect_entries("member larger than declared", e, n, want);
        memcpy(e, v, sizeof v);
        e[2].header_size = 077777777777ull;
        expect_entries("huge header size", e, n, "declares 8589934591 bytes, past the end of the file");
        memcpy(e, v, sizeof v);
        e[2].pax = pax("size=1000000000000000000");
        expect_entries("huge pax size", e, n, "declares 1000000000000000000 bytes");
        memcpy(e, v, sizeof v);
        e[2].pax = pax("mtime=1700000000.5");
        expect_entries("pax mtime record", e, n, "unsupported record \"mtime\"");
        memcpy(e, v, sizeof v);
        e[2].pax = pax("size=abc");
        expect_entries("bad pax size", e, n, "bad size record");
        /* A pax path record is honoured, and checked like any name. */
        memcpy(e, v, sizeof v);
        e[2].pax = pax("path=../../x.so");
        expect_entries("pax path traversal", e, n, "unsafe name (parent directory");
        memcpy(e, v, sizeof v);
        e[2].pax = pax("path=app.wasm");
        e[2].name = "whatever";
        expect_entries("pax path honoured", e, n, NULL);
    }

    /* A tar bomb: many tiny members after a valid start stops at the first. */
    {
        buf b = {0};
        write_entries(&b, v, n);
        for (int i = 0; i < 100000; i++) {
            char name[32];
            snprintf(name, sizeof name, "f%d", i);
            header(&b, name, 0, '0', "ustar\0" "00");
        }
        end(&b);
        expect("tar bomb after the members", b.p, b.n, "member 'f0' is not listed in the manifest");
        free(b.p);
        b = (buf){0};
        for (int i = 0; i < 100000; i++) {
            char name[32];
            snprintf(name, sizeof name, "f%d", i);
            header(&b, name, 0, '0', "ustar\0" "00");
        }
        end(&b);
        expect("tar bomb", b.p, b.n, "first member is 'f0'");
        free(b.p);
    }

    /* Not tar at all; empty; GNU headers; a damaged checksum. */
    {
        uint8_t rnd[65536];
        randombytes_buf(rnd, sizeof rnd);
        expect("random bytes", rnd, sizeof rnd, "not a bundle: tar: header at offset 0");
        expect("empty file", rnd, 0, "empty file, not a bundle");
        expect("tiny file", (const uint8_t *)"hello", 5, "too small to be a bundle");
        size_t sl = 0;
        char *text = (char *)tb_read(tb_path("k.pub"), &sl);
        uint8_t page[4096] = {0};
        memcpy(page, text, sl);
        free(text);
        expect("text file", page, sizeof page, "not a bundle");
        buf b = {0};
        header(&b, "manifest.json", mj_len, '0', "ustar  \0");
        put(&b, mj, mj_len);
        pad(&b);
        end(&b);
        expect("GNU tar header", b.p, b.n, "not a POSIX ustar header");
        b.p[0] = 'M';
        expect("checksum mismatch", b.p, b.n, "checksum mismatch");
        free(b.p);
        b = archive(v, 0);
        expect("empty archive", b.p, b.n, "empty archive");
        free(b.p);
    }

    /* A member beyond 8 GiB (pax size record, as libarchive writes it): the
     * reader takes its size and offset from the headers alone. The data is
     * a hole in a sparse file. */
    {
        uint64_t big = (UINT64_C(9) << 30) + 512;
        size_t bj;
        char *bm = manifest_json_sized("", big, &bj);
        char *bs = sign(&key_k, bm, bj);
        memcpy(e, v, sizeof v);
        e[0] = (entry){"manifest.json", bm, bj, 0, 0, NULL};
        e[1] = (entry){"manifest.json.minisig", bs, strlen(bs), 0, 0, NULL};
        buf b = {0};
        write_entries(&b, e, n - 1);
        char rec[64];
        snprintf(rec, sizeof rec, "size=%llu", (unsigned long long)big);
        header(&b, "models/PaxHeader/second.gguf", strlen(pax(rec)), 'x', "ustar\0" "00");
        put(&b, pax(rec), strlen(pax(rec)));
        pad(&b);
        header(&b, "models/second.gguf", 0, '0', "ustar\0" "00");
        uint64_t data_at = b.n;
        const char *path = tb_path("big.wasmlet");
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        CHECK(fd >= 0 && write(fd, b.p, b.n) == (ssize_t)b.n && ftruncate(fd, (off_t)(data_at + big + 1024)) == 0, "sparse");
        close(fd);
        bundle *bb = bundle_open(path, err, sizeof err);
        CHECK(bb != NULL, "9 GiB member: %s", err);
        const bundle_member *bm2 = bb ? bundle_find(bb, "models/second.gguf") : NULL;
        CHECK(bm2 && bm2->size == big && bm2->offset == data_at && bm2->offset % 512 == 0, "9 GiB member size/offset");
        CHECK(bb && bundle_verify_signature(bb, &trust, NULL, err, sizeof err), "%s", err);
        bundle_close(bb);
        /* The same header claiming one block more than the file holds. */
        fd = open(path, O_WRONLY);
        CHECK(fd >= 0 && ftruncate(fd, (off_t)(data_at + big + 1024 - 512)) == 0, "truncate");
        close(fd);
        bb = bundle_open(path, err, sizeof err);
        CHECK(bb == NULL && strstr(err, "truncated"), "9 GiB member, truncated: %s", bb ? "accepted" : err);
        bundle_close(bb);
        unlink(path);
        free(b.p);
        free(bm);
        free(bs);
    }

    /* Nothing was written anywhere: no cache entry for any of these files. */
    CHECK(tb_count_entries(getenv("WASMLET_CACHE_DIR")) <= 0, "the verified-cache has entries");
    free(mj);
    free(sig_k);
    free(sig_o);
    free(edited);
    bundle_trust_free(&trust);
    return tb_finish("test_hostile");
}
