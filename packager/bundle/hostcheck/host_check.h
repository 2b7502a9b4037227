/* host_check.h: the full guest check for wasmlet-pack, through the host's
 * own module reader and import tables (host-reference/rt wasm_read,
 * wasm_check_command, wasm_check_imports against the WASI and WASI-NN
 * tables), so a bundle is refused at pack time when wasmlet-run could not
 * run its guest. Lives in its own library, wl_bundle_hostcheck, because it
 * pulls in the host: link it into wasmlet-pack and install it with
 * bundle_set_wasm_checker(bundle_host_wasm_check). When the host libraries
 * are not part of the build, the check accepts everything and
 * bundle_host_check_available() is false.
 */
#ifndef WASMLET_BUNDLE_HOST_CHECK_H
#define WASMLET_BUNDLE_HOST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool bundle_host_check_available(void);
bool bundle_host_wasm_check(const uint8_t *wasm, size_t len, char *err, size_t errlen);

#endif
