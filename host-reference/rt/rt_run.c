/* rt_run.c: modules, instances and guarded runs (wlrt.h). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cache.h"
#include "rt_internal.h"
#include "wasm_reader.h"
#include "wlrt.h"

#define MAX_WASM ((size_t)512 << 20)

struct wlrt_module {
    void *dl;
    int fd;   /* the object's memfd, open while loaded (cache.h) */
    const struct wlrt_guest *g;
    int compiled;
};

struct wlrt_instance {
    wlrt_module *m;
    void *inst;
    void **ctx;
};

wlrt_module *wlrt_module_load_bytes(const uint8_t *wasm, size_t len, const char *name,
                                    const wlrt_options *opt, char *err, size_t errlen) {
    wasm_rt_init();
    wasm_info w;
    char why[400];
    if (!wasm_read(wasm, len, &w, why, sizeof why)) {
        snprintf(err, errlen, "%s: malformed module: %s", name, why);
        return NULL;
    }
    int ok = wasm_check_command(&w, why, sizeof why) &&
             wasm_check_imports(&w, opt ? opt->tables : NULL, opt ? opt->n_tables : 0, why, sizeof why);
    if (!ok) {
        snprintf(err, errlen, "%s: %s", name, why);
        wasm_info_free(&w);
        return NULL;
    }
    int compiled = 0, fd = -1;
    void *dl = wlrt_cache_open(wasm, len, name, &w, opt, &compiled, &fd, why, sizeof why);
    wasm_info_free(&w);
    if (!dl) {
        snprintf(err, errlen, "%s: %s", name, why);
        return NULL;
    }
    const struct wlrt_guest *g = dlsym(dl, "wlrt_guest");
    if (!g || g->abi != WLRT_GUEST_ABI) {
        snprintf(err, errlen, "%s: the compiled guest has no matching entry table", name);
        dlclose(dl);
        close(fd);
        return NULL;
    }
    wlrt_module *m = calloc(1, sizeof *m);
    if (!m) { dlclose(dl); close(fd); snprintf(err, errlen, "out of memory"); return NULL; }
    m->dl = dl;
    m->fd = fd;
    m->g = g;
    m->compiled = compiled;
    g->init_module();
    return m;
}

wlrt_module *wlrt_module_load(const char *path, const wlrt_options *opt, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((size_t)st.st_size > MAX_WASM) {
        snprintf(err, errlen, "%s: module larger than %zu MiB", path, MAX_WASM >> 20);
        close(fd);
        return NULL;
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(n ? n : 1);
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != n) {
        snprintf(err, errlen, "%s: cannot read", path);
        free(buf);
        return NULL;
    }
    wlrt_module *m = wlrt_module_load_bytes(buf, n, path, opt, err, errlen);
    free(buf);
    return m;
}

void wlrt_module_free(wlrt_module *m) {
    if (!m) return;
    dlclose(m->dl);
    close(m->fd);
    free(m);
}

int wlrt_module_was_compiled(const wlrt_module *m) { return m->compiled; }

/* ---- guarded runs ------------------------------------------------------ */

enum { RUN_INSTANTIATE, RUN_START };

static wlrt_result guarded(wlrt_instance *I, int what, uint64_t timeout_ms) {
    wlrt_thread *t = wlrt_self();
    wlrt_result res = {0};
    sigjmp_buf jb;
    sigjmp_buf *volatile saved_jmp = t->jmp;
    volatile int saved_guest = t->in_guest;
    volatile sig_atomic_t saved_host = t->in_host;
    volatile int saved_armed = t->timer_armed;
    volatile int have_timer = 0;
    timer_t volatile timer = 0;
    t->memory_refused = 0;
    t->timed_out = 0;
    t->jmp = &jb;
    int code = sigsetjmp(jb, 1);
    if (code == 0) {
        if (timeout_ms) {
            struct sigevent sev;
            memset(&sev, 0, sizeof sev);
            sev.sigev_notify = SIGEV_THREAD_ID;
            sev.sigev_signo = wlrt_timeout_signal();
            sev._sigev_un._tid = gettid();
            timer_t tm;
            if (timer_create(CLOCK_MONOTONIC, &sev, &tm) == 0) {
                timer = tm;
                have_timer = 1;
                t->timer_armed = 1;
                /* Fires again every 10 ms until the guest is in its own code. */
                struct itimerspec its = {
                    .it_value = {(time_t)(timeout_ms / 1000), (long)(timeout_ms % 1000) * 1000000L},
                    .it_interval = {0, 10 * 1000000L}};
                timer_settime(tm, 0, &its, NULL);
            } else {
                fprintf(stderr, "wasmlet: cannot create the timeout timer: %s\n", strerror(errno));
            }
        }
        t->in_guest++;
        if (what == RUN_INSTANTIATE) I->m->g->instantiate(I->inst, (void *const *)I->ctx);
        else I->m->g->start(I->inst);
        res.status = WLRT_RETURNED;
    } else if (code == WLRT_UNWIND_EXIT) {
        res.status = WLRT_EXITED;
        res.exit_code = t->exit_code;
    } else {
        res.status = WLRT_TRAPPED;
        res.trap = code;
    }
    t->timer_armed = saved_armed;
    if (have_timer) timer_delete(timer);
    t->in_guest = saved_guest;
    t->in_host = saved_host;
    t->jmp = saved_jmp;
    res.memory_refused = t->memory_refused;
    if (res.status == WLRT_TRAPPED && res.memory_refused && res.trap != WLRT_TRAP_TIMEOUT) {
        res.inner_trap = res.trap == WLRT_TRAP_MEMORY_LIMIT ? 0 : res.trap;
        res.trap = WLRT_TRAP_MEMORY_LIMIT;
    }
    t->memory_refused = 0;
    t->timed_out = 0;
    return res;
}

