/* fuzz_wasm_reader: libFuzzer target for the wasm module reader, the first
 * code in wasmlet-run to touch a hostile module. Each input goes through
 * wasm_read() and, when accepted, through the command check and the import
 * check against the host's real WASI and WASI-NN tables, as rt_run.c does.
 * Beyond "no crash, no leak, no out-of-bounds read", what the reader hands
 * back must hold up: names are valid UTF-8, every function import has a
 * well-formed signature, limits are ordered, an import check that passes
 * really matched every import, and the same bytes give the same answer.
 * A broken invariant aborts, which fails the run. */
#define _POSIX_C_SOURCE 200809L
#include "wasm_reader.h"
#include "nn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile size_t sink;

static void need(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "fuzz_wasm_reader: invariant broken: %s\n", what);
        abort();
    }
}

static int utf8_ok(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
        if (n < 0) return 0;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xc0) != 0x80) return 0;
    }
    return 1;
}

/* "params:results" over i/I/f/F/r/e, one colon. */
static int sig_ok(const char *sig) {
    int colons = 0;
    for (const char *c = sig; *c; c++) {
        if (*c == ':') colons++;
        else if (!strchr("iIfFre", *c)) return 0;
    }
    return colons == 1;
}

static void check_error(const char *err, size_t errlen) {
    size_t n = strnlen(err, errlen);
    need(n > 0 && n < errlen, "a refusal comes with a message");
    for (size_t i = 0; i < n; i++)
        need((unsigned char)err[i] >= 0x20 && err[i] != 0x7f, "a message is one line with no control bytes");
}

static void check_info(const wasm_info *w) {
    need(w->n_imports == 0 || w->imports != NULL, "imports array present");
    for (uint32_t i = 0; i < w->n_imports; i++) {
        const wasm_import *im = &w->imports[i];
        need(im->module && im->name, "import names present");
        need(utf8_ok(im->module) && utf8_ok(im->name), "import names are valid UTF-8");
        need(im->kind >= WASM_EXTERN_FUNC && im->kind <= WASM_EXTERN_GLOBAL, "import kind in range");
        if (im->kind == WASM_EXTERN_FUNC) {
            need(im->sig && sig_ok(im->sig), "function import signature well-formed");
            /* the pretty form into buffers too small, and large enough */
            char tiny[1], small[12], big[1024];
            wasm_sig_pretty(im->sig, tiny, sizeof tiny);
            wasm_sig_pretty(im->sig, small, sizeof small);
            wasm_sig_pretty(im->sig, big, sizeof big);
            need(tiny[0] == 0 && strlen(small) < sizeof small, "pretty signature truncated safely");
            need(big[0] == '(' && strstr(big, ") -> "), "pretty signature shape");
        }
        sink += strlen(im->module) + strlen(im->name);
    }
    need(!w->start_ok || w->start_exported, "a good _start is an exported _start");
    need(w->mem_min <= w->mem_max && w->mem_max <= 65536, "memory limits ordered, within 4 GiB");
}

/* An import check that passed: every import is a function the tables hold
 * with the very same signature. */
static void check_imports_really_match(const wasm_info *w, const wlrt_import_table *t, int nt) {
    for (uint32_t i = 0; i < w->n_imports; i++) {
        const wasm_import *im = &w->imports[i];
        int found = 0;
        for (int k = 0; k < nt && !found; k++)
            for (size_t j = 0; j < t[k].n && !found; j++)
                found = !strcmp(t[k].imports[j].module, im->module) && !strcmp(t[k].imports[j].name, im->name) &&
                        im->kind == WASM_EXTERN_FUNC && !strcmp(t[k].imports[j].sig, im->sig);
        need(found, "every import of a passed module is in the host tables");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const wlrt_import_table tables[] = {{wasi_imports, wasi_n_imports}, {nn_imports, nn_n_imports}};
    char err[512], err2[512];
    wasm_info w;
    memset(&w, 0, sizeof w);
    err[0] = 0;
    int ok = wasm_read(data, size, &w, err, sizeof err);
    need(ok == 0 || ok == 1, "wasm_read returns 0 or 1");

    /* Same bytes, same verdict and message. */
    wasm_info w2;
    memset(&w2, 0, sizeof w2);
    err2[0] = 0;
    int ok2 = wasm_read(data, size, &w2, err2, sizeof err2);
    need(ok2 == ok && (ok || !strcmp(err, err2)), "wasm_read is deterministic");
    need(w2.n_imports == w.n_imports && w2.start_ok == w.start_ok && w2.memory_exported == w.memory_exported,
         "wasm_read is deterministic");
    if (ok2) wasm_info_free(&w2);

    if (!ok) {
        check_error(err, sizeof err);
        return 0;
    }
    check_info(&w);
    int cmd = wasm_check_command(&w, err, sizeof err);
    need(cmd == 0 || cmd == 1, "wasm_check_command returns 0 or 1");
    if (!cmd) check_error(err, sizeof err);
    else need(w.memory_exported && w.start_exported && w.start_ok, "a command exports memory and _start");
    int imp = wasm_check_imports(&w, tables, 2, err, sizeof err);
    need(imp == 0 || imp == 1, "wasm_check_imports returns 0 or 1");
    if (imp) check_imports_really_match(&w, tables, 2);
    else check_error(err, sizeof err);
    /* no tables: only a module without imports passes */
    need(wasm_check_imports(&w, NULL, 0, err, sizeof err) == (w.n_imports == 0), "no tables, no imports");
    wasm_info_free(&w);
    wasm_info_free(&w);   /* freeing twice is allowed: the info is zeroed */
    return 0;
}
