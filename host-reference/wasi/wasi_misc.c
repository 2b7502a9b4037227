/* wasi_misc.c: clocks, random, poll_oneoff, sched_yield, proc_* and sock_*.
 * poll_oneoff waits with ppoll (fd subscriptions) or an absolute
 * monotonic sleep (clocks only); an EINTR lets the runtime enforce its
 * time limit, then the wait resumes with what is left of it. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include "wasi_int.h"

#define FN(name) Z_wasi_snapshot_preview1Z_##name
#define MAX_SUBS 4096u

static bool host_clock(uint32_t id, clockid_t *out) {
    static const clockid_t map[] = {CLOCK_REALTIME, CLOCK_MONOTONIC,
                                    CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
    if (id > 3) return false;
    *out = map[id];
    return true;
}

static uint64_t now_ns(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

uint32_t FN(clock_res_get)(wasi_ctx *c, uint32_t id, uint32_t res) {
    clockid_t cid;
    struct timespec t;
    if (!host_clock(id, &cid)) return W_EINVAL;
    if (clock_getres(cid, &t)) return wasi_errno(errno);
    return wasi_store_u64(c, res, (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec);
}

uint32_t FN(clock_time_get)(wasi_ctx *c, uint32_t id, uint64_t precision, uint32_t time) {
    (void)precision;   /* the host clock is as precise as we can be */
    clockid_t cid;
    if (!host_clock(id, &cid)) return W_EINVAL;
    return wasi_store_u64(c, time, now_ns(cid));
}

uint32_t FN(random_get)(wasi_ctx *c, uint32_t buf, uint32_t len) {
    uint8_t *p = wasi_mem(c, buf, len);
    if (!p) return W_EFAULT;
    while (len > 0) {
        ssize_t r = getrandom(p, len, 0);
        if (r < 0) {
            if (errno == EINTR) { wlrt_check_interrupt(); continue; }
            return wasi_errno(errno);
        }
        p += r;
        len -= (uint32_t)r;
    }
    return 0;
}

/* ---- poll_oneoff -------------------------------------------------------- */
enum { EV_CLOCK = 0, EV_FD_READ = 1, EV_FD_WRITE = 2 };

typedef struct {
    uint64_t userdata;
    uint8_t type;
    uint16_t error;          /* set: the event is ready with this error */
    bool ready;
    uint64_t deadline;       /* clock: CLOCK_MONOTONIC ns */
    int pfd;                 /* fd: index into the pollfd array, or -1 */
    uint64_t nbytes;
    uint16_t flags;
} sub_t;

static void put_event(uint8_t *p, const sub_t *s) {
    memset(p, 0, 32);
    put_u64(p, s->userdata);
    put_u16(p + 8, s->error);
    put_u8(p + 10, s->type);
    if (s->type != EV_CLOCK) {
        put_u64(p + 16, s->nbytes);
        put_u16(p + 24, s->flags);
    }
}

/* Reads one subscription; fd subscriptions on regular files (always ready)
 * or bad fds are ready at once, others get a pollfd. */
static uint32_t read_sub(wasi_ctx *c, const uint8_t *p, sub_t *s, struct pollfd *pfds,
                         int *npfd, uint64_t now) {
    memset(s, 0, sizeof *s);
    s->userdata = get_u64(p);
    s->type = p[8];
    s->pfd = -1;
    if (s->type == EV_CLOCK) {
        uint32_t id = get_u32(p + 16);
        uint64_t timeout = get_u64(p + 24);
        uint16_t flags = get_u16(p + 40);
        clockid_t cid;
        if (!host_clock(id, &cid) || id > 1 || (flags & ~1u)) {
            s->error = W_EINVAL;
            s->ready = true;
            return 0;
        }
        uint64_t left = timeout;
        if (flags & 1) {   /* absolute time on that clock */
            uint64_t t = now_ns(cid);
            left = timeout > t ? timeout - t : 0;
        }
        s->deadline = left > UINT64_MAX - now ? UINT64_MAX : now + left;
        return 0;
    }
    if (s->type != EV_FD_READ && s->type != EV_FD_WRITE) return W_EINVAL;
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, get_u32(p + 16), s->type == EV_FD_READ ? R_FD_READ : R_FD_WRITE, &f);
    if (e) { s->error = (uint16_t)e; s->ready = true; return 0; }
    if (f->vdir) {   /* a virtual file: always ready, like a regular one */
        uint64_t size = wasi_v_file(c, f)->size;
        s->ready = true;
        if (size > f->vpos) s->nbytes = size - f->vpos;
        return 0;
    }
    struct stat st;
    if (fstat(f->host, &st) == 0 && S_ISREG(st.st_mode)) {
        s->ready = true;
        if (s->type == EV_FD_READ) {
            off_t pos = lseek(f->host, 0, SEEK_CUR);
            if (pos >= 0 && st.st_size > pos) s->nbytes = (uint64_t)(st.st_size - pos);
        }
        return 0;
    }
    s->pfd = *npfd;
    pfds[*npfd].fd = f->host;
    pfds[*npfd].events = s->type == EV_FD_READ ? POLLIN : POLLOUT;
    pfds[*npfd].revents = 0;
    ++*npfd;
    return 0;
}

