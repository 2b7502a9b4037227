/* llm_info.c: `wasmlet-llm -m FILE --info [--all]`.
 * Prints a summary of a GGUF file's metadata (format, architecture, shape,
 * tokenizer, tensor count, parameter count, weight-type histogram); with
 * --all also every metadata key and every tensor. A file the reader
 * refuses, or a known key of the wrong type, is a one-line error, exit 1. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "llm_cli.h"

/* The usage; the flags it lists are the ones llm_cli_info's loop takes. */
#define SYNOPSIS "wasmlet-llm -m FILE --info [--all]"
static const char help_text[] =
    "usage: " SYNOPSIS "\n"
    "Print a summary of a GGUF file's metadata: format, architecture, shape,\n"
    "tokenizer, tensor and parameter counts, weight types.\n"
    "  -m, --model FILE  the GGUF file\n"
    "  --all             also list every metadata key and every tensor\n"
    "  -h, --help        print this help and exit\n";

static void usage_err(const char *msg, const char *arg) {
    fprintf(stderr, "wasmlet-llm: %s%s (usage: " SYNOPSIS "; see --info --help)\n", msg, arg ? arg : "");
}

/* Print bytes from the file safely: printable ASCII as is, the rest escaped. */
static void put_escaped(const char *p, uint64_t n, uint64_t max) {
    for (uint64_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') putchar(c);
        else if (c == '\\' || c == '"') printf("\\%c", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c >= 0x80) putchar(c);   /* UTF-8 passes through */
        else printf("\\x%02x", c);
    }
    if (n > max) fputs("...", stdout);
}

static char *cstr(gguf_str s) {
    char *c = malloc((size_t)s.len + 1);
    if (!c) return NULL;
    memcpy(c, s.ptr, (size_t)s.len);
    c[s.len] = 0;
    return c;
}

/* A known numeric key: missing prints "-", an integer or an array of
 * integers (per-layer values) prints as such, any other type is an error. */
static bool show_int(const gguf_file *f, const char *label, const char *arch, const char *suffix) {
    char key[256];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    const gguf_kv *kv = gguf_find(f, key);
    printf("%-18s", label);
    if (!kv) { printf("-\n"); return true; }
    int64_t v;
    if (kv->type == GGUF_T_ARRAY && kv->arr_len > 0 && gguf_vtype_size(kv->arr_type) &&
        kv->arr_type != GGUF_T_FLOAT32 && kv->arr_type != GGUF_T_FLOAT64 && kv->arr_type != GGUF_T_BOOL) {
        int64_t lo = gguf_arr_int(kv, 0), hi = lo;
        for (uint64_t i = 1; i < kv->arr_len; i++) {
            int64_t x = gguf_arr_int(kv, i);
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        printf("%" PRId64 "..%" PRId64 " (per layer, %" PRIu64 " values)\n", lo, hi, kv->arr_len);
        return true;
    }
    char err[512];
    uint64_t u;
    if (kv->type != GGUF_T_BOOL && gguf_kv_int(kv, &v)) { printf("%" PRId64 "\n", v); return true; }
    if (gguf_get_u64(f, key, &u, err, sizeof err)) { printf("%" PRIu64 "\n", u); return true; }
    printf("\n");
    fflush(stdout);
    fprintf(stderr, "wasmlet-llm: %s\n", err);
    return false;
}

static bool show_str(const gguf_file *f, const char *label, const char *key) {
    const gguf_kv *kv = gguf_find(f, key);
    printf("%-18s", label);
    if (!kv) { printf("-\n"); return true; }
    gguf_str s;
    char err[512];
    if (!gguf_get_str(f, key, &s, err, sizeof err)) {
        printf("\n");
        fflush(stdout);
        fprintf(stderr, "wasmlet-llm: %s\n", err);
        return false;
    }
    put_escaped(s.ptr, s.len, 80);
    printf("\n");
    return true;
}

static void human(uint64_t n, char *buf, size_t cap) {
    if (n >= 1000000000ull) snprintf(buf, cap, "%.2fB", n / 1e9);
    else if (n >= 1000000ull) snprintf(buf, cap, "%.2fM", n / 1e6);
    else if (n >= 1000ull) snprintf(buf, cap, "%.2fK", n / 1e3);
    else snprintf(buf, cap, "%" PRIu64, n);
}

static void show_value(const gguf_file *f, const gguf_kv *kv) {
    int64_t i;
    double d;
    gguf_str s;
    if (kv->type == GGUF_T_BOOL) printf("%s", kv->data[0] ? "true" : "false");
    else if (kv->type == GGUF_T_UINT64) {
        uint64_t u = 0;
        for (int k = 7; k >= 0; k--) u = u << 8 | kv->data[k];
        printf("%" PRIu64, u);
    } else if (gguf_kv_int(kv, &i)) printf("%" PRId64, i);
    else if (gguf_kv_float(kv, &d)) printf("%g", d);
    else if (gguf_kv_str(kv, &s)) { putchar('"'); put_escaped(s.ptr, s.len, 60); putchar('"'); }
    else if (kv->type == GGUF_T_ARRAY) {
        printf("[%" PRIu64 " x %s]", kv->arr_len, gguf_vtype_name(kv->arr_type));
        uint64_t show = kv->arr_len < 4 ? kv->arr_len : 4;
        for (uint64_t k = 0; k < show; k++) {
            fputs(k ? ", " : " ", stdout);
            if (kv->arr_type == GGUF_T_STRING) {
                gguf_str e = gguf_arr_str(f, kv, k);
                putchar('"');
                put_escaped(e.ptr, e.len, 24);
                putchar('"');
            } else if (kv->arr_type == GGUF_T_FLOAT32 || kv->arr_type == GGUF_T_FLOAT64) {
                printf("%g", gguf_arr_float(kv, k));
            } else if (kv->arr_type == GGUF_T_ARRAY) {
                gguf_kv sub;
                if (gguf_arr_sub(f, kv, k, &sub))
                    printf("[%" PRIu64 " x %s]", sub.arr_len, gguf_vtype_name(sub.arr_type));
            } else {
                printf("%" PRId64, gguf_arr_int(kv, k));
            }
        }
        if (kv->arr_len > show) fputs(", ...", stdout);
    }
}

static void list_all(const gguf_file *f) {
    printf("\nmetadata (%" PRIu64 " keys):\n", gguf_kv_count(f));
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        printf("  %-44.*s %-8s ", (int)(kv->key.len < 200 ? kv->key.len : 200), kv->key.ptr,
               gguf_vtype_name(kv->type));
        show_value(f, kv);
        printf("\n");
    }
    printf("\ntensors (%" PRIu64 "):\n", gguf_tensor_count(f));
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        char shape[128];
        int o = 0;
        for (uint32_t d = 0; d < t->n_dims; d++)
            o += snprintf(shape + o, sizeof shape - (size_t)o, "%s%" PRIu64, d ? " x " : "", t->ne[d]);
        printf("  %-36.*s %-5s %-20s offset %-10" PRIu64 " %" PRIu64 " bytes\n", (int)t->name.len, t->name.ptr,
               gguf_tensor_type_info(t->type)->name, shape, t->offset, t->n_bytes);
    }
}

