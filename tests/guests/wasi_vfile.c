/* WASI guest test: read-only virtual files (wasi_ctx_add_vfile) as a
 * wasi-libc program sees them. Run in-process by tests/wasi/
 * test_wasi_vfile_guest.c with a virtual preopen /bundle holding
 * tokenizer.gguf (argv[1] bytes, byte i = pattern(i)), hello.txt and
 * empty, and a writable /box (empty). Reads through stdio and POSIX calls,
 * seeks, stat, the listing, and every write-like call refused. Prints one
 * line per failed check, the listing and a summary; exits 1 on a failure. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int checks, fails;

#define EXPECT(cond, what) do { checks++; if (!(cond)) { fails++; \
    printf("FAIL line %d: %s (errno %d: %s)\n", __LINE__, what, errno, strerror(errno)); } } while (0)
#define DENIED(call, want, what) do { errno = 0; int r_ = (call); checks++; \
    if (r_ != -1 || errno != (want)) { fails++; \
    printf("FAIL line %d: %s: got %d errno %d (%s), want errno %d (%s)\n", __LINE__, what, \
           r_, errno, strerror(errno), want, strerror(want)); } } while (0)

static const char TOK[] = "/bundle/tokenizer.gguf";

static unsigned char pattern(long i) { return (unsigned char)(i * 7 + i / 251); }

static int matches(const unsigned char *p, long at, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (p[k] != pattern(at + (long)k)) return 0;
    return 1;
}

static void stdio_reads(long size) {
    FILE *f = fopen(TOK, "rb");
    EXPECT(f != NULL, "fopen tokenizer");
    if (!f) return;
    unsigned char buf[4000];
    long total = 0;
    int good = 1;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        good &= matches(buf, total, n);
        total += (long)n;
    }
    EXPECT(total == size && good && feof(f) && !ferror(f), "fread the whole tokenizer");
    EXPECT(fseek(f, -10, SEEK_END) == 0 && ftell(f) == size - 10, "fseek from the end");
    EXPECT(fread(buf, 1, 100, f) == 10 && matches(buf, size - 10, 10), "read the last 10 bytes");
    EXPECT(fseek(f, 12345, SEEK_SET) == 0 && fgetc(f) == pattern(12345), "fseek + fgetc");
    EXPECT(fseek(f, 100, SEEK_CUR) == 0 && ftell(f) == 12446, "fseek from here");
    EXPECT(fseek(f, size + 100, SEEK_SET) == 0 && fgetc(f) == EOF, "seek past the end: EOF");
    errno = 0;
    EXPECT(fseek(f, -1, SEEK_SET) == -1 && errno == EINVAL, "negative seek refused");
    struct stat st, st2;
    EXPECT(fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size, "fstat");
    EXPECT(stat(TOK, &st2) == 0 && st2.st_ino == st.st_ino && st2.st_size == size &&
           st2.st_ino != 0, "stat: same file, same size");
    fclose(f);
    EXPECT(stat("/bundle", &st) == 0 && S_ISDIR(st.st_mode) && st.st_ino != st2.st_ino, "stat dir");
    EXPECT(stat("/bundle/hello.txt", &st) == 0 && st.st_ino != st2.st_ino && st.st_size == 22,
           "another file, another inode");
}

static void posix_reads(long size) {
    unsigned char buf[64];
    int fd = open(TOK, O_RDONLY);
    EXPECT(fd >= 0, "open tokenizer");
    if (fd < 0) return;
    EXPECT(pread(fd, buf, 16, 50000) == 16 && matches(buf, 50000, 16), "pread");
    EXPECT(lseek(fd, 0, SEEK_CUR) == 0, "pread leaves the position");
    EXPECT(lseek(fd, 0, SEEK_END) == size, "lseek to the end");
    EXPECT(read(fd, buf, sizeof buf) == 0, "read at the end");
    EXPECT(lseek(fd, 7, SEEK_SET) == 7 && read(fd, buf, 5) == 5 && matches(buf, 7, 5), "lseek + read");
    EXPECT(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0, "fadvise");
    DENIED((int)write(fd, "x", 1), EBADF, "write to a virtual file");
    EXPECT(ftruncate(fd, 0) == -1, "ftruncate a virtual file");
    struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    EXPECT(futimens(fd, ts) == -1, "futimens a virtual file");
    close(fd);
    /* the small files */
    FILE *f = fopen("/bundle/hello.txt", "r");
    char line[64] = "";
    EXPECT(f && fgets(line, sizeof line, f) && !strcmp(line, "hello from the bundle\n"), "hello.txt");
    if (f) fclose(f);
    f = fopen("/bundle/empty", "r");
    EXPECT(f && fgetc(f) == EOF && feof(f), "empty file");
    if (f) fclose(f);
}

