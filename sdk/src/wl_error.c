/* wl_error.c: the SDK's last-error message and code names. */
#include <stdarg.h>
#include <stdio.h>

#include "wl_internal.h"

static char last[512];

const char *wl_last_error(void) { return last; }
void wl_clear_error(void) { last[0] = 0; }

int wl_fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last, sizeof last, fmt, ap);
    va_end(ap);
    return code;
}

int wl_fail_nn(int code, const char *what) {
    return wl_fail(code, "%s: %s (wasi-nn error %d)", what, wl_nn_strerror(code), code);
}

const char *wl_strerror(int code) {
    switch (code) {
    case WL_OK: return "success";
    case WL_E_ARG: return "invalid argument";
    case WL_E_NOMEM: return "out of memory";
    case WL_E_FORMAT: return "unreadable output from the host";
    case WL_E_IO: return "file could not be read";
    case WL_E_NOTFOUND: return "not found";
    default: return code > 0 ? wl_nn_strerror(code) : "unknown error";
    }
}
