/* pack_util.h: error/usage reporting and key loading for the subcommands. */
#ifndef WASMLET_PACK_UTIL_H
#define WASMLET_PACK_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "minisign.h"

/* snprintf into err (vsnprintf: truncation is intended and silent). */
void pack_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pack_fail(const char *cmd, const char *msg);                        /* prints, returns 1 */
int pack_usage(const char *cmd, const char *usage, const char *bad);    /* prints, returns 2 */
/* Loads a secret key, asking for its password only when it is encrypted. */
bool pack_load_seckey(const char *path, const char *pwfile, ms_seckey *out, char *err, size_t errlen);

#endif
