/*
 * awsopts: the AWS options every AWS-calling command shares (whoami, plan,
 * apply, destroy): --region, --profile, --endpoint-url, --max-attempts,
 * --request-timeout. Add AWSOPTS_LONGOPTS to a getopt_long table and call
 * awsopts_parse() for option values >= AWSOPT_BASE.
 */
#ifndef CAIRN_CLI_AWSOPTS_H
#define CAIRN_CLI_AWSOPTS_H

#include "cairn/aws.h"

enum {
	AWSOPT_BASE = 0x4157, /* above any short option */
	AWSOPT_REGION = AWSOPT_BASE,
	AWSOPT_PROFILE,
	AWSOPT_ENDPOINT_URL,
	AWSOPT_MAX_ATTEMPTS,
	AWSOPT_REQUEST_TIMEOUT,
	AWSOPT_END,
};

#define AWSOPTS_LONGOPTS                                                      \
	{ "region", required_argument, NULL, AWSOPT_REGION },                \
	{ "profile", required_argument, NULL, AWSOPT_PROFILE },              \
	{ "endpoint-url", required_argument, NULL, AWSOPT_ENDPOINT_URL },    \
	{ "max-attempts", required_argument, NULL, AWSOPT_MAX_ATTEMPTS },    \
	{ "request-timeout", required_argument, NULL, AWSOPT_REQUEST_TIMEOUT }

/* The usage lines for these options, for a command's --help text. */
#define AWSOPTS_HELP                                                          \
	"  --region REGION        AWS region (else AWS_REGION, AWS_DEFAULT_REGION,\n" \
	"                         the profile's region)\n"                        \
	"  --profile NAME         shared config/credentials profile\n"            \
	"  --endpoint-url URL     send every AWS call to URL (https, or http to\n" \
	"                         a loopback address)\n"                          \
	"  --max-attempts N       attempts per call, retries included (default 3)\n" \
	"  --request-timeout SEC  timeout of one HTTP request (default 60)\n"

/* Handles option `opt` with argument `arg` into o. Returns 1 if it was an
 * AWS option, 0 if not, -1 (message printed for command `cmd`) on a bad
 * value. */
int awsopts_parse(struct aws_options *o, int opt, const char *arg,
		  const char *cmd);

#endif
