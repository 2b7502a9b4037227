/* Every way out of a preopen is refused with the right errno and leaves
 * the filesystem outside untouched. Run as "test_wasi_escape" (openat2)
 * and "test_wasi_escape walk" (the portable component walk). */
#define _GNU_SOURCE
#include "harness.h"
#include "wasi_int.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static sandbox sb;
static wasi_ctx *c;

static void hpath(char *out, size_t cap, const char *dir, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

static void setup_links(void) {
    char p[512], t[512];
    hpath(p, sizeof p, sb.box, "sub");
    mkdir(p, 0755);
    hpath(p, sizeof p, sb.box, "file");
    h_write_file(p, "inside");
    hpath(p, sizeof p, sb.box, "lnk_out");          /* relative link to outside */
    if (symlink("../outside", p)) abort();
    hpath(p, sizeof p, sb.box, "abs_out");          /* absolute link to outside */
    if (symlink(sb.outside, p)) abort();
    hpath(p, sizeof p, sb.box, "file_out");
    if (symlink("../outside/secret.txt", p)) abort();
    hpath(p, sizeof p, sb.box, "sub/deep_out");     /* climbs out from a subdir */
    if (symlink("../../outside/secret.txt", p)) abort();
    hpath(p, sizeof p, sb.box, "loop1");
    if (symlink("loop2", p)) abort();
    hpath(p, sizeof p, sb.box, "loop2");
    if (symlink("loop1", p)) abort();
    hpath(p, sizeof p, sb.box, "self");
    if (symlink("self", p)) abort();
    hpath(p, sizeof p, sb.box, "sub/up");           /* legal: stays inside */
    if (symlink("../file", p)) abort();
    hpath(t, sizeof t, sb.box, "dangling_out");     /* O_CREAT through it would write outside */
    hpath(p, sizeof p, sb.outside, "created_by_guest");
    if (symlink(p, t)) abort();
    hpath(t, sizeof t, sb.box, "dangling_rel");
    if (symlink("../outside/created_rel", t)) abort();
}

static void escapes_open(void) {
    static const char *paths[] = {
        "../outside/secret.txt", "/etc/passwd", "/", "..", "../", "sub/../../outside/secret.txt",
        "lnk_out/secret.txt", "abs_out/secret.txt", "lnk_out", "abs_out", "file_out",
        "sub/deep_out", "./../outside", "sub/../..", "dangling_out", "dangling_rel",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        uint32_t fd;
        uint32_t e = h_open(c, 3, paths[i], 1, 0, RT_FD_READ, 0, &fd);
        if (e != E_NOTCAPABLE) fprintf(stderr, "open '%s' -> %u\n", paths[i], e);
        CHECK_EQ(e, E_NOTCAPABLE);
        /* creating or truncating through the same names */
        e = h_open(c, 3, paths[i], 1, OF_CREAT | OF_TRUNC, RT_FD_READ | RT_FD_WRITE, 0, &fd);
        if (e != E_NOTCAPABLE && e != E_ISDIR) fprintf(stderr, "create '%s' -> %u\n", paths[i], e);
        CHECK(e == E_NOTCAPABLE);
    }
    /* Without FOLLOW the last component is the link itself: ELOOP, never its target. */
    CHECK_EQ(h_open(c, 3, "file_out", 0, 0, RT_FD_READ, 0, NULL), E_LOOP);
    CHECK_EQ(h_open(c, 3, "dangling_out", 0, OF_CREAT, RT_FD_WRITE, 0, NULL), E_LOOP);
}

static void loops(void) {
    CHECK_EQ(h_open(c, 3, "loop1", 1, 0, RT_FD_READ, 0, NULL), E_LOOP);
    CHECK_EQ(h_open(c, 3, "self", 1, 0, RT_FD_READ, 0, NULL), E_LOOP);
    CHECK_EQ(h_open(c, 3, "loop1/x", 1, 0, RT_FD_READ, 0, NULL), E_LOOP);
    CHECK_EQ(h_open(c, 3, "self/x", 0, OF_CREAT, RT_FD_WRITE, 0, NULL), E_LOOP);
    gstr(1024, "loop2");
    CHECK_EQ(W(path_filestat_get)(c, 3, 1, 1024, 5, 2048), E_LOOP);
}

static void legal_inside(void) {
    /* Symlinks and ".." that stay inside work. */
    uint32_t fd;
    char buf[64];
    CHECK_EQ(h_open(c, 3, "sub/up", 1, 0, RT_FD_READ, 0, &fd), E_OK);
    CHECK_EQ(h_read(c, fd, buf, sizeof buf, NULL), E_OK);
    CHECK(!strcmp(buf, "inside"));
    W(fd_close)(c, fd);
    CHECK_EQ(h_open(c, 3, "sub/../file", 1, 0, RT_FD_READ, 0, &fd), E_OK);
    W(fd_close)(c, fd);
    CHECK_EQ(h_open(c, 3, "sub/..", 1, OF_DIRECTORY, RT_FD_READDIR, 0, &fd), E_OK);
    W(fd_close)(c, fd);
    /* Without FOLLOW, a link is stat'ed as itself even when it points out. */
    gstr(1024, "lnk_out");
    CHECK_EQ(W(path_filestat_get)(c, 3, 0, 1024, 7, 2048), E_OK);
    CHECK_EQ(h_mem.data[2048 + 16], 7);   /* filetype symbolic_link */
    CHECK_EQ(W(path_filestat_get)(c, 3, 1, 1024, 7, 2048), E_NOTCAPABLE);
    /* Reading a link's text is not following it. */
    CHECK_EQ(W(path_readlink)(c, 3, 1024, 7, 3000, 100, 256), E_OK);
    CHECK_EQ(g32(256), strlen("../outside"));
    CHECK(!memcmp(h_mem.data + 3000, "../outside", 10));
}

static void from_subdir_fd(void) {
    /* A directory fd is a capability for what is beneath it only. */
    uint32_t sub;
    CHECK_EQ(h_open(c, 3, "sub", 0, OF_DIRECTORY, RT_ALL, 0, &sub), E_OK);
    CHECK_EQ(h_open(c, sub, "../file", 1, 0, RT_FD_READ, 0, NULL), E_NOTCAPABLE);
    CHECK_EQ(h_open(c, sub, "up", 1, 0, RT_FD_READ, 0, NULL), E_NOTCAPABLE);
    CHECK_EQ(h_open(c, sub, "up", 0, 0, RT_FD_READ, 0, NULL), E_LOOP);
    W(fd_close)(c, sub);
}

static void mutations_out(void) {
    /* name ops whose path leaves the box */
    static const char *outs[] = {"../outside/x", "lnk_out/x", "abs_out/x", "/tmp/x",
                                 "sub/../../outside/x", "../outside/secret.txt",
                                 "lnk_out/secret.txt"};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        uint32_t n = gstr(1024, outs[i]), l = GLEN(outs[i]);
        gstr(1500, "file");
        CHECK_EQ(W(path_create_directory)(c, 3, n, l), E_NOTCAPABLE);
        CHECK_EQ(W(path_unlink_file)(c, 3, n, l), E_NOTCAPABLE);
        CHECK_EQ(W(path_remove_directory)(c, 3, n, l), E_NOTCAPABLE);
        CHECK_EQ(W(path_rename)(c, 3, 1500, 4, 3, n, l), E_NOTCAPABLE);     /* rename out */
        CHECK_EQ(W(path_rename)(c, 3, n, l, 3, 1500, 4), E_NOTCAPABLE);     /* rename in */
        CHECK_EQ(W(path_link)(c, 3, 0, 1500, 4, 3, n, l), E_NOTCAPABLE);    /* link out */
        CHECK_EQ(W(path_link)(c, 3, 0, n, l, 3, 1500, 4), E_NOTCAPABLE);    /* link in */
        gstr(1600, "target");
        CHECK_EQ(W(path_symlink)(c, 1600, 6, 3, n, l), E_NOTCAPABLE);
        CHECK_EQ(W(path_filestat_set_times)(c, 3, 1, n, l, 0, 0, 2 | 8), E_NOTCAPABLE);
        CHECK_EQ(W(path_filestat_get)(c, 3, 1, n, l, 2048), E_NOTCAPABLE);
    }
    /* A hard link through a symlink to an outside file (FOLLOW). */
    gstr(1024, "file_out");
    gstr(1500, "stolen");
    CHECK_EQ(W(path_link)(c, 3, 1, 1024, 8, 3, 1500, 6), E_NOTCAPABLE);
    /* Symlinks whose text leads out are not created. */
    gstr(1024, "../outside");
    gstr(1500, "newlink");
    CHECK_EQ(W(path_symlink)(c, 1024, 10, 3, 1500, 7), E_NOTCAPABLE);
    gstr(1024, "/etc");
    CHECK_EQ(W(path_symlink)(c, 1024, 4, 3, 1500, 7), E_NOTCAPABLE);
    gstr(1024, "../../x");
    gstr(1500, "sub/newlink");
    CHECK_EQ(W(path_symlink)(c, 1024, 7, 3, 1500, 11), E_NOTCAPABLE);
    gstr(1024, "../file");      /* stays inside: allowed */
    CHECK_EQ(W(path_symlink)(c, 1024, 7, 3, 1500, 11), E_OK);
    /* Renaming the box's own root or ".." is refused. */
    gstr(1024, "..");
    gstr(1500, "x");
    CHECK_EQ(W(path_rename)(c, 3, 1024, 2, 3, 1500, 1), E_NOTCAPABLE);
    CHECK_EQ(W(path_remove_directory)(c, 3, 1024, 2), E_NOTCAPABLE);
}

