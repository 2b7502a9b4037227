/* wl_template.c: built-in chat templates (formats in wasmlet/chat.h). */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "wasmlet/chat.h"
#include "wl_internal.h"

static const struct {
    wl_template t;
    const char *name;
    const char *alias;
    const char *stop;
} tpls[] = {
    { WL_TPL_PLAIN, "plain", "completion", "" },
    { WL_TPL_LLAMA2, "llama-2", "llama2", "</s>" },
    { WL_TPL_LLAMA3, "llama-3", "llama3", "<|eot_id|>" },
    { WL_TPL_CHATML, "chatml", "qwen", "<|im_end|>" },
    { WL_TPL_PHI3, "phi-3", "phi3", "<|end|>" },
    { WL_TPL_MISTRAL, "mistral", NULL, "</s>" },
    { WL_TPL_GEMMA, "gemma", NULL, "<end_of_turn>" },
};
#define N_TPL (sizeof tpls / sizeof tpls[0])

int wl_template_by_name(const char *name, wl_template *out) {
    for (size_t i = 0; name && i < N_TPL; i++) {
        if (strcmp(name, tpls[i].name) == 0 || (tpls[i].alias && strcmp(name, tpls[i].alias) == 0)) {
            *out = tpls[i].t;
            return WL_OK;
        }
    }
    return wl_fail(WL_E_NOTFOUND, "chat template \"%s\": unknown (built-ins: %s)", name ? name : "",
                   wl_template_names());
}

const char *wl_template_name(wl_template t) {
    return (unsigned)t < N_TPL ? tpls[t].name : "?";
}

const char *wl_template_stop(wl_template t) {
    return (unsigned)t < N_TPL ? tpls[t].stop : "";
}

const char *wl_template_names(void) {
    return "llama-2, llama-3, chatml (qwen), phi-3, mistral, gemma, plain";
}

wl_template wl_template_detect(const char *j, bool *known) {
    bool k = true;
    wl_template t;
    if (!j || !*j) { k = false; t = WL_TPL_PLAIN; }
    else if (strstr(j, "<|start_header_id|>")) t = WL_TPL_LLAMA3;
    else if (strstr(j, "<|im_start|>")) t = WL_TPL_CHATML;
    else if (strstr(j, "<start_of_turn>")) t = WL_TPL_GEMMA;
    else if (strstr(j, "<|user|>") && strstr(j, "<|end|>")) t = WL_TPL_PHI3;
    else if (strstr(j, "[INST]") && strstr(j, "<<SYS>>")) t = WL_TPL_LLAMA2;
    else if (strstr(j, "[INST]")) t = WL_TPL_MISTRAL;
    else { k = false; t = WL_TPL_CHATML; }
    if (known) *known = k;
    return t;
}

#define PUT(s) json_buf_raw(&b, (s), strlen(s))

static const char *role_name(wl_role r) {
    return r == WL_ROLE_SYSTEM ? "system" : r == WL_ROLE_USER ? "user" : "assistant";
}

int wl_template_render(wl_template t, const wl_msg *msgs, size_t n, bool gen, char **out, size_t *len) {
    if (!out || (n && !msgs)) return wl_fail(WL_E_ARG, "wl_template_render: NULL argument");
    if ((unsigned)t >= N_TPL) return wl_fail(WL_E_ARG, "wl_template_render: unknown template %d", (int)t);
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].text || (unsigned)msgs[i].role > WL_ROLE_ASSISTANT)
            return wl_fail(WL_E_ARG, "wl_template_render: message %zu has no text or a bad role", i);
    json_buf b = { 0 };
    const char *sys = NULL;   /* system text waiting for the next user turn */
    bool first_user = true;
    for (size_t i = 0; i < n; i++) {
        const char *x = msgs[i].text;
        wl_role r = msgs[i].role;
        switch (t) {
        case WL_TPL_PLAIN:
            PUT(x);
            break;
        case WL_TPL_LLAMA3:
            PUT("<|start_header_id|>"); PUT(role_name(r)); PUT("<|end_header_id|>\n\n");
            PUT(x); PUT("<|eot_id|>");
            break;
        case WL_TPL_CHATML:
            PUT("<|im_start|>"); PUT(role_name(r)); PUT("\n"); PUT(x); PUT("<|im_end|>\n");
            break;
        case WL_TPL_PHI3:
            PUT("<|"); PUT(role_name(r)); PUT("|>\n"); PUT(x); PUT("<|end|>\n");
            break;
        case WL_TPL_LLAMA2:
            if (r == WL_ROLE_SYSTEM) { sys = x; break; }
            if (r == WL_ROLE_ASSISTANT) { PUT(" "); PUT(x); PUT(" </s>"); break; }
            PUT(first_user ? "[INST] " : "<s>[INST] ");
            if (sys) { PUT("<<SYS>>\n"); PUT(sys); PUT("\n<</SYS>>\n\n"); sys = NULL; }
            PUT(x); PUT(" [/INST]");
            first_user = false;
            break;
        case WL_TPL_MISTRAL:
            if (r == WL_ROLE_SYSTEM) { sys = x; break; }
            if (r == WL_ROLE_ASSISTANT) { PUT(x); PUT("</s>"); break; }
            PUT("[INST] ");
            if (sys) { PUT(sys); PUT("\n\n"); sys = NULL; }
            PUT(x); PUT(" [/INST]");
            break;
        case WL_TPL_GEMMA:
            if (r == WL_ROLE_SYSTEM) { sys = x; break; }
            PUT("<start_of_turn>"); PUT(r == WL_ROLE_USER ? "user" : "model"); PUT("\n");
            if (sys && r == WL_ROLE_USER) { PUT(sys); PUT("\n\n"); sys = NULL; }
            PUT(x); PUT("<end_of_turn>\n");
            break;
        }
    }
    if (gen) {
        switch (t) {
        case WL_TPL_LLAMA3: PUT("<|start_header_id|>assistant<|end_header_id|>\n\n"); break;
        case WL_TPL_CHATML: PUT("<|im_start|>assistant\n"); break;
        case WL_TPL_PHI3: PUT("<|assistant|>\n"); break;
        case WL_TPL_GEMMA: PUT("<start_of_turn>model\n"); break;
        default: break;   /* llama-2 and mistral end a user turn with [/INST] */
        }
    }
    json_buf_raw(&b, "", 0);
    if (b.oom) {
        json_buf_free(&b);
        return wl_fail(WL_E_NOMEM, "wl_template_render: out of memory");
    }
    *out = b.data;
    if (len) *len = b.len;
    return WL_OK;
}
