/*
 * The all-types schema bundle: the registry schema of every CloudFormation
 * resource type in one file (schemas/registry/all-types.bundle, built by
 * scripts/schema-bundle), read lazily.
 *
 * The file is a text index (type name, provisioning class, offset and
 * length of the type's zlib-compressed schema) followed by the compressed
 * schemas. Opening it maps the file and reads the index only; a type's
 * schema is inflated and parsed the first time schema_find() asks for it,
 * then kept for the life of the process. A schema fetched by `cairn schema
 * update` (the cache directory) wins over the bundle's copy.
 *
 * Where the bundle is: $CAIRN_SCHEMA_BUNDLE, else next to the binary
 * (<exe>/../schemas/registry/ for a build tree, <exe>/../share/cairn/ for
 * an installed one), else CAIRN_DATADIR given at build time.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#include "cairn/log.h"
#include "cairn/strbuf.h"
#include "cairn/xalloc.h"
#include "internal.h"

#ifndef CAIRN_DATADIR
#define CAIRN_DATADIR "/usr/local/share/cairn"
#endif

#define BUNDLE_NAME "all-types.bundle"
/* The largest registry schema is under 1.5 MB inflated; anything past
 * this is a damaged file, not a schema. */
#define MAX_SCHEMA_BYTES (16u << 20)

struct bentry {
	const char *name;
	bool provisionable;
	size_t off, clen, ulen;
	struct schema_type *type; /* parsed on first use */
	bool failed;              /* parse failed once: do not retry */
};

static pthread_once_t bundle_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t bundle_lock = PTHREAD_MUTEX_INITIALIZER;
static const unsigned char *map;
static size_t map_len, data_off;
static struct bentry *entries;
static size_t nentries;
static char *bundle_path, *bundle_source;
static const char **names; /* for schema_registry_names() */

static char *exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return xstrdup(buf);
}

static char *find_bundle(void)
{
	const char *env = getenv("CAIRN_SCHEMA_BUNDLE");
	struct strbuf sb = STRBUF_INIT;
	char *dir;
	size_t i;

	if (env && *env)
		return xstrdup(env);
	dir = exe_dir();
	if (dir) {
		static const char *const rel[] = {
			"/../schemas/registry/" BUNDLE_NAME,
			"/../../schemas/registry/" BUNDLE_NAME,
			"/../share/cairn/" BUNDLE_NAME,
		};
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			strbuf_reset(&sb);
			strbuf_addf(&sb, "%s%s", dir, rel[i]);
			if (access(sb.buf, R_OK) == 0) {
				free(dir);
				return strbuf_detach(&sb, NULL);
			}
		}
		free(dir);
	}
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s/%s", CAIRN_DATADIR, BUNDLE_NAME);
	if (access(sb.buf, R_OK) == 0)
		return strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	return NULL;
}

/* Next line of the index at *pos (without the '\n'); false at the end
 * of the mapped text. */
static bool next_line(size_t *pos, const char **line, size_t *len)
{
	const unsigned char *nl;

	if (*pos >= map_len)
		return false;
	nl = memchr(map + *pos, '\n', map_len - *pos);
	if (!nl)
		return false;
	*line = (const char *)map + *pos;
	*len = (size_t)(nl - (map + *pos));
	*pos = (size_t)(nl - map) + 1;
	return true;
}

static bool parse_entry(const char *line, size_t len, struct bentry *e)
{
	char *copy = xmalloc(len + 1), *f[5], *save = NULL, *end;
	unsigned long long v[3];
	size_t i;
	bool ok = true;

	memcpy(copy, line, len);
	copy[len] = '\0';
	for (i = 0; i < 5; i++) {
		f[i] = strtok_r(i ? NULL : copy, "\t", &save);
		if (!f[i]) {
			free(copy);
			return false;
		}
	}
	for (i = 0; i < 3; i++) {
		errno = 0;
		v[i] = strtoull(f[i + 2], &end, 10);
		ok &= !errno && !*end && end != f[i + 2];
	}
	ok &= (f[1][0] == 'P' || f[1][0] == 'N') && !f[1][1];
	if (ok) {
		e->name = xstrdup(f[0]);
		e->provisionable = f[1][0] == 'P';
		e->off = (size_t)v[0];
		e->clen = (size_t)v[1];
		e->ulen = (size_t)v[2];
	}
	free(copy);
	return ok;
}

