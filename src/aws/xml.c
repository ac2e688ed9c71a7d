/* Response readers: XML (libxml2) to value trees, error bodies of every
 * protocol shape, and redaction of secret fields for trace logs. libxml2
 * objects never leave this file. */
#include <ctype.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "aws_int.h"

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

static struct value *conv(struct arena *a, xmlNode *n, int depth)
{
	xmlNode *c;
	int nelem = 0, all_items = 1;
	struct value *v;

	for (c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		nelem++;
		if (strcmp((const char *)c->name, "item") &&
		    strcmp((const char *)c->name, "member"))
			all_items = 0;
	}
	if (!nelem || depth > 64) {
		xmlChar *text = xmlNodeGetContent(n);
		const char *t = text ? (const char *)text : "";
		if (!*t && ends_with((const char *)n->name, "Set"))
			v = value_new_list(a);
		else
			v = value_new_string(a, t);
		xmlFree(text);
		return v;
	}
	if (all_items) {
		v = value_new_list(a);
		value_reserve(a, v, (size_t)nelem);
		for (c = n->children; c; c = c->next)
			if (c->type == XML_ELEMENT_NODE)
				value_list_push(a, v, conv(a, c, depth + 1));
		return v;
	}
	v = value_new_map(a);
	value_reserve(a, v, (size_t)nelem); /* fewer keys when some repeat */
	for (c = n->children; c; c = c->next) {
		const char *k;
		struct value *old, *nv;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		k = (const char *)c->name;
		nv = conv(a, c, depth + 1);
		old = value_map_get(v, k);
		if (!old) {
			value_map_set(a, v, k, nv);
		} else {
			/* a repeated element (a flattened list): gather them */
			if (old->kind != VALUE_LIST || !old->mark.line) {
				struct value *l = value_new_list(a);
				l->mark.line = 1; /* marks "made from repeats" */
				value_list_push(a, l, old);
				value_map_set(a, v, k, l);
				old = l;
			}
			value_list_push(a, old, nv);
		}
	}
	return v;
}

static xmlDoc *parse(const char *xml, size_t len)
{
	if (len > (size_t)0x7fffffff)
		return NULL;
	return xmlReadMemory(xml, (int)len, "response.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR |
				     XML_PARSE_NOWARNING);
}

struct value *aws_xml_to_value(struct arena *a, const char *xml, size_t len,
			       int unwrap, struct err *err)
{
	xmlDoc *doc = parse(xml, len);
	xmlNode *root, *c, *result = NULL;
	struct value *v;
	int nres = 0;

	if (!doc || !(root = xmlDocGetRootElement(doc))) {
		if (doc)
			xmlFreeDoc(doc);
		err_set(err, ERR_PARSE, "malformed XML in the response");
		return NULL;
	}
	if (unwrap) {
		for (c = root->children; c; c = c->next)
			if (c->type == XML_ELEMENT_NODE &&
			    ends_with((const char *)c->name, "Result")) {
				result = c;
				nres++;
			}
	}
	if (unwrap && nres == 1) {
		v = conv(a, result, 0);
		if (v->kind == VALUE_STRING && !v->u.str.len)
			v = value_new_map(a);
	} else {
		v = conv(a, root, 0);
		if (v->kind != VALUE_MAP) {
			struct value *m = value_new_map(a);
			value_map_set(a, m, (const char *)root->name, v);
			v = m;
		}
	}
	xmlFreeDoc(doc);
	return v;
}

static void copy_field(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	while (l && isspace((unsigned char)src[l - 1]))
		l--;
	while (l && isspace((unsigned char)*src)) {
		src++;
		l--;
	}
	if (l >= n)
		l = n - 1;
	memcpy(dst, src, l);
	dst[l] = '\0';
}

static void find_xml(xmlNode *n, struct aws_error_info *out, int depth)
{
	for (; n && depth < 32; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (n->children && n->children->type == XML_TEXT_NODE &&
		    !n->children->next) {
			const char *name = (const char *)n->name;
			const char *t = (const char *)n->children->content;
			if (!strcmp(name, "Code") && !out->code[0])
				copy_field(out->code, sizeof(out->code), t);
			else if (!strcmp(name, "Message") && !out->message[0])
				copy_field(out->message, sizeof(out->message), t);
			else if ((!strcmp(name, "RequestID") ||
				  !strcmp(name, "RequestId") ||
				  !strcmp(name, "requestId")) && !out->request_id[0])
				copy_field(out->request_id, sizeof(out->request_id), t);
		} else {
			find_xml(n->children, out, depth + 1);
		}
	}
}

