/* rt_hostcall: calls host functions of a test-only import module
 * (wasmlet_test), so tests can make host code fault or block while a guest
 * is running. wasmlet-run itself must refuse this guest (unknown import). */
#include <stdio.h>
#include <string.h>

__attribute__((import_module("wasmlet_test"), import_name("crash"))) void host_crash(void);
__attribute__((import_module("wasmlet_test"), import_name("block"))) void host_block(void);
__attribute__((import_module("wasmlet_test"), import_name("depth"))) int host_depth(int);

static int (*volatile depth_ptr)(int);
static int deep(int n) { return n == 0 ? host_depth(0) : depth_ptr(n - 1) + 1; }

int main(int argc, char **argv) {
    const char *m = argc > 1 ? argv[1] : "";
    depth_ptr = deep;
    if (!strcmp(m, "ok")) { puts("ok"); return 0; }
    if (!strcmp(m, "crash")) host_crash();
    if (!strcmp(m, "block")) host_block();
    if (!strcmp(m, "deep")) printf("%d\n", deep(1 << 30));
    puts("done");
    return 0;
}
