/* shim.h: the C file we compile in place of wasm2c's output.
 *
 * Contract: wlrt_shim_write() writes a translation unit that #includes the
 * wasm2c output (WLRT_SHIM_MODULE.c) and adds: a wrapper around every
 * imported host function (the guest calls the wrapper, which checks the
 * native stack headroom and the timeout, and marks the thread as "in a host
 * call" so a fault there is a host bug, not a guest trap), and the table
 * `wlrt_guest` through which the runtime instantiates, runs and frees
 * instances without knowing the module's symbol names. The generated header
 * (gen_h) tells the order instantiate takes the import contexts in.
 */
#ifndef WASMLET_SHIM_H
#define WASMLET_SHIM_H

#include <stdio.h>
#include "wasm_reader.h"

#define WLRT_SHIM_MODULE "wlguest"

/* wasm2c 1.0.32's symbol mangling of a module or field name. */
void wlrt_mangle(const char *in, char *out, size_t outlen);

int wlrt_shim_write(FILE *f, const char *gen_h, const wasm_info *w, char *err, size_t errlen);

#endif
