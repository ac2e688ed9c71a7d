#include <stdlib.h>

#include "cliopts.h"
#include "commands.h"

int cli_parse_int(const char *name, const char *arg, long lo, long hi,
		  int *out, struct err *err)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (!*arg || *end || v < lo || v > hi)
		return err_set(err, ERR_USAGE,
			       "%s takes a number from %ld to %ld, not '%s'", name,
			       lo, hi, arg);
	*out = (int)v;
	return 0;
}

int cli_parse_opts(const struct cli_opts *o, const struct option *longopts,
		   int argc, char **argv, int *first)
{
	struct err err = ERR_INIT;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		int r = 0;

		if (c == ':') {
			cli_usage_error(o->cmd, "'%s' needs a value", argv[optind - 1]);
			return -1;
		}
		if (o->to)
			r = tmplopts_handle(o->to, c, optarg, &err);
		if (r == 0 && o->so)
			r = stateopts_handle(o->so, c, optarg, &err);
		if (r == 0 && o->aws && c >= AWSOPT_BASE && c < AWSOPT_END) {
			/* awsopts_parse prints its own message */
			if (awsopts_parse(o->aws, c, optarg, o->cmd) < 0)
				return -1;
			continue;
		}
		if (r == 0 && o->own && c != '?')
			r = o->own(o->ud, c, optarg, &err);
		if (r < 0) {
			cli_usage_error(o->cmd, "%s", err.msg);
			return -1;
		}
		if (r == 0) {
			cli_usage_error(o->cmd, "unknown option '%s'", argv[optind - 1]);
			return -1;
		}
	}
	*first = optind;
	return 0;
}
