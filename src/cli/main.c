#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/log.h"
#include "version.h"
#include "commands.h"

static const struct command commands[] = {
	{ "validate", cmd_validate, "check a template against the resource schemas",
	  "usage: cairn validate TEMPLATE [options]\n"
	  "\n"
	  "Loads TEMPLATE, evaluates parameters, conditions and intrinsics, and\n"
	  "checks every resource against its CloudFormation schema. Reports every\n"
	  "problem as file:line:col. Needs no AWS credentials.\n"
	  "\n"
	  "  --param NAME=VALUE     a parameter value (repeatable)\n"
	  "  --params-file FILE     parameter values from a YAML or JSON map\n"
	  "  --region REGION        region to assume (default us-east-1)\n"
	  "  --account ID           account id to assume (default 123456789012)\n"
	  "  --stack NAME           stack name (default: the template's file name)\n"
	  "  --json                 print the result as JSON\n"
	  "\n"
	  "Environment CAIRN_PARAM_<Name> also sets parameter Name.\n" },
	{ "graph", cmd_graph, "print the resource dependency graph",
	  "usage: cairn graph TEMPLATE [--format dot|json] [options]\n"
	  "\n"
	  "Prints the dependency graph of TEMPLATE: edges from Ref, Fn::GetAtt,\n"
	  "Fn::Sub and DependsOn, plus the implicit edges AWS needs (dashed in DOT,\n"
	  "\"implicit\": true in JSON).\n"
	  "\n"
	  "  --format dot|json      output format (default dot)\n"
	  "  --param, --params-file, --region, --account, --stack as for validate\n" },
	{ "whoami", cmd_whoami, "show the AWS identity cairn would use",
	  "usage: cairn whoami [--region REGION] [--profile NAME] [--endpoint-url URL] [--json]\n"
	  "\n"
	  "Resolves credentials the way AWS SDKs do and calls sts:GetCallerIdentity.\n" },
	{ "plan", cmd_plan, "show what apply would change",
	  "usage: cairn plan TEMPLATE [options]\n" },
	{ "apply", cmd_apply, "create or update the stack's resources",
	  "usage: cairn apply TEMPLATE|PLANFILE [options]\n" },
	{ "destroy", cmd_destroy, "delete every resource of the stack",
	  "usage: cairn destroy TEMPLATE [options]\n" },
	{ "state", cmd_state, "inspect or edit recorded state",
	  "usage: cairn state list|show|rm|history [options]\n" },
	{ "output", cmd_output, "print the stack's outputs",
	  "usage: cairn output [--stack NAME | --state PATH] [--json]\n" },
	{ "unlock", cmd_unlock, "break a stale state lock",
	  "usage: cairn unlock LOCK_ID [--stack NAME | --state PATH]\n" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct command *cli_find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

void cli_usage(const char *name, FILE *out)
{
	const struct command *c = cli_find_command(name);
	if (c)
		fputs(c->usage, out);
}

int cli_use_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (nc && *nc)
		return 0;
	if (term && !strcmp(term, "dumb"))
		return 0;
	return isatty(fileno(f));
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	int color = cli_use_color(stderr);

	fputs(color ? "cairn: \033[1;31merror:\033[0m " : "cairn: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cairn %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'cairn %s --help'.\n", name);
	return EXIT_USAGE;
}

static void main_usage(FILE *out)
{
	size_t i;

	fputs("usage: cairn [--version] [--help] [--debug] <command> [options]\n"
	      "\n"
	      "cairn runs CloudFormation-format YAML stacks without CloudFormation.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nRun 'cairn <command> --help' for a command's options.\n", out);
}

int main(int argc, char **argv)
{
	const struct command *c;
	int i;

	log_init_from_env();
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			main_usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("cairn %s\n", CAIRN_VERSION);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--debug")) {
			log_set_level(LOG_DEBUG);
		} else {
			fprintf(stderr, "cairn: unknown option '%s'\n", argv[i]);
			main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	c = cli_find_command(argv[i]);
	if (!c) {
		fprintf(stderr, "cairn: '%s' is not a cairn command\n", argv[i]);
		main_usage(stderr);
		return EXIT_USAGE;
	}
	/* --help and --debug are answered here so every command has them;
	 * --debug is removed so commands' option parsers never see it */
	{
		int j, k = i + 1, seen_dashdash = 0;
		for (j = i + 1; j < argc; j++) {
			if (!seen_dashdash && !strcmp(argv[j], "--"))
				seen_dashdash = 1;
			if (!seen_dashdash &&
			    (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h"))) {
				fputs(c->usage, stdout);
				return EXIT_OK;
			}
			if (!seen_dashdash && !strcmp(argv[j], "--debug")) {
				log_set_level(LOG_DEBUG);
				continue;
			}
			argv[k++] = argv[j];
		}
		argv[k] = NULL;
		argc = k;
	}
	return c->fn(argc - i, argv + i);
}
