/* Files and directories inside a preopen: create, write, read, seek,
 * stat, times, rename, link, symlink, unlink, readdir with cookies, and a
 * read-only preopen that refuses every write. Checked on the host side. */
#define _GNU_SOURCE
#include "harness.h"
#include "wasi_int.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static sandbox sb;
static wasi_ctx *c;

static void hp(char *out, const char *dir, const char *name) { sprintf(out, "%s/%s", dir, name); }

static void prestat(void) {
    CHECK_EQ(W(fd_prestat_get)(c, 3, 100), E_OK);
    CHECK_EQ(h_mem.data[100], 0);
    CHECK_EQ(g32(104), 4);
    CHECK_EQ(W(fd_prestat_dir_name)(c, 3, 200, 4), E_OK);
    CHECK(!memcmp(h_mem.data + 200, "/box", 4));
    CHECK_EQ(W(fd_prestat_dir_name)(c, 4, 200, 2), E_NAMETOOLONG);
    CHECK_EQ(W(fd_prestat_get)(c, 5, 100), E_BADF);
    CHECK_EQ(W(fd_prestat_get)(c, 1, 100), E_BADF);
    /* fdstat of the preopens: directories, read-only one without write rights */
    CHECK_EQ(W(fd_fdstat_get)(c, 3, 100), E_OK);
    CHECK_EQ(h_mem.data[100], 3);
    CHECK(g64(108) & (1ull << 10));             /* PATH_CREATE_FILE */
    CHECK(g64(116) & RT_FD_WRITE);              /* files beneath may be written */
    CHECK_EQ(W(fd_fdstat_get)(c, 4, 100), E_OK);
    CHECK(!(g64(108) & (1ull << 10)));
    CHECK(!(g64(116) & RT_FD_WRITE));
    CHECK(g64(116) & RT_FD_READ);
}

