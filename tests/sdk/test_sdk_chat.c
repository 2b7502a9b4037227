/* test_sdk_chat.c: chat templates render byte-exactly (expected strings
 * are written here from each family's documented format), detection from
 * a model's template text, sessions over the fake model, and trimming. */
#include <stdlib.h>

#include "mock_nn.h"
#include "t.h"
#include "wasmlet/chat.h"
#include "wl_internal.h"

static const wl_msg convo[] = {
    { WL_ROLE_SYSTEM, "You are terse." },
    { WL_ROLE_USER, "Hi" },
    { WL_ROLE_ASSISTANT, "Hello!" },
    { WL_ROLE_USER, "Bye?" },
};

static void expect_render(const char *name, const wl_msg *m, size_t n, const char *want) {
    wl_template t;
    CHECK(wl_template_by_name(name, &t) == WL_OK, "template %s", name);
    char *out = NULL;
    size_t len = 0;
    CHECK(wl_template_render(t, m, n, true, &out, &len) == WL_OK, "render %s", name);
    CHECK(out && strcmp(out, want) == 0 && len == strlen(want), "%s:\n got: %s\nwant: %s", name,
          out ? out : "(null)", want);
    free(out);
}

static void test_templates(void) {
    expect_render("llama-2", convo, 4,
                  "[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye? [/INST]");
    expect_render("llama-2", convo + 1, 1, "[INST] Hi [/INST]");
    expect_render("llama-3", convo, 4,
                  "<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>"
                  "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                  "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                  "<|start_header_id|>user<|end_header_id|>\n\nBye?<|eot_id|>"
                  "<|start_header_id|>assistant<|end_header_id|>\n\n");
    expect_render("chatml", convo, 4,
                  "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                  "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye?<|im_end|>\n"
                  "<|im_start|>assistant\n");
    expect_render("qwen", convo + 3, 1, "<|im_start|>user\nBye?<|im_end|>\n<|im_start|>assistant\n");
    expect_render("phi-3", convo, 4,
                  "<|system|>\nYou are terse.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\nHello!<|end|>\n"
                  "<|user|>\nBye?<|end|>\n<|assistant|>\n");
    expect_render("mistral", convo, 4, "[INST] You are terse.\n\nHi [/INST]Hello!</s>[INST] Bye? [/INST]");
    expect_render("gemma", convo, 4,
                  "<start_of_turn>user\nYou are terse.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!"
                  "<end_of_turn>\n<start_of_turn>user\nBye?<end_of_turn>\n<start_of_turn>model\n");
    expect_render("plain", convo + 1, 1, "Hi");
    expect_render("completion", convo, 2, "You are terse.Hi");

    wl_template t;
    CHECK(wl_template_by_name("vicuna", &t) == WL_E_NOTFOUND && strstr(wl_last_error(), "vicuna") &&
          strstr(wl_last_error(), "chatml"), "unknown template named: %s", wl_last_error());
    CHECK(wl_template_render(WL_TPL_CHATML, (wl_msg[]){ { WL_ROLE_USER, NULL } }, 1, true, &(char *){ 0 }, NULL) ==
          WL_E_ARG, "NULL text refused");

    static const struct { const char *jinja; wl_template want; bool known; } det[] = {
        { "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}", WL_TPL_LLAMA3, true },
        { "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\\n'}}{% endfor %}", WL_TPL_CHATML, true },
        { "{{ '<start_of_turn>' + role + '\\n' }}", WL_TPL_GEMMA, true },
        { "{{'<|user|>' + '\\n' + message['content'] + '<|end|>' + '\\n'}}", WL_TPL_PHI3, true },
        { "{{ bos_token + '[INST] ' + '<<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' }}", WL_TPL_LLAMA2, true },
        { "{{ '[INST] ' + message['content'] + ' [/INST]' }}", WL_TPL_MISTRAL, true },
        { "{{ 'USER: ' + content }}", WL_TPL_CHATML, false },
        { "", WL_TPL_PLAIN, false },
    };
    for (size_t i = 0; i < sizeof det / sizeof det[0]; i++) {
        bool known = !det[i].known;
        wl_template got = wl_template_detect(det[i].jinja, &known);
        CHECK(got == det[i].want && known == det[i].known, "detect %zu: %s", i, wl_template_name(got));
    }
    CHECK(wl_template_detect(NULL, NULL) == WL_TPL_PLAIN, "no template: plain");
}