static void bundle_fail(const char *what)
{
	log_msg(LOG_WARN, "schema bundle %s: %s; only the native types' schemas "
		"are available", bundle_path, what);
	if (map)
		munmap((void *)map, map_len);
	map = NULL;
	nentries = 0;
}

static void bundle_open(void)
{
	const char *line;
	size_t len, pos = 0, n = 0, i;
	struct stat stt;
	int fd;

	bundle_path = find_bundle();
	if (!bundle_path)
		return;
	fd = open(bundle_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &stt) < 0 || stt.st_size <= 0) {
		if (fd >= 0)
			close(fd);
		bundle_fail("cannot be read");
		return;
	}
	map_len = (size_t)stt.st_size;
	map = mmap(NULL, map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		map = NULL;
		bundle_fail("cannot be mapped");
		return;
	}
	if (!next_line(&pos, &line, &len) || len != 21 ||
	    memcmp(line, "cairn-schema-bundle 1", 21)) {
		bundle_fail("is not a version 1 schema bundle");
		return;
	}
	while (next_line(&pos, &line, &len) && len) {
		if (len > 8 && !memcmp(line, "source: ", 8)) {
			free(bundle_source);
			bundle_source = xstrndup(line + 8, len - 8);
		} else if (len > 7 && !memcmp(line, "types: ", 7)) {
			n = (size_t)strtoul(line + 7, NULL, 10);
		}
	}
	if (!n || n > 100000) {
		bundle_fail("has no type count");
		return;
	}
	entries = xcalloc(n, sizeof(*entries));
	while (nentries < n && next_line(&pos, &line, &len) && len) {
		if (!parse_entry(line, len, &entries[nentries])) {
			bundle_fail("has a malformed index line");
			return;
		}
		if (nentries &&
		    strcmp(entries[nentries - 1].name, entries[nentries].name) >= 0) {
			bundle_fail("index is not sorted");
			return;
		}
		nentries++;
	}
	if (nentries != n || !next_line(&pos, &line, &len) || len) {
		bundle_fail("index is truncated");
		return;
	}
	data_off = pos;
	for (i = 0; i < nentries; i++) {
		if (entries[i].off > map_len - data_off ||
		    entries[i].clen > map_len - data_off - entries[i].off ||
		    entries[i].ulen > MAX_SCHEMA_BYTES) {
			bundle_fail("points past its end");
			return;
		}
	}
	names = xcalloc(nentries + 1, sizeof(*names));
	for (i = 0; i < nentries; i++)
		names[i] = entries[i].name;
}

static void bundle_init(void)
{
	pthread_once(&bundle_once, bundle_open);
}

static int cmp_entry(const void *key, const void *elem)
{
	const struct bentry *e = elem;

	return strcmp(key, e->name);
}

static struct bentry *bentry_find(const char *name)
{
	bundle_init();
	if (!nentries || !name)
		return NULL;
	return bsearch(name, entries, nentries, sizeof(*entries), cmp_entry);
}

/* ------------------------------------------------------------ cache */

char *schema_cache_dir(void)
{
	const char *env = getenv("CAIRN_SCHEMA_CACHE");
	struct strbuf sb = STRBUF_INIT;

	if (env && *env)
		return xstrdup(env);
	env = getenv("XDG_CACHE_HOME");
	if (env && *env) {
		strbuf_addf(&sb, "%s/cairn/schemas", env);
		return strbuf_detach(&sb, NULL);
	}
	env = getenv("HOME");
	if (!env || !*env)
		return NULL;
	strbuf_addf(&sb, "%s/.cache/cairn/schemas", env);
	return strbuf_detach(&sb, NULL);
}

char *schema_cache_file(const char *dir, const char *type_name)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s;

	strbuf_addf(&sb, "%s/", dir);
	for (s = type_name; *s; s++) {
		if (*s == ':') {
			if (s[1] == ':')
				s++;
			strbuf_addch(&sb, '-');
		} else if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			   (*s >= '0' && *s <= '9')) {
			strbuf_addch(&sb, *s);
		}
	}
	strbuf_addstr(&sb, ".json");
	return strbuf_detach(&sb, NULL);
}

