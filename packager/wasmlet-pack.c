/* wasmlet-pack: the packager's command line. One subcommand per file:
 *   wasmlet-pack synth ...     random-weight GGUF models (synth.c)
 *   wasmlet-pack keygen|build|sign|verify|inspect|extract ...
 *                              signed bundles (bundle/pack_cmds.h)
 * Each subcommand parses its own flags and returns the exit status. */
#include <stdio.h>
#include <string.h>

#include "synth.h"
#ifdef HAVE_BUNDLE
#include "pack_cmds.h"
#include "build.h"
#include "host_check.h"
#endif

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} subcommand;

static const subcommand commands[] = {
    {"synth", pack_synth, "write a GGUF model with random weights"},
#ifdef HAVE_BUNDLE
    {"keygen", pack_cmd_keygen, "make a signing key pair (minisign format)"},
    {"build", pack_cmd_build, "pack a guest, tokenizer and models into a bundle"},
    {"sign", pack_cmd_sign, "sign a bundle's manifest"},
    {"verify", pack_cmd_verify, "verify a bundle against public keys"},
    {"inspect", pack_cmd_inspect, "show a bundle's manifest and members"},
    {"extract", pack_cmd_extract, "unpack a bundle into a folder"},
#endif
};

int main(int argc, char **argv) {
    const size_t n = sizeof commands / sizeof commands[0];
#ifdef HAVE_BUNDLE
    /* build checks a guest's imports against what wasmlet-run provides. */
    bundle_set_wasm_checker(bundle_host_wasm_check);
#endif
    if (argc >= 2) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
        fprintf(stderr, "wasmlet-pack: unknown command '%s'\n", argv[1]);
        return 2;
    }
    fprintf(stderr, "usage: wasmlet-pack COMMAND [flags]\n");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %-10s %s\n", commands[i].name, commands[i].help);
    return 2;
}
