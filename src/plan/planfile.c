/*
 * Saved plans: what a plan is bound to, writing it, reading it back and
 * refusing it when the world moved (the template, a parameter, the state).
 *
 * Parameter fingerprints are HMAC-SHA256 under a random salt kept in the
 * plan: equal values give equal fingerprints within one plan file, and a
 * NoEcho value is never written. (Whoever holds the file can still test
 * guesses against a fingerprint; a plan file, like the state, is to be
 * kept private: it is written with mode 0600.)
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "cairn/plan.h"
#include "plan_int.h"

#define PLAN_MAX_BYTES (256u << 20)

static void hex(struct strbuf *out, const unsigned char *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		strbuf_addch(out, digits[b[i] >> 4]);
		strbuf_addch(out, digits[b[i] & 15]);
	}
}

static int unhex(const char *s, unsigned char *out, size_t max, size_t *n)
{
	size_t len = strlen(s), i;

	if (len % 2 || len / 2 > max)
		return -1;
	for (i = 0; i < len; i++) {
		int c = s[i], v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return -1;
		if (i % 2)
			out[i / 2] |= (unsigned char)v;
		else
			out[i / 2] = (unsigned char)(v << 4);
	}
	*n = len / 2;
	return 0;
}

const char *plan_digest_file(struct arena *a, const char *path,
			     struct err *err)
{
	unsigned char md[32];
	unsigned int mdlen = sizeof(md);
	struct strbuf sb = STRBUF_INIT, hx = STRBUF_INIT;
	const char *res;

	if (strbuf_read_file(&sb, path, 0) < 0) {
		err_set(err, ERR_IO, "cannot read \"%s\": %s", path,
			strerror(errno));
		strbuf_release(&sb);
		return NULL;
	}
	if (!EVP_Digest(sb.buf, sb.len, md, &mdlen, EVP_sha256(), NULL)) {
		strbuf_release(&sb);
		err_set(err, ERR_INTERNAL, "sha-256 of \"%s\" failed", path);
		return NULL;
	}
	strbuf_release(&sb);
	strbuf_addstr(&hx, "sha256:");
	hex(&hx, md, sizeof(md));
	res = arena_strdup(a, hx.buf);
	strbuf_release(&hx);
	return res;
}

/* "hmac-sha256:<hex>" of name NUL canonical-JSON(value) under salt. */
static const char *param_fingerprint(struct arena *a, const unsigned char *salt,
				     size_t saltlen, const char *name,
				     const struct value *v)
{
	struct strbuf msg = STRBUF_INIT, hx = STRBUF_INIT;
	unsigned char md[32];
	unsigned int mdlen = sizeof(md);
	const char *res;

	strbuf_addstr(&msg, name);
	strbuf_addch(&msg, '\0');
	value_to_json(v, &msg, VALUE_JSON_SORT_KEYS | VALUE_JSON_UNKNOWN_MARKER);
	if (!HMAC(EVP_sha256(), salt, (int)saltlen,
		  (const unsigned char *)msg.buf, msg.len, md, &mdlen))
		memset(md, 0, sizeof(md)); /* cannot happen with a valid key */
	/* the message may hold a NoEcho value in plaintext */
	OPENSSL_cleanse(msg.buf, msg.len);
	strbuf_release(&msg);
	strbuf_addstr(&hx, "hmac-sha256:");
	hex(&hx, md, sizeof(md));
	res = arena_strdup(a, hx.buf);
	strbuf_release(&hx);
	return res;
}

static struct value *fingerprint_params(struct arena *a,
					const unsigned char *salt,
					size_t saltlen,
					const struct value *params)
{
	struct value *out = value_new_map(a);
	size_t i;

	if (!params || params->kind != VALUE_MAP)
		return out;
	for (i = 0; i < params->u.map.n; i++) {
		const struct value_pair *kv = &params->u.map.items[i];
		struct value *e = value_new_map(a);
		value_map_set(a, e, "fingerprint",
			      value_new_string(a, param_fingerprint(
						 a, salt, saltlen, kv->key,
						 kv->val)));
		if (kv->val && !value_has_sensitive(kv->val))
			value_map_set(a, e, "value", value_copy(a, kv->val));
		else
			value_map_set(a, e, "sensitive",
				      value_new_bool(a, true));
		value_map_set(a, out, kv->key, e);
	}
	return out;
}

