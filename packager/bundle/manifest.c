/* manifest.c: canonical writer and strict reader of manifest.json.
 * The schema is specified in docs/bundle.md; see manifest.h. */
#include "manifest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static bool fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

void sha256_hex(const uint8_t h[32], char out[65]) {
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* ---- rules -------------------------------------------------------------- */

bool manifest_alias_ok(const char *a) {
    size_t n = strlen(a);
    if (n == 0 || n > 64 || a[0] == '.') return false;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* Absolute, normalised, no "." or ".." components, no control bytes. */
bool manifest_guest_path_ok(const char *p) {
    size_t n = strlen(p);
    if (n == 0 || n > 1024 || p[0] != '/') return false;
    if (n == 1) return true;
    const char *c = p + 1;
    for (;;) {
        const char *e = strchr(c, '/');
        size_t l = e ? (size_t)(e - c) : strlen(c);
        if (l == 0 || (l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.')) return false;
        if (!e) break;
        c = e + 1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) return false;
    return true;
}

bool manifest_env_key_ok(const char *k) {
    size_t n = strlen(k);
    if (n == 0 || n > 256) return false;
    for (size_t i = 0; i < n; i++)
        if (k[i] == '=' || (unsigned char)k[i] < 0x20 || k[i] == 0x7f) return false;
    return true;
}

static bool text_ok(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n > max) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

const manifest_member *manifest_find_member(const manifest *m, const char *path) {
    for (size_t i = 0; i < m->n_members; i++)
        if (strcmp(m->members[i].path, path) == 0) return &m->members[i];
    return NULL;
}

bool manifest_validate(const manifest *m, char *err, size_t errlen) {
    /* Limits: the bounds the command lines accept, so no consumer overflows. */
    if (m->max_memory > (1ull << 32))
        return fail(err, errlen, "manifest: limits.max_memory is over 4 GiB (a wasm32 memory's size)");
    if (m->timeout_seconds > 10000000)
        return fail(err, errlen, "manifest: limits.timeout_seconds is over 10000000");
    if (m->ctx_size > (1u << 20))
        return fail(err, errlen, "manifest: limits.ctx_size is over 1048576");
    if (!m->name[0] || !text_ok(m->name, 128)) return fail(err, errlen, "manifest: \"name\" must be 1-128 printable bytes");
    if (!m->version[0] || !text_ok(m->version, 64)) return fail(err, errlen, "manifest: \"version\" must be 1-64 printable bytes");
    if (!text_ok(m->description, 4096)) return fail(err, errlen, "manifest: \"description\" must be at most 4096 printable bytes");
    if (strcmp(m->wasm, MANIFEST_WASM_PATH) != 0)
        return fail(err, errlen, "manifest: \"wasm\" must be \"%s\"", MANIFEST_WASM_PATH);
    if (m->n_models == 0 || m->n_models > MANIFEST_MAX_MODELS)
        return fail(err, errlen, "manifest: \"models\" must list 1 to %d models", MANIFEST_MAX_MODELS);
    bool tok_separate = strcmp(m->tokenizer, MANIFEST_TOKENIZER_PATH) == 0;
    bool tok_model = false;
    for (size_t i = 0; i < m->n_models; i++) {
        const manifest_model *md = &m->models[i];
        char want[96];
        if (!manifest_alias_ok(md->alias))
            return fail(err, errlen, "manifest: models[%zu]: bad alias \"%s\" (1-64 of A-Z a-z 0-9 _ - ., not starting with .)", i, md->alias);
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->models[j].alias, md->alias) == 0)
                return fail(err, errlen, "manifest: models[%zu]: duplicate alias \"%s\"", i, md->alias);
        snprintf(want, sizeof want, "models/%s.gguf", md->alias);
        if (strcmp(md->path, want) != 0)
            return fail(err, errlen, "manifest: models[%zu]: path must be \"%s\"", i, want);
        if (!text_ok(md->architecture, 64) || !text_ok(md->quantization, 32))
            return fail(err, errlen, "manifest: models[%zu]: architecture/quantization not printable or too long", i);
        if (strcmp(m->tokenizer, md->path) == 0) tok_model = true;
    }
    if (!tok_separate && !tok_model)
        return fail(err, errlen, "manifest: \"tokenizer\" must be \"%s\" or a model's path", MANIFEST_TOKENIZER_PATH);
    /* Members: exactly the canonical list in canonical order. */
    size_t want_n = 1 + (tok_separate ? 1 : 0) + m->n_models;
    if (m->n_members != want_n)
        return fail(err, errlen, "manifest: \"members\" lists %zu entries, expected %zu", m->n_members, want_n);
    size_t k = 0;
    if (strcmp(m->members[k++].path, MANIFEST_WASM_PATH) != 0)
        return fail(err, errlen, "manifest: members[0] must be \"%s\"", MANIFEST_WASM_PATH);
    if (tok_separate && strcmp(m->members[k++].path, MANIFEST_TOKENIZER_PATH) != 0)
        return fail(err, errlen, "manifest: members[1] must be \"%s\"", MANIFEST_TOKENIZER_PATH);
    for (size_t i = 0; i < m->n_models; i++, k++)
        if (strcmp(m->members[k].path, m->models[i].path) != 0)
            return fail(err, errlen, "manifest: members[%zu] must be \"%s\" (members follow the models' order)", k, m->models[i].path);
    if (m->n_dirs > MANIFEST_MAX_DIRS) return fail(err, errlen, "manifest: more than %d dirs", MANIFEST_MAX_DIRS);
    for (size_t i = 0; i < m->n_dirs; i++) {
        if (!manifest_guest_path_ok(m->dirs[i].guest_path))
            return fail(err, errlen, "manifest: capabilities.dirs[%zu]: guest_path \"%s\" is not an absolute normalised path", i, m->dirs[i].guest_path);
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->dirs[j].guest_path, m->dirs[i].guest_path) == 0)
                return fail(err, errlen, "manifest: capabilities.dirs[%zu]: duplicate guest_path \"%s\"", i, m->dirs[i].guest_path);
    }
    if (m->n_env > MANIFEST_MAX_ENV) return fail(err, errlen, "manifest: more than %d env entries", MANIFEST_MAX_ENV);
    for (size_t i = 0; i < m->n_env; i++) {
        if (!manifest_env_key_ok(m->env[i].key))
            return fail(err, errlen, "manifest: capabilities.env: bad variable name \"%s\"", m->env[i].key);
        if (strlen(m->env[i].value) > 4096)
            return fail(err, errlen, "manifest: capabilities.env.%s: value longer than 4096 bytes", m->env[i].key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->env[j].key, m->env[i].key) == 0)
                return fail(err, errlen, "manifest: capabilities.env: duplicate variable \"%s\"", m->env[i].key);
    }
    return true;
}

