/* llm_err.h: the engine's way of failing with a reason. Every fallible
 * call takes (char *err, size_t errlen) and returns false/NULL with one
 * line in err; llm_fail writes it (err may be NULL) and returns false. */
#ifndef WASMLET_LLM_ERR_H
#define WASMLET_LLM_ERR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

__attribute__((format(printf, 3, 4))) static inline bool llm_fail(char *err, size_t errlen,
                                                                  const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

#endif
