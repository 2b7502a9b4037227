/* nn_internal.h: what the WASI-NN files share (see nn.h for the contract). */
#ifndef WASMLET_NN_INTERNAL_H
#define WASMLET_NN_INTERNAL_H

#include "nn.h"
#include "llm.h"
#include "tokenizer.h"
#include "gguf.h"

#define NN_MAX_ALIAS 128

/* A registered model: opened lazily, shared by every graph using it. */
typedef struct nn_model {
    struct nn_model *next;
    char alias[NN_MAX_ALIAS];
    char *path;              /* host file, or NULL for a buffer */
    const void *data;        /* buffer models */
    size_t len;
    llm_source src;          /* the file a buffer is mapped from, if has_src */
    bool has_src;
    gguf_file *buf_gguf;     /* parsed buffer (the model borrows it) */
    llm_model *model;        /* NULL until first use */
    tokenizer *tok;
    int users;
} nn_model;

/* NN_OK with *out acquired, or NN_MODEL_NOT_FOUND / NN_INVALID_ARGUMENT. */
int nn_registry_acquire(nn_registry *r, const char *alias, size_t n, nn_model **out,
                        char *err, size_t errlen);
void nn_registry_release(nn_registry *r, nn_model *m);

#endif
