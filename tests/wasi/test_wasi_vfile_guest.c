/* The C guest tests/guests/wasi_vfile.c run in-process on the runtime
 * (wl_rt) with a virtual /bundle whose tokenizer.gguf is a read-only
 * mapping of a file, as wasmlet-run maps bundle members: the guest reads,
 * seeks, stats and lists it through wasi-libc, and every write it tries is
 * refused. Checks its output and exit status, that the writable /box it
 * also has ends empty, and that the mapped file is unchanged.
 * Needs WASMLET_GUESTS; compiled guests are cached in WLRT_TEST_CACHE. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "wasi.h"
#include "wlrt.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; fprintf(stderr, "FAIL %s:%d: %s: ", \
    __FILE__, __LINE__, #c); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static unsigned char pattern(long i) { return (unsigned char)(i * 7 + i / 251); }

int main(void) {
    const char *guests = getenv("WASMLET_GUESTS"), *cache = getenv("WLRT_TEST_CACHE");
    if (!guests || !cache) { fprintf(stderr, "set WASMLET_GUESTS and WLRT_TEST_CACHE\n"); return 2; }
    char wasm[1024], err[1024], dir[] = "/tmp/wasi-vfile-XXXXXX";
    snprintf(wasm, sizeof wasm, "%s/test-wasi_vfile.wasm", guests);
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char box[1100], tokpath[1100];
    snprintf(box, sizeof box, "%s/box", dir);
    snprintf(tokpath, sizeof tokpath, "%s/tokenizer.gguf", dir);

    /* The "bundle member": a file mapped read-only, larger than a page and
     * than stdio's buffer, of odd size. */
    const long size = 300007;
    unsigned char *bytes = malloc((size_t)size);
    for (long i = 0; i < size; i++) bytes[i] = pattern(i);
    int fd = open(tokpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, bytes, (size_t)size) != size || close(fd) || mkdir(box, 0755)) {
        perror(tokpath);
        return 1;
    }
    fd = open(tokpath, O_RDONLY);
    const void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) { perror("mmap"); return 1; }

    wlrt_import_table tables[] = {{wasi_imports, wasi_n_imports}};
    wlrt_options opt = {.cache_dir = cache, .tables = tables, .n_tables = 1};
    wlrt_module *m = wlrt_module_load(wasm, &opt, err, sizeof err);
    if (!m) { fprintf(stderr, "cannot load %s: %s\n", wasm, err); return 1; }

    char sz[32];
    snprintf(sz, sizeof sz, "%ld", size);
    const char *argv[] = {"wasi_vfile", sz};
    wasi_preopen pre[] = {{box, "/box", 0}};
    FILE *out = tmpfile();
    wasi_config cfg = {2, argv, 0, NULL, pre, 1, 0, fileno(out), 2};
    wasi_ctx *ctx = wasi_ctx_new(&cfg, err, sizeof err);
    static const char hello[] = "hello from the bundle\n";
    CHECK(ctx, "wasi_ctx_new: %s", err);
    if (!ctx) return 1;
    CHECK(!wasi_ctx_add_vfile(ctx, "/bundle", "tokenizer.gguf", map, (uint64_t)size, err, sizeof err),
          "%s", err);
    CHECK(!wasi_ctx_add_vfile(ctx, "/bundle", "hello.txt", hello, strlen(hello), err, sizeof err),
          "%s", err);
    CHECK(!wasi_ctx_add_vfile(ctx, "/bundle", "empty", NULL, 0, err, sizeof err), "%s", err);

    wlrt_binding b[] = {{"wasi_snapshot_preview1", ctx}};
    wlrt_instance *inst = wlrt_instance_new(m, b, 1, 0, err, sizeof err);
    CHECK(inst, "instantiate: %s", err);
    wlrt_result r = {.status = WLRT_TRAPPED};
    if (inst) {
        wasi_ctx_set_memory(ctx, wlrt_instance_memory(inst));
        r = wlrt_instance_run(inst, 60000);
        wlrt_instance_free(inst);
    }
    wasi_ctx_free(ctx);
    wlrt_module_free(m);

    char text[8192];
    rewind(out);
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = 0;
    fclose(out);
    fputs(text, stdout);
    CHECK(r.status == WLRT_RETURNED || (r.status == WLRT_EXITED && r.exit_code == 0),
          "guest ended with status %d exit %u trap %d", r.status, r.exit_code, r.trap);
    CHECK(strstr(text, ", 0 failed\n"), "guest reported failures");
    CHECK(strstr(text, "listing: ./ ../ tokenizer.gguf hello.txt empty\n"), "listing");
    /* /box is empty again, and the mapped file is what was written */
    DIR *d = opendir(box);
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));) entries += e->d_name[0] != '.';
    if (d) closedir(d);
    CHECK(entries == 0, "%d entries left in /box", entries);
    CHECK(!memcmp(map, bytes, (size_t)size), "the mapped file changed");
    munmap((void *)map, (size_t)size);
    free(bytes);
    unlink(tokpath);
    rmdir(box);
    rmdir(dir);
    printf("test_wasi_vfile_guest: %s\n", failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
