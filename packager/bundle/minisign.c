/* minisign.c: minisign key and signature formats over libsodium.
 * See minisign.h; the byte layouts are documented in docs/bundle.md. */
#include "minisign.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#define PK_BYTES   (2 + MS_KEYID_BYTES + 32)
#define SK_BYTES   (2 + 2 + 2 + 32 + 8 + 8 + MS_KEYID_BYTES + 64 + 32)
#define SIG_BYTES  (2 + MS_KEYID_BYTES + 64)
#define COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define COMMENT_MAX 1024

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

bool ms_init(char *err, size_t errlen) {
    if (sodium_init() < 0) return fail(err, errlen, "libsodium failed to initialise");
    return true;
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void put_le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void ms_keyid_hex(const uint8_t keyid[MS_KEYID_BYTES], char out[17]) {
    snprintf(out, 17, "%016llX", (unsigned long long)le64(keyid));
}

void ms_keygen(ms_pubkey *pk, ms_seckey *sk) {
    crypto_sign_keypair(pk->pk, sk->sk);
    randombytes_buf(sk->keyid, MS_KEYID_BYTES);
    memcpy(pk->keyid, sk->keyid, MS_KEYID_BYTES);
}

void ms_seckey_public(const ms_seckey *sk, ms_pubkey *pk) {
    memcpy(pk->keyid, sk->keyid, MS_KEYID_BYTES);
    crypto_sign_ed25519_sk_to_pk(pk->pk, sk->sk);
}

/* "untrusted comment: ...\n" + base64(bin) + "\n" [+ extra] */
static char *format_file(const char *comment, const uint8_t *bin, size_t n) {
    size_t b64len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    size_t cap = strlen(COMMENT_PREFIX) + strlen(comment) + 1 + b64len + 2;
    char *out = malloc(cap);
    if (!out) return NULL;
    int k = snprintf(out, cap, "%s%s\n", COMMENT_PREFIX, comment);
    sodium_bin2base64(out + k, b64len, bin, n, sodium_base64_VARIANT_ORIGINAL);
    strcat(out, "\n");
    return out;
}

char *ms_pubkey_format(const ms_pubkey *pk) {
    uint8_t bin[PK_BYTES];
    char comment[64], id[17];
    memcpy(bin, "Ed", 2);
    memcpy(bin + 2, pk->keyid, MS_KEYID_BYTES);
    memcpy(bin + 2 + MS_KEYID_BYTES, pk->pk, 32);
    ms_keyid_hex(pk->keyid, id);
    snprintf(comment, sizeof comment, "minisign public key %s", id);
    return format_file(comment, bin, sizeof bin);
}

/* BLAKE2b-256 over sig alg, key id and secret key: lets a wrong password be
 * told apart from a damaged key. */
static void seckey_checksum(const uint8_t *keyid, const uint8_t *sk, uint8_t out[32]) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)"Ed", 2);
    crypto_generichash_update(&st, keyid, MS_KEYID_BYTES);
    crypto_generichash_update(&st, sk, 64);
    crypto_generichash_final(&st, out, 32);
}

static bool kdf_stream(const char *password, const uint8_t *salt, uint64_t ops, uint64_t mem,
                       uint8_t *stream, size_t n, char *err, size_t errlen) {
    if (crypto_pwhash_scryptsalsa208sha256(stream, n, password, strlen(password), salt,
                                           (unsigned long long)ops, (size_t)mem) != 0)
        return fail(err, errlen, "secret key: key derivation failed (out of memory? opslimit %llu, memlimit %llu)",
                    (unsigned long long)ops, (unsigned long long)mem);
    return true;
}

