/* wasmlet/wasmlet.h: layer 2 of the guest SDK, the API apps use.
 *
 * Contract: a wl_model is one model alias opened through wasi_ephemeral_nn
 * (one graph + one execution context). Options are serialized to the JSON
 * keys WasmEdge's GGML plugin reads (dashed names). Generation comes either
 * whole (wl_generate) or streamed (wl_generate_stream), and both give the
 * same text: the streaming callback only ever sees whole, valid UTF-8
 * characters (invalid bytes from the model become U+FFFD), and generation
 * ends at the earliest stop string, which is NOT part of the text. Every
 * call returns WL_OK (0) or an error code, and wl_last_error() then holds a
 * one-line message saying what failed and where.
 *
 * Chat sessions and templates are in wasmlet/chat.h; token counting in
 * wasmlet/tokens.h. Guests are single-threaded: the SDK keeps its last
 * error in one static buffer.
 */
#ifndef WASMLET_WASMLET_H
#define WASMLET_WASMLET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmlet/wasi_nn.h"

/* ---- Errors -------------------------------------------------------------
 * Positive codes are the host's wasi-nn errors (wl_nn_error, WasmEdge
 * numbering) passed through unchanged; negative codes are the SDK's own. */
enum {
    WL_OK = 0,
    WL_E_ARG = -1,      /* a bad argument to an SDK call */
    WL_E_NOMEM = -2,    /* out of guest memory */
    WL_E_FORMAT = -3,   /* the host returned output the SDK cannot read */
    WL_E_IO = -4,       /* a file could not be read */
    WL_E_NOTFOUND = -5, /* a named thing (template, key) does not exist */
};

/* The message of the last failed call (never NULL; "" before any failure). */
const char *wl_last_error(void);
/* A short name for a code: host codes via wl_nn_strerror, SDK codes here. */
const char *wl_strerror(int code);

/* ---- Options ------------------------------------------------------------ */
#define WL_MAX_STOP 8        /* stop strings per options */
#define WL_STOP_LEN 64       /* bytes per stop string, with the NUL */

/* Every field starts "unset" (wl_options_init) and only set fields are sent
 * to the host, which uses its defaults for the rest. */
typedef struct {
    int32_t ctx_size;        /* -1 unset; tokens of context */
    int32_t batch_size;      /* -1 unset */
    int32_t threads;         /* -1 unset */
    int32_t max_tokens;      /* -1 unset (no limit); sent as n-predict */
    double temp;             /* NAN unset; 0 = greedy */
    int32_t top_k;           /* -1 unset */
    double top_p, min_p;     /* NAN unset */
    double repeat_penalty;   /* NAN unset */
    double presence_penalty, frequency_penalty; /* NAN unset */
    int64_t seed;            /* -1 unset */
    int enable_log;          /* -1 unset, 0, 1 */
    int ignore_eos;          /* -1 unset, 0, 1 */
    bool embedding;          /* open the model for wl_embed */
    size_t n_stop;
    char stop[WL_MAX_STOP][WL_STOP_LEN];
} wl_options;

/* Sets every field to "unset" (the host's default is used). */
void wl_options_init(wl_options *o);
/* Adds a stop string (non-empty, < WL_STOP_LEN bytes, at most WL_MAX_STOP). */
int wl_options_add_stop(wl_options *o, const char *s);
/* The options as the host's config JSON, e.g. {"ctx-size":512,"temp":0}.
 * The first stop string is sent as "reverse-prompt" (the host knows one).
 * Returns a malloc'd NUL-terminated string, or NULL on out of memory. */
char *wl_options_json(const wl_options *o);

/* Settings the way WasmEdge's example guests take them: environment
 * variables holding JSON values (n_predict, ctx_size, batch_size, threads,
 * reverse_prompt, enable_log, temp, top_k, top_p, min_p, repeat_penalty,
 * seed, and presence_penalty, frequency_penalty, ignore_eos). A variable
 * that is set but does not hold a JSON value of the right type is an error
 * naming it. reverse_prompt is the stop text as given, or a JSON string
 * when written as one ("\"a\\nb\"" for a, newline, b). */
