/* WASI guest test: files and directories through wasi-libc, a read-only
 * preopen, and every escape attempt, as a real program sees them.
 * Run by tests/wasi/run_guests.sh with
 *   --dir BOX:/box --dir RO:/ro:ro --env GREETING=hi wasm  test-wasi_fs.wasm one "two words"
 * where BOX holds lnk_out -> ../outside, abs_out -> /abs/outside,
 * loop1 <-> loop2, and RO holds ro.txt ("read only"). Prints one line per
 * failed check and a summary; exits 1 if anything failed. */
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
/* A call that must fail with exactly this errno. */
#define DENIED(call, want, what) do { errno = 0; int r_ = (call); checks++; \
    if (r_ != -1 || errno != (want)) { fails++; \
    printf("FAIL line %d: %s: got %d errno %d (%s), want errno %d (%s)\n", __LINE__, what, \
           r_, errno, strerror(errno), want, strerror(want)); } } while (0)

static int open_r(const char *p) { return open(p, O_RDONLY); }
static int open_w(const char *p) { return open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644); }

static long slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = 0;
    fclose(f);
    return (long)n;
}

static void args_env(int argc, char **argv) {
    EXPECT(argc == 3, "argc is 3");
    EXPECT(argc > 2 && !strcmp(argv[1], "one") && !strcmp(argv[2], "two words"), "argv as given");
    const char *g = getenv("GREETING");
    EXPECT(g && !strcmp(g, "hi wasm"), "GREETING granted by --env");
    EXPECT(getenv("PATH") == NULL && getenv("HOME") == NULL, "host environment not visible");
}

static void inside_box(void) {
    char buf[256];
    EXPECT(mkdir("/box/d", 0755) == 0, "mkdir /box/d");
    DENIED(mkdir("/box/d", 0755), EEXIST, "mkdir twice");
    FILE *f = fopen("/box/d/f.txt", "w");
    EXPECT(f != NULL, "create /box/d/f.txt");
    if (f) { fputs("data 123", f); fclose(f); }
    EXPECT(slurp("/box/d/f.txt", buf, sizeof buf) == 8 && !strcmp(buf, "data 123"), "read back");
    struct stat st;
    EXPECT(stat("/box/d/f.txt", &st) == 0 && st.st_size == 8 && S_ISREG(st.st_mode), "stat");
    EXPECT(rename("/box/d/f.txt", "/box/d/g.txt") == 0, "rename inside");
    EXPECT(link("/box/d/g.txt", "/box/d/h.txt") == 0, "hard link inside");
    EXPECT(symlink("g.txt", "/box/d/s") == 0, "symlink inside");
    ssize_t n = readlink("/box/d/s", buf, sizeof buf);
    EXPECT(n == 5 && !memcmp(buf, "g.txt", 5), "readlink");
    EXPECT(slurp("/box/d/s", buf, sizeof buf) == 8, "read through an inside symlink");
    int seen = 0;
    DIR *d = opendir("/box/d");
    EXPECT(d != NULL, "opendir");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            seen += !strcmp(e->d_name, "g.txt") + !strcmp(e->d_name, "h.txt") + !strcmp(e->d_name, "s");
        closedir(d);
    }
    EXPECT(seen == 3, "readdir lists g.txt, h.txt, s");
    DENIED(rmdir("/box/d"), ENOTEMPTY, "rmdir non-empty");
    EXPECT(unlink("/box/d/s") == 0 && unlink("/box/d/h.txt") == 0 && unlink("/box/d/g.txt") == 0,
           "unlink");
    EXPECT(rmdir("/box/d") == 0, "rmdir");
    DENIED(open_r("/box/missing"), ENOENT, "open missing");
    /* a file for the host to check */
    f = fopen("/box/out.txt", "w");
    EXPECT(f != NULL, "create /box/out.txt");
    if (f) { fputs("written by guest\n", f); fclose(f); }
    f = fopen("/box/out.txt", "a");
    if (f) { fputs("appended\n", f); fclose(f); }
    /* seek, truncate */
    int fd = open("/box/out.txt", O_RDWR);
    EXPECT(fd >= 0 && lseek(fd, 8, SEEK_SET) == 8, "lseek");
    EXPECT(fd >= 0 && read(fd, buf, 2) == 2 && !memcmp(buf, "by", 2), "read after seek");
    EXPECT(fd >= 0 && pread(fd, buf, 7, 0) == 7 && !memcmp(buf, "written", 7), "pread");
    if (fd >= 0) close(fd);
}

