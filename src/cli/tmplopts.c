#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/aws.h"
#include "cairn/log.h"
#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "tmplopts.h"

extern char **environ;

void tmplopts_init(struct tmplopts *o)
{
	memset(o, 0, sizeof(*o));
	o->azs = xcalloc(1, sizeof(*o->azs));
}

void tmplopts_release(struct tmplopts *o)
{
	size_t i;

	for (i = 0; i < o->nparams; i++) {
		free(o->param_names[i]);
		free(o->param_values[i]);
	}
	free(o->param_names);
	free(o->param_values);
	if (o->azs) {
		aws_client_free(o->azs->own);
		for (i = 0; i < o->azs->ndynref_seen; i++)
			free(o->azs->dynref_seen[i]);
		free(o->azs->dynref_seen);
	}
	free(o->azs);
	memset(o, 0, sizeof(*o));
}

/*
 * Fn::GetAZs from AWS (see struct tmplopts_azs). The AWS CLI's credential
 * chain finding nothing, or no AWS configured at all, is not an error here:
 * a plan made offline shows the zones as known after apply instead of
 * inventing <region>a/b/c (accounts do not all have those: ap-northeast-1
 * accounts get 1a, 1c, 1d).
 */
static int azs_from_aws(void *ud, const char *const **azs, size_t *n,
			struct err *err)
{
	struct tmplopts_azs *z = ud;
	struct aws_client *c = z->aws_client ? z->aws_client : z->own;

	if (!c && z->tried)
		goto unknown;
	if (!c) {
		struct aws_options ao = *z->aws_opts;
		struct err cerr = ERR_INIT;
		z->tried = 1;
		if (!ao.region)
			ao.region = z->region;
		z->own = c = aws_client_new(&ao, &cerr);
		if (!c) {
			*err = cerr;
			return -1;
		}
	}
	if (aws_availability_zones(c, azs, n, err) == 0)
		return 1;
	if (!z->aws_client && err->code == ERR_AUTH &&
	    strstr(err->msg, "no AWS credentials found")) {
		log_debug("Fn::GetAZs: %s; the zones are not asked", err->msg);
		aws_client_free(z->own);
		z->own = NULL;
		err_clear(err);
		goto unknown;
	}
	if (z->guess) {
		size_t len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len,
			 " (plan --refresh=false plans without reading AWS)");
	}
	return -1;
unknown:
	if (!z->guess)
		return 0;
	*azs = z->guessed;
	*n = z->nguessed;
	return 1;
}

static bool valid_region(const char *r)
{
	/* us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-4 */
	const char *p = r;
	int dashes = 0;

	if (!*p || !islower((unsigned char)*p))
		return false;
	for (; *p; p++) {
		if (*p == '-')
			dashes++;
		else if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p))
			return false;
	}
	return dashes >= 2 && isdigit((unsigned char)p[-1]) && strlen(r) < 32;
}

int tmplopts_handle(struct tmplopts *o, int opt, const char *arg,
		    struct err *err)
{
	switch (opt) {
	case TMPLOPT_PARAM: {
		const char *eq = strchr(arg, '=');
		size_t n = o->nparams;
		if (!eq || eq == arg)
			return err_set(err, ERR_USAGE,
				       "--param needs NAME=VALUE, not \"%s\"", arg);
		if (n == o->params_cap) {
			o->params_cap = n ? n * 2 : 8;
			o->param_names = xrealloc(o->param_names,
						  o->params_cap * sizeof(char *));
			o->param_values = xrealloc(o->param_values,
						   o->params_cap * sizeof(char *));
		}
		o->param_names[n] = xstrndup(arg, (size_t)(eq - arg));
		o->param_values[n] = xstrdup(eq + 1);
		o->nparams++;
		return 1;
	}
	case TMPLOPT_PARAMS_FILE:
		o->params_file = arg;
		return 1;
	case TMPLOPT_REGION:
		if (!valid_region(arg))
			return err_set(err, ERR_USAGE,
				       "\"%s\" is not a region name (such as "
				       "us-east-1)", arg);
		o->region = arg;
		return 1;
	case TMPLOPT_ACCOUNT: {
		size_t i;
		for (i = 0; arg[i]; i++)
			if (!isdigit((unsigned char)arg[i]))
				break;
		if (i != 12 || arg[i])
			return err_set(err, ERR_USAGE,
				       "--account needs a 12-digit account id, "
				       "not \"%s\"", arg);
		o->account = arg;
		return 1;
	}
	case TMPLOPT_STACK:
		if (!*arg)
			return err_set(err, ERR_USAGE, "--stack needs a name");
		o->stack = arg;
		return 1;
	default:
		return 0;
	}
}

