/* dispatch.c: CPU feature detection and choice of the kernel table.
 *
 * A table is usable only when the CPU has every instruction set its file
 * was compiled for AND the OS saves the matching register state (XGETBV:
 * YMM for AVX2 and AVX-VNNI, ZMM/opmask for AVX-512). WASMLET_KERNELS can force any
 * usable table; naming one the CPU cannot run is an error, not a silent
 * fallback, so a forced benchmark or test never measures the wrong path. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kn_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define KN_X86 1
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

typedef struct {
    int avx2, fma, f16c, avx512f, avx512bw, avx512vl, avx512dq, avx512vnni, avx512bf16,
        avx512vbmi, avxvnni, amx_tile, amx_int8, amx_bf16, neon, dotprod;
    int os_ymm, os_zmm, os_amx;
    char text[256];
} cpu_info;

static cpu_info g_cpu;
static const kn_ops *g_best;
static int g_error;   /* the override named something unusable */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#ifdef KN_X86
static uint64_t xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}
#endif

static void add(cpu_info *c, int have, const char *name) {
    if (!have) return;
    size_t len = strlen(c->text);
    snprintf(c->text + len, sizeof c->text - len, "%s%s", len ? " " : "", name);
}

static void detect_cpu(cpu_info *c) {
    memset(c, 0, sizeof *c);
#ifdef KN_X86
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return;
    int osxsave = (cx >> 27) & 1;
    c->fma = (cx >> 12) & 1;
    c->f16c = (cx >> 29) & 1;
    int avx = (cx >> 28) & 1;
    if (osxsave && avx) {
        uint64_t xcr0 = xgetbv0();
        c->os_ymm = (xcr0 & 0x6) == 0x6;
        c->os_zmm = c->os_ymm && (xcr0 & 0xe0) == 0xe0;
        c->os_amx = (xcr0 & 0x60000) == 0x60000;
    }
    if (__get_cpuid_count(7, 0, &a, &b, &cx, &d)) {
        c->avx2 = (b >> 5) & 1;
        c->avx512f = (b >> 16) & 1;
        c->avx512dq = (b >> 17) & 1;
        c->avx512bw = (b >> 30) & 1;
        c->avx512vl = (b >> 31) & 1;
        c->avx512vbmi = (cx >> 1) & 1;
        c->avx512vnni = (cx >> 11) & 1;
        c->amx_bf16 = (d >> 22) & 1;
        c->amx_tile = (d >> 24) & 1;
        c->amx_int8 = (d >> 25) & 1;
        unsigned max_sub = a;
        if (max_sub >= 1 && __get_cpuid_count(7, 1, &a, &b, &cx, &d)) {
            c->avxvnni = (a >> 4) & 1;
            c->avx512bf16 = (a >> 5) & 1;
        }
    }
    add(c, avx, "avx");
    add(c, c->avx2, "avx2");
    add(c, c->fma, "fma");
    add(c, c->f16c, "f16c");
    add(c, c->avxvnni, "avxvnni");
    add(c, c->avx512f, "avx512f");
    add(c, c->avx512dq, "avx512dq");
    add(c, c->avx512bw, "avx512bw");
    add(c, c->avx512vl, "avx512vl");
    add(c, c->avx512vnni, "avx512vnni");
    add(c, c->avx512bf16, "avx512bf16");
    add(c, c->avx512vbmi, "avx512vbmi");
    add(c, c->amx_tile, "amx-tile");
    add(c, c->amx_int8, "amx-int8");
    add(c, c->amx_bf16, "amx-bf16");
    add(c, c->os_ymm, "os-ymm");
    add(c, c->os_zmm, "os-zmm");
    add(c, c->os_amx, "os-amx");
#elif defined(__aarch64__)
    c->neon = 1;   /* Advanced SIMD is mandatory in AArch64 */
#if defined(__linux__) && defined(HWCAP_ASIMDDP)
    c->dotprod = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#endif
    add(c, 1, "neon");
    add(c, c->dotprod, "dotprod");
#endif
}

static int usable(kn_isa isa) {
    const cpu_info *c = &g_cpu;
    (void)c;
    switch (isa) {
    case KN_SCALAR: return 1;
    case KN_AVX2:
#ifdef KN_HAVE_AVX2
        return c->avx2 && c->fma && c->f16c && c->os_ymm;
#else
        return 0;
#endif
    case KN_AVXVNNI:
#ifdef KN_HAVE_AVXVNNI
        return c->avx2 && c->fma && c->f16c && c->avxvnni && c->os_ymm;
#else
        return 0;
#endif
    case KN_AVX512:
#ifdef KN_HAVE_AVX512
        return c->avx2 && c->fma && c->f16c && c->avx512f && c->avx512bw && c->avx512vl &&
               c->avx512dq && c->avx512vnni && c->os_zmm;
#else
        return 0;
#endif
    case KN_NEON:
#ifdef KN_HAVE_NEON
        return c->neon;
#else
        return 0;
#endif
    case KN_ISA_COUNT: return 0;
    }
    return 0;
}

static const kn_ops *table(kn_isa isa) {
    switch (isa) {
    case KN_SCALAR: return &kn_ops_scalar;
#ifdef KN_HAVE_AVX2
    case KN_AVX2: return &kn_ops_avx2;
#endif
#ifdef KN_HAVE_AVXVNNI
    case KN_AVXVNNI: return &kn_ops_avxvnni;
#endif
#ifdef KN_HAVE_AVX512
    case KN_AVX512: return &kn_ops_avx512;
#endif
#ifdef KN_HAVE_NEON
    case KN_NEON: return &kn_ops_neon;
#endif
    default: return NULL;
    }
}

static void init(void) {
    detect_cpu(&g_cpu);
    static const kn_isa order[] = {KN_AVX512, KN_AVXVNNI, KN_AVX2, KN_NEON, KN_SCALAR};
    const char *want = getenv("WASMLET_KERNELS");
    if (want && *want) {
        static const char *names[KN_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon", "avxvnni"};
        for (int i = 0; i < KN_ISA_COUNT; i++)
            if (strcmp(want, names[i]) == 0) {
                if (usable((kn_isa)i)) {
                    g_best = table((kn_isa)i);
                    return;
                }
                fprintf(stderr, "kernels: WASMLET_KERNELS=%s: not supported by this CPU/build "
                        "(cpu: %s)\n", want, g_cpu.text[0] ? g_cpu.text : "none");
                g_error = 1;
                return;
            }
        fprintf(stderr, "kernels: WASMLET_KERNELS=%s: unknown (use scalar, avx2, avxvnni, avx512 or neon)\n",
                want);
        g_error = 1;
        return;
    }
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (usable(order[i])) {
            g_best = table(order[i]);
            return;
        }
}

const kn_ops *kn_get(void) {
    pthread_once(&g_once, init);
    if (g_error) {
        /* print once per call site failure so a caller that retries sees why */
        return NULL;
    }
    return g_best;
}

const kn_ops *kn_get_isa(kn_isa isa) {
    pthread_once(&g_once, init);
    if ((unsigned)isa >= KN_ISA_COUNT || !usable(isa)) return NULL;
    return table(isa);
}

int kn_k_block(const kn_ops *o, int head_dim, uint32_t kv_type) {
    return o && o->k_blocks && kn_attn16_native(head_dim, kv_type) ? KN_K_BLOCK : 0;
}

int kn_cpu_has_avx512bf16(void) {
    pthread_once(&g_once, init);
    return usable(KN_AVX512) && g_cpu.avx512bf16;
}

const char *kn_cpu_features(void) {
    pthread_once(&g_once, init);
    return g_cpu.text;
}