static const char *dup_or_null(struct arena *a, const char *s)
{
	return s ? arena_strdup(a, s) : NULL;
}

void plan_bind(struct plan *p, const struct plan_binding *b)
{
	unsigned char salt[16];
	struct strbuf hx = STRBUF_INIT;

	if (RAND_bytes(salt, (int)sizeof(salt)) != 1) {
		/* no entropy source: a fixed salt still binds the plan; the
		 * fingerprints are then only as private as plain SHA-256 */
		memset(salt, 0x5a, sizeof(salt));
	}
	hex(&hx, salt, sizeof(salt));
	p->param_salt = arena_strdup(p->arena, hx.buf);
	strbuf_release(&hx);
	p->stack = dup_or_null(p->arena, b->stack);
	p->template_path = dup_or_null(p->arena, b->template_path);
	p->template_digest = dup_or_null(p->arena, b->template_digest);
	p->state_path = dup_or_null(p->arena, b->state_path);
	p->state_serial = b->state_serial;
	p->state_exists = b->state_exists;
	p->refresh = b->refresh;
	p->params = fingerprint_params(p->arena, salt, sizeof(salt), b->params);
}

int plan_save(const struct plan *p, const char *path, struct err *err)
{
	struct strbuf json = STRBUF_INIT, tmp = STRBUF_INIT;
	size_t off = 0;
	int fd;

	plan_render_json(p, &json);
	strbuf_addf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, ERR_IO, "cannot write plan \"%s\": %s", path,
			strerror(errno));
		goto fail;
	}
	while (off < json.len) {
		ssize_t w = write(fd, json.buf + off, json.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err_set(err, ERR_IO, "cannot write plan \"%s\": %s",
				path, strerror(errno));
			close(fd);
			unlink(tmp.buf);
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		err_set(err, ERR_IO, "cannot write plan \"%s\": %s", path,
			strerror(errno));
		unlink(tmp.buf);
		goto fail;
	}
	if (rename(tmp.buf, path) < 0) {
		err_set(err, ERR_IO, "cannot write plan \"%s\": %s", path,
			strerror(errno));
		unlink(tmp.buf);
		goto fail;
	}
	strbuf_release(&json);
	strbuf_release(&tmp);
	return 0;
fail:
	strbuf_release(&json);
	strbuf_release(&tmp);
	return -1;
}

/* ------------------------------------------------------------- loading */

static const char *get_str(const struct value *m, const char *key)
{
	return value_str(value_map_get(m, key));
}

static int get_bool(const struct value *m, const char *key)
{
	const struct value *v = value_map_get(m, key);
	return v && v->kind == VALUE_BOOL && v->u.b;
}

static int action_from_name(const char *s, enum plan_action *out)
{
	enum plan_action a;

	if (!s)
		return -1;
	for (a = PLAN_NOOP; a <= PLAN_FORGET; a++) {
		if (!strcmp(plan_action_name(a), s)) {
			*out = a;
			return 0;
		}
	}
	return -1;
}

/* Values printed as "(sensitive)" come back as sensitive strings, so that
 * rendering a loaded plan still shows no more than the original. */
static const struct value *loaded_value(struct value *v, int sensitive)
{
	if (v && sensitive)
		v->sensitive = 1;
	return v;
}

static const char **string_list(struct arena *a, const struct value *l,
				size_t *n)
{
	const char **out;
	size_t i;

	*n = 0;
	if (!l || l->kind != VALUE_LIST || !l->u.list.n)
		return NULL;
	out = arena_alloc(a, l->u.list.n * sizeof(*out));
	for (i = 0; i < l->u.list.n; i++) {
		const char *s = value_str(l->u.list.items[i]);
		if (s)
			out[(*n)++] = s;
	}
	return out;
}

