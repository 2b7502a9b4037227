/* rt_traps: one guest per trap kind, picked by argv[1] (tests/rt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile unsigned sink;

/* Called through a pointer so neither clang nor the C compiler behind
 * wasm2c can turn the recursion into a loop: native stack only. */
static unsigned rec(unsigned n);
static unsigned (*volatile rec_ptr)(unsigned) = rec;
static unsigned rec(unsigned n) { return n == 0 ? 0 : rec_ptr(n - 1) + n; }

/* Uses the C (shadow) stack: the array lives in linear memory. */
static unsigned shadow(unsigned n) {
    volatile char buf[4096];
    buf[n % sizeof buf] = (char)n;
    return n == 0 ? 0 : shadow(n - 1) + buf[n % sizeof buf];
}

static unsigned spin(unsigned n) {
    unsigned h = 2166136261u;
    for (unsigned i = 0; i < n; i++) h = (h ^ i) * 16777619u;
    return h;
}

int main(int argc, char **argv) {
    const char *m = argc > 1 ? argv[1] : "ok";
    unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 0;
    if (!strcmp(m, "ok")) { puts("ok"); return 0; }
    if (!strcmp(m, "exit")) exit((int)n);
    if (!strcmp(m, "spin")) { printf("spin %u\n", spin(n)); return 0; }
    if (!strcmp(m, "oob-load")) sink = *(volatile unsigned *)(uintptr_t)0xfffffff0u;
    if (!strcmp(m, "oob-store")) *(volatile unsigned *)(uintptr_t)0x80000000u = 1;
    if (!strcmp(m, "div0")) { volatile int z = 0; sink = (unsigned)(7 / z); }
    if (!strcmp(m, "unreachable")) __builtin_trap();
    if (!strcmp(m, "shadow")) sink = shadow(1u << 30);
    if (!strcmp(m, "recurse")) sink = rec(n ? n : 1u << 30);
    if (!strcmp(m, "loop")) for (;;) sink++;
    if (!strcmp(m, "alloc")) {
        for (;;) {
            char *p = malloc(1 << 20);
            if (!p) abort();   /* out of memory: traps (unreachable) */
            memset(p, 1, 1 << 20);
            sink += (unsigned)(uintptr_t)p;   /* observable: the allocation is kept */
        }
    }
    if (!strcmp(m, "grow")) {
        /* Ask for 2 GiB at once; a capped host must answer -1, not trap. */
        if (__builtin_wasm_memory_grow(0, 1u << 15) == (size_t)-1) { puts("grow refused"); return 3; }
        puts("grow allowed");
        return 4;
    }
    printf("unknown mode %s\n", m);
    return 1;
}
