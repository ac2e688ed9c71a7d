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

static void change_line(struct strbuf *out, const struct plan_change *ch,
			bool show_forces, bool color)
{
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
		if (ch->sensitive)
			strbuf_addstr(out, "(sensitive)");
		else
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
		change_line(out, &it->changes.items[i],
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

static void json_change(struct strbuf *out, const struct plan_change *ch)
{
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
	strbuf_addf(out, ",\"sensitive\":%s,\"unknown\":%s,\"forces_replacement\":",
		    ch->sensitive ? "true" : "false",
		    ch->unknown ? "true" : "false");
	json_str(out, ch->forces);
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
		json_change(out, &it->changes.items[i]);
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
