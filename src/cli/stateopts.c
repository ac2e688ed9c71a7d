#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/diag.h"
#include "cairn/log.h"
#include "cairn/strbuf.h"
#include "cairn/template.h"
#include "cairn/xalloc.h"
#include "stateopts.h"

void stateopts_init(struct stateopts *o)
{
	memset(o, 0, sizeof(*o));
}

int stateopts_parse_duration(const char *text, double *seconds,
			     struct err *err)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {
		/* "ms" before "m" and "s" */
		{ "ms", 0.001 }, { "h", 3600 }, { "m", 60 }, { "s", 1 },
	};
	const char *p = text;
	double total = 0;
	int parts = 0;

	if (!text || !*text)
		return err_set(err, ERR_USAGE, "empty duration");
	while (*p) {
		char *end;
		double v;
		size_t i, n = 0;

		if (!isdigit((unsigned char)*p) && *p != '.')
			goto bad;
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno || !isfinite(v) || v < 0)
			goto bad;
		p = end;
		if (!*p) {
			/* a bare number is seconds, only on its own */
			if (parts)
				goto bad;
			total = v;
			parts++;
			break;
		}
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			n = strlen(units[i].suffix);
			if (!strncmp(p, units[i].suffix, n))
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			goto bad;
		total += v * units[i].mult;
		p += n;
		parts++;
	}
	if (!parts || total > 366.0 * 86400)
		goto bad;
	*seconds = total;
	return 0;
bad:
	return err_set(err, ERR_USAGE,
		       "invalid duration '%s' (examples: 30s, 5m, 1h30m, "
		       "500ms)",
		       text);
}

int stateopts_valid_stack(const char *name)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0 || n > 128 || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_' && name[i] != '.')
			return 0;
	return 1;
}

int stateopts_handle(struct stateopts *o, int opt, const char *arg,
		     struct err *err)
{
	switch (opt) {
	case STATEOPT_STACK:
		if (!stateopts_valid_stack(arg))
			return err_set(err, ERR_USAGE,
				       "invalid stack name '%s' (letters, "
				       "digits, '-', '_' and '.')",
				       arg);
		o->stack = arg;
		return 1;
	case STATEOPT_STATE:
		if (!*arg)
			return err_set(err, ERR_USAGE, "--state needs a path");
		o->state_path = arg;
		return 1;
	case STATEOPT_KMS_KEY:
		if (!*arg)
			return err_set(err, ERR_USAGE,
				       "--state-kms-key needs a key id, ARN or "
				       "alias");
		o->kms_key = arg;
		return 1;
	case STATEOPT_REGION:
		if (!*arg)
			return err_set(err, ERR_USAGE,
				       "--state-region needs a region");
		o->region = arg;
		return 1;
	case STATEOPT_LOCK_TIMEOUT:
		return stateopts_parse_duration(arg, &o->lock_timeout, err)
			       ? -1
			       : 1;
	default:
		return 0;
	}
}

static char *stack_from_template(const char *template_path, struct err *err)
{
	const char *base = strrchr(template_path, '/');
	char *name, *dot;

	base = base ? base + 1 : template_path;
	name = xstrdup(base);
	dot = strrchr(name, '.');
	if (dot && dot != name)
		*dot = '\0';
	if (!stateopts_valid_stack(name)) {
		err_set(err, ERR_USAGE,
			"cannot name the stack after '%s': pass --stack NAME",
			template_path);
		free(name);
		return NULL;
	}
	return name;
}

/* The only state/ *.db, if there is exactly one. */
static char *only_state(struct err *err)
{
	DIR *d = opendir("state");
	struct dirent *e;
	struct strbuf names = STRBUF_INIT;
	char *found = NULL;
	int count = 0;

	if (!d) {
		err_set(err, ERR_USAGE,
			"no stack given: pass --stack NAME or --state PATH "
			"(there is no state/ directory here)");
		return NULL;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 4 || strcmp(e->d_name + n - 3, ".db") ||
		    e->d_name[0] == '.')
			continue;
		strbuf_addf(&names, "%s%.*s", count ? ", " : "", (int)(n - 3),
			    e->d_name);
		if (!count)
			found = xstrdup(e->d_name);
		count++;
	}
	closedir(d);
	if (count == 1) {
		struct strbuf p = STRBUF_INIT;
		strbuf_addf(&p, "state/%s", found);
		free(found);
		strbuf_release(&names);
		return strbuf_detach(&p, NULL);
	}
	free(found);
	if (count == 0)
		err_set(err, ERR_USAGE,
			"no stack given: pass --stack NAME or --state PATH "
			"(state/ holds no .db file)");
	else
		err_set(err, ERR_USAGE,
			"no stack given: pass --stack NAME or --state PATH "
			"(state/ holds %s)",
			names.buf);
	strbuf_release(&names);
	return NULL;
}

