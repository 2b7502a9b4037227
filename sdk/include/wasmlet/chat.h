/* wasmlet/chat.h: chat templates and chat sessions.
 *
 * Contract: a template turns a list of messages into the exact prompt text a
 * model family was trained on. The host adds BOS itself and parses special
 * tokens in the prompt, so rendered prompts never start with a BOS text.
 * Built-in formats (S = system, U = user, A = assistant; "\n" a newline):
 *
 *   llama-2   [INST] <<SYS>>\nS\n<</SYS>>\n\nU1 [/INST] A1 </s><s>[INST] U2 [/INST]
 *             (without a system message the first turn is "[INST] U1 [/INST]")
 *   llama-3   <|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>
 *             <|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|>  ... then
 *             <|start_header_id|>assistant<|end_header_id|>\n\n to generate
 *   chatml    <|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n
 *             ... then <|im_start|>assistant\n   (Qwen, many others)
 *   phi-3     <|system|>\nS<|end|>\n<|user|>\nU<|end|>\n ... then <|assistant|>\n
 *   mistral   [INST] S\n\nU1 [/INST]A1</s>[INST] U2 [/INST]
 *   gemma     <start_of_turn>user\nS\n\nU<end_of_turn>\n<start_of_turn>model\nA
 *             <end_of_turn>\n ... then <start_of_turn>model\n
 *   plain     the message texts concatenated, nothing added (completion)
 *
 * Families without a system role (llama-2's <<SYS>> block aside: mistral,
 * gemma) put the system text in front of the next user message. Each
 * template has an end-of-turn marker the session stops at (and drops).
 *
 * A session keeps the conversation, renders it, counts its tokens with the
 * guest-side tokenizer when it has one (wasmlet/tokens.h) and drops the
 * oldest user/assistant turns (never the system message, never the newest
 * user message) until the prompt fits the context with room for the reply.
 * Without a tokenizer it sends the prompt and, when the host answers
 * prompt_too_long (102), drops the oldest turn and tries again.
 */
#ifndef WASMLET_CHAT_H
#define WASMLET_CHAT_H

#include "wasmlet/tokens.h"
#include "wasmlet/wasmlet.h"

typedef enum { WL_ROLE_SYSTEM = 0, WL_ROLE_USER = 1, WL_ROLE_ASSISTANT = 2 } wl_role;

typedef struct {
    wl_role role;
    const char *text;
} wl_msg;

typedef enum {
    WL_TPL_PLAIN = 0, WL_TPL_LLAMA2, WL_TPL_LLAMA3, WL_TPL_CHATML,
    WL_TPL_PHI3, WL_TPL_MISTRAL, WL_TPL_GEMMA,
} wl_template;

/* "llama-2", "llama-3", "chatml", "phi-3", "mistral", "gemma", "plain";
 * also "llama2", "llama3", "qwen", "phi3", "completion". */
int wl_template_by_name(const char *name, wl_template *out);
/* The canonical name of a built-in ("chatml"); "?" for a bad value. */
const char *wl_template_name(wl_template t);
/* Names of the built-ins, comma separated (for help texts). */
const char *wl_template_names(void);
/* Picks a built-in from a model's own Jinja template text (GGUF key
 * tokenizer.chat_template) by its distinctive markers. Text without a
 * known marker gives chatml and *known = false; NULL/empty text gives
 * plain and *known = false. */
wl_template wl_template_detect(const char *jinja, bool *known);
/* The end-of-turn marker ("" for plain). */
const char *wl_template_stop(wl_template t);
/* Renders msgs; with add_generation_prompt the text ends where the
 * assistant's reply begins. *out is malloc'd, NUL-terminated. */
int wl_template_render(wl_template t, const wl_msg *msgs, size_t n, bool add_generation_prompt,
                       char **out, size_t *len);

/* ---- Sessions ----------------------------------------------------------- */
typedef struct wl_chat wl_chat;

/* template_name NULL: chosen from vocab's chat template (plain when there is
 * no vocab or it has none). vocab may be NULL (no token counting); it must
 * outlive the session. */
int wl_chat_new(wl_chat **out, wl_model *m, const char *template_name, const wl_vocab *vocab);
/* Frees the session and its copies of the messages (NULL is fine). */
void wl_chat_free(wl_chat *c);
/* The template the session renders with. */
wl_template wl_chat_template(const wl_chat *c);
/* Sets (or with NULL removes) the system message. */
int wl_chat_set_system(wl_chat *c, const char *text);
/* Appends a message (e.g. to restore a conversation). */
int wl_chat_add(wl_chat *c, wl_role role, const char *text);
/* Messages in the conversation, the system message included. */
size_t wl_chat_count(const wl_chat *c);
/* Message i (0 = oldest; the system message first when there is one). */
const wl_msg *wl_chat_message(const wl_chat *c, size_t i);
/* The prompt for the next reply: the conversation with the generation
 * prompt. */
int wl_chat_render(const wl_chat *c, char **out, size_t *len);
/* Drops the oldest turns until the rendered prompt has at most
 * ctx_size - reply_room tokens (needs a vocab). Returns WL_OK when it fits,
 * WL_NN_PROMPT_TOO_LONG when even the system message and the newest user
 * message alone do not fit. *n_tokens (may be NULL) gets the final count. */
int wl_chat_fit(wl_chat *c, uint32_t ctx_size, uint32_t reply_room, size_t *n_tokens);
/* Adds the user message, fits the context, generates the reply (streamed
 * to cb, or whole when cb is NULL) and appends it to the conversation.
 * *reply (may be NULL) gets a malloc'd copy. The context size used is the
 * model's ctx_size option (4096, the hosts' default, when unset); the room
 * for the reply is max_tokens (when unset, a quarter of the context).
 * On failure the user message is removed again. */
int wl_chat_send(wl_chat *c, const char *user_text, wl_text_cb cb, void *user, char **reply,
                 wl_result *res);

#endif
