/* bench-tokenizer: tokenization throughput on a few MB of generated mixed
 * text (prose, code, numbers, Cyrillic, Greek, CJK, Arabic, Devanagari,
 * emoji) for each vocabulary. The text is tokenized paragraph by paragraph
 * (the way prompts and chat turns arrive), no BOS, specials not parsed.
 * Prints MB/s (wall clock and CPU time) as the median of several runs,
 * plus load time and bytes per token. Usage: bench_tokenizer [MB] [runs] [vocab] */
#define _POSIX_C_SOURCE 199309L
#include <time.h>

#include "tok_test_util.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU time too: on a shared machine wall time mostly measures the others. */
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

static uint32_t rng = 2463534242u;
static uint32_t next(void) {
    rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
    return rng;
}
#define PICK(a) (a)[next() % (sizeof(a) / sizeof((a)[0]))]

static void put(char *buf, size_t *n, size_t cap, const char *s) {
    size_t l = strlen(s);
    if (*n + l < cap) { memcpy(buf + *n, s, l); *n += l; }
}

static char *make_text(size_t target, size_t *len) {
    static const char *words[] = {"the", "a", "little", "girl", "named", "Lily", "wanted", "to", "play",
        "outside", "in", "park", "because", "sun", "was", "shining", "and", "birds", "were", "singing",
        "However,", "tokenization", "isn't", "always", "straightforward;", "consider", "what's",
        "happening", "we'll", "they've", "Mr.", "Smith", "(probably)", "\"quoted\"", "e-mail", "naïve",
        "café", "Zürich", "façade", "coöperate"};
    static const char *code[] = {
        "def add(a, b):\n    return a + b\n", "for (int i = 0; i < n; i++) {\n\tsum += x[i] * w[i];\n}\n",
        "if (ptr == NULL) return -EINVAL;  // bad input\n", "const std::vector<int> v{1, 2, 3};\n",
        "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;\n", "    x = {'k': [1, 2.5, None]}\n",
        "$ ls -la /usr/share | grep -i unicode >> out.txt\n"};
    static const char *other[] = {"Привет, как дела? Это тестовый текст. ", "Γειά σου κόσμε, τι κάνεις; ",
        "今天天气很好，我们去公园散步吧。", "東京は日本の首都です。ひらがなとカタカナ。", "안녕하세요, 만나서 반갑습니다. ",
        "مرحبا بالعالم، كيف حالك؟ ", "नमस्ते दुनिया, आप कैसे हैं? ", "😀 🚀🌍 ❤️ 👨‍👩‍👧 🎉🎉 ", "Ça coûte 12,50 € — d'accord? "};
    size_t cap = target + 4096, n = 0;
    char *buf = malloc(cap);
    char tmp[64];
    while (n + 2048 < target) {
        int kind = (int)(next() % 10);
        size_t para = 200 + next() % 1200, start = n;
        while (n - start < para) {
            if (kind < 5) {
                put(buf, &n, cap, PICK(words));
                put(buf, &n, cap, next() % 12 ? " " : ". ");
            } else if (kind < 7) {
                put(buf, &n, cap, PICK(code));
            } else if (kind < 8) {
                snprintf(tmp, sizeof tmp, "%u.%02u %u, ", next() % 100000, next() % 100, next());
                put(buf, &n, cap, tmp);
            } else {
                put(buf, &n, cap, PICK(other));
            }
        }
        put(buf, &n, cap, "\n\n");
    }
    *len = n;
    return buf;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    double mb = argc > 1 ? atof(argv[1]) : 4.0;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1 || runs > 50) runs = 5;
    size_t len;
    char *text = make_text((size_t)(mb * 1e6), &len);
    /* Paragraph boundaries. */
    size_t np = 0, *starts = malloc(sizeof(size_t) * (len / 100 + 2)), *lens = malloc(sizeof(size_t) * (len / 100 + 2));
    for (size_t p = 0; p < len;) {
        const char *e = strstr(text + p, "\n\n");
        size_t q = e ? (size_t)(e - text) + 2 : len;
        starts[np] = p;
        lens[np++] = q - p;
        p = q;
    }
    printf("bench-tokenizer: %.2f MB of mixed text in %zu paragraphs, median of %d runs\n\n", (double)len / 1e6, np,
           runs);
    printf("%-10s %-6s %-12s %9s %10s %11s %10s %10s\n", "vocab", "model", "pre", "load ms", "tokens", "bytes/tok",
           "MB/s", "MB/s cpu");
    const char *names[] = {"llama-spm", "llama-bpe", "gpt-2", "phi-3"};
    int found = 0;
    for (int k = 0; k < 4; k++) {
        if (argc > 3 && strcmp(argv[3], names[k]) != 0) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-%s.gguf", shared_dir(), names[k]);
        FILE *probe = fopen(path, "rb");
        if (!probe) continue;
        fclose(probe);
        found++;
        double t0 = now();
        gguf_file *g;
        tokenizer *t = load_tok(path, &g);
        double load = now() - t0;
        if (!t) return 1;
        double times[50], cpus[50];
        size_t ntok = 0;
        tok_ids ids = {0};
        char err[256];
        for (int r = 0; r < runs; r++) {
            ntok = 0;
            double s = now(), c = cpu();
            for (size_t i = 0; i < np; i++) {
                ids.n = 0;
                if (!tok_encode(t, text + starts[i], lens[i], 0, &ids, err, sizeof err)) {
                    fprintf(stderr, "%s\n", err);
                    return 1;
                }
                ntok += ids.n;
            }
            times[r] = now() - s;
            cpus[r] = cpu() - c;
        }
        qsort(times, (size_t)runs, sizeof times[0], cmp_d);
        qsort(cpus, (size_t)runs, sizeof cpus[0], cmp_d);
        double med = times[runs / 2], medc = cpus[runs / 2];
        printf("%-10s %-6s %-12s %9.1f %10zu %11.2f %10.2f %10.2f\n", names[k],
               tok_get_model(t) == TOK_MODEL_SPM ? "spm" : "bpe", tok_pre_name(t), load * 1e3, ntok,
               (double)len / (double)ntok, (double)len / 1e6 / med, (double)len / 1e6 / medc);
        tok_ids_free(&ids);
        tok_free(t);
        gguf_close(g);
    }
    if (!found) printf("(no vocabularies under %s/tokenizer)\n", shared_dir());
    free(starts);
    free(lens);
    free(text);
    return 0;
}
