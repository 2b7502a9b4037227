/* Virtual read-only files (wasi_ctx_add_vfile): a memory-backed directory
 * "/bundle" holding ro.txt with the same content as the real read-only
 * preopen /ro, so every path and every refused call can be asked of both
 * and must get the same answer. Reads, seeks, stat, readdir cookies,
 * hostile names, every write-like call refused, bad pointers, the
 * configuration errors, a file past 4 GiB, and that the data is used in
 * place (read-only mapping, never copied). */
#define _GNU_SOURCE
#include "harness.h"
#include "wasi_int.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static sandbox sb;
static wasi_ctx *c;
static const char RO_TXT[] = "read only";        /* sb_make's ro/ro.txt */
static char tok[] = "tokenizer bytes 0123456789";
static uint8_t *mapped;                          /* PROT_READ: a write would crash */
static const size_t MAPPED = 8192;

#define VDIR 5u   /* after stdio, /box (3) and /ro (4) */
#define VREAD (RT_FD_READ | RT_FD_SEEK | (1ull << 5) | (1ull << 7) | (1ull << 21) | (1ull << 27))

static uint32_t add(wasi_ctx *ctx, const char *dir, const char *name, const void *data,
                    uint64_t size, char *err) {
    return (uint32_t)wasi_ctx_add_vfile(ctx, dir, name, data, size, err, 256);
}

/* Reads up to cap bytes with one iovec; returns the count (or -errno). */
static long rd(uint32_t fd, char *out, uint32_t cap) {
    uint32_t n;
    uint32_t e = h_read(c, fd, out, cap + 1, &n);
    return e ? -(long)e : (long)n;
}
static long prd(uint32_t fd, char *out, uint32_t cap, uint64_t off) {
    s32(512, 4096);
    s32(516, cap);
    s32(256, 0xdeadbeef);
    uint32_t e = W(fd_pread)(c, fd, 512, 1, off, 256);
    if (e) return -(long)e;
    memcpy(out, h_mem.data + 4096, g32(256));
    out[g32(256)] = 0;
    return g32(256);
}
static long seek(uint32_t fd, int64_t off, uint32_t whence) {
    s64(300, 0xdeadbeef);
    uint32_t e = W(fd_seek)(c, fd, (uint64_t)off, whence, 300);
    return e ? -(long)e : (long)g64(300);
}

static void setup(void) {
    char err[256];
    mapped = mmap(NULL, MAPPED, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) abort();
    for (size_t i = 0; i < MAPPED; i++) mapped[i] = (uint8_t)(i * 7 + 1);
    if (mprotect(mapped, MAPPED, PROT_READ)) abort();
    CHECK_EQ(add(c, "/bundle", "ro.txt", RO_TXT, strlen(RO_TXT), err), 0);
    CHECK_EQ(add(c, "/bundle", "tokenizer.gguf", tok, strlen(tok), err), 0);
    CHECK_EQ(add(c, "/bundle", "empty", NULL, 0, err), 0);
    CHECK_EQ(add(c, "/bundle", "mapped.bin", mapped, MAPPED, err), 0);
}

static void prestat(void) {
    CHECK_EQ(W(fd_prestat_get)(c, VDIR, 100), E_OK);
    CHECK_EQ(h_mem.data[100], 0);
    CHECK_EQ(g32(104), 7);
    CHECK_EQ(W(fd_prestat_dir_name)(c, VDIR, 200, 7), E_OK);
    CHECK(!memcmp(h_mem.data + 200, "/bundle", 7));
    CHECK_EQ(W(fd_prestat_dir_name)(c, VDIR, 200, 6), E_NAMETOOLONG);
    CHECK_EQ(W(fd_prestat_get)(c, VDIR + 1, 100), E_BADF);
    CHECK_EQ(W(fd_prestat_get)(c, VDIR, GMEM - 4), E_FAULT);
    /* a directory with reading rights only, passing on reading rights only */
    CHECK_EQ(W(fd_fdstat_get)(c, VDIR, 100), E_OK);
    CHECK_EQ(h_mem.data[100], 3);
    CHECK_EQ(g32(100 + 2) & 0xffff, 0);
    CHECK_EQ(g64(108), R_VDIR);
    CHECK_EQ(g64(116), R_VDIR | R_VFILE);
    CHECK(!(g64(108) & R_MUTATE) && !(g64(116) & R_MUTATE));
    CHECK_EQ(W(fd_fdstat_get)(c, VDIR, GMEM - 8), E_FAULT);
}

/* The same open through the real read-only preopen and the virtual one:
 * the same errno, and when both open, the same kind and content. */
static void same(const char *path, uint32_t lookup, uint32_t oflags, uint64_t base,
                 uint32_t fdflags, uint32_t want) {
    uint32_t rfd, vfd;
    uint32_t er = h_open(c, 4, path, lookup, oflags, base, fdflags, &rfd);
    uint32_t ev = h_open(c, VDIR, path, lookup, oflags, base, fdflags, &vfd);
    if (er != want || ev != want)
        fprintf(stderr, "path '%s' oflags %u: real %u virtual %u, want %u\n", path, oflags, er,
                ev, want);
    CHECK_EQ(ev, want);
    CHECK_EQ(er, ev);
    if (er || ev) return;
    CHECK_EQ(W(fd_fdstat_get)(c, rfd, 100), E_OK);
    uint8_t rtype = h_mem.data[100];
    CHECK_EQ(W(fd_fdstat_get)(c, vfd, 100), E_OK);
    CHECK_EQ(h_mem.data[100], rtype);
    if (rtype == 4) {
        char a[64], b[64];
        CHECK_EQ(rd(rfd, a, 60), 9);
        CHECK_EQ(rd(vfd, b, 60), 9);
        CHECK(!strcmp(a, b));
    }
    CHECK_EQ(W(fd_close)(c, rfd), E_OK);
    CHECK_EQ(W(fd_close)(c, vfd), E_OK);
}

