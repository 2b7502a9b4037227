/* hello: the smallest useful WASI guest. It shows what a guest can see:
 * its arguments, the environment it was granted, and the directory it was
 * granted, where it reads one file and writes another.
 *
 *   wasmlet-run --dir HOST_DIR:/data --env GREETING=hi hello.wasm [NAME [IN [OUT]]]
 *
 * IN defaults to /data/hello-in.txt, OUT to /data/hello-out.txt. Without
 * a (writable) --dir grant the guest says so and still exits 0: not seeing
 * the host's files is the point. Exit 1 only when writing fails otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *name = argc > 1 ? argv[1] : "world";
    const char *in = argc > 2 ? argv[2] : "/data/hello-in.txt";
    const char *out = argc > 3 ? argv[3] : "/data/hello-out.txt";

    printf("hello, %s, from wasm\n", name);
    for (int i = 0; i < argc; i++) printf("  argv[%d] = %s\n", i, argv[i]);
    const char *greeting = getenv("GREETING");
    if (greeting) printf("  GREETING = %s\n", greeting);
    else printf("  GREETING is not set (grant it with --env GREETING=...)\n");

    long n = 0;
    FILE *f = fopen(in, "rb");
    if (!f) {
        printf("  cannot read %s: %s%s\n", in, strerror(errno),
               errno == ENOENT || errno == ENOTCAPABLE ? " (was its folder granted with --dir HOST:/data?)" : "");
    } else {
        char line[256];
        if (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = 0;
            printf("  %s says: %s\n", in, line);
        }
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fclose(f);
    }

    f = fopen(out, "w");
    if (!f) {
        printf("  cannot write %s: %s%s\n", out, strerror(errno),
               errno == ENOENT || errno == ENOTCAPABLE ? " (grant a writable folder with --dir HOST:/data)" : "");
        return errno == ENOTCAPABLE || errno == ENOENT ? 0 : 1;
    }
    fprintf(f, "hello, %s (read %ld bytes from %s)\n", name, n, in);
    if (fclose(f) != 0) {
        printf("  writing %s failed: %s\n", out, strerror(errno));
        return 1;
    }
    printf("  wrote %s\n", out);
    return 0;
}
