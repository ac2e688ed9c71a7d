/*
 * Rendering a plan: the human form (terraform's symbols and wording, so
 * its users read it without a manual) and JSON format_version "1"
 * (docs/plan-json.md). Neither ever shows a sensitive value.
 */
#include <string.h>

#include "cairn/plan.h"
#include "version.h"

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_RED "\033[31m"
#define C_CYAN "\033[36m"
#define C_DIM "\033[2m"

static void indent(struct strbuf *out, int n)
{
	while (n-- > 0)
		strbuf_addch(out, ' ');
}

static int heredoc_ok(const struct value *v);

/* Whether v prints on one line. */
static int is_scalar_shown(const struct value *v)
{
	if (!v || v->sensitive || plan_secret_fingerprint(v))
		return 1;
	if (v->kind == VALUE_STRING)
		return !heredoc_ok(v);
	return v->kind != VALUE_LIST && v->kind != VALUE_MAP;
}

/* Multi-line text (an embedded policy, a script) reads better as lines
 * than as one JSON string full of \n: shown terraform's way, between <<EOT
 * and EOT. Only for text whose other characters print as themselves. */
static int heredoc_ok(const struct value *v)
{
	size_t i;
	int nl = 0;

	for (i = 0; i < v->u.str.len; i++) {
		unsigned char c = (unsigned char)v->u.str.s[i];
		if (c == '\n')
			nl = 1;
		else if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return nl;
}

static void heredoc(struct strbuf *out, const struct value *v, int ind)
{
	const char *p = v->u.str.s, *end = p + v->u.str.len;

	strbuf_addstr(out, "<<EOT\n");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n)
			indent(out, ind + 2);
		strbuf_add(out, p, n);
		strbuf_addch(out, '\n');
		p += n + (nl ? 1 : 0);
	}
	indent(out, ind);
	strbuf_addstr(out, "EOT");
}

/* The dynamic references held by v's dynref strings, each once, as the
 * template wrote them ("{{resolve:ssm:/x}}"): a plan shows them in place
 * of the values, which it never reads (template/eval.c). */
static void collect_dynrefs(const struct value *v, struct strbuf *seen,
			    size_t *n, void (*emit)(struct strbuf *, const char *,
						    size_t, size_t),
			    struct strbuf *out)
{
	size_t i;

	if (!v)
		return;
	if (v->kind == VALUE_LIST)
		for (i = 0; i < v->u.list.n; i++)
			collect_dynrefs(v->u.list.items[i], seen, n, emit, out);
	if (v->kind == VALUE_MAP)
		for (i = 0; i < v->u.map.n; i++)
			collect_dynrefs(v->u.map.items[i].val, seen, n, emit, out);
	if (v->kind == VALUE_STRING && v->dynref) {
		const char *p = v->u.str.s, *at, *end;
		while ((at = strstr(p, "{{resolve:")) && (end = strstr(at, "}}"))) {
			size_t len = (size_t)(end + 2 - at);
			struct strbuf key = STRBUF_INIT;
			strbuf_addch(&key, '\n');
			strbuf_add(&key, at, len);
			strbuf_addch(&key, '\n');
			if (!strstr(seen->buf, key.buf)) {
				strbuf_add(seen, key.buf + 1, key.len - 1);
				emit(out, at, len, (*n)++);
			}
			strbuf_release(&key);
			p = end + 2;
		}
	}
}

static void emit_human_ref(struct strbuf *out, const char *r, size_t len,
			   size_t i)
{
	strbuf_addstr(out, i ? ", " : " from ");
	strbuf_add(out, r, len);
}

static void emit_json_ref(struct strbuf *out, const char *r, size_t len,
			  size_t i)
{
	if (i)
		strbuf_addch(out, ',');
	strbuf_add_json_str(out, r, len);
}

/* " from {{resolve:...}}, ..." after a "(sensitive)" value read at apply */
static void human_dynrefs(struct strbuf *out, const struct value *v)
{
	struct strbuf seen = STRBUF_INIT;
	size_t n = 0;

	strbuf_addch(&seen, '\n');
	collect_dynrefs(v, &seen, &n, emit_human_ref, out);
	if (n)
		strbuf_addstr(out, ", read at apply");
	strbuf_release(&seen);
}

/* A value for people: strings quoted as JSON, unknowns and secrets as
 * words, maps as "Key: value" lines, short lists of scalars on one line. */
