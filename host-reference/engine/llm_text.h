/* llm_text.h: the text side of generation for the engine's tools: prompt
 * to token ids (with BOS) and streaming of generated tokens as whole UTF-8
 * characters. A thin adapter over the shared tokenizer (sdk/common), so
 * the command line does not depend on its details. */
#ifndef WASMLET_LLM_TEXT_H
#define WASMLET_LLM_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "gguf.h"

typedef struct llm_text llm_text;

llm_text *llm_text_new(const gguf_file *f, char *err, size_t errlen);
void llm_text_free(llm_text *t);
/* BOS (when the model has one) followed by the prompt's tokens; returns the
 * count, or -1 with err set (also when more than cap tokens). */
int llm_text_tokenize(llm_text *t, const char *prompt, int32_t *out, int cap,
                      char *err, size_t errlen);
/* Write the token's text once it completes whole UTF-8 characters. */
void llm_text_emit(llm_text *t, int32_t token, FILE *out);
/* Write whatever is still pending (an incomplete character at the end). */
void llm_text_flush(llm_text *t, FILE *out);

#endif