static void files(void) {
    char p[512], buf[128];
    uint32_t fd, n;
    gstr(1024, "dir");
    CHECK_EQ(W(path_create_directory)(c, 3, 1024, 3), E_OK);
    CHECK_EQ(W(path_create_directory)(c, 3, 1024, 3), E_EXIST);
    hp(p, sb.box, "dir");
    struct stat st;
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));

    CHECK_EQ(h_open(c, 3, "dir/a.txt", 1, OF_CREAT | OF_EXCL, RT_ALL, 0, &fd), E_OK);
    CHECK(fd > 4);
    CHECK_EQ(h_open(c, 3, "dir/a.txt", 1, OF_CREAT | OF_EXCL, RT_FD_WRITE, 0, NULL), E_EXIST);
    /* two iovecs in one write */
    memcpy(h_mem.data + 4096, "hello ", 6);
    memcpy(h_mem.data + 4200, "world", 5);
    s32(512, 4096); s32(516, 6); s32(520, 4200); s32(524, 5);
    CHECK_EQ(W(fd_write)(c, fd, 512, 2, 256), E_OK);
    CHECK_EQ(g32(256), 11);
    hp(p, sb.box, "dir/a.txt");
    CHECK(h_read_file(p, buf, sizeof buf) == 11 && !strcmp(buf, "hello world"));

    CHECK_EQ(W(fd_tell)(c, fd, 300), E_OK);
    CHECK_EQ(g64(300), 11);
    CHECK_EQ(W(fd_seek)(c, fd, (uint64_t)-5, 1, 300), E_OK);   /* CUR - 5 */
    CHECK_EQ(g64(300), 6);
    CHECK_EQ(h_read(c, fd, buf, sizeof buf, &n), E_OK);
    CHECK(!strcmp(buf, "world"));
    CHECK_EQ(W(fd_seek)(c, fd, 0, 3, 300), E_INVAL);
    /* pread/pwrite leave the position alone */
    s32(512, 4096); s32(516, 5);
    CHECK_EQ(W(fd_pread)(c, fd, 512, 1, 0, 256), E_OK);
    CHECK(!memcmp(h_mem.data + 4096, "hello", 5));
    memcpy(h_mem.data + 4096, "HELLO", 5);
    CHECK_EQ(W(fd_pwrite)(c, fd, 512, 1, 0, 256), E_OK);
    CHECK_EQ(W(fd_tell)(c, fd, 300), E_OK);
    CHECK_EQ(g64(300), 11);
    CHECK(h_read_file(p, buf, sizeof buf) == 11 && !strcmp(buf, "HELLO world"));

    CHECK_EQ(W(fd_filestat_get)(c, fd, 600), E_OK);
    CHECK_EQ(h_mem.data[600 + 16], 4);
    CHECK_EQ(g64(600 + 32), 11);
    CHECK_EQ(W(fd_filestat_set_size)(c, fd, 5), E_OK);
    CHECK(h_read_file(p, buf, sizeof buf) == 5);
    CHECK_EQ(W(fd_allocate)(c, fd, 0, 100), E_OK);
    stat(p, &st);
    CHECK_EQ(st.st_size, 100);
    CHECK_EQ(W(fd_filestat_set_times)(c, fd, 1000000000ull * 1000, 1000000000ull * 2000 + 5, 1 | 4), E_OK);
    stat(p, &st);
    CHECK_EQ(st.st_atim.tv_sec, 1000);
    CHECK_EQ(st.st_mtim.tv_sec, 2000);
    CHECK_EQ(W(fd_filestat_set_times)(c, fd, 0, 0, 1 | 2), E_INVAL);
    CHECK_EQ(W(fd_sync)(c, fd), E_OK);
    CHECK_EQ(W(fd_datasync)(c, fd), E_OK);
    CHECK_EQ(W(fd_advise)(c, fd, 0, 0, 1), E_OK);
    CHECK_EQ(W(fd_advise)(c, fd, 0, 0, 9), E_INVAL);
    /* fdstat, append flag */
    CHECK_EQ(W(fd_fdstat_get)(c, fd, 100), E_OK);
    CHECK_EQ(h_mem.data[100], 4);
    CHECK_EQ(g32(102) & 0xffff, 0);
    CHECK(g64(108) & RT_FD_WRITE);
    CHECK_EQ(W(fd_fdstat_set_flags)(c, fd, 1), E_OK);
    CHECK_EQ(W(fd_fdstat_get)(c, fd, 100), E_OK);
    CHECK_EQ(h_mem.data[102], 1);
    CHECK_EQ(W(fd_fdstat_set_flags)(c, fd, 16), 58 /* NOTSUP */);
    /* dropping rights sticks; regaining is refused */
    CHECK_EQ(W(fd_fdstat_set_rights)(c, fd, RT_FD_READ | RT_FD_SEEK, 0), E_OK);
    CHECK_EQ(h_write(c, fd, "x", NULL), E_NOTCAPABLE);
    CHECK_EQ(W(fd_fdstat_set_rights)(c, fd, RT_FD_READ | RT_FD_WRITE, 0), E_NOTCAPABLE);
    /* renumber, close */
    uint32_t fd2;
    CHECK_EQ(h_open(c, 3, "dir/a.txt", 1, 0, RT_FD_READ, 0, &fd2), E_OK);
    CHECK_EQ(W(fd_renumber)(c, fd, fd2), E_OK);
    CHECK_EQ(W(fd_close)(c, fd), E_BADF);
    CHECK_EQ(W(fd_close)(c, fd2), E_OK);
    CHECK_EQ(W(fd_close)(c, fd2), E_BADF);
    CHECK_EQ(W(fd_renumber)(c, 99, 3), E_BADF);

    /* errors of path_open */
    CHECK_EQ(h_open(c, 3, "missing", 1, 0, RT_FD_READ, 0, NULL), E_NOENT);
    CHECK_EQ(h_open(c, 3, "dir/a.txt", 1, OF_DIRECTORY, RT_FD_READ, 0, NULL), E_NOTDIR);
    CHECK_EQ(h_open(c, 3, "dir/a.txt/", 1, 0, RT_FD_READ, 0, NULL), E_NOTDIR);
    CHECK_EQ(h_open(c, 3, "dir", 1, 0, RT_FD_WRITE, 0, NULL), E_ISDIR);
    CHECK_EQ(h_open(c, 3, "", 1, 0, RT_FD_READ, 0, NULL), E_NOENT);
    CHECK_EQ(W(path_open)(c, 3, 1, 1024, 3, 16, 0, 0, 0, 256), E_INVAL);   /* bad oflags */
    CHECK_EQ(W(path_open)(c, 3, 1, 1024, 3, 0, 0, 0, 0x20, 256), E_INVAL); /* bad fdflags */
    CHECK_EQ(W(fd_fdstat_set_flags)(c, 3, 0x40), E_INVAL);
    gstr(1024, "a\0b");
    CHECK_EQ(W(path_open)(c, 3, 1, 1024, 3, 0, RT_FD_READ, 0, 0, 256), E_INVAL);  /* NUL inside */
    char longname[300];
    memset(longname, 'n', 299);
    longname[299] = 0;
    CHECK_EQ(h_open(c, 3, longname, 1, OF_CREAT, RT_FD_WRITE, 0, NULL), E_NAMETOOLONG);
    /* a file fd is not a directory */
    CHECK_EQ(h_open(c, 3, "dir/a.txt", 1, 0, RT_FD_READ | (1ull << 13), 0, &fd), E_OK);
    CHECK_EQ(h_open(c, fd, "x", 1, 0, RT_FD_READ, 0, NULL), E_NOTDIR);
    W(fd_close)(c, fd);
    /* a directory fd cannot be read like a file */
    CHECK_EQ(h_read(c, 3, buf, sizeof buf, NULL), E_ISDIR);

    /* path_filestat, rename, link, symlink, readlink, unlink, rmdir */
    gstr(1024, "dir/a.txt");
    CHECK_EQ(W(path_filestat_get)(c, 3, 1, 1024, 9, 600), E_OK);
    CHECK_EQ(g64(600 + 32), 100);
    CHECK_EQ(W(path_filestat_set_times)(c, 3, 1, 1024, 9, 0, 1000000000ull * 3000, 4), E_OK);
    stat(p, &st);
    CHECK_EQ(st.st_mtim.tv_sec, 3000);
    CHECK_EQ(st.st_atim.tv_sec, 1000);          /* omitted: unchanged */
    gstr(1500, "dir/b.txt");
    CHECK_EQ(W(path_rename)(c, 3, 1024, 9, 3, 1500, 9), E_OK);
    hp(p, sb.box, "dir/b.txt");
    CHECK(access(p, F_OK) == 0);
    hp(p, sb.box, "dir/a.txt");
    CHECK(access(p, F_OK) != 0);
    gstr(1024, "hard.txt");
    CHECK_EQ(W(path_link)(c, 3, 0, 1500, 9, 3, 1024, 8), E_OK);
    hp(p, sb.box, "hard.txt");
    CHECK(stat(p, &st) == 0 && st.st_nlink == 2);
    gstr(1024, "dir/b.txt");
    gstr(1500, "soft");
    CHECK_EQ(W(path_symlink)(c, 1024, 9, 3, 1500, 4), E_OK);
    CHECK_EQ(W(path_symlink)(c, 1024, 9, 3, 1500, 4), E_EXIST);
    CHECK_EQ(W(path_readlink)(c, 3, 1500, 4, 3000, 64, 256), E_OK);
    CHECK_EQ(g32(256), 9);
    CHECK(!memcmp(h_mem.data + 3000, "dir/b.txt", 9));
    CHECK_EQ(W(path_readlink)(c, 3, 1500, 4, 3000, 3, 256), E_OK);   /* truncated */
    CHECK_EQ(g32(256), 3);
    CHECK_EQ(W(path_filestat_get)(c, 3, 1, 1500, 4, 600), E_OK);     /* followed */
    CHECK_EQ(h_mem.data[600 + 16], 4);
    CHECK_EQ(W(path_unlink_file)(c, 3, 1500, 4), E_OK);             /* the link, not b.txt */
    hp(p, sb.box, "dir/b.txt");
    CHECK(access(p, F_OK) == 0);
    gstr(1024, "dir");
    CHECK_EQ(W(path_remove_directory)(c, 3, 1024, 3), E_NOTEMPTY);
    CHECK_EQ(W(path_unlink_file)(c, 3, 1024, 3), E_ISDIR);
    gstr(1024, "dir/b.txt/");
    CHECK_EQ(W(path_unlink_file)(c, 3, 1024, 10), E_NOTDIR);
    CHECK_EQ(W(path_unlink_file)(c, 3, 1024, 9), E_OK);
    gstr(1024, "dir/");
    CHECK_EQ(W(path_remove_directory)(c, 3, 1024, 4), E_OK);
    hp(p, sb.box, "dir");
    CHECK(access(p, F_OK) != 0);
}

