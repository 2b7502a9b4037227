/* tokenizer.h: the models' tokenizers, built from GGUF tokenizer metadata.
 *
 * Contract: tok_load_gguf() reads tokenizer.ggml.* (model "llama" =
 * SentencePiece-style BPE over scores; "gpt2" = byte-level BPE over ranked
 * merges with the pre-tokenizer named by tokenizer.ggml.pre) and refuses
 * malformed metadata with a one-line message naming the key and index.
 * tok_encode() gives the same ids as llama.cpp's tokenizer for the same
 * flags; tok_piece()/tok_decode() turn ids back into bytes and the streaming
 * decoder only ever emits whole, valid UTF-8 characters. docs/tokenizer.md
 * describes the algorithms and every deliberate choice.
 *
 * A tokenizer is immutable after loading: it copies what it needs out of the
 * GGUF (the file may be closed afterwards) and encode/decode only read it.
 * Portable C11, no OS calls: the same source builds for wasm32-wasi.
 */
#ifndef WASMLET_TOKENIZER_H
#define WASMLET_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"

typedef struct tokenizer tokenizer;

typedef enum { TOK_MODEL_SPM = 1, TOK_MODEL_BPE = 2 } tok_model;

/* tokenizer.ggml.token_type values. */
typedef enum {
    TOK_TYPE_NORMAL = 1, TOK_TYPE_UNKNOWN = 2, TOK_TYPE_CONTROL = 3,
    TOK_TYPE_USER_DEFINED = 4, TOK_TYPE_UNUSED = 5, TOK_TYPE_BYTE = 6,
} tok_type;

/* ---- Loading ------------------------------------------------------------ */

/* From a parsed GGUF (vocabulary-only files work). NULL + err on failure. */
tokenizer *tok_load_gguf(const gguf_file *f, char *err, size_t errlen);

/* From parts: what the GGUF loader does, usable for other containers and
 * for tests. Fields left at TOK_UNSET take the model's defaults. */
#define TOK_UNSET INT64_MIN
typedef struct {
    const char *model; size_t model_len;  /* "llama" or "gpt2" */
    const char *pre;   size_t pre_len;    /* NULL: none (= "default") */
    const char *name;  size_t name_len;   /* general.name; NULL: none (see docs) */
    uint32_t n_tokens;
    int64_t bos, eos, unk, pad;           /* -1 or 0xFFFFFFFF: none */
    int add_bos, add_eos, add_space_prefix; /* 0/1, or -1 for default */
} tok_spec;
void tok_spec_init(tok_spec *s);          /* everything unset */

typedef struct tok_builder tok_builder;
tok_builder *tok_builder_new(const tok_spec *spec, char *err, size_t errlen);
/* Every id in [0, n_tokens) must be given exactly once. */
bool tok_builder_token(tok_builder *b, uint32_t id, const char *text, size_t len,
                       float score, int32_t type, char *err, size_t errlen);
/* BPE merges in rank order: "left right" (split at the first space after
 * the first byte). */
bool tok_builder_merge(tok_builder *b, const char *text, size_t len, char *err, size_t errlen);
/* Consumes the builder (also on failure). */
tokenizer *tok_builder_finish(tok_builder *b, char *err, size_t errlen);
void tok_builder_free(tok_builder *b);

void tok_free(tokenizer *t);

/* ---- Properties --------------------------------------------------------- */
tok_model tok_get_model(const tokenizer *t);
const char *tok_pre_name(const tokenizer *t);  /* canonical variant name */
uint32_t tok_n_vocab(const tokenizer *t);
int32_t tok_bos(const tokenizer *t);           /* -1 when the model has none */
int32_t tok_eos(const tokenizer *t);
int32_t tok_unk(const tokenizer *t);
int32_t tok_pad(const tokenizer *t);
bool tok_adds_bos(const tokenizer *t);         /* metadata add_bos_token */
bool tok_adds_eos(const tokenizer *t);
int tok_token_type(const tokenizer *t, int32_t id);  /* 0 if out of range */
float tok_score(const tokenizer *t, int32_t id);
/* The vocabulary text of a token (SPM: with U+2581; BPE: byte-mapped). */
const char *tok_text(const tokenizer *t, int32_t id, size_t *len);
/* Id of an exact vocabulary text, or -1. */
int32_t tok_find(const tokenizer *t, const char *text, size_t len);

/* ---- Encoding ----------------------------------------------------------- */
enum {
    TOK_ADD_SPECIAL   = 1,  /* add BOS/EOS as the metadata flags say */
    TOK_BOS           = 2,  /* add BOS regardless of the metadata */
    TOK_EOS           = 4,  /* add EOS regardless of the metadata */
    TOK_PARSE_SPECIAL = 8,  /* control-token texts in the input become tokens */
};

typedef struct { int32_t *ids; size_t n, cap; } tok_ids;
void tok_ids_free(tok_ids *v);

/* Appends the ids of text[0..len) to out. Any bytes are accepted (invalid
 * UTF-8 is handled as documented). Fails only when memory runs out or a
 * requested BOS/EOS does not exist (message in err); out is then as it was. */
bool tok_encode(const tokenizer *t, const char *text, size_t len, unsigned flags,
                tok_ids *out, char *err, size_t errlen);

/* ---- Decoding ----------------------------------------------------------- */

/* The bytes a token stands for: SPM U+2581 -> ' ', <0xNN> -> that byte;
 * BPE byte-level characters -> bytes. Control and unknown tokens give ""
 * unless `special`; user-defined tokens give their text. NULL when id is
 * out of range. The bytes need not be valid UTF-8 on their own. */
const char *tok_piece(const tokenizer *t, int32_t id, bool special, size_t *len);

/* Concatenated pieces of ids; drops the leading space SPM's dummy prefix
 * added (when the model adds one and the first piece starts with ' ').
 * Returns a malloc'd, NUL-terminated buffer (NULL on out of memory). */
char *tok_decode(const tokenizer *t, const int32_t *ids, size_t n, bool special, size_t *len);

/* Streaming UTF-8: feed any bytes, get only whole valid characters back.
 * A partial sequence at the end of a push waits for the next push; a byte
 * sequence that cannot become valid is replaced by U+FFFD per maximal
 * invalid subpart (Unicode's recommended practice). flush() emits U+FFFD for
 * an unfinished sequence. `out` must hold TOK_STREAM_OUT_MAX(n) bytes. */
typedef struct { uint8_t pend[4]; uint8_t n; } tok_utf8_stream;
#define TOK_STREAM_OUT_MAX(n) (3 * ((size_t)(n) + 4))
void tok_stream_init(tok_utf8_stream *s);
size_t tok_stream_push(tok_utf8_stream *s, const void *in, size_t n, char *out);
size_t tok_stream_flush(tok_utf8_stream *s, char *out);

#endif
