/* test_bundle.c: building, signing, verifying, inspecting and extracting
 * bundles; reproducibility; atomic output; mapping a model out of the
 * bundle; the verified-cache; minisign checking a bundle's manifest. */
#include <sodium.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "build.h"
#include "bundle.h"
#include "json.h"
#include "vcache.h"
#include "tb.h"

static char err[1024];
static const char *D;

static bool same_file(const char *a, const char *b) {
    size_t na, nb;
    uint8_t *pa = tb_read(a, &na), *pb = tb_read(b, &nb);
    bool same = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
    free(pa);
    free(pb);
    return same;
}

static void setup(void) {
    CHECK(tb_write(tb_path("app.wasm"), tb_wasm, sizeof tb_wasm), "write wasm");
    CHECK(tb_make_gguf(tb_path("m1.gguf"), true, 256, 1), "gguf");
    CHECK(tb_make_gguf(tb_path("m2.gguf"), false, 512, 2), "gguf");
    CHECK(tb_make_gguf(tb_path("tok.gguf"), true, 0, 3), "gguf");
    CHECK(tb_write(tb_path("junk.gguf"), "GGUF\3\0\0\0garbage", 16), "junk");
    CHECK(tb_run(pack_cmd_keygen, "keygen", "-p", tb_path("k.pub"), "-s", tb_path("k.sec"), "-W", NULL) == 0, "keygen");
    CHECK(tb_run(pack_cmd_keygen, "keygen", "-p", tb_path("o.pub"), "-s", tb_path("o.sec"), "-W", NULL) == 0, "keygen");
    mkdir(tb_path("out"), 0755);
}

#define BUILD_BASE(out) "build", "--wasm", tb_path("app.wasm"), "--name", "demo", "--version", "1.0", "-o", out

static void test_unsigned_minimal(void) {
    const char *out = tb_path("out/min.wasmlet");
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", "default=", NULL) == 2, "empty model file is a usage error");
    char arg[600];
    snprintf(arg, sizeof arg, "default=%s", tb_path("m1.gguf"));
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", arg, NULL) == 0, "build minimal");
    bundle *b = bundle_open(out, err, sizeof err);
    CHECK(b != NULL, "%s", err);
    if (!b) return;
    const manifest *m = bundle_manifest(b);
    CHECK(!bundle_is_signed(b), "unsigned");
    CHECK(!strcmp(m->tokenizer, "models/default.gguf"), "tokenizer from the model: %s", m->tokenizer);
    CHECK(bundle_member_count(b) == 2, "members %zu", bundle_member_count(b));
    CHECK(!strcmp(m->models[0].architecture, "llama") && !strcmp(m->models[0].quantization, "F32"), "model info");
    CHECK(m->models[0].context_length == 256 && m->models[0].parameter_count == 64 * 4 + 64, "ctx/params %llu %llu",
          (unsigned long long)m->models[0].context_length, (unsigned long long)m->models[0].parameter_count);
    bool cached;
    CHECK(bundle_check_members(b, 0, &cached, NULL, NULL, err, sizeof err), "%s", err);
    /* Map the model straight out of the bundle: no copy, GGUF alignment holds. */
    const bundle_member *mm = bundle_find(b, "models/default.gguf");
    CHECK(mm && mm->offset % 512 == 0, "model data on a 512-byte boundary");
    const void *data;
    void *base;
    size_t len;
    if (mm && bundle_map_member(b, mm, &data, &base, &len, err, sizeof err)) {
        gguf_file *g = gguf_open_buffer(data, (size_t)mm->size, err, sizeof err);
        CHECK(g != NULL, "GGUF from the mapped member: %s", err);
        if (g) {
            const gguf_tensor *t = gguf_tensor_at(g, 0);
            CHECK(((uintptr_t)t->data - (uintptr_t)data + mm->offset) % 32 == 0, "tensor data aligned in the file");
            CHECK((const uint8_t *)t->data >= (const uint8_t *)base && (const uint8_t *)t->data < (const uint8_t *)base + len,
                  "tensor data points into the bundle mapping");
            gguf_close(g);
        }
        bundle_unmap(base, len);
    } else {
        CHECK(0, "map: %s", err);
    }
    bundle_trust t = {0};
    CHECK(bundle_trust_add_file(&t, tb_path("k.pub"), err, sizeof err), "%s", err);
    CHECK_ERR(bundle_verify_signature(b, &t, NULL, err, sizeof err), err, "not signed");
    bundle_trust_free(&t);
    bundle_close(b);
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("k.pub"), out, NULL) == 1, "verify of an unsigned bundle must fail");
}