static void names(void) {
    uint64_t rd_only = RT_ALL & ~RT_FD_WRITE;
    for (uint32_t follow = 0; follow < 2; follow++) {
        same("ro.txt", follow, 0, rd_only, 0, E_OK);
        same("./ro.txt", follow, 0, rd_only, 0, E_OK);
        same(".//ro.txt", follow, 0, rd_only, 0, E_OK);
        same("./././ro.txt", follow, 0, RT_FD_READ, 0, E_OK);
        same(".", follow, 0, rd_only, 0, E_OK);
        same("./", follow, OF_DIRECTORY, rd_only, 0, E_OK);
        same("ro.txt", follow, OF_EXCL, rd_only, 0, E_OK);       /* EXCL alone means nothing */
        same("ro.txt", follow, 0, RT_FD_READ, 4 /* nonblock */, E_OK);
        same("..", follow, 0, rd_only, 0, E_NOTCAPABLE);
        same("../ro.txt", follow, 0, rd_only, 0, E_NOTCAPABLE);
        same("./../ro.txt", follow, 0, rd_only, 0, E_NOTCAPABLE);
        same("/ro.txt", follow, 0, rd_only, 0, E_NOTCAPABLE);
        same("/bundle/ro.txt", follow, 0, rd_only, 0, E_NOTCAPABLE);
        same("/", follow, 0, rd_only, 0, E_NOTCAPABLE);
        same("a/../ro.txt", follow, 0, rd_only, 0, E_NOENT);
        same("", follow, 0, rd_only, 0, E_NOENT);
        same("missing", follow, 0, rd_only, 0, E_NOENT);
        same("RO.TXT", follow, 0, rd_only, 0, E_NOENT);
        same("ro.txt/", follow, 0, rd_only, 0, E_NOTDIR);
        same("ro.txt/.", follow, 0, rd_only, 0, E_NOTDIR);
        same("ro.txt/..", follow, 0, rd_only, 0, E_NOTDIR);
        same("ro.txt/x", follow, 0, rd_only, 0, E_NOTDIR);
        same("ro.txt/../ro.txt", follow, 0, rd_only, 0, E_NOTDIR);
        same("ro.txt", follow, OF_DIRECTORY, rd_only, 0, E_NOTDIR);
        /* nothing is created, truncated or opened for writing */
        same("ro.txt", follow, OF_CREAT, rd_only, 0, E_NOTCAPABLE);
        same("new.txt", follow, OF_CREAT, rd_only, 0, E_NOTCAPABLE);
        same("new.txt", follow, OF_CREAT | OF_EXCL, RT_FD_READ, 0, E_NOTCAPABLE);
        same("ro.txt", follow, OF_TRUNC, RT_FD_READ, 0, E_NOTCAPABLE);
        same("ro.txt", follow, 0, RT_FD_READ | RT_FD_WRITE, 0, E_NOTCAPABLE);
        same("ro.txt", follow, 0, RT_FD_WRITE, 1 /* append */, E_NOTCAPABLE);
        same("ro.txt", follow, 16, RT_FD_READ, 0, E_INVAL);          /* unknown oflag */
        same("ro.txt", follow, 0, RT_FD_READ, 32, E_INVAL);          /* unknown fdflag */
    }
    /* long names: a 256-byte component, a path of PATH_MAX bytes */
    char *big = malloc(PATH_MAX + 1);
    memset(big, 'a', 256);
    big[256] = 0;
    same(big, 0, 0, RT_FD_READ, 0, E_NAMETOOLONG);
    big[255] = 0;
    same(big, 0, 0, RT_FD_READ, 0, E_NOENT);                      /* 255 bytes: fine, absent */
    memcpy(big, "missing/", 8);
    memset(big + 8, 'a', 256);
    big[264] = 0;
    same(big, 0, 0, RT_FD_READ, 0, E_NAMETOOLONG);
    for (int i = 0; i < PATH_MAX; i += 2) { big[i] = '.'; big[i + 1] = '/'; }
    memcpy(big + PATH_MAX - 6, "ro.txt", 6);
    big[PATH_MAX] = 0;
    same(big, 0, 0, RT_FD_READ, 0, E_NAMETOOLONG);
    memmove(big, big + 2, PATH_MAX - 1);                            /* PATH_MAX - 2 bytes */
    same(big, 0, 0, RT_FD_READ, 0, E_OK);
    free(big);
    /* an embedded NUL, a path outside guest memory, a bad result pointer */
    memcpy(h_mem.data + 1024, "ro.txt\0x", 8);
    CHECK_EQ(W(path_open)(c, VDIR, 0, 1024, 8, 0, RT_FD_READ, 0, 0, 256), E_INVAL);
    CHECK_EQ(W(path_open)(c, 4, 0, 1024, 8, 0, RT_FD_READ, 0, 0, 256), E_INVAL);
    CHECK_EQ(W(path_open)(c, VDIR, 0, GMEM - 3, 6, 0, RT_FD_READ, 0, 0, 256), E_FAULT);
    CHECK_EQ(W(path_open)(c, VDIR, 0, 0xfffffff0u, 0x20, 0, RT_FD_READ, 0, 0, 256), E_FAULT);
    CHECK_EQ(W(path_open)(c, VDIR, 0, 1024, 6, 0, RT_FD_READ, 0, 0, GMEM - 2), E_FAULT);
    /* a file fd is not a directory; a closed fd is nothing */
    uint32_t fd;
    CHECK_EQ(h_open(c, VDIR, "ro.txt", 0, 0, RT_FD_READ, 0, &fd), E_OK);
    CHECK_EQ(h_open(c, fd, "ro.txt", 0, 0, RT_FD_READ, 0, NULL), E_NOTDIR);
    CHECK_EQ(W(fd_close)(c, fd), E_OK);
    CHECK_EQ(h_open(c, fd, "ro.txt", 0, 0, RT_FD_READ, 0, NULL), E_BADF);
}

