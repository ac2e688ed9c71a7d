/*
 * cliopts: the one option loop the commands share.
 *
 * A command lists its getopt_long table (TMPLOPTS_LONGOPTS,
 * STATEOPTS_LONGOPTS..., AWS options, its own) and hands the parsers it
 * uses to cli_parse_opts(), which runs getopt_long once over argv:
 * template, state and AWS options go to their parsers, the command's own
 * to `own`; a missing value, an unknown option or a bad value is printed as
 * a usage error naming the command. The command then reads its positional
 * arguments from argv[*first ...].
 *
 *   static int own(void *ud, int opt, const char *arg, struct err *err)
 *   { struct x *x = ud; if (opt == OPT_JSON) { x->json = 1; return 1; }
 *     return 0; }
 *   struct cli_opts co = { "validate", &to, NULL, NULL, own, &x };
 *   if (cli_parse_opts(&co, opts, argc, argv, &first) < 0)
 *       return EXIT_USAGE;           (tmplopts_release first)
 */
#ifndef CAIRN_CLI_CLIOPTS_H
#define CAIRN_CLI_CLIOPTS_H

#include <getopt.h>

#include "awsopts.h"
#include "cairn/err.h"
#include "stateopts.h"
#include "tmplopts.h"

struct cli_opts {
	const char *cmd;         /* the command, for messages */
	struct tmplopts *to;     /* NULL: no template options */
	struct stateopts *so;    /* NULL: no state options */
	struct aws_options *aws; /* NULL: no AWS options */
	/* The command's own options: 1 handled, 0 not one of them, -1 a bad
	 * value (err says why). NULL: it has none. */
	int (*own)(void *ud, int opt, const char *arg, struct err *err);
	void *ud;
};

/* Parses the options of argv (argv[0] is the command). 0 with *first the
 * index of the first positional argument, or -1 once the usage error has
 * been printed. */
int cli_parse_opts(const struct cli_opts *o, const struct option *longopts,
		   int argc, char **argv, int *first);

/* A whole number from lo to hi given to option `name`: 0, or -1 with err
 * ("--parallelism takes a number from 1 to 64, not 'x'"). */
int cli_parse_int(const char *name, const char *arg, long lo, long hi,
		  int *out, struct err *err);

#endif