static void full_build(const char *out, const char *key) {
    char a1[600], a2[600];
    snprintf(a1, sizeof a1, "default=%s", tb_path("m1.gguf"));
    snprintf(a2, sizeof a2, "second=%s", tb_path("m2.gguf"));
    int r = key ? tb_run(pack_cmd_build, BUILD_BASE(out), "--model", a1, "--model", a2, "--tokenizer", tb_path("tok.gguf"),
                         "--description", "a demo app", "--dir", "/data:ro", "--dir", "/work", "--env", "MODE=fast",
                         "--env", "EMPTY=", "--max-memory", "1073741824", "--timeout", "30", "--ctx-size", "2048",
                         "-s", key, NULL)
                 : tb_run(pack_cmd_build, BUILD_BASE(out), "--model", a1, "--model", a2, "--tokenizer", tb_path("tok.gguf"),
                          "--description", "a demo app", "--dir", "/data:ro", "--dir", "/work", "--env", "MODE=fast",
                          "--env", "EMPTY=", "--max-memory", "1073741824", "--timeout", "30", "--ctx-size", "2048", NULL);
    CHECK(r == 0, "full build (%s)", key ? "signed" : "unsigned");
}

static void test_signed_full(void) {
    const char *out = tb_path("out/full.wasmlet");
    full_build(out, tb_path("k.sec"));
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("k.pub"), out, NULL) == 0, "verify with the right key");
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("o.pub"), out, NULL) == 1, "verify with another key must fail");
    CHECK(tb_run(pack_cmd_verify, "verify", "--trust", tb_path("o.pub"), "-p", tb_path("k.pub"), "--full", out, NULL) == 0,
          "verify with a key set containing the signer");

    /* inspect --json is strict JSON with the manifest's facts and the signer. */
    CHECK(tb_run_to(tb_path("inspect.json"), pack_cmd_inspect, "inspect", "--json", out) == 0, "inspect --json");
    size_t n;
    char *text = (char *)tb_read(tb_path("inspect.json"), &n);
    json_value *j = text ? json_parse(text, n, err, sizeof err) : NULL;
    CHECK(j != NULL, "inspect output is not JSON: %s", err);
    if (j) {
        ms_pubkey pk;
        char id[17];
        CHECK(ms_pubkey_load(tb_path("k.pub"), &pk, err, sizeof err), "%s", err);
        ms_keyid_hex(pk.keyid, id);
        CHECK(!strcmp(json_get(j, "signer_key_id")->str, id), "signer id");
        const json_value *models = json_get(j, "models"), *mem = json_get(j, "members");
        CHECK(models->len == 2 && !strcmp(json_get(&models->items[1], "alias")->str, "second"), "models");
        CHECK(json_get(&models->items[1], "context_length")->integer == 512, "ctx");
        CHECK(mem->len == 4 && !strcmp(json_get(&mem->items[1], "path")->str, "tokenizer.gguf"), "members");
        const json_value *cap = json_get(j, "capabilities");
        CHECK(json_get(cap, "dirs")->len == 2 && json_get(&json_get(cap, "dirs")->items[0], "readonly")->boolean, "dirs");
        CHECK(!strcmp(json_get(json_get(cap, "env"), "MODE")->str, "fast"), "env");
        CHECK(json_get(json_get(j, "limits"), "ctx_size")->integer == 2048, "limits");
        json_free(j);
    }
    free(text);
    CHECK(tb_run_to(tb_path("inspect.txt"), pack_cmd_inspect, "inspect", out, NULL) == 0, "inspect");
    text = (char *)tb_read(tb_path("inspect.txt"), &n);
    CHECK(text && strstr(text, "models/second.gguf") && strstr(text, "/data (read-only)"), "inspect text:\n%s", text);
    free(text);

    /* minisign itself verifies the extracted manifest against our key. */
    CHECK(tb_run(pack_cmd_extract, "extract", out, tb_path("x"), NULL) == 0, "extract");
    CHECK(same_file(tb_path("x/models/second.gguf"), tb_path("m2.gguf")), "extracted model differs");
    CHECK(same_file(tb_path("x/tokenizer.gguf"), tb_path("tok.gguf")), "extracted tokenizer differs");
    CHECK(same_file(tb_path("x/app.wasm"), tb_path("app.wasm")), "extracted wasm differs");
    if (tb_sh("minisign -v >/dev/null 2>&1") == 0)
        CHECK(tb_sh("minisign -Vq -p %s -m %s/x/manifest.json", tb_path("k.pub"), D) == 0, "minisign -V on the manifest");
    else
        printf("note: minisign not installed, manifest interop check skipped\n");
    CHECK(tb_run(pack_cmd_extract, "extract", out, tb_path("x"), NULL) == 1, "extract over existing files needs --force");
    CHECK(tb_run(pack_cmd_extract, "extract", "--force", out, tb_path("x"), NULL) == 0, "extract --force");

    /* Never follow a symlink planted in the target. */
    CHECK(tb_write(tb_path("victim"), "keep", 4), "victim");
    mkdir(tb_path("y"), 0755);
    CHECK(symlink(tb_path("victim"), tb_path("y/app.wasm")) == 0, "symlink");
    CHECK(tb_run(pack_cmd_extract, "extract", out, tb_path("y"), NULL) == 1, "planted symlink must be refused");
    CHECK(tb_run(pack_cmd_extract, "extract", "--force", out, tb_path("y"), NULL) == 0, "--force replaces the link itself");
    uint8_t *victim = tb_read(tb_path("victim"), &n);
    CHECK(victim && n == 4 && !memcmp(victim, "keep", 4), "the symlink's target was written");
    free(victim);
    mkdir(tb_path("z"), 0755);
    mkdir(tb_path("elsewhere"), 0755);
    CHECK(symlink(tb_path("elsewhere"), tb_path("z/models")) == 0, "symlink dir");
    CHECK(tb_run(pack_cmd_extract, "extract", "--force", out, tb_path("z"), NULL) == 1, "symlinked models/ must be refused");
    CHECK(tb_count_entries(tb_path("elsewhere")) == 0, "wrote through a symlinked directory");
}