/* Another thread swaps box/swap between a real directory and a symlink to
 * outside/ while we keep opening swap/secret.txt: we must only ever see the
 * inside file. */
static atomic_int stop_swapping;
static void *swapper(void *arg) {
    (void)arg;
    char a[512], b[512];
    hpath(a, sizeof a, sb.box, "swap");
    hpath(b, sizeof b, sb.box, "swap_alt");
    while (!atomic_load(&stop_swapping))
        syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */);
    return NULL;
}

static void race(void) {
    char p[512];
    hpath(p, sizeof p, sb.box, "swap");
    mkdir(p, 0755);
    hpath(p, sizeof p, sb.box, "swap/secret.txt");
    h_write_file(p, "inside");
    hpath(p, sizeof p, sb.box, "swap_alt");
    if (symlink("../outside", p)) abort();
    /* Both states answer as expected before the race starts. */
    char buf0[64];
    uint32_t fd0;
    CHECK_EQ(h_open(c, 3, "swap/secret.txt", 1, 0, RT_FD_READ, 0, &fd0), E_OK);
    CHECK_EQ(h_read(c, fd0, buf0, sizeof buf0, NULL), E_OK);
    CHECK(!strcmp(buf0, "inside"));
    W(fd_close)(c, fd0);
    CHECK_EQ(h_open(c, 3, "swap_alt/secret.txt", 1, 0, RT_FD_READ, 0, NULL), E_NOTCAPABLE);
    pthread_t t;
    pthread_create(&t, NULL, swapper, NULL);
    int inside = 0, refused = 0, leaked = 0, errs[80] = {0};
    for (int i = 0; i < 3000; i++) {
        uint32_t fd;
        uint32_t e = h_open(c, 3, "swap/secret.txt", 1, 0, RT_FD_READ, 0, &fd);
        if (e) {
            refused++;
            if (e != E_NOTCAPABLE && e != E_NOENT && e != E_NOTDIR && e != E_LOOP && e != 6)
                fprintf(stderr, "race: unexpected errno %u\n", e);
            errs[e < 80 ? e : 0]++;
            continue;
        }
        char buf[64];
        h_read(c, fd, buf, sizeof buf, NULL);
        W(fd_close)(c, fd);
        if (!strcmp(buf, "secret")) leaked++;
        else inside++;
    }
    atomic_store(&stop_swapping, 1);
    pthread_join(t, NULL);
    printf("race: %d inside, %d refused (NOTCAPABLE %d, AGAIN %d, other %d), %d leaked\n", inside,
           refused, errs[E_NOTCAPABLE], errs[6], refused - errs[E_NOTCAPABLE] - errs[6], leaked);
    CHECK_EQ(leaked, 0);
    CHECK_EQ(inside + refused, 3000);
}