static void human_value(struct strbuf *out, const struct value *v, int ind)
{
	size_t i;

	if (!v) {
		strbuf_addstr(out, "null");
		return;
	}
	if (v->sensitive || plan_secret_fingerprint(v)) {
		strbuf_addstr(out, "(sensitive)");
		return;
	}
	switch (v->kind) {
	case VALUE_NULL:
		strbuf_addstr(out, "null");
		return;
	case VALUE_BOOL:
		strbuf_addstr(out, v->u.b ? "true" : "false");
		return;
	case VALUE_NUMBER:
		strbuf_addstr(out, v->u.num.text);
		return;
	case VALUE_STRING:
		if (heredoc_ok(v))
			heredoc(out, v, ind);
		else
			strbuf_add_json_str(out, v->u.str.s, v->u.str.len);
		return;
	case VALUE_UNKNOWN:
		strbuf_addstr(out, "(known after apply)");
		return;
	case VALUE_LIST: {
		int inline_ok = 1;
		size_t start = out->len;
		if (!v->u.list.n) {
			strbuf_addstr(out, "[]");
			return;
		}
		for (i = 0; i < v->u.list.n; i++)
			if (!is_scalar_shown(v->u.list.items[i]))
				inline_ok = 0;
		if (inline_ok) {
			strbuf_addch(out, '[');
			for (i = 0; i < v->u.list.n; i++) {
				if (i)
					strbuf_addstr(out, ", ");
				human_value(out, v->u.list.items[i], ind);
			}
			strbuf_addch(out, ']');
			if (out->len - start <= 72)
				return;
			strbuf_setlen(out, start);
		}
		strbuf_addstr(out, "[\n");
		for (i = 0; i < v->u.list.n; i++) {
			indent(out, ind + 2);
			human_value(out, v->u.list.items[i], ind + 2);
			strbuf_addstr(out, i + 1 < v->u.list.n ? ",\n" : "\n");
		}
		indent(out, ind);
		strbuf_addch(out, ']');
		return;
	}
	case VALUE_MAP:
		if (!v->u.map.n) {
			strbuf_addstr(out, "{}");
			return;
		}
		strbuf_addstr(out, "{\n");
		for (i = 0; i < v->u.map.n; i++) {
			indent(out, ind + 2);
			strbuf_addstr(out, v->u.map.items[i].key);
			strbuf_addstr(out, ": ");
			human_value(out, v->u.map.items[i].val, ind + 2);
			strbuf_addch(out, '\n');
		}
		indent(out, ind);
		strbuf_addch(out, '}');
		return;
	}
}

static const char *symbol(const struct plan_resource *it)
{
	switch (it->action) {
	case PLAN_CREATE:
		return "+";
	case PLAN_UPDATE:
		return "~";
	case PLAN_REPLACE:
		return it->create_before_delete ? "+/-" : "-/+";
	case PLAN_DELETE:
		return "-";
	case PLAN_FORGET:
		return ".";
	case PLAN_NOOP:
		break;
	}
	return " ";
}

static const char *color_of(const struct plan_resource *it)
{
	switch (it->action) {
	case PLAN_CREATE:
		return C_GREEN;
	case PLAN_UPDATE:
		return C_YELLOW;
	case PLAN_REPLACE:
	case PLAN_DELETE:
		return C_RED;
	case PLAN_FORGET:
		return C_CYAN;
	case PLAN_NOOP:
		break;
	}
	return "";
}

/* The top-level properties whose change interrupts the resource:
 * "InstanceType, Tenancy change". */
static void interrupting_props(struct strbuf *out,
			       const struct plan_resource *it)
{
	size_t k, j, n = 0;

	for (k = 0; k < it->changes.n; k++) {
		const char *p = it->changes.items[k].path;
		const char *how = plan_change_interruption(it, &it->changes.items[k]);
		size_t len = strcspn(p, ".[");
		bool seen = false;
		if (!how || strcmp(how, "some interruption"))
			continue;
		for (j = 0; j < k && !seen; j++) {
			const char *q = it->changes.items[j].path;
			seen = strcspn(q, ".[") == len && !strncmp(q, p, len);
		}
		if (!seen)
			strbuf_addf(out, "%s%.*s", n++ ? ", " : "", (int)len, p);
	}
	strbuf_addstr(out, n > 1 ? " change" : " changes");
}