/* Reads the whole directory through fd_readdir with a small buffer,
 * following d_next cookies; returns the names joined by '\n'. */
static size_t list_dir(uint32_t fd, uint64_t cookie, uint32_t bufsize, char *out, size_t cap,
                       uint64_t *third_cookie) {
    size_t len = 0, count = 0;
    out[0] = 0;
    for (int guard = 0; guard < 10000; guard++) {
        CHECK_EQ(W(fd_readdir)(c, fd, 8192, bufsize, cookie, 256), E_OK);
        uint32_t used = g32(256), off = 0;
        bool progressed = false;
        while (off + 24 <= used) {
            uint32_t namlen = g32(8192 + off + 16);
            if (off + 24 + namlen > used) break;          /* truncated entry */
            count++;
            if (count == 3 && third_cookie) *third_cookie = cookie;
            len += (size_t)snprintf(out + len, cap - len, "%.*s\n", (int)namlen,
                                    (char *)h_mem.data + 8192 + off + 24);
            cookie = g64(8192 + off);
            off += 24 + namlen;
            progressed = true;
        }
        if (used < bufsize) break;                        /* end of directory */
        if (!progressed) { CHECK(!"buffer too small for one entry"); break; }
    }
    return count;
}

static void readdir_cookies(void) {
    char p[512];
    gstr(1024, "many");
    CHECK_EQ(W(path_create_directory)(c, 3, 1024, 4), E_OK);
    for (int i = 0; i < 40; i++) {
        char name[64];
        snprintf(name, sizeof name, "many/entry-with-a-longish-name-%02d", i);
        hp(p, sb.box, name);
        h_write_file(p, "x");
    }
    uint32_t fd;
    CHECK_EQ(h_open(c, 3, "many", 0, OF_DIRECTORY, RT_FD_READDIR, 0, &fd), E_OK);
    static char all[8192], again[8192], tail[8192];
    uint64_t third = 0;
    size_t n = list_dir(fd, 0, 100, all, sizeof all, &third);
    CHECK_EQ(n, 42);                                      /* 40 + "." + ".." */
    for (int i = 0; i < 40; i++) {
        char name[64];
        snprintf(name, sizeof name, "entry-with-a-longish-name-%02d\n", i);
        char *hit = strstr(all, name);
        CHECK(hit && !strstr(hit + 1, name));             /* exactly once */
    }
    CHECK(strstr(all, ".\n") && strstr(all, "..\n"));
    /* a second pass (rewind) and a different buffer size agree */
    CHECK_EQ(list_dir(fd, 0, 4000, again, sizeof again, NULL), 42);
    CHECK(!strcmp(all, again));
    /* resuming from a saved cookie gives the same tail */
    size_t t = list_dir(fd, third, 100, tail, sizeof tail, NULL);
    CHECK_EQ(t, 40);
    const char *from3 = all;
    for (int i = 0; i < 2; i++) from3 = strchr(from3, '\n') + 1;
    CHECK(!strcmp(tail, from3));
    /* past the end: nothing */
    CHECK_EQ(W(fd_readdir)(c, fd, 8192, 100, 1000, 256), E_OK);
    CHECK_EQ(g32(256), 0);
    /* files have no readdir */
    uint32_t ffd;
    CHECK_EQ(h_open(c, 3, "many/entry-with-a-longish-name-00", 0, 0, RT_ALL, 0, &ffd), E_OK);
    CHECK(W(fd_readdir)(c, ffd, 8192, 100, 0, 256) != E_OK);
    W(fd_close)(c, ffd);
    W(fd_close)(c, fd);
}

