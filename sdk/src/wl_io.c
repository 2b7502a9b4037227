/* wl_io.c: line and whole-stream input for guests (see wasmlet/io.h). */
#include "wasmlet/io.h"

#include <stdlib.h>

int wl_read_line(FILE *f, char **buf, size_t *cap) {
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n + 2 > *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            char *b = realloc(*buf, nc);
            if (!b) return -1;
            *buf = b;
            *cap = nc;
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0) return 0;
    if (!*buf && !(*buf = malloc(*cap = 1))) return -1;
    if (n && (*buf)[n - 1] == '\r') n--;
    (*buf)[n] = 0;
    return 1;
}

char *wl_read_all(FILE *f, size_t *len) {
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *b = realloc(buf, cap * 2);
        if (!b) free(buf);
        buf = b;
        cap *= 2;
    }
    if (buf) buf[n] = 0;
    if (len) *len = n;
    return buf;
}
