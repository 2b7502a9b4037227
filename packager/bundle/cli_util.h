/* cli_util.h: small pieces the wasmlet-pack subcommands share.
 *
 * Passwords: from a file (first line), else $WASMLET_PASSWORD, else a
 * terminal prompt with echo off; never printed. Progress: a bar on stderr,
 * only when stderr is a terminal and the job is large. Atomic output:
 * a temp file beside the target, fsync, rename, fsync of the directory;
 * on failure the temp file is removed.
 */
#ifndef WASMLET_CLI_UTIL_H
#define WASMLET_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PASSWORD_MAX 1024

/* confirm: ask twice on a terminal (keygen). */
bool cli_password(const char *file, bool confirm, char *out, size_t outlen, char *err, size_t errlen);

typedef struct {
    bool on;
    const char *label;
    int last_pct;
} progress;
void progress_start(progress *p, const char *label, uint64_t total);
void progress_cb(void *ctx, uint64_t done, uint64_t total);   /* bundle_progress_fn */
void progress_end(progress *p);

typedef struct {
    char target[4096];
    char tmp[4200];
    int fd;
} atomic_out;
bool atomic_begin(atomic_out *o, const char *target, char *err, size_t errlen);
bool atomic_commit(atomic_out *o, char *err, size_t errlen);   /* fsync + rename */
void atomic_abort(atomic_out *o);                             /* unlink temp */

#endif