static void reading(void) {
    char buf[128];
    uint32_t fd;
    CHECK_EQ(h_open(c, VDIR, "tokenizer.gguf", 1, 0, RT_ALL & ~RT_FD_WRITE, 4, &fd), E_OK);
    /* its rights: reading only, whatever was asked; the flags it was given */
    CHECK_EQ(W(fd_fdstat_get)(c, fd, 100), E_OK);
    CHECK_EQ(h_mem.data[100], 4);
    CHECK_EQ(g32(100 + 2) & 0xffff, 4);
    CHECK_EQ(g64(108), VREAD);
    CHECK_EQ(g64(116), 0);
    /* two iovecs, then the rest, then EOF */
    s32(512, 4096); s32(516, 4); s32(520, 4200); s32(524, 6);
    CHECK_EQ(W(fd_read)(c, fd, 512, 2, 256), E_OK);
    CHECK_EQ(g32(256), 10);
    CHECK(!memcmp(h_mem.data + 4096, "toke", 4) && !memcmp(h_mem.data + 4200, "nizer ", 6));
    CHECK_EQ(seek(fd, 0, 1), 10);
    CHECK_EQ(W(fd_tell)(c, fd, 300), E_OK);
    CHECK_EQ(g64(300), 10);
    CHECK_EQ(rd(fd, buf, 100), 16);
    CHECK(!strcmp(buf, "bytes 0123456789"));
    CHECK_EQ(rd(fd, buf, 100), 0);
    CHECK_EQ(rd(fd, buf, 0), 0);
    /* seeks: every whence, past the end, negative, overflowing, bad whence */
    CHECK_EQ(seek(fd, 6, 0), 6);
    CHECK_EQ(rd(fd, buf, 3), 3);
    CHECK(!strcmp(buf, "zer"));
    CHECK_EQ(seek(fd, -2, 1), 7);
    CHECK_EQ(rd(fd, buf, 2), 2);
    CHECK(!strcmp(buf, "er"));
    CHECK_EQ(seek(fd, -3, 2), 23);
    CHECK_EQ(rd(fd, buf, 10), 3);
    CHECK(!strcmp(buf, "789"));
    CHECK_EQ(seek(fd, 1000, 2), 1026);
    CHECK_EQ(rd(fd, buf, 10), 0);
    CHECK_EQ(W(fd_tell)(c, fd, 300), E_OK);
    CHECK_EQ(g64(300), 1026);
    CHECK_EQ(seek(fd, INT64_MAX, 0), INT64_MAX);
    CHECK_EQ(rd(fd, buf, 10), 0);
    CHECK_EQ(seek(fd, 1, 1), -E_INVAL);
    CHECK_EQ(seek(fd, 5, 0), 5);
    CHECK_EQ(seek(fd, -1, 0), -E_INVAL);
    CHECK_EQ(seek(fd, -6, 1), -E_INVAL);
    CHECK_EQ(seek(fd, -27, 2), -E_INVAL);
    CHECK_EQ(seek(fd, INT64_MAX - 26, 2), INT64_MAX);
    CHECK_EQ(seek(fd, INT64_MAX - 25, 2), -E_INVAL);
    CHECK_EQ(seek(fd, 0, 3), -E_INVAL);
    CHECK_EQ(seek(fd, 5, 0), 5);
    CHECK_EQ(W(fd_seek)(c, fd, 0, 0, GMEM - 4), E_FAULT);
    CHECK_EQ(W(fd_tell)(c, fd, GMEM - 4), E_FAULT);
    /* a failed call moves nothing */
    CHECK_EQ(seek(fd, 0, 1), 5);
    /* the same seeks and reads on the real ro/ro.txt: the same answers */
    uint32_t rfd, vfd;
    CHECK_EQ(h_open(c, 4, "ro.txt", 0, 0, RT_FD_READ | RT_FD_SEEK, 0, &rfd), E_OK);
    CHECK_EQ(h_open(c, VDIR, "ro.txt", 0, 0, RT_FD_READ | RT_FD_SEEK, 0, &vfd), E_OK);
    for (int64_t o = -12; o <= 12; o += 3)
        for (uint32_t w = 0; w < 3; w++) {
            CHECK_EQ(seek(rfd, 4, 0), seek(vfd, 4, 0));
            CHECK_EQ(seek(rfd, o, w), seek(vfd, o, w));
            char a[16], b[16];
            CHECK_EQ(rd(rfd, a, 3), rd(vfd, b, 3));
            CHECK(!strcmp(a, b));
            CHECK_EQ(prd(rfd, a, 5, (uint64_t)(o + 12)), prd(vfd, b, 5, (uint64_t)(o + 12)));
            CHECK(!strcmp(a, b));
        }
    CHECK_EQ(W(fd_close)(c, rfd), E_OK);
    CHECK_EQ(W(fd_close)(c, vfd), E_OK);
    /* pread: at any offset, position unchanged, past the end 0 */
    seek(fd, 5, 0);
    CHECK_EQ(prd(fd, buf, 5, 0), 5);
    CHECK(!strcmp(buf, "token"));
    CHECK_EQ(prd(fd, buf, 100, 16), 10);
    CHECK(!strcmp(buf, "0123456789"));
    CHECK_EQ(prd(fd, buf, 100, 26), 0);
    CHECK_EQ(prd(fd, buf, 100, 1ull << 40), 0);
    CHECK_EQ(prd(fd, buf, 100, (uint64_t)INT64_MAX + 1), -E_INVAL);
    CHECK_EQ(seek(fd, 0, 1), 5);
    /* bad iovecs or result pointer: FAULT and nothing consumed */
    s32(512, GMEM - 2); s32(516, 4);
    CHECK_EQ(W(fd_read)(c, fd, 512, 1, 256), E_FAULT);
    s32(512, 4096); s32(516, 4); s32(520, GMEM); s32(524, 1);
    CHECK_EQ(W(fd_read)(c, fd, 512, 2, 256), E_FAULT);
    CHECK_EQ(W(fd_read)(c, fd, GMEM - 4, 1, 256), E_FAULT);
    CHECK_EQ(W(fd_read)(c, fd, 512, 0x20000000u, 256), E_FAULT);
    s32(512, 4096); s32(516, 4);
    CHECK_EQ(W(fd_read)(c, fd, 512, 1, GMEM - 3), E_FAULT);
    CHECK_EQ(W(fd_pread)(c, fd, 512, 1, 0, GMEM - 3), E_FAULT);
    CHECK_EQ(seek(fd, 0, 1), 5);
    CHECK_EQ(rd(fd, buf, 4), 4);
    CHECK(!strcmp(buf, "izer"));
    /* advise: accepted, with the same argument checks */
    CHECK_EQ(W(fd_advise)(c, fd, 0, 26, 1), E_OK);
    CHECK_EQ(W(fd_advise)(c, fd, 0, 0, 5), E_OK);
    CHECK_EQ(W(fd_advise)(c, fd, 0, 0, 6), E_INVAL);
    CHECK_EQ(W(fd_advise)(c, fd, (uint64_t)INT64_MAX + 1, 0, 0), E_INVAL);
    /* renumbered onto another fd it reads on from where it was */
    uint32_t other;
    CHECK_EQ(h_open(c, VDIR, "empty", 0, 0, RT_FD_READ, 0, &other), E_OK);
    CHECK_EQ(rd(other, buf, 10), 0);
    CHECK_EQ(W(fd_renumber)(c, fd, other), E_OK);
    CHECK_EQ(rd(fd, buf, 4), -E_BADF);
    CHECK_EQ(rd(other, buf, 4), 4);
    CHECK(!strcmp(buf, " byt"));
    /* dropping rights works, getting them back does not */
    CHECK_EQ(W(fd_fdstat_set_rights)(c, other, RT_FD_READ, 0), E_OK);
    CHECK_EQ(seek(other, 0, 0), -E_NOTCAPABLE);
    CHECK_EQ(W(fd_fdstat_set_rights)(c, other, RT_FD_READ | RT_FD_SEEK, 0), E_NOTCAPABLE);
    CHECK_EQ(W(fd_close)(c, other), E_OK);
    CHECK_EQ(W(fd_close)(c, other), E_BADF);
    CHECK_EQ(rd(other, buf, 4), -E_BADF);
}