static void change_line(struct strbuf *out, const struct plan_resource *it,
			const struct plan_change *ch, bool show_forces,
			bool color)
{
	const char *how = plan_change_interruption(it, ch);

	static const char *const sym[] = { "+", "-", "~" };
	static const char *const col[] = { C_GREEN, C_RED, C_YELLOW };

	indent(out, 6);
	if (color)
		strbuf_addstr(out, col[ch->kind]);
	strbuf_addstr(out, sym[ch->kind]);
	if (color)
		strbuf_addstr(out, C_RESET);
	strbuf_addf(out, " %s: ", *ch->path ? ch->path : "(all properties)");
	switch (ch->kind) {
	case PLAN_CHANGE_ADD:
		if (ch->sensitive) {
			strbuf_addstr(out, "(sensitive)");
			human_dynrefs(out, ch->after);
		} else
			human_value(out, ch->after, 8);
		break;
	case PLAN_CHANGE_REMOVE:
		if (ch->sensitive)
			strbuf_addstr(out, "(sensitive)");
		else
			human_value(out, ch->before, 8);
		strbuf_addstr(out, " -> null");
		break;
	case PLAN_CHANGE_UPDATE:
		if (ch->sensitive) {
			strbuf_addstr(out, "(sensitive) -> ");
			strbuf_addstr(out, ch->unknown ? "(known after apply)"
						       : "(sensitive)");
			if (!ch->unknown)
				human_dynrefs(out, ch->after);
		} else {
			human_value(out, ch->before, 8);
			strbuf_addstr(out, " -> ");
			human_value(out, ch->after, 8);
		}
		break;
	}
	if (show_forces && ch->forces) {
		if (color)
			strbuf_addstr(out, C_RED);
		strbuf_addstr(out, " (forces replacement)");
		if (color)
			strbuf_addstr(out, C_RESET);
	} else if (how) {
		strbuf_addf(out, " (%s)", how);
	}
	strbuf_addch(out, '\n');
}

static void reasons(struct strbuf *out, const struct plan_resource *it)
{
	size_t i;

	for (i = 0; i < it->nreasons; i++) {
		if (i)
			strbuf_addstr(out, ", ");
		strbuf_addstr(out, it->reasons[i]);
	}
}

static void resource_block(struct strbuf *out, const struct plan_resource *it,
			   bool color)
{
	const char *sym = symbol(it);
	size_t i;

	strbuf_addstr(out, "  ");
	if (color)
		strbuf_addf(out, "%s%s%s", C_BOLD, color_of(it), sym);
	else
		strbuf_addstr(out, sym);
	strbuf_addf(out, " %s", it->logical_id);
	if (color)
		strbuf_addstr(out, C_RESET);
	strbuf_addf(out, " (%s", it->type);
	if (it->old_type)
		strbuf_addf(out, ", was %s", it->old_type);
	if (it->physical_id)
		strbuf_addf(out, ", id %s", it->physical_id);
	strbuf_addstr(out, "): ");
	switch (it->action) {
	case PLAN_CREATE:
		strbuf_addstr(out, "create");
		break;
	case PLAN_UPDATE:
		strbuf_addstr(out, "update in place");
		{
			const char *prop = NULL, *what = plan_interruption(it, &prop);
			if (what) {
				strbuf_addf(out, ", some interruption: %s (", what);
				interrupting_props(out, it);
				strbuf_addch(out, ')');
			}
		}
		break;
	case PLAN_REPLACE:
		strbuf_addstr(out, "replace (forces replacement: ");
		reasons(out, it);
		strbuf_addstr(out, "), ");
		if (it->create_before_delete)
			strbuf_addstr(out, "create before delete");
		else if (it->conflict)
			strbuf_addf(out, "delete before create (%s unchanged)",
				    it->conflict);
		else
			strbuf_addstr(out, "delete before create");
		if (it->retain_old)
			strbuf_addstr(out, "; UpdateReplacePolicy Retain: "
					   "the old one is forgotten, not "
					   "deleted");
		if (it->retain_old && it->conflict)
			strbuf_addf(out, " (warning: it keeps its %s, so "
					 "creating the new one will fail "
					 "unless that changes)",
				    it->conflict);
		break;
	case PLAN_DELETE:
		strbuf_addf(out, "destroy (%s)", it->why);
		break;
	case PLAN_FORGET:
		strbuf_addf(out, "forget (%s; DeletionPolicy Retain: removed "
				 "from state, left in AWS)",
			    it->why);
		break;
	case PLAN_NOOP:
		strbuf_addstr(out, "no changes");
		break;
	}
	strbuf_addch(out, '\n');
	for (i = 0; i < it->changes.n; i++)
		change_line(out, it, &it->changes.items[i],
			    it->action == PLAN_REPLACE, color);
}

