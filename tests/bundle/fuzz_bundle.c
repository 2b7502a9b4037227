/* fuzz_bundle.c: libFuzzer target for everything that reads untrusted bundle
 * bytes: the tar walk and member checks (bundle_open on an in-memory file,
 * then the signature and hash checks), the manifest reader, and the
 * minisign key and signature parsers. No output is ever written. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    static ms_pubkey key;
    static int fd = -1;
    char err[1024];
    if (fd < 0) {
        ms_init(err, sizeof err);
        ms_seckey sk;
        ms_keygen(&key, &sk);
        fd = memfd_create("bundle", 0);
        if (fd < 0) abort();
    }
    /* The bundle reader, on a file holding exactly the input. */
    if (ftruncate(fd, 0) != 0 || pwrite(fd, d, n, 0) != (ssize_t)n) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    bundle *b = bundle_open(path, err, sizeof err);
    if (b) {
        bundle_trust t = {&key, 1};
        bundle_verify_signature(b, &t, NULL, err, sizeof err);
        bundle_check_members(b, BUNDLE_NO_CACHE, NULL, NULL, NULL, err, sizeof err);
        bundle_close(b);
    }
    /* The text parsers on the raw bytes. */
    manifest m;
    if (manifest_parse((const char *)d, n, &m, err, sizeof err)) manifest_free(&m);
    ms_signature s;
    ms_pubkey pk;
    ms_seckey_file f;
    ms_sig_parse((const char *)d, n, &s, err, sizeof err);
    ms_pubkey_parse((const char *)d, n, &pk, err, sizeof err);
    ms_seckey_parse((const char *)d, n, &f, err, sizeof err);
    return 0;
}
