/*
 * cairn help: a command's --help text, and the same text as a manual page,
 * so that the installed man pages (made at install time by
 * scripts/install-generated.py running `cairn help --man [CMD]`) can never
 * say something else than --help. Also `--version`'s line.
 *
 * Hidden modes, the interface of the shell completions (completions/):
 *   cairn help --commands          the command names, one a line
 *   cairn help --options CMD       CMD's options, one a line: the option,
 *                                  then its value's placeholder if it takes
 *                                  one ("--out FILE")
 *   cairn help --subcommands CMD   "list", "show" ... for state
 * They read the same command table as --help.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/strbuf.h"
#include "commands.h"
#include "version.h"

extern const char cairn_git_commit[]; /* version_commit.c, made by meson */

void cli_print_version(FILE *out)
{
	const char *c = cairn_git_commit;

	if (c[0] && strcmp(c, "unknown") && c[0] != '@')
		fprintf(out, "cairn %s (git %s)\n", CAIRN_VERSION, c);
	else
		fprintf(out, "cairn %s\n", CAIRN_VERSION);
}

/* ------------------------------------------------------------ roff */

/* One line of text as roff: backslashes, minus signs, quotes and a
 * leading control character escaped. */
static void roff_line(struct strbuf *out, const char *s, size_t n)
{
	size_t i;

	if (n && (s[0] == '.' || s[0] == '\''))
		strbuf_addstr(out, "\\&");
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': strbuf_addstr(out, "\\e"); break;
		case '-': strbuf_addstr(out, "\\-"); break;
		case '\'': strbuf_addstr(out, "\\(aq"); break;
		case '`': strbuf_addstr(out, "\\(ga"); break;
		case '^': strbuf_addstr(out, "\\(ha"); break;
		case '~': strbuf_addstr(out, "\\(ti"); break;
		default: strbuf_addch(out, s[i]);
		}
	}
	strbuf_addch(out, '\n');
}

/* The body of a help text (after its usage line) as man paragraphs: prose
 * lines (flush left) are filled, indented lines (option lists, tables) are
 * kept as they are. */
static void roff_body(struct strbuf *out, const char *text)
{
	const char *p = text;
	int mode = 0; /* 0 none, 1 prose, 2 literal */

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		int kind = n == 0 ? 0 : (p[0] == ' ' ? 2 : 1);

		if (kind != mode) {
			if (mode == 2)
				strbuf_addstr(out, ".fi\n");
			if (kind)
				strbuf_addstr(out, kind == 2 ? ".PP\n.nf\n" : ".PP\n");
			mode = kind;
		}
		if (kind)
			roff_line(out, p, n);
		p += n + (e ? 1 : 0);
	}
	if (mode == 2)
		strbuf_addstr(out, ".fi\n");
}

/* Splits a help text into its usage line(s) and the rest. */
static const char *split_usage(const char *text, struct strbuf *synopsis)
{
	const char *p = text;

	if (!strncmp(p, "usage: ", 7))
		p += 7;
	while (*p && *p != '\n') {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		roff_line(synopsis, p, n);
		p += n + (e ? 1 : 0);
		/* a usage continues on lines indented under it */
		if (*p != ' ')
			break;
	}
	while (*p == '\n')
		p++;
	return p;
}

static void roff_header(struct strbuf *out, const char *page, const char *what)
{
	struct strbuf up = STRBUF_INIT;
	size_t i;

	for (i = 0; page[i]; i++)
		strbuf_addch(&up, (char)toupper((unsigned char)page[i]));
	strbuf_addf(out,
		    ".\\\" Made by '%s' from the text of --help: do not edit.\n",
		    what);
	strbuf_addstr(out, ".TH ");
	roff_line(out, up.buf, up.len);
	out->len--; /* the newline */
	strbuf_addf(out, " 1 \"\" \"cairn %s\" \"cairn manual\"\n", CAIRN_VERSION);
	strbuf_addstr(out, ".nh\n.ad l\n.SH NAME\n");
	strbuf_release(&up);
}

static void man_command(struct strbuf *out, const struct command *c)
{
	struct strbuf page = STRBUF_INIT, syn = STRBUF_INIT, what = STRBUF_INIT;
	const char *body;

	strbuf_addf(&page, "cairn-%s", c->name);
	strbuf_addf(&what, "cairn help --man %s", c->name);
	roff_header(out, page.buf, what.buf);
	strbuf_reset(&what);
	strbuf_addf(&what, "%s - %s", page.buf, c->summary);
	roff_line(out, what.buf, what.len);
	body = split_usage(c->usage, &syn);
	strbuf_addstr(out, ".SH SYNOPSIS\n.nf\n");
	strbuf_add(out, syn.buf, syn.len);
	strbuf_addstr(out, ".fi\n.SH DESCRIPTION\n");
	roff_body(out, body);
	strbuf_addstr(out, ".SH SEE ALSO\n.BR cairn (1)\n");
	strbuf_release(&page);
	strbuf_release(&syn);
	strbuf_release(&what);
}

