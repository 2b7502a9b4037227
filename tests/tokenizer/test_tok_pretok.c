/* The pre-tokenizer variants against splits computed by a real regex
 * engine from llama.cpp's expressions (gen_pretok_cases.py writes
 * pretok_cases.txt): every variant, every input, the same word boundaries. */
#include "tok_internal.h"
#include "tok_test_util.h"

static int hexval(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: test_tok_pretok pretok_cases.txt\n"); return 2; }
    size_t len;
    char *data = read_file(argv[1], &len);
    if (!data) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    int cases = 0;
    tok_u32vec lens = {0}, tmp = {0};
    for (char *line = data; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *f2 = strchr(line, '\t'), *f3 = f2 ? strchr(f2 + 1, '\t') : NULL;
        if (!f2 || !f3) { fprintf(stderr, "bad line: %s\n", line); return 1; }
        *f2++ = 0;
        *f3++ = 0;
        const tok_pre_info *pi = tok_pre_find(line, strlen(line));
        CHECK(pi != NULL, "unknown variant %s", line);
        size_t nb = strlen(f2) / 2;
        uint8_t *bytes = malloc(nb + 1);
        uint32_t *cps = malloc((nb + 1) * sizeof *cps);
        for (size_t i = 0; i < nb; i++) bytes[i] = (uint8_t)(hexval(f2[2 * i]) * 16 + hexval(f2[2 * i + 1]));
        size_t n = tok_utf8_to_cps(bytes, nb, cps);
        if (pi) {
            CHECK(tok_pretok_split(pi->pre, cps, n, &lens, &tmp), "out of memory");
            char got[4096] = "";
            for (size_t i = 0, g = 0; i < lens.n && g + 12 < sizeof got; i++)
                g += (size_t)snprintf(got + g, sizeof got - g, i ? ",%u" : "%u", lens.v[i]);
            CHECK(strcmp(got, f3) == 0, "%s on '%.*s': got %s, want %s", line, (int)nb, (char *)bytes, got, f3);
        }
        free(bytes);
        free(cps);
        cases++;
        line = nl ? nl + 1 : NULL;
    }
    free(lens.v);
    free(tmp.v);
    free(data);
    printf("%d cases, %d failures\n", cases, g_failures);
    return g_failures || cases == 0 ? 1 : 0;
}
