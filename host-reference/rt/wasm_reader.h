/* wasm_reader.h: a structural reader for WebAssembly binaries (hostile input).
 *
 * Contract: wasm_read() walks every section of a module and checks its
 * framing (sizes, counts, LEB128s, names, section order, each code body's
 * instruction stream up to its final `end`), reads the types, imports and
 * exports, and refuses what wasm2c 1.0.32 cannot translate (SIMD, threads,
 * exceptions, tail calls, memory64, several memories) with a message naming
 * the feature. It does not type-check function bodies: wasm2c does that.
 * wasm_check_command() requires an exported "memory" and a () -> () "_start";
 * wasm_check_imports() matches every import (module, name, exact signature)
 * against the host's tables. Errors are one line: "what ... at byte N".
 */
#ifndef WASMLET_WASM_READER_H
#define WASMLET_WASM_READER_H

#include <stddef.h>
#include <stdint.h>
#include "wlrt.h"

enum { WASM_EXTERN_FUNC = 0, WASM_EXTERN_TABLE, WASM_EXTERN_MEMORY, WASM_EXTERN_GLOBAL };

typedef struct {
    char *module, *name;   /* NUL-terminated copies (valid UTF-8, no NUL inside) */
    int kind;              /* WASM_EXTERN_* */
    char *sig;             /* functions: "params:results", i/I/f/F (r/e: refs) */
} wasm_import;

typedef struct {
    wasm_import *imports;
    uint32_t n_imports;
    int memory_exported;   /* an export "memory" of kind memory */
    int start_ok;          /* an export "_start", a function () -> () */
    int start_exported;    /* an export "_start" of any kind */
    uint32_t mem_min, mem_max;   /* pages; max 65536 when none */
} wasm_info;

int wasm_read(const uint8_t *p, size_t n, wasm_info *out, char *err, size_t errlen);
void wasm_info_free(wasm_info *w);
int wasm_check_command(const wasm_info *w, char *err, size_t errlen);
int wasm_check_imports(const wasm_info *w, const wlrt_import_table *tables, int n_tables,
                       char *err, size_t errlen);
/* "(i32,i32) -> i32" from "ii:i", into buf. */
void wasm_sig_pretty(const char *sig, char *buf, size_t len);

#endif
