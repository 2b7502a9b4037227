/* test_keys.c: minisign-format keys and signatures, in-process and against
 * Debian's minisign (skipped with a note when it is not installed). */
#include <sodium.h>

#include "minisign.h"
#include "tb.h"

static char err[512];

static void test_roundtrip_unencrypted(void) {
    ms_pubkey pk, pk2;
    ms_seckey sk, sk2;
    ms_seckey_file f;
    ms_keygen(&pk, &sk);
    char *pt = ms_pubkey_format(&pk), *st = ms_seckey_format(&sk, NULL, err, sizeof err);
    CHECK(pt && st, "format: %s", err);
    CHECK(strncmp(pt, "untrusted comment: minisign public key ", 39) == 0, "pub comment: %s", pt);
    CHECK(ms_pubkey_parse(pt, strlen(pt), &pk2, err, sizeof err), "%s", err);
    CHECK(memcmp(&pk, &pk2, sizeof pk) == 0, "public key round trip");
    CHECK(ms_seckey_parse(st, strlen(st), &f, err, sizeof err), "%s", err);
    CHECK(!ms_seckey_encrypted(&f), "kdf must be none");
    CHECK(ms_seckey_unlock(&f, NULL, &sk2, err, sizeof err), "%s", err);
    CHECK(memcmp(&sk, &sk2, sizeof sk) == 0, "secret key round trip");

    const char msg[] = "the manifest";
    char *sig = ms_sign(&sk, msg, sizeof msg - 1, "unt", "timestamp:1\tfile:x", err, sizeof err);
    ms_signature s;
    CHECK(sig && ms_sig_parse(sig, strlen(sig), &s, err, sizeof err), "%s", err);
    CHECK(s.prehashed, "we write prehashed ED signatures");
    CHECK(!strcmp(s.trusted_comment, "timestamp:1\tfile:x"), "trusted comment '%s'", s.trusted_comment);
    CHECK(ms_sig_verify(&s, &pk, msg, sizeof msg - 1, err, sizeof err), "%s", err);
    CHECK_ERR(ms_sig_verify(&s, &pk, "the manifesT", 12, err, sizeof err), err, "signed data was modified");
    strcpy(s.trusted_comment, "timestamp:2\tfile:x");
    CHECK_ERR(ms_sig_verify(&s, &pk, msg, sizeof msg - 1, err, sizeof err), err, "trusted comment was modified");

    /* A different key with the same id must not verify. */
    ms_pubkey other;
    ms_seckey osk;
    ms_keygen(&other, &osk);
    memcpy(other.keyid, pk.keyid, 8);
    CHECK(ms_sig_parse(sig, strlen(sig), &s, err, sizeof err), "%s", err);
    CHECK_ERR(ms_sig_verify(&s, &other, msg, sizeof msg - 1, err, sizeof err), err, "signed data was modified");
    ms_keygen(&other, &osk);
    CHECK_ERR(ms_sig_verify(&s, &other, msg, sizeof msg - 1, err, sizeof err), err, "does not match public key");

    /* Damaged files. */
    CHECK_ERR(ms_pubkey_parse("hello\nAAAA\n", 11, &pk2, err, sizeof err), err, "untrusted comment");
    CHECK_ERR(ms_pubkey_parse("untrusted comment: x\nAAAA\n", 26, &pk2, err, sizeof err), err, "decodes to 3 bytes");
    CHECK_ERR(ms_pubkey_parse("untrusted comment: x\n!!!!\n", 26, &pk2, err, sizeof err), err, "invalid base64");
    CHECK_ERR(ms_sig_parse(sig, 40, &s, err, sizeof err), err, "expected 4 lines");
    size_t sl = strlen(st);
    st[sl - 10] = st[sl - 10] == 'A' ? 'B' : 'A';   /* inside the checksum or key */
    CHECK(ms_seckey_parse(st, sl, &f, err, sizeof err), "%s", err);
    CHECK(!ms_seckey_unlock(&f, NULL, &sk2, err, sizeof err), "damaged secret key accepted");
    free(pt);
    free(st);
    free(sig);
}

/* A secret key file claiming absurd scrypt costs is refused before any
 * key derivation runs. */