static void filestats(void) {
    uint32_t fd, fd2;
    CHECK_EQ(h_open(c, VDIR, "tokenizer.gguf", 0, 0, RT_ALL & ~RT_FD_WRITE, 0, &fd), E_OK);
    memset(h_mem.data + 600, 0xee, 64);
    CHECK_EQ(W(fd_filestat_get)(c, fd, 600), E_OK);
    CHECK_EQ(g64(600), 0);                   /* dev */
    uint64_t ino = g64(608);
    CHECK(ino != 0);
    CHECK_EQ(h_mem.data[616], 4);            /* regular file */
    CHECK_EQ(g64(624), 1);                   /* nlink */
    CHECK_EQ(g64(632), strlen(tok));
    CHECK_EQ(g64(640) | g64(648) | g64(656), 0);
    /* the same identity through another fd and through the path */
    CHECK_EQ(h_open(c, VDIR, "./tokenizer.gguf", 1, 0, RT_FD_READ | (1ull << 21), 0, &fd2), E_OK);
    CHECK_EQ(W(fd_filestat_get)(c, fd2, 700), E_OK);
    CHECK(!memcmp(h_mem.data + 600, h_mem.data + 700, 64));
    for (uint32_t follow = 0; follow < 2; follow++) {
        memset(h_mem.data + 700, 0, 64);
        gstr(1024, "tokenizer.gguf");
        CHECK_EQ(W(path_filestat_get)(c, VDIR, follow, 1024, 14, 700), E_OK);
        CHECK(!memcmp(h_mem.data + 600, h_mem.data + 700, 64));
    }
    /* other files and the directory differ */
    gstr(1024, "empty");
    CHECK_EQ(W(path_filestat_get)(c, VDIR, 0, 1024, 5, 700), E_OK);
    CHECK(g64(708) != ino);
    CHECK_EQ(g64(732), 0);
    gstr(1024, "mapped.bin");
    CHECK_EQ(W(path_filestat_get)(c, VDIR, 0, 1024, 10, 700), E_OK);
    CHECK_EQ(g64(732), MAPPED);
    CHECK_EQ(W(fd_filestat_get)(c, VDIR, 700), E_OK);
    CHECK_EQ(h_mem.data[716], 3);
    uint64_t dino = g64(708);
    CHECK(dino != ino);
    gstr(1024, ".");
    CHECK_EQ(W(path_filestat_get)(c, VDIR, 0, 1024, 1, 800), E_OK);
    CHECK(!memcmp(h_mem.data + 700, h_mem.data + 800, 64));
    /* errors as for paths, and bad pointers */
    const char *bad[] = {"missing", "../x", "/x", "tokenizer.gguf/", ""};
    const uint32_t want[] = {E_NOENT, E_NOTCAPABLE, E_NOTCAPABLE, E_NOTDIR, E_NOENT};
    for (int i = 0; i < 5; i++) {
        gstr(1024, bad[i]);
        CHECK_EQ(W(path_filestat_get)(c, VDIR, 0, 1024, GLEN(bad[i]), 700), want[i]);
    }
    CHECK_EQ(W(path_filestat_get)(c, VDIR, 0, 1024, 1, GMEM - 63), E_FAULT);
    CHECK_EQ(W(path_filestat_get)(c, VDIR, 0, GMEM - 1, 2, 700), E_FAULT);
    CHECK_EQ(W(fd_filestat_get)(c, fd, GMEM - 63), E_FAULT);
    CHECK_EQ(W(path_filestat_get)(c, fd, 0, 1024, 1, 700), E_NOTDIR);
    /* readlink: nothing here is a symlink */
    gstr(1024, "tokenizer.gguf");
    CHECK_EQ(W(path_readlink)(c, VDIR, 1024, 14, 3000, 64, 256), E_INVAL);
    gstr(1024, "ro.txt");
    uint32_t rr = W(path_readlink)(c, 4, 1024, 6, 3000, 64, 256);
    CHECK_EQ(W(path_readlink)(c, VDIR, 1024, 6, 3000, 64, 256), rr);
    gstr(1024, "nope");
    CHECK_EQ(W(path_readlink)(c, VDIR, 1024, 4, 3000, 64, 256), E_NOENT);
    CHECK_EQ(W(path_readlink)(c, VDIR, 1024, 4, 3000, 64, GMEM), E_FAULT);
    /* poll: a virtual file is always ready, with what is left to read */
    seek(fd, 20, 0);
    memset(h_mem.data + 2048, 0, 96);
    s64(2048, 0x77);
    h_mem.data[2048 + 8] = 1;   /* fd_read */
    s32(2048 + 16, fd);
    s64(2048 + 48, 0x78);
    h_mem.data[2048 + 56] = 2;  /* fd_write: not allowed */
    s32(2048 + 64, fd);
    CHECK_EQ(W(poll_oneoff)(c, 2048, 8192, 2, 256), E_OK);
    CHECK_EQ(g32(256), 2);
    for (int i = 0; i < 2; i++) {
        uint32_t ev = 8192 + 32 * (uint32_t)i;
        if (g64(ev) == 0x77) {
            CHECK_EQ(g32(ev + 8) & 0xffff, 0);
            CHECK_EQ(g64(ev + 16), 6);
        } else {
            CHECK_EQ(g64(ev), 0x78);
            CHECK_EQ(g32(ev + 8) & 0xffff, E_NOTCAPABLE);
        }
    }
    /* sockets: not one */
    CHECK_EQ(W(sock_shutdown)(c, fd, 0), E_NOTSOCK);
    CHECK_EQ(W(sock_shutdown)(c, VDIR, 0), E_NOTSOCK);
    W(fd_close)(c, fd);
    W(fd_close)(c, fd2);
}