static int load_changes(struct plan *p, struct plan_resource *it,
			const struct value *list, struct err *err)
{
	size_t i;

	if (!list)
		return 0;
	if (list->kind != VALUE_LIST)
		return err_set(err, ERR_PARSE, "resource \"%s\": \"changes\" "
					       "is not a list",
			       it->logical_id);
	it->changes.items = arena_alloc(p->arena, (list->u.list.n + 1) *
							  sizeof(struct plan_change));
	it->changes.cap = list->u.list.n + 1;
	for (i = 0; i < list->u.list.n; i++) {
		const struct value *c = list->u.list.items[i];
		struct plan_change *ch = &it->changes.items[it->changes.n];
		const char *kind = get_str(c, "kind");
		ch->path = get_str(c, "path");
		if (!ch->path || !kind)
			return err_set(err, ERR_PARSE,
				       "resource \"%s\": change %zu has no "
				       "path or kind",
				       it->logical_id, i);
		if (!strcmp(kind, "add"))
			ch->kind = PLAN_CHANGE_ADD;
		else if (!strcmp(kind, "remove"))
			ch->kind = PLAN_CHANGE_REMOVE;
		else if (!strcmp(kind, "update"))
			ch->kind = PLAN_CHANGE_UPDATE;
		else
			return err_set(err, ERR_PARSE,
				       "resource \"%s\": unknown change kind "
				       "\"%s\"",
				       it->logical_id, kind);
		ch->sensitive = get_bool(c, "sensitive");
		ch->unknown = get_bool(c, "unknown");
		ch->forces = get_str(c, "forces_replacement");
		ch->before = loaded_value(value_map_get(c, "before"),
					  ch->sensitive);
		ch->after = loaded_value(value_map_get(c, "after"),
					 ch->sensitive && !ch->unknown);
		it->changes.n++;
	}
	return 0;
}

static int load_resource(struct plan *p, const struct value *r,
			 struct err *err)
{
	struct plan_resource *it;
	const char *id = get_str(r, "logical_id");
	const char *type = get_str(r, "type");
	const struct value *repl;
	enum plan_action act;

	if (!id || !type)
		return err_set(err, ERR_PARSE,
			       "a resource has no logical_id or type");
	if (action_from_name(get_str(r, "action"), &act) < 0)
		return err_set(err, ERR_PARSE,
			       "resource \"%s\": unknown action", id);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		p->items = arena_realloc(p->arena, p->items,
					 p->cap * sizeof(*p->items),
					 cap * sizeof(*p->items));
		p->cap = cap;
	}
	it = &p->items[p->n++];
	memset(it, 0, sizeof(*it));
	it->logical_id = id;
	it->type = type;
	it->old_type = get_str(r, "old_type");
	it->action = act;
	it->physical_id = get_str(r, "physical_id");
	it->why = get_str(r, "reason");
	it->depends_on = string_list(p->arena, value_map_get(r, "depends_on"),
				     &it->ndeps);
	repl = value_map_get(r, "replacement");
	if (repl) {
		const char *order = get_str(repl, "order");
		it->create_before_delete =
			order && !strcmp(order, "create_before_delete");
		it->reasons = string_list(p->arena,
					  value_map_get(repl, "reasons"),
					  &it->nreasons);
		it->conflict = get_str(repl, "conflict");
		it->retain_old = get_bool(repl, "retain_old");
	}
	return load_changes(p, it, value_map_get(r, "changes"), err);
}

/* Appends to `why` every way the binding moved; the saved plan p holds the
 * salt and fingerprints. */
static void compare_binding(struct plan *p, const struct plan_binding *cur,
			    struct strbuf *why)
{
	unsigned char salt[64];
	size_t saltlen = 0, i;
	const struct value *now_fp;

#define WHY(...)                                                             \
	do {                                                                 \
		strbuf_addstr(why, why->len ? "; " : "");                    \
		strbuf_addf(why, __VA_ARGS__);                               \
	} while (0)