wlrt_instance *wlrt_instance_new(wlrt_module *m, const wlrt_binding *b, int nb,
                                 uint64_t max_memory_bytes, char *err, size_t errlen) {
    wlrt_thread_enter();
    const struct wlrt_guest *g = m->g;
    wlrt_instance *I = calloc(1, sizeof *I);
    if (!I) { snprintf(err, errlen, "out of memory"); return NULL; }
    I->m = m;
    I->inst = calloc(1, g->instance_size);
    I->ctx = calloc(g->n_import_modules + 1, sizeof *I->ctx);
    if (!I->inst || !I->ctx) { snprintf(err, errlen, "out of memory"); goto fail; }
    for (uint32_t i = 0; i < g->n_import_modules; i++) {
        for (int k = 0; k < nb && !I->ctx[i]; k++)
            if (strcmp(b[k].module, g->import_modules[i]) == 0) I->ctx[i] = b[k].ctx;
        if (!I->ctx[i]) {
            snprintf(err, errlen, "no host context for import module %s", g->import_modules[i]);
            goto fail;
        }
    }
    wlrt_thread *t = wlrt_self();
    t->cap_on = max_memory_bytes != 0;
    t->cap_pages = max_memory_bytes / 65536 > 65535 ? 65535 : (uint32_t)(max_memory_bytes / 65536);
    wlrt_result r = guarded(I, RUN_INSTANTIATE, 0);
    t->cap_on = 0;
    if (r.status != WLRT_RETURNED) {
        if (r.trap == WLRT_TRAP_MEMORY_LIMIT)
            snprintf(err, errlen, "memory limit: the guest's initial memory is larger than the cap (%llu bytes)",
                     (unsigned long long)max_memory_bytes);
        else
            snprintf(err, errlen, "trap during instantiation: %s", wlrt_trap_name(r.trap));
        g->free_instance(I->inst);
        goto fail;
    }
    return I;
fail:
    free(I->inst);
    free(I->ctx);
    free(I);
    return NULL;
}

void wlrt_instance_free(wlrt_instance *I) {
    if (!I) return;
    I->m->g->free_instance(I->inst);
    free(I->inst);
    free(I->ctx);
    free(I);
}

wasm_rt_memory_t *wlrt_instance_memory(wlrt_instance *I) { return I->m->g->memory(I->inst); }

wlrt_result wlrt_instance_run(wlrt_instance *I, uint64_t timeout_ms) {
    wlrt_thread_enter();
    return guarded(I, RUN_START, timeout_ms);
}

int wlrt_exit_status(const wlrt_result *r) {
    switch (r->status) {
    case WLRT_RETURNED: return 0;
    case WLRT_EXITED: return r->exit_code > 255 ? 255 : (int)r->exit_code;
    default:
        if (r->trap == WLRT_TRAP_TIMEOUT) return WLRT_EXIT_TIMEOUT;
        if (r->trap == WLRT_TRAP_MEMORY_LIMIT) return WLRT_EXIT_MEMORY_LIMIT;
        if (r->trap > 0 && r->trap <= WASM_RT_TRAP_EXHAUSTION) return WLRT_EXIT_TRAP_BASE + r->trap;
        return WLRT_EXIT_TRAP_BASE;
    }
}