int wl_options_from_env(wl_options *o);
/* The same settings as command-line flags: --n-predict N (also
 * --max-tokens), --ctx-size N, --batch-size N, --threads N,
 * --reverse-prompt S (also --stop S, repeatable), --enable-log, --temp X,
 * --top-k N, --top-p X, --min-p X, --repeat-penalty X, --seed N.
 * Underscore spellings work too. Values are read as in the environment.
 * If argv[*i] is one of them, consumes it
 * (and its value), advances *i past them and returns WL_OK; returns
 * WL_E_NOTFOUND (without a message) when argv[*i] is not an option flag,
 * WL_E_ARG when its value is missing or malformed. */
int wl_options_parse_arg(wl_options *o, int argc, char **argv, int *i);
/* Help text listing those flags, one per line. */
const char *wl_options_help(void);

/* ---- Models ------------------------------------------------------------- */
typedef struct wl_model wl_model;

/* Opens the model the host registered under `alias` (e.g. WasmEdge's
 * --nn-preload default:GGML:AUTO:model.gguf) with options (NULL: host
 * defaults). Hosts keep one graph per alias, with one set of options:
 * opening an alias that is already open shares its graph, so the options
 * are also sent to this handle's context, and are sent again before a
 * generation when another handle of the same graph sent its own since. (A
 * handle with no options set at all uses whatever the graph has.) */
int wl_open(wl_model **out, const char *alias, const wl_options *opts);
/* Unloads the graph and frees the handle (NULL is fine). */
void wl_close(wl_model *m);
/* Replaces the options (sent to the host as set_input index 1). */
int wl_set_options(wl_model *m, const wl_options *opts);
/* The options in effect for m (NULL when m is NULL). */
const wl_options *wl_model_options(const wl_model *m);

/* Why a generation ended. */
typedef enum {
    WL_END_EOS = 0,        /* the model ended its turn */
    WL_END_STOP = 1,       /* a stop string was reached (stop_index says which) */
    WL_END_MAX_TOKENS = 2, /* max_tokens generated */
    WL_END_CONTEXT = 3,    /* the context filled up (host code 101) */
    WL_END_CALLBACK = 4,   /* the callback asked to stop */
} wl_end;

typedef struct {
    uint32_t input_tokens;   /* prompt tokens, as the host counted them */
    uint32_t output_tokens;  /* generated tokens */
    wl_end end;
    int stop_index;          /* index into options.stop, or -1 */
} wl_result;

/* Receives text as it is generated: whole UTF-8 characters only, never a
 * part of a stop string. Return non-zero to stop generating. */
typedef int (*wl_text_cb)(const char *text, size_t len, void *user);

/* Streams the completion of `prompt` (special-token texts in it are parsed
 * by the host, which also adds BOS). Uses compute_single/get_output_single;
 * the SDK enforces max_tokens and every stop string itself. Text that might
 * begin a stop string is held back until it is known not to. res may be
 * NULL. A full context ends generation normally (WL_END_CONTEXT). */
int wl_generate_stream(wl_model *m, const char *prompt, wl_text_cb cb, void *user, wl_result *res);
/* The whole completion in one call (compute + get_output, retrying with a
 * larger buffer when the host says too_large). *text is malloc'd and
 * NUL-terminated; the caller frees it. The host stops at max_tokens and at
 * the first stop string; the SDK cuts at the earliest of all stop strings
 * and drops the end-of-turn marker the host leaves at the end (for example
 * "</s>" or "<|eot_id|>"), so the text equals what wl_generate_stream
 * delivers for the same settings. */
int wl_generate(wl_model *m, const char *prompt, char **text, size_t *len, wl_result *res);

/* An embedding of `text` (the model must be opened with embedding=true).
 * *vec is malloc'd (caller frees) and holds *dim floats, as the host gives
 * them (L2-normalized by WasmEdge's GGML backend). */
int wl_embed(wl_model *m, const char *text, float **vec, size_t *dim, wl_result *res);

/* ---- Building blocks (exposed for tests and special uses) -------------- */

/* Reads a growing output with the retry protocol: starts with `hint` bytes
 * and grows to the size the host reports (or doubles when it reports none).
 * single=true uses get_output_single. */
int wl_read_output(wl_nn_ctx c, uint32_t index, bool single, size_t hint, char **out, size_t *len);
/* Parses get_output index 1 ({"input_tokens":N,"output_tokens":M,...}). */
int wl_parse_usage(const char *json, size_t len, uint32_t *in, uint32_t *out);
/* Parses {"n_embedding":N,"embedding":[...]}: the array must hold N numbers. */
int wl_parse_embedding(const char *json, size_t len, float **vec, size_t *dim);

#endif
