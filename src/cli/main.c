#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__ /* defined by the headers above */
#include <malloc.h>
#endif

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
	  "usage: cairn graph TEMPLATE [--format dot|json|mermaid] [options]\n"
	  "\n"
	  "Prints the dependency graph of TEMPLATE: edges from Ref, Fn::GetAtt,\n"
	  "Fn::Sub and DependsOn, plus the implicit edges AWS needs (dashed in DOT,\n"
	  "\"implicit\": true in JSON).\n"
	  "\n"
	  "  --format dot|json|mermaid  output format (default dot; mermaid: a flowchart\n"
	  "                         GitHub and GitLab render)\n"
	  "  --param, --params-file, --region, --account, --stack as for validate\n" },
	{ "whoami", cmd_whoami, "show the AWS identity cairn would use",
	  "usage: cairn whoami [--region REGION] [--profile NAME] [--endpoint-url URL] [--json]\n"
	  "\n"
	  "Resolves credentials the way AWS SDKs do and calls sts:GetCallerIdentity.\n"
	  "Prints the account, the ARN, the user id and where the credentials came\n"
	  "from. Sources, in order: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY\n"
	  "(+AWS_SESSION_TOKEN); web identity (AWS_WEB_IDENTITY_TOKEN_FILE +\n"
	  "AWS_ROLE_ARN); the profile in ~/.aws/credentials and ~/.aws/config\n"
	  "(keys, role_arn + source_profile, credential_process); container\n"
	  "credentials; EC2 instance metadata (IMDSv2).\n"
	  "\n"
	  "  --json                 print the identity as JSON\n"
	  "  --region REGION        AWS region (else AWS_REGION, AWS_DEFAULT_REGION,\n"
	  "                         the profile's region)\n"
	  "  --profile NAME         shared config/credentials profile\n"
	  "  --endpoint-url URL     send every AWS call to URL (https, or http to a\n"
	  "                         loopback address); also AWS_ENDPOINT_URL,\n"
	  "                         AWS_ENDPOINT_URL_<SERVICE>, endpoint_url\n"
	  "  --max-attempts N       attempts per call, retries included (default 3)\n"
	  "  --request-timeout SEC  timeout of one HTTP request (default 60)\n" },
	{ "plan", cmd_plan, "show what apply would change",
	  "usage: cairn plan TEMPLATE [options]\n"
	  "\n"
	  "Evaluates TEMPLATE, compares it with the stack's recorded state and\n"
	  "prints what apply would do: + create, ~ update in place, -/+ replace\n"
	  "(delete first) or +/- (create first), - destroy, . forget (DeletionPolicy\n"
	  "Retain), with the property changes and the create-only property that\n"
	  "forces each replacement. A missing state file is an empty state (plan\n"
	  "never creates it). Recorded resources are first read live from AWS\n"
	  "(into a private copy of the state: plan never writes the state);\n"
	  "--refresh=false plans from the recorded state alone, without AWS.\n"
	  "\n"
	  "  --param, --params-file, --region, --account, --stack as for validate\n"
	  "  --state PATH|s3://BUCKET/KEY  the state (default: $CAIRN_STATE,\n"
	  "                         cairn.yaml, else state/<stack>.db); an S3\n"
	  "                         state is read without its lock (docs/state-s3.md)\n"
	  "  --json                 print the plan as JSON (docs/plan-json.md)\n"
	  "  --format FMT           human (default), json or markdown (a table, a\n"
	  "                         Mermaid diagram and <details> per resource)\n"
	  "  --out FILE             also save the plan (JSON, mode 0600, no secrets)\n"
	  "                         for 'cairn apply FILE'; apply refuses it once the\n"
	  "                         template, a parameter or the state has changed\n"
	  "  --detailed-exitcode    exit 0 when there are no changes, 2 when there\n"
	  "                         are, 1 on any error\n"
	  "  --refresh=false        do not read live resources (no AWS access)\n"
	  "  --profile, --endpoint-url, --max-attempts, --request-timeout\n"
	  "                         AWS options of the live read, as for whoami\n"
	  "  --lock=false           do not take the state lock\n"
	  "  --lock-timeout DURATION  wait this long for a held lock (30s, 5m)\n"
	  "\n"
	  "Colour only on a terminal, never when NO_COLOR is set.\n" },
	{ "apply", cmd_apply, "create or update the stack's resources",
	  "usage: cairn apply TEMPLATE|PLANFILE [options]\n"
	  "\n"
	  "Plans TEMPLATE against the recorded state, shows the plan, asks for\n"
	  "'yes' on a terminal, then creates, updates, replaces and deletes\n"
	  "resources in dependency order, many at once, recording each change in\n"
	  "the state the moment AWS confirms it. Given a plan saved with\n"
	  "'cairn plan --out FILE', applies exactly that plan and refuses it when\n"
	  "the template, the parameters or the state changed since.\n"
	  "Without a terminal it refuses unless --auto-approve or a plan file is\n"
	  "given. A second apply continues where a failed or interrupted one\n"
	  "stopped. Dynamic references ({{resolve:ssm|ssm-secure|secretsmanager:...}})\n"
	  "are read here, just before the call that needs each, and never\n"
	  "printed or stored (also from a saved plan: the value current at apply).\n"
	  "Exit: 0 done, 1 error or failed resource, 2 usage.\n"
	  "\n"
	  "  --auto-approve         do not ask for confirmation\n"
	  "  --parallelism N        operations at once, not counting those waiting\n"
	  "                         for a poll or for AWS's rate limits (default 10)\n"
	  "  --param, --params-file, --region, --account, --stack as for validate\n"
	  "  --state PATH|s3://BUCKET/KEY  state (default: $CAIRN_STATE, cairn.yaml,\n"
	  "                         else state/<stack>.db; docs/state-s3.md)\n"
	  "  --state-kms-key KEY    an S3 state: SSE-KMS key (default SSE-S3)\n"
	  "  --lock-timeout DUR     wait this long for the state lock (e.g. 30s)\n"
	  "  --profile NAME, --endpoint-url URL, --max-attempts N,\n"
	  "  --request-timeout SEC  AWS client options (see 'cairn whoami --help')\n"
	  "  --poll-interval-ms MS  first poll interval of waits (default 2000)\n"
	  "  --refresh=false        skip reading the resources live first (by\n"
	  "                         default apply records what AWS really has, so\n"
	  "                         drift is repaired)\n"
	  "\n"
	  "First Ctrl-C: start nothing new, finish what is in flight, save state.\n"
	  "Second Ctrl-C: abandon waits.\n" },
	{ "destroy", cmd_destroy, "delete every resource of the stack",
	  "usage: cairn destroy TEMPLATE [options]\n"
	  "\n"
	  "Deletes every resource the stack's state records, dependents first\n"
	  "(resources with DeletionPolicy Retain are only forgotten). Asks for\n"
	  "'yes' on a terminal; without one, needs --auto-approve.\n"
	  "Options as for apply.\n" },
	{ "state", cmd_state, "inspect or edit recorded state",
	  "usage: cairn state list|show|rm|history|push|pull|migrate [options]\n"
	  "\n"
	  "Reads the recorded state of a stack (state/<stack>.db, or s3://...);\n"
	  "AWS resources are not touched.\n"
	  "\n"
	  "  state list                  logical id, type, physical id, status\n"
	  "  state show LOGICAL_ID       properties (secrets as (sensitive)),\n"
	  "                              attributes, dependencies\n"
	  "  state rm LOGICAL_ID...      forget resources without deleting them\n"
	  "                              in AWS (takes the lock)\n"
	  "  state history [LOGICAL_ID]  the journal: every AWS call's intent and\n"
	  "                              outcome; [OPEN] marks an unconfirmed call;\n"
	  "                              an S3 state: the bucket's versions first\n"
	  "                              (--versions: only them)\n"
	  "  state push LOCAL          upload LOCAL to the S3 --state (locked;\n"
	  "                              refuses a newer remote serial: --force)\n"
	  "  state pull LOCAL          download the S3 --state to LOCAL\n"
	  "                              [--version-id ID] (refuses a newer LOCAL)\n"
	  "  state migrate --to LOC    copy the state between a local file and\n"
	  "                              s3://BUCKET/KEY (see docs/state-s3.md)\n"
	  "\n"
	  "  --stack NAME            the stack (default: the only state/*.db)\n"
	  "  --state PATH            the state database (default state/<stack>.db)\n"
	  "  --lock-timeout DURATION rm: wait this long for a held lock (30s, 5m)\n"
	  "  --limit N               history: only the newest N entries\n"
	  "  --json                  list, show, history: print JSON\n" },
	{ "output", cmd_output, "print the stack's outputs",
	  "usage: cairn output [NAME] [--stack NAME | --state PATH] [--json]\n"
	  "\n"
	  "Prints the stack's outputs as recorded by the last apply, one\n"
	  "NAME = value per line; with NAME, only that value (strings raw, for\n"
	  "scripts). Sensitive outputs print as (sensitive): only their\n"
	  "fingerprint is stored. --json prints {NAME: {value, sensitive,\n"
	  "description, export_name}}.\n"
	  "\n"
	  "  --stack NAME    the stack (default: the only state/*.db)\n"
	  "  --state PATH    the state database (default state/<stack>.db)\n" },
	{ "unlock", cmd_unlock, "break a stale state lock",
	  "usage: cairn unlock LOCK_ID [--stack NAME | --state PATH|s3://...]\n"
	  "\n"
	  "Breaks the state lock left by a command that is no longer running\n"
	  "(a lock also expires by itself when its lease runs out, 10 minutes\n"
	  "after its holder last renewed it). LOCK_ID is printed by the command\n"
	  "that found the state locked; a different id is refused, so a lock\n"
	  "taken since is never broken by mistake.\n"
	  "\n"
	  "  --stack NAME    the stack (default: the only state/*.db)\n"
	  "  --state PATH    the state database (default state/<stack>.db)\n" },
	{ "refresh", cmd_refresh, "record what AWS really has in the state",
	  "usage: cairn refresh TEMPLATE [options]\n"
	  "\n"
	  "Reads every resource the stack's state records live from AWS (batched:\n"
	  "one Describe call for many ids where the API allows) and records what\n"
	  "it finds: the properties the state records, as AWS now has them, and\n"
	  "the attributes; a resource that no longer exists is removed from the\n"
	  "state. AWS is not changed. Prints what moved; the next plan shows what\n"
	  "apply would repair. Takes the state lock. See docs/drift.md.\n"
	  "Exit: 0 done, 1 error (a failed read: the rest is recorded), 2 usage.\n"
	  "\n"
	  "  --region REGION        region of the reads (default: the state's)\n"
	  "  --stack NAME           stack name (default: the template's file name)\n"
	  "  --state PATH           state database (default state/<stack>.db)\n"
	  "  --lock-timeout DUR     wait this long for the state lock (e.g. 30s)\n"
	  "  --parallelism N        reads at once (default 4)\n"
	  "  --profile NAME, --endpoint-url URL, --max-attempts N,\n"
	  "  --request-timeout SEC  AWS client options (see 'cairn whoami --help')\n" },
	{ "drift", cmd_drift, "check whether AWS still matches the state",
	  "usage: cairn drift TEMPLATE [--json] [options]\n"
	  "\n"
	  "The scheduled drift check: reads every recorded resource live and\n"
	  "reports what moved since the last apply: the resource, the property\n"
	  "path, recorded -> live, and resources deleted outside cairn. Only the\n"
	  "properties the template set are compared; write-only ones (secret\n"
	  "values) never are, and secrets print as (sensitive). Writes nothing\n"
	  "and takes no lock. See docs/drift.md.\n"
	  "Exit: 0 no drift, 2 drift found, 1 any error (usage errors included).\n"
	  "\n"
	  "  --json                 {format_version, drifted, summary, resources:\n"
	  "                         [{logical_id, type, physical_id, status,\n"
	  "                         changes: [{path, kind, recorded, live}]}]}\n"
	  "  --format FMT           human (default), json or markdown (a table, a\n"
	  "                         Mermaid diagram, <details> per resource)\n"
	  "  --unmanaged            also list resources of every type tagged\n"
	  "                         cairn:stack=<stack> that the state does not\n"
	  "                         know (one tag:GetResources listing, IAM roles\n"
	  "                         from GetAccountAuthorizationDetails; EC2 and\n"
	  "                         secrets only if tagging is refused); JSON:\n"
	  "                         \"unmanaged\": [{logical_id, type,\n"
	  "                         physical_id, arn}]; exit 2 when any\n"
	  "  --region, --stack, --state, --parallelism and the AWS options as for\n"
	  "  refresh\n" },
	{ "types", cmd_types, "list every resource type and how cairn handles it",
	  "usage: cairn types [FILTER] [--native] [--json]\n"
	  "\n"
	  "Lists every CloudFormation resource type of the schema bundle (and\n"
	  "the native ones), one per line with how cairn handles it: native (a\n"
	  "provider of its own, batched reads), cloudcontrol (created, read,\n"
	  "updated and deleted through the AWS Cloud Control API), or not\n"
	  "supported (the registry marks it NON_PROVISIONABLE). FILTER keeps the\n"
	  "types whose name contains it (case-insensitive). Needs no AWS access.\n"
	  "\n"
	  "  --native   only the types with a native provider\n"
	  "  --json     {format_version, types: [{type, handling}], native,\n"
	  "             cloudcontrol, not_supported, bundle}\n" },
	{ "schema", cmd_schema, "refresh resource schemas from the account",
	  "usage: cairn schema update|path [TYPE...] [options]\n"
	  "\n"
	  "update: fetches the registry schema of each TYPE (and of every type of\n"
	  "--template without a native provider) with cloudformation:DescribeType\n"
	  "and stores it in the schema cache ($CAIRN_SCHEMA_CACHE, else\n"
	  "$XDG_CACHE_HOME/cairn/schemas, else ~/.cache/cairn/schemas), where it\n"
	  "wins over the copy in the bundle shipped with cairn; the provisioning\n"
	  "type DescribeType reports decides NON_PROVISIONABLE.\n"
	  "path: prints the bundle in use, its source and the cache directory.\n"
	  "\n"
	  "  --template TEMPLATE    the types of this template\n"
	  "  --cache-dir DIR        store there instead\n"
	  "  --region, --profile, --endpoint-url and the AWS options as for\n"
	  "  whoami\n" },
	{ "help", cmd_help, "show a command's help or manual page",
	  "usage: cairn help [COMMAND] [--man]\n"
	  "\n"
	  "Prints the help of COMMAND (the same text as 'cairn COMMAND --help'),\n"
	  "or cairn's own. With --man, prints it as a manual page in roff (the\n"
	  "installed cairn(1) and cairn-COMMAND(1) pages are made this way).\n"
	  "\n"
	  "  --man                  print the manual page (roff) instead\n" },
	{ "import", cmd_import, "adopt an existing AWS resource into the state",
	  "usage: cairn import LOGICAL_ID PHYSICAL_ID --template TEMPLATE [options]\n"
	  "\n"
	  "Reads the AWS resource PHYSICAL_ID (a VPC id, a log group name, a role\n"
	  "name: whatever the type's Ref returns) with the provider of the type\n"
	  "LOGICAL_ID has in TEMPLATE, and records it in the state under\n"
	  "LOGICAL_ID, as AWS has it; AWS is not changed. The next plan shows how\n"
	  "it differs from the template. Refuses a LOGICAL_ID already in the\n"
	  "state and an id that is not of the template's type. Takes the lock.\n"
	  "Exit: 0 imported, 1 error, 2 usage.\n"
	  "\n"
	  "  --template TEMPLATE    the template that declares LOGICAL_ID\n"
	  "  --param, --params-file, --region, --account, --stack as for validate\n"
	  "  --state PATH           state database (default state/<stack>.db)\n"
	  "  --lock-timeout DUR     wait this long for the state lock (e.g. 30s)\n"
	  "  --profile NAME, --endpoint-url URL, --max-attempts N,\n"
	  "  --request-timeout SEC  AWS client options (see 'cairn whoami --help')\n" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct command *cli_commands(size_t *n)
{
	*n = NCOMMANDS;
	return commands;
}

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

void cli_main_usage(FILE *out)
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

#ifdef __GLIBC__
	/* Allocations of 128 KiB or more (arena blocks, response bodies) are
	 * mapped and go back to the system when freed. glibc otherwise raises
	 * this threshold to the largest such block freed so far, after which
	 * they come from the heap of the thread that made them and stay there
	 * when freed: a refresh's workers each kept their largest responses
	 * (15 MB of a 5,000-resource plan's 75 MB; bench/refresh_scale.py). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	log_init_from_env();
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_main_usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--version")) {
			cli_print_version(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--debug")) {
			log_set_level(LOG_DEBUG);
		} else {
			fprintf(stderr, "cairn: unknown option '%s'\n", argv[i]);
			cli_main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		cli_main_usage(stderr);
		return EXIT_USAGE;
	}
	c = cli_find_command(argv[i]);
	if (!c) {
		fprintf(stderr, "cairn: '%s' is not a cairn command\n", argv[i]);
		cli_main_usage(stderr);
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
