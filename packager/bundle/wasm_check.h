/* wasm_check.h: a structural check of a guest module before packing.
 *
 * Contract: accepts a WebAssembly 1.0 binary whose sections are all within
 * bounds, known, non-custom ones in the spec's order and at most once,
 * whose import section decodes (module/name strings and descriptors) and
 * whose exports include a function "_start" (a WASI command). It does not
 * check imports against the host's list: build adds that through the hook
 * bundle_set_wasm_checker() (hostcheck/host_check.h wraps the runtime's own
 * checker, which wasmlet-run also applies before running).
 */
#ifndef WASMLET_WASM_CHECK_H
#define WASMLET_WASM_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool wasm_check(const uint8_t *p, size_t n, size_t *n_imports, char *err, size_t errlen);

#endif
