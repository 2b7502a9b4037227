/* harness.h: native unit tests of the WASI imports, called directly with a
 * guest memory backed by a malloc'd buffer (no runtime, no wasm).
 *
 * Contract: CHECK/CHECK_EQ record failures and keep going; each test file's
 * main runs its cases and returns h_finish(). The guest memory is GMEM
 * bytes; gstr() places a string in it and returns its guest address. A
 * sandbox is a fresh temp dir with box/ (the preopen), ro/ (a read-only
 * preopen) and outside/ (never granted; its snapshot must not change).
 */
#ifndef WASI_TEST_HARNESS_H
#define WASI_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "wasi.h"

#define GMEM 65536u

extern int h_failures;
extern wasm_rt_memory_t h_mem;
extern int h_interrupts;       /* calls to wlrt_check_interrupt */

#define CHECK(cond) do { if (!(cond)) { h_failures++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
    if (_a != _b) { h_failures++; fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
    __FILE__, __LINE__, #a, _a, #b, _b); } } while (0)

/* Guest memory helpers. */
void h_mem_reset(void);
uint32_t gstr(uint32_t at, const char *s);            /* returns at */
#define GLEN(s) ((uint32_t)strlen(s))
uint32_t g32(uint32_t at);
uint64_t g64(uint32_t at);
void s32(uint32_t at, uint32_t v);
void s64(uint32_t at, uint64_t v);

/* A temp tree: root/{box,ro,outside}; paths filled in. */
typedef struct {
    char root[256], box[300], ro[300], outside[300];
} sandbox;
void sb_make(sandbox *sb);
void sb_remove(sandbox *sb);
/* Writes/reads a whole host file (read: NUL-terminated, -1 if missing). */
void h_write_file(const char *path, const char *content);
long h_read_file(const char *path, char *buf, size_t cap);
/* A listing of every entry below dir with type, size, mode and mtime. */
char *h_snapshot(const char *dir);

/* A context with stdio, box as "/box" (fd 3) and ro as "/ro" (fd 4, ro). */
wasi_ctx *h_ctx(const sandbox *sb);

/* wlrt_exit() longjmps here when set; the code lands in h_exit_code. */
#include <setjmp.h>
extern jmp_buf *h_exit_jmp;
extern uint32_t h_exit_code;

/* Guest-visible shorthands. */
#define W(name) Z_wasi_snapshot_preview1Z_##name
uint32_t h_open(wasi_ctx *c, uint32_t dirfd, const char *path, uint32_t lookup,
                uint32_t oflags, uint64_t base, uint32_t fdflags, uint32_t *fd_out);
uint32_t h_write(wasi_ctx *c, uint32_t fd, const char *data, uint32_t *n);
uint32_t h_read(wasi_ctx *c, uint32_t fd, char *out, uint32_t cap, uint32_t *n);

int h_finish(const char *name);

/* Rights, errno and flag values the tests use (from the WASI spec). */
#define RT_FD_READ (1ull << 1)
#define RT_FD_SEEK (1ull << 2)
#define RT_FD_WRITE (1ull << 6)
#define RT_FD_READDIR (1ull << 14)
#define RT_PATH_CREATE_FILE (1ull << 10)
#define RT_ALL ((1ull << 30) - 1)
enum { E_OK = 0, E_2BIG = 1, E_BADF = 8, E_EXIST = 20, E_FAULT = 21, E_INVAL = 28,
       E_ISDIR = 31, E_LOOP = 32, E_NAMETOOLONG = 37, E_NOENT = 44, E_NOSYS = 52,
       E_NOTDIR = 54, E_NOTEMPTY = 55, E_NOTSOCK = 57, E_NOTCAPABLE = 76 };
enum { OF_CREAT = 1, OF_DIRECTORY = 2, OF_EXCL = 4, OF_TRUNC = 8 };

#endif