/* ---- random paths -------------------------------------------------------
 * Thousands of operations on paths built from hostile pieces. Properties:
 * every fd the guest gets refers to something inside the box or ro tree
 * (checked by device+inode against a fresh listing), and outside/ never
 * changes (checked at the end). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void random_path(char *out, size_t cap) {
    static const char *parts[] = {"..", ".", "sub", "file", "lnk_out", "abs_out", "file_out",
                                  "loop1", "self", "dangling_out", "dangling_rel", "new",
                                  "sub/up", "sub/deep_out", "", "x",
                                  /* benign pieces again, so that many paths resolve */
                                  "sub", "sub", "new", "x", "y", "file", "sub/..", "."};
    size_t len = 0;
    int n = 1 + (int)rnd(4);
    out[0] = 0;
    if (rnd(16) == 0) len += (size_t)snprintf(out, cap, "/");
    for (int i = 0; i < n && len < cap - 40; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "/" : "",
                                parts[rnd(sizeof parts / sizeof parts[0])]);
    if (rnd(8) == 0 && len < cap - 2) strcat(out, "/");
}

static dev_t inside_dev[4096];
static ino_t inside_ino[4096];
static int n_inside;
static int collect_inside(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)path; (void)type; (void)ftw;
    if (n_inside < 4096) { inside_dev[n_inside] = st->st_dev; inside_ino[n_inside++] = st->st_ino; }
    return 0;
}