/* "aws.protocoltests#Name:http://..." -> "Name" */
static void clean_type(char *code)
{
	char *h = strrchr(code, '#'), *colon;

	if (h)
		memmove(code, h + 1, strlen(h + 1) + 1);
	colon = strchr(code, ':');
	if (colon)
		*colon = '\0';
}

int aws_parse_error(const char *body, size_t len, const char *type_header,
		    struct aws_error_info *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i < len && body[i] == '{') {
		cJSON *j = cJSON_ParseWithLength(body, len);
		if (j) {
			const char *keys[] = { "__type", "code", "Code" };
			size_t k;
			for (k = 0; k < 3 && !out->code[0]; k++) {
				const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
				if (cJSON_IsString(t))
					copy_field(out->code, sizeof(out->code), t->valuestring);
			}
			{
				const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
				if (!cJSON_IsString(m))
					m = cJSON_GetObjectItemCaseSensitive(j, "Message");
				if (cJSON_IsString(m))
					copy_field(out->message, sizeof(out->message),
						   m->valuestring);
			}
			cJSON_Delete(j);
		}
	} else if (i < len && body[i] == '<') {
		xmlDoc *doc = parse(body, len);
		if (doc) {
			find_xml(xmlDocGetRootElement(doc), out, 0);
			xmlFreeDoc(doc);
		}
	}
	if (type_header && *type_header)
		copy_field(out->code, sizeof(out->code), type_header);
	clean_type(out->code);
	return out->code[0] ? 0 : -1;
}

/* Field names whose values never reach a log. */
static const char *const secret_fields[] = {
	"SecretAccessKey", "SessionToken", "SecretString", "SecretBinary",
	"Token", "Password", "PrivateKey", "WebIdentityToken",
	"secretAccessKey", "sessionToken", "password", "token",
};
#define NSECRET (sizeof(secret_fields) / sizeof(secret_fields[0]))

static size_t match_in(const char *const *names, size_t n, const char *p,
		       const char *end, size_t *flen)
{
	size_t i;

	for (i = 0; i < n && names[i]; i++) {
		size_t l = strlen(names[i]);
		if ((size_t)(end - p) >= l && !memcmp(p, names[i], l)) {
			*flen = l;
			return i + 1;
		}
	}
	return 0;
}

static _Thread_local const char *const *redact_extra;

static size_t match_field(const char *p, const char *end, size_t *flen)
{
	size_t hit = match_in(secret_fields, NSECRET, p, end, flen);

	if (!hit && redact_extra)
		hit = match_in(redact_extra, (size_t)-1, p, end, flen);
	return hit;
}

void aws_redact_body(const char *body, size_t len, struct strbuf *out)
{
	aws_redact_body_with(body, len, NULL, out);
}

void aws_redact_body_with(const char *body, size_t len,
			  const char *const *extra, struct strbuf *out)
{
	const char *p = body, *end = body + len;

	redact_extra = extra;
	while (p < end) {
		size_t fl = 0;
		/* XML: <Field>value</ */
		if (*p == '<' && match_field(p + 1, end, &fl) && p + 1 + fl < end &&
		    p[1 + fl] == '>') {
			const char *close = memchr(p + 2 + fl, '<', (size_t)(end - p - 2 - fl));
			strbuf_add(out, p, 2 + fl);
			strbuf_addstr(out, "(redacted)");
			p = close ? close : end;
			continue;
		}
		/* JSON: "Field": "value" */
		if (*p == '"' && match_field(p + 1, end, &fl) && p + 1 + fl < end &&
		    p[1 + fl] == '"') {
			const char *q = p + 2 + fl;
			while (q < end && isspace((unsigned char)*q))
				q++;
			if (q < end && *q == ':') {
				q++;
				while (q < end && isspace((unsigned char)*q))
					q++;
				if (q < end && *q == '"') {
					const char *s = q + 1;
					while (s < end && *s != '"') {
						if (*s == '\\' && s + 1 < end)
							s++;
						s++;
					}
					strbuf_add(out, p, (size_t)(q - p));
					strbuf_addstr(out, "\"(redacted)\"");
					p = s < end ? s + 1 : end;
					continue;
				}
			}
		}
		/* form: [&]Field=value */
		if ((p == body || p[-1] == '&' || p[-1] == '.') &&
		    match_field(p, end, &fl) && p + fl < end && p[fl] == '=') {
			const char *amp = memchr(p, '&', (size_t)(end - p));
			strbuf_add(out, p, fl + 1);
			strbuf_addstr(out, "(redacted)");
			p = amp ? amp : end;
			continue;
		}
		strbuf_addch(out, *p);
		p++;
	}
	redact_extra = NULL;
}
