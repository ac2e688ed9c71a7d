#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/strbuf.h"
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

char *stateopts_path(const struct stateopts *o, const char *stack,
		     const char *template_path, struct err *err)
{
	struct strbuf p = STRBUF_INIT;
	char *derived = NULL;
	const char *name;

	if (o->state_path)
		return xstrdup(o->state_path);
	name = o->stack ? o->stack : stack;
	if (!name && template_path) {
		derived = stack_from_template(template_path, err);
		if (!derived)
			return NULL;
		name = derived;
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