char *ms_seckey_format(const ms_seckey *sk, const char *password, char *err, size_t errlen) {
    uint8_t bin[SK_BYTES];
    uint8_t *block = bin + 2 + 2 + 2 + 32 + 8 + 8;
    memset(bin, 0, sizeof bin);
    memcpy(bin, "Ed", 2);
    memcpy(bin + 4, "B2", 2);
    memcpy(block, sk->keyid, MS_KEYID_BYTES);
    memcpy(block + MS_KEYID_BYTES, sk->sk, 64);
    seckey_checksum(sk->keyid, sk->sk, block + MS_KEYID_BYTES + 64);
    if (password) {
        /* minisign's own parameters, so its users see the usual cost. */
        uint64_t ops = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE;
        uint64_t mem = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE;
        uint8_t stream[MS_KEYID_BYTES + 64 + 32];
        memcpy(bin + 2, "Sc", 2);
        randombytes_buf(bin + 6, 32);
        put_le64(bin + 38, ops);
        put_le64(bin + 46, mem);
        if (!kdf_stream(password, bin + 6, ops, mem, stream, sizeof stream, err, errlen)) {
            sodium_memzero(bin, sizeof bin);
            return NULL;
        }
        for (size_t i = 0; i < sizeof stream; i++) block[i] ^= stream[i];
        sodium_memzero(stream, sizeof stream);
    }
    char *out = format_file(password ? "minisign encrypted secret key" : "minisign unencrypted secret key",
                            bin, sizeof bin);
    sodium_memzero(bin, sizeof bin);
    if (!out) fail(err, errlen, "out of memory");
    return out;
}

/* Split text into lines (LF, optional CR before it). Returns the count. */
static size_t split_lines(const char *text, size_t len, const char **lines, size_t *lens, size_t max) {
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len && n < max; i++) {
        if (i == len || text[i] == '\n') {
            if (i == len && start == len) break;   /* final newline */
            size_t l = i - start;
            if (l > 0 && text[start + l - 1] == '\r') l--;
            lines[n] = text + start;
            lens[n] = l;
            n++;
            start = i + 1;
        }
    }
    return n;
}

static bool decode_line(const char *what, const char *line, size_t llen, uint8_t *out, size_t want,
                        char *err, size_t errlen) {
    size_t got = 0;
    const char *end = NULL;
    if (llen > 4 * want) return fail(err, errlen, "%s: base64 line too long", what);
    if (sodium_base642bin(out, want, line, llen, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != line + llen)
        return fail(err, errlen, "%s: invalid base64", what);
    if (got != want)
        return fail(err, errlen, "%s: decodes to %zu bytes, expected %zu", what, got, want);
    return true;
}

static bool check_comment(const char *what, const char *line, size_t llen, char *err, size_t errlen) {
    size_t pl = strlen(COMMENT_PREFIX);
    if (llen < pl || memcmp(line, COMMENT_PREFIX, pl) != 0)
        return fail(err, errlen, "%s: line 1 does not start with \"untrusted comment: \"", what);
    if (llen - pl > COMMENT_MAX) return fail(err, errlen, "%s: comment longer than %d bytes", what, COMMENT_MAX);
    return true;
}

static bool check_nul(const char *what, const char *text, size_t len, char *err, size_t errlen) {
    if (memchr(text, '\0', len)) return fail(err, errlen, "%s: contains a NUL byte", what);
    return true;
}

bool ms_pubkey_parse(const char *text, size_t len, ms_pubkey *out, char *err, size_t errlen) {
    const char *lines[3];
    size_t lens[3];
    uint8_t bin[PK_BYTES];
    if (!check_nul("public key", text, len, err, errlen)) return false;
    size_t n = split_lines(text, len, lines, lens, 3);
    if (n != 2) return fail(err, errlen, "public key: expected 2 lines, found %s", n > 2 ? "more" : n == 1 ? "1" : "none");
    if (!check_comment("public key", lines[0], lens[0], err, errlen)) return false;
    if (!decode_line("public key", lines[1], lens[1], bin, sizeof bin, err, errlen)) return false;
    if (memcmp(bin, "Ed", 2) != 0) return fail(err, errlen, "public key: unknown signature algorithm (not Ed25519)");
    memcpy(out->keyid, bin + 2, MS_KEYID_BYTES);
    memcpy(out->pk, bin + 2 + MS_KEYID_BYTES, 32);
    return true;
}

char *ms_read_small_file(const char *path, size_t max, size_t *len, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);   /* a FIFO must not block us */
    if (fd < 0) {
        fail(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        fail(err, errlen, "%s: not a regular file", path);
        return NULL;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        fail(err, errlen, "%s: too large (%lld bytes, at most %zu)", path, (long long)st.st_size, max);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != (size_t)st.st_size) {
        free(buf);
        fail(err, errlen, "%s: read failed", path);
        return NULL;
    }
    buf[got] = 0;
    *len = got;
    return buf;
}

static bool load_with(const char *path, void *out, char *err, size_t errlen,
                      bool (*parse)(const char *, size_t, void *, char *, size_t)) {
    size_t len;
    char inner[256];
    char *text = ms_read_small_file(path, 64 * 1024, &len, err, errlen);
    if (!text) return false;
    bool ok = parse(text, len, out, inner, sizeof inner);
    sodium_memzero(text, len);
    free(text);
    if (!ok) return fail(err, errlen, "%s: %s", path, inner);
    return true;
}

static bool parse_pk_v(const char *t, size_t l, void *o, char *e, size_t el) { return ms_pubkey_parse(t, l, o, e, el); }
static bool parse_sk_v(const char *t, size_t l, void *o, char *e, size_t el) { return ms_seckey_parse(t, l, o, e, el); }

bool ms_pubkey_load(const char *path, ms_pubkey *out, char *err, size_t errlen) {
    return load_with(path, out, err, errlen, parse_pk_v);
}

bool ms_seckey_parse(const char *text, size_t len, ms_seckey_file *out, char *err, size_t errlen) {
    const char *lines[3];
    size_t lens[3];
    uint8_t bin[SK_BYTES];
    if (!check_nul("secret key", text, len, err, errlen)) return false;
    size_t n = split_lines(text, len, lines, lens, 3);
    if (n != 2) return fail(err, errlen, "secret key: expected 2 lines");
    if (!check_comment("secret key", lines[0], lens[0], err, errlen)) return false;
    if (!decode_line("secret key", lines[1], lens[1], bin, sizeof bin, err, errlen)) return false;
    if (memcmp(bin, "Ed", 2) != 0) return fail(err, errlen, "secret key: unknown signature algorithm (not Ed25519)");
    if (memcmp(bin + 2, "Sc", 2) != 0 && memcmp(bin + 2, "\0\0", 2) != 0)
        return fail(err, errlen, "secret key: unknown key derivation algorithm");
    if (memcmp(bin + 4, "B2", 2) != 0) return fail(err, errlen, "secret key: unknown checksum algorithm");
    memcpy(out->kdf_alg, bin + 2, 2);
    memcpy(out->salt, bin + 6, 32);
    out->opslimit = le64(bin + 38);
    out->memlimit = le64(bin + 46);
    memcpy(out->block, bin + 54, sizeof out->block);
    sodium_memzero(bin, sizeof bin);
    if (ms_seckey_encrypted(out)) {
        /* A hostile file must not make us allocate terabytes or spin for
         * hours: allow up to 4x minisign's own "sensitive" cost. */
        if (out->memlimit > 4ull * crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE ||
            out->opslimit > 4ull * crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE)
            return fail(err, errlen, "secret key: key derivation limits too high (opslimit %llu, memlimit %llu)",
                        (unsigned long long)out->opslimit, (unsigned long long)out->memlimit);
    }
    return true;
}

bool ms_seckey_load(const char *path, ms_seckey_file *out, char *err, size_t errlen) {
    return load_with(path, out, err, errlen, parse_sk_v);
}

bool ms_seckey_encrypted(const ms_seckey_file *f) { return memcmp(f->kdf_alg, "Sc", 2) == 0; }

bool ms_seckey_unlock(const ms_seckey_file *f, const char *password, ms_seckey *out,
                      char *err, size_t errlen) {
    uint8_t block[sizeof f->block];
    memcpy(block, f->block, sizeof block);
    if (ms_seckey_encrypted(f)) {
        uint8_t stream[sizeof block];
        if (!password) return fail(err, errlen, "secret key: encrypted, and no password was given");
        if (!kdf_stream(password, f->salt, f->opslimit, f->memlimit, stream, sizeof stream, err, errlen))
            return false;
        for (size_t i = 0; i < sizeof block; i++) block[i] ^= stream[i];
        sodium_memzero(stream, sizeof stream);
    }
    uint8_t chk[32], zero[32] = {0};
    const uint8_t *stored = block + MS_KEYID_BYTES + 64;
    seckey_checksum(block, block + MS_KEYID_BYTES, chk);
    /* minisign 0.11 leaves the checksum zero in unencrypted keys; the
     * seed/public-half check below still catches a damaged key. */
    bool chk_ok = sodium_memcmp(chk, stored, 32) == 0 ||
                  (!ms_seckey_encrypted(f) && sodium_memcmp(zero, stored, 32) == 0);
    if (!chk_ok) {
        sodium_memzero(block, sizeof block);
        return fail(err, errlen, ms_seckey_encrypted(f) ? "secret key: wrong password (checksum mismatch)"
                                                        : "secret key: checksum mismatch (damaged key)");
    }
    memcpy(out->keyid, block, MS_KEYID_BYTES);
    memcpy(out->sk, block + MS_KEYID_BYTES, 64);
    sodium_memzero(block, sizeof block);
    uint8_t pk[32], skx[64];
    crypto_sign_seed_keypair(pk, skx, out->sk);
    bool same = sodium_memcmp(skx, out->sk, 64) == 0;
    sodium_memzero(skx, sizeof skx);
    if (!same) {
        sodium_memzero(out, sizeof *out);
        return fail(err, errlen, "secret key: public half does not match the seed (damaged key)");
    }
    return true;
}

static void prehash(const void *msg, size_t len, uint8_t out[64]) {
    crypto_generichash(out, 64, msg, len, NULL, 0);
}

char *ms_sign(const ms_seckey *sk, const void *msg, size_t len,
              const char *untrusted_comment, const char *trusted_comment,
              char *err, size_t errlen) {
    size_t tcl = strlen(trusted_comment);
    if (tcl > MS_TRUSTED_COMMENT_MAX || strpbrk(trusted_comment, "\r\n")) {
        fail(err, errlen, "trusted comment must be one line of at most %d bytes", MS_TRUSTED_COMMENT_MAX);
        return NULL;
    }
    if (strlen(untrusted_comment) > COMMENT_MAX || strpbrk(untrusted_comment, "\r\n")) {
        fail(err, errlen, "untrusted comment must be one line of at most %d bytes", COMMENT_MAX);
        return NULL;
    }
    uint8_t bin[SIG_BYTES], h[64];
    memcpy(bin, "ED", 2);
    memcpy(bin + 2, sk->keyid, MS_KEYID_BYTES);
    prehash(msg, len, h);
    crypto_sign_detached(bin + 2 + MS_KEYID_BYTES, NULL, h, sizeof h, sk->sk);

    /* The global signature binds the trusted comment to this signature. */
    uint8_t *gm = malloc(64 + tcl), gsig[64];
    if (!gm) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    memcpy(gm, bin + 2 + MS_KEYID_BYTES, 64);
    memcpy(gm + 64, trusted_comment, tcl);
    crypto_sign_detached(gsig, NULL, gm, 64 + tcl, sk->sk);
    free(gm);

    char *head = format_file(untrusted_comment, bin, sizeof bin);
    size_t g64 = sodium_base64_encoded_len(64, sodium_base64_VARIANT_ORIGINAL);
    size_t cap = (head ? strlen(head) : 0) + strlen(TRUSTED_PREFIX) + tcl + 1 + g64 + 2;
    char *out = head ? malloc(cap) : NULL;
    if (!out) {
        free(head);
        fail(err, errlen, "out of memory");
        return NULL;
    }
    int k = snprintf(out, cap, "%s%s%s\n", head, TRUSTED_PREFIX, trusted_comment);
    sodium_bin2base64(out + k, g64, gsig, 64, sodium_base64_VARIANT_ORIGINAL);
    strcat(out, "\n");
    free(head);
    return out;
}

bool ms_sig_parse(const char *text, size_t len, ms_signature *out, char *err, size_t errlen) {
    const char *lines[5];
    size_t lens[5];
    uint8_t bin[SIG_BYTES];
    if (!check_nul("signature", text, len, err, errlen)) return false;
    size_t n = split_lines(text, len, lines, lens, 5);
    if (n != 4) return fail(err, errlen, "signature: expected 4 lines, found %zu%s", n, n == 5 ? "+" : "");
    if (!check_comment("signature", lines[0], lens[0], err, errlen)) return false;
    if (!decode_line("signature", lines[1], lens[1], bin, sizeof bin, err, errlen)) return false;
    if (memcmp(bin, "ED", 2) == 0) out->prehashed = true;
    else if (memcmp(bin, "Ed", 2) == 0) out->prehashed = false;
    else return fail(err, errlen, "signature: unknown signature algorithm");
    memcpy(out->keyid, bin + 2, MS_KEYID_BYTES);
    memcpy(out->sig, bin + 2 + MS_KEYID_BYTES, 64);
    size_t tp = strlen(TRUSTED_PREFIX);
    if (lens[2] < tp || memcmp(lines[2], TRUSTED_PREFIX, tp) != 0)
        return fail(err, errlen, "signature: line 3 does not start with \"trusted comment: \"");
    if (lens[2] - tp > MS_TRUSTED_COMMENT_MAX)
        return fail(err, errlen, "signature: trusted comment longer than %d bytes", MS_TRUSTED_COMMENT_MAX);
    memcpy(out->trusted_comment, lines[2] + tp, lens[2] - tp);
    out->trusted_comment[lens[2] - tp] = 0;
    if (!decode_line("signature: global signature", lines[3], lens[3], out->global_sig, 64, err, errlen))
        return false;
    return true;
}

bool ms_sig_verify(const ms_signature *s, const ms_pubkey *pk, const void *msg, size_t len,
                   char *err, size_t errlen) {
    char a[17], b[17];
    if (memcmp(s->keyid, pk->keyid, MS_KEYID_BYTES) != 0) {
        ms_keyid_hex(s->keyid, a);
        ms_keyid_hex(pk->keyid, b);
        return fail(err, errlen, "signature key id %s does not match public key %s", a, b);
    }
    int r;
    if (s->prehashed) {
        uint8_t h[64];
        prehash(msg, len, h);
        r = crypto_sign_verify_detached(s->sig, h, sizeof h, pk->pk);
    } else {
        r = crypto_sign_verify_detached(s->sig, msg, len, pk->pk);
    }
    if (r != 0) return fail(err, errlen, "signature verification failed: the signed data was modified");
    size_t tcl = strlen(s->trusted_comment);
    uint8_t *gm = malloc(64 + tcl);
    if (!gm) return fail(err, errlen, "out of memory");
    memcpy(gm, s->sig, 64);
    memcpy(gm + 64, s->trusted_comment, tcl);
    r = crypto_sign_verify_detached(s->global_sig, gm, 64 + tcl, pk->pk);
    free(gm);
    if (r != 0) return fail(err, errlen, "trusted comment signature verification failed: the trusted comment was modified");
    return true;
}
