/* wasmlet/io.h: reading a guest's input (stdin or a granted file).
 *
 * The small helpers every interactive guest needs, so apps do not each
 * carry a copy: whole lines of any length, or a whole stream. */
#ifndef WASMLET_IO_H
#define WASMLET_IO_H

#include <stddef.h>
#include <stdio.h>

/* Reads one line of any length into *buf (grown as needed; *cap is its
 * size), without the newline and without a trailing '\r'. Returns 1 for a
 * line, 0 at end of input, -1 when memory runs out. Free *buf when done. */
int wl_read_line(FILE *f, char **buf, size_t *cap);

/* Reads f to its end into a malloc'd, NUL-terminated buffer; *len (may be
 * NULL) gets the byte count. NULL when memory runs out. */
char *wl_read_all(FILE *f, size_t *len);

#endif
