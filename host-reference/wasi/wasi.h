/* wasi.h: WASI preview1 (wasi_snapshot_preview1) for wasm2c guests.
 *
 * Contract: a wasi_ctx holds everything one guest instance may see: its
 * args, environment, the three standard streams and the preopened
 * directories it was granted (--dir HOST[:GUEST][:ro]). Every path a guest
 * names is resolved beneath one preopen (no "..", absolute paths or
 * symlinks out; openat2 RESOLVE_BENEATH where the kernel has it). Every
 * guest pointer/length is checked against the guest memory before use; a
 * bad one is errno FAULT, never a host crash. Errno values are WASI's.
 *
 * The import functions themselves are the wasm2c-mangled symbols
 * Z_wasi_snapshot_preview1Z_<name>; their context pointer is a wasi_ctx
 * (struct Z_wasi_snapshot_preview1_instance_t is our wasi_ctx).
 */
#ifndef WASMLET_WASI_H
#define WASMLET_WASI_H

#include <stddef.h>
#include <stdint.h>
#include "wasm-rt.h"

typedef struct Z_wasi_snapshot_preview1_instance_t wasi_ctx;

typedef struct {
    const char *host_path;   /* directory on the host */
    const char *guest_path;  /* name the guest sees (e.g. "/data" or ".") */
    int readonly;            /* refuse every write through this preopen */
} wasi_preopen;

typedef struct {
    int argc;
    const char *const *argv;     /* argv[0] is the program name the guest sees */
    int envc;
    const char *const *envp;     /* "KEY=VALUE" */
    const wasi_preopen *preopens;
    int n_preopens;
    int fd_stdin, fd_stdout, fd_stderr;   /* host fds (not closed by us) */
} wasi_config;

/* Opens the preopen directories; on failure NULL and a one-line err naming
 * the directory. */
wasi_ctx *wasi_ctx_new(const wasi_config *cfg, char *err, size_t errlen);
void wasi_ctx_free(wasi_ctx *ctx);
/* The guest's exported memory; must be set before the guest runs. The
 * memory may grow (size read on every call). */
void wasi_ctx_set_memory(wasi_ctx *ctx, wasm_rt_memory_t *mem);

/* The host's import table, for the import checker: module, name and the
 * exact wasm signature as "params:results" with i/I/f/F for i32/i64/f32/f64,
 * e.g. fd_write = "iiii:i", proc_exit = "i:". */
typedef struct { const char *module, *name, *sig; } host_import;
extern const host_import wasi_imports[];
extern const size_t wasi_n_imports;

/* ---- provided by the runtime (host-reference/rt) ----------------------- */
/* proc_exit: unwinds the guest with an exit code (never returns). */
_Noreturn void wlrt_exit(uint32_t code);
/* Blocking host calls (fd_read on a terminal or pipe, poll_oneoff sleeps)
 * call this when a syscall returns EINTR: it unwinds the guest if its time
 * limit has passed, and returns otherwise. */
void wlrt_check_interrupt(void);

#endif
