/* host_check.c: see host_check.h. */
#include "host_check.h"

#ifdef WL_BUNDLE_HOST
#include "nn.h"
#include "wasm_reader.h"

bool bundle_host_check_available(void) { return true; }

bool bundle_host_wasm_check(const uint8_t *wasm, size_t len, char *err, size_t errlen) {
    wasm_info info;
    if (!wasm_read(wasm, len, &info, err, errlen)) return false;
    const wlrt_import_table tables[] = {{wasi_imports, wasi_n_imports}, {nn_imports, nn_n_imports}};
    bool ok = wasm_check_command(&info, err, errlen) && wasm_check_imports(&info, tables, 2, err, errlen);
    wasm_info_free(&info);
    return ok;
}
#else
bool bundle_host_check_available(void) { return false; }

bool bundle_host_wasm_check(const uint8_t *wasm, size_t len, char *err, size_t errlen) {
    (void)wasm, (void)len, (void)err, (void)errlen;
    return true;
}
#endif
