/* wasi_int.h: what the WASI source files share and nothing else sees.
 *
 * Contract: the WASI constants and guest structure layouts (wasm32, little
 * endian, as wasi_snapshot_preview1 defines them), the context and its fd
 * table, bounds-checked access to guest memory (every helper returns false
 * for a range outside the memory's current size, so callers answer FAULT),
 * host errno -> WASI errno mapping, path resolution beneath a preopen, and
 * the entry points of virtual (memory-backed, read-only) fds, which have
 * no host fd (host -1) and are answered by wasi_vfs.c.
 */
#ifndef WASMLET_WASI_INT_H
#define WASMLET_WASI_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include "wasi.h"

/* ---- errno (subset used by name; the full table lives in wasi_errno.c) -- */
enum {
    W_ESUCCESS = 0, W_E2BIG = 1, W_EACCES = 2, W_EAGAIN = 6, W_EBADF = 8,
    W_EEXIST = 20, W_EFAULT = 21, W_EINTR = 27, W_EINVAL = 28, W_EIO = 29,
    W_EISDIR = 31, W_ELOOP = 32, W_EMFILE = 33, W_ENAMETOOLONG = 37,
    W_ENOENT = 44, W_ENOMEM = 48, W_ENOSYS = 52, W_ENOTDIR = 54,
    W_ENOTEMPTY = 55, W_ENOTSOCK = 57, W_ENOTSUP = 58, W_EOVERFLOW = 61,
    W_EPERM = 63, W_ESPIPE = 70, W_EXDEV = 75, W_ENOTCAPABLE = 76,
};

/* ---- filetype, flags ---------------------------------------------------- */
enum {
    W_FT_UNKNOWN = 0, W_FT_BLOCK = 1, W_FT_CHAR = 2, W_FT_DIR = 3,
    W_FT_REG = 4, W_FT_SOCK_DGRAM = 5, W_FT_SOCK_STREAM = 6, W_FT_SYMLINK = 7,
};
enum { W_FDFL_APPEND = 1, W_FDFL_DSYNC = 2, W_FDFL_NONBLOCK = 4,
       W_FDFL_RSYNC = 8, W_FDFL_SYNC = 16 };
enum { W_O_CREAT = 1, W_O_DIRECTORY = 2, W_O_EXCL = 4, W_O_TRUNC = 8 };
enum { W_LOOKUP_FOLLOW = 1 };
enum { W_FST_ATIM = 1, W_FST_ATIM_NOW = 2, W_FST_MTIM = 4, W_FST_MTIM_NOW = 8 };

/* ---- rights ------------------------------------------------------------- */
#define R_FD_DATASYNC            (1ull << 0)
#define R_FD_READ                (1ull << 1)
#define R_FD_SEEK                (1ull << 2)
#define R_FD_FDSTAT_SET_FLAGS    (1ull << 3)
#define R_FD_SYNC                (1ull << 4)
#define R_FD_TELL                (1ull << 5)
#define R_FD_WRITE               (1ull << 6)
#define R_FD_ADVISE              (1ull << 7)
#define R_FD_ALLOCATE            (1ull << 8)
#define R_PATH_CREATE_DIRECTORY  (1ull << 9)
#define R_PATH_CREATE_FILE       (1ull << 10)
#define R_PATH_LINK_SOURCE       (1ull << 11)
#define R_PATH_LINK_TARGET       (1ull << 12)
#define R_PATH_OPEN              (1ull << 13)
#define R_FD_READDIR             (1ull << 14)
#define R_PATH_READLINK          (1ull << 15)
#define R_PATH_RENAME_SOURCE     (1ull << 16)
#define R_PATH_RENAME_TARGET     (1ull << 17)
#define R_PATH_FILESTAT_GET      (1ull << 18)
#define R_PATH_FILESTAT_SET_SIZE (1ull << 19)
#define R_PATH_FILESTAT_SET_TIMES (1ull << 20)
#define R_FD_FILESTAT_GET        (1ull << 21)
#define R_FD_FILESTAT_SET_SIZE   (1ull << 22)
#define R_FD_FILESTAT_SET_TIMES  (1ull << 23)
#define R_PATH_SYMLINK           (1ull << 24)
#define R_PATH_REMOVE_DIRECTORY  (1ull << 25)
#define R_PATH_UNLINK_FILE       (1ull << 26)
#define R_POLL_FD_READWRITE      (1ull << 27)
#define R_SOCK_SHUTDOWN          (1ull << 28)
#define R_SOCK_ACCEPT            (1ull << 29)
#define R_ALL                    ((1ull << 30) - 1)

/* What an fd of each kind can ever do. */
#define R_FILE (R_FD_DATASYNC | R_FD_READ | R_FD_SEEK | R_FD_FDSTAT_SET_FLAGS | \
                R_FD_SYNC | R_FD_TELL | R_FD_WRITE | R_FD_ADVISE |              \
                R_FD_ALLOCATE | R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_SIZE |    \
                R_FD_FILESTAT_SET_TIMES | R_POLL_FD_READWRITE)
#define R_DIR (R_FD_FDSTAT_SET_FLAGS | R_FD_SYNC | R_FD_DATASYNC |              \
               R_PATH_CREATE_DIRECTORY | R_PATH_CREATE_FILE |                   \
               R_PATH_LINK_SOURCE | R_PATH_LINK_TARGET | R_PATH_OPEN |          \
               R_FD_READDIR | R_PATH_READLINK | R_PATH_RENAME_SOURCE |          \
               R_PATH_RENAME_TARGET | R_PATH_FILESTAT_GET |                     \
               R_PATH_FILESTAT_SET_SIZE | R_PATH_FILESTAT_SET_TIMES |           \
               R_FD_FILESTAT_GET | R_FD_FILESTAT_SET_TIMES | R_PATH_SYMLINK |   \
               R_PATH_REMOVE_DIRECTORY | R_PATH_UNLINK_FILE)
/* Everything that changes the filesystem: absent beneath a read-only
 * preopen. LINK_SOURCE is here too: a hard link of a read-only file into a
 * writable tree would make it writable. */
#define R_MUTATE (R_FD_WRITE | R_FD_ALLOCATE | R_FD_FILESTAT_SET_SIZE |         \
                  R_FD_FILESTAT_SET_TIMES | R_PATH_CREATE_DIRECTORY |           \
                  R_PATH_CREATE_FILE | R_PATH_LINK_SOURCE |                     \
                  R_PATH_LINK_TARGET | R_PATH_RENAME_SOURCE |                   \
                  R_PATH_RENAME_TARGET | R_PATH_FILESTAT_SET_SIZE |             \
                  R_PATH_FILESTAT_SET_TIMES | R_PATH_SYMLINK |                  \
                  R_PATH_REMOVE_DIRECTORY | R_PATH_UNLINK_FILE)

/* ---- the context -------------------------------------------------------- */
typedef struct {
    bool used;
    bool borrowed;           /* a stdio host fd: never closed by us */
    int host;                /* host fd */
    uint8_t type;            /* W_FT_* */
    uint64_t base, inh;      /* rights */
    int preopen;             /* index into ctx->pre_names, or -1 */
    DIR *dir;                /* fd_readdir stream (lazily opened) */
    uint64_t dir_pos;        /* cookie of the entry dir will return next */
    int orig_fl;             /* borrowed fds: status flags to restore */
    /* Virtual (wasi_vfs.c): host is -1 and these say what the fd is. */
    int vdir;                /* 1 + index into ctx->vdirs; 0: a host fd */
    int32_t vfile;           /* index into that directory's files; -1: the directory */
    uint64_t vpos;           /* file position (<= INT64_MAX) */
    uint16_t vflags;         /* fdflags given at open, reported by fd_fdstat_get */
} wasi_fd;

/* A virtual read-only directory and its memory-backed files. */
typedef struct {
    char *name;
    const uint8_t *data;     /* the host's memory, never copied or freed here */
    uint64_t size;
} wasi_vent;
typedef struct {
    int pre;                 /* index into ctx->pre_names */
    wasi_vent *files;
    uint32_t n;
} wasi_vdir;

struct Z_wasi_snapshot_preview1_instance_t {
    wasm_rt_memory_t *mem;
    char **argv; uint32_t argc; uint32_t argv_bytes;
    char **envp; uint32_t envc; uint32_t env_bytes;
    char **pre_names; int n_pre;
    wasi_fd *fds; uint32_t nfds;
    wasi_vdir *vdirs; int n_vdirs;
};

#define WASI_MAX_FDS 4096u

/* fd lookup: *out set and 0 returned when fd is open and holds all of
 * `need`; BADF or NOTCAPABLE otherwise. */
uint32_t wasi_fd_get(wasi_ctx *c, uint32_t fd, uint64_t need, wasi_fd **out);
/* Lowest free guest fd, or -1 (table full). The slot is zeroed, unused. */
int64_t wasi_fd_alloc(wasi_ctx *c);
void wasi_fd_release(wasi_fd *f);

/* ---- guest memory ------------------------------------------------------- */
static inline uint64_t wasi_mem_size(const wasi_ctx *c) {
    if (!c->mem || !c->mem->data) return 0;
    uint64_t n = c->mem->size;
    if (n == 0 && c->mem->pages) n = (uint64_t)c->mem->pages << 16; /* 4 GiB wraps */
    return n;
}
/* Pointer to [ptr, ptr+len) in guest memory, or NULL if any byte is out. */
static inline uint8_t *wasi_mem(const wasi_ctx *c, uint32_t ptr, uint64_t len) {
    if (!c->mem || !c->mem->data) return NULL;
    uint64_t size = wasi_mem_size(c);
    if ((uint64_t)ptr > size || len > size - ptr) return NULL;
    return c->mem->data + ptr;
}
static inline void put_u8(uint8_t *p, uint8_t v) { p[0] = v; }
static inline void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t get_u64(const uint8_t *p) {
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}
/* Writes one little-endian value to guest memory; FAULT if out of range. */
uint32_t wasi_store_u32(wasi_ctx *c, uint32_t ptr, uint32_t v);
uint32_t wasi_store_u64(wasi_ctx *c, uint32_t ptr, uint64_t v);

/* Guest iovec array -> host iovecs (at most `max`, the rest ignored, which
 * is a legal short transfer). FAULT if the array or any buffer is out. */
struct iovec;
uint32_t wasi_iovecs(wasi_ctx *c, uint32_t iovs, uint32_t n, struct iovec *out,
                     int max, int *nout);

/* ---- conversions -------------------------------------------------------- */
uint32_t wasi_errno(int host_errno);
uint8_t wasi_filetype(mode_t mode);
/* Fills a 64-byte WASI filestat. */
void wasi_put_filestat(uint8_t *p, const struct stat *st);

/* fst_flags + times -> utimensat times; EINVAL for contradictory flags. */
uint32_t wasi_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ts[2]);

/* ---- virtual files (wasi_vfs.c) ---------------------------------------- */
/* Rights a virtual directory and its files can ever have: reading, never
 * anything that changes or syncs. */
#define R_VFILE (R_FD_READ | R_FD_SEEK | R_FD_TELL | R_FD_ADVISE | R_FD_FILESTAT_GET | \
                 R_POLL_FD_READWRITE)
#define R_VDIR (R_PATH_OPEN | R_FD_READDIR | R_PATH_FILESTAT_GET | R_FD_FILESTAT_GET | \
                R_PATH_READLINK)
/* The fd_* calls on a virtual fd, called once the fd's rights and every
 * guest pointer have been checked; same results as on a regular file. */
wasi_vent *wasi_v_file(wasi_ctx *c, const wasi_fd *f);
uint32_t wasi_v_read(wasi_ctx *c, wasi_fd *f, const struct iovec *v, int nv, uint64_t off,
                     bool at, uint32_t *nread);
uint32_t wasi_v_seek(wasi_ctx *c, wasi_fd *f, uint64_t off, uint32_t whence, uint64_t *pos);
void wasi_v_filestat(wasi_ctx *c, const wasi_fd *f, uint8_t out[64]);
uint32_t wasi_v_readdir(wasi_ctx *c, wasi_fd *f, uint8_t *out, uint32_t len, uint64_t cookie,
                        uint32_t *used);
/* The path_* calls whose rights a virtual directory has; fd is open and
 * virtual, result pointers already checked. */
uint32_t wasi_v_open(wasi_ctx *c, wasi_fd *d, uint32_t path, uint32_t len, uint32_t oflags,
                     uint64_t base, uint64_t inh, uint32_t fdflags, uint8_t *fd_out);
uint32_t wasi_v_path_filestat(wasi_ctx *c, uint32_t fd, uint32_t path, uint32_t len,
                              uint8_t out[64]);
uint32_t wasi_v_readlink(wasi_ctx *c, uint32_t fd, uint32_t path, uint32_t len);

/* ---- paths -------------------------------------------------------------- */
/* Copies the guest path [ptr, ptr+len) into a NUL-terminated host buffer
 * of size cap: FAULT, ENAMETOOLONG, or EINVAL for an embedded NUL. */
uint32_t wasi_copy_path(wasi_ctx *c, uint32_t ptr, uint32_t len, char *buf, size_t cap);

/* Resolves `path` beneath the directory `root` (a host fd) and returns a
 * new fd for the directory holding its last component plus that
 * component's name (no '/'; may be "." or ".." only when that still lies
 * beneath). With `follow`, a symlink in the last position is resolved too
 * (again beneath root) so `name` is not a symlink when checked. A trailing
 * '/' implies follow and requires a directory. Escapes (absolute paths,
 * ".." above root, symlinks leading out) are NOTCAPABLE; more than 40
 * symlinks is LOOP. On error *parent is -1. */
uint32_t wasi_resolve(int root, const char *path, bool follow, int *parent,
                      char name[256]);
/* Tests only: 1 forces the portable component walk instead of openat2. */
void wasi_path_force_walk(int on);
/* Whether the portable walk is in use (kernel without openat2). */
bool wasi_path_using_walk(void);

#endif
