/* cli_util.c: help, passwords, progress bar, atomic output. See cli_util.h. */
#include "cli_util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* ---- help --------------------------------------------------------------- */

bool cli_is_help(const char *arg) {
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/* One form of a synopsis, s[0..n), wrapped at 79 columns where a space is
 * outside brackets; continuation lines are indented under the flags. */
static void print_form(const char *lead, const char *cmd, const char *s, size_t n) {
    int indent = printf("%swasmlet-pack %s", lead, cmd), col = indent;
    size_t i = 0;
    while (i < n) {
        size_t j = i;   /* the next word: up to a space outside brackets */
        for (int depth = 0; j < n && (s[j] != ' ' || depth > 0); j++)
            depth += s[j] == '[' ? 1 : s[j] == ']' ? -1 : 0;
        if (col > indent && col + 1 + (int)(j - i) > 79) col = printf("\n%*s", indent, "") - 1;
        col += printf(" %.*s", (int)(j - i), s + i);
        for (i = j; i < n && s[i] == ' '; i++) {}
    }
    putchar('\n');
}

int cli_help(const char *cmd, const char *synopsis, const char *details) {
    const char *lead = "usage: ", *s = synopsis, *bar;
    while ((bar = strstr(s, "  |  ")) != NULL) {   /* alternative forms, one per line */
        print_form(lead, cmd, s, (size_t)(bar - s));
        lead = "       ";
        s = bar + 5;
    }
    print_form(lead, cmd, s, strlen(s));
    if (details) fputs(details, stdout);
    return 0;
}

bool cli_trust_args(int argc, char **argv, bundle_trust *t, char *err, size_t errlen) {
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "-p") != 0 && strcmp(argv[i], "--trust") != 0) continue;
        if (!bundle_trust_add_file(t, argv[++i], err, errlen)) {
            bundle_trust_free(t);
            return false;
        }
    }
    return true;
}

/* ---- passwords ---------------------------------------------------------- */

static bool prompt(const char *text, char *out, size_t outlen) {
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) return false;
    struct termios old, quiet;
    int fd = fileno(tty);
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~ECHO;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    fputs(text, tty);
    fflush(tty);
    bool ok = fgets(out, (int)outlen, tty) != NULL;
    if (restore) tcsetattr(fd, TCSAFLUSH, &old);
    fputs("\n", tty);
    fclose(tty);
    if (ok) out[strcspn(out, "\r\n")] = 0;
    return ok;
}

bool cli_password(const char *file, bool confirm, char *out, size_t outlen, char *err, size_t errlen) {
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) return fail(err, errlen, "password file %s: %s", file, strerror(errno));
        bool ok = fgets(out, (int)outlen, f) != NULL;
        fclose(f);
        if (!ok) return fail(err, errlen, "password file %s is empty", file);
        out[strcspn(out, "\r\n")] = 0;
    } else if (getenv("WASMLET_PASSWORD")) {
        const char *p = getenv("WASMLET_PASSWORD");
        if (strlen(p) >= outlen) return fail(err, errlen, "WASMLET_PASSWORD is too long");
        strcpy(out, p);
    } else if (isatty(STDIN_FILENO)) {
        char again[PASSWORD_MAX];
        if (!prompt("Password: ", out, outlen)) return fail(err, errlen, "cannot read a password from the terminal");
        if (confirm) {
            bool same = prompt("Password (again): ", again, sizeof again) && strcmp(out, again) == 0;
            sodium_memzero(again, sizeof again);
            if (!same) {
                sodium_memzero(out, outlen);
                return fail(err, errlen, "the passwords do not match");
            }
        }
    } else {
        return fail(err, errlen, "no password: give --password-file FILE or set WASMLET_PASSWORD (or -W for no password)");
    }
    if (!out[0]) return fail(err, errlen, "empty password (use -W for a key without one)");
    return true;
}

/* ---- progress ----------------------------------------------------------- */

void progress_start(progress *p, const char *label, uint64_t total) {
    p->on = total >= (64u << 20) && isatty(STDERR_FILENO);
    p->label = label;
    p->last_pct = -1;
}

void progress_cb(void *ctx, uint64_t done, uint64_t total) {
    progress *p = ctx;
    if (!p || !p->on || total == 0) return;
    int pct = (int)(done * 100 / total);
    if (pct == p->last_pct) return;
    p->last_pct = pct;
    char bar[41];
    int fill = pct * 40 / 100;
    for (int i = 0; i < 40; i++) bar[i] = i < fill ? '#' : '.';
    bar[40] = 0;
    fprintf(stderr, "\r%-10s [%s] %3d%% %llu/%llu MiB", p->label, bar, pct,
            (unsigned long long)(done >> 20), (unsigned long long)(total >> 20));
}

void progress_end(progress *p) {
    if (p->on && p->last_pct >= 0) fputs("\n", stderr);
    p->on = false;
}

/* ---- atomic output ------------------------------------------------------ */

/* The temp file of the output in progress, removed if we are interrupted. */
static char pending_tmp[4200];
static volatile sig_atomic_t pending;

static void on_signal(int sig) {
    if (pending) unlink(pending_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

bool atomic_begin(atomic_out *o, const char *target, char *err, size_t errlen) {
    char copy[4096];
    if (strlen(target) >= sizeof o->target) return fail(err, errlen, "output path too long");
    strcpy(o->target, target);
    strcpy(copy, target);
    char *base = basename(copy);
    char dcopy[4096];
    strcpy(dcopy, target);
    const char *dir = dirname(dcopy);
    snprintf(o->tmp, sizeof o->tmp, "%s/.%s.XXXXXX", dir, base);
    o->fd = mkstemp(o->tmp);
    if (o->fd < 0) return fail(err, errlen, "cannot create a temporary file in %s: %s", dir, strerror(errno));
    fchmod(o->fd, 0644);
    strcpy(pending_tmp, o->tmp);
    pending = 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    return true;
}

static void disarm(void) {
    pending = 0;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
}

bool atomic_commit(atomic_out *o, char *err, size_t errlen) {
    if (fsync(o->fd) != 0) {
        fail(err, errlen, "%s: fsync: %s", o->tmp, strerror(errno));
        atomic_abort(o);
        return false;
    }
    if (close(o->fd) != 0) {
        o->fd = -1;
        fail(err, errlen, "%s: close: %s", o->tmp, strerror(errno));
        atomic_abort(o);
        return false;
    }
    o->fd = -1;
    if (rename(o->tmp, o->target) != 0) {
        fail(err, errlen, "cannot rename to %s: %s", o->target, strerror(errno));
        atomic_abort(o);
        return false;
    }
    disarm();
    char dcopy[4096];
    strcpy(dcopy, o->target);
    int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);   /* make the rename itself durable */
        close(dfd);
    }
    return true;
}

void atomic_abort(atomic_out *o) {
    if (o->fd >= 0) close(o->fd);
    o->fd = -1;
    unlink(o->tmp);
    disarm();
}