static wl_model *open_mock(const wl_options *o) {
    wl_model *m = NULL;
    CHECK(wl_open(&m, "default", o) == WL_OK, "open: %s", wl_last_error());
    return m;
}

static char *render(wl_template t, const wl_msg *m, size_t n) {
    char *out = NULL;
    wl_template_render(t, m, n, true, &out, NULL);
    return out;
}

typedef struct { char text[256]; size_t len; } buf;
static int to_buf(const char *t, size_t n, void *u) {
    buf *b = u;
    if (b->len + n < sizeof b->text) {
        memcpy(b->text + b->len, t, n);
        b->len += n;
        b->text[b->len] = 0;
    }
    return 0;
}

static void test_session(void) {
    mock_reset();
    static const char *const pieces[] = { "Hel", "lo!<|im", "_end|>", "junk", NULL };
    mock.pieces = pieces;
    wl_model *m = open_mock(NULL);
    wl_chat *c = NULL;
    CHECK(wl_chat_new(&c, m, "chatml", NULL) == WL_OK, "chat_new");
    CHECK(wl_chat_new(&(wl_chat *){ 0 }, m, "nope", NULL) == WL_E_NOTFOUND, "unknown template refused");
    wl_chat_set_system(c, "Be kind.");
    buf b = { { 0 }, 0 };
    char *reply = NULL;
    wl_result r;
    CHECK(wl_chat_send(c, "Hi", to_buf, &b, &reply, &r) == WL_OK, "send: %s", wl_last_error());
    CHECK_STR(b.text, "Hello!");
    CHECK_STR(reply, "Hello!");
    CHECK(r.end == WL_END_STOP, "ended at the end-of-turn marker (%d)", r.end);
    free(reply);
    CHECK_STR(mock.prompt, "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                           "<|im_start|>assistant\n");
    CHECK(wl_chat_count(c) == 3 && wl_chat_message(c, 2)->role == WL_ROLE_ASSISTANT &&
          strcmp(wl_chat_message(c, 2)->text, "Hello!") == 0, "reply kept in the conversation");

    /* Whole (non-streaming) reply; the host leaves the marker at the end. */
    mock.whole = "Sure.<|im_end|>";
    CHECK(wl_chat_send(c, "Again", NULL, NULL, &reply, NULL) == WL_OK, "send whole: %s", wl_last_error());
    CHECK_STR(reply, "Sure.");
    free(reply);
    CHECK(wl_chat_count(c) == 5, "count %zu", wl_chat_count(c));

    /* A failing generation leaves the conversation as it was. */
    mock.compute_err = WL_NN_RUNTIME_ERROR;
    CHECK(wl_chat_send(c, "Fail", NULL, NULL, &reply, NULL) == WL_NN_RUNTIME_ERROR && !reply, "error passed");
    CHECK(wl_chat_count(c) == 5, "failed turn removed (%zu)", wl_chat_count(c));
    mock.compute_err = 0;

    /* No tokenizer: the host's prompt_too_long drives trimming. Allow only
     * the system message and the newest turn. */
    const wl_msg fit[] = { { WL_ROLE_SYSTEM, "Be kind." }, { WL_ROLE_USER, "Last one" } };
    char *want = render(WL_TPL_CHATML, fit, 2);
    mock.prompt_limit = strlen(want);
    mock.whole = "Bye.";
    CHECK(wl_chat_send(c, "Last one", NULL, NULL, NULL, NULL) == WL_OK, "trim by retry: %s", wl_last_error());
    CHECK_STR(mock.prompt, want);
    CHECK(wl_chat_count(c) == 3 && wl_chat_message(c, 0)->role == WL_ROLE_SYSTEM &&
          strcmp(wl_chat_message(c, 1)->text, "Last one") == 0 && strcmp(wl_chat_message(c, 2)->text, "Bye.") == 0,
          "system and newest turn kept");
    /* Even the newest alone too long: error, conversation unchanged. */
    mock.prompt_limit = 10;
    CHECK(wl_chat_send(c, "x", NULL, NULL, NULL, NULL) == WL_NN_PROMPT_TOO_LONG, "too long at last");
    CHECK(wl_chat_count(c) == 1, "only the system message is left (%zu)", wl_chat_count(c));
    free(want);
    wl_chat_free(c);
    wl_close(m);
}

static void test_trim_with_vocab(void) {
    const char *shared = getenv("WASMLET_SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-llama-bpe.gguf", shared ? shared : "../shared");
    wl_vocab *v = NULL;
    if (wl_vocab_open(&v, path) != WL_OK) {
        printf("skip: trimming with a tokenizer (%s)\n", wl_last_error());
        return;
    }
    size_t n = 0;
    CHECK(wl_vocab_count(v, "<|start_header_id|>user<|end_header_id|>", 40, &n) == WL_OK && n == 4,
          "special tokens parsed and BOS added: %zu tokens", n);
    mock_reset();
    wl_model *m = open_mock(NULL);
    wl_chat *c = NULL;
    CHECK(wl_chat_new(&c, m, "llama-3", v) == WL_OK, "chat with vocab");
    wl_chat_set_system(c, "You are a helpful assistant.");
    for (int i = 0; i < 6; i++) {
        char u[64], a[64];
        snprintf(u, sizeof u, "Question number %d about the weather?", i);
        snprintf(a, sizeof a, "Answer number %d: it is sunny.", i);
        wl_chat_add(c, WL_ROLE_USER, u);
        wl_chat_add(c, WL_ROLE_ASSISTANT, a);
    }
    wl_chat_add(c, WL_ROLE_USER, "And tomorrow?");
    size_t before = 0, after = 0;
    CHECK(wl_chat_fit(c, 100000, 0, &before) == WL_OK && wl_chat_count(c) == 14, "fits a big context");
    /* Room for exactly the system, the last two turns and the reply. */
    wl_chat *probe = NULL;
    wl_chat_new(&probe, m, "llama-3", v);
    for (size_t i = 0; i < 14; i++)
        if (i == 0 || i >= 9) wl_chat_add(probe, wl_chat_message(c, i)->role, wl_chat_message(c, i)->text);
    size_t need = 0;
    wl_chat_fit(probe, 100000, 0, &need);
    wl_chat_free(probe);
    CHECK(need < before, "probe smaller (%zu < %zu)", need, before);
    CHECK(wl_chat_fit(c, (uint32_t)need + 50, 50, &after) == WL_OK, "fit: %s", wl_last_error());
    CHECK(after == need && wl_chat_count(c) == 6, "kept %zu messages, %zu tokens (want 6, %zu)", wl_chat_count(c),
          after, need);
    CHECK(wl_chat_message(c, 0)->role == WL_ROLE_SYSTEM && strcmp(wl_chat_message(c, 5)->text, "And tomorrow?") == 0 &&
          strstr(wl_chat_message(c, 1)->text, "number 4"), "system and newest turns kept");
    CHECK(wl_chat_fit(c, 20, 10, NULL) == WL_NN_PROMPT_TOO_LONG && strstr(wl_last_error(), "tokens"),
          "cannot fit: %s", wl_last_error());
    CHECK(wl_chat_count(c) == 2, "only system + newest left (%zu)", wl_chat_count(c));
    wl_chat_free(c);
    /* Template chosen from the file when it carries one. */
    const char *jt = wl_vocab_chat_template(v);
    c = NULL;
    CHECK(wl_chat_new(&c, m, NULL, v) == WL_OK, "auto template");
    if (jt) CHECK(wl_chat_template(c) == wl_template_detect(jt, NULL), "auto template follows the file");
    wl_chat_free(c);
    wl_close(m);
    wl_vocab_free(v);

    /* A model file read by prefixes (here 4 KiB, then doubling): the
     * metadata is found without reading the tensors; same tokens. */
    char mpath[1024];
    snprintf(mpath, sizeof mpath, "%s/models/stories260K.gguf", shared ? shared : "../shared");
    wl_vocab *whole = NULL, *pre = NULL;
    if (wl_vocab_open(&whole, mpath) == WL_OK) {
        wl_vocab_set_first_prefix(4096);
        CHECK(wl_vocab_open(&pre, mpath) == WL_OK, "prefix read: %s", wl_last_error());
        size_t a = 0, b = 1;
        const char *story = "Once upon a time, there was a little girl named Lily.";
        wl_vocab_count(whole, story, strlen(story), &a);
        if (pre) wl_vocab_count(pre, story, strlen(story), &b);
        CHECK(a == b && a > 5 && wl_vocab_size(pre) == 512, "prefix-read tokenizer: %zu vs %zu tokens", b, a);
        wl_vocab_free(pre);
        pre = NULL;
        CHECK(wl_vocab_open(&pre, path) == WL_OK && wl_vocab_size(pre) > 128000, "big vocab by prefixes");
        wl_vocab_free(pre);
        /* Not a GGUF, longer than the first prefix: refused at once. */
        char junk[256];
        snprintf(junk, sizeof junk, "%s/wl_test_junk_%d.gguf", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                 (int)(uintptr_t)&junk % 100000);
        FILE *jf = fopen(junk, "wb");
        if (jf) {
            for (int i = 0; i < 10000; i++) fputc('x', jf);
            fclose(jf);
            CHECK(wl_vocab_open(&pre, junk) == WL_E_FORMAT && strstr(wl_last_error(), junk), "junk: %s",
                  wl_last_error());
            remove(junk);
        }
        wl_vocab_set_first_prefix(0);
        wl_vocab_free(whole);
    }
    /* The phi-3 vocabulary carries its model's chat template. */
    char ppath[1024];
    snprintf(ppath, sizeof ppath, "%s/tokenizer/ggml-vocab-phi-3.gguf", shared ? shared : "../shared");
    wl_vocab *pv = NULL;
    if (wl_vocab_open(&pv, ppath) == WL_OK) {
        bool known = false;
        const char *jt = wl_vocab_chat_template(pv);
        CHECK(jt && wl_template_detect(jt, &known) == WL_TPL_PHI3 && known, "phi-3 template detected");
        mock_reset();
        wl_model *pm = open_mock(NULL);
        wl_chat *pc = NULL;
        CHECK(wl_chat_new(&pc, pm, NULL, pv) == WL_OK && wl_chat_template(pc) == WL_TPL_PHI3,
              "session picks phi-3 from the vocab");
        /* Sending trims with the vocab: a 64-token context, 16 for the reply. */
        wl_options po;
        wl_options_init(&po);
        po.ctx_size = 64;
        po.max_tokens = 16;
        wl_set_options(pm, &po);
        for (int i = 0; i < 8; i++) {
            wl_chat_add(pc, WL_ROLE_USER, "Tell me about the weather today, please.");
            wl_chat_add(pc, WL_ROLE_ASSISTANT, "It is sunny and warm with a light breeze.");
        }
        mock.whole = "Fine.<|end|>";
        CHECK(wl_chat_send(pc, "And tomorrow?", NULL, NULL, NULL, NULL) == WL_OK, "send: %s", wl_last_error());
        size_t n = 0;
        wl_vocab_count(pv, mock.prompt, strlen(mock.prompt), &n);
        CHECK(n <= 48 && strstr(mock.prompt, "And tomorrow?") && strstr(mock.prompt, "<|assistant|>\n"),
              "prompt trimmed to %zu tokens: %s", n, mock.prompt);
        CHECK(wl_chat_count(pc) < 18 && strcmp(wl_chat_message(pc, wl_chat_count(pc) - 1)->text, "Fine.") == 0,
              "old turns dropped, reply kept (%zu messages)", wl_chat_count(pc));
        wl_chat_free(pc);
        wl_close(pm);
        wl_vocab_free(pv);
    }
    CHECK(wl_vocab_open(&v, "/nonexistent/x.gguf") == WL_E_IO && strstr(wl_last_error(), "/nonexistent/x.gguf"),
          "missing file: %s", wl_last_error());
    CHECK(wl_vocab_from_buffer(&v, "GGUFjunk", 8, "junk") == WL_E_FORMAT && strstr(wl_last_error(), "junk:"),
          "bad file: %s", wl_last_error());
}

void test_chat(void) {
    test_templates();
    test_session();
    test_trim_with_vocab();
}