/* "{stack}" in a configured location becomes the stack's name. */
static char *expand(const char *loc, const char *stack, const char *what,
		    struct err *err)
{
	struct strbuf p = STRBUF_INIT;
	const char *at;

	while ((at = strstr(loc, "{stack}"))) {
		if (!stack) {
			strbuf_release(&p);
			err_set(err, ERR_USAGE,
				"%s '%s' names the state by {stack}: pass "
				"--stack NAME",
				what, loc);
			return NULL;
		}
		strbuf_add(&p, loc, (size_t)(at - loc));
		strbuf_addstr(&p, stack);
		loc = at + 7;
	}
	strbuf_addstr(&p, loc);
	return strbuf_detach(&p, NULL);
}

/*
 * cairn.yaml: 1 and *loc (malloc'd, not yet expanded) when the file names a
 * location for this stack, 0 when there is no file or no entry, -1.
 */
static int config_location(const char *file, const char *stack, char **loc,
			   char **kms, char **region, struct err *err)
{
	struct arena *a;
	struct diag_list diags = DIAG_LIST_INIT;
	struct strbuf text = STRBUF_INIT;
	const struct value *root, *st, *v = NULL;
	FILE *f = fopen(file, "r");
	char buf[4096];
	size_t n;
	int rc = 0;

	if (!f)
		return 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&text, buf, n);
	fclose(f);
	a = arena_new();
	root = template_parse_yaml(a, file, text.buf, text.len, &diags);
	if (!root || diags.errors) {
		struct strbuf m = STRBUF_INIT;
		size_t i;
		for (i = 0; i < diags.n && i < 1; i++)
			diag_format(&diags.items[i], &m);
		rc = err_set(err, ERR_USAGE, "%s", m.len ? m.buf : file);
		strbuf_release(&m);
		goto out;
	}
	if (root->kind != VALUE_MAP) {
		rc = err_set(err, ERR_USAGE, "%s: expected a map with a 'state' "
					     "entry",
			     file);
		goto out;
	}
	v = value_map_get(root, "state_kms_key");
	if (v && value_str(v) && kms && !*kms)
		*kms = xstrdup(value_str(v));
	v = value_map_get(root, "state_region");
	if (v && value_str(v) && region && !*region)
		*region = xstrdup(value_str(v));
	st = value_map_get(root, "state");
	v = NULL;
	if (st && st->kind == VALUE_STRING)
		v = st;
	else if (st && st->kind == VALUE_MAP) {
		v = stack ? value_map_get(st, stack) : NULL;
		if (!v)
			v = value_map_get(st, "*");
	} else if (st) {
		rc = err_set(err, ERR_USAGE,
			     "%s:%d:%d: 'state' must be a location or a map "
			     "stack -> location",
			     file, st->mark.line, st->mark.col);
		goto out;
	}
	if (v && (v->kind != VALUE_STRING || !v->u.str.len)) {
		rc = err_set(err, ERR_USAGE,
			     "%s:%d:%d: a state location must be a path or "
			     "s3://BUCKET/KEY",
			     file, v->mark.line, v->mark.col);
		goto out;
	}
	if (v) {
		*loc = xstrdup(v->u.str.s);
		rc = 1;
	}
out:
	diag_list_release(&diags);
	arena_free(a);
	strbuf_release(&text);
	return rc;
}

char *stateopts_path(const struct stateopts *o, const char *stack,
		     const char *template_path, struct err *err)
{
	struct strbuf p = STRBUF_INIT;
	char *derived = NULL;
	const char *name;
	const char *env = getenv("CAIRN_STATE");

	name = o->stack ? o->stack : stack;
	if (!name && template_path && !o->state_path) {
		derived = stack_from_template(template_path, err);
		if (!derived)
			return NULL;
		name = derived;
	}
	if (o->state_path) {
		free(derived);
		return xstrdup(o->state_path);
	}
	if (env && *env) {
		char *r = expand(env, name, "CAIRN_STATE", err);
		free(derived);
		return r;
	}
	{
		/* cairn.yaml beside the template, then here */
		char *files[2] = { NULL, NULL }, *loc = NULL, *r = NULL;
		char *kms = o->kms_key ? xstrdup(o->kms_key) : NULL;
		char *region = o->region ? xstrdup(o->region) : NULL;
		int i, got = 0;

		if (template_path) {
			const char *slash = strrchr(template_path, '/');
			if (slash) {
				strbuf_add(&p, template_path,
					   (size_t)(slash - template_path));
				strbuf_addstr(&p, "/cairn.yaml");
				files[0] = strbuf_detach(&p, NULL);
			}
		}
		files[1] = xstrdup("cairn.yaml");
		for (i = 0; i < 2 && !got; i++) {
			if (!files[i])
				continue;
			got = config_location(files[i], name, &loc, &kms,
					      &region, err);
			if (got > 0)
				r = expand(loc, name, files[i], err);
		}
		free(files[0]);
		free(files[1]);
		free(loc);
		if (got > 0 && r && kms && !o->kms_key) {
			/* the file's key applies to the file's location; one
			 * per process, kept for stateopts_open */
			static char cfg_kms[512];
			snprintf(cfg_kms, sizeof(cfg_kms), "%s", kms);
			((struct stateopts *)o)->kms_key = cfg_kms;
		}
		if (got > 0 && r && region && !o->region) {
			static char cfg_region[64];
			snprintf(cfg_region, sizeof(cfg_region), "%s", region);
			((struct stateopts *)o)->region = cfg_region;
		}
		free(kms);
		free(region);
		if (got < 0 || (got > 0 && !r)) {
			free(derived);
			return NULL;
		}
		if (got > 0) {
			free(derived);
			return r;
		}
	}
	if (!name)
		return only_state(err);
	if (!stateopts_valid_stack(name)) {
		err_set(err, ERR_USAGE, "invalid stack name '%s'", name);
		free(derived);
		return NULL;
	}
	strbuf_addf(&p, "state/%s.db", name);
	free(derived);
	return strbuf_detach(&p, NULL);
}

void stateopts_aws_options(const struct stateopts *o, struct aws_options *out)
{
	const char *env = getenv("CAIRN_STATE_REGION");

	memset(out, 0, sizeof(*out));
	if (o->aws)
		*out = *o->aws;
	/* the bucket's region: --state-region / cairn.yaml, else
	 * CAIRN_STATE_REGION, else the command's */
	if (o->region)
		out->region = o->region;
	else if (env && *env)
		out->region = env;
}

struct state *stateopts_open(const struct stateopts *o, const char *location,
			     int open_flags, int remote_flags,
			     const char *command, struct state_handle *h,
			     struct err *err)
{
	struct remote_opts ro;
	struct aws_options dflt;
	struct state *st;

	memset(h, 0, sizeof(*h));
	h->location = xstrdup(location);
	if (!remote_is_url(location))
		return state_open(location, open_flags, err);
	stateopts_aws_options(o, &dflt);
	h->aws = aws_client_new(&dflt, err);
	if (!h->aws)
		return NULL;
	memset(&ro, 0, sizeof(ro));
	ro.lock = remote_flags & STATEOPTS_LOCK;
	ro.lock_wait = o->lock_timeout;
	ro.command = command;
	ro.create = open_flags & STATE_OPEN_CREATE;
	ro.writable = remote_flags & STATEOPTS_WRITABLE;
	ro.kms_key = o->kms_key;
	h->remote = remote_open(h->aws, location, &ro, err);
	if (!h->remote)
		return NULL;
	st = state_open(remote_local_path(h->remote), open_flags, err);
	if (st)
		remote_attach(h->remote, st);
	else if (err->code == ERR_NOT_FOUND)
		err_set(err, ERR_NOT_FOUND, "no state found at '%s'", location);
	else
		err_prefix(err, "%s (downloaded to a temporary copy): ",
			   location);
	return st;
}

int stateopts_close(struct state_handle *h, struct state *st,
		    struct err *err)
{
	int rc = 0;

	state_close(st);
	if (h->remote)
		rc = remote_close(h->remote, err);
	h->remote = NULL;
	aws_client_free(h->aws);
	h->aws = NULL;
	free(h->location);
	h->location = NULL;
	return rc;
}