/* Parses a readdir buffer into "name/type/ino-low " items. */
static void entries(uint32_t at, uint32_t used, char *out, uint64_t *last_next) {
    out[0] = 0;
    for (uint32_t p = at; p + 24 <= at + used;) {
        uint32_t nl = g32(p + 16);
        if (p + 24 + nl > at + used) break;
        char item[300];
        snprintf(item, sizeof item, "%.*s/%u/%u ", (int)nl, (char *)h_mem.data + p + 24,
                 h_mem.data[p + 20], (unsigned)(g64(p + 8) & 0xffffffffu));
        strcat(out, item);
        *last_next = g64(p);
        p += 24 + nl;
    }
}

static void listing(void) {
    char list[2048];
    uint64_t next = 0;
    const char *all = "./3/1 ../3/1 ro.txt/4/2 tokenizer.gguf/4/3 empty/4/4 mapped.bin/4/5 ";
    CHECK_EQ(W(fd_readdir)(c, VDIR, 10000, 4096, 0, 256), E_OK);
    CHECK(g32(256) < 4096);
    entries(10000, g32(256), list, &next);
    CHECK(!strcmp(list, all));
    CHECK_EQ(next, 6);
    /* cookies are entry indexes: d_next of entry k is k + 1 */
    for (uint32_t p = 10000, k = 1; p < 10000 + g32(256); k++) {
        CHECK_EQ(g64(p), k);
        p += 24 + g32(p + 16);
    }
    /* a small buffer: partial entries fill it, and reading on resumes */
    char acc[2048] = "";
    uint64_t cookie = 0;
    for (int calls = 0; calls < 50; calls++) {
        memset(h_mem.data + 10000, 0, 64);
        CHECK_EQ(W(fd_readdir)(c, VDIR, 10000, 40, cookie, 256), E_OK);
        uint32_t used = g32(256);
        entries(10000, used, list, &next);
        if (used < 40) { strcat(acc, list); break; }
        CHECK_EQ(used, 40);
        if (list[0]) { strcat(acc, list); cookie = next; }
        else break;   /* one entry larger than the buffer */
    }
    CHECK(!strcmp(acc, all));
    /* any cookie, past the end, and a directory opened through "." */
    CHECK_EQ(W(fd_readdir)(c, VDIR, 10000, 4096, 3, 256), E_OK);
    entries(10000, g32(256), list, &next);
    CHECK(!strcmp(list, "tokenizer.gguf/4/3 empty/4/4 mapped.bin/4/5 "));
    CHECK_EQ(W(fd_readdir)(c, VDIR, 10000, 4096, 6, 256), E_OK);
    CHECK_EQ(g32(256), 0);
    CHECK_EQ(W(fd_readdir)(c, VDIR, 10000, 4096, UINT64_MAX, 256), E_OK);
    CHECK_EQ(g32(256), 0);
    CHECK_EQ(W(fd_readdir)(c, VDIR, 10000, 0, 0, 256), E_OK);
    CHECK_EQ(g32(256), 0);
    uint32_t d;
    CHECK_EQ(h_open(c, VDIR, ".", 0, OF_DIRECTORY, RT_ALL & ~RT_FD_WRITE, 0, &d), E_OK);
    CHECK_EQ(W(fd_fdstat_get)(c, d, 100), E_OK);
    CHECK_EQ(g64(108), R_VDIR);
    CHECK_EQ(g64(116), R_VDIR | R_VFILE);
    CHECK_EQ(W(fd_prestat_get)(c, d, 100), E_BADF);   /* not a preopen */
    CHECK_EQ(W(fd_readdir)(c, d, 10000, 4096, 0, 256), E_OK);
    entries(10000, g32(256), list, &next);
    CHECK(!strcmp(list, all));
    uint32_t f;
    CHECK_EQ(h_open(c, d, "ro.txt", 0, 0, RT_FD_READ, 0, &f), E_OK);
    CHECK_EQ(W(fd_readdir)(c, f, 10000, 4096, 0, 256), E_NOTDIR);
    W(fd_close)(c, f);
    W(fd_close)(c, d);
    CHECK_EQ(W(fd_readdir)(c, VDIR, GMEM - 10, 11, 0, 256), E_FAULT);
    CHECK_EQ(W(fd_readdir)(c, VDIR, 10000, 10, 0, GMEM - 2), E_FAULT);
}

