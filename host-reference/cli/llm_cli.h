/* llm_cli.h: the modes of wasmlet-llm. Each parses the whole argv itself,
 * prints a one-line error and returns 2 on a bad flag, prints its usage on
 * stdout and returns 0 on -h/--help (opening nothing), and
 * returns the process exit status. */
#ifndef WASMLET_LLM_CLI_H
#define WASMLET_LLM_CLI_H
int llm_cli_info(int argc, char **argv);      /* llm_info.c */
int llm_cli_tokenize(int argc, char **argv);  /* llm_tokenize.c */
int llm_cli_generate(int argc, char **argv);  /* llm_generate.c */
#endif
