/* WASI-NN GGML options: types, spellings, error codes (nn_config.c). */
#include <stdio.h>
#include <string.h>
#include "nn_config.h"

static int failures, checks;
#define CHECK(c) do { checks++; if (!(c)) { failures++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

static int apply(nn_options *o, const char *json, char *err) {
    return nn_config_apply(o, json, strlen(json), err, 200);
}

int main(void) {
    nn_options o;
    char err[200];
    nn_options_default(&o);
    CHECK(o.n_predict == -1 && o.ctx_size == 4096);

    CHECK(apply(&o, "{\"n-predict\": 16, \"ctx-size\": 256, \"temp\": 0, \"top-k\": 1, "
                    "\"reverse-prompt\": \"User:\", \"stream-stdout\": true, \"seed\": 42, "
                    "\"unknown-key\": [1, {\"x\": 2}]}", err) == NN_OK);
    CHECK(o.n_predict == 16 && o.ctx_size == 256 && o.temp == 0 && o.top_k == 1);
    CHECK(strcmp(o.reverse_prompt, "User:") == 0 && o.stream_stdout && o.seed == 42);

    /* LlamaEdge's underscore spellings. */
    CHECK(apply(&o, "{\"n_predict\": 8, \"include_usage\": true, \"json_schema\": \"{}\"}", err) == NN_OK);
    CHECK(o.n_predict == 8 && o.include_usage);

    /* Floats accept integers; integers refuse fractions. */
    CHECK(apply(&o, "{\"repeat-penalty\": 1}", err) == NN_OK && o.repeat_penalty == 1.0);
    CHECK(apply(&o, "{\"n-predict\": 1.5}", err) == NN_INVALID_ARGUMENT);
    CHECK(strstr(err, "\"n-predict\" must be an integer, got number") != NULL);

    /* A wrong type anywhere leaves every option unchanged. */
    CHECK(apply(&o, "{\"n-predict\": 99, \"stream-stdout\": \"yes\"}", err) == NN_INVALID_ARGUMENT);
    CHECK(o.n_predict == 8 && strstr(err, "stream-stdout") && strstr(err, "boolean"));
    CHECK(apply(&o, "{\"ctx-size\": -1}", err) == NN_INVALID_ARGUMENT && o.ctx_size == 256);
    CHECK(apply(&o, "{\"reverse-prompt\": 5}", err) == NN_INVALID_ARGUMENT);
    CHECK(apply(&o, "{\"use-mmap\": 1}", err) == NN_INVALID_ARGUMENT);   /* known, ignored, still typed */
    CHECK(apply(&o, "{\"use-mmap\": false}", err) == NN_OK);

    /* Not JSON, or not an object: invalid encoding. */
    CHECK(apply(&o, "{\"n-predict\": ", err) == NN_INVALID_ENCODING && strstr(err, "offset"));
    CHECK(apply(&o, "[1,2]", err) == NN_INVALID_ENCODING && strstr(err, "expected a JSON object"));
    CHECK(apply(&o, "", err) == NN_INVALID_ENCODING);

    char longstop[400];
    memset(longstop, 'a', sizeof longstop);
    snprintf(longstop, sizeof longstop, "{\"reverse-prompt\": \"%0300d\"}", 0);
    CHECK(apply(&o, longstop, err) == NN_INVALID_ARGUMENT);

    printf("nn_config: %d checks, %d failed\n", checks, failures);
    return failures != 0;
}
