/* Request serialisers: EC2 Query, Query (IAM/STS) and JSON 1.1. */
#include <stdlib.h>
#include <string.h>

#include "aws_int.h"
#include "cairn/aws_sigv4.h"
#include "ec2_wire.h"

/*
 * application/x-www-form-urlencoded as botocore writes Query and EC2 bodies
 * (AWSRequestPreparer._prepare_body: urllib.parse.urlencode, which quotes
 * with quote_plus): ASCII letters, digits and "-_.~" stay, a space becomes
 * '+', every other byte (UTF-8 included) is %XX with upper-case hex. AWS
 * accepts %20 as well, but servers that re-encode the form before checking
 * the signature only accept the bytes the SDKs send.
 */
void aws_form_encode(const char *s, size_t len, struct strbuf *out)
{
	static const char up[] = "0123456789ABCDEF";
	size_t i;

	strbuf_grow(out, len * 3);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
		    c == '~') {
			out->buf[out->len++] = (char)c;
		} else if (c == ' ') {
			out->buf[out->len++] = '+';
		} else {
			out->buf[out->len++] = '%';
			out->buf[out->len++] = up[c >> 4];
			out->buf[out->len++] = up[c & 15];
		}
	}
	out->buf[out->len] = '\0';
}

/* Appends "&name=value" (form-encoded) to out, and the redacted form. */
static int add_scalar(const char *name, const struct value *v,
		      struct strbuf *out, struct strbuf *red, struct err *err)
{
	const char *text;
	size_t len;

	switch (v->kind) {
	case VALUE_STRING:
		text = v->u.str.s;
		len = v->u.str.len;
		break;
	case VALUE_NUMBER:
		text = v->u.num.text;
		len = strlen(text);
		break;
	case VALUE_BOOL:
		text = v->u.b ? "true" : "false";
		len = strlen(text);
		break;
	case VALUE_NULL:
		return 0; /* absent */
	case VALUE_UNKNOWN:
		return err_set(err, ERR_INTERNAL,
			       "parameter \"%s\" is not known yet (%s)", name,
			       v->u.unknown.what);
	default:
		return err_set(err, ERR_VALIDATION,
			       "parameter \"%s\": expected a scalar, got a %s", name,
			       value_kind_name(v->kind));
	}
	strbuf_addch(out, '&');
	aws_form_encode(name, strlen(name), out);
	strbuf_addch(out, '=');
	aws_form_encode(text, len, out);
	if (red) {
		strbuf_addch(red, '&');
		aws_form_encode(name, strlen(name), red);
		strbuf_addch(red, '=');
		if (v->sensitive)
			strbuf_addstr(red, "(sensitive)");
		else
			aws_form_encode(text, len, red);
	}
	return 0;
}

/* ---- EC2 ---------------------------------------------------------------- */

static const struct ec2_member *ec2_member(int shape, const char *name)
{
	const struct ec2_shape *s;
	int i;

	if (shape < 0)
		return NULL;
	s = &ec2_shapes[shape];
	if (s->is_list)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (!strcmp(ec2_members[s->first + i].name, name))
			return &ec2_members[s->first + i];
	return NULL;
}

static int ec2_walk(const char *prefix, const struct value *v, int shape,
		    struct strbuf *out, struct strbuf *red, struct err *err)
{
	struct strbuf name = STRBUF_INIT;
	size_t i;
	int rc = 0;

	if (v->kind == VALUE_MAP) {
		for (i = 0; i < v->u.map.n && !rc; i++) {
			const char *k = v->u.map.items[i].key;
			const struct ec2_member *m = ec2_member(shape, k);
			strbuf_reset(&name);
			if (*prefix) {
				strbuf_addstr(&name, prefix);
				strbuf_addch(&name, '.');
			}
			strbuf_addstr(&name, m ? m->wire : k);
			rc = ec2_walk(name.buf, v->u.map.items[i].val, m ? m->shape : -1,
				      out, red, err);
		}
	} else if (v->kind == VALUE_LIST) {
		int elem = (shape >= 0 && ec2_shapes[shape].is_list) ?
				   ec2_shapes[shape].elem : -1;
		for (i = 0; i < v->u.list.n && !rc; i++) {
			strbuf_reset(&name);
			strbuf_addf(&name, "%s.%zu", prefix, i + 1);
			rc = ec2_walk(name.buf, v->u.list.items[i], elem, out, red, err);
		}
	} else {
		rc = add_scalar(prefix, v, out, red, err);
	}
	strbuf_release(&name);
	return rc;
}

