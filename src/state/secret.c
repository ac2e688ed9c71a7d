/*
 * Secrets: HMAC-SHA256 fingerprints under the per-state key, and the
 * encoding of value trees into the JSON columns (sensitive nodes become
 * {"$secret": "hmac-sha256:<hex>"}, unknowns {"$unknown": what}).
 *
 * The key defeats dictionary guesses made across states (the same password
 * fingerprints differently in every state); it does not protect against
 * someone who holds the database file, since the key is in it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "state_internal.h"

#define FP_PREFIX "hmac-sha256:"
#define SHA256_LEN 32

int state_load_key(struct state *st, struct err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ok = 0;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT key FROM secret_key WHERE id = 1 AND "
			       "algorithm = 'hmac-sha256'",
			       -1, &s, NULL) != SQLITE_OK)
		return state_sqlerr(st, err, "reading the secret key");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == STATE_KEY_LEN) {
		memcpy(st->key, sqlite3_column_blob(s, 0), STATE_KEY_LEN);
		st->have_key = 1;
		ok = 1;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return state_sqlerr(st, err, "reading the secret key");
	if (!ok)
		return err_set(err, ERR_STATEDB,
			       "state '%s' has no valid secret key: it is "
			       "damaged",
			       st->path);
	return 0;
}

static int cmp_pairs(const void *a, const void *b)
{
	const struct value_pair *const *x = a;
	const struct value_pair *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

/* Canonical form: keys sorted, numbers by value (so "10" and "10.0"
 * fingerprint alike, as value_equal treats them), no marks or bits. */
static void canonical(const struct value *v, struct strbuf *out)
{
	size_t i;

	if (!v) {
		strbuf_addstr(out, "null");
		return;
	}
	switch (v->kind) {
	case VALUE_NULL:
	case VALUE_UNKNOWN: /* callers exclude unknowns */
		strbuf_addstr(out, "null");
		break;
	case VALUE_BOOL:
		strbuf_addstr(out, v->u.b ? "true" : "false");
		break;
	case VALUE_NUMBER:
		if (isfinite(v->u.num.d))
			strbuf_addf(out, "%.17g", v->u.num.d);
		else
			strbuf_addstr(out, "null");
		break;
	case VALUE_STRING:
		strbuf_add_json_str(out, v->u.str.s, v->u.str.len);
		break;
	case VALUE_LIST:
		strbuf_addch(out, '[');
		for (i = 0; i < v->u.list.n; i++) {
			if (i)
				strbuf_addch(out, ',');
			canonical(v->u.list.items[i], out);
		}
		strbuf_addch(out, ']');
		break;
	case VALUE_MAP: {
		const struct value_pair **order;
		size_t n = v->u.map.n;

		order = xmalloc((n ? n : 1) * sizeof(*order));
		for (i = 0; i < n; i++)
			order[i] = &v->u.map.items[i];
		qsort(order, n, sizeof(*order), cmp_pairs);
		strbuf_addch(out, '{');
		for (i = 0; i < n; i++) {
			if (i)
				strbuf_addch(out, ',');
			strbuf_add_json_str(out, order[i]->key,
					    strlen(order[i]->key));
			strbuf_addch(out, ':');
			canonical(order[i]->val, out);
		}
		strbuf_addch(out, '}');
		free(order);
		break;
	}
	}
}

static void hex(const unsigned char *b, size_t n, struct strbuf *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		strbuf_addch(out, digits[b[i] >> 4]);
		strbuf_addch(out, digits[b[i] & 15]);
	}
}

/* Appends the fingerprint of v (which has no unknowns). */
static void fingerprint(struct state *st, const struct value *v,
			struct strbuf *out)
{
	struct strbuf plain = STRBUF_INIT;
	unsigned char mac[SHA256_LEN];
	unsigned int mac_len = sizeof(mac);

	canonical(v, &plain);
	if (!HMAC(EVP_sha256(), st->key, STATE_KEY_LEN,
		  (const unsigned char *)plain.buf, plain.len, mac, &mac_len))
		abort(); /* only on allocation failure inside OpenSSL */
	/* the canonical text is the secret in clear: wipe it */
	OPENSSL_cleanse(plain.buf, plain.len);
	strbuf_release(&plain);
	strbuf_addstr(out, FP_PREFIX);
	hex(mac, sizeof(mac), out);
}

char *state_fingerprint(struct state *st, const struct value *v)
{
	struct strbuf out = STRBUF_INIT;

	if (value_has_unknown(v))
		return NULL;
	fingerprint(st, v, &out);
	return strbuf_detach(&out, NULL);
}

bool state_value_is_secret(const struct value *v)
{
	return v && v->sensitive && v->kind == VALUE_STRING &&
	       !strncmp(v->u.str.s, FP_PREFIX, strlen(FP_PREFIX));
}

