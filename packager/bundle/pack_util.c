/* pack_util.c: see pack_util.h. */
#include "pack_util.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli_util.h"

void pack_errf(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int pack_fail(const char *cmd, const char *msg) {
    fprintf(stderr, "wasmlet-pack %s: %s\n", cmd, msg);
    return 1;
}

int pack_usage(const char *cmd, const char *usage, const char *bad) {
    if (bad) fprintf(stderr, "wasmlet-pack %s: unexpected argument '%s'\n", cmd, bad);
    fprintf(stderr, "usage: wasmlet-pack %s %s\n", cmd, usage);
    return 2;
}

bool pack_load_seckey(const char *path, const char *pwfile, ms_seckey *out, char *err, size_t errlen) {
    ms_seckey_file f;
    char pw[PASSWORD_MAX];
    if (!ms_seckey_load(path, &f, err, errlen)) return false;
    bool enc = ms_seckey_encrypted(&f);
    if (enc && !cli_password(pwfile, false, pw, sizeof pw, err, errlen)) return false;
    char inner[300];
    bool ok = ms_seckey_unlock(&f, enc ? pw : NULL, out, inner, sizeof inner);
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(&f, sizeof f);
    if (!ok) pack_errf(err, errlen, "%s: %s", path, inner);
    return ok;
}