/* ---- writer ------------------------------------------------------------- */

static void kv_str(json_buf *b, const char *indent, const char *key, const char *v, bool comma) {
    json_buf_raw(b, indent, strlen(indent));
    json_buf_cstr(b, key);
    json_buf_raw(b, ": ", 2);
    json_buf_cstr(b, v);
    if (comma) json_buf_raw(b, ",", 1);
    json_buf_raw(b, "\n", 1);
}

static void kv_u64(json_buf *b, const char *indent, const char *key, uint64_t v, bool comma) {
    json_buf_raw(b, indent, strlen(indent));
    json_buf_cstr(b, key);
    json_buf_raw(b, ": ", 2);
    json_buf_u64(b, v);
    if (comma) json_buf_raw(b, ",", 1);
    json_buf_raw(b, "\n", 1);
}

#define RAW(b, s) json_buf_raw((b), (s), strlen(s))

char *manifest_to_json(const manifest *m, size_t *len) {
    json_buf b = {0};
    RAW(&b, "{\n");
    kv_str(&b, "  ", "format", MANIFEST_FORMAT, true);
    kv_u64(&b, "  ", "format_version", MANIFEST_VERSION, true);
    kv_str(&b, "  ", "name", m->name, true);
    kv_str(&b, "  ", "version", m->version, true);
    kv_str(&b, "  ", "description", m->description, true);
    kv_str(&b, "  ", "wasm", m->wasm, true);
    kv_str(&b, "  ", "tokenizer", m->tokenizer, true);
    RAW(&b, "  \"members\": [\n");
    for (size_t i = 0; i < m->n_members; i++) {
        char hex[65];
        sha256_hex(m->members[i].sha256, hex);
        RAW(&b, "    {\n");
        kv_str(&b, "      ", "path", m->members[i].path, true);
        kv_u64(&b, "      ", "size", m->members[i].size, true);
        kv_str(&b, "      ", "sha256", hex, false);
        RAW(&b, i + 1 < m->n_members ? "    },\n" : "    }\n");
    }
    RAW(&b, "  ],\n  \"models\": [\n");
    for (size_t i = 0; i < m->n_models; i++) {
        const manifest_model *md = &m->models[i];
        RAW(&b, "    {\n");
        kv_str(&b, "      ", "alias", md->alias, true);
        kv_str(&b, "      ", "path", md->path, true);
        kv_str(&b, "      ", "architecture", md->architecture, true);
        kv_str(&b, "      ", "quantization", md->quantization, true);
        kv_u64(&b, "      ", "context_length", md->context_length, true);
        kv_u64(&b, "      ", "parameter_count", md->parameter_count, false);
        RAW(&b, i + 1 < m->n_models ? "    },\n" : "    }\n");
    }
    RAW(&b, "  ],\n  \"capabilities\": {\n    \"dirs\": [");
    for (size_t i = 0; i < m->n_dirs; i++) {
        RAW(&b, i ? ",\n      {\"guest_path\": " : "\n      {\"guest_path\": ");
        json_buf_cstr(&b, m->dirs[i].guest_path);
        RAW(&b, m->dirs[i].readonly ? ", \"readonly\": true}" : ", \"readonly\": false}");
    }
    RAW(&b, m->n_dirs ? "\n    ],\n    \"env\": {" : "],\n    \"env\": {");
    for (size_t i = 0; i < m->n_env; i++) {
        RAW(&b, i ? ",\n      " : "\n      ");
        json_buf_cstr(&b, m->env[i].key);
        RAW(&b, ": ");
        json_buf_cstr(&b, m->env[i].value);
    }
    RAW(&b, m->n_env ? "\n    }\n  },\n" : "}\n  },\n");
    RAW(&b, "  \"limits\": {\n");
    kv_u64(&b, "    ", "max_memory", m->max_memory, true);
    kv_u64(&b, "    ", "timeout_seconds", m->timeout_seconds, true);
    kv_u64(&b, "    ", "ctx_size", m->ctx_size, false);
    RAW(&b, "  }\n}\n");
    if (b.oom) {
        json_buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

/* ---- reader ------------------------------------------------------------- */

typedef struct { char *err; size_t errlen; } ctx;

/* Every key of obj must be one of keys[] and every one of keys[] present. */
static bool exact_keys(ctx *c, const json_value *obj, const char *where, const char *const *keys, size_t n) {
    if (!obj || obj->type != JSON_OBJECT) return fail(c->err, c->errlen, "manifest: %s must be an object", where);
    for (size_t i = 0; i < obj->len; i++) {
        bool known = false;
        for (size_t k = 0; k < n; k++)
            if (strcmp(obj->members[i].key, keys[k]) == 0 && strlen(keys[k]) == obj->members[i].key_len) known = true;
        if (!known) return fail(c->err, c->errlen, "manifest: %s: unknown key \"%s\"", where, obj->members[i].key);
    }
    for (size_t k = 0; k < n; k++)
        if (!json_get(obj, keys[k])) return fail(c->err, c->errlen, "manifest: %s: missing key \"%s\"", where, keys[k]);
    return true;
}

static bool get_str(ctx *c, const json_value *obj, const char *where, const char *key, char **out) {
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_STRING) return fail(c->err, c->errlen, "manifest: %s.%s must be a string", where, key);
    if (strlen(v->str) != v->len) return fail(c->err, c->errlen, "manifest: %s.%s contains a NUL character", where, key);
    *out = strdup(v->str);
    if (!*out) return fail(c->err, c->errlen, "out of memory");
    return true;
}

static bool get_u64(ctx *c, const json_value *obj, const char *where, const char *key, uint64_t *out) {
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_NUMBER || !v->is_int || v->integer < 0)
        return fail(c->err, c->errlen, "manifest: %s.%s must be a non-negative integer", where, key);
    *out = (uint64_t)v->integer;
    return true;
}

