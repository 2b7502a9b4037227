/* pack_cmds.c: keygen, build, sign, verify. See pack_cmds.h. */
#include "pack_cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "bundle.h"
#include "cli_util.h"
#include "pack_util.h"

/* ---- keygen ------------------------------------------------------------- */

static bool write_key_file(const char *path, const char *text, mode_t mode, bool force, char *err, size_t errlen) {
    struct stat st;
    if (!force && lstat(path, &st) == 0) {
        pack_errf(err, errlen, "%s already exists (use -f to overwrite)", path);
        return false;
    }
    atomic_out o;
    if (!atomic_begin(&o, path, err, errlen)) return false;
    size_t n = strlen(text);
    if (fchmod(o.fd, mode) != 0 || write(o.fd, text, n) != (ssize_t)n) {
        pack_errf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        atomic_abort(&o);
        return false;
    }
    return atomic_commit(&o, err, errlen);
}

#define KEYGEN_USAGE "-p PUB -s SEC [-W] [--password-file F] [-f]"
static const char keygen_help[] =
    "Make a signing key pair (minisign's formats).\n"
    "  -p PUB             the public key file to write\n"
    "  -s SEC             the secret key file to write (mode 0600)\n"
    "  -W                 no password: the secret key is not encrypted\n"
    "  --password-file F  the password is F's first line (else $WASMLET_PASSWORD,\n"
    "                     else a prompt on the terminal, asked twice)\n"
    "  -f                 overwrite existing key files\n"
    "  -h, --help         print this help and exit\n";

int pack_cmd_keygen(int argc, char **argv) {
    const char *pub = NULL, *sec = NULL, *pwfile = NULL;
    bool nopw = false, force = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-p") && i + 1 < argc) pub = argv[++i];
        else if (!strcmp(argv[i], "-s") && i + 1 < argc) sec = argv[++i];
        else if (!strcmp(argv[i], "--password-file") && i + 1 < argc) pwfile = argv[++i];
        else if (!strcmp(argv[i], "-W")) nopw = true;
        else if (!strcmp(argv[i], "-f")) force = true;
        else if (cli_is_help(argv[i])) return cli_help("keygen", KEYGEN_USAGE, keygen_help);
        else return pack_usage("keygen", KEYGEN_USAGE, argv[i]);
    }
    if (!pub || !sec) return pack_usage("keygen", KEYGEN_USAGE, NULL);
    char err[512], pw[PASSWORD_MAX];
    if (!ms_init(err, sizeof err)) return pack_fail("keygen", err);
    struct stat st;
    if (!force && (lstat(pub, &st) == 0 || lstat(sec, &st) == 0)) {
        pack_errf(err, sizeof err, "%s exists (use -f to overwrite)", lstat(pub, &st) == 0 ? pub : sec);
        return pack_fail("keygen", err);
    }
    if (!nopw && !cli_password(pwfile, true, pw, sizeof pw, err, sizeof err)) return pack_fail("keygen", err);
    ms_pubkey pk;
    ms_seckey sk;
    ms_keygen(&pk, &sk);
    char *sk_text = ms_seckey_format(&sk, nopw ? NULL : pw, err, sizeof err);
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(&sk, sizeof sk);
    char *pk_text = ms_pubkey_format(&pk);
    bool ok = sk_text && pk_text && write_key_file(sec, sk_text, 0600, force, err, sizeof err) &&
              write_key_file(pub, pk_text, 0644, force, err, sizeof err);
    if (sk_text) sodium_memzero(sk_text, strlen(sk_text));
    free(sk_text);
    free(pk_text);
    if (!ok) return pack_fail("keygen", err);
    char id[17];
    ms_keyid_hex(pk.keyid, id);
    fprintf(stderr, "key %s: public key in %s, secret key in %s%s\n", id, pub, sec, nopw ? " (not encrypted)" : "");
    return 0;
}

/* ---- build -------------------------------------------------------------- */

#define BUILD_USAGE \
    "--wasm F --model ALIAS=F... [--tokenizer F] --name N --version V [--description D] " \
    "[--dir GUEST[:ro]]... [--env K=V]... [--max-memory BYTES] [--timeout S] [--ctx-size N] " \
    "[-s SEC [--password-file F]] [--optimize] -o OUT"
static const char build_help[] =
    "Pack a guest, its models and tokenizer into a bundle, signed with -s.\n"
    "  --wasm F               the guest (a wasm32-wasi command module)\n"
    "  --model ALIAS=F        a GGUF model under an alias (repeatable; at least one)\n"
    "  --tokenizer F          a separate tokenizer GGUF (default: a model's)\n"
    "  --name N, --version V  the app's name and version\n"
    "  --description D        a description for the manifest\n"
    "  --dir GUEST[:ro]       a guest folder the host may grant (repeatable)\n"
    "  --env K=V              a guest environment variable (repeatable)\n"
    "  --max-memory BYTES     guest memory limit (0: the host's default)\n"
    "  --timeout S            wall-clock limit in seconds (0: the host's default)\n"
    "  --ctx-size N           context size for the models (0: the default)\n"
    "  -s SEC                 sign with this secret key\n"
    "  --password-file F      its password is F's first line (else\n"
    "                         $WASMLET_PASSWORD, else a prompt on the terminal)\n"
    "  --optimize             shrink the guest with wasm-opt -Oz first\n"
    "  -o OUT                 the bundle to write\n"
    "  -h, --help             print this help and exit\n";