static void collect(sub_t *subs, uint32_t n, const struct pollfd *pfds, uint64_t now) {
    for (uint32_t i = 0; i < n; i++) {
        sub_t *s = &subs[i];
        if (s->ready) continue;
        if (s->type == EV_CLOCK) { s->ready = now >= s->deadline; continue; }
        short r = pfds[s->pfd].revents;
        if (!r) continue;
        s->ready = true;
        if (r & POLLNVAL) s->error = W_EBADF;
        else if ((r & POLLERR) && !(r & (POLLIN | POLLOUT))) s->error = W_EIO;
        if (r & POLLHUP) s->flags |= 1;   /* eventrwflags.fd_readwrite_hangup */
        int avail = 0;
        if (s->type == EV_FD_READ && ioctl(pfds[s->pfd].fd, FIONREAD, &avail) == 0 && avail > 0)
            s->nbytes = (uint64_t)avail;
    }
}

uint32_t FN(poll_oneoff)(wasi_ctx *c, uint32_t in, uint32_t out, uint32_t nsubs,
                         uint32_t nevents) {
    if (nsubs == 0 || nsubs > MAX_SUBS) return W_EINVAL;
    const uint8_t *sin = wasi_mem(c, in, (uint64_t)nsubs * 48);
    uint8_t *sout = wasi_mem(c, out, (uint64_t)nsubs * 32);
    uint8_t *nev = wasi_mem(c, nevents, 4);
    if (!sin || !sout || !nev) return W_EFAULT;
    sub_t *subs = calloc(nsubs, sizeof *subs);
    struct pollfd *pfds = calloc(nsubs, sizeof *pfds);
    uint32_t e = 0;
    if (!subs || !pfds) { e = W_ENOMEM; goto out; }
    int npfd = 0;
    uint64_t now = now_ns(CLOCK_MONOTONIC);
    for (uint32_t i = 0; i < nsubs && !e; i++)
        e = read_sub(c, sin + 48 * (size_t)i, &subs[i], pfds, &npfd, now);
    if (e) goto out;

    bool any = false;
    for (uint32_t i = 0; i < nsubs; i++) any |= subs[i].ready;
    for (;;) {
        uint64_t deadline = UINT64_MAX;
        for (uint32_t i = 0; i < nsubs; i++)
            if (subs[i].type == EV_CLOCK && !subs[i].ready && subs[i].deadline < deadline)
                deadline = subs[i].deadline;
        uint64_t wait = any ? 0 : deadline == UINT64_MAX ? UINT64_MAX
                                : deadline > now ? deadline - now : 0;
        struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
        int r;
        if (npfd) {
            r = ppoll(pfds, (nfds_t)npfd, wait == UINT64_MAX ? NULL : &ts, NULL);
        } else if (wait == UINT64_MAX) {
            e = W_EINVAL;      /* nothing could ever wake us */
            goto out;
        } else {
            struct timespec abs = {(time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u)};
            r = wait ? clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL) : 0;
            if (r) { errno = r; r = -1; }
        }
        if (r < 0 && errno != EINTR) { e = wasi_errno(errno); goto out; }
        if (r < 0) wlrt_check_interrupt();
        now = now_ns(CLOCK_MONOTONIC);
        collect(subs, nsubs, pfds, now);
        for (uint32_t i = 0; i < nsubs; i++) any |= subs[i].ready;
        if (any) break;
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < nsubs; i++)
        if (subs[i].ready) put_event(sout + 32 * (size_t)k++, &subs[i]);
    put_u32(nev, k);
out:
    free(subs);
    free(pfds);
    return e;
}

/* ---- scheduling, process, sockets --------------------------------------- */
uint32_t FN(sched_yield)(wasi_ctx *c) {
    (void)c;
    sched_yield();
    return 0;
}

void FN(proc_exit)(wasi_ctx *c, uint32_t code) {
    (void)c;
    wlrt_exit(code);
}

uint32_t FN(proc_raise)(wasi_ctx *c, uint32_t sig) {
    (void)c;
    (void)sig;
    return W_ENOSYS;   /* signals do not exist for a guest */
}

/* No socket is ever granted: a bad fd is BADF, anything else is not a
 * socket. */
static uint32_t no_socket(wasi_ctx *c, uint32_t fd) {
    wasi_fd *f;
    uint32_t e = wasi_fd_get(c, fd, 0, &f);
    if (e) return e;
    return f->type == W_FT_SOCK_STREAM || f->type == W_FT_SOCK_DGRAM ? W_ENOTSUP : W_ENOTSOCK;
}

uint32_t FN(sock_accept)(wasi_ctx *c, uint32_t fd, uint32_t flags, uint32_t fd_out) {
    (void)flags;
    (void)fd_out;
    return no_socket(c, fd);
}
uint32_t FN(sock_recv)(wasi_ctx *c, uint32_t fd, uint32_t iovs, uint32_t n, uint32_t flags,
                       uint32_t nread, uint32_t oflags) {
    (void)iovs; (void)n; (void)flags; (void)nread; (void)oflags;
    return no_socket(c, fd);
}
uint32_t FN(sock_send)(wasi_ctx *c, uint32_t fd, uint32_t iovs, uint32_t n, uint32_t flags,
                       uint32_t nwritten) {
    (void)iovs; (void)n; (void)flags; (void)nwritten;
    return no_socket(c, fd);
}
uint32_t FN(sock_shutdown)(wasi_ctx *c, uint32_t fd, uint32_t how) {
    (void)how;
    return no_socket(c, fd);
}
