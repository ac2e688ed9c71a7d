#include <errno.h>
#include <stdlib.h>

#include "awsopts.h"
#include "commands.h"

static int number(const char *arg, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(arg, &end, 10);
	return !errno && end != arg && !*end && *out >= lo && *out <= hi;
}

int awsopts_parse(struct aws_options *o, int opt, const char *arg,
		  const char *cmd)
{
	long n;

	switch (opt) {
	case AWSOPT_REGION:
		o->region = arg;
		return 1;
	case AWSOPT_PROFILE:
		o->profile = arg;
		return 1;
	case AWSOPT_ENDPOINT_URL:
		o->endpoint_url = arg;
		return 1;
	case AWSOPT_MAX_ATTEMPTS:
		if (!number(arg, 1, 100, &n)) {
			cli_usage_error(cmd, "--max-attempts \"%s\": expected 1 to 100", arg);
			return -1;
		}
		o->max_attempts = (int)n;
		return 1;
	case AWSOPT_REQUEST_TIMEOUT:
		if (!number(arg, 1, 3600, &n)) {
			cli_usage_error(cmd,
					"--request-timeout \"%s\": expected seconds from 1 to 3600",
					arg);
			return -1;
		}
		o->request_timeout_ms = n * 1000;
		return 1;
	default:
		return 0;
	}
}
