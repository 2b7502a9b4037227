/* hugemap_host.c: see hugemap.h. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE   /* MAP_NORESERVE, MADV_HUGEPAGE */
#endif
#include "hugemap.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#define HUGE ((size_t)2 << 20)

#if defined(__linux__) && !defined(MADV_POPULATE_READ)
#define MADV_POPULATE_READ 22   /* Linux 5.14; older headers lack it, older kernels refuse it */
#endif

/* Reserve one huge page more than needed, place the file where the
 * address matches its offset, give back the slack on both sides. */
void *hugemap_file(int fd, uint64_t off, size_t len) {
    if (len == 0 || len > SIZE_MAX - HUGE || off > (uint64_t)INT64_MAX) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    uint8_t *r = mmap(NULL, len + HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return MAP_FAILED;
    const uintptr_t want = (uintptr_t)(off % HUGE);
    uint8_t *a = r + ((want - (uintptr_t)r % HUGE) & (HUGE - 1));
    if (mmap(a, len, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, (off_t)off) == MAP_FAILED) {
        int e = errno;
        munmap(r, len + HUGE);
        errno = e;
        return MAP_FAILED;
    }
    /* The file mapping covers whole pages: the slack starts after them. */
    const long pg = sysconf(_SC_PAGESIZE);
    const size_t mapped = pg > 0 ? (len + (size_t)pg - 1) / (size_t)pg * (size_t)pg : len;
    if (a > r) munmap(r, (size_t)(a - r));
    if (a + mapped < r + len + HUGE) munmap(a + mapped, (size_t)((r + len + HUGE) - (a + mapped)));
#ifdef MADV_HUGEPAGE
    madvise(a, len, MADV_HUGEPAGE);
#endif
    return a;
}

void hugemap_populate(const void *p, size_t len, uint64_t total) {
#ifdef MADV_POPULATE_READ
    const long pg = sysconf(_SC_PAGESIZE), n = sysconf(_SC_PHYS_PAGES);
    if (pg <= 0 || n <= 0 || len == 0 || total > (uint64_t)pg * (uint64_t)n / 2) return;
    const uintptr_t a = (uintptr_t)p & ~((uintptr_t)pg - 1);
    madvise((void *)a, (uintptr_t)p + len - a, MADV_POPULATE_READ);   /* a hint: errors only cost speed */
#else
    (void)p;
    (void)len;
    (void)total;
#endif
}