/* Runs extract with stderr sent to a file; *msg gets its first line. */
static int extract_msg(char *msg, size_t msglen, const char *a0, const char *a1, const char *a2, const char *a3) {
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(tb_path("extract.err"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDERR_FILENO);
    close(fd);
    int r = tb_run(pack_cmd_extract, "extract", a0, a1, a2, a3, NULL);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    size_t n;
    char *text = (char *)tb_read(tb_path("extract.err"), &n);
    snprintf(msg, msglen, "%s", text ? text : "");
    msg[strcspn(msg, "\n")] = 0;
    free(text);
    return r;
}

/* A 64 KiB model: a member larger than the manifest and the wasm. */
static bool make_big_gguf(const char *path) {
    static float data[64 * 256];
    for (int i = 0; i < 64 * 256; i++) data[i] = (float)(i % 17) / 17.0f;
    gguf_writer *w = gguf_writer_new(32);
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_u32(w, "llama.context_length", 128);
    const char *toks[] = {"<unk>", "<s>", "</s>", "a"};
    gguf_w_arr(w, "tokenizer.ggml.tokens", GGUF_T_STRING, toks, 4);
    uint64_t ne[2] = {64, 256};
    gguf_w_tensor(w, "token_embd.weight", GGML_F32, 2, ne, data, sizeof data);
    bool ok = gguf_writer_write_file(w, path, err, sizeof err);
    gguf_writer_free(w);
    return ok;
}

/* extract writes all or nothing: whatever fails, and wherever, the target
 * is left as it was (and removed when this run made it). */
static void test_extract_all_or_nothing(void) {
    const char *full = tb_path("out/full.wasmlet");   /* from test_signed_full */
    char msg[1100];
    size_t n;

    CHECK(extract_msg(msg, sizeof msg, "-p", tb_path("k.pub"), full, tb_path("e0")) == 0, "extract: %s", msg);
    CHECK(tb_count_entries(tb_path("e0")) == 5 && tb_count_entries(tb_path("e0/models")) == 2,
          "extract left more or less than the bundle's files (temp files?)");

    /* A later member's name taken: refused before anything is written. */
    mkdir(tb_path("e1"), 0755);
    mkdir(tb_path("e1/models"), 0755);
    CHECK(tb_write(tb_path("e1/models/second.gguf"), "keep", 4), "write");
    CHECK(extract_msg(msg, sizeof msg, "-p", tb_path("k.pub"), full, tb_path("e1")) == 1, "a taken name must be refused");
    CHECK(strstr(msg, "models/second.gguf already exists (use --force to overwrite)"), "message: %s", msg);
    CHECK(tb_count_entries(tb_path("e1")) == 1 && tb_count_entries(tb_path("e1/models")) == 1, "something was written");
    uint8_t *kept = tb_read(tb_path("e1/models/second.gguf"), &n);
    CHECK(kept && n == 4 && !memcmp(kept, "keep", 4), "the existing file was changed");
    free(kept);
    /* A directory in a member's place is refused even with --force. */
    mkdir(tb_path("e1/app.wasm"), 0755);
    CHECK(extract_msg(msg, sizeof msg, "--force", full, tb_path("e1"), NULL) == 1, "a directory in the way");
    CHECK(strstr(msg, "app.wasm is a directory"), "message: %s", msg);
    CHECK(tb_count_entries(tb_path("e1")) == 2 && tb_count_entries(tb_path("e1/models")) == 1, "something was written");

    /* The last member's bytes differ from the manifest (signature still
     * valid): found while copying, everything undone. */
    size_t len;
    uint8_t *bytes = tb_read(full, &len);
    bundle *b = bundle_open(full, err, sizeof err);
    const bundle_member *bm = b ? bundle_find(b, "models/second.gguf") : NULL;
    CHECK(bytes && bm, "open: %s", err);
    if (bytes && bm) {
        bytes[bm->offset + bm->size - 1] ^= 0x01;
        CHECK(tb_write(tb_path("out/tampered.wasmlet"), bytes, len), "write");
        const char *bad = tb_path("out/tampered.wasmlet");
        CHECK(extract_msg(msg, sizeof msg, "-p", tb_path("k.pub"), bad, tb_path("e2")) == 1, "tampered member extracted");
        CHECK(strstr(msg, "member 'models/second.gguf': SHA-256 mismatch"), "message: %s", msg);
        CHECK(!tb_exists(tb_path("e2")), "the target directory this run made was left behind");
        mkdir(tb_path("e3"), 0755);
        CHECK(extract_msg(msg, sizeof msg, bad, tb_path("e3"), NULL, NULL) == 1, "tampered member extracted");
        CHECK(tb_count_entries(tb_path("e3")) == 0, "files left behind after a hash mismatch");
        /* --force: files already there stay as they were. */
        CHECK(tb_write(tb_path("e3/app.wasm"), "keep", 4), "write");
        CHECK(extract_msg(msg, sizeof msg, "--force", bad, tb_path("e3"), NULL) == 1, "tampered member extracted");
        kept = tb_read(tb_path("e3/app.wasm"), &n);
        CHECK(kept && n == 4 && !memcmp(kept, "keep", 4), "an existing file was replaced by a failed run");
        free(kept);
        CHECK(tb_count_entries(tb_path("e3")) == 1, "files left behind after a hash mismatch");
    }
    bundle_close(b);
    free(bytes);

    /* A read-only target: nothing written (root writes anyway: skipped). */
    mkdir(tb_path("e4"), 0755);
    chmod(tb_path("e4"), 0555);
    int probe = open(tb_path("e4/probe"), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (probe >= 0) {
        close(probe);
        unlink(tb_path("e4/probe"));
        printf("note: running as root, a read-only directory is writable: that check is skipped\n");
    } else {
        CHECK(extract_msg(msg, sizeof msg, full, tb_path("e4"), NULL, NULL) == 1, "extract into a read-only dir");
        CHECK(strstr(msg, "cannot create a file there"), "message: %s", msg);
        CHECK(tb_count_entries(tb_path("e4")) == 0, "files left in a read-only dir");
    }
    chmod(tb_path("e4"), 0755);

    /* A write failure on a later member (file size limit hit by the 64 KiB
     * model after the manifest and wasm were written): everything undone,
     * as root too. */
    char arg[600];
    snprintf(arg, sizeof arg, "default=%s", tb_path("big.gguf"));
    const char *big = tb_path("out/big.wasmlet");
    CHECK(make_big_gguf(tb_path("big.gguf")), "%s", err);
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(big), "--model", arg, NULL) == 0, "build big");
    mkdir(tb_path("e5"), 0755);
    CHECK(tb_write(tb_path("e5/app.wasm"), "keep", 4), "write");
    struct rlimit old, lim;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0, "getrlimit");
    lim = old;
    lim.rlim_cur = 16 * 1024;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0, "setrlimit");
    int r1 = extract_msg(msg, sizeof msg, big, tb_path("e6"), NULL, NULL);
    char msg2[1100];
    int r2 = extract_msg(msg2, sizeof msg2, "--force", big, tb_path("e5"), NULL);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    CHECK(r1 == 1, "extract past the file size limit must fail");
    CHECK(strstr(msg, "models/default.gguf: write failed: File too large"), "message: %s", msg);
    CHECK(!tb_exists(tb_path("e6")), "a failed write left the new target directory behind");
    CHECK(r2 == 1, "extract --force past the file size limit must fail");
    CHECK(tb_count_entries(tb_path("e5")) == 1, "a failed write left files behind");
    kept = tb_read(tb_path("e5/app.wasm"), &n);
    CHECK(kept && n == 4 && !memcmp(kept, "keep", 4), "an existing file was replaced by a failed run");
    free(kept);
    CHECK(extract_msg(msg, sizeof msg, "--force", big, tb_path("e5"), NULL) == 0, "extract without the limit: %s", msg);
    CHECK(same_file(tb_path("e5/models/default.gguf"), tb_path("big.gguf")), "extracted model differs");
}

