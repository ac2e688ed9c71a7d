/*
 * cairn unlock LOCK_ID: breaks the state lock of a command that is gone.
 * The id must match the current lock, so a lock taken since the user read
 * the message is never broken by mistake.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cairn/state.h"
#include "commands.h"
#include "stateopts.h"

int cmd_unlock(int argc, char **argv)
{
	static const struct option opts[] = {
		STATEOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct stateopts so;
	struct err err = ERR_INIT;
	struct state *st;
	char *path;
	int c, rc = EXIT_OK;

	stateopts_init(&so);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		int r = stateopts_handle(&so, c, optarg, &err);
		if (r < 0)
			return cli_usage_error("unlock", "%s", err.msg);
		if (r > 0)
			continue;
		if (c == ':')
			return cli_usage_error("unlock", "'%s' needs a value",
					       argv[optind - 1]);
		return cli_usage_error("unlock", "unknown option '%s'",
				       argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cli_usage_error("unlock", "which LOCK_ID? (it is in "
						 "the message of the command "
						 "that found the state locked)");
	path = stateopts_path(&so, NULL, NULL, &err);
	if (!path)
		return cli_usage_error("unlock", "%s", err.msg);
	st = state_open(path, 0, &err);
	if (!st) {
		cli_error("%s", err.msg);
		free(path);
		return EXIT_ERROR;
	}
	if (state_force_unlock(st, argv[optind], &err)) {
		cli_error("%s", err.msg);
		rc = EXIT_ERROR;
	} else {
		printf("Broke lock %s on state '%s'\n", argv[optind], path);
	}
	state_close(st);
	free(path);
	return rc;
}