bool state_value_equal(struct state *st, const struct value *desired,
		       const struct value *recorded)
{
	size_t i;

	if (state_value_is_secret(recorded)) {
		struct strbuf fp = STRBUF_INIT;
		bool same;

		if (!desired || value_has_unknown(desired))
			return false;
		fingerprint(st, desired, &fp);
		same = !strcmp(fp.buf, recorded->u.str.s);
		strbuf_release(&fp);
		return same;
	}
	if (!desired || !recorded)
		return desired == recorded;
	if (desired->kind == VALUE_UNKNOWN || recorded->kind == VALUE_UNKNOWN)
		return false;
	if (desired->kind != recorded->kind)
		return false;
	switch (desired->kind) {
	case VALUE_LIST:
		if (desired->u.list.n != recorded->u.list.n)
			return false;
		for (i = 0; i < desired->u.list.n; i++)
			if (!state_value_equal(st, desired->u.list.items[i],
					       recorded->u.list.items[i]))
				return false;
		return true;
	case VALUE_MAP:
		if (desired->u.map.n != recorded->u.map.n)
			return false;
		for (i = 0; i < desired->u.map.n; i++) {
			const struct value *o = value_map_get(
				recorded, desired->u.map.items[i].key);
			if (!o || !state_value_equal(st,
						     desired->u.map.items[i].val,
						     o))
				return false;
		}
		return true;
	default:
		return value_equal(desired, recorded);
	}
}

char *state_digest(const void *data, size_t len)
{
	unsigned char md[SHA256_LEN];
	unsigned int md_len = sizeof(md);
	struct strbuf out = STRBUF_INIT;

	if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL))
		abort(); /* only on allocation failure inside OpenSSL */
	strbuf_addstr(&out, "sha256:");
	hex(md, sizeof(md), &out);
	return strbuf_detach(&out, NULL);
}

void state_encode_value(struct state *st, const struct value *v,
			struct strbuf *out)
{
	size_t i;

	if (!v) {
		strbuf_addstr(out, "null");
		return;
	}
	if (v->sensitive) {
		if (value_has_unknown(v)) {
			/* no value yet, so nothing to fingerprint; never
			 * equal to anything, so the plan shows a change */
			strbuf_addstr(out, "{\"$unknown\":\"(sensitive)\"}");
			return;
		}
		strbuf_addstr(out, "{\"$secret\":\"");
		if (v->dynref && state_value_is_secret(v))
			strbuf_addstr(out, v->u.str.s); /* read back: as it was */
		else
			fingerprint(st, v, out);
		/* the fingerprint of a template's {{resolve:...}} text, not of
		 * the value (CloudFormation compares the literal reference) */
		strbuf_addstr(out, v->dynref ? "\",\"$dynref\":true}" : "\"}");
		return;
	}
	if (!value_has_sensitive(v)) {
		value_to_json(v, out, VALUE_JSON_UNKNOWN_MARKER);
		return;
	}
	if (v->kind == VALUE_LIST) {
		strbuf_addch(out, '[');
		for (i = 0; i < v->u.list.n; i++) {
			if (i)
				strbuf_addch(out, ',');
			state_encode_value(st, v->u.list.items[i], out);
		}
		strbuf_addch(out, ']');
		return;
	}
	/* only containers can hold a sensitive node below them */
	strbuf_addch(out, '{');
	for (i = 0; i < v->u.map.n; i++) {
		if (i)
			strbuf_addch(out, ',');
		strbuf_add_json_str(out, v->u.map.items[i].key,
				    strlen(v->u.map.items[i].key));
		strbuf_addch(out, ':');
		state_encode_value(st, v->u.map.items[i].val, out);
	}
	strbuf_addch(out, '}');
}

/* {"$secret": "hmac-sha256:..."} back into a sensitive string */
static struct value *decode_secrets(struct arena *a, struct value *v)
{
	size_t i;

	if (v->kind == VALUE_LIST) {
		for (i = 0; i < v->u.list.n; i++)
			v->u.list.items[i] = decode_secrets(a, v->u.list.items[i]);
	} else if (v->kind == VALUE_MAP) {
		const char *fp;

		bool dyn = v->u.map.n == 2 &&
			   !strcmp(v->u.map.items[1].key, "$dynref");
		if ((v->u.map.n == 1 || dyn) &&
		    !strcmp(v->u.map.items[0].key, "$secret") &&
		    (fp = value_str(v->u.map.items[0].val)) &&
		    !strncmp(fp, FP_PREFIX, strlen(FP_PREFIX))) {
			struct value *s = value_new_string(a, fp);
			s->sensitive = 1;
			s->dynref = dyn;
			return s;
		}
		for (i = 0; i < v->u.map.n; i++)
			v->u.map.items[i].val =
				decode_secrets(a, v->u.map.items[i].val);
	}
	return v;
}

struct value *state_decode_value(struct arena *a, const char *json,
				 struct err *err)
{
	struct value *v;

	if (!json)
		return NULL;
	v = value_from_json(a, json, strlen(json), VALUE_JSON_UNKNOWN_MARKER,
			    err);
	if (!v)
		return NULL;
	/* a cheap test spares the walk for the common secret-free row */
	if (strstr(json, "\"$secret\""))
		v = decode_secrets(a, v);
	return v;
}
