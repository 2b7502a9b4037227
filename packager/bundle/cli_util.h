/* cli_util.h: small pieces the wasmlet-pack subcommands share.
 *
 * Help: -h/--help prints a subcommand's usage on stdout, exit 0. Trusted
 * keys: read after the argv is checked. Passwords: from a file (first
 * line), else $WASMLET_PASSWORD, else a terminal prompt with echo off;
 * never printed. Progress: a bar on stderr, only when stderr is a
 * terminal and the job is large. Atomic output:
 * a temp file beside the target, fsync, rename, fsync of the directory;
 * on failure the temp file is removed.
 */
#ifndef WASMLET_CLI_UTIL_H
#define WASMLET_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"

#define PASSWORD_MAX 1024

/* -h and --help: a subcommand that meets one where a flag may stand (never
 * as a flag's value) prints its help on stdout and exits 0, nothing else
 * done. cli_help prints "usage: wasmlet-pack CMD SYNOPSIS" (wrapped; forms
 * separated by "  |  " on lines of their own), then details (lines ending
 * in newlines; may be NULL), and returns 0. */
bool cli_is_help(const char *arg);
int cli_help(const char *cmd, const char *synopsis, const char *details);

/* Trusted keys of verify and extract, read only once their whole argv has
 * been checked: loads into t (empty) the key of every "-p F" and
 * "--trust F" in argv (their other flags take no value). On failure t is
 * freed and err names the file. */
bool cli_trust_args(int argc, char **argv, bundle_trust *t, char *err, size_t errlen);

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