static void readonly(void) {
    char p[512], buf[64];
    char *before = h_snapshot(sb.ro);
    uint32_t fd;
    /* reading works; the fd carries no write right and the host fd is read-only */
    CHECK_EQ(h_open(c, 4, "ro.txt", 1, 0, RT_ALL & ~RT_FD_WRITE, 0, &fd), E_OK);
    CHECK_EQ(h_read(c, fd, buf, sizeof buf, NULL), E_OK);
    CHECK(!strcmp(buf, "read only"));
    CHECK_EQ(h_write(c, fd, "x", NULL), E_NOTCAPABLE);
    CHECK_EQ(W(fd_filestat_set_size)(c, fd, 0), E_NOTCAPABLE);
    CHECK_EQ(W(fd_filestat_set_times)(c, fd, 0, 0, 2), E_NOTCAPABLE);
    CHECK_EQ(W(fd_allocate)(c, fd, 0, 10), E_NOTCAPABLE);
    CHECK_EQ(W(fd_fdstat_get)(c, fd, 100), E_OK);
    CHECK(!(g64(108) & RT_FD_WRITE));
    W(fd_close)(c, fd);
    /* every way to write */
    CHECK_EQ(h_open(c, 4, "ro.txt", 1, 0, RT_FD_READ | RT_FD_WRITE, 0, NULL), E_NOTCAPABLE);
    CHECK_EQ(h_open(c, 4, "ro.txt", 1, 0, RT_FD_WRITE, 1 /* append */, NULL), E_NOTCAPABLE);
    CHECK_EQ(h_open(c, 4, "ro.txt", 1, OF_TRUNC, RT_FD_READ, 0, NULL), E_NOTCAPABLE);
    CHECK_EQ(h_open(c, 4, "new.txt", 1, OF_CREAT, RT_FD_READ, 0, NULL), E_NOTCAPABLE);
    uint32_t n = gstr(1024, "ro.txt"), l = 6;
    gstr(1500, "other");
    CHECK_EQ(W(path_create_directory)(c, 4, 1500, 5), E_NOTCAPABLE);
    CHECK_EQ(W(path_unlink_file)(c, 4, n, l), E_NOTCAPABLE);
    CHECK_EQ(W(path_remove_directory)(c, 4, 1500, 5), E_NOTCAPABLE);
    CHECK_EQ(W(path_rename)(c, 4, n, l, 4, 1500, 5), E_NOTCAPABLE);
    CHECK_EQ(W(path_rename)(c, 4, n, l, 3, 1500, 5), E_NOTCAPABLE);   /* out of ro into rw */
    CHECK_EQ(W(path_link)(c, 4, 0, n, l, 3, 1500, 5), E_NOTCAPABLE);   /* hard link into rw */
    CHECK_EQ(W(path_symlink)(c, n, l, 4, 1500, 5), E_NOTCAPABLE);
    CHECK_EQ(W(path_filestat_set_times)(c, 4, 1, n, l, 0, 0, 2 | 8), E_NOTCAPABLE);
    /* from the rw box into ro */
    hp(p, sb.box, "movable");
    h_write_file(p, "m");
    gstr(1600, "movable");
    CHECK_EQ(W(path_rename)(c, 3, 1600, 7, 4, 1500, 5), E_NOTCAPABLE);
    CHECK_EQ(W(path_link)(c, 3, 0, 1600, 7, 4, 1500, 5), E_NOTCAPABLE);
    /* a subdirectory opened from ro inherits read-only */
    hp(p, sb.ro, "sub");
    mkdir(p, 0755);
    free(before);
    before = h_snapshot(sb.ro);
    uint32_t sub;
    CHECK_EQ(h_open(c, 4, "sub", 0, OF_DIRECTORY, RT_ALL & ~RT_FD_WRITE, 0, &sub), E_OK);
    CHECK_EQ(h_open(c, sub, "f", 0, OF_CREAT, RT_FD_READ, 0, NULL), E_NOTCAPABLE);
    CHECK_EQ(W(path_create_directory)(c, sub, 1500, 5), E_NOTCAPABLE);
    W(fd_close)(c, sub);
    char *after = h_snapshot(sb.ro);
    CHECK(!strcmp(before, after));
    free(before);
    free(after);
}

int main(void) {
    h_mem_reset();
    sb_make(&sb);
    c = h_ctx(&sb);
    prestat();
    files();
    readdir_cookies();
    readonly();
    wasi_ctx_free(c);
    sb_remove(&sb);
    return h_finish("test_wasi_fs");
}
