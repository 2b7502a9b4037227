/* pack_cmds.h: the bundle subcommands of wasmlet-pack.
 *
 * Contract: each takes the subcommand's own argv (argv[0] is the
 * subcommand name, e.g. "verify") and returns the process exit status:
 * 0 success, 1 failure (one line on stderr saying what and where),
 * 2 usage error. Usage is in docs/bundle.md and printed on a usage error.
 *   keygen  -p PUB -s SEC [-W] [--password-file F] [-f]
 *   build   --wasm F --model ALIAS=F... [--tokenizer F] --name N --version V
 *           [--description D] [--dir GUEST[:ro]]... [--env K=V]...
 *           [--max-memory BYTES] [--timeout S] [--ctx-size N]
 *           [-s SEC [--password-file F]] [--optimize] -o OUT
 *   sign    -s SEC [--password-file F] BUNDLE
 *   sign    -x SIGFILE -p PUB BUNDLE      (embed a signature made elsewhere)
 *   verify  -p PUB... [--full] BUNDLE
 *   inspect [--json] BUNDLE
 *   extract [-p PUB]... [--force] BUNDLE DIR   (-p: the signature must verify)
 */
#ifndef WASMLET_PACK_CMDS_H
#define WASMLET_PACK_CMDS_H

int pack_cmd_keygen(int argc, char **argv);
int pack_cmd_build(int argc, char **argv);
int pack_cmd_sign(int argc, char **argv);
int pack_cmd_verify(int argc, char **argv);
int pack_cmd_inspect(int argc, char **argv);
int pack_cmd_extract(int argc, char **argv);

#endif
