/* wasi.h: WASI preview1 (wasi_snapshot_preview1) for wasm2c guests.
 *
 * Contract: a wasi_ctx holds everything one guest instance may see: its
 * args, environment, the three standard streams and the preopened
 * directories it was granted (--dir HOST[:GUEST][:ro]). Every path a guest
 * names is resolved beneath one preopen (no "..", absolute paths or
 * symlinks out; openat2 RESOLVE_BENEATH where the kernel has it), and any
 * read-only virtual files the host added (bytes in host memory, e.g. a
 * bundle member mapped in place, shown in a virtual preopen). Every
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

/* Read-only virtual files: shows `size` bytes at `data` to the guest as the
 * regular file guest_dir/name (e.g. "/bundle" + "tokenizer.gguf"), with no
 * copy: the guest's reads copy straight from `data` into its own memory.
 * The first call for a guest_dir adds it as a read-only preopened directory
 * at the next fd after the --dir ones (fd_prestat_get lists it), so
 * wasi-libc's fopen("/bundle/tokenizer.gguf") finds it; later calls add
 * files to it. The directory holds only these files, and nothing in it can
 * be written, created, removed, renamed or linked (NOTCAPABLE, as beneath
 * a read-only --dir). Call between wasi_ctx_new and the guest's start;
 * `data` must stay valid and unchanged until wasi_ctx_free (a mapping of a
 * file someone truncates would fault the host on read). `name` is one path
 * component (not "", ".", "..", no '/', at most 255 bytes), unique within
 * guest_dir; guest_dir must not be a --dir's guest name. 0, or -1 and a
 * one-line err. */
int wasi_ctx_add_vfile(wasi_ctx *ctx, const char *guest_dir, const char *name,
                       const void *data, uint64_t size, char *err, size_t errlen);

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

/* ---- additions (wasi owner) -------------------------------------------- */
/* The same imports as function addresses, index for index with
 * wasi_imports[] (a runtime that binds imports itself can use these, and
 * referencing the table keeps every import linked in from the static
 * library). */
typedef void (*wasi_import_fn)(void);
extern const wasi_import_fn wasi_import_fns[];

/* The imports: u32/u64 exactly as the wasm signature, result = WASI errno. */
uint32_t Z_wasi_snapshot_preview1Z_args_get(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_args_sizes_get(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_environ_get(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_environ_sizes_get(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_clock_res_get(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_clock_time_get(wasi_ctx *, uint32_t, uint64_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_advise(wasi_ctx *, uint32_t, uint64_t, uint64_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_allocate(wasi_ctx *, uint32_t, uint64_t, uint64_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_close(wasi_ctx *, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_datasync(wasi_ctx *, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_fdstat_get(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_fdstat_set_flags(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_fdstat_set_rights(wasi_ctx *, uint32_t, uint64_t, uint64_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_filestat_get(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_filestat_set_size(wasi_ctx *, uint32_t, uint64_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_filestat_set_times(wasi_ctx *, uint32_t, uint64_t, uint64_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_pread(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_prestat_get(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_prestat_dir_name(wasi_ctx *, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_pwrite(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_read(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_readdir(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_renumber(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_seek(wasi_ctx *, uint32_t, uint64_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_sync(wasi_ctx *, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_tell(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_fd_write(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_path_create_directory(wasi_ctx *, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_path_filestat_get(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_path_filestat_set_times(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t, uint64_t, uint64_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_path_link(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_path_open(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint64_t, uint64_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_path_readlink(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_path_remove_directory(wasi_ctx *, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_path_rename(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_path_symlink(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_path_unlink_file(wasi_ctx *, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_poll_oneoff(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t);
void Z_wasi_snapshot_preview1Z_proc_exit(wasi_ctx *, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_proc_raise(wasi_ctx *, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_random_get(wasi_ctx *, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_sched_yield(wasi_ctx *);
uint32_t Z_wasi_snapshot_preview1Z_sock_accept(wasi_ctx *, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_sock_recv(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_sock_send(wasi_ctx *, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t);
uint32_t Z_wasi_snapshot_preview1Z_sock_shutdown(wasi_ctx *, uint32_t, uint32_t);

#endif