static bool get_array(ctx *c, const json_value *obj, const char *where, const char *key, size_t max,
                      const json_value **out) {
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_ARRAY) return fail(c->err, c->errlen, "manifest: %s.%s must be an array", where, key);
    if (v->len > max) return fail(c->err, c->errlen, "manifest: %s.%s has more than %zu entries", where, key, max);
    *out = v;
    return true;
}

static bool parse_hex32(const char *s, uint8_t out[32]) {
    if (strlen(s) != 64) return false;
    for (int i = 0; i < 64; i++) {
        char ch = s[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0) return false;
        if (i % 2 == 0) out[i / 2] = (uint8_t)(d << 4);
        else out[i / 2] |= (uint8_t)d;
    }
    return true;
}

static bool parse_tree(ctx *c, const json_value *root, manifest *m) {
    static const char *const top[] = {"format", "format_version", "name", "version", "description", "wasm",
                                      "tokenizer", "members", "models", "capabilities", "limits"};
    static const char *const mem_keys[] = {"path", "size", "sha256"};
    static const char *const model_keys[] = {"alias", "path", "architecture", "quantization",
                                             "context_length", "parameter_count"};
    static const char *const cap_keys[] = {"dirs", "env"};
    static const char *const dir_keys[] = {"guest_path", "readonly"};
    static const char *const lim_keys[] = {"max_memory", "timeout_seconds", "ctx_size"};
    char where[64];
    const json_value *v = json_get(root, "format");
    if (root->type == JSON_OBJECT && (!v || v->type != JSON_STRING || strcmp(v->str, MANIFEST_FORMAT) != 0))
        return fail(c->err, c->errlen, "manifest: \"format\" is not \"%s\"", MANIFEST_FORMAT);
    v = json_get(root, "format_version");
    if (root->type == JSON_OBJECT && (!v || v->type != JSON_NUMBER || !v->is_int || v->integer != MANIFEST_VERSION))
        return fail(c->err, c->errlen, "manifest: unsupported \"format_version\" (this reader knows %d)", MANIFEST_VERSION);
    if (!exact_keys(c, root, "top level", top, sizeof top / sizeof *top)) return false;
    if (!get_str(c, root, "top level", "name", &m->name) || !get_str(c, root, "top level", "version", &m->version) ||
        !get_str(c, root, "top level", "description", &m->description) ||
        !get_str(c, root, "top level", "wasm", &m->wasm) || !get_str(c, root, "top level", "tokenizer", &m->tokenizer))
        return false;

    const json_value *arr;
    if (!get_array(c, root, "top level", "members", 2 + MANIFEST_MAX_MODELS, &arr)) return false;
    m->members = calloc(arr->len ? arr->len : 1, sizeof *m->members);
    if (!m->members) return fail(c->err, c->errlen, "out of memory");
    for (size_t i = 0; i < arr->len; i++) {
        m->n_members = i + 1;
        const json_value *e = &arr->items[i];
        char *hex = NULL;
        snprintf(where, sizeof where, "members[%zu]", i);
        if (!exact_keys(c, e, where, mem_keys, 3) || !get_str(c, e, where, "path", &m->members[i].path) ||
            !get_u64(c, e, where, "size", &m->members[i].size) || !get_str(c, e, where, "sha256", &hex))
            return false;
        bool ok = parse_hex32(hex, m->members[i].sha256);
        free(hex);
        if (!ok) return fail(c->err, c->errlen, "manifest: %s.sha256 must be 64 lower-case hex digits", where);
    }
    if (!get_array(c, root, "top level", "models", MANIFEST_MAX_MODELS, &arr)) return false;
    m->models = calloc(arr->len ? arr->len : 1, sizeof *m->models);
    if (!m->models) return fail(c->err, c->errlen, "out of memory");
    for (size_t i = 0; i < arr->len; i++) {
        m->n_models = i + 1;
        const json_value *e = &arr->items[i];
        manifest_model *md = &m->models[i];
        snprintf(where, sizeof where, "models[%zu]", i);
        if (!exact_keys(c, e, where, model_keys, 6) || !get_str(c, e, where, "alias", &md->alias) ||
            !get_str(c, e, where, "path", &md->path) || !get_str(c, e, where, "architecture", &md->architecture) ||
            !get_str(c, e, where, "quantization", &md->quantization) ||
            !get_u64(c, e, where, "context_length", &md->context_length) ||
            !get_u64(c, e, where, "parameter_count", &md->parameter_count))
            return false;
    }
    const json_value *cap = json_get(root, "capabilities");
    if (!exact_keys(c, cap, "capabilities", cap_keys, 2)) return false;
    if (!get_array(c, cap, "capabilities", "dirs", MANIFEST_MAX_DIRS, &arr)) return false;
    m->dirs = calloc(arr->len ? arr->len : 1, sizeof *m->dirs);
    if (!m->dirs) return fail(c->err, c->errlen, "out of memory");
    for (size_t i = 0; i < arr->len; i++) {
        m->n_dirs = i + 1;
        const json_value *e = &arr->items[i];
        snprintf(where, sizeof where, "capabilities.dirs[%zu]", i);
        if (!exact_keys(c, e, where, dir_keys, 2) || !get_str(c, e, where, "guest_path", &m->dirs[i].guest_path))
            return false;
        const json_value *ro = json_get(e, "readonly");
        if (ro->type != JSON_BOOL) return fail(c->err, c->errlen, "manifest: %s.readonly must be true or false", where);
        m->dirs[i].readonly = ro->boolean;
    }
    const json_value *env = json_get(cap, "env");
    if (env->type != JSON_OBJECT) return fail(c->err, c->errlen, "manifest: capabilities.env must be an object");
    if (env->len > MANIFEST_MAX_ENV) return fail(c->err, c->errlen, "manifest: capabilities.env has more than %d entries", MANIFEST_MAX_ENV);
    m->env = calloc(env->len ? env->len : 1, sizeof *m->env);
    if (!m->env) return fail(c->err, c->errlen, "out of memory");
    for (size_t i = 0; i < env->len; i++) {
        m->n_env = i + 1;
        const json_member *e = &env->members[i];
        if (strlen(e->key) != e->key_len) return fail(c->err, c->errlen, "manifest: capabilities.env: NUL in a name");
        if (!(m->env[i].key = strdup(e->key))) return fail(c->err, c->errlen, "out of memory");
        if (!get_str(c, env, "capabilities.env", e->key, &m->env[i].value)) return false;
    }
    const json_value *lim = json_get(root, "limits");
    if (!exact_keys(c, lim, "limits", lim_keys, 3) || !get_u64(c, lim, "limits", "max_memory", &m->max_memory) ||
        !get_u64(c, lim, "limits", "timeout_seconds", &m->timeout_seconds) ||
        !get_u64(c, lim, "limits", "ctx_size", &m->ctx_size))
        return false;
    return true;
}