static int cmp_op(const void *k, const void *e)
{
	return strcmp(k, ((const struct ec2_op *)e)->name);
}

static void add_action(const char *op, const char *version, struct strbuf *out,
		       struct strbuf *red)
{
	strbuf_addstr(out, "Action=");
	aws_form_encode(op, strlen(op), out);
	strbuf_addstr(out, "&Version=");
	aws_form_encode(version, strlen(version), out);
	if (red)
		strbuf_addstr(red, out->buf);
}

int aws_ser_ec2(const char *op, const char *version, const struct value *params,
		struct strbuf *out, struct strbuf *red, struct err *err)
{
	const struct ec2_op *o = bsearch(op, ec2_ops, ec2_nops, sizeof(*ec2_ops),
					 cmp_op);

	add_action(op, version, out, red);
	if (!params || params->kind == VALUE_NULL)
		return 0;
	if (params->kind != VALUE_MAP)
		return err_set(err, ERR_INTERNAL, "ec2:%s: parameters must be a map", op);
	return ec2_walk("", params, o ? o->input : -1, out, red, err);
}

/* ---- Query (IAM, STS) --------------------------------------------------- */

static int query_walk(const char *prefix, const struct value *v,
		      struct strbuf *out, struct strbuf *red, struct err *err)
{
	struct strbuf name = STRBUF_INIT;
	size_t i;
	int rc = 0;

	if (v->kind == VALUE_MAP) {
		for (i = 0; i < v->u.map.n && !rc; i++) {
			strbuf_reset(&name);
			if (*prefix) {
				strbuf_addstr(&name, prefix);
				strbuf_addch(&name, '.');
			}
			strbuf_addstr(&name, v->u.map.items[i].key);
			rc = query_walk(name.buf, v->u.map.items[i].val, out, red, err);
		}
	} else if (v->kind == VALUE_LIST) {
		if (!v->u.list.n) {
			/* an empty list is sent as "Name=" so AWS sees it */
			static const struct value empty = { .kind = VALUE_STRING,
							    .u.str = { "", 0 } };
			rc = add_scalar(prefix, &empty, out, red, err);
		}
		for (i = 0; i < v->u.list.n && !rc; i++) {
			strbuf_reset(&name);
			strbuf_addf(&name, "%s.member.%zu", prefix, i + 1);
			rc = query_walk(name.buf, v->u.list.items[i], out, red, err);
		}
	} else {
		rc = add_scalar(prefix, v, out, red, err);
	}
	strbuf_release(&name);
	return rc;
}

int aws_ser_query(const char *op, const char *version,
		  const struct value *params, struct strbuf *out,
		  struct strbuf *red, struct err *err)
{
	add_action(op, version, out, red);
	if (!params || params->kind == VALUE_NULL)
		return 0;
	if (params->kind != VALUE_MAP)
		return err_set(err, ERR_INTERNAL, "%s: parameters must be a map", op);
	return query_walk("", params, out, red, err);
}

/* ---- JSON 1.1 ----------------------------------------------------------- */

int aws_ser_json(const struct value *params, struct strbuf *out,
		 struct strbuf *red, struct err *err)
{
	if (!params || params->kind == VALUE_NULL) {
		strbuf_addstr(out, "{}");
		if (red)
			strbuf_addstr(red, "{}");
		return 0;
	}
	if (params->kind != VALUE_MAP)
		return err_set(err, ERR_INTERNAL, "parameters must be a map");
	if (value_has_unknown(params))
		return err_set(err, ERR_INTERNAL,
			       "parameters hold a value not known yet");
	value_to_json(params, out, 0);
	if (red)
		value_to_json(params, red, VALUE_JSON_REDACT);
	return 0;
}