void plan_render_summary(const struct plan *p, struct strbuf *out)
{
	struct plan_summary s;

	plan_summarize(p, &s);
	if (!plan_has_changes(p)) {
		strbuf_addstr(out, "No changes. Your infrastructure matches "
				   "the template.\n");
		return;
	}
	strbuf_addf(out, "Plan: %zu to add, %zu to change, %zu to replace, "
			 "%zu to destroy",
		    s.add, s.change, s.replace, s.destroy);
	if (s.forget)
		strbuf_addf(out, ", %zu to forget", s.forget);
	strbuf_addstr(out, ".\n");
}

void plan_render_human(const struct plan *p, struct strbuf *out, bool color)
{
	size_t i;

	if (p->stack) {
		strbuf_addf(out, "Stack \"%s\": ", p->stack);
		if (!p->state_exists)
			strbuf_addstr(out, "no state yet.\n\n");
		else
			strbuf_addf(out, "state serial %lld, %s.\n\n",
				    p->state_serial,
				    p->refresh ? "refreshed from AWS"
					       : "compared with recorded state "
						 "only (no refresh)");
	}
	if (plan_has_changes(p)) {
		strbuf_addstr(out, "cairn will perform the following "
				   "actions:\n\n");
		for (i = 0; i < p->n; i++) {
			if (p->items[i].action == PLAN_NOOP)
				continue;
			resource_block(out, &p->items[i], color);
			strbuf_addch(out, '\n');
		}
	}
	if (color)
		strbuf_addstr(out, C_BOLD);
	plan_render_summary(p, out);
	if (color) {
		strbuf_setlen(out, out->len - 1);
		strbuf_addstr(out, C_RESET "\n");
	}
}

/* ---------------------------------------------------------------- JSON */

#define JSON_VALUE_FLAGS (VALUE_JSON_REDACT | VALUE_JSON_UNKNOWN_MARKER)

static void json_str(struct strbuf *out, const char *s)
{
	if (s)
		strbuf_add_json_str(out, s, strlen(s));
	else
		strbuf_addstr(out, "null");
}

static void json_value(struct strbuf *out, const struct value *v,
		       bool sensitive)
{
	if (sensitive) {
		/* a nested unknown may still be told apart: that is not a
		 * secret, and apply needs no more */
		strbuf_addstr(out, "\"(sensitive)\"");
		return;
	}
	value_to_json(v, out, JSON_VALUE_FLAGS);
}

static void json_change(struct strbuf *out, const struct plan_resource *it,
			const struct plan_change *ch)
{
	const char *how = ch->forces ? NULL : plan_change_interruption(it, ch);

	static const char *const kinds[] = { "add", "remove", "update" };

	strbuf_addstr(out, "{\"path\":");
	json_str(out, ch->path);
	strbuf_addf(out, ",\"kind\":\"%s\"", kinds[ch->kind]);
	if (ch->kind != PLAN_CHANGE_ADD) {
		strbuf_addstr(out, ",\"before\":");
		json_value(out, ch->before, ch->sensitive);
	}
	if (ch->kind != PLAN_CHANGE_REMOVE) {
		strbuf_addstr(out, ",\"after\":");
		json_value(out, ch->after, ch->sensitive && !(ch->after &&
				ch->after->kind == VALUE_UNKNOWN));
	}
	if (ch->kind != PLAN_CHANGE_REMOVE && value_has_dynref(ch->after)) {
		struct strbuf seen = STRBUF_INIT;
		size_t n = 0;
		strbuf_addch(&seen, '\n');
		strbuf_addstr(out, ",\"dynamic_references\":[");
		collect_dynrefs(ch->after, &seen, &n, emit_json_ref, out);
		strbuf_addch(out, ']');
		strbuf_release(&seen);
	}
	strbuf_addf(out, ",\"sensitive\":%s,\"unknown\":%s,\"forces_replacement\":",
		    ch->sensitive ? "true" : "false",
		    ch->unknown ? "true" : "false");
	json_str(out, ch->forces);
	if (how)
		strbuf_addf(out, ",\"interruption\":\"%s\"",
			    strcmp(how, "some interruption") ? "none" : "some");
	strbuf_addch(out, '}');
}