static void listing(void) {
    DIR *d = opendir("/bundle");
    EXPECT(d != NULL, "opendir /bundle");
    if (!d) return;
    printf("listing:");
    struct dirent *e;
    while ((e = readdir(d))) printf(" %s%s", e->d_name, e->d_type == DT_DIR ? "/" : "");
    printf("\n");
    closedir(d);
}

static int open_w(const char *p) { return open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644); }

static void refused(void) {
    DENIED(open_w(TOK), ENOTCAPABLE, "truncate a virtual file");
    DENIED(open_w("/bundle/new.txt"), ENOTCAPABLE, "create in the virtual dir");
    DENIED(open("/bundle/new.txt", O_RDONLY | O_CREAT | O_EXCL, 0644), ENOTCAPABLE, "O_EXCL create");
    DENIED(mkdir("/bundle/x", 0755), ENOTCAPABLE, "mkdir in the virtual dir");
    DENIED(unlink(TOK), ENOTCAPABLE, "unlink a virtual file");
    DENIED(rmdir("/bundle"), ENOTCAPABLE, "rmdir the virtual dir");
    DENIED(rename(TOK, "/box/stolen"), ENOTCAPABLE, "rename out of the virtual dir");
    DENIED(rename("/bundle/hello.txt", "/bundle/h2"), ENOTCAPABLE, "rename inside");
    DENIED(link(TOK, "/box/stolen"), ENOTCAPABLE, "hard link out of the virtual dir");
    DENIED(symlink("hello.txt", "/bundle/s"), ENOTCAPABLE, "symlink in the virtual dir");
    int fd = open_w("/box/mine");
    EXPECT(fd >= 0, "create /box/mine");
    if (fd >= 0) close(fd);
    DENIED(rename("/box/mine", "/bundle/mine"), ENOTCAPABLE, "rename into the virtual dir");
    DENIED(rename("/box/mine", TOK), ENOTCAPABLE, "rename over a virtual file");
    DENIED(link("/box/mine", "/bundle/mine"), ENOTCAPABLE, "hard link into the virtual dir");
    EXPECT(unlink("/box/mine") == 0, "remove /box/mine");
    /* names */
    DENIED(open("/bundle/../box/x", O_RDONLY), ENOTCAPABLE, ".. out of the virtual dir");
    DENIED(open("/bundle/missing", O_RDONLY), ENOENT, "missing file");
    DENIED(open("/bundle/hello.txt/", O_RDONLY), ENOTDIR, "a file with a trailing slash");
    DENIED(open("/bundle/hello.txt/x", O_RDONLY), ENOTDIR, "a file as a directory");
    DENIED(open("/bundle/a/../hello.txt", O_RDONLY), ENOENT, "through a missing directory");
    DENIED(open("/bundle/hello.txt", O_RDONLY | O_DIRECTORY), ENOTDIR, "O_DIRECTORY on a file");
    fd = open("/bundle/./hello.txt", O_RDONLY);
    EXPECT(fd >= 0, "open ./hello.txt");
    if (fd >= 0) close(fd);
    /* write-only: wasi-libc narrows the rights, the open may succeed, no write can */
    fd = open("/bundle/hello.txt", O_WRONLY);
    if (fd >= 0) {
        DENIED((int)write(fd, "x", 1), EBADF, "write through O_WRONLY");
        close(fd);
    } else {
        EXPECT(errno == ENOTCAPABLE, "O_WRONLY refused");
    }
}

int main(int argc, char **argv) {
    long size = argc > 1 ? atol(argv[1]) : -1;
    stdio_reads(size);
    posix_reads(size);
    listing();
    refused();
    printf("vfile: %d checks, %d failed\n", checks, fails);
    return fails ? 1 : 0;
}
