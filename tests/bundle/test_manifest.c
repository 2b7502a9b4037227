/* test_manifest.c: the manifest's canonical form round-trips, and every
 * schema rule refuses its bad input with a message naming the key. */
#include "manifest.h"
#include "tb.h"

static char err[512];

static const char good[] =
    "{\n"
    "  \"format\": \"wasmlet-bundle\",\n"
    "  \"format_version\": 1,\n"
    "  \"name\": \"chat\",\n"
    "  \"version\": \"0.1\",\n"
    "  \"description\": \"d\",\n"
    "  \"wasm\": \"app.wasm\",\n"
    "  \"tokenizer\": \"models/default.gguf\",\n"
    "  \"members\": [\n"
    "    {\n"
    "      \"path\": \"app.wasm\",\n"
    "      \"size\": 10,\n"
    "      \"sha256\": \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"\n"
    "    },\n"
    "    {\n"
    "      \"path\": \"models/default.gguf\",\n"
    "      \"size\": 20,\n"
    "      \"sha256\": \"ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\"\n"
    "    }\n"
    "  ],\n"
    "  \"models\": [\n"
    "    {\n"
    "      \"alias\": \"default\",\n"
    "      \"path\": \"models/default.gguf\",\n"
    "      \"architecture\": \"llama\",\n"
    "      \"quantization\": \"Q4_K\",\n"
    "      \"context_length\": 4096,\n"
    "      \"parameter_count\": 1100000000\n"
    "    }\n"
    "  ],\n"
    "  \"capabilities\": {\n"
    "    \"dirs\": [\n"
    "      {\"guest_path\": \"/data\", \"readonly\": true}\n"
    "    ],\n"
    "    \"env\": {\n"
    "      \"LANG\": \"C\"\n"
    "    }\n"
    "  },\n"
    "  \"limits\": {\n"
    "    \"max_memory\": 1073741824,\n"
    "    \"timeout_seconds\": 60,\n"
    "    \"ctx_size\": 2048\n"
    "  }\n"
    "}\n";

/* good with the first occurrence of from replaced by to */
static void bad(const char *from, const char *to, const char *want) {
    const char *at = strstr(good, from);
    CHECK(at != NULL, "test bug: '%s' not in the manifest", from);
    if (!at) return;
    char text[8192];
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
    manifest m;
    bool ok = manifest_parse(text, strlen(text), &m, err, sizeof err);
    CHECK(!ok, "accepted with '%s' -> '%s'", from, to);
    if (ok) manifest_free(&m);
    else CHECK(strstr(err, want) != NULL, "'%s' -> '%s': message \"%s\" lacks \"%s\"", from, to, err, want);
}

/* good with [from, to) replaced by with */
static void bad_span(const char *from, const char *to, const char *with, const char *want) {
    const char *a = strstr(good, from), *b = a ? strstr(a, to) : NULL;
    CHECK(a && b, "test bug: span '%s'..'%s' not found", from, to);
    if (!a || !b) return;
    char text[8192];
    snprintf(text, sizeof text, "%.*s%s%s", (int)(a - good), good, with, b);
    manifest m;
    bool ok = manifest_parse(text, strlen(text), &m, err, sizeof err);
    CHECK(!ok, "accepted with span '%s' replaced", from);
    if (ok) manifest_free(&m);
    else CHECK(strstr(err, want) != NULL, "span '%s': message \"%s\" lacks \"%s\"", from, err, want);
}

