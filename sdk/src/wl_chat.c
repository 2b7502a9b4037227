/* wl_chat.c: chat sessions (contract in wasmlet/chat.h). The session owns
 * copies of all message texts; the system message, when set, is message 0. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "wasmlet/chat.h"
#include "wl_internal.h"

#define HOST_DEFAULT_CTX 4096   /* WasmEdge's and our host's default ctx-size */

struct wl_chat {
    wl_model *m;
    wl_template t;
    const wl_vocab *vocab;
    wl_msg *msgs;
    size_t n, cap;
};

int wl_chat_new(wl_chat **out, wl_model *m, const char *template_name, const wl_vocab *vocab) {
    if (!out || !m) return wl_fail(WL_E_ARG, "wl_chat_new: NULL argument");
    *out = NULL;
    wl_template t;
    if (template_name) {
        int e = wl_template_by_name(template_name, &t);
        if (e) return e;
    } else {
        t = wl_template_detect(vocab ? wl_vocab_chat_template(vocab) : NULL, NULL);
    }
    wl_chat *c = calloc(1, sizeof *c);
    if (!c) return wl_fail(WL_E_NOMEM, "wl_chat_new: out of memory");
    c->m = m;
    c->t = t;
    c->vocab = vocab;
    *out = c;
    return WL_OK;
}

void wl_chat_free(wl_chat *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free((char *)c->msgs[i].text);
    free(c->msgs);
    free(c);
}

wl_template wl_chat_template(const wl_chat *c) { return c->t; }
size_t wl_chat_count(const wl_chat *c) { return c ? c->n : 0; }
const wl_msg *wl_chat_message(const wl_chat *c, size_t i) { return c && i < c->n ? &c->msgs[i] : NULL; }

static bool has_system(const wl_chat *c) { return c->n > 0 && c->msgs[0].role == WL_ROLE_SYSTEM; }

static void remove_at(wl_chat *c, size_t i) {
    free((char *)c->msgs[i].text);
    memmove(c->msgs + i, c->msgs + i + 1, (c->n - i - 1) * sizeof *c->msgs);
    c->n--;
}

static int insert_at(wl_chat *c, size_t i, wl_role role, const char *text) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        wl_msg *m = realloc(c->msgs, cap * sizeof *m);
        if (!m) return wl_fail(WL_E_NOMEM, "chat: out of memory");
        c->msgs = m;
        c->cap = cap;
    }
    char *copy = malloc(strlen(text) + 1);
    if (!copy) return wl_fail(WL_E_NOMEM, "chat: out of memory");
    memcpy(copy, text, strlen(text) + 1);
    memmove(c->msgs + i + 1, c->msgs + i, (c->n - i) * sizeof *c->msgs);
    c->msgs[i].role = role;
    c->msgs[i].text = copy;
    c->n++;
    return WL_OK;
}

int wl_chat_set_system(wl_chat *c, const char *text) {
    if (!c) return wl_fail(WL_E_ARG, "wl_chat_set_system: NULL session");
    if (has_system(c)) remove_at(c, 0);
    return text ? insert_at(c, 0, WL_ROLE_SYSTEM, text) : WL_OK;
}

int wl_chat_add(wl_chat *c, wl_role role, const char *text) {
    if (!c || !text) return wl_fail(WL_E_ARG, "wl_chat_add: NULL argument");
    if (role == WL_ROLE_SYSTEM) return wl_chat_set_system(c, text);
    if (role != WL_ROLE_USER && role != WL_ROLE_ASSISTANT)
        return wl_fail(WL_E_ARG, "wl_chat_add: bad role %d", (int)role);
    return insert_at(c, c->n, role, text);
}

int wl_chat_render(const wl_chat *c, char **out, size_t *len) {
    if (!c) return wl_fail(WL_E_ARG, "wl_chat_render: NULL session");
    return wl_template_render(c->t, c->msgs, c->n, true, out, len);
}

/* Drops the oldest turn: a user message and the replies that follow it.
 * Never the system message and never the newest user message. */
static bool drop_oldest_turn(wl_chat *c) {
    size_t first = has_system(c) ? 1 : 0;
    size_t last_user = c->n;
    for (size_t i = c->n; i-- > first;)
        if (c->msgs[i].role == WL_ROLE_USER) { last_user = i; break; }
    if (last_user == c->n || first >= last_user) return false;
    remove_at(c, first);
    last_user--;
    while (first < last_user && c->msgs[first].role == WL_ROLE_ASSISTANT) {
        remove_at(c, first);
        last_user--;
    }
    return true;
}