static void json_resource(struct strbuf *out, const struct plan_resource *it)
{
	size_t i;

	strbuf_addstr(out, "{\"logical_id\":");
	json_str(out, it->logical_id);
	strbuf_addstr(out, ",\"type\":");
	json_str(out, it->type);
	if (it->old_type) {
		strbuf_addstr(out, ",\"old_type\":");
		json_str(out, it->old_type);
	}
	strbuf_addf(out, ",\"action\":\"%s\",\"physical_id\":",
		    plan_action_name(it->action));
	json_str(out, it->physical_id);
	if (it->action == PLAN_REPLACE) {
		strbuf_addf(out, ",\"replacement\":{\"order\":\"%s\",\"reasons\":[",
			    it->create_before_delete ? "create_before_delete"
						     : "delete_before_create");
		for (i = 0; i < it->nreasons; i++) {
			if (i)
				strbuf_addch(out, ',');
			json_str(out, it->reasons[i]);
		}
		strbuf_addstr(out, "],\"conflict\":");
		json_str(out, it->conflict);
		strbuf_addf(out, ",\"retain_old\":%s}",
			    it->retain_old ? "true" : "false");
	}
	if (it->why) {
		strbuf_addstr(out, ",\"reason\":");
		json_str(out, it->why);
	}
	strbuf_addstr(out, ",\"depends_on\":[");
	for (i = 0; i < it->ndeps; i++) {
		if (i)
			strbuf_addch(out, ',');
		json_str(out, it->depends_on[i]);
	}
	strbuf_addstr(out, "],\"changes\":[");
	for (i = 0; i < it->changes.n; i++) {
		if (i)
			strbuf_addch(out, ',');
		strbuf_addstr(out, "\n    ");
		json_change(out, it, &it->changes.items[i]);
	}
	strbuf_addstr(out, "]}");
}

void plan_render_json(const struct plan *p, struct strbuf *out)
{
	struct plan_summary s;
	size_t i;

	plan_summarize(p, &s);
	strbuf_addstr(out, "{\"format_version\":\"1\",\"cairn_version\":");
	json_str(out, CAIRN_VERSION);
	/* again at the top, where a glance at the file finds it: what tells
	 * a saved plan from a template (cairn apply PLANFILE|TEMPLATE) */
	strbuf_addstr(out, ",\"template_digest\":");
	json_str(out, p->template_digest);
	strbuf_addstr(out, ",\n\"stack\":");
	json_str(out, p->stack);
	strbuf_addstr(out, ",\n\"template\":{\"path\":");
	json_str(out, p->template_path);
	strbuf_addstr(out, ",\"digest\":");
	json_str(out, p->template_digest);
	strbuf_addstr(out, "},\n\"parameters\":{\"salt\":");
	json_str(out, p->param_salt);
	strbuf_addstr(out, ",\"values\":");
	if (p->params)
		value_to_json(p->params, out, JSON_VALUE_FLAGS);
	else
		strbuf_addstr(out, "{}");
	strbuf_addstr(out, "},\n\"state\":{\"path\":");
	json_str(out, p->state_path);
	strbuf_addf(out, ",\"exists\":%s,\"serial\":%lld},\n\"refresh\":%s,",
		    p->state_exists ? "true" : "false", p->state_serial,
		    p->refresh ? "true" : "false");
	strbuf_addstr(out, "\n\"resources\":[");
	for (i = 0; i < p->n; i++) {
		if (i)
			strbuf_addch(out, ',');
		strbuf_addstr(out, "\n  ");
		json_resource(out, &p->items[i]);
	}
	strbuf_addf(out, "],\n\"summary\":{\"add\":%zu,\"change\":%zu,"
			 "\"replace\":%zu,\"destroy\":%zu,\"forget\":%zu,"
			 "\"no_op\":%zu},\n\"changes_present\":%s}\n",
		    s.add, s.change, s.replace, s.destroy, s.forget, s.noop,
		    plan_has_changes(p) ? "true" : "false");
}

/* ------------------------------------------------------------ Markdown */

/* Text for a table cell or a heading: '|' and newlines would end the cell,
 * '<' could open HTML, '`' a code span. */
static void md_text(struct strbuf *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '|':
			strbuf_addstr(out, "\\|");
			break;
		case '\n':
		case '\r':
			strbuf_addch(out, ' ');
			break;
		case '<':
			strbuf_addstr(out, "&lt;");
			break;
		case '>':
			strbuf_addstr(out, "&gt;");
			break;
		case '`':
			strbuf_addstr(out, "'");
			break;
		case '&':
			strbuf_addstr(out, "&amp;");
			break;
		default:
			strbuf_addch(out, *s);
		}
	}
}

/* A value inside a ``` block, as compact JSON; a backtick becomes the JSON
 * escape \u0060 so a value cannot close the block. */