int llm_cli_info(int argc, char **argv) {
    const char *path = NULL;
    bool all = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--info")) continue;
        if (!strcmp(argv[i], "--all")) { all = true; continue; }
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(help_text, stdout);
            return 0;
        }
        if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) {
            if (i + 1 >= argc) { usage_err("-m needs a file", NULL); return 2; }
            path = argv[++i];
            continue;
        }
        usage_err("unknown flag for --info: ", argv[i]);
        return 2;
    }
    if (!path) { usage_err("no model given", NULL); return 2; }

    char err[512];
    gguf_file *f = gguf_open_file(path, err, sizeof err);
    if (!f) {
        fprintf(stderr, "wasmlet-llm: %s: %s\n", path, err);
        return 1;
    }
    int rc = 1;
    char *arch = NULL;
    gguf_str a;
    if (gguf_find(f, "general.architecture") && !gguf_get_str(f, "general.architecture", &a, err, sizeof err)) {
        fprintf(stderr, "wasmlet-llm: %s: %s\n", path, err);
        goto out;
    }
    arch = gguf_find(f, "general.architecture") ? cstr(a) : cstr((gguf_str){"-", 1});
    if (!arch) goto out;

    printf("%-18s%s\n", "file:", path);
    printf("%-18s%" PRIu32 "\n", "gguf version:", gguf_version(f));
    printf("%-18s%" PRIu32 "\n", "alignment:", gguf_alignment(f));
    if (!show_str(f, "architecture:", "general.architecture") || !show_str(f, "name:", "general.name") ||
        !show_int(f, "context length:", arch, "context_length") ||
        !show_int(f, "embedding:", arch, "embedding_length") ||
        !show_int(f, "layers:", arch, "block_count") ||
        !show_int(f, "heads:", arch, "attention.head_count") ||
        !show_int(f, "kv heads:", arch, "attention.head_count_kv") ||
        !show_int(f, "feed forward:", arch, "feed_forward_length") ||
        !show_str(f, "tokenizer:", "tokenizer.ggml.model"))
        goto out;
    const gguf_kv *tok = gguf_find(f, "tokenizer.ggml.tokens");
    if (tok && !gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_T_STRING, &tok, err, sizeof err)) {
        fprintf(stderr, "wasmlet-llm: %s\n", err);
        goto out;
    }
    if (tok) printf("%-18s%" PRIu64 "\n", "vocab size:", tok->arr_len);
    else printf("%-18s-\n", "vocab size:");

    uint64_t params = 0, count[64] = {0}, elems[64] = {0};
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        params += t->n_elems;
        if (t->type < 64) { count[t->type]++; elems[t->type] += t->n_elems; }
    }
    char h[32];
    human(params, h, sizeof h);
    printf("%-18s%" PRIu64 "\n", "tensors:", gguf_tensor_count(f));
    printf("%-18s%s (%" PRIu64 ")\n", "parameters:", h, params);
    printf("%-18s", "weight types:");
    bool any = false;
    for (uint32_t t = 0; t < 64; t++) {
        if (!count[t]) continue;
        human(elems[t], h, sizeof h);
        printf("%s%s x%" PRIu64 " (%s params)", any ? ", " : "", gguf_tensor_type_info(t)->name, count[t], h);
        any = true;
    }
    printf("%s\n", any ? "" : "-");
    printf("%-18s%" PRIu64 "\n", "metadata keys:", gguf_kv_count(f));
    printf("%-18s%zu bytes\n", "file size:", gguf_size(f));
    if (all) list_all(f);
    rc = 0;
out:
    free(arch);
    gguf_close(f);
    return rc;
}
