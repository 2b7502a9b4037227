/* wasmlet-llm: the engine's native command line.
 *   wasmlet-llm -m FILE --info              metadata summary
 *   wasmlet-llm -m FILE --tokenize [-p T]   token ids of T (or stdin)
 *   wasmlet-llm -m FILE [-p PROMPT] ...     generate (llama.cpp's flags)
 * Each mode lives in its own file and parses its own flags, -h/--help
 * included ("wasmlet-llm --help" is generation's, which names the others). */
#include <stdio.h>
#include <string.h>
#include "llm_cli.h"

#if !defined(HAVE_LLM_INFO) || !defined(HAVE_LLM_TOKENIZE) || !defined(HAVE_LLM_GENERATE)
static int missing(const char *mode) {
    fprintf(stderr, "wasmlet-llm: %s is not part of this build\n", mode);
    return 2;
}
#endif

/* Options that take no value; every other option's next argument is its
 * value and is never read as a mode ("-p --tokenize" is a prompt). */
static int is_switch(const char *a) {
    static const char *const sw[] = { "--info", "--tokenize", "--all", "--bos", "--special",
                                      "--ignore-eos", "--ids", "--kv-f16", "--kv-f32", "-h", "--help" };
    for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++)
        if (strcmp(a, sw[i]) == 0) return 1;
    return strchr(a, '=') != NULL;   /* --flag=value */
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && !is_switch(argv[i])) {
            i++;   /* skip its value */
            continue;
        }
        if (strcmp(argv[i], "--info") == 0) {
#ifdef HAVE_LLM_INFO
            return llm_cli_info(argc, argv);
#else
            return missing("--info");
#endif
        }
        if (strcmp(argv[i], "--tokenize") == 0) {
#ifdef HAVE_LLM_TOKENIZE
            return llm_cli_tokenize(argc, argv);
#else
            return missing("--tokenize");
#endif
        }
    }
#ifdef HAVE_LLM_GENERATE
    return llm_cli_generate(argc, argv);
#else
    return missing("generation");
#endif
}