static bool parse_u64(const char *s, uint64_t *out) {
    char *end;
    if (!*s || *s == '-') return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

int pack_cmd_build(int argc, char **argv) {
    build_opts o;
    memset(&o, 0, sizeof o);
    const char *seckey = NULL, *pwfile = NULL;
    char err[1024];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = v != NULL;
        if (cli_is_help(a)) return cli_help("build", BUILD_USAGE, build_help);
        if (!strcmp(a, "--optimize")) {
            o.optimize = true;
            continue;
        }
        if (!takes) return pack_usage("build", BUILD_USAGE, a);
        i++;
        if (!strcmp(a, "--wasm")) o.wasm_path = v;
        else if (!strcmp(a, "--tokenizer")) o.tokenizer_path = v;
        else if (!strcmp(a, "--name")) o.name = v;
        else if (!strcmp(a, "--version")) o.version = v;
        else if (!strcmp(a, "--description")) o.description = v;
        else if (!strcmp(a, "-o")) o.out = v;
        else if (!strcmp(a, "-s")) seckey = v;
        else if (!strcmp(a, "--password-file")) pwfile = v;
        else if (!strcmp(a, "--model")) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1]) return pack_usage("build", BUILD_USAGE, v);
            if (o.n_models == MANIFEST_MAX_MODELS) {
                pack_errf(err, sizeof err, "at most %d --model options", MANIFEST_MAX_MODELS);
                return pack_fail("build", err);
            }
            /* argv strings are ours to split for the life of the call */
            argv[i][eq - v] = 0;
            o.models[o.n_models++] = (build_model){argv[i], eq + 1};
        } else if (!strcmp(a, "--dir")) {
            if (o.n_dirs == MANIFEST_MAX_DIRS) return pack_fail("build", "too many --dir options");
            size_t l = strlen(v);
            bool ro = l > 3 && !strcmp(v + l - 3, ":ro");
            if (ro) argv[i][l - 3] = 0;
            if (!manifest_guest_path_ok(argv[i])) {
                pack_errf(err, sizeof err, "--dir %s: guest path must be absolute and normalised", v);
                return pack_fail("build", err);
            }
            o.dirs[o.n_dirs++] = (manifest_dir){argv[i], ro};
        } else if (!strcmp(a, "--env")) {
            const char *eq = strchr(v, '=');
            if (o.n_env == MANIFEST_MAX_ENV) return pack_fail("build", "too many --env options");
            if (!eq) return pack_usage("build", BUILD_USAGE, v);
            argv[i][eq - v] = 0;
            o.env[o.n_env++] = (manifest_env){argv[i], (char *)eq + 1};
        } else if (!strcmp(a, "--max-memory") || !strcmp(a, "--timeout") || !strcmp(a, "--ctx-size")) {
            uint64_t n;
            if (!parse_u64(v, &n) || n > (UINT64_C(1) << 53)) {
                pack_errf(err, sizeof err, "%s %s: not a non-negative integer", a, v);
                return pack_fail("build", err);
            }
            if (!strcmp(a, "--max-memory")) o.max_memory = n;
            else if (!strcmp(a, "--timeout")) o.timeout_seconds = n;
            else o.ctx_size = n;
        } else {
            return pack_usage("build", BUILD_USAGE, a);
        }
    }
    if (!o.wasm_path || !o.n_models || !o.name || !o.version || !o.out)
        return pack_usage("build", BUILD_USAGE, NULL);
    if (!ms_init(err, sizeof err)) return pack_fail("build", err);
    ms_seckey sk;
    if (seckey) {
        if (!pack_load_seckey(seckey, pwfile, &sk, err, sizeof err)) return pack_fail("build", err);
        o.key = &sk;
    }
    bool ok = bundle_build(&o, err, sizeof err);
    sodium_memzero(&sk, sizeof sk);
    if (!ok) return pack_fail("build", err);
    fprintf(stderr, "wrote %s (%s)\n", o.out, seckey ? "signed" : "unsigned");
    return 0;
}

/* ---- sign --------------------------------------------------------------- */

