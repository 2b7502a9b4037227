/* minisign.h: Ed25519 keys and signatures in minisign's file formats.
 *
 * Contract: files written here are read by the stock `minisign` tool and
 * files it writes are read here (docs/bundle.md gives the exact layouts).
 * Public key file: comment line + base64("Ed" keyid[8] pk[32]).
 * Secret key file: comment line + base64("Ed" kdf[2] "B2" salt[32]
 * opslimit[8] memlimit[8] (keyid[8] sk[64] checksum[32])), the last block
 * XORed with an scrypt stream when kdf is "Sc" and stored as is when kdf
 * is "\0\0". Signatures: "ED" (BLAKE2b-512 prehash, what we write) or
 * legacy "Ed" (raw message, accepted), plus a trusted comment covered by a
 * second "global" signature. Every parser refuses anything malformed with
 * a one-line message; secrets are wiped (sodium_memzero) after use.
 * Needs sodium_init() (ms_init() calls it).
 */
#ifndef WASMLET_MINISIGN_H
#define WASMLET_MINISIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_KEYID_BYTES 8
#define MS_TRUSTED_COMMENT_MAX 8192

typedef struct { uint8_t keyid[MS_KEYID_BYTES]; uint8_t pk[32]; } ms_pubkey;
typedef struct { uint8_t keyid[MS_KEYID_BYTES]; uint8_t sk[64]; } ms_seckey;

/* A secret key file as stored, before the password is applied. */
typedef struct {
    uint8_t kdf_alg[2];
    uint8_t salt[32];
    uint64_t opslimit, memlimit;
    uint8_t block[MS_KEYID_BYTES + 64 + 32];   /* keyid, sk, checksum */
} ms_seckey_file;

typedef struct {
    bool prehashed;                        /* "ED" (true) or legacy "Ed" */
    uint8_t keyid[MS_KEYID_BYTES];
    uint8_t sig[64];
    char trusted_comment[MS_TRUSTED_COMMENT_MAX + 1];
    uint8_t global_sig[64];
} ms_signature;

bool ms_init(char *err, size_t errlen);

/* Key id as minisign prints it: 16 upper-case hex digits of the id read
 * as a little-endian u64. out needs 17 bytes. */
void ms_keyid_hex(const uint8_t keyid[MS_KEYID_BYTES], char out[17]);

void ms_keygen(ms_pubkey *pk, ms_seckey *sk);
void ms_seckey_public(const ms_seckey *sk, ms_pubkey *pk);

/* Writers return malloc'd, NUL-terminated file text (NULL on failure). */
char *ms_pubkey_format(const ms_pubkey *pk);
/* password NULL: unencrypted (kdf "\0\0"). */
char *ms_seckey_format(const ms_seckey *sk, const char *password, char *err, size_t errlen);

bool ms_pubkey_parse(const char *text, size_t len, ms_pubkey *out, char *err, size_t errlen);
bool ms_pubkey_load(const char *path, ms_pubkey *out, char *err, size_t errlen);
bool ms_seckey_parse(const char *text, size_t len, ms_seckey_file *out, char *err, size_t errlen);
bool ms_seckey_load(const char *path, ms_seckey_file *out, char *err, size_t errlen);
bool ms_seckey_encrypted(const ms_seckey_file *f);
/* Decrypt (password ignored when unencrypted) and check the checksum and
 * that the public half matches the secret seed. */
bool ms_seckey_unlock(const ms_seckey_file *f, const char *password, ms_seckey *out,
                      char *err, size_t errlen);

/* Sign msg (prehashed "ED"); returns the .minisig file text. The trusted
 * comment must be one line (no CR/LF) of at most MS_TRUSTED_COMMENT_MAX. */
char *ms_sign(const ms_seckey *sk, const void *msg, size_t len,
              const char *untrusted_comment, const char *trusted_comment,
              char *err, size_t errlen);
bool ms_sig_parse(const char *text, size_t len, ms_signature *out, char *err, size_t errlen);
/* True when both the signature over msg and the global signature over
 * the trusted comment are valid for pk (and the key ids agree). */
bool ms_sig_verify(const ms_signature *s, const ms_pubkey *pk, const void *msg, size_t len,
                   char *err, size_t errlen);

/* Read a whole small file (refuses files larger than max). */
char *ms_read_small_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif
