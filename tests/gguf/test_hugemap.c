/* test_hugemap.c: hugemap_file (sdk/common/hugemap.h) maps exactly the
 * bytes asked for, at an address congruent to the file offset modulo
 * 2 MB, read-only; bad requests fail cleanly. hugemap_populate faults a
 * whole range in (from an unaligned start), and nothing when the total
 * is over half the memory. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hugemap.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); failures++; } } while (0)

/* Inaccessible anonymous regions of this process: the reservation's slack
 * must all be given back (a leak would grow with every model loaded). */
static int reserved_left(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;   /* not Linux */
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char perms[8] = "", path[256] = "";
        unsigned long long ino = 1;
        if (sscanf(line, "%*x-%*x %7s %*x %*s %llu %255s", perms, &ino, path) < 2) continue;
        if (strcmp(perms, "---p") == 0 && ino == 0 && path[0] == 0) n++;
    }
    fclose(f);
    return n;
}

/* Resident and total kB of the mapping that starts at p (-1: unknown). */
static long rss_kb(const void *p, long *size) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[512];
    int ours = 0;
    long rss = -1;
    *size = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char c;
        if (sscanf(line, "%lx-%lx %c", &lo, &hi, &c) == 3) {   /* a mapping's first line */
            ours = lo == (unsigned long)(uintptr_t)p;
            continue;
        }
        if (ours) {
            sscanf(line, "Size: %ld", size);
            sscanf(line, "Rss: %ld", &rss);
        }
    }
    fclose(f);
    return rss;
}

/* A mapping whose last page holds one byte, populated from one byte
 * short of its second page: only a start rounded down to its page and a
 * length that still reaches the last byte fault every page in, whatever
 * the page size. */
static void check_populate(int fd, size_t n) {
#ifdef MADV_POPULATE_READ
    void *probe = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const int can = probe != MAP_FAILED && madvise(probe, 4096, MADV_POPULATE_READ) == 0;
    if (probe != MAP_FAILED) munmap(probe, 4096);
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    long size, rss;
    if (!can || n < 3 * pg) return;   /* before Linux 5.14: a hint that does nothing */
    const size_t len = (n / pg - 1) * pg + 1, skip = pg - 1;
    unsigned char *p = hugemap_file(fd, 0, len);
    CHECK(p != MAP_FAILED, "populate: map: %s", strerror(errno));
    if (p == MAP_FAILED) return;
    if (rss_kb(p, &size) < 0) {   /* no /proc here */
        munmap(p, len);
        return;
    }
    hugemap_populate(p + skip, len - skip, UINT64_MAX);
    rss = rss_kb(p, &size);
    CHECK(rss == 0, "populate: %ld of %ld kB resident after a total over the memory", rss, size);
    hugemap_populate(p + skip, len - skip, len);
    rss = rss_kb(p, &size);
    CHECK(size > 0 && rss == size, "populate: %ld of %ld kB resident", rss, size);
    munmap(p, len);
#else
    (void)fd;
    (void)n;
#endif
}

int main(void) {
    char path[] = "/tmp/wl_hugemap_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { perror("mkstemp"); return 1; }
    unlink(path);
    const size_t n = (5u << 20) + 12345;
    unsigned char *want = malloc(n);
    if (!want) return 1;
    for (size_t i = 0; i < n; i++) want[i] = (unsigned char)(i * 131 + (i >> 12));
    if (write(fd, want, n) != (ssize_t)n) { perror("write"); return 1; }

    const long pg = sysconf(_SC_PAGESIZE);
    const int reserved_before = reserved_left();
    const uint64_t offs[] = {0, (uint64_t)pg, (uint64_t)(2u << 20), (uint64_t)(2u << 20) + 3 * (uint64_t)pg};
    for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
        const uint64_t off = offs[k];
        const size_t len = n - (size_t)off;
        unsigned char *p = hugemap_file(fd, off, len);
        CHECK(p != MAP_FAILED, "offset %llu: %s", (unsigned long long)off, strerror(errno));
        if (p == MAP_FAILED) continue;
        CHECK((uintptr_t)p % (2u << 20) == off % (2u << 20), "offset %llu mapped at %p", (unsigned long long)off, (void *)p);
        CHECK(memcmp(p, want + off, len) == 0, "offset %llu: contents differ", (unsigned long long)off);
        /* Read-only: the protection of the whole range says so. */
        CHECK(mprotect(p, len, PROT_READ) == 0, "offset %llu: range not fully mapped", (unsigned long long)off);
        CHECK(munmap(p, len) == 0, "offset %llu: munmap", (unsigned long long)off);
        CHECK(reserved_left() == reserved_before, "offset %llu: %d reservation region(s) left after munmap",
              (unsigned long long)off, reserved_left() - reserved_before);
    }
    check_populate(fd, n);
    /* Nothing mapped for these. */
    errno = 0;
    CHECK(hugemap_file(fd, 0, 0) == MAP_FAILED && errno == EINVAL, "empty range accepted");
    CHECK(hugemap_file(-1, 0, 4096) == MAP_FAILED, "bad descriptor accepted");
    CHECK(hugemap_file(fd, 1, 4096) == MAP_FAILED, "unaligned offset accepted");
    CHECK(hugemap_file(fd, 0, SIZE_MAX - 100) == MAP_FAILED, "huge length accepted");
    close(fd);
    free(want);
    if (failures) { fprintf(stderr, "hugemap: %d check(s) failed\n", failures); return 1; }
    fprintf(stderr, "hugemap: ok\n");
    return 0;
}