static bool is_inside(int host_fd) {
    struct stat st;
    if (fstat(host_fd, &st)) return false;
    n_inside = 0;
    nftw(sb.box, collect_inside, 16, FTW_PHYS);
    nftw(sb.ro, collect_inside, 16, FTW_PHYS);
    for (int i = 0; i < n_inside; i++)
        if (inside_dev[i] == st.st_dev && inside_ino[i] == st.st_ino) return true;
    return false;
}

static void random_paths(void) {
    char a[512], b[512];
    int opened = 0, outside = 0;
    for (int i = 0; i < 20000; i++) {
        random_path(a, sizeof a);
        random_path(b, sizeof b);
        uint32_t dir = 3 + rnd(2);   /* box or ro */
        uint32_t pa = gstr(1024, a), la = GLEN(a), pb = gstr(1600, b), lb = GLEN(b);
        switch (rnd(9)) {
        case 0: case 1: {
            uint32_t fd;
            uint32_t oflags = rnd(4) == 0 ? OF_CREAT : rnd(6) == 0 ? OF_DIRECTORY : 0;
            if (h_open(c, dir, a, rnd(2), oflags, rnd(2) ? RT_FD_READ : RT_FD_READ | RT_FD_WRITE,
                       0, &fd) == E_OK) {
                opened++;
                if (!is_inside(c->fds[fd].host)) {
                    outside++;
                    fprintf(stderr, "random: '%s' on fd %u opened something outside\n", a, dir);
                }
                W(fd_close)(c, fd);
            }
            break;
        }
        case 2: W(path_create_directory)(c, dir, pa, la); break;
        case 3: W(path_unlink_file)(c, dir, pa, la); break;
        case 4: W(path_remove_directory)(c, dir, pa, la); break;
        case 5: W(path_rename)(c, dir, pa, la, 3 + rnd(2), pb, lb); break;
        case 6: W(path_link)(c, dir, rnd(2), pa, la, 3 + rnd(2), pb, lb); break;
        case 7: W(path_symlink)(c, pb, lb, dir, pa, la); break;
        case 8: W(path_filestat_set_times)(c, dir, rnd(2), pa, la, 0, 0, 2 | 8); break;
        }
    }
    printf("random: 20000 operations, %d opens, %d outside\n", opened, outside);
    CHECK_EQ(outside, 0);
    CHECK(opened > 0);
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "walk")) wasi_path_force_walk(1);
    printf("resolution: %s\n", wasi_path_using_walk() ? "portable walk" : "openat2");
    h_mem_reset();
    sb_make(&sb);
    setup_links();
    c = h_ctx(&sb);
    char *outside_before = h_snapshot(sb.outside);

    escapes_open();
    loops();
    legal_inside();
    from_subdir_fd();
    mutations_out();
    race();
    random_paths();

    char *outside_after = h_snapshot(sb.outside);
    CHECK(!strcmp(outside_before, outside_after));
    if (strcmp(outside_before, outside_after))
        fprintf(stderr, "outside changed:\n--- before\n%s--- after\n%s", outside_before, outside_after);
    char p[512], buf[64];
    hpath(p, sizeof p, sb.outside, "secret.txt");
    CHECK(h_read_file(p, buf, sizeof buf) == 6 && !strcmp(buf, "secret"));
    free(outside_before);
    free(outside_after);
    wasi_ctx_free(c);
    sb_remove(&sb);
    return h_finish(argc > 1 ? "test_wasi_escape (walk)" : "test_wasi_escape");
}
