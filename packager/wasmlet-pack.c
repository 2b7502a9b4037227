/* wasmlet-pack: the packager's command line. One subcommand per file:
 *   wasmlet-pack synth ...     random-weight GGUF models (synth.c)
 *   wasmlet-pack keygen|build|sign|verify|inspect|extract ...
 *                              signed bundles (bundle/pack_cmds.h)
 *   wasmlet-pack help [COMMAND], -h, --help    the list, or COMMAND's usage
 * Each subcommand parses its own flags (-h/--help: its usage on stdout,
 * exit 0) and returns the exit status. */
#include <stdbool.h>
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

static const size_t n_commands = sizeof commands / sizeof commands[0];

static bool is_help(const char *a) {
    return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

static void list_commands(FILE *f) {
    fprintf(f, "usage: wasmlet-pack COMMAND [flags]\n");
    for (size_t i = 0; i < n_commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "  %-10s %s\n", "help", "this list, or COMMAND's usage (help COMMAND)");
    fprintf(f, "'wasmlet-pack COMMAND --help' prints a command's usage and flags.\n");
}

static const subcommand *find_command(const char *name) {
    for (size_t i = 0; i < n_commands; i++)
        if (strcmp(name, commands[i].name) == 0) return &commands[i];
    return NULL;
}

int main(int argc, char **argv) {
#ifdef HAVE_BUNDLE
    /* build checks a guest's imports against what wasmlet-run provides. */
    bundle_set_wasm_checker(bundle_host_wasm_check);
#endif
    if (argc < 2) {   /* a usage error: the list goes to stderr */
        list_commands(stderr);
        return 2;
    }
    if (is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        if (argc == 2 || is_help(argv[1]) || (strcmp(argv[2], "help") == 0 && argc == 3)) {
            list_commands(stdout);
            return 0;
        }
        /* help COMMAND: COMMAND --help */
        const subcommand *c = find_command(argv[2]);
        if (!c) {
            fprintf(stderr, "wasmlet-pack: unknown command '%s' (see wasmlet-pack --help)\n", argv[2]);
            return 2;
        }
        if (argc > 3) {
            fprintf(stderr, "wasmlet-pack help: unexpected argument '%s'\n", argv[3]);
            return 2;
        }
        static char help_flag[] = "--help";
        char *sub_argv[] = {argv[2], help_flag, NULL};
        return c->run(2, sub_argv);
    }
    const subcommand *c = find_command(argv[1]);
    if (c) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "wasmlet-pack: unknown command '%s' (see wasmlet-pack --help)\n", argv[1]);
    return 2;
}