static void test_hostile_kdf_limits(void) {
    ms_pubkey pk;
    ms_seckey sk;
    ms_seckey_file f;
    ms_keygen(&pk, &sk);
    char *st = ms_seckey_format(&sk, NULL, err, sizeof err);
    const char *b64 = strchr(st, '\n') + 1;
    uint8_t bin[158];
    size_t n = 0;
    CHECK(sodium_base642bin(bin, sizeof bin, b64, strlen(b64) - 1, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0 && n == 158,
          "decode");
    memcpy(bin + 2, "Sc", 2);
    memset(bin + 46, 0xff, 8);   /* memlimit 2^64-1 */
    char line[400];
    sodium_bin2base64(line, sizeof line, bin, sizeof bin, sodium_base64_VARIANT_ORIGINAL);
    char text[600];
    snprintf(text, sizeof text, "untrusted comment: hostile\n%s\n", line);
    CHECK_ERR(ms_seckey_parse(text, strlen(text), &f, err, sizeof err), err, "key derivation limits too high");
    memcpy(bin + 2, "Xy", 2);
    sodium_bin2base64(line, sizeof line, bin, sizeof bin, sodium_base64_VARIANT_ORIGINAL);
    snprintf(text, sizeof text, "untrusted comment: hostile\n%s\n", line);
    CHECK_ERR(ms_seckey_parse(text, strlen(text), &f, err, sizeof err), err, "unknown key derivation algorithm");
    free(st);
}

static void test_encrypted(void) {
    ms_pubkey pk;
    ms_seckey sk, sk2;
    ms_seckey_file f;
    ms_keygen(&pk, &sk);
    char *st = ms_seckey_format(&sk, "correct horse", err, sizeof err);
    CHECK(st != NULL, "%s", err);
    CHECK(ms_seckey_parse(st, strlen(st), &f, err, sizeof err) && ms_seckey_encrypted(&f), "%s", err);
    CHECK_ERR(ms_seckey_unlock(&f, "wrong horse", &sk2, err, sizeof err), err, "wrong password");
    CHECK_ERR(ms_seckey_unlock(&f, NULL, &sk2, err, sizeof err), err, "no password");
    CHECK(ms_seckey_unlock(&f, "correct horse", &sk2, err, sizeof err), "%s", err);
    CHECK(memcmp(&sk, &sk2, sizeof sk) == 0, "decrypted key differs");
    free(st);
}

/* ---- interop with minisign ---------------------------------------------- */

static bool have_minisign(void) { return tb_sh("minisign -v >/dev/null 2>&1") == 0; }

static void test_minisign_interop(void) {
    if (!have_minisign()) {
        printf("note: minisign not installed, interop checks skipped\n");
        return;
    }
    const char *d = tb_dir;
    tb_write(tb_path("msg"), "payload\n", 8);

    /* Our unencrypted key and signature, checked by minisign. */
    CHECK(tb_run(pack_cmd_keygen, "keygen", "-p", tb_path("w.pub"), "-s", tb_path("w.sec"), "-W", NULL) == 0, "keygen -W");
    CHECK(tb_run(pack_cmd_keygen, "keygen", "-p", tb_path("w.pub"), "-s", tb_path("w.sec"), "-W", NULL) == 1,
          "keygen must refuse to overwrite");
    struct stat st;
    CHECK(stat(tb_path("w.sec"), &st) == 0 && (st.st_mode & 0777) == 0600, "secret key mode %o", st.st_mode & 0777);
    ms_seckey_file f;
    ms_seckey sk;
    ms_pubkey pk;
    CHECK(ms_seckey_load(tb_path("w.sec"), &f, err, sizeof err) && ms_seckey_unlock(&f, NULL, &sk, err, sizeof err), "%s", err);
    CHECK(ms_pubkey_load(tb_path("w.pub"), &pk, err, sizeof err), "%s", err);
    char *sig = ms_sign(&sk, "payload\n", 8, "from test", "trusted: ours", err, sizeof err);
    CHECK(sig && tb_write(tb_path("msg.minisig"), sig, strlen(sig)), "write sig");
    free(sig);
    CHECK(tb_sh("minisign -Vq -p %s/w.pub -m %s/msg", d, d) == 0, "minisign -V rejects our signature");
    tb_write(tb_path("msg"), "payloaD\n", 8);
    CHECK(tb_sh("minisign -Vq -p %s/w.pub -m %s/msg -x %s/msg.minisig 2>/dev/null", d, d, d) != 0,
          "minisign accepts a tampered message");
    tb_write(tb_path("msg"), "payload\n", 8);

    /* minisign signs with our unencrypted key (it reads the zero-kdf form). */
    CHECK(tb_sh("minisign -S -s %s/w.sec -m %s/msg -x %s/m1.sig </dev/null >/dev/null 2>&1", d, d, d) == 0,
          "minisign -S with our -W key");
    size_t n;
    char *text = (char *)tb_read(tb_path("m1.sig"), &n);
    ms_signature s;
    CHECK(text && ms_sig_parse(text, n, &s, err, sizeof err), "%s", err);
    CHECK(ms_sig_verify(&s, &pk, "payload\n", 8, err, sizeof err), "minisign's signature with our key: %s", err);
    free(text);

    /* A key made by minisign -G -W signs; we verify, both ED and legacy Ed. */
    CHECK(tb_sh("minisign -G -W -p %s/m.pub -s %s/m.key >/dev/null 2>&1", d, d) == 0, "minisign -G -W");
    CHECK(tb_sh("minisign -S -s %s/m.key -m %s/msg -x %s/m2.sig -t 'tc from minisign' </dev/null >/dev/null 2>&1", d, d, d) == 0, "sign");
    CHECK(tb_sh("minisign -S -l -s %s/m.key -m %s/msg -x %s/m3.sig </dev/null >/dev/null 2>&1", d, d, d) == 0, "sign legacy");
    ms_pubkey mpk;
    CHECK(ms_pubkey_load(tb_path("m.pub"), &mpk, err, sizeof err), "%s", err);
    text = (char *)tb_read(tb_path("m2.sig"), &n);
    CHECK(text && ms_sig_parse(text, n, &s, err, sizeof err) && s.prehashed, "%s", err);
    CHECK(ms_sig_verify(&s, &mpk, "payload\n", 8, err, sizeof err), "%s", err);
    CHECK(!strcmp(s.trusted_comment, "tc from minisign"), "tc '%s'", s.trusted_comment);
    free(text);
    text = (char *)tb_read(tb_path("m3.sig"), &n);
    CHECK(text && ms_sig_parse(text, n, &s, err, sizeof err) && !s.prehashed, "legacy parse: %s", err);
    CHECK(ms_sig_verify(&s, &mpk, "payload\n", 8, err, sizeof err), "legacy: %s", err);
    CHECK_ERR(ms_sig_verify(&s, &mpk, "payload!", 8, err, sizeof err), err, "modified");
    free(text);
    /* minisign's unencrypted secret key loads here and signs what minisign verifies. */
    CHECK(ms_seckey_load(tb_path("m.key"), &f, err, sizeof err) && ms_seckey_unlock(&f, NULL, &sk, err, sizeof err),
          "minisign -W key: %s", err);
    sig = ms_sign(&sk, "payload\n", 8, "x", "signed here with minisign's key", err, sizeof err);
    CHECK(sig && tb_write(tb_path("m4.sig"), sig, strlen(sig)), "write");
    free(sig);
    CHECK(tb_sh("minisign -Vq -p %s/m.pub -m %s/msg -x %s/m4.sig", d, d, d) == 0, "minisign rejects our signature with its key");

    /* Password-protected keys, both directions (minisign reads the password
     * from stdin when it is not a terminal). Each costs one scrypt run with
     * minisign's parameters (1 GiB, a few seconds). */
    tb_write(tb_path("pw"), "s3cret pass\n", 12);
    CHECK(tb_run(pack_cmd_keygen, "keygen", "-p", tb_path("e.pub"), "-s", tb_path("e.sec"), "--password-file",
                 tb_path("pw"), NULL) == 0, "keygen with password");
    text = (char *)tb_read(tb_path("e.sec"), &n);
    CHECK(text && strstr(text, "s3cret") == NULL, "password leaked into the key file");
    free(text);
    CHECK(tb_sh("printf 's3cret pass\\n' | minisign -S -s %s/e.sec -m %s/msg -x %s/m5.sig >/dev/null 2>&1", d, d, d) == 0,
          "minisign cannot use our encrypted key");
    CHECK(tb_sh("minisign -Vq -p %s/e.pub -m %s/msg -x %s/m5.sig", d, d, d) == 0, "verify m5");
    CHECK(tb_sh("printf 'pw2\\npw2\\n' | minisign -G -p %s/p.pub -s %s/p.key >/dev/null 2>&1", d, d) == 0, "minisign -G with password");
    CHECK(ms_seckey_load(tb_path("p.key"), &f, err, sizeof err) && ms_seckey_encrypted(&f), "%s", err);
    CHECK(ms_seckey_unlock(&f, "pw2", &sk, err, sizeof err), "minisign encrypted key: %s", err);
    ms_pubkey ppk;
    ms_seckey_public(&sk, &pk);
    CHECK(ms_pubkey_load(tb_path("p.pub"), &ppk, err, sizeof err) && !memcmp(&pk, &ppk, sizeof pk), "public half");
}

int main(void) {
    tb_tmpdir();
    CHECK(ms_init(err, sizeof err), "%s", err);
    test_roundtrip_unencrypted();
    test_hostile_kdf_limits();
    test_encrypted();
    test_minisign_interop();
    return tb_finish("test_keys");
}
