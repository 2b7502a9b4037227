/* wasmlet-pack: the packager's command line. One subcommand per file:
 *   wasmlet-pack synth ...     random-weight GGUF models (synth.c)
 * Each subcommand parses its own flags and returns the exit status. */
#include <stdio.h>
#include <string.h>

#include "synth.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} subcommand;

static const subcommand commands[] = {
    {"synth", pack_synth, "write a GGUF model with random weights"},
};

int main(int argc, char **argv) {
    const size_t n = sizeof commands / sizeof commands[0];
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