static void md_value(struct strbuf *out, const struct value *v, bool sensitive)
{
	struct strbuf j = STRBUF_INIT;
	size_t i;

	if (sensitive) {
		strbuf_addstr(out, "(sensitive)");
		return;
	}
	if (!v) {
		strbuf_addstr(out, "null");
		return;
	}
	if (v->kind == VALUE_UNKNOWN) {
		strbuf_addstr(out, "(known after apply)");
		return;
	}
	value_to_json(v, &j, JSON_VALUE_FLAGS);
	for (i = 0; i < j.len; i++) {
		if (j.buf[i] == '`')
			strbuf_addstr(out, "\\u0060");
		else if (j.buf[i] == '\n')
			strbuf_addstr(out, "\\n");
		else
			strbuf_addch(out, j.buf[i]);
	}
	strbuf_release(&j);
}

/* The change lines of one resource in a ```diff block: "+" added, "-"
 * removed, "!" (a "-" then "+" pair) updated. */
static void md_changes(struct strbuf *out, const struct plan_resource *it,
		       const struct plan_changes *cs, const char *before_word,
		       const char *after_word)
{
	size_t i;

	if (!cs || !cs->n)
		return;
	strbuf_addstr(out, "\n```diff\n");
	for (i = 0; i < cs->n; i++) {
		const struct plan_change *c = &cs->items[i];
		const char *path = *c->path ? c->path : "(all properties)";
		bool after_secret = c->sensitive &&
				    !(c->after && c->after->kind == VALUE_UNKNOWN);

		switch (c->kind) {
		case PLAN_CHANGE_ADD:
			strbuf_addf(out, "+ %s: ", path);
			md_value(out, c->after, after_secret);
			if (after_secret)
				human_dynrefs(out, c->after);
			break;
		case PLAN_CHANGE_REMOVE:
			strbuf_addf(out, "- %s: ", path);
			md_value(out, c->before, c->sensitive);
			break;
		case PLAN_CHANGE_UPDATE:
			strbuf_addf(out, "- %s: ", path);
			md_value(out, c->before, c->sensitive);
			strbuf_addf(out, "   # %s\n+ %s: ", before_word, path);
			md_value(out, c->after, after_secret);
			if (after_secret)
				human_dynrefs(out, c->after);
			strbuf_addf(out, "   # %s", after_word);
			break;
		}
		if (c->forces)
			strbuf_addstr(out, "   # forces replacement");
		else if (plan_change_interruption(it, c))
			strbuf_addf(out, "   # %s", plan_change_interruption(it, c));
		strbuf_addch(out, '\n');
	}
	strbuf_addstr(out, "```\n");
}

/* Mermaid class per action or drift status (fill, stroke). */
static const struct {
	const char *name, *fill, *stroke;
} md_classes[] = {
	{ "create", "#dafbe1", "#1a7f37" },  { "update", "#fff8c5", "#9a6700" },
	{ "replace", "#ffebe9", "#cf222e" }, { "delete", "#ffd8d3", "#82071e" },
	{ "forget", "#ddf4ff", "#0969da" },  { "drifted", "#fbefff", "#8250df" },
	{ "gone", "#ffd8d3", "#82071e" },    { "failed", "#eeeeee", "#57606a" },
	{ "skipped", "#eeeeee", "#57606a" }, { "unmanaged", "#fff1e5", "#bc4c00" },
	{ "unchanged", "#ffffff", "#8c959f" },
};

struct md_node {
	const char *id, *type, *cls;
	const char *const *deps;
	size_t ndeps;
	bool shown;
};

static long md_find(const struct md_node *ns, size_t n, const char *id)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(ns[i].id, id))
			return (long)i;
	return -1;
}

/* A flowchart of the nodes whose class is not "unchanged" and of what they
 * depend on directly; an edge points from a dependency to its dependent
 * (the order apply creates them). At most 150 nodes: a bigger diagram is
 * unreadable and GitHub refuses very large ones. */