static void man_main(struct strbuf *out)
{
	struct strbuf syn = STRBUF_INIT;
	const struct command *cs;
	char *text = NULL;
	size_t len = 0, n, i;
	FILE *f = open_memstream(&text, &len);
	const char *body;

	if (!f)
		abort();
	cli_main_usage(f);
	fclose(f);
	roff_header(out, "cairn", "cairn help --man");
	strbuf_addstr(out,
		      "cairn \\- run CloudFormation\\-format stacks without "
		      "CloudFormation\n");
	body = split_usage(text, &syn);
	strbuf_addstr(out, ".SH SYNOPSIS\n.nf\n");
	strbuf_add(out, syn.buf, syn.len);
	strbuf_addstr(out, ".fi\n.SH DESCRIPTION\n");
	roff_body(out, body);
	/* what --help leaves to the manual */
	strbuf_addstr(out,
		".SH ENVIRONMENT\n"
		".TP\n.B CAIRN_LOG\n"
		"error, warn, info, debug or trace: how much goes to stderr "
		"(\\-\\-debug is debug).\n"
		".TP\n.B NO_COLOR\n"
		"when set, no colour, even on a terminal.\n"
		".TP\n.B CAIRN_PARAM_\\fIName\\fR\n"
		"the value of the template parameter \\fIName\\fR, below "
		"\\-\\-param and \\-\\-params\\-file.\n"
		".TP\n.B AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...\n"
		"credentials, region and endpoints as the AWS SDKs read them; see\n"
		".BR cairn\\-whoami (1).\n"
		".SH EXIT STATUS\n"
		"0 success, 1 error, 2 usage error; \\fBplan \\-\\-detailed\\-exitcode\\fR "
		"and \\fBdrift\\fR use 2 for \"changes found\" (see their pages).\n"
		".SH FILES\n"
		".TP\n.I state/<stack>.db\n"
		"the state of a stack (SQLite): what cairn created, its journal "
		"and its lock. Keep it.\n"
		".SH SEE ALSO\n");
	cs = cli_commands(&n);
	for (i = 0; i < n; i++)
		strbuf_addf(out, ".BR cairn\\-%s (1)%s\n", cs[i].name,
			    i + 1 < n ? "," : "");
	strbuf_release(&syn);
	free(text);
}

/* ------------------------------------------------------------ completion */

static int is_placeholder(const char *t, size_t n)
{
	size_t i;
	int upper = 0;

	if (!n || t[0] == '-')
		return 0;
	if (memchr(t, '|', n))
		return 1; /* dot|json */
	for (i = 0; i < n; i++) {
		char ch = t[i];
		if (isupper((unsigned char)ch))
			upper = 1;
		else if (!isdigit((unsigned char)ch) && !strchr("_=.<>[]", ch))
			return 0;
	}
	return upper;
}