static void test_reproducible(void) {
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    full_build(tb_path("out/r1.wasmlet"), tb_path("k.sec"));
    full_build(tb_path("out/r2.wasmlet"), tb_path("k.sec"));
    CHECK(same_file(tb_path("out/r1.wasmlet"), tb_path("out/r2.wasmlet")), "signed builds differ");
    full_build(tb_path("out/u1.wasmlet"), NULL);
    full_build(tb_path("out/u2.wasmlet"), NULL);
    CHECK(same_file(tb_path("out/u1.wasmlet"), tb_path("out/u2.wasmlet")), "unsigned builds differ");
    setenv("SOURCE_DATE_EPOCH", "1700000001", 1);
    full_build(tb_path("out/u3.wasmlet"), NULL);
    CHECK(!same_file(tb_path("out/u1.wasmlet"), tb_path("out/u3.wasmlet")), "SOURCE_DATE_EPOCH not used");
    /* The tar is plain ustar: no pax records, fixed owner and mode (GNU tar's view). */
    CHECK(tb_sh("tar --numeric-owner -tvf %s | grep -v '^-rw-r--r-- 0/0 ' | grep -q .", tb_path("out/u1.wasmlet")) != 0,
          "unexpected tar header fields");
    CHECK(tb_sh("tar -tf %s | tr '\\n' ' ' | grep -qx 'manifest.json app.wasm tokenizer.gguf models/default.gguf models/second.gguf '",
                tb_path("out/u1.wasmlet")) == 0, "member order");
    /* sign turns the unsigned bundle into exactly the signed build. */
    setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
    CHECK(tb_run(pack_cmd_sign, "sign", "-s", tb_path("k.sec"), tb_path("out/u1.wasmlet"), NULL) == 0, "sign");
    CHECK(same_file(tb_path("out/u1.wasmlet"), tb_path("out/r1.wasmlet")), "sign differs from a signed build");
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("k.pub"), tb_path("out/u1.wasmlet"), NULL) == 0, "verify signed");
    /* re-signing with another key replaces the signature */
    CHECK(tb_run(pack_cmd_sign, "sign", "-s", tb_path("o.sec"), tb_path("out/u1.wasmlet"), NULL) == 0, "re-sign");
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("k.pub"), tb_path("out/u1.wasmlet"), NULL) == 1, "old key");
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("o.pub"), tb_path("out/u1.wasmlet"), NULL) == 0, "new key");
    unsetenv("SOURCE_DATE_EPOCH");
}