int pack_cmd_sign(int argc, char **argv) {
    const char *seckey = NULL, *pwfile = NULL, *path = NULL, *sigfile = NULL, *pubfile = NULL;
    static const char usage[] = "-s SEC [--password-file F] BUNDLE  |  -x SIGFILE -p PUB BUNDLE";
    static const char help[] =
        "Sign a bundle's manifest, replacing any signature: with a secret key, or\n"
        "by embedding a signature of manifest.json made elsewhere (minisign -S),\n"
        "which must verify with PUB.\n"
        "  -s SEC             the secret key\n"
        "  --password-file F  its password is F's first line (else $WASMLET_PASSWORD,\n"
        "                     else a prompt on the terminal)\n"
        "  -x SIGFILE         the signature to embed\n"
        "  -p PUB             the public key it must verify with\n"
        "  -h, --help         print this help and exit\n";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-s") && i + 1 < argc) seckey = argv[++i];
        else if (!strcmp(argv[i], "--password-file") && i + 1 < argc) pwfile = argv[++i];
        else if (!strcmp(argv[i], "-x") && i + 1 < argc) sigfile = argv[++i];
        else if (!strcmp(argv[i], "-p") && i + 1 < argc) pubfile = argv[++i];
        else if (cli_is_help(argv[i])) return cli_help("sign", usage, help);
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else return pack_usage("sign", usage, argv[i]);
    }
    if (!path || (seckey ? (sigfile || pubfile) : (!sigfile || !pubfile))) return pack_usage("sign", usage, NULL);
    char err[1024];
    if (!ms_init(err, sizeof err)) return pack_fail("sign", err);
    char id[17];
    bool ok;
    if (seckey) {
        ms_seckey sk;
        if (!pack_load_seckey(seckey, pwfile, &sk, err, sizeof err)) return pack_fail("sign", err);
        ok = bundle_resign(path, &sk, err, sizeof err);
        ms_keyid_hex(sk.keyid, id);
        sodium_memzero(&sk, sizeof sk);
    } else {
        ms_pubkey pk;
        size_t len;
        char *text = ms_read_small_file(sigfile, BUNDLE_SIG_MAX, &len, err, sizeof err);
        ok = text && ms_pubkey_load(pubfile, &pk, err, sizeof err) &&
             bundle_attach_signature(path, text, &pk, err, sizeof err);
        free(text);
        if (ok) ms_keyid_hex(pk.keyid, id);
    }
    if (!ok) return pack_fail("sign", err);
    fprintf(stderr, "signed %s with key %s\n", path, id);
    return 0;
}

/* ---- verify ------------------------------------------------------------- */

int pack_cmd_verify(int argc, char **argv) {
    const char *path = NULL;
    bool full = false;
    int n_keys = 0;
    char err[1024];
    static const char usage[] = "-p PUB... [--full] BUNDLE";
    static const char help[] =
        "Check a bundle's signature against the given public keys, its layout, and\n"
        "every member's size and SHA-256.\n"
        "  -p, --trust PUB  a trusted public key (repeatable; at least one)\n"
        "  --full           re-hash every member even if this file was verified before\n"
        "  -h, --help       print this help and exit\n";
    /* The whole argv is checked before any key file is read. */
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-p") || !strcmp(argv[i], "--trust")) && i + 1 < argc) {
            i++;
            n_keys++;
        } else if (!strcmp(argv[i], "--full")) {
            full = true;
        } else if (cli_is_help(argv[i])) {
            return cli_help("verify", usage, help);
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            return pack_usage("verify", usage, argv[i]);
        }
    }
    if (!path || n_keys == 0) return pack_usage("verify", usage, NULL);
    if (!ms_init(err, sizeof err)) return pack_fail("verify", err);
    bundle_trust trust = {0};
    if (!cli_trust_args(argc, argv, &trust, err, sizeof err)) return pack_fail("verify", err);
    bundle *b = bundle_open(path, err, sizeof err);
    const ms_pubkey *signer = NULL;
    bool cached = false;
    bool ok = b && bundle_verify_signature(b, &trust, &signer, err, sizeof err);
    if (ok) {
        char inner[900];
        progress pg;
        progress_start(&pg, "verifying", bundle_file_size(b));
        ok = bundle_check_members(b, full ? BUNDLE_VERIFY_FULL : 0, &cached, progress_cb, &pg, inner, sizeof inner);
        progress_end(&pg);
        if (!ok) pack_errf(err, sizeof err, "%s: %s", path, inner);
    } else if (b) {
        char inner[900];
        pack_errf(inner, sizeof inner, "%s", err);
        pack_errf(err, sizeof err, "%s: %s", path, inner);
    }
    if (ok) {
        char id[17];
        ms_keyid_hex(signer->keyid, id);
        printf("%s: OK: signed by key %s; %zu members match the manifest%s\n", path, id, bundle_member_count(b),
               cached ? " (verified earlier, file unchanged)" : "");
        printf("trusted comment: %s\n", bundle_signature(b)->trusted_comment);
    }
    bundle_close(b);
    bundle_trust_free(&trust);
    return ok ? 0 : pack_fail("verify", err);
}