/* Whether the list of lines `names` has one starting with opt. */
static int seen(const struct strbuf *names, const char *opt)
{
	const char *p = names->buf;
	size_t n = strlen(opt);

	while ((p = strstr(p, opt))) {
		if ((p == names->buf || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

/* Appends the options of c's help text, and of the commands it refers to
 * ("as for validate"), once each. depth bounds the references. */
static void collect_options(const struct command *c, struct strbuf *out,
			    int depth)
{
	const char *p = c->usage, *q;

	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n > 3 && p[0] == ' ' && p[1] == ' ' && p[2] == '-') {
			const char *t = p + 2, *end = p + n;
			int want_arg = 0;
			while (t < end) {
				const char *w = t;
				size_t wn;
				while (t < end && *t != ' ')
					t++;
				wn = (size_t)(t - w);
				if (wn && w[wn - 1] == ',')
					wn--;
				if (wn > 2 && w[0] == '-' && w[1] == '-') {
					const char *eq = memchr(w, '=', wn);
					size_t on = eq ? (size_t)(eq - w) + 1 : wn;
					char opt[64];
					snprintf(opt, sizeof(opt), "%.*s", (int)on, w);
					want_arg = !eq && !seen(out, opt);
					if (!seen(out, opt)) {
						strbuf_addstr(out, opt);
						strbuf_addch(out, '\n');
					}
				} else if (want_arg && is_placeholder(w, wn)) {
					out->len--; /* the newline */
					strbuf_addch(out, ' ');
					strbuf_add(out, w, wn);
					strbuf_addch(out, '\n');
					want_arg = 0;
				} else {
					break; /* the description column */
				}
				if (t + 1 < end && t[1] == ' ')
					break; /* two spaces: the description */
				while (t < end && *t == ' ')
					t++;
			}
		}
		p += n + (e ? 1 : 0);
	}
	/* "Options as for apply", "the AWS options as for refresh": all of
	 * that command's options too (a line that names the options it means,
	 * "--param, --stack as for validate", has them already) */
	for (p = c->usage; depth < 3 && (q = strstr(p, "as for")); p = q + 6) {
		const char *bol = q, *w = q + 6;
		char name[32];
		size_t k = 0;
		const struct command *r;

		while (bol > c->usage && bol[-1] != '\n')
			bol--;
		while (*w == ' ' || *w == '\n')
			w++;
		while (k + 1 < sizeof(name) && islower((unsigned char)w[k])) {
			name[k] = w[k];
			k++;
		}
		name[k] = '\0';
		r = cli_find_command(name);
		if (!r || r == c)
			continue;
		{
			char line[200];
			snprintf(line, sizeof(line), "%.*s", (int)(q - bol), bol);
			if (strstr(line, "ptions"))
				collect_options(r, out, depth + 1);
		}
	}
}

/* The value placeholder of opt wherever a help text shows one ("FILE"),
 * so "--params-file" listed as "as for validate" still takes a file. */
static void add_placeholders(struct strbuf *list)
{
	struct strbuf all = STRBUF_INIT, res = STRBUF_INIT;
	const struct command *cs;
	const char *p;
	size_t n, i;

	cs = cli_commands(&n);
	for (i = 0; i < n; i++)
		collect_options(&cs[i], &all, 3);
	for (p = list->buf; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = (size_t)(e - p);
		const char *a;

		strbuf_add(&res, p, len);
		if (!memchr(p, ' ', len) && p[len - 1] != '=') {
			char opt[64];
			snprintf(opt, sizeof(opt), "%.*s ", (int)len, p);
			for (a = all.buf; (a = strstr(a, opt)); a++) {
				if (a == all.buf || a[-1] == '\n') {
					const char *ae = strchr(a, '\n');
					strbuf_add(&res, a + len, (size_t)(ae - a) - len);
					break;
				}
			}
		}
		strbuf_addch(&res, '\n');
		p = e + 1;
	}
	strbuf_release(list);
	*list = res;
	strbuf_release(&all);
}

static void print_options(const struct command *c)
{
	struct strbuf sb = STRBUF_INIT;

	collect_options(c, &sb, 0);
	add_placeholders(&sb);
	if (!seen(&sb, "--help"))
		strbuf_addstr(&sb, "--help\n");
	if (!seen(&sb, "--debug"))
		strbuf_addstr(&sb, "--debug\n");
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
}

/* The alternatives right after "usage: cairn CMD " (state's list|show...). */
static void print_subcommands(const struct command *c)
{
	const char *p = c->usage;
	size_t n, i;

	if (strncmp(p, "usage: cairn ", 13))
		return;
	p += 13 + strlen(c->name);
	if (*p != ' ')
		return;
	p++;
	n = strcspn(p, " \n");
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)p[i]) && p[i] != '|')
			return;
	if (!memchr(p, '|', n))
		return;
	for (i = 0; i < n; i++)
		putchar(p[i] == '|' ? '\n' : p[i]);
	putchar('\n');
}

int cmd_help(int argc, char **argv)
{
	const struct command *c = NULL, *cs;
	struct strbuf out = STRBUF_INIT;
	int man = 0, i;
	const char *mode = NULL, *name = NULL;
	size_t n, k;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--man"))
			man = 1;
		else if (!strcmp(argv[i], "--commands") ||
			 !strcmp(argv[i], "--options") ||
			 !strcmp(argv[i], "--subcommands"))
			mode = argv[i];
		else if (argv[i][0] == '-')
			return cli_usage_error("help", "unknown option '%s'", argv[i]);
		else if (name)
			return cli_usage_error("help", "one command at a time");
		else
			name = argv[i];
	}
	if (name && !(c = cli_find_command(name)))
		return cli_usage_error("help", "'%s' is not a cairn command", name);
	if (mode && !strcmp(mode, "--commands")) {
		cs = cli_commands(&n);
		for (k = 0; k < n; k++)
			printf("%s\n", cs[k].name);
		return EXIT_OK;
	}
	if (mode) {
		if (!c)
			return cli_usage_error("help", "%s needs a command", mode);
		if (!strcmp(mode, "--options"))
			print_options(c);
		else
			print_subcommands(c);
		return EXIT_OK;
	}
	if (!man) {
		if (c)
			fputs(c->usage, stdout);
		else
			cli_main_usage(stdout);
		return EXIT_OK;
	}
	if (c)
		man_command(&out, c);
	else
		man_main(&out);
	fputs(out.buf, stdout);
	strbuf_release(&out);
	return EXIT_OK;
}