/* Every bad input fails before anything is written: no output, no temp. */
static void test_bad_inputs(void) {
    const char *out = tb_path("out/bad.wasmlet");
    char good[600], nov[600], junk[600];
    snprintf(good, sizeof good, "default=%s", tb_path("m1.gguf"));
    snprintf(nov, sizeof nov, "default=%s", tb_path("m2.gguf"));
    snprintf(junk, sizeof junk, "default=%s", tb_path("junk.gguf"));
    tb_write(tb_path("notwasm"), "hello", 5);
    uint8_t nostart[sizeof tb_wasm];
    memcpy(nostart, tb_wasm, sizeof tb_wasm);
    nostart[28] = 'S';   /* "_Start" */
    tb_write(tb_path("nostart.wasm"), nostart, sizeof nostart);
    uint8_t trunc[20];
    memcpy(trunc, tb_wasm, sizeof trunc);
    tb_write(tb_path("trunc.wasm"), trunc, sizeof trunc);
    tb_write(out, "old", 3);
    int before = tb_count_entries(tb_path("out"));
    struct { const char *what, *wasm, *model, *tok, *extra; } cases[] = {
        {"not wasm", tb_path("notwasm"), good, NULL, NULL},
        {"no _start", tb_path("nostart.wasm"), good, NULL, NULL},
        {"truncated wasm", tb_path("trunc.wasm"), good, NULL, NULL},
        {"missing wasm", tb_path("nope.wasm"), good, NULL, NULL},
        {"bad gguf", tb_path("app.wasm"), junk, NULL, NULL},
        {"model without vocabulary", tb_path("app.wasm"), nov, NULL, NULL},
        {"tokenizer without vocabulary", tb_path("app.wasm"), good, tb_path("m2.gguf"), NULL},
        {"tokenizer not gguf", tb_path("app.wasm"), good, tb_path("notwasm"), NULL},
        {"bad alias", tb_path("app.wasm"), "../x=/etc/passwd", NULL, NULL},
        {"bad dir", tb_path("app.wasm"), good, NULL, "relative/dir"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int r = cases[i].tok ? tb_run(pack_cmd_build, BUILD_BASE(out), "--model", cases[i].model, "--tokenizer", cases[i].tok, NULL)
              : cases[i].extra ? tb_run(pack_cmd_build, BUILD_BASE(out), "--model", cases[i].model, "--dir", cases[i].extra, NULL)
                               : tb_run(pack_cmd_build, "build", "--wasm", cases[i].wasm, "--name", "d", "--version", "1",
                                        "-o", out, "--model", cases[i].model, NULL);
        CHECK(r == 1, "%s: exit %d", cases[i].what, r);
    }
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", good, "--model", good, NULL) == 1, "duplicate alias");
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", good, "--env", "A=1", "--env", "A=2", NULL) == 1, "duplicate env");
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", good, "--timeout", "-1", NULL) == 1, "negative timeout");
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", good, "--bogus", "x", NULL) == 2, "unknown option");
    /* FIFOs as inputs are refused, not waited on. */
    CHECK(mkfifo(tb_path("fifo"), 0600) == 0, "mkfifo");
    char fifo_model[600];
    snprintf(fifo_model, sizeof fifo_model, "default=%s", tb_path("fifo"));
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", fifo_model, NULL) == 1, "FIFO model");
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", good, "--tokenizer", tb_path("fifo"), NULL) == 1, "FIFO tokenizer");
    CHECK(tb_run(pack_cmd_build, "build", "--wasm", tb_path("fifo"), "--name", "d", "--version", "1", "-o", out, "--model",
                 good, NULL) == 1, "FIFO wasm");
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("k.pub"), tb_path("fifo"), NULL) == 1, "FIFO bundle");
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("fifo"), out, NULL) == 1, "FIFO key");
    CHECK(tb_count_entries(tb_path("out")) == before, "a failed build left files behind");
    size_t n;
    uint8_t *old = tb_read(out, &n);
    CHECK(old && n == 3 && !memcmp(old, "old", 3), "a failed build touched the existing output");
    free(old);
    /* Output directory that does not exist: clear error, nothing written. */
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(tb_path("nodir/x.wasmlet")), "--model", good, NULL) == 1, "missing out dir");
}

static void test_optimize(void) {
    if (tb_sh("wasm-opt --version >/dev/null 2>&1") != 0) {
        printf("note: wasm-opt not installed, --optimize check skipped\n");
        return;
    }
    char good[600];
    snprintf(good, sizeof good, "default=%s", tb_path("m1.gguf"));
    const char *out = tb_path("out/opt.wasmlet");
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", good, "--optimize", NULL) == 0, "build --optimize");
    bundle *b = bundle_open(out, err, sizeof err);
    CHECK(b != NULL, "%s", err);
    if (!b) return;
    const bundle_member *w = bundle_find(b, "app.wasm");
    CHECK(w && w->size < sizeof tb_wasm, "optimized wasm is %llu bytes (input %zu)", w ? (unsigned long long)w->size : 0ull,
          sizeof tb_wasm);
    bundle_close(b);
}

static void test_verified_cache(void) {
    const char *out = tb_path("out/cache.wasmlet");
    char good[600];
    snprintf(good, sizeof good, "default=%s", tb_path("m1.gguf"));
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", good, NULL) == 0, "build");
    /* Entries are only written for files older than the racy window. */
    bundle *b = bundle_open(out, err, sizeof err);
    bool cached = true;
    CHECK(b && bundle_check_members(b, 0, &cached, NULL, NULL, err, sizeof err) && !cached, "fresh file: %s", err);
    bundle_close(b);
    b = bundle_open(out, err, sizeof err);
    CHECK(b && bundle_check_members(b, 0, &cached, NULL, NULL, err, sizeof err), "%s", err);
    struct stat fresh;
    /* (on a machine so loaded that 2 s passed since the build, the first
     * check may legitimately have recorded the file) */
    if (stat(out, &fresh) == 0 && time(NULL) - fresh.st_ctime < VCACHE_RACY_SECONDS)
        CHECK(!cached, "racy: a fresh file must not be recorded");
    bundle_close(b);
    struct timespec ts = {VCACHE_RACY_SECONDS, 300000000};
    nanosleep(&ts, NULL);
    b = bundle_open(out, err, sizeof err);
    CHECK(b && bundle_check_members(b, 0, &cached, NULL, NULL, err, sizeof err) && !cached, "first: %s", err);
    bundle_close(b);
    b = bundle_open(out, err, sizeof err);
    CHECK(b && bundle_check_members(b, 0, &cached, NULL, NULL, err, sizeof err) && cached, "repeat must hit the cache");
    CHECK(b && bundle_check_members(b, BUNDLE_VERIFY_FULL, &cached, NULL, NULL, err, sizeof err) && !cached, "--full");
    const bundle_member *mm = b ? bundle_find(b, "models/default.gguf") : NULL;
    uint64_t off = mm ? mm->offset + mm->size - 1 : 0;
    bundle_close(b);

    /* Change one byte in place, then put mtime back: ctime still moves. */
    struct stat st;
    CHECK(stat(out, &st) == 0, "stat");
    int fd = open(out, O_RDWR);
    uint8_t byte;
    CHECK(fd >= 0 && pread(fd, &byte, 1, (off_t)off) == 1, "read");
    byte ^= 1;
    CHECK(pwrite(fd, &byte, 1, (off_t)off) == 1, "write");
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    CHECK(futimens(fd, times) == 0, "futimens");
    close(fd);
    b = bundle_open(out, err, sizeof err);
    CHECK(b != NULL, "%s", err);
    CHECK_ERR(b && bundle_check_members(b, 0, &cached, NULL, NULL, err, sizeof err), err, "SHA-256 mismatch");
    CHECK(!cached, "a changed file must not be vouched for");
    bundle_close(b);
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("k.pub"), out, NULL) == 1, "verify");

    /* A cache directory others can enter is not used. */
    b = bundle_open(tb_path("out/full.wasmlet"), err, sizeof err);
    CHECK(b && bundle_check_members(b, 0, &cached, NULL, NULL, err, sizeof err), "%s", err);
    CHECK(b && bundle_check_members(b, 0, &cached, NULL, NULL, err, sizeof err) && cached, "warm");
    chmod(getenv("WASMLET_CACHE_DIR"), 0755);
    CHECK(b && bundle_check_members(b, 0, &cached, NULL, NULL, err, sizeof err) && !cached, "open cache dir must be ignored");
    chmod(getenv("WASMLET_CACHE_DIR"), 0700);
    bundle_close(b);
}

