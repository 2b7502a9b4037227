/* wasmlet/tokens.h: the model's tokenizer inside the guest.
 *
 * Contract: a wl_vocab is loaded from a GGUF file the guest can read (a
 * bundle's tokenizer file, a vocabulary-only GGUF, or the model itself:
 * only the metadata at the front of the file is read, so a model larger
 * than the guest's memory works too). It runs the same tokenizer code as the host's
 * engine (sdk/common/tokenizer.h), so counts match what the host sees. It
 * also carries the model's chat template text when the file has one.
 */
#ifndef WASMLET_TOKENS_H
#define WASMLET_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmlet/wasmlet.h"   /* errors: wl_last_error() */

typedef struct wl_vocab wl_vocab;

/* Reads a GGUF file's metadata (at most its first 1 GiB) and builds the
 * tokenizer. */
int wl_vocab_open(wl_vocab **out, const char *path);
/* The same from a GGUF image in memory (copied what is needed; buf may be
 * freed afterwards). `name` labels error messages. */
int wl_vocab_from_buffer(wl_vocab **out, const void *buf, size_t len, const char *name);
/* NULL is fine. */
void wl_vocab_free(wl_vocab *v);

/* tokenizer.chat_template, or NULL. */
const char *wl_vocab_chat_template(const wl_vocab *v);
/* Number of tokens in the vocabulary. */
uint32_t wl_vocab_size(const wl_vocab *v);

/* Token ids of text. add_special: BOS/EOS as the model's metadata says;
 * parse_special: control-token texts (e.g. "<|im_start|>") become their
 * tokens. The host tokenizes prompts with both. *ids is malloc'd. */
int wl_vocab_encode(const wl_vocab *v, const char *text, size_t len, bool add_special,
                    bool parse_special, int32_t **ids, size_t *n);
/* Tokens of a prompt as the host counts them (both flags on). */
int wl_vocab_count(const wl_vocab *v, const char *text, size_t len, size_t *n);
/* The bytes of one token (control tokens give their text); NULL when id
 * is out of range. Not NUL-terminated; may be part of a UTF-8 sequence. */
const char *wl_vocab_piece(const wl_vocab *v, int32_t id, size_t *len);

#endif