/* The params file: a map {Name: value} or CloudFormation's list
 * [{ParameterKey: Name, ParameterValue: value}]. */
static int read_params_file(struct arena *a, const char *path,
			    struct value *out, struct diag_list *diags,
			    struct err *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct value *root;
	size_t i, before = diags->errors;

	if (strbuf_read_file(&sb, path, TEMPLATE_MAX_BYTES) < 0) {
		int e = errno;
		strbuf_release(&sb);
		return err_set(err, ERR_IO, "cannot read parameters file \"%s\": %s",
			       path, strerror(e));
	}
	root = template_parse_yaml(a, path, sb.buf, sb.len, diags);
	strbuf_release(&sb);
	if (!root)
		return err_set(err, ERR_PARSE,
			       "parameters file \"%s\" cannot be loaded", path);
	if (root->kind == VALUE_MAP) {
		for (i = 0; i < root->u.map.n; i++) {
			struct value *v = root->u.map.items[i].val;
			if (v->kind == VALUE_MAP || v->kind == VALUE_NULL) {
				diag_add(diags, DIAG_ERROR, &v->mark, NULL,
					 NULL, "parameter \"%s\": the value must "
					       "be a string, a number or a list",
					 root->u.map.items[i].key);
				continue;
			}
			value_map_set(a, out, root->u.map.items[i].key, v);
		}
	} else if (root->kind == VALUE_LIST) {
		for (i = 0; i < root->u.list.n; i++) {
			struct value *it = root->u.list.items[i];
			const char *k = value_str(value_map_get(it, "ParameterKey"));
			struct value *v = value_map_get(it, "ParameterValue");
			if (!k || !v || v->kind == VALUE_MAP ||
			    v->kind == VALUE_NULL) {
				diag_add(diags, DIAG_ERROR, &it->mark, NULL, NULL,
					 "each entry needs ParameterKey and "
					 "ParameterValue");
				continue;
			}
			value_map_set(a, out, k, v);
		}
	} else {
		diag_add(diags, DIAG_ERROR, &root->mark, NULL, NULL,
			 "a parameters file is a map {Name: value} or a list "
			 "of {ParameterKey, ParameterValue}");
	}
	if (diags->errors > before)
		return err_set(err, ERR_VALIDATION,
			       "parameters file \"%s\" has problems", path);
	return 0;
}

static const char *default_stack(struct arena *a, const char *path)
{
	const char *base = strrchr(path, '/');
	const char *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		return arena_strdup(a, base);
	return arena_strndup(a, base, (size_t)(dot - base));
}

int tmplopts_ctx(const struct tmplopts *o, struct arena *a,
		 struct tmpl_ctx *ctx, struct diag_list *diags, struct err *err)
{
	const char *region = o->region;
	struct value *params = value_new_map(a), *envp = value_new_map(a);
	char **e;
	size_t i;

	if (!region || !*region)
		region = getenv("AWS_REGION");
	if (!region || !*region)
		region = getenv("AWS_DEFAULT_REGION");
	if (!region || !*region)
		region = "us-east-1";
	if (!valid_region(region))
		return err_set(err, ERR_USAGE, "\"%s\" (from the environment) "
					       "is not a region name", region);
	tmpl_ctx_init(ctx, a, region, o->account ? o->account : "123456789012",
		      o->stack ? o->stack
			       : default_stack(a, o->template_path
							  ? o->template_path
							  : "stack"));
	if (o->params_file &&
	    read_params_file(a, o->params_file, params, diags, err) < 0)
		return -1;
	for (i = 0; i < o->nparams; i++)
		value_map_set(a, params, o->param_names[i],
			      value_new_string(a, o->param_values[i]));
	for (e = environ; e && *e; e++) {
		const char *eq;
		if (strncmp(*e, "CAIRN_PARAM_", 12))
			continue;
		eq = strchr(*e, '=');
		if (!eq || eq == *e + 12)
			continue;
		value_map_set(a, envp, arena_strndup(a, *e + 12,
						     (size_t)(eq - *e - 12)),
			      value_new_string(a, eq + 1));
	}
	ctx->params = params;
	ctx->env_params = envp;
	/* zones from AWS, a guess for an offline plan, else unknown
	 * (struct tmplopts_azs) */
	if (o->azs) {
		o->azs->guessed = ctx->azs;
		o->azs->nguessed = ctx->nazs;
		o->azs->region = ctx->region;
	}
	if (!o->azs || !o->azs->guess) {
		ctx->azs = NULL;
		ctx->nazs = 0;
	}
	if (o->azs && (o->azs->aws_client || o->azs->aws_opts)) {
		ctx->get_azs = azs_from_aws;
		ctx->get_azs_ud = o->azs;
		ctx->aws_params = tmplopts_aws_params;
		ctx->aws_params_ud = o->azs;
		if (o->azs->check_dynrefs) {
			ctx->dynref_check = tmplopts_dynref_check;
			ctx->dynref_check_ud = o->azs;
		}
	}
	return 0;
}

/* The values of NoEcho parameters never reach a trace log, even where AWS
 * answers them back (a task definition's environment, a tag): each value,
 * and each item of a list value, is hidden for the whole run. */
static void hide_no_echo(const struct template *t, const struct tmpl_ctx *ctx)
{
	size_t i, k;

	for (i = 0; i < t->nparams; i++) {
		const struct tmpl_param *p = &t->params[i];
		const struct value *v;
		const char *s, *q;

		if (!p->no_echo)
			continue;
		v = value_map_get(ctx->params, p->name);
		if (!v && ctx->env_params)
			v = value_map_get(ctx->env_params, p->name);
		if (!v)
			v = value_map_get(p->decl, "Default");
		if (!v)
			continue;
		if (v->kind == VALUE_LIST) {
			for (k = 0; k < v->u.list.n; k++)
				aws_trace_hide_always(value_str(v->u.list.items[k]));
			continue;
		}
		if (!(s = value_str(v)))
			continue;
		aws_trace_hide_always(s);
		/* a comma-delimited list's items are values of their own */
		for (; (q = strchr(s, ',')) != NULL; s = q + 1) {
			char item[1024];
			size_t n = (size_t)(q - s);
			if (n < sizeof(item)) {
				memcpy(item, s, n);
				item[n] = '\0';
				aws_trace_hide_always(item);
			}
		}
		if (s != value_str(v))
			aws_trace_hide_always(s);
	}
}

void tmplopts_hide_secrets(const struct tmplopts *o, struct arena *a)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct err err = ERR_INIT;
	struct tmpl_ctx ctx;
	const struct template *t;

	if (tmplopts_ctx(o, a, &ctx, &dl, &err) == 0 &&
	    (t = template_load_params(a, o->template_path, ctx.params,
				      ctx.env_params, &dl, &err)) != NULL)
		hide_no_echo(t, &ctx);
	diag_list_release(&dl);
}

int tmplopts_run(const struct tmplopts *o, struct arena *a, bool lenient,
		 struct tmpl_run *run, struct diag_list *diags,
		 struct err *err)
{
	memset(run, 0, sizeof(*run));
	if (tmplopts_ctx(o, a, &run->ctx, diags, err) < 0)
		return -1;
	run->ctx.missing_params_unknown = lenient;
	run->tmpl = template_load_params(a, o->template_path, run->ctx.params,
					 run->ctx.env_params, diags, err);
	if (!run->tmpl)
		return -1;
	hide_no_echo(run->tmpl, &run->ctx);
	run->stack = template_evaluate(a, run->tmpl, &run->ctx, diags);
	template_check_schemas(run->stack, diags);
	run->graph = graph_build(a, run->stack, diags);
	return 0;
}

struct diag_ref {
	const struct diag *d;
	size_t i;
};

static int cmp_diag_ref(const void *pa, const void *pb)
{
	const struct diag_ref *a = pa, *b = pb;
	int c = strcmp(a->d->mark.file ? a->d->mark.file : "",
		       b->d->mark.file ? b->d->mark.file : "");

	if (c)
		return c;
	if (a->d->mark.line != b->d->mark.line)
		return a->d->mark.line < b->d->mark.line ? -1 : 1;
	if (a->d->mark.col != b->d->mark.col)
		return a->d->mark.col < b->d->mark.col ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

void tmplopts_sort_diags(struct diag_list *diags)
{
	struct diag_ref *r;
	struct diag *sorted;
	size_t i;

	if (diags->n < 2)
		return;
	r = xmalloc(diags->n * sizeof(*r));
	for (i = 0; i < diags->n; i++) {
		r[i].d = &diags->items[i];
		r[i].i = i;
	}
	qsort(r, diags->n, sizeof(*r), cmp_diag_ref);
	sorted = xmalloc(diags->n * sizeof(*sorted));
	for (i = 0; i < diags->n; i++)
		sorted[i] = *r[i].d;
	memcpy(diags->items, sorted, diags->n * sizeof(*sorted));
	free(sorted);
	free(r);
}

void tmplopts_print_diags(struct diag_list *diags, FILE *f)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	tmplopts_sort_diags(diags);
	for (i = 0; i < diags->n; i++) {
		strbuf_reset(&sb);
		diag_format(&diags->items[i], &sb);
		fprintf(f, "%s\n", sb.buf);
	}
	strbuf_release(&sb);
}