/* Every call that would change something, on the virtual directory and a
 * virtual file, against the same call on the real read-only preopen. */
static void refused(void) {
    char *before = h_snapshot(sb.root);
    uint32_t vf, rf;
    CHECK_EQ(h_open(c, VDIR, "ro.txt", 0, 0, RT_ALL & ~RT_FD_WRITE, 0, &vf), E_OK);
    CHECK_EQ(h_open(c, 4, "ro.txt", 0, 0, RT_ALL & ~RT_FD_WRITE, 0, &rf), E_OK);
    uint32_t fds[2] = {vf, rf}, dirs[2] = {VDIR, 4};
    for (int i = 0; i < 2; i++) {
        uint32_t fd = fds[i], dir = dirs[i];
        CHECK_EQ(h_write(c, fd, "x", NULL), E_NOTCAPABLE);
        s32(512, 4096); s32(516, 1);
        CHECK_EQ(W(fd_pwrite)(c, fd, 512, 1, 0, 256), E_NOTCAPABLE);
        CHECK_EQ(W(fd_allocate)(c, fd, 0, 10), E_NOTCAPABLE);
        CHECK_EQ(W(fd_filestat_set_size)(c, fd, 0), E_NOTCAPABLE);
        CHECK_EQ(W(fd_filestat_set_times)(c, fd, 0, 0, 2), E_NOTCAPABLE);
        CHECK_EQ(W(fd_fdstat_set_rights)(c, fd, RT_FD_READ | RT_FD_WRITE, 0), E_NOTCAPABLE);
        CHECK_EQ(h_write(c, dir, "x", NULL), E_ISDIR);
        uint32_t n = gstr(1024, "ro.txt"), l = 6;
        gstr(1500, "newd");
        gstr(1600, "box.txt");
        CHECK_EQ(W(path_create_directory)(c, dir, 1500, 4), E_NOTCAPABLE);
        CHECK_EQ(W(path_unlink_file)(c, dir, n, l), E_NOTCAPABLE);
        CHECK_EQ(W(path_remove_directory)(c, dir, 1500, 4), E_NOTCAPABLE);
        gstr(1700, ".");
        CHECK_EQ(W(path_remove_directory)(c, dir, 1700, 1), E_NOTCAPABLE);
        CHECK_EQ(W(path_rename)(c, dir, n, l, dir, 1500, 4), E_NOTCAPABLE);
        CHECK_EQ(W(path_rename)(c, dir, n, l, 3, 1500, 4), E_NOTCAPABLE);   /* out, into /box */
        CHECK_EQ(W(path_rename)(c, 3, 1600, 7, dir, 1500, 4), E_NOTCAPABLE); /* in, from /box */
        CHECK_EQ(W(path_rename)(c, 3, 1600, 7, dir, n, l), E_NOTCAPABLE);   /* over a file */
        CHECK_EQ(W(path_link)(c, dir, 0, n, l, 3, 1500, 4), E_NOTCAPABLE);
        CHECK_EQ(W(path_link)(c, dir, 1, n, l, 3, 1500, 4), E_NOTCAPABLE);
        CHECK_EQ(W(path_link)(c, 3, 0, 1600, 7, dir, 1500, 4), E_NOTCAPABLE);
        CHECK_EQ(W(path_symlink)(c, n, l, dir, 1500, 4), E_NOTCAPABLE);
        CHECK_EQ(W(path_filestat_set_times)(c, dir, 1, n, l, 0, 0, 2 | 8), E_NOTCAPABLE);
        CHECK_EQ(W(path_filestat_set_times)(c, dir, 0, 1700, 1, 0, 0, 2), E_NOTCAPABLE);
        CHECK_EQ(W(fd_filestat_set_times)(c, dir, 0, 0, 2), E_NOTCAPABLE);
        CHECK_EQ(h_open(c, dir, "newd", 0, OF_CREAT | OF_DIRECTORY, RT_FD_READ, 0, NULL),
                 E_NOTCAPABLE);
    }
    /* what a virtual fd lacks where a read-only host fd has it: sync and
     * flags (nothing to sync; no host fd to set flags on) */
    CHECK_EQ(W(fd_sync)(c, vf), E_NOTCAPABLE);
    CHECK_EQ(W(fd_datasync)(c, vf), E_NOTCAPABLE);
    CHECK_EQ(W(fd_sync)(c, VDIR), E_NOTCAPABLE);
    CHECK_EQ(W(fd_fdstat_set_flags)(c, vf, 0), E_NOTCAPABLE);
    CHECK_EQ(W(fd_fdstat_set_flags)(c, VDIR, 0), E_NOTCAPABLE);
    /* reading a directory */
    char buf[16];
    CHECK_EQ(rd(VDIR, buf, 4), -E_ISDIR);
    CHECK_EQ(prd(VDIR, buf, 4, 0), -E_ISDIR);
    CHECK_EQ(seek(VDIR, 0, 0), -E_NOTCAPABLE);
    W(fd_close)(c, vf);
    W(fd_close)(c, rf);
    char *after = h_snapshot(sb.root);
    CHECK(!strcmp(before, after));
    free(before);
    free(after);
    /* the bytes are the caller's, untouched (the mapping is read-only, so
     * a write would have crashed) and read in place */
    uint32_t fd;
    CHECK_EQ(h_open(c, VDIR, "mapped.bin", 0, 0, RT_FD_READ | RT_FD_SEEK, 0, &fd), E_OK);
    s32(512, 20000); s32(516, (uint32_t)MAPPED);
    CHECK_EQ(W(fd_pread)(c, fd, 512, 1, 0, 256), E_OK);
    CHECK_EQ(g32(256), MAPPED);
    CHECK(!memcmp(h_mem.data + 20000, mapped, MAPPED));
    W(fd_close)(c, fd);
    tok[0] = 'T';   /* no copy was taken when it was added */
    CHECK_EQ(h_open(c, VDIR, "tokenizer.gguf", 0, 0, RT_FD_READ, 0, &fd), E_OK);
    CHECK_EQ(rd(fd, buf, 5), 5);
    CHECK(!strcmp(buf, "Token"));
    tok[0] = 't';
    W(fd_close)(c, fd);
}