static void md_mermaid(struct strbuf *out, struct md_node *ns, size_t n)
{
	size_t i, k, shown = 0, used_cls = 0;
	bool any = false;

	for (i = 0; i < n; i++)
		if (strcmp(ns[i].cls, "unchanged"))
			any = true;
	if (!any)
		return;
	for (i = 0; i < n && shown < 150; i++) {
		if (!strcmp(ns[i].cls, "unchanged"))
			continue;
		if (!ns[i].shown) {
			ns[i].shown = true;
			shown++;
		}
		for (k = 0; k < ns[i].ndeps; k++) {
			long d = md_find(ns, n, ns[i].deps[k]);
			if (d >= 0 && !ns[d].shown && shown < 150) {
				ns[d].shown = true;
				shown++;
			}
		}
	}
	strbuf_addstr(out, "\n```mermaid\nflowchart LR\n");
	for (i = 0; i < n; i++) {
		if (!ns[i].shown)
			continue;
		strbuf_addf(out, "  n%zu[\"", i);
		md_text(out, ns[i].id);
		strbuf_addstr(out, "<br/><small>");
		md_text(out, ns[i].type ? ns[i].type : "?");
		strbuf_addf(out, "</small>\"]:::%s\n", ns[i].cls);
	}
	for (i = 0; i < n; i++) {
		if (!ns[i].shown)
			continue;
		for (k = 0; k < ns[i].ndeps; k++) {
			long d = md_find(ns, n, ns[i].deps[k]);
			if (d >= 0 && ns[d].shown && (size_t)d != i)
				strbuf_addf(out, "  n%ld --> n%zu\n", d, i);
		}
	}
	for (k = 0; k < sizeof(md_classes) / sizeof(md_classes[0]); k++) {
		for (i = 0; i < n; i++)
			if (ns[i].shown && !strcmp(ns[i].cls, md_classes[k].name))
				break;
		if (i == n)
			continue;
		strbuf_addf(out, "  classDef %s fill:%s,stroke:%s,color:#1f2328\n",
			    md_classes[k].name, md_classes[k].fill,
			    md_classes[k].stroke);
		used_cls++;
	}
	(void)used_cls;
	strbuf_addstr(out, "```\n");
}

/* The Mermaid class: the action's name ("create", "update" ...) */
static const char *md_class(const struct plan_resource *it)
{
	return it->action == PLAN_NOOP ? "unchanged"
				       : plan_action_name(it->action);
}

static const char *md_action_text(const struct plan_resource *it)
{
	switch (it->action) {
	case PLAN_CREATE:
		return "create";
	case PLAN_UPDATE:
		return plan_interruption(it, &(const char *){ NULL })
			       ? "update in place (some interruption)"
			       : "update in place";
	case PLAN_REPLACE:
		return it->create_before_delete ? "replace (create before delete)"
						: "replace (delete before create)";
	case PLAN_DELETE:
		return "destroy";
	case PLAN_FORGET:
		return "forget (left in AWS)";
	case PLAN_NOOP:
		break;
	}
	return "no change";
}

void plan_render_markdown(const struct plan *p, struct strbuf *out)
{
	struct md_node *ns;
	size_t i;

	strbuf_addstr(out, "### cairn plan");
	if (p->stack) {
		strbuf_addstr(out, ": stack `");
		md_text(out, p->stack);
		strbuf_addch(out, '`');
	}
	strbuf_addstr(out, "\n\n");
	if (p->stack) {
		if (!p->state_exists)
			strbuf_addstr(out, "No state yet. ");
		else
			strbuf_addf(out, "State serial %lld, %s. ", p->state_serial,
				    p->refresh ? "refreshed from AWS" :
						 "not refreshed from AWS");
	}
	strbuf_addstr(out, "**");
	plan_render_summary(p, out);
	strbuf_setlen(out, out->len - 1);
	strbuf_addstr(out, "**\n");
	if (!plan_has_changes(p))
		return;
	strbuf_addstr(out, "\n| action | resource | type | physical id |\n"
			   "|---|---|---|---|\n");
	for (i = 0; i < p->n; i++) {
		const struct plan_resource *it = &p->items[i];
		if (it->action == PLAN_NOOP)
			continue;
		strbuf_addf(out, "| %s %s | ", symbol(it), md_action_text(it));
		md_text(out, it->logical_id);
		strbuf_addstr(out, " | ");
		md_text(out, it->type);
		strbuf_addstr(out, " | ");
		md_text(out, it->physical_id ? it->physical_id : "");
		strbuf_addstr(out, " |\n");
	}
	ns = arena_alloc(p->arena, (p->n ? p->n : 1) * sizeof(*ns));
	for (i = 0; i < p->n; i++) {
		ns[i].id = p->items[i].logical_id;
		ns[i].type = p->items[i].type;
		ns[i].cls = md_class(&p->items[i]);
		ns[i].deps = p->items[i].depends_on;
		ns[i].ndeps = p->items[i].ndeps;
		ns[i].shown = false;
	}
	md_mermaid(out, ns, p->n);
	strbuf_addch(out, '\n');
	for (i = 0; i < p->n; i++) {
		const struct plan_resource *it = &p->items[i];
		if (it->action == PLAN_NOOP)
			continue;
		strbuf_addstr(out, "<details><summary><code>");
		md_text(out, it->logical_id);
		strbuf_addstr(out, "</code> (");
		md_text(out, it->type);
		strbuf_addf(out, "): %s</summary>\n\n", md_action_text(it));
		if (it->action == PLAN_REPLACE && it->nreasons) {
			strbuf_addstr(out, "Forces replacement: ");
			for (size_t k = 0; k < it->nreasons; k++) {
				strbuf_addstr(out, k ? ", `" : "`");
				md_text(out, it->reasons[k]);
				strbuf_addch(out, '`');
			}
			strbuf_addstr(out, ".\n");
		}
		if ((it->action == PLAN_DELETE || it->action == PLAN_FORGET) &&
		    it->why) {
			strbuf_addstr(out, "Why: ");
			md_text(out, it->why);
			strbuf_addstr(out, ".\n");
		}
		if (it->action == PLAN_CREATE && !it->changes.n)
			strbuf_addstr(out, "No properties.\n");
		md_changes(out, it, &it->changes, "before", "after");
		strbuf_addstr(out, "\n</details>\n");
	}
}

