/* cairn whoami: which AWS identity cairn would use, and where its
 * credentials came from. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "awsopts.h"
#include "cairn/aws.h"
#include "cairn/strbuf.h"
#include "commands.h"

int cmd_whoami(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		AWSOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct aws_options o;
	struct aws_identity id;
	struct aws_client *c;
	struct err err = ERR_INIT;
	int json = 0, opt, r;

	memset(&o, 0, sizeof(o));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j') {
			json = 1;
			continue;
		}
		r = awsopts_parse(&o, opt, optarg, "whoami");
		if (r < 0)
			return EXIT_USAGE;
		if (r == 0)
			return cli_usage_error("whoami", "unknown option '%s'",
					       argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error("whoami", "unexpected argument '%s'", argv[optind]);
	c = aws_client_new(&o, &err);
	if (!c) {
		cli_error("%s", err.msg);
		return err.code == ERR_USAGE ? EXIT_USAGE : EXIT_ERROR;
	}
	if (aws_whoami(c, &id, &err) < 0) {
		cli_error("%s", err.msg);
		aws_client_free(c);
		return EXIT_ERROR;
	}
	if (json) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, "{\"account\":");
		strbuf_add_json_str(&sb, id.account, strlen(id.account));
		strbuf_addstr(&sb, ",\"arn\":");
		strbuf_add_json_str(&sb, id.arn, strlen(id.arn));
		strbuf_addstr(&sb, ",\"user_id\":");
		strbuf_add_json_str(&sb, id.user_id, strlen(id.user_id));
		strbuf_addstr(&sb, ",\"source\":");
		strbuf_add_json_str(&sb, id.source, strlen(id.source));
		strbuf_addstr(&sb, ",\"region\":");
		if (aws_client_region(c))
			strbuf_add_json_str(&sb, aws_client_region(c),
					    strlen(aws_client_region(c)));
		else
			strbuf_addstr(&sb, "null");
		strbuf_addstr(&sb, "}\n");
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
	} else {
		printf("account:  %s\narn:      %s\nuser id:  %s\nsource:   %s\n",
		       id.account, id.arn, id.user_id, id.source);
		if (aws_client_region(c))
			printf("region:   %s\n", aws_client_region(c));
	}
	aws_client_free(c);
	return EXIT_OK;
}