static void read_only(void) {
    char buf[64];
    EXPECT(slurp("/ro/ro.txt", buf, sizeof buf) == 9 && !strcmp(buf, "read only"), "read /ro/ro.txt");
    DENIED(open_w("/ro/ro.txt"), ENOTCAPABLE, "truncate a read-only file");
    DENIED(open_w("/ro/new.txt"), ENOTCAPABLE, "create in read-only dir");
    DENIED(mkdir("/ro/x", 0755), ENOTCAPABLE, "mkdir in read-only dir");
    DENIED(unlink("/ro/ro.txt"), ENOTCAPABLE, "unlink in read-only dir");
    DENIED(rename("/ro/ro.txt", "/box/stolen"), ENOTCAPABLE, "rename out of read-only dir");
    DENIED(link("/ro/ro.txt", "/box/stolen"), ENOTCAPABLE, "hard link out of read-only dir");
    DENIED(symlink("ro.txt", "/ro/s"), ENOTCAPABLE, "symlink in read-only dir");
    /* O_WRONLY without create/truncate: wasi-libc narrows the rights to what
     * the directory grants, so the open may succeed, but no write can (the
     * host says NOTCAPABLE; wasi-libc's write() reports that as EBADF, the
     * POSIX answer for an fd not open for writing). */
    int fd = open("/ro/ro.txt", O_WRONLY);
    if (fd >= 0) {
        DENIED((int)write(fd, "x", 1), EBADF, "write to a read-only file");
        close(fd);
    } else {
        EXPECT(errno == ENOTCAPABLE, "O_WRONLY on read-only refused");
    }
}

static void escapes(void) {
    DENIED(open_r("/box/../outside/secret.txt"), ENOTCAPABLE, "open .. out of the box");
    DENIED(open_r("/box/lnk_out/secret.txt"), ENOTCAPABLE, "open through relative symlink out");
    DENIED(open_r("/box/abs_out/secret.txt"), ENOTCAPABLE, "open through absolute symlink out");
    DENIED(open_r("/box/lnk_out"), ENOTCAPABLE, "open a symlink that points out");
    DENIED(open_r("/box/loop1"), ELOOP, "symlink loop");
    DENIED(open_w("/box/lnk_out/new.txt"), ENOTCAPABLE, "create through symlink out");
    DENIED(open_w("/box/../outside/new.txt"), ENOTCAPABLE, "create via .. out");
    DENIED(mkdir("/box/lnk_out/newdir", 0755), ENOTCAPABLE, "mkdir through symlink out");
    DENIED(rename("/box/out.txt", "/box/../outside/stolen"), ENOTCAPABLE, "rename out via ..");
    DENIED(rename("/box/out.txt", "/box/lnk_out/stolen"), ENOTCAPABLE, "rename out via symlink");
    DENIED(rename("/box/lnk_out/secret.txt", "/box/stolen"), ENOTCAPABLE, "rename in from outside");
    DENIED(link("/box/out.txt", "/box/lnk_out/hl"), ENOTCAPABLE, "hard link out");
    DENIED(unlink("/box/lnk_out/secret.txt"), ENOTCAPABLE, "unlink outside");
    DENIED(symlink("/etc/passwd", "/box/evil"), ENOTCAPABLE, "create an absolute symlink");
    DENIED(symlink("../outside/secret.txt", "/box/evil"), ENOTCAPABLE, "create a symlink leading out");
    struct stat st;
    DENIED(stat("/box/lnk_out/secret.txt", &st), ENOTCAPABLE, "stat outside");
    EXPECT(lstat("/box/lnk_out", &st) == 0 && S_ISLNK(st.st_mode), "lstat the link itself");
    /* Not under any preopen at all: wasi-libc refuses before asking. */
    errno = 0;
    EXPECT(open_r("/etc/passwd") == -1 && errno != 0, "absolute path outside every preopen");
    EXPECT(open_r("../outside/secret.txt") == -1, "relative path from no cwd");
}

int main(int argc, char **argv) {
    args_env(argc, argv);
    inside_box();
    read_only();
    escapes();
    printf("wasi_fs: %d checks, %d failed\n", checks, fails);
    return fails ? 1 : 0;
}