bool manifest_parse(const char *text, size_t len, manifest *out, char *err, size_t errlen) {
    char jerr[200];
    memset(out, 0, sizeof *out);
    json_value *root = json_parse(text, len, jerr, sizeof jerr);
    if (!root) return fail(err, errlen, "manifest: %s", jerr);
    ctx c = {err, errlen};
    bool ok = root->type == JSON_OBJECT ? parse_tree(&c, root, out)
                                        : fail(err, errlen, "manifest: top level must be an object");
    json_free(root);
    if (ok) ok = manifest_validate(out, err, errlen);
    if (!ok) manifest_free(out);
    return ok;
}

void manifest_free(manifest *m) {
    free(m->name);
    free(m->version);
    free(m->description);
    free(m->wasm);
    free(m->tokenizer);
    for (size_t i = 0; i < m->n_members; i++) free(m->members[i].path);
    for (size_t i = 0; i < m->n_models; i++) {
        free(m->models[i].alias);
        free(m->models[i].path);
        free(m->models[i].architecture);
        free(m->models[i].quantization);
    }
    for (size_t i = 0; i < m->n_dirs; i++) free(m->dirs[i].guest_path);
    for (size_t i = 0; i < m->n_env; i++) {
        free(m->env[i].key);
        free(m->env[i].value);
    }
    free(m->members);
    free(m->models);
    free(m->dirs);
    free(m->env);
    memset(m, 0, sizeof *m);
}