int wl_chat_fit(wl_chat *c, uint32_t ctx_size, uint32_t reply_room, size_t *n_tokens) {
    if (!c) return wl_fail(WL_E_ARG, "wl_chat_fit: NULL session");
    if (!c->vocab) return wl_fail(WL_E_ARG, "wl_chat_fit: the session has no tokenizer (vocab)");
    /* Hosts refuse prompts longer than n_ctx - 4. */
    size_t budget = ctx_size > reply_room ? ctx_size - reply_room : 0;
    if (budget + 4 > ctx_size) budget = ctx_size > 4 ? ctx_size - 4 : 0;
    for (;;) {
        char *p;
        size_t len, n;
        int e = wl_chat_render(c, &p, &len);
        if (e) return e;
        e = wl_vocab_count(c->vocab, p, len, &n);
        free(p);
        if (e) return e;
        if (n_tokens) *n_tokens = n;
        if (n <= budget) return WL_OK;
        if (!drop_oldest_turn(c))
            return wl_fail(WL_NN_PROMPT_TOO_LONG,
                           "chat: the prompt needs %zu tokens but only %zu fit (context %u, %u kept for "
                           "the reply), even with only the system and the newest message",
                           n, budget, ctx_size, reply_room);
    }
}

typedef struct {
    json_buf text;
    wl_text_cb cb;
    void *user;
} tee;

static int tee_cb(const char *text, size_t len, void *u) {
    tee *t = u;
    json_buf_raw(&t->text, text, len);
    return t->cb ? t->cb(text, len, t->user) : 0;
}

int wl_chat_send(wl_chat *c, const char *user_text, wl_text_cb cb, void *user, char **reply,
                 wl_result *res) {
    if (reply) *reply = NULL;
    if (!c || !user_text) return wl_fail(WL_E_ARG, "wl_chat_send: NULL argument");
    const wl_options *mo = wl_model_options(c->m);
    int e = insert_at(c, c->n, WL_ROLE_USER, user_text);
    if (e) return e;
    uint32_t ctx = mo->ctx_size > 0 ? (uint32_t)mo->ctx_size : HOST_DEFAULT_CTX;
    uint32_t room = mo->max_tokens >= 0 ? (uint32_t)mo->max_tokens : ctx / 4;
    if (c->vocab && (e = wl_chat_fit(c, ctx, room, NULL)) != WL_OK) {
        remove_at(c, c->n - 1);
        return e;
    }
    wl_options o = *mo;
    const char *eot = wl_template_stop(c->t);
    if (*eot && o.n_stop < WL_MAX_STOP) wl_options_add_stop(&o, eot);

    tee t = { { 0 }, cb, user };
    wl_result r;
    for (;;) {
        char *prompt;
        if ((e = wl_chat_render(c, &prompt, NULL)) != WL_OK) break;
        json_buf_free(&t.text);
        memset(&r, 0, sizeof r);
        if (cb) {
            e = wl_stream_with(c->m, &o, prompt, tee_cb, &t, &r);
        } else {
            char *text = NULL;
            size_t len = 0;
            e = wl_whole_with(c->m, &o, prompt, &text, &len, &r);
            if (!e) json_buf_raw(&t.text, text, len);
            free(text);
        }
        free(prompt);
        /* Without a tokenizer the host is the judge of length: drop the
         * oldest turn and retry, as long as nothing was shown yet. */
        if (e == WL_NN_PROMPT_TOO_LONG && t.text.len == 0 && drop_oldest_turn(c)) continue;
        break;
    }
    json_buf_raw(&t.text, "", 0);
    if (!e && t.text.oom) e = wl_fail(WL_E_NOMEM, "chat: out of memory");
    if (!e) e = insert_at(c, c->n, WL_ROLE_ASSISTANT, t.text.data);
    if (e) {
        if (c->n && c->msgs[c->n - 1].role == WL_ROLE_USER) remove_at(c, c->n - 1);
        json_buf_free(&t.text);
        return e;
    }
    if (reply) *reply = t.text.data;
    else json_buf_free(&t.text);
    if (res) *res = r;
    return WL_OK;
}