	if (cur->stack && p->stack && strcmp(cur->stack, p->stack))
		WHY("it was made for stack \"%s\", not \"%s\"", p->stack,
		    cur->stack);
	if (cur->template_digest && (!p->template_digest ||
				     strcmp(cur->template_digest,
					    p->template_digest)))
		WHY("the template changed (%s when planned, %s now)",
		    p->template_digest ? p->template_digest : "none",
		    cur->template_digest);
	if (cur->state_serial != p->state_serial)
		WHY("the state changed (serial %lld when planned, %lld now)",
		    p->state_serial, cur->state_serial);
	if (!p->param_salt ||
	    unhex(p->param_salt, salt, sizeof(salt), &saltlen) < 0) {
		WHY("its parameter fingerprints are unreadable");
		return;
	}
	now_fp = fingerprint_params(p->arena, salt, saltlen, cur->params);
	for (i = 0; i < now_fp->u.map.n; i++) {
		const char *k = now_fp->u.map.items[i].key;
		const struct value *then = value_map_get(p->params, k);
		if (!then)
			WHY("parameter \"%s\" was not set when planned", k);
		else if (!get_str(then, "fingerprint") ||
			 strcmp(get_str(then, "fingerprint"),
				get_str(now_fp->u.map.items[i].val,
					"fingerprint")))
			WHY("parameter \"%s\" changed", k);
	}
	if (p->params && p->params->kind == VALUE_MAP)
		for (i = 0; i < p->params->u.map.n; i++)
			if (!value_map_get(now_fp, p->params->u.map.items[i].key))
				WHY("parameter \"%s\" is no longer set",
				    p->params->u.map.items[i].key);
#undef WHY
}

struct plan *plan_load(struct arena *a, const char *path,
		       const struct plan_binding *current, struct err *err)
{
	struct strbuf sb = STRBUF_INIT, why = STRBUF_INIT;
	struct value *doc, *v;
	struct plan *p;
	const char *fv;
	size_t i;

	if (strbuf_read_file(&sb, path, PLAN_MAX_BYTES) < 0) {
		err_set(err, ERR_IO, "cannot read plan \"%s\": %s", path,
			strerror(errno));
		strbuf_release(&sb);
		return NULL;
	}
	doc = value_from_json(a, sb.buf, sb.len, VALUE_JSON_UNKNOWN_MARKER, err);
	strbuf_release(&sb);
	if (!doc) {
		err_prefix(err, "plan \"%s\": ", path);
		return NULL;
	}
	fv = get_str(doc, "format_version");
	if (doc->kind != VALUE_MAP || !fv ||
	    !value_map_get(doc, "resources")) {
		err_set(err, ERR_PARSE, "\"%s\" is not a cairn plan file", path);
		return NULL;
	}
	if (strcmp(fv, "1")) {
		err_set(err, ERR_PARSE,
			"plan \"%s\" has format_version \"%s\"; this cairn "
			"reads \"1\"",
			path, fv);
		return NULL;
	}
	p = plan_new(a);
	p->stack = get_str(doc, "stack");
	v = value_map_get(doc, "template");
	p->template_path = get_str(v, "path");
	p->template_digest = get_str(v, "digest");
	v = value_map_get(doc, "parameters");
	p->param_salt = get_str(v, "salt");
	p->params = value_map_get(v, "values");
	if (!p->params || p->params->kind != VALUE_MAP)
		p->params = value_new_map(a);
	v = value_map_get(doc, "state");
	p->state_path = get_str(v, "path");
	p->state_exists = get_bool(v, "exists");
	{
		const struct value *s = value_map_get(v, "serial");
		p->state_serial = s && s->kind == VALUE_NUMBER
					  ? (long long)s->u.num.d
					  : -1;
	}
	p->refresh = get_bool(doc, "refresh");
	v = value_map_get(doc, "resources");
	if (v->kind != VALUE_LIST) {
		err_set(err, ERR_PARSE, "plan \"%s\": \"resources\" is not a list",
			path);
		return NULL;
	}
	for (i = 0; i < v->u.list.n; i++) {
		if (load_resource(p, v->u.list.items[i], err) < 0) {
			err_prefix(err, "plan \"%s\": ", path);
			return NULL;
		}
	}
	/* index the loaded items (plan_find, plan_keeps_identity) */
	plan_index_rebuild(p);
	if (current) {
		compare_binding(p, current, &why);
		if (why.len) {
			err_set(err, ERR_CONFLICT,
				"saved plan \"%s\" is stale: %s; run 'cairn "
				"plan' again",
				path, why.buf);
			strbuf_release(&why);
			return NULL;
		}
	}
	strbuf_release(&why);
	return p;
}

/* ---------------------------------------------------- same work */

