/* run_bundle.c: open, verify and map a bundle for wasmlet-run. */
#define _POSIX_C_SOURCE 200809L
#include "run_bundle.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool run_is_bundle(const char *path) {
    unsigned char h[512] = {0};
    ssize_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, h, sizeof h);
        close(fd);
    }
    if (n >= 4 && h[0] == 0 && h[1] == 'a' && h[2] == 's' && h[3] == 'm') return false;
    if (n >= 262 && memcmp(h + 257, "ustar", 5) == 0) return true;
    /* Neither magic: the name says which reader gives the better message. */
    size_t len = strlen(path);
    return len >= 8 && strcmp(path + len - 8, ".wasmlet") == 0;
}

static bool map(run_bundle *rb, const char *member, const void **data, size_t *len, char *err, size_t errlen) {
    const bundle_member *bm = bundle_find(rb->b, member);
    if (!bm) {
        snprintf(err, errlen, "bundle has no member '%s'", member);
        return false;
    }
    void *base;
    size_t maplen;
    if (!bundle_map_member(rb->b, bm, data, &base, &maplen, err, errlen)) return false;
    rb->maps[rb->n_maps].base = base;
    rb->maps[rb->n_maps].len = maplen;
    rb->n_maps++;
    *len = (size_t)bm->size;
    return true;
}

bool run_bundle_open(run_bundle *rb, const char *path, const char *const *trust, size_t n_trust,
                     bool allow_unsigned, bool full_verify, nn_registry *reg, char *err, size_t errlen) {
    memset(rb, 0, sizeof *rb);
    rb->b = bundle_open_verified(path, trust, n_trust, allow_unsigned, full_verify ? BUNDLE_VERIFY_FULL : 0,
                                 err, errlen);
    if (!rb->b) return false;
    rb->m = bundle_manifest(rb->b);
    char e[512];
    if (!map(rb, rb->m->wasm, &rb->wasm, &rb->wasm_len, e, sizeof e)) goto fail;
    for (size_t i = 0; i < rb->m->n_models; i++) {
        const manifest_model *mm = &rb->m->models[i];
        const void *data;
        size_t len;
        if (!map(rb, mm->path, &data, &len, e, sizeof e)) goto fail;
        llm_source src;
        const bundle_member *bm = bundle_find(rb->b, mm->path);
        bool have = llm_source_of_fd(bundle_fd(rb->b), bm->offset, bm->size, &src);
        if (!nn_registry_add_buffer(reg, mm->alias, data, len, have ? &src : NULL, e, sizeof e)) goto fail;
        if (strcmp(mm->path, rb->m->tokenizer) == 0) {
            rb->tokenizer = data;
            rb->tokenizer_len = len;
        }
    }
    if (!rb->tokenizer && !map(rb, rb->m->tokenizer, &rb->tokenizer, &rb->tokenizer_len, e, sizeof e)) goto fail;
    return true;
fail:
    snprintf(err, errlen, "%s: %s", path, e);
    run_bundle_close(rb);
    return false;
}

void run_bundle_close(run_bundle *rb) {
    for (int i = 0; i < rb->n_maps; i++) bundle_unmap(rb->maps[i].base, rb->maps[i].len);
    bundle_close(rb->b);
    memset(rb, 0, sizeof *rb);
}