/* Closing the virtual preopen: gone for the guest, like any fd. */
static void close_preopen(void) {
    CHECK_EQ(W(fd_close)(c, VDIR), E_OK);
    CHECK_EQ(W(fd_prestat_get)(c, VDIR, 100), E_BADF);
    CHECK_EQ(h_open(c, VDIR, "ro.txt", 0, 0, RT_FD_READ, 0, NULL), E_BADF);
}

static void config(void) {
    char err[256];
    wasi_config cfg = {.fd_stdin = 0, .fd_stdout = 1, .fd_stderr = 2};
    wasi_ctx *x = wasi_ctx_new(&cfg, err, sizeof err);
    if (!x) abort();
    wasi_ctx_set_memory(x, &h_mem);
    const char *bad_names[] = {"", ".", "..", "a/b", "/abs", "dir/"};
    for (int i = 0; i < 6; i++) {
        err[0] = 0;
        CHECK_EQ(add(x, "/b", bad_names[i], "x", 1, err), (uint32_t)-1);
        CHECK(strstr(err, "not one path component"));
    }
    char longname[300];
    memset(longname, 'n', 256);
    longname[256] = 0;
    CHECK_EQ(add(x, "/b", longname, "x", 1, err), (uint32_t)-1);
    longname[255] = 0;
    CHECK_EQ(add(x, "/b", longname, "x", 1, err), 0);
    CHECK_EQ(add(x, "/b", "null", NULL, 1, err), (uint32_t)-1);
    CHECK(strstr(err, "invalid"));
    CHECK_EQ(add(x, "/b", "huge", "x", (uint64_t)INT64_MAX + 1, err), (uint32_t)-1);
    CHECK(strstr(err, "too large"));
    CHECK_EQ(add(x, "", "f", "x", 1, err), (uint32_t)-1);
    CHECK_EQ(add(x, NULL, "f", "x", 1, err), (uint32_t)-1);
    CHECK_EQ(add(x, "/b", NULL, "x", 1, err), (uint32_t)-1);
    CHECK_EQ(add(x, "/b", "f", "x", 1, err), 0);
    CHECK_EQ(add(x, "/b", "f", "y", 1, err), (uint32_t)-1);
    CHECK(strstr(err, "twice"));
    /* a second directory is the next preopen */
    CHECK_EQ(add(x, "/c", "f", "y", 1, err), 0);
    CHECK_EQ(W(fd_prestat_get)(x, 3, 100), E_OK);
    CHECK_EQ(W(fd_prestat_get)(x, 4, 100), E_OK);
    CHECK_EQ(W(fd_prestat_dir_name)(x, 4, 200, 2), E_OK);
    CHECK(!memcmp(h_mem.data + 200, "/c", 2));
    CHECK_EQ(W(fd_prestat_get)(x, 5, 100), E_BADF);
    /* once the guest has an fd of its own, no new directory can follow
     * the preopens; files can still join an existing one */
    uint32_t fd;
    CHECK_EQ(h_open(x, 3, "f", 0, 0, RT_FD_READ, 0, &fd), E_OK);
    CHECK_EQ(fd, 5);
    CHECK_EQ(add(x, "/d", "f", "x", 1, err), (uint32_t)-1);
    CHECK(strstr(err, "already"));
    CHECK_EQ(add(x, "/b", "g", "x", 1, err), 0);
    wasi_ctx_free(x);
    /* a name a --dir already uses */
    x = h_ctx(&sb);
    CHECK_EQ(add(x, "/ro", "f", "x", 1, err), (uint32_t)-1);
    CHECK(strstr(err, "already a granted directory"));
    CHECK_EQ(add(x, "/ro2", "f", "x", 1, err), 0);
    wasi_ctx_free(x);
}