static void change_text(const struct plan_change *ch, struct strbuf *out)
{
	static const char *const kinds[] = { "add", "remove", "update" };
	const int flags = VALUE_JSON_REDACT | VALUE_JSON_UNKNOWN_MARKER |
			  VALUE_JSON_SORT_KEYS;

	strbuf_addf(out, "%s %s forces=%s ", ch->path, kinds[ch->kind],
		    ch->forces ? ch->forces : "-");
	if (ch->sensitive) {
		strbuf_addstr(out, "(sensitive)");
		return;
	}
	if (ch->before)
		value_to_json(ch->before, out, flags);
	strbuf_addstr(out, " -> ");
	if (ch->after)
		value_to_json(ch->after, out, flags);
}

static void say(struct strbuf *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct strbuf *why, const char *fmt, ...)
{
	va_list ap;

	if (why->len)
		strbuf_addstr(why, "; ");
	va_start(ap, fmt);
	strbuf_vaddf(why, fmt, ap);
	va_end(ap);
}

/* The change of `now` at `path`, or NULL. */
static const struct plan_change *change_at(const struct plan_changes *c,
					   const char *path)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->items[i].path, path))
			return &c->items[i];
	return NULL;
}

static void compare_changes(const struct plan_resource *o,
			    const struct plan_resource *r, struct strbuf *why)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t i;

	for (i = 0; i < o->changes.n; i++) {
		const struct plan_change *x = &o->changes.items[i];
		const struct plan_change *y = change_at(&r->changes, x->path);
		strbuf_reset(&a);
		strbuf_reset(&b);
		change_text(x, &a);
		if (y)
			change_text(y, &b);
		if (!y)
			say(why, "\"%s\": %s was planned to change, now it does not",
			    r->logical_id, x->path);
		else if (strcmp(a.buf, b.buf))
			say(why, "\"%s\": the change to %s differs", r->logical_id,
			    x->path);
	}
	for (i = 0; i < r->changes.n; i++)
		if (!change_at(&o->changes, r->changes.items[i].path))
			say(why, "\"%s\": %s changes now, it was not planned to",
			    r->logical_id, r->changes.items[i].path);
	strbuf_release(&a);
	strbuf_release(&b);
}

bool plan_same_work(const struct plan *saved, const struct plan *now,
		    struct strbuf *why)
{
	struct strbuf so = STRBUF_INIT, no = STRBUF_INIT;
	size_t start = why->len, i, k;

	for (i = 0; i < now->n; i++) {
		const struct plan_resource *r = &now->items[i];
		const struct plan_resource *o = plan_find(saved, r->logical_id);
		enum plan_action was = o ? o->action : PLAN_NOOP;

		if (was != r->action) {
			say(why, "\"%s\" planned %s, now %s", r->logical_id,
			    plan_action_name(was), plan_action_name(r->action));
			continue;
		}
		if (!o || r->action == PLAN_NOOP)
			continue;
		if (strcmp(o->type, r->type))
			say(why, "\"%s\" planned as %s, now %s", r->logical_id,
			    o->type, r->type);
		else if (r->action == PLAN_REPLACE &&
			 o->create_before_delete != r->create_before_delete)
			say(why, "\"%s\" planned %s, now %s", r->logical_id,
			    o->create_before_delete ? "create before delete"
						    : "delete before create",
			    r->create_before_delete ? "create before delete"
						    : "delete before create");
		else
			compare_changes(o, r, why);
	}
	for (k = 0; k < saved->n; k++) {
		const struct plan_resource *o = &saved->items[k];
		if (o->action != PLAN_NOOP && !plan_find(now, o->logical_id))
			say(why, "\"%s\" planned %s, now nothing", o->logical_id,
			    plan_action_name(o->action));
	}
	/* the order the work runs in (execution order of what changes) */
	for (i = 0; i < saved->n; i++)
		if (saved->items[i].action != PLAN_NOOP)
			strbuf_addf(&so, "%s%s", so.len ? ", " : "",
				    saved->items[i].logical_id);
	for (i = 0; i < now->n; i++)
		if (now->items[i].action != PLAN_NOOP)
			strbuf_addf(&no, "%s%s", no.len ? ", " : "",
				    now->items[i].logical_id);
	if (why->len == start && strcmp(so.buf, no.buf))
		say(why, "the order changed (planned %s; now %s)", so.buf, no.buf);
	strbuf_release(&so);
	strbuf_release(&no);
	return why->len == start;
}
