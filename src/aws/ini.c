/* AWS shared config/credentials files: botocore reads them with Python's
 * RawConfigParser, so the rules here follow it: "[section]" headers,
 * "key = value" or "key: value" (the first delimiter wins), keys
 * lowercased, full-line comments with '#' or ';', indented lines continue
 * the previous key (AWS uses that for nested blocks such as
 * "s3 =\n  max_concurrent_requests = 10" and [services] sections). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws_int.h"
#include "cairn/xalloc.h"

static char *dup_trim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void kv_wipe(struct ini_kv *kv)
{
	size_t i;

	for (i = 0; i < kv->nsub; i++)
		kv_wipe(&kv->sub[i]);
	free(kv->sub);
	if (kv->value) {
		OPENSSL_cleanse(kv->value, strlen(kv->value));
		free(kv->value);
	}
	free(kv->key);
}

void ini_release(struct ini *ini)
{
	size_t i, j;

	for (i = 0; i < ini->n; i++) {
		for (j = 0; j < ini->s[i].n; j++)
			kv_wipe(&ini->s[i].kv[j]);
		free(ini->s[i].kv);
		free(ini->s[i].name);
	}
	free(ini->s);
	ini->s = NULL;
	ini->n = 0;
}

/* "profile  dev" -> "dev" in config files; "default" stays. */
static char *section_name(const char *raw, size_t n, int config)
{
	char *name = dup_trim(raw, n);

	if (config && !strncmp(name, "profile", 7) &&
	    isspace((unsigned char)name[7])) {
		char *p = name + 7, *res;
		while (isspace((unsigned char)*p))
			p++;
		res = xstrdup(p);
		free(name);
		return res;
	}
	if (!strncmp(name, "services", 8) && isspace((unsigned char)name[8])) {
		char *p = name + 8, *res;
		while (isspace((unsigned char)*p))
			p++;
		res = xmalloc(strlen(p) + 10);
		memcpy(res, "services ", 9);
		strcpy(res + 9, p);
		free(name);
		return res;
	}
	if (!strncmp(name, "sso-session", 11) && isspace((unsigned char)name[11])) {
		char *p = name + 11, *res;
		while (isspace((unsigned char)*p))
			p++;
		res = xmalloc(strlen(p) + 13);
		memcpy(res, "sso-session ", 12);
		strcpy(res + 12, p);
		free(name);
		return res;
	}
	return name;
}

static int parse_kv(const char *line, size_t n, char **key, char **val)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (line[i] == '=' || line[i] == ':')
			break;
	if (i == n || i == 0)
		return -1;
	*key = dup_trim(line, i);
	if (!**key) {
		free(*key);
		return -1;
	}
	lower(*key);
	*val = dup_trim(line + i + 1, n - i - 1);
	return 0;
}

int ini_parse(const char *text, size_t len, const char *file, int config,
	      struct ini *out, struct err *err)
{
	size_t caps = 0, capkv = 0, capsub = 0, lineno = 0;
	const char *p = text, *end = text + len;
	struct ini_section *cur = NULL;
	struct ini_kv *last = NULL;

	out->s = NULL;
	out->n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *line = p;
		size_t k = 0;

		lineno++;
		p = nl ? nl + 1 : end;
		if (n && line[n - 1] == '\r')
			n--;
		if (memchr(line, '\0', n)) {
			ini_release(out);
			return err_set(err, ERR_PARSE, "%s:%zu: NUL byte in file",
				       file, lineno);
		}
		while (k < n && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k == n || line[k] == '#' || line[k] == ';')
			continue;
		if (k > 0 && last) {
			/* continuation: a nested "key = value" under `last` */
			char *key, *val;
			if (parse_kv(line + k, n - k, &key, &val) < 0) {
				ini_release(out);
				return err_set(err, ERR_PARSE,
					       "%s:%zu: expected 'key = value' in nested block",
					       file, lineno);
			}
			if (!last->nsub)
				capsub = 0;
			ALLOC_GROW(last->sub, last->nsub + 1, capsub);
			memset(&last->sub[last->nsub], 0, sizeof(*last->sub));
			last->sub[last->nsub].key = key;
			last->sub[last->nsub].value = val;
			last->nsub++;
			continue;
		}
		if (line[k] == '[') {
			const char *close = memchr(line + k, ']', n - k);
			if (!close) {
				ini_release(out);
				return err_set(err, ERR_PARSE,
					       "%s:%zu: section header without ']'",
					       file, lineno);
			}
			ALLOC_GROW(out->s, out->n + 1, caps);
			cur = &out->s[out->n++];
			memset(cur, 0, sizeof(*cur));
			cur->name = section_name(line + k + 1,
						 (size_t)(close - line - k - 1), config);
			capkv = 0;
			last = NULL;
			continue;
		}
		if (!cur) {
			ini_release(out);
			return err_set(err, ERR_PARSE,
				       "%s:%zu: 'key = value' before any [section]",
				       file, lineno);
		}
		{
			char *key, *val;
			size_t i;
			if (parse_kv(line + k, n - k, &key, &val) < 0) {
				ini_release(out);
				return err_set(err, ERR_PARSE,
					       "%s:%zu: expected 'key = value' or '[section]'",
					       file, lineno);
			}
			/* a repeated key replaces the earlier one */
			for (i = 0; i < cur->n; i++)
				if (!strcmp(cur->kv[i].key, key))
					break;
			if (i < cur->n) {
				free(key);
				key = cur->kv[i].key;
				cur->kv[i].key = NULL;
				kv_wipe(&cur->kv[i]);
			} else {
				ALLOC_GROW(cur->kv, cur->n + 1, capkv);
				cur->n++;
			}
			memset(&cur->kv[i], 0, sizeof(cur->kv[i]));
			cur->kv[i].key = key;
			cur->kv[i].value = val;
			last = &cur->kv[i];
		}
	}
	return 0;
}

int ini_load(const char *path, int config, struct ini *out, struct err *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	out->s = NULL;
	out->n = 0;
	if (strbuf_read_file(&sb, path, 4 << 20) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		strbuf_release(&sb);
		return err_set(err, ERR_IO, "cannot read \"%s\": %s", path,
			       strerror(errno));
	}
	rc = ini_parse(sb.buf, sb.len, path, config, out, err);
	OPENSSL_cleanse(sb.buf, sb.len);
	strbuf_release(&sb);
	return rc;
}

const struct ini_section *ini_section(const struct ini *ini, const char *name)
{
	size_t i;

	if (!ini)
		return NULL;
	/* the last one wins, as in configparser's merge of repeated sections */
	for (i = ini->n; i > 0; i--)
		if (!strcmp(ini->s[i - 1].name, name))
			return &ini->s[i - 1];
	return NULL;
}

const struct ini_kv *ini_get_kv(const struct ini_section *s, const char *key)
{
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->kv[i].key, key))
			return &s->kv[i];
	return NULL;
}

const char *ini_get(const struct ini_section *s, const char *key)
{
	const struct ini_kv *kv = ini_get_kv(s, key);
	return kv && kv->value && *kv->value ? kv->value : NULL;
}