/* The host's one-call path: trust files, the per-user trusted-keys folder,
 * unsigned only when allowed, unknown signers never. */
static void test_open_verified(void) {
    const char *signed_b = tb_path("out/full.wasmlet"), *unsigned_b = tb_path("out/min.wasmlet");
    const char *k[] = {tb_path("k.pub")}, *o[] = {tb_path("o.pub")};
    bundle *b = bundle_open_verified(signed_b, k, 1, false, 0, err, sizeof err);
    CHECK(b != NULL, "trusted by file: %s", err);
    bundle_close(b);
    b = bundle_open_verified(signed_b, o, 1, true, 0, err, sizeof err);
    CHECK_ERR(b != NULL, err, "which is not trusted");
    bundle_close(b);
    b = bundle_open_verified(unsigned_b, k, 1, false, 0, err, sizeof err);
    CHECK_ERR(b != NULL, err, "not signed (use --allow-unsigned");
    bundle_close(b);
    b = bundle_open_verified(unsigned_b, NULL, 0, true, 0, err, sizeof err);
    CHECK(b != NULL, "unsigned allowed: %s", err);
    bundle_close(b);
    /* ~/.config/wasmlet/trusted-keys (XDG_CONFIG_HOME is the sandbox). */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/wasmlet/trusted-keys", getenv("XDG_CONFIG_HOME"));
    CHECK(tb_sh("mkdir -p %s && cp %s %s/release.pub && echo junk > %s/notes.txt && chmod 755 %s && chmod 644 %s/release.pub",
                dir, tb_path("k.pub"), dir, dir, dir, dir) == 0, "setup");
    b = bundle_open_verified(signed_b, NULL, 0, false, 0, err, sizeof err);
    CHECK(b != NULL, "trusted by the user's folder: %s", err);
    bundle_close(b);
    /* A folder or key others can write is not trusted at all. */
    chmod(dir, 0777);
    b = bundle_open_verified(signed_b, NULL, 0, false, 0, err, sizeof err);
    CHECK_ERR(b != NULL, err, "can be written by other users");
    bundle_close(b);
    chmod(dir, 0755);
    char key[700];
    snprintf(key, sizeof key, "%s/release.pub", dir);
    chmod(key, 0666);
    b = bundle_open_verified(signed_b, NULL, 0, false, 0, err, sizeof err);
    CHECK_ERR(b != NULL, err, "release.pub can be written by other users");
    bundle_close(b);
    chmod(key, 0644);
    CHECK(tb_sh("ln -s %s %s/link.pub", tb_path("o.pub"), dir) == 0, "setup");
    b = bundle_open_verified(signed_b, NULL, 0, false, 0, err, sizeof err);
    CHECK_ERR(b != NULL, err, "link.pub is not a regular file");
    bundle_close(b);
    CHECK(tb_sh("rm %s/link.pub", dir) == 0, "setup");
    CHECK(tb_sh("echo broken > %s/broken.pub", dir) == 0, "setup");
    b = bundle_open_verified(signed_b, NULL, 0, false, 0, err, sizeof err);
    CHECK_ERR(b != NULL, err, "broken.pub");
    bundle_close(b);
    tb_rmrf(dir);
}

static bool refuse_all(const uint8_t *w, size_t n, char *e, size_t el) {
    (void)w;
    snprintf(e, el, "import 'env.nope' is not provided by the host (%zu bytes)", n);
    return false;
}