int main(void) {
    manifest m;
    CHECK(manifest_parse(good, strlen(good), &m, err, sizeof err), "%s", err);
    size_t len = 0;
    char *again = manifest_to_json(&m, &len);
    CHECK(again && len == strlen(good) && !memcmp(again, good, len), "canonical form differs:\n%s", again);
    free(again);
    CHECK(m.n_members == 2 && m.members[1].size == 20 && m.members[0].sha256[1] == 0x11, "members");
    CHECK(m.n_dirs == 1 && m.dirs[0].readonly && m.n_env == 1 && !strcmp(m.env[0].value, "C"), "capabilities");
    CHECK(m.max_memory == 1073741824 && m.ctx_size == 2048, "limits");
    manifest_free(&m);

    bad("\"wasmlet-bundle\"", "\"other\"", "\"format\" is not");
    bad("\"format_version\": 1", "\"format_version\": 2", "unsupported \"format_version\"");
    bad("\"name\": \"chat\",\n", "", "missing key \"name\"");
    bad("\"name\": \"chat\"", "\"name\": \"chat\", \"extra\": 0", "unknown key \"extra\"");
    bad("\"name\": \"chat\"", "\"name\": \"chat\", \"name\": \"x\"", "duplicate");
    bad("\"name\": \"chat\"", "\"name\": 5", "name must be a string");
    bad("\"name\": \"chat\"", "\"name\": \"\"", "\"name\" must be 1-128");
    bad("\"name\": \"chat\"", "\"name\": \"a\\nb\"", "\"name\" must be 1-128 printable");
    bad("\"name\": \"chat\"", "\"name\": \"a\\u0000b\"", "NUL");
    bad("\"wasm\": \"app.wasm\"", "\"wasm\": \"x.wasm\"", "\"wasm\" must be \"app.wasm\"");
    bad("\"tokenizer\": \"models/default.gguf\"", "\"tokenizer\": \"models/other.gguf\"", "\"tokenizer\" must be");
    bad("\"size\": 10", "\"size\": -1", "members[0].size must be a non-negative integer");
    bad("\"size\": 10", "\"size\": 1.5", "members[0].size must be a non-negative integer");
    bad("\"size\": 10", "\"size\": \"10\"", "members[0].size must be a non-negative integer");
    bad("\"sha256\": \"00", "\"sha256\": \"0G", "sha256 must be 64 lower-case hex");
    bad("\"sha256\": \"00", "\"sha256\": \"", "sha256 must be 64 lower-case hex");
    bad("ccddeeff\"", "CCDDEEFF\"", "sha256 must be 64 lower-case hex");
    bad("\"path\": \"app.wasm\"", "\"path\": \"../app.wasm\"", "members[0] must be \"app.wasm\"");
    bad("\"path\": \"models/default.gguf\",\n      \"size\"", "\"path\": \"models/x.gguf\",\n      \"size\"",
        "members[1] must be \"models/default.gguf\"");
    bad("\"alias\": \"default\"", "\"alias\": \"../x\"", "bad alias");
    bad("\"alias\": \"default\"", "\"alias\": \".hidden\"", "bad alias");
    bad("\"alias\": \"default\",\n      \"path\": \"models/default.gguf\"",
        "\"alias\": \"default\",\n      \"path\": \"models/default.bin\"", "path must be \"models/default.gguf\"");
    bad("\"models\": [\n    {", "\"models\": [\n    {\"alias\": \"default\", \"path\": \"models/default.gguf\", "
        "\"architecture\": \"\", \"quantization\": \"\", \"context_length\": 0, \"parameter_count\": 0},\n    {",
        "duplicate alias");
    bad("\"context_length\": 4096", "\"context_length\": 1e3", "context_length must be a non-negative integer");
    bad_span("\"members\": [", "\n  \"models\"", "\"members\": {},", "members must be an array");
    bad("\"guest_path\": \"/data\"", "\"guest_path\": \"data\"", "not an absolute normalised path");
    bad("\"guest_path\": \"/data\"", "\"guest_path\": \"/data/../etc\"", "not an absolute normalised path");
    bad("\"guest_path\": \"/data\"", "\"guest_path\": \"/data//x\"", "not an absolute normalised path");
    bad("\"readonly\": true", "\"readonly\": 1", "readonly must be true or false");
    bad("{\"guest_path\": \"/data\", \"readonly\": true}",
        "{\"guest_path\": \"/data\", \"readonly\": true}, {\"guest_path\": \"/data\", \"readonly\": false}", "duplicate guest_path");
    bad("\"LANG\": \"C\"", "\"A=B\": \"C\"", "bad variable name");
    bad("\"LANG\": \"C\"", "\"LANG\": 1", "capabilities.env.LANG must be a string");
    bad_span("\"env\": {", "\n  },\n  \"limits\"", "\"env\": []", "capabilities.env must be an object");
    bad("\"ctx_size\": 2048", "\"ctx_size\": null", "limits.ctx_size must be a non-negative integer");
    bad("\"ctx_size\": 2048", "\"ctx_size\": 2048, \"gpu\": 1", "limits: unknown key \"gpu\"");
    bad("\"ctx_size\": 2048", "\"ctx_size\": 1048577", "limits.ctx_size is over 1048576");
    bad("\"timeout_seconds\": 60", "\"timeout_seconds\": 18446744073709551", "limits.timeout_seconds is over");
    bad("\"max_memory\": 1073741824", "\"max_memory\": 4294967297", "limits.max_memory is over 4 GiB");
    bad_span("\"limits\": {", "\n}\n", "\"limits\": []", "limits must be an object");
    bad("{\n  \"format\"", "[{\n  \"format\"", "");
    bad("\n}\n", "\n}\n{}", "manifest: ");
    bad("\"models\": [\n    {\n      \"alias\"", "\"models\": [],\n  \"x\": [\n    {\n      \"alias\"", "");
    return tb_finish("test_manifest");
}
