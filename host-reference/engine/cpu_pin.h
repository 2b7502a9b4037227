/* cpu_pin.h: which CPU each thread of a context runs on.
 *
 * Contract: llm_cpu_pin_parse(spec, n, cpus) fills cpus[0..n-1] (thread 0
 * is the caller, 1..n-1 the pool's workers) from a pin spec and returns
 * true, or returns false with a one-line reason in err. Specs:
 *   "auto"          the process's allowed CPUs in order, wrapping round
 *                   when there are more threads than CPUs;
 *   "0,2-3,5"       CPU numbers and ascending ranges, one per thread in
 *                   order; at least n of them, extra ones unused.
 * Every CPU must be in the process's affinity mask (what the OS or a
 * container allows). No NUMA logic: one socket is the case this serves.
 */
#ifndef WASMLET_LLM_CPU_PIN_H
#define WASMLET_LLM_CPU_PIN_H

#include <stdbool.h>
#include <stddef.h>

enum { LLM_PIN_MAX_CPU = 1024 };

bool llm_cpu_pin_parse(const char *spec, int n_threads, int *cpus, char *err, size_t errlen);

#endif
