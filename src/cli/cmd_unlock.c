/*
 * cairn unlock LOCK_ID: breaks the state lock of a command that is gone.
 * The id must match the current lock, so a lock taken since the user read
 * the message is never broken by mistake. For an s3:// state the lock is
 * the object KEY.lock, deleted with If-Match on the ETag read.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsopts.h"
#include "cairn/remote.h"
#include "cairn/state.h"
#include "commands.h"
#include "stateopts.h"

int cmd_unlock(int argc, char **argv)
{
	static const struct option opts[] = {
		STATEOPTS_LONGOPTS,
		AWSOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct aws_options ao;
	struct stateopts so;
	struct err err = ERR_INIT;
	struct state *st;
	char *path;
	int c, rc = EXIT_OK;

	stateopts_init(&so);
	memset(&ao, 0, sizeof(ao));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		int r = stateopts_handle(&so, c, optarg, &err);
		if (r < 0)
			return cli_usage_error("unlock", "%s", err.msg);
		if (r > 0)
			continue;
		if (c >= AWSOPT_BASE && c < AWSOPT_END) {
			if (awsopts_parse(&ao, c, optarg, "unlock") < 0)
				return EXIT_USAGE;
			continue;
		}
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
	if (remote_is_url(path)) {
		struct aws_options sao;
		struct aws_client *aws;

		so.aws = &ao;
		stateopts_aws_options(&so, &sao);
		aws = aws_client_new(&sao, &err);
		if (!aws || remote_force_unlock(aws, path, argv[optind],
						&err) < 0) {
			cli_error("%s", err.msg);
			rc = EXIT_ERROR;
		} else {
			printf("Broke lock %s on state '%s'\n", argv[optind],
			       path);
		}
		aws_client_free(aws);
		free(path);
		return rc;
	}
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
