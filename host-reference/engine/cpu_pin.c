/* cpu_pin.c: see cpu_pin.h. */
#define _GNU_SOURCE   /* sched_getaffinity, CPU_ISSET */
#include "cpu_pin.h"
#include "llm_err.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

/* A CPU number: decimal digits only, below LLM_PIN_MAX_CPU. */
static const char *parse_cpu(const char *s, int *out) {
    if (*s < '0' || *s > '9') return NULL;
    long v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v >= LLM_PIN_MAX_CPU) return NULL;
    }
    *out = (int)v;
    return s;
}

bool llm_cpu_pin_parse(const char *spec, int n_threads, int *cpus, char *err, size_t errlen) {
#ifdef __linux__
    if (!spec || !*spec) return llm_fail(err, errlen, "empty CPU pin list");
    if (n_threads < 1) return llm_fail(err, errlen, "no threads to pin");
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return llm_fail(err, errlen, "cannot read this process's CPU affinity");
    if (strcmp(spec, "auto") == 0) {
        if (CPU_COUNT(&allowed) < 1) return llm_fail(err, errlen, "this process may run on no CPU");
        int n = 0;
        while (n < n_threads)   /* more threads than CPUs: wrap round */
            for (int c = 0; c < CPU_SETSIZE && n < n_threads; c++)
                if (CPU_ISSET(c, &allowed)) cpus[n++] = c;
        return true;
    }
    int n = 0;
    const char *s = spec;
    for (;;) {
        int lo, hi;
        const char *at = s;
        if (!(s = parse_cpu(s, &lo)))
            return llm_fail(err, errlen, "CPU pin list '%s': bad CPU number at '%s'", spec, at);
        hi = lo;
        if (*s == '-') {
            at = s + 1;
            if (!(s = parse_cpu(s + 1, &hi)) || hi < lo)
                return llm_fail(err, errlen, "CPU pin list '%s': bad range end at '%s'", spec, at);
        }
        for (int c = lo; c <= hi; c++) {
            if (c >= CPU_SETSIZE || !CPU_ISSET(c, &allowed))
                return llm_fail(err, errlen, "CPU pin list '%s': CPU %d is not available to this process",
                            spec, c);
            if (n < n_threads) cpus[n] = c;
            n++;
        }
        if (*s == 0) break;
        if (*s != ',') return llm_fail(err, errlen, "CPU pin list '%s': unexpected '%c'", spec, *s);
        s++;
    }
    if (n < n_threads)
        return llm_fail(err, errlen, "CPU pin list '%s' names %d CPU%s for %d threads", spec, n,
                    n == 1 ? "" : "s", n_threads);
    return true;
#else
    (void)spec; (void)n_threads; (void)cpus;
    return llm_fail(err, errlen, "pinning threads to CPUs is not supported on this system");
#endif
}
