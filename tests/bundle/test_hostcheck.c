/* test_hostcheck.c: with the host's checker installed, build refuses guests
 * wasmlet-run could not run (unknown import, wrong signature) and accepts
 * one it can. Skips (77) when the host libraries are not in the build. */
#include "build.h"
#include "host_check.h"
#include "tb.h"

/* tb_wasm with one import (module.name, type 0 = () -> ()) spliced in. */
static size_t with_import(uint8_t *out, const char *module, const char *name) {
    size_t ml = strlen(module), nl = strlen(name), k = 0;
    memcpy(out, tb_wasm, 14);   /* header + type section */
    k = 14;
    out[k++] = 0x02;
    out[k++] = (uint8_t)(1 + 1 + ml + 1 + nl + 2);
    out[k++] = 0x01;
    out[k++] = (uint8_t)ml;
    memcpy(out + k, module, ml);
    k += ml;
    out[k++] = (uint8_t)nl;
    memcpy(out + k, name, nl);
    k += nl;
    out[k++] = 0x00;   /* func */
    out[k++] = 0x00;   /* type 0 */
    /* The defined function becomes index 1: fix the _start export index. */
    size_t rest = sizeof tb_wasm - 14;
    memcpy(out + k, tb_wasm + 14, rest);
    for (size_t i = k; i + 7 < k + rest; i++)
        if (!memcmp(out + i, "_start", 6) && out[i + 6] == 0x00) out[i + 7] = 0x01;
    return k + rest;
}

int main(void) {
    if (!bundle_host_check_available()) {
        printf("SKIP: the host libraries (wl_rt, wl_wasi, wl_nn) are not in this build\n");
        return 77;
    }
    tb_tmpdir();
    char model[600], err[512];
    CHECK(tb_make_gguf(tb_path("m.gguf"), true, 64, 1), "gguf");
    snprintf(model, sizeof model, "default=%s", tb_path("m.gguf"));
    uint8_t w[256];
    size_t n;
    CHECK(bundle_host_wasm_check(tb_wasm, sizeof tb_wasm, err, sizeof err), "plain command module: %s", err);
    n = with_import(w, "env", "nope");
    CHECK(!bundle_host_wasm_check(w, n, err, sizeof err) && strstr(err, "nope"), "unknown import: %s", err);
    printf("unknown import -> %s\n", err);
    n = with_import(w, "wasi_snapshot_preview1", "fd_write");
    CHECK(!bundle_host_wasm_check(w, n, err, sizeof err) && strstr(err, "fd_write"), "wrong signature: %s", err);
    printf("wrong signature -> %s\n", err);
    n = with_import(w, "wasi_snapshot_preview1", "sched_yield");
    bool yield_ok = bundle_host_wasm_check(w, n, err, sizeof err);
    printf("sched_yield () -> () -> %s\n", yield_ok ? "accepted" : err);

    /* The example guests, when built, pass. */
    const char *guests = getenv("WASMLET_GUESTS");
    static const char *const names[] = {"hello.wasm", "chat.wasm", "complete.wasm"};
    for (size_t i = 0; guests && i < 3; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", guests, names[i]);
        size_t gl;
        uint8_t *g = tb_read(p, &gl);
        if (!g) {
            printf("note: %s not built, skipped\n", p);
            continue;
        }
        CHECK(bundle_host_wasm_check(g, gl, err, sizeof err), "%s: %s", names[i], err);
        free(g);
    }

    /* Through build. */
    bundle_set_wasm_checker(bundle_host_wasm_check);
    n = with_import(w, "env", "nope");
    tb_write(tb_path("bad.wasm"), w, n);
    CHECK(tb_run(pack_cmd_build, "build", "--wasm", tb_path("bad.wasm"), "--model", model, "--name", "x", "--version", "1",
                 "-o", tb_path("bad.wasmlet"), NULL) == 1, "build accepted a guest with an unknown import");
    CHECK(!tb_exists(tb_path("bad.wasmlet")), "output written");
    tb_write(tb_path("ok.wasm"), tb_wasm, sizeof tb_wasm);
    CHECK(tb_run(pack_cmd_build, "build", "--wasm", tb_path("ok.wasm"), "--model", model, "--name", "x", "--version", "1",
                 "-o", tb_path("ok.wasmlet"), NULL) == 0, "build refused a plain command module");
    return tb_finish("test_hostcheck");
}
