/* synth.h: `wasmlet-pack synth` (see synth.c for the flags): random-weight
 * GGUF models of any shape and weight type, deterministic for a seed, and
 * F32 dequantized copies of a model. Parses its own argv (argv[0] is
 * "synth"); returns the exit status: 0, 1 on failure, 2 on bad flags. */
#ifndef WASMLET_PACK_SYNTH_H
#define WASMLET_PACK_SYNTH_H
int pack_synth(int argc, char **argv);
#endif
