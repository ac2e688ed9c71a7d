/*
 * cairn types: every CloudFormation resource type cairn knows and how it
 * handles it (a native provider, the Cloud Control API, or not at all).
 * cairn schema update: newer registry schemas from the account
 * (cloudformation:DescribeType) into the schema cache, where they win over
 * the bundle's copies.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "awsopts.h"
#include "cairn/aws.h"
#include "cairn/provider.h"
#include "cairn/schema.h"
#include "cairn/strbuf.h"
#include "cairn/template.h"
#include "commands.h"

enum handling { H_NATIVE, H_CLOUDCONTROL, H_UNSUPPORTED };

static const char *const handling_names[] = { "native", "cloudcontrol",
					      "not supported" };

static enum handling handling_of(const char *type, bool provisionable)
{
	const struct provider *p = provider_find(type);

	if (p && !strcmp(p->type, type))
		return H_NATIVE;
	if (p && provisionable)
		return H_CLOUDCONTROL;
	return H_UNSUPPORTED;
}

struct row {
	const char *type;
	enum handling h;
};

static int cmp_row(const void *x, const void *y)
{
	const struct row *a = x, *b = y;

	return strcmp(a->type, b->type);
}

int cmd_types(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "native", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct row *rows;
	size_t n = 0, nreg = schema_registry_count(), i, count[3] = { 0, 0, 0 };
	const char *filter = NULL;
	bool json = false, native_only = false, first = true;
	struct strbuf sb = STRBUF_INIT;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'j')
			json = true;
		else if (opt == 'n')
			native_only = true;
		else
			return cli_usage_error("types", "unknown option '%s'",
					       argv[optind - 1]);
	}
	if (optind < argc)
		filter = argv[optind++];
	if (optind < argc)
		return cli_usage_error("types", "unexpected argument '%s'",
				       argv[optind]);

	rows = calloc(nreg + schema_count() + 1, sizeof(*rows));
	if (!rows)
		abort();
	for (i = 0; i < schema_count(); i++) {
		rows[n].type = schema_type_name(schema_at(i));
		rows[n++].h = H_NATIVE;
	}
	for (i = 0; i < nreg; i++) {
		bool prov = false;
		const char *name = schema_registry_name(i, &prov);
		size_t k;
		bool dup = false;
		/* native types are in the bundle too: listed once */
		for (k = 0; k < schema_count() && !dup; k++)
			dup = !strcmp(rows[k].type, name);
		if (dup)
			continue;
		rows[n].type = name;
		rows[n++].h = handling_of(name, prov);
	}
	qsort(rows, n, sizeof(*rows), cmp_row);

	if (json)
		strbuf_addstr(&sb, "{\"format_version\":1,\"types\":[");
	for (i = 0; i < n; i++) {
		if (native_only && rows[i].h != H_NATIVE)
			continue;
		if (filter && !strcasestr(rows[i].type, filter))
			continue;
		count[rows[i].h]++;
		if (json) {
			strbuf_addstr(&sb, first ? "{\"type\":" : ",{\"type\":");
			strbuf_add_json_str(&sb, rows[i].type, strlen(rows[i].type));
			strbuf_addf(&sb, ",\"handling\":\"%s\"}",
				    handling_names[rows[i].h]);
		} else {
			strbuf_addf(&sb, "%-60s %s\n", rows[i].type,
				    handling_names[rows[i].h]);
		}
		first = false;
	}
	if (json) {
		strbuf_addf(&sb, "],\"native\":%zu,\"cloudcontrol\":%zu,"
			    "\"not_supported\":%zu,\"bundle\":",
			    count[0], count[1], count[2]);
		if (schema_registry_path())
			strbuf_add_json_str(&sb, schema_registry_path(),
					    strlen(schema_registry_path()));
		else
			strbuf_addstr(&sb, "null");
		strbuf_addstr(&sb, "}\n");
	} else {
		strbuf_addf(&sb, "%zu native, %zu through Cloud Control, %zu not "
			    "supported (NON_PROVISIONABLE)\n",
			    count[0], count[1], count[2]);
	}
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
	free(rows);
	if (!nreg) {
		cli_error("no schema bundle found (set CAIRN_SCHEMA_BUNDLE to "
			  "all-types.bundle): only the native types are listed");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* ------------------------------------------------------------ schema */

static int mkdirs(const char *path)
{
	char *p = strdup(path), *s;
	int rc = 0;

	if (!p)
		abort();
	for (s = p + 1; *s && !rc; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (!rc && mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* Types of a template that have no native provider. */
static int template_types(const char *path, struct strbuf *list,
			  size_t *n)
{
	struct arena *a = arena_new();
	struct diag_list dl = DIAG_LIST_INIT;
	struct err err = ERR_INIT;
	struct template *t = template_load(a, path, &dl, &err);
	size_t i;

	if (!t) {
		cli_error("%s", err.msg);
		diag_list_release(&dl);
		arena_free(a);
		return -1;
	}
	for (i = 0; i < t->nresources; i++) {
		const char *type = t->resources[i].type;
		const struct schema_type *s = type ? schema_find(type) : NULL;
		if (!type || (s && schema_native(s)))
			continue;
		strbuf_addstr(list, type);
		strbuf_addch(list, '\n');
		(*n)++;
	}
	diag_list_release(&dl);
	arena_free(a);
	return 0;
}

static int schema_update(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "template", required_argument, NULL, 't' },
		{ "cache-dir", required_argument, NULL, 'c' },
		AWSOPTS_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct aws_options o;
	struct aws_client *c;
	struct err err = ERR_INIT;
	struct strbuf types = STRBUF_INIT;
	const char *tmpl = NULL;
	char *dir = NULL, *line, *save = NULL;
	size_t n = 0, done = 0;
	int opt, r, rc = EXIT_OK;

	memset(&o, 0, sizeof(o));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 't') {
			tmpl = optarg;
			continue;
		}
		if (opt == 'c') {
			free(dir);
			dir = strdup(optarg);
			continue;
		}
		r = awsopts_parse(&o, opt, optarg, "schema");
		if (r < 0) {
			free(dir);
			return EXIT_USAGE;
		}
		if (r == 0) {
			free(dir);
			return cli_usage_error("schema", "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++) {
		strbuf_addstr(&types, argv[optind]);
		strbuf_addch(&types, '\n');
		n++;
	}
	if (tmpl && template_types(tmpl, &types, &n) < 0) {
		free(dir);
		strbuf_release(&types);
		return EXIT_ERROR;
	}
	if (!n) {
		free(dir);
		strbuf_release(&types);
		return cli_usage_error("schema", "name the types to update, or "
				       "--template T");
	}
	if (!dir)
		dir = schema_cache_dir();
	if (!dir || mkdirs(dir) < 0) {
		cli_error("cannot create the schema cache directory %s: %s",
			  dir ? dir : "(no HOME)", strerror(errno));
		free(dir);
		strbuf_release(&types);
		return EXIT_ERROR;
	}
	c = aws_client_new(&o, &err);
	if (!c) {
		cli_error("%s", err.msg);
		free(dir);
		strbuf_release(&types);
		return err.code == ERR_USAGE ? EXIT_USAGE : EXIT_ERROR;
	}
	for (line = strtok_r(types.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct arena *a = arena_new();
		struct value *p = value_new_map(a), *resp;
		const char *schema, *prov;
		char *file;
		struct strbuf out = STRBUF_INIT;
		FILE *f;

		value_map_set(a, p, "Type", value_new_string(a, "RESOURCE"));
		value_map_set(a, p, "TypeName", value_new_string(a, line));
		err_clear(&err);
		resp = aws_call(c, "cloudformation", "DescribeType", p, a, &err);
		schema = resp ? value_str(value_get_path(resp, "Schema")) : NULL;
		prov = resp ? value_str(value_get_path(resp, "ProvisioningType"))
			    : NULL;
		if (!schema) {
			cli_error("%s: %s", line,
				  resp ? "DescribeType returned no Schema" : err.msg);
			rc = EXIT_ERROR;
			arena_free(a);
			continue;
		}
		strbuf_addstr(&out, "{\"TypeName\":");
		strbuf_add_json_str(&out, line, strlen(line));
		strbuf_addstr(&out, ",\"ProvisioningType\":");
		if (prov)
			strbuf_add_json_str(&out, prov, strlen(prov));
		else
			strbuf_addstr(&out, "null");
		strbuf_addstr(&out, ",\"Schema\":");
		strbuf_add_json_str(&out, schema, strlen(schema));
		strbuf_addstr(&out, "}\n");
		file = schema_cache_file(dir, line);
		f = fopen(file, "w");
		if (!f || fwrite(out.buf, 1, out.len, f) != out.len) {
			cli_error("%s: cannot write %s: %s", line, file,
				  strerror(errno));
			rc = EXIT_ERROR;
		} else {
			printf("%s: %s (%s)\n", line, file,
			       prov ? prov : "provisioning type not reported");
			done++;
		}
		if (f && fclose(f) != 0)
			rc = EXIT_ERROR;
		free(file);
		strbuf_release(&out);
		arena_free(a);
	}
	printf("%zu of %zu schemas cached in %s\n", done, n, dir);
	aws_client_free(c);
	free(dir);
	strbuf_release(&types);
	return rc;
}

int cmd_schema(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		cli_usage("schema", argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "update"))
		return schema_update(argc - 1, argv + 1);
	if (!strcmp(argv[1], "path")) {
		char *dir = schema_cache_dir();
		printf("bundle: %s\nsource: %s\ncache:  %s\n",
		       schema_registry_path() ? schema_registry_path() : "(none)",
		       schema_registry_source() ? schema_registry_source() : "-",
		       dir ? dir : "(none)");
		free(dir);
		return EXIT_OK;
	}
	return cli_usage_error("schema", "unknown subcommand '%s'", argv[1]);
}