struct schema_type *schema_parse_described(const char *json, size_t len,
					   bool *provisionable,
					   struct err *err)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *s, *p;
	struct schema_type *t = NULL;

	if (!root || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		err_set(err, ERR_PARSE, "not a DescribeType answer (JSON object)");
		return NULL;
	}
	s = cJSON_GetObjectItemCaseSensitive(root, "Schema");
	p = cJSON_GetObjectItemCaseSensitive(root, "ProvisioningType");
	if (!cJSON_IsString(s)) {
		err_set(err, ERR_PARSE, "no Schema string");
	} else {
		t = schema_parse_json(s->valuestring, strlen(s->valuestring), err);
		if (t && cJSON_IsString(p))
			*provisionable = strcmp(p->valuestring, "NON_PROVISIONABLE");
	}
	cJSON_Delete(root);
	return t;
}

/* A cached DescribeType answer ({"ProvisioningType", "Schema"}) for the
 * type, or NULL. */
static struct schema_type *from_cache(const char *name, bool *provisionable)
{
	char *dir = schema_cache_dir(), *path;
	struct schema_type *t = NULL;
	struct strbuf sb = STRBUF_INIT;
	struct err err = ERR_INIT;
	if (!dir)
		return NULL;
	path = schema_cache_file(dir, name);
	free(dir);
	if (strbuf_read_file(&sb, path, MAX_SCHEMA_BYTES) == 0) {
		t = schema_parse_described(sb.buf, sb.len, provisionable, &err);
		if (!t)
			log_msg(LOG_WARN, "cached schema %s: %s (using the bundle's)",
				path, err.msg);
	}
	strbuf_release(&sb);
	free(path);
	return t;
}

/* ------------------------------------------------------------ lookups */

static struct schema_type *inflate_entry(struct bentry *e)
{
	unsigned char *buf = xmalloc(e->ulen + 1);
	uLongf out_len = (uLongf)e->ulen;
	struct err err = ERR_INIT;
	struct schema_type *t = NULL;
	int zrc;

	zrc = uncompress(buf, &out_len, map + data_off + e->off, (uLong)e->clen);
	if (zrc != Z_OK || out_len != e->ulen) {
		log_msg(LOG_ERROR, "schema bundle %s: %s: damaged (zlib %d)",
			bundle_path, e->name, zrc);
	} else {
		t = schema_parse_json((const char *)buf, e->ulen, &err);
		if (!t)
			log_msg(LOG_ERROR, "schema bundle %s: %s: %s", bundle_path,
				e->name, err.msg);
	}
	free(buf);
	return t;
}

const struct schema_type *schema_bundle_find(const char *type_name)
{
	struct bentry *e = bentry_find(type_name);
	struct schema_type *t;
	bool prov;

	if (!e)
		return NULL;
	pthread_mutex_lock(&bundle_lock);
	if (!e->type && !e->failed) {
		prov = e->provisionable;
		t = from_cache(e->name, &prov);
		if (!t)
			t = inflate_entry(e);
		else
			e->provisionable = prov;
		if (t) {
			t->name = e->name;
			t->native = false;
			t->provisionable = e->provisionable;
			e->type = t;
		} else {
			e->failed = true;
		}
	}
	t = e->type;
	pthread_mutex_unlock(&bundle_lock);
	return t;
}

size_t schema_registry_count(void)
{
	bundle_init();
	return nentries;
}

const char *schema_registry_name(size_t i, bool *provisionable)
{
	bundle_init();
	if (i >= nentries)
		return NULL;
	if (provisionable)
		*provisionable = entries[i].provisionable;
	return entries[i].name;
}

const char *const *schema_registry_names(size_t *n)
{
	bundle_init();
	*n = nentries;
	return names;
}

const char *schema_registry_path(void)
{
	bundle_init();
	return bundle_path;
}

const char *schema_registry_source(void)
{
	bundle_init();
	return bundle_source;
}
