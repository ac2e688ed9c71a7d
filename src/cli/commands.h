/*
 * The command table. Adding a command:
 *   1. write src/cli/cmd_<name>.c with `int cmd_<name>(int argc, char **argv)`
 *      (argv[0] is the command name; parse options with getopt_long; print
 *      `--help` text from the row's help field via cli_usage());
 *   2. declare it below and add a row to the table in main.c
 *      (name, function, one-line summary, usage text);
 *   3. add the file to src/cli/meson.build;
 *   4. add a test under tests/e2e/ that runs the real binary.
 * The usage text is also the command's man page (`cairn help --man NAME`,
 * installed as cairn-NAME(1)) and what the shell completions offer (its
 * "  --option VALUE" lines): nothing else to write for those.
 * Commands return the exit status: 0 ok, 1 error, 2 usage error (others
 * documented per command, such as plan --detailed-exitcode).
 */
#ifndef CAIRN_CLI_COMMANDS_H
#define CAIRN_CLI_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#define EXIT_OK 0
#define EXIT_ERROR 1
#define EXIT_USAGE 2

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage; /* full --help text, ends with a newline */
};

const struct command *cli_find_command(const char *name);
/* The whole table, in the order `cairn --help` lists it. */
const struct command *cli_commands(size_t *n);
/* cairn's own --help text. */
void cli_main_usage(FILE *out);
/* "cairn VERSION (git COMMIT)" and a newline (cmd_help.c). */
void cli_print_version(FILE *out);
/* Prints the row's usage to `out`. */
void cli_usage(const char *name, FILE *out);
/* Prints "cairn NAME: MSG" and a hint, returns EXIT_USAGE. */
int cli_usage_error(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "cairn: error: MSG" on stderr (colour on a terminal unless NO_COLOR). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether to colour the stream (a terminal, NO_COLOR unset, TERM != dumb). */
int cli_use_color(FILE *f);

int cmd_validate(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_whoami(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_output(int argc, char **argv);
int cmd_unlock(int argc, char **argv);
int cmd_refresh(int argc, char **argv);
int cmd_drift(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_types(int argc, char **argv);
int cmd_schema(int argc, char **argv);

/* apply and destroy share one implementation (cmd_apply.c) */
int cmd_apply_or_destroy(int argc, char **argv, bool destroy);

#endif
