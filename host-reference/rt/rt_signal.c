/* rt_signal.c: per-thread trap state, the fault and timeout handlers, and
 * the hooks host calls use (wlrt_exit, wlrt_check_interrupt, and the
 * import wrappers' enter/leave).
 *
 * A SIGSEGV/SIGBUS is a guest trap only when this thread is running guest
 * code (not a host call the guest made) and the address is inside a live
 * guest memory reservation (out of bounds) or just below this thread's
 * stack (call stack exhausted). Anything else goes back to the handler that
 * was installed before ours (the default: the process dies), so a host bug
 * crashes loudly. Each thread gets its own alternate signal stack, so a
 * stack overflow can be handled on any thread.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "rt_internal.h"
#include "wlrt.h"

#define ALT_SIZE (256u * 1024u)
#define STACK_GUARD_SPAN (1u << 20)   /* below stack_lo: guard page / gap */

static __thread wlrt_thread g_self __attribute__((tls_model("initial-exec")));
static struct sigaction g_old_segv, g_old_bus;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_alt_key;

wlrt_thread *wlrt_self(void) { return &g_self; }

int wlrt_timeout_signal(void) { return SIGRTMIN + 4; }

_Noreturn void wlrt_unwind(int code) {
    wlrt_thread *t = &g_self;
    if (!t->jmp) {
        fprintf(stderr, "wasmlet: trap outside a guest run: %s\n", wlrt_trap_name(code));
        abort();
    }
    siglongjmp(*t->jmp, code ? code : WASM_RT_TRAP_UNREACHABLE);
}

static int is_stack_overflow(const wlrt_thread *t, uintptr_t a) {
    return t->stack_lo && a < t->stack_lo + 4096 && a + STACK_GUARD_SPAN >= t->stack_lo;
}

static void on_fault(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    wlrt_thread *t = &g_self;
    if (t->in_guest && t->jmp && !t->in_host && si->si_code > 0) {
        uintptr_t a = (uintptr_t)si->si_addr;
        if (wlrt_mem_is_guest(a)) siglongjmp(*t->jmp, WASM_RT_TRAP_OOB);
        if (is_stack_overflow(t, a)) siglongjmp(*t->jmp, WASM_RT_TRAP_EXHAUSTION);
    }
    /* Not the guest's: let the previous disposition take it. Returning
     * re-executes the faulting instruction; a sent signal is re-raised. */
    sigaction(sig, sig == SIGBUS ? &g_old_bus : &g_old_segv, NULL);
    if (si->si_code <= 0) raise(sig);
}

static void on_timeout(int sig, siginfo_t *si, void *uc) {
    (void)sig, (void)si, (void)uc;
    wlrt_thread *t = &g_self;
    if (!t->in_guest || !t->timer_armed || !t->jmp) return;
    t->timed_out = 1;
    /* In a host call: it sees EINTR or returns, and the import path or
     * wlrt_check_interrupt() unwinds (the timer re-fires until then). */
    if (!t->in_host) siglongjmp(*t->jmp, WLRT_TRAP_TIMEOUT);
}

static void alt_free(void *p) {
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == p) {
        stack_t off = {.ss_flags = SS_DISABLE};
        sigaltstack(&off, NULL);
    }
    munmap(p, ALT_SIZE);
}

static void install(void) {
    pthread_key_create(&g_alt_key, alt_free);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
    struct sigaction st = {0};
    st.sa_sigaction = on_timeout;
    st.sa_flags = SA_SIGINFO | SA_ONSTACK;   /* no SA_RESTART: blocking calls see EINTR */
    sigemptyset(&st.sa_mask);
    sigaction(wlrt_timeout_signal(), &st, NULL);
}

void wlrt_signals_init(void) { pthread_once(&g_once, install); }

void wlrt_thread_enter(void) {
    wlrt_thread *t = &g_self;
    if (t->ready) return;
    wlrt_signals_init();
    stack_t cur;
    if (sigaltstack(NULL, &cur) != 0 || (cur.ss_flags & SS_DISABLE) || cur.ss_size < 64 * 1024) {
        void *p = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) {
            stack_t ss = {.ss_sp = p, .ss_size = ALT_SIZE, .ss_flags = 0};
            if (sigaltstack(&ss, NULL) == 0) pthread_setspecific(g_alt_key, p);
            else munmap(p, ALT_SIZE);
        }
    }
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&a, &addr, &size) == 0) {
            t->stack_lo = (uintptr_t)addr;
            t->stack_hi = (uintptr_t)addr + size;
            t->headroom = size / 4 < WLRT_HOST_HEADROOM ? size / 4 : WLRT_HOST_HEADROOM;
        }
        pthread_attr_destroy(&a);
    }
    t->ready = 1;
}

/* ---- hooks for host code called by guests ------------------------------ */

_Noreturn void wlrt_exit(uint32_t code) {
    g_self.exit_code = code;
    wlrt_unwind(WLRT_UNWIND_EXIT);
}

void wlrt_check_interrupt(void) {
    if (g_self.in_guest && g_self.timed_out) wlrt_unwind(WLRT_TRAP_TIMEOUT);
}

/* Called by the generated import wrappers around every host function. */
void wlrt_import_enter(void) {
    wlrt_thread *t = &g_self;
    if (t->timed_out) wlrt_unwind(WLRT_TRAP_TIMEOUT);
    /* Host code must never be the one to overflow the stack: the guest's
     * recursion is what used it up, so it is the guest's trap. */
    if (t->stack_lo && (uintptr_t)__builtin_frame_address(0) < t->stack_lo + t->headroom)
        wlrt_unwind(WASM_RT_TRAP_EXHAUSTION);
    t->in_host++;
}

void wlrt_import_leave(void) {
    wlrt_thread *t = &g_self;
    t->in_host--;
    if (t->timed_out) wlrt_unwind(WLRT_TRAP_TIMEOUT);
}