static void test_wasm_checker_hook(void) {
    char good[600];
    snprintf(good, sizeof good, "default=%s", tb_path("m1.gguf"));
    bundle_set_wasm_checker(refuse_all);
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(tb_path("out/hook.wasmlet")), "--model", good, NULL) == 1, "hook refuses");
    CHECK(!tb_exists(tb_path("out/hook.wasmlet")), "refused build wrote its output");
    bundle_set_wasm_checker(NULL);
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(tb_path("out/hook.wasmlet")), "--model", good, NULL) == 0, "no hook");
}

/* kB of a /proc/self/status field (RssAnon, RssFile). */
static long status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') v = strtol(line + n + 1, NULL, 10);
    if (f) fclose(f);
    return v;
}

/* Reading a 32 MiB model through bundle_map_member grows the file-backed
 * resident set, not the anonymous one: the pages are the bundle's own
 * (no extraction, no copy). */
static void test_map_no_copy(void) {
    const char *model = tb_path("big.gguf"), *out = tb_path("out/big.wasmlet");
    gguf_writer *w = gguf_writer_new(32);
    gguf_w_str(w, "general.architecture", "llama");
    const char *toks[] = {"a", "b"};
    gguf_w_arr(w, "tokenizer.ggml.tokens", GGUF_T_STRING, toks, 2);
    uint64_t ne[2] = {4096, 2048};   /* 32 MiB of F32 */
    gguf_w_tensor(w, "token_embd.weight", GGML_F32, 2, ne, NULL, ne[0] * ne[1] * 4);
    CHECK(gguf_writer_write_file(w, model, err, sizeof err), "%s", err);
    gguf_writer_free(w);
    char arg[600];
    snprintf(arg, sizeof arg, "default=%s", model);
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", arg, NULL) == 0, "build big");
    bundle *b = bundle_open(out, err, sizeof err);
    const bundle_member *mm = b ? bundle_find(b, "models/default.gguf") : NULL;
    const void *data;
    void *base;
    size_t len;
    CHECK(mm && bundle_map_member(b, mm, &data, &base, &len, err, sizeof err), "map: %s", err);
    if (mm && base) {
        long anon0 = status_kb("RssAnon"), file0 = status_kb("RssFile");
        volatile uint64_t sum = 0;
        for (uint64_t i = 0; i < mm->size; i += 4096) sum += ((const uint8_t *)data)[i];
        long anon1 = status_kb("RssAnon"), file1 = status_kb("RssFile");
        if (getenv("TB_VERBOSE")) printf("map 32 MiB model: RssFile +%ld kB, RssAnon +%ld kB\n", file1 - file0, anon1 - anon0);
        CHECK(file1 - file0 > 30 * 1024, "file-backed RSS grew by %ld kB only", file1 - file0);
        CHECK(anon1 - anon0 < 4 * 1024, "anonymous RSS grew by %ld kB: the model was copied", anon1 - anon0);
        bundle_unmap(base, len);
        (void)sum;
    }
    bundle_close(b);
    unlink(model);
    unlink(out);
}

static void test_real_model(void) {
    const char *shared = getenv("WASMLET_SHARED");
    char model[600], arg[700];
    snprintf(model, sizeof model, "%s/models/stories260K.gguf", shared ? shared : "../shared");
    if (!tb_exists(model)) {
        printf("note: %s absent, real-model check skipped\n", model);
        return;
    }
    snprintf(arg, sizeof arg, "default=%s", model);
    const char *out = tb_path("out/stories.wasmlet");
    CHECK(tb_run(pack_cmd_build, BUILD_BASE(out), "--model", arg, "-s", tb_path("k.sec"), NULL) == 0, "build stories");
    CHECK(tb_run(pack_cmd_verify, "verify", "-p", tb_path("k.pub"), out, NULL) == 0, "verify stories");
    bundle *b = bundle_open(out, err, sizeof err);
    CHECK(b != NULL, "%s", err);
    if (b) {
        const manifest_model *md = &bundle_manifest(b)->models[0];
        CHECK(!strcmp(md->architecture, "llama") && !strcmp(md->quantization, "F32"), "%s %s", md->architecture, md->quantization);
        CHECK(md->parameter_count > 200000 && md->parameter_count < 400000, "params %llu", (unsigned long long)md->parameter_count);
        CHECK(md->context_length > 0, "context length");
        bundle_close(b);
    }
}

int main(void) {
    D = tb_tmpdir();
    CHECK(ms_init(err, sizeof err), "%s", err);
    setup();
    test_unsigned_minimal();
    test_signed_full();
    test_extract_all_or_nothing();
    test_reproducible();
    test_bad_inputs();
    test_optimize();
    test_verified_cache();
    test_open_verified();
    test_map_no_copy();
    test_wasm_checker_hook();
    test_real_model();
    return tb_finish("test_bundle");
}
