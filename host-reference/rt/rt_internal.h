/* rt_internal.h: what the runtime's files share. Not for users of wlrt.h.
 *
 * Per-thread state says whether this thread is running guest code (and
 * whether that guest is inside a host call), where to unwind a trap to, and
 * this thread's stack bounds. The signal handlers (rt_signal.c) read it; the
 * run loop (rt_run.c) and wasm-rt.h implementation (rt_wasm_rt.c) write it.
 */
#ifndef WASMLET_RT_INTERNAL_H
#define WASMLET_RT_INTERNAL_H

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include "wasm-rt.h"

/* wasm2c addresses memory as data[u32 + u32 offset]: 8 GiB + one access. */
#define WLRT_RESERVE (((uint64_t)1 << 33) + 65536u)
/* Host calls made from guest code need this much native stack left. */
#define WLRT_HOST_HEADROOM (256u * 1024u)

enum { WLRT_UNWIND_EXIT = 1000 };   /* sigsetjmp value for proc_exit */

typedef struct {
    sigjmp_buf *jmp;                /* innermost run's unwind target */
    int in_guest;                   /* nesting depth of wlrt runs */
    volatile sig_atomic_t in_host;  /* >0: inside a host call made by the guest */
    volatile sig_atomic_t timed_out;/* the deadline passed */
    int timer_armed;
    uint32_t exit_code;
    int memory_refused;             /* a grow was refused because of the cap */
    int cap_on;                     /* cap_pages applies to the next allocation */
    uint32_t cap_pages;
    uintptr_t stack_lo, stack_hi;   /* usable native stack */
    uintptr_t headroom;             /* stack host calls need: WLRT_HOST_HEADROOM or 1/4 of a small stack */
    int ready;                      /* alt stack and bounds set up */
} wlrt_thread;

wlrt_thread *wlrt_self(void);
/* Sets up this thread (alt signal stack, stack bounds); idempotent. */
void wlrt_thread_enter(void);
/* Installs the process-wide handlers once. */
void wlrt_signals_init(void);
/* The realtime signal the timeout timer sends. */
int wlrt_timeout_signal(void);

/* Memory reservations the fault handler may treat as guest memory. */
int wlrt_mem_is_guest(uintptr_t addr);

/* Unwinds to the innermost run with a trap code. */
_Noreturn void wlrt_unwind(int code);

/* The table the generated shim exports as symbol "wlrt_guest". The field
 * list is one macro so the shim's copy (stringified into the generated C)
 * cannot drift from ours; bump WLRT_GUEST_ABI when it changes. */
#define WLRT_GUEST_ABI 1
#define WLRT_GUEST_FIELDS                                              \
    uint32_t abi;                                                      \
    uint32_t n_import_modules;                                         \
    size_t instance_size;                                              \
    const char *const *import_modules; /* instantiate's arg order */  \
    void (*init_module)(void);                                         \
    void (*instantiate)(void *inst, void *const *ctx);                 \
    void (*free_instance)(void *inst);                                 \
    wasm_rt_memory_t *(*memory)(void *inst);                           \
    void (*start)(void *inst);
struct wlrt_guest { WLRT_GUEST_FIELDS };
#define WLRT_STR_(...) #__VA_ARGS__
#define WLRT_STR(...) WLRT_STR_(__VA_ARGS__)

#endif
