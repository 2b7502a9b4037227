/* wlrt.h: running wasm32 guests ahead-of-time compiled by wasm2c.
 *
 * Contract: wlrt_module_load() reads a .wasm (hostile input), checks its
 * structure and every import against the host's import tables, and returns
 * a loaded native module, translating and compiling it on a cache miss
 * (cache.h). A module gives any number of instances, on any threads; each
 * instance owns one linear memory. wlrt_instance_run() runs an export on
 * the calling thread and turns every guest trap (bad memory access, stack
 * exhaustion, unreachable, divide by zero, timeout, memory cap) into a
 * result instead of a crash. A fault that is not the guest's (a host bug)
 * is never reported as a trap: the process dies with the signal.
 * Free every instance of a module before freeing the module.
 */
#ifndef WASMLET_WLRT_H
#define WASMLET_WLRT_H

#include <stddef.h>
#include <stdint.h>
#include "wasm-rt.h"
#include "wasi.h"   /* host_import: the import table entry type */

/* Trap kinds beyond wasm_rt_trap_t's codes. */
enum {
    WLRT_TRAP_TIMEOUT = 100,      /* wall-clock limit passed */
    WLRT_TRAP_MEMORY_LIMIT = 101, /* trapped after being refused memory past the cap */
};

/* Process exit statuses of wasmlet-run (docs/execution.md). */
enum {
    WLRT_EXIT_USAGE = 2,          /* bad command line */
    WLRT_EXIT_REFUSED = 126,      /* module unreadable, malformed, refused or not compilable */
    WLRT_EXIT_TRAP_BASE = 200,    /* 200 + wasm_rt_trap_t code (201 oob ... 208 stack) */
    WLRT_EXIT_TIMEOUT = 210,
    WLRT_EXIT_MEMORY_LIMIT = 211,
};

/* A set of host functions for the import checker (e.g. wasi_imports). */
typedef struct {
    const host_import *imports;
    size_t n;
} wlrt_import_table;

typedef struct {
    const char *cache_dir;            /* NULL: $XDG_CACHE_HOME/wasmlet/modules */
    const wlrt_import_table *tables;  /* what the host provides */
    int n_tables;
    int progress;                     /* 1: show compile progress on stderr */
    int verbose;                      /* 1: say cache hit / compile on stderr */
} wlrt_options;

typedef struct wlrt_module wlrt_module;
typedef struct wlrt_instance wlrt_instance;

/* Checks, compiles on a cache miss, and loads. NULL with a one-line err. */
wlrt_module *wlrt_module_load(const char *wasm_path, const wlrt_options *opt,
                              char *err, size_t errlen);
/* Same from bytes already in memory; name is used in messages only. */
wlrt_module *wlrt_module_load_bytes(const uint8_t *wasm, size_t len, const char *name,
                                    const wlrt_options *opt, char *err, size_t errlen);
void wlrt_module_free(wlrt_module *m);
/* 1 if this load had to translate and compile (a cache miss). */
int wlrt_module_was_compiled(const wlrt_module *m);

/* The context pointer one import module's functions receive. */
typedef struct {
    const char *module;   /* e.g. "wasi_snapshot_preview1" */
    void *ctx;            /* e.g. a wasi_ctx */
} wlrt_binding;

/* Instantiates (memory, tables, data). max_memory_bytes caps the linear
 * memory (0: the module's own maximum). Every import module of the guest
 * needs a binding. NULL with err on failure, including a trap during
 * instantiation (e.g. the initial memory is over the cap). */
wlrt_instance *wlrt_instance_new(wlrt_module *m, const wlrt_binding *b, int nb,
                                 uint64_t max_memory_bytes, char *err, size_t errlen);
void wlrt_instance_free(wlrt_instance *inst);
wasm_rt_memory_t *wlrt_instance_memory(wlrt_instance *inst);

typedef enum { WLRT_RETURNED, WLRT_EXITED, WLRT_TRAPPED } wlrt_status;
typedef struct {
    wlrt_status status;
    uint32_t exit_code;   /* WLRT_EXITED: the guest's proc_exit code */
    int trap;             /* WLRT_TRAPPED: wasm_rt_trap_t code or WLRT_TRAP_* */
    int inner_trap;       /* WLRT_TRAP_MEMORY_LIMIT: the trap that followed */
    int memory_refused;   /* the guest was refused a grow past the cap */
} wlrt_result;

/* Runs the guest's _start on this thread. timeout_ms 0: no limit. */
wlrt_result wlrt_instance_run(wlrt_instance *inst, uint64_t timeout_ms);

/* "out of bounds memory access", "timeout", ... */
const char *wlrt_trap_name(int trap);
/* Exit status for a result (docs/execution.md). */
int wlrt_exit_status(const wlrt_result *r);

#endif