/* Offsets past 4 GiB: a 5 GiB read-only mapping of nothing (zero pages). */
static void big(void) {
    uint64_t size = 5ull << 30;
    if (sizeof(size_t) < 8) return;
    uint8_t *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
    if (m == MAP_FAILED) { fprintf(stderr, "big: no 5 GiB mapping here, part skipped\n"); return; }
    char err[256];
    wasi_config cfg = {.fd_stdin = -1, .fd_stdout = -1, .fd_stderr = -1};
    wasi_ctx *x = wasi_ctx_new(&cfg, err, sizeof err);
    if (!x) abort();
    wasi_ctx_set_memory(x, &h_mem);
    CHECK_EQ(add(x, "/m", "model.gguf", m, size, err), 0);
    uint32_t fd;
    CHECK_EQ(h_open(x, 3, "model.gguf", 0, 0, RT_FD_READ | RT_FD_SEEK | (1ull << 21), 0, &fd), E_OK);
    CHECK_EQ(W(fd_filestat_get)(x, fd, 600), E_OK);
    CHECK_EQ(g64(632), size);
    CHECK_EQ(W(fd_seek)(x, fd, (uint64_t)-4, 2, 300), E_OK);
    CHECK_EQ(g64(300), size - 4);
    memset(h_mem.data + 4096, 0xaa, 16);
    s32(512, 4096); s32(516, 16);
    CHECK_EQ(W(fd_read)(x, fd, 512, 1, 256), E_OK);
    CHECK_EQ(g32(256), 4);
    CHECK(!memcmp(h_mem.data + 4096, "\0\0\0\0\xaa", 5));
    CHECK_EQ(W(fd_pread)(x, fd, 512, 1, (4ull << 30) + 7, 256), E_OK);
    CHECK_EQ(g32(256), 16);
    wasi_ctx_free(x);
    munmap(m, (size_t)size);
}

int main(int argc, char **argv) {
    /* "walk": the real preopen compared against resolves by the portable walk */
    if (argc > 1 && !strcmp(argv[1], "walk")) wasi_path_force_walk(1);
    h_mem_reset();
    sb_make(&sb);
    c = h_ctx(&sb);
    setup();
    prestat();
    names();
    reading();
    filestats();
    listing();
    refused();
    close_preopen();
    wasi_ctx_free(c);
    config();
    big();
    sb_remove(&sb);
    munmap(mapped, MAPPED);
    return h_finish("test_wasi_vfile");
}