void plan_render_drift_markdown(const char *stack,
				const struct plan_md_drift *items, size_t n,
				size_t unchanged, struct strbuf *out)
{
	struct arena *a = arena_new();
	struct md_node *ns = arena_alloc(a, (n ? n : 1) * sizeof(*ns));
	size_t i, drifted = 0, gone = 0, failed = 0, unmanaged = 0;

	for (i = 0; i < n; i++) {
		const char *s = items[i].status;
		drifted += !strcmp(s, "drifted");
		gone += !strcmp(s, "gone");
		failed += !strcmp(s, "failed");
		unmanaged += !strcmp(s, "unmanaged");
	}
	strbuf_addstr(out, "### cairn drift");
	if (stack) {
		strbuf_addstr(out, ": stack `");
		md_text(out, stack);
		strbuf_addch(out, '`');
	}
	strbuf_addstr(out, "\n\n");
	if (!drifted && !gone && !unmanaged && !failed) {
		strbuf_addf(out, "**No drift**: %zu resource%s match%s the "
				 "recorded state.\n",
			    unchanged, unchanged == 1 ? "" : "s",
			    unchanged == 1 ? "es" : "");
		arena_free(a);
		return;
	}
	strbuf_addf(out, "**Drift: %zu drifted, %zu gone, %zu unchanged", drifted,
		    gone, unchanged);
	if (unmanaged)
		strbuf_addf(out, ", %zu unmanaged", unmanaged);
	if (failed)
		strbuf_addf(out, ", %zu could not be read (check incomplete)",
			    failed);
	strbuf_addstr(out, ".** `cairn plan` shows the repair; `cairn refresh` "
			   "records what AWS has instead.\n\n"
			   "| status | resource | type | physical id |\n"
			   "|---|---|---|---|\n");
	for (i = 0; i < n; i++) {
		ns[i].id = items[i].logical_id;
		ns[i].type = items[i].type;
		ns[i].cls = items[i].status;
		ns[i].deps = items[i].depends_on;
		ns[i].ndeps = items[i].ndeps;
		ns[i].shown = false;
		if (!strcmp(items[i].status, "skipped"))
			ns[i].cls = "unchanged";
		if (!strcmp(items[i].status, "unchanged"))
			continue;
		strbuf_addf(out, "| %s | ", items[i].status);
		md_text(out, items[i].logical_id);
		strbuf_addstr(out, " | ");
		md_text(out, items[i].type);
		strbuf_addstr(out, " | ");
		md_text(out, items[i].physical_id ? items[i].physical_id : "");
		strbuf_addstr(out, " |\n");
	}
	md_mermaid(out, ns, n);
	strbuf_addch(out, '\n');
	for (i = 0; i < n; i++) {
		if (!items[i].changes || !items[i].changes->n) {
			if (!items[i].note)
				continue;
		}
		strbuf_addstr(out, "<details><summary><code>");
		md_text(out, items[i].logical_id);
		strbuf_addstr(out, "</code> (");
		md_text(out, items[i].type);
		strbuf_addf(out, "): %s</summary>\n\n", items[i].status);
		if (items[i].note) {
			md_text(out, items[i].note);
			strbuf_addch(out, '\n');
		}
		md_changes(out, NULL, items[i].changes, "recorded", "live");
		strbuf_addstr(out, "\n</details>\n");
	}
	arena_free(a);
}
