/*
 * Unit tests of the schema module: the embedded registry, the patterns
 * (PCRE2, every pattern of every schema in schemas/), every validation check (with the exact message, path
 * and mark), and the lookups the plan uses. Expected values come from the
 * schema files read by eye and from AWS's documentation, never from this
 * module's own output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <dirent.h>

#include "cairn/arena.h"
#include "cairn/diag.h"
#include "cairn/schema.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"
#include "internal.h"

static struct arena *A;

/* ---- building property trees ---- */

static struct value *S(const char *s)
{
	return value_new_string(A, s);
}

static struct value *N(const char *text)
{
	return value_new_number(A, text);
}

static struct value *B(bool b)
{
	return value_new_bool(A, b);
}

static struct value *U(const char *what)
{
	return value_new_unknown(A, what);
}

/* L(item, ..., NULL) */
static struct value *L(struct value *first, ...)
{
	struct value *l = value_new_list(A), *it;
	va_list ap;

	va_start(ap, first);
	for (it = first; it; it = va_arg(ap, struct value *))
		value_list_push(A, l, it);
	va_end(ap);
	return l;
}

/* M("Key", value, ..., NULL) */
static struct value *M(const char *key, ...)
{
	struct value *m = value_new_map(A);
	const char *k;
	va_list ap;

	va_start(ap, key);
	for (k = key; k; k = va_arg(ap, const char *))
		value_map_set(A, m, k, va_arg(ap, struct value *));
	va_end(ap);
	return m;
}

static struct value *at(struct value *v, unsigned line, unsigned col)
{
	v->mark.file = "t.yaml";
	v->mark.line = line;
	v->mark.col = col;
	return v;
}

static void key_at(struct value *map, const char *key, unsigned line,
		   unsigned col)
{
	size_t i;

	for (i = 0; i < map->u.map.n; i++) {
		if (!strcmp(map->u.map.items[i].key, key)) {
			map->u.map.items[i].key_mark.file = "t.yaml";
			map->u.map.items[i].key_mark.line = line;
			map->u.map.items[i].key_mark.col = col;
			return;
		}
	}
	fail_msg("no key %s", key);
}

/* ---- running validation ---- */

static struct diag_list DL;

static size_t run(const char *type, struct value *props)
{
	const struct schema_type *t = schema_find(type);

	assert_non_null(t);
	diag_list_release(&DL);
	memset(&DL, 0, sizeof(DL));
	schema_validate(t, props, "Res", &DL);
	return DL.n;
}

static void dump(void)
{
	size_t i;

	for (i = 0; i < DL.n; i++)
		print_message("  diag: %s: %s\n", DL.items[i].path ? DL.items[i].path : "-",
			      DL.items[i].msg);
}

static void expect_clean(const char *type, struct value *props)
{
	if (run(type, props) != 0) {
		dump();
		fail_msg("%s: expected no problem", type);
	}
}

/* Exactly one problem with this path and message; returns it. */
static const struct diag *expect_one(const char *type, struct value *props,
				     const char *path, const char *msg)
{
	if (run(type, props) != 1) {
		dump();
		fail_msg("%s: expected exactly one problem: %s", type, msg);
	}
	assert_string_equal(DL.items[0].msg, msg);
	assert_string_equal(DL.items[0].path, path);
	assert_string_equal(DL.items[0].logical_id, "Res");
	return &DL.items[0];
}

static bool has_diag(const char *path, const char *msg)
{
	size_t i;

	for (i = 0; i < DL.n; i++)
		if (!strcmp(DL.items[i].path, path) && !strcmp(DL.items[i].msg, msg))
			return true;
	return false;
}

static void assert_mark(const struct diag *d, unsigned line, unsigned col)
{
	assert_string_equal(d->mark.file, "t.yaml");
	assert_int_equal(d->mark.line, line);
	assert_int_equal(d->mark.col, col);
}

static int setup(void **state)
{
	(void)state;
	A = arena_new();
	memset(&DL, 0, sizeof(DL));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	diag_list_release(&DL);
	memset(&DL, 0, sizeof(DL));
	arena_free(A);
	A = NULL;
	return 0;
}

/* ---- the registry ---- */

static void *find_in_thread(void *arg)
{
	(void)arg;
	return (void *)schema_find("AWS::EC2::Subnet");
}

static void test_lazy_init_threads(void **state)
{
	pthread_t th[4];
	void *res[4];
	int i;

	(void)state;
	/* first use, from several threads at once */
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, find_in_thread, NULL), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], &res[i]), 0);
	for (i = 0; i < 4; i++) {
		assert_non_null(res[i]);
		assert_ptr_equal(res[i], res[0]);
	}
}

static void test_registry(void **state)
{
	static const char *const supported[] = {
		"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::InternetGateway",
		"AWS::EC2::VPCGatewayAttachment", "AWS::EC2::EIP",
		"AWS::EC2::NatGateway", "AWS::EC2::RouteTable", "AWS::EC2::Route",
		"AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::SecurityGroup",
		"AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress",
		"AWS::EC2::VPCEndpoint", "AWS::ECS::Cluster",
		"AWS::ECS::TaskDefinition", "AWS::ECS::Service",
		"AWS::ECR::Repository", "AWS::IAM::Role", "AWS::IAM::ManagedPolicy",
		"AWS::IAM::Policy", "AWS::IAM::RolePolicy",
		"AWS::SecretsManager::Secret", "AWS::Logs::LogGroup",
		"AWS::SSM::Parameter", "AWS::EC2::Instance", "AWS::EC2::KeyPair",
		"AWS::IAM::InstanceProfile", "AWS::IAM::OIDCProvider",
		"AWS::S3::Bucket", "AWS::S3::BucketPolicy",
	};
	size_t i, n = sizeof(supported) / sizeof(supported[0]);

	(void)state;
	schema_init();
	schema_init(); /* idempotent */
	assert_int_equal(schema_count(), n);
	for (i = 0; i < n; i++) {
		const struct schema_type *t = schema_find(supported[i]);
		assert_non_null(t);
		assert_string_equal(schema_type_name(t), supported[i]);
	}
	for (i = 1; i < schema_count(); i++)
		assert_true(strcmp(schema_type_name(schema_at(i - 1)),
				   schema_type_name(schema_at(i))) < 0);
	assert_null(schema_at(n));
	assert_null(schema_find("AWS::EC2::Vpc"));
	assert_null(schema_find(""));
	assert_null(schema_find(NULL));
}

/* Every pattern of every embedded schema compiles: none is skipped. */
static void test_all_patterns_supported(void **state)
{
	size_t i, j, total = 0;

	(void)state;
	for (i = 0; i < schema_count(); i++) {
		const struct schema_type *t = schema_at(i);
		for (j = 0; j < t->nregexes; j++) {
			char msg[200];
			if (schema_regex_check(t->regexes[j]->src, msg,
					       sizeof(msg)) < 0)
				fail_msg("%s: pattern %s: %s", t->name,
					 t->regexes[j]->src, msg);
			assert_true(schema_regex_ok(t->regexes[j]));
			total++;
		}
	}
	assert_true(total >= 30);
}

static char *read_schema_file(const char *name, size_t *len);

/* Collects every "pattern" string and patternProperties key under j. */
static void collect_patterns(const cJSON *j, const char *file, size_t *n)
{
	const cJSON *it;
	char msg[200];

	if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
		return;
	cJSON_ArrayForEach(it, j) {
		if (it->string && !strcmp(it->string, "pattern") &&
		    cJSON_IsString(it)) {
			if (schema_regex_check(it->valuestring, msg, sizeof(msg)) < 0)
				fail_msg("%s: pattern %s: %s", file,
					 it->valuestring, msg);
			(*n)++;
		}
		if (it->string && !strcmp(it->string, "patternProperties") &&
		    cJSON_IsObject(it)) {
			const cJSON *k;
			cJSON_ArrayForEach(k, it) {
				if (schema_regex_check(k->string, msg, sizeof(msg)) < 0)
					fail_msg("%s: patternProperties key %s: %s",
						 file, k->string, msg);
				(*n)++;
			}
		}
		collect_patterns(it, file, n);
	}
}

/* Every pattern of every schema shipped in schemas/ (embedded or not,
 * whatever the JSON nesting) compiles the way cairn compiles them. */
static void test_shipped_schema_patterns_compile(void **state)
{
	DIR *d = opendir(CAIRN_SCHEMA_DIR);
	struct dirent *de;
	size_t files = 0, n = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t len;
		char *json;
		cJSON *j;

		if (!strstr(de->d_name, ".json") ||
		    strcmp(de->d_name + strlen(de->d_name) - 5, ".json"))
			continue;
		json = read_schema_file(de->d_name, &len);
		j = cJSON_ParseWithLength(json, len);
		if (!j)
			fail_msg("%s: not JSON", de->d_name);
		collect_patterns(j, de->d_name, &n);
		cJSON_Delete(j);
		free(json);
		files++;
	}
	closedir(d);
	assert_true(files >= 20);
	assert_true(n >= 30);
}

static char *read_schema_file(const char *name, size_t *len)
{
	struct strbuf path = STRBUF_INIT, sb = STRBUF_INIT;

	strbuf_addf(&path, "%s/%s", CAIRN_SCHEMA_DIR, name);
	if (strbuf_read_file(&sb, path.buf, 0) < 0)
		fail_msg("cannot read %s", path.buf);
	strbuf_release(&path);
	return strbuf_detach(&sb, len);
}

/* The schemas kept as data but not embedded still parse (S3 has oneOf,
 * const, and $ref with siblings). */
static void test_parse_unembedded(void **state)
{
	static const char *const files[] = { "aws-s3-bucket.json",
					     "aws-ec2-eipassociation.json" };
	size_t i, j, len;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct err err = ERR_INIT;
		char *json = read_schema_file(files[i], &len);
		struct schema_type *t = schema_type_parse(json, len, &err);
		if (!t)
			fail_msg("%s: %s", files[i], err.msg);
		for (j = 0; j < t->nregexes; j++)
			assert_true(schema_regex_ok(t->regexes[j]));
		schema_type_free(t);
		free(json);
	}
}

static void test_parse_errors(void **state)
{
	struct err err = ERR_INIT;
	static const char dangling[] =
		"{\"typeName\":\"X::Y::Z\",\"properties\":{\"A\":{\"$ref\":"
		"\"#/definitions/Nope\"}}}";
	static const char badtype[] =
		"{\"typeName\":\"X::Y::Z\",\"properties\":{\"A\":{\"type\":\"str\"}}}";

	(void)state;
	assert_null(schema_type_parse("{", 1, &err));
	assert_int_equal(err.code, ERR_PARSE);
	err_clear(&err);
	assert_null(schema_type_parse("{}", 2, &err));
	assert_int_equal(err.code, ERR_VALIDATION);
	assert_string_equal(err.msg, "schema has no \"typeName\"");
	err_clear(&err);
	assert_null(schema_type_parse(dangling, strlen(dangling), &err));
	assert_string_equal(err.msg, "dangling $ref to \"Nope\"");
	err_clear(&err);
	assert_null(schema_type_parse(badtype, strlen(badtype), &err));
	assert_string_equal(err.msg, "X::Y::Z: bad \"type\"");
	schema_type_free(NULL);
}

/* ---- patterns ---- */

static bool rx_match(const char *ecma, const char *s)
{
	struct sregex r;
	char msg[200];

	if (schema_regex_check(ecma, msg, sizeof(msg)) < 0)
		fail_msg("pattern %s does not compile: %s", ecma, msg);
	schema_regex_init(&r, ecma);
	return schema_regex_match(&r, s);
}

static bool rx_compiles(const char *ecma)
{
	char msg[200];

	return schema_regex_check(ecma, msg, sizeof(msg)) == 0;
}

static void test_regex_schema_patterns(void **state)
{
	char long_name[300];

	(void)state;
	/* RegistryId */
	assert_true(rx_match("^[0-9]{12}$", "123456789012"));
	assert_false(rx_match("^[0-9]{12}$", "12345678901"));
	assert_false(rx_match("^[0-9]{12}$", "1234567890123"));
	/* IAM Policy PolicyName */
	assert_true(rx_match("^[a-zA-Z0-9+=,.@\\-_]+$", "my-policy_1@x"));
	assert_false(rx_match("^[a-zA-Z0-9+=,.@\\-_]+$", "my policy"));
	/* ECR RepositoryName, with its length lookahead */
	{
		const char *p = "^(?=.{2,256}$)((?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*"
				"[a-z0-9]+(?:[._-][a-z0-9]+)*)$";
		assert_true(rx_match(p, "prefect/flows"));
		assert_true(rx_match(p, "prefect-worker"));
		assert_false(rx_match(p, "a"));
		assert_false(rx_match(p, "Prefect"));
		assert_false(rx_match(p, "a//b"));
		assert_false(rx_match(p, "-ab"));
		memset(long_name, 'a', 257);
		long_name[257] = '\0';
		assert_false(rx_match(p, long_name));
		long_name[256] = '\0';
		assert_true(rx_match(p, long_name));
	}
	/* LogGroupName: \Z is the end */
	assert_true(rx_match("^[.\\-_/#A-Za-z0-9]{1,512}\\Z", "/ecs/prefect-worker"));
	assert_false(rx_match("^[.\\-_/#A-Za-z0-9]{1,512}\\Z", "/ecs/prefect worker"));
	/* {m,n} on a whole anchored class */
	{
		const char *p = "^[.\\-_/#A-Za-z0-9]{1,512}\\Z";
		char name[600];
		memset(name, 'a', 513);
		name[513] = '\0';
		assert_false(rx_match(p, name));
		name[512] = '\0';
		assert_true(rx_match(p, name));
		assert_false(rx_match(p, ""));
		assert_false(rx_match(p, "a b"));
		assert_true(rx_match("^[a-z]{2,3}$", "ab"));
		assert_false(rx_match("^[a-z]{2,3}$", "a"));
		assert_false(rx_match("^[a-z]{2,3}$", "abcd"));
		assert_false(rx_match("^[a-z]{2,3}$", "a1"));
		assert_true(rx_match("^[a-z]{2}$", "ab"));
		assert_false(rx_match("^[a-z]{2}$", "abc"));
		assert_true(rx_match("^[a-z]{2,}$", "abcdefgh"));
		assert_false(rx_match("^[^a-z]{2,}$", "abcdefgh"));
		/* no end anchor: a prefix of m characters is enough */
		assert_true(rx_match("^[0-9a-zA-Z._*-]{1,128}", "abc"));
		assert_true(rx_match("^[0-9a-zA-Z._*-]{1,128}", "a b"));
		assert_false(rx_match("^[0-9a-zA-Z._*-]{1,128}", " ab"));
		assert_false(rx_match("^[0-9a-zA-Z._*-]{2,128}", "a b"));
		assert_true(rx_match("^[a-z]{2,3}x$", "abx"));
		assert_false(rx_match("^[a-z]{2,3}x$", "abcdx"));
	}
	/* KMS key ARN */
	assert_true(rx_match("^arn:[a-z0-9-]+:kms:[a-z0-9-]+:\\d{12}:(key|alias)/.+\\Z",
			     "arn:aws:kms:us-east-1:123456789012:alias/x"));
	assert_false(rx_match("^arn:[a-z0-9-]+:kms:[a-z0-9-]+:\\d{12}:(key|alias)/.+\\Z",
			      "arn:aws:kms:us-east-1:12345:key/x"));
	/* tag text: Unicode letters pass, '*' does not */
	assert_true(rx_match("^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", "env:prod 1"));
	assert_true(rx_match("^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", "caf\xc3\xa9"));
	assert_false(rx_match("^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", "a*b"));
	/* unanchored: a search, as in JSON Schema */
	assert_true(rx_match("[\\w+=,.@-]+", "!a!"));
	assert_false(rx_match("[\\w+=,.@-]+", "!!"));
	assert_true(rx_match("[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+", "{}"));
	assert_false(rx_match("[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+", "\x01"));
	/* timestamps */
	{
		const char *p = "^([0-2]\\d{3})-(0[0-9]|1[0-2])-([0-2]\\d|3[01])T"
				"([01]\\d|2[0-4]):([0-5]\\d):([0-6]\\d)((\\.\\d{3})?)Z$";
		assert_true(rx_match(p, "2024-01-31T12:00:00Z"));
		assert_true(rx_match(p, "2024-01-31T12:00:00.123Z"));
		assert_false(rx_match(p, "2024-13-01T00:00:00Z"));
	}
	/* brackets with [ ] { } $ * inside */
	assert_true(rx_match("^([a-z,A-Z,0-9,. _\\-:/()#,@[\\]+=&;\\{\\}!$*])*$",
			     "a[b]{c} $*"));
	assert_false(rx_match("^([a-z,A-Z,0-9,. _\\-:/()#,@[\\]+=&;\\{\\}!$*])*$", "a<b"));
	/* IAM paths */
	assert_true(rx_match("^/(.+/)*$", "/"));
	assert_true(rx_match("^/(.+/)*$", "/a/b/"));
	assert_false(rx_match("^/(.+/)*$", "/a"));
	assert_true(rx_match("^a+?b$", "aab"));
	assert_true(rx_match("^\\u00e9$", "\xc3\xa9"));
}

/* What the rewriter to POSIX got wrong or skipped, now as AWS means it. */
static void test_regex_ecma_features(void **state)
{
	const char *tag = "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$";

	(void)state;
	/* Unicode properties: letters of any script pass, control bytes,
	 * symbols and punctuation outside the list do not */
	assert_true(rx_match(tag, "\xc3\xa9"));                 /* é */
	assert_true(rx_match(tag, "\xe6\x9d\xb1\xe4\xba\xac")); /* 東京 */
	assert_true(rx_match(tag, "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0"));
	assert_true(rx_match(tag, "a\xc2\xa0z"));  /* NO-BREAK SPACE is \p{Z} */
	assert_true(rx_match(tag, "\xd9\xa3"));    /* ARABIC-INDIC THREE is \p{N} */
	assert_false(rx_match(tag, "\x01"));
	assert_false(rx_match(tag, "a\x7f"));
	assert_false(rx_match(tag, "\xe2\x82\xac"));     /* € is \p{Sc} */
	assert_false(rx_match(tag, "\xc2\xab"));         /* « is \p{Pi} */
	assert_false(rx_match(tag, "\xf0\x9f\x98\x80")); /* an emoji is \p{So} */
	assert_false(rx_match(tag, "\xcc\x81"));         /* a combining mark is \p{M} */
	/* one code point is one character for . and {m,n} */
	assert_true(rx_match("^.{2}$", "\xc3\xa9\xc3\xa9"));
	assert_false(rx_match("^.{4}$", "\xc3\xa9\xc3\xa9"));
	/* \uXXXX ranges: Latin-1 letters inside, the euro sign outside */
	assert_true(rx_match("^[\\u0020-\\u00FF]+$", "caf\xc3\xa9"));
	assert_false(rx_match("^[\\u0020-\\u00FF]+$", "\xe2\x82\xac"));
	assert_false(rx_match("^[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*$",
			      "\xc2\xa0"));
	/* \w \d stay ASCII, as in ECMA-262 and Java */
	assert_false(rx_match("^\\w+$", "\xc3\xa9"));
	assert_false(rx_match("^\\d$", "\xd9\xa3"));
	/* lookaheads, negative ones included, and lookbehinds */
	assert_true(rx_match("^(?=.{2,4}$)[a-z]+$", "abcd"));
	assert_false(rx_match("^(?=.{2,4}$)[a-z]+$", "abcde"));
	assert_true(rx_match("^(?=.{1,3}$).*$", "\xc3\xa9\xc3\xa9\xc3\xa9"));
	assert_false(rx_match("^(?!aws:)[a-z:]+$", "aws:x"));
	assert_true(rx_match("^(?!aws:)[a-z:]+$", "cairn:x"));
	assert_true(rx_match("(?<=a)b", "ab"));
	assert_false(rx_match("(?<=a)b", "cb"));
	/* backreferences, \b, \P{..} */
	assert_true(rx_match("^(a+)-\\1$", "aa-aa"));
	assert_false(rx_match("^(a+)-\\1$", "aa-a"));
	assert_true(rx_match("\\bword\\b", "a word here"));
	assert_false(rx_match("^\\P{L}+$", "ab"));
	assert_true(rx_match("^[^\\p{L}]+$", "12"));
	/* $ is the end, not before a final newline */
	assert_false(rx_match("^a$", "a\n"));
	assert_true(rx_match("^a\\s$", "a\n"));
}

static void test_regex_invalid(void **state)
{
	char msg[200];

	(void)state;
	assert_false(rx_compiles("(a"));
	assert_false(rx_compiles("a)"));
	assert_false(rx_compiles("[abc"));
	assert_int_equal(schema_regex_check("(a", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "parenthesis"));
	/* a pattern PCRE2 rejects never fails a value */
	{
		struct sregex r;
		schema_regex_init(&r, "x(");
		assert_false(schema_regex_ok(&r));
		assert_true(schema_regex_match(&r, "anything"));
	}
	/* a value that is not UTF-8 matches nothing */
	assert_false(rx_match("^.*$", "\xc3"));
	/* catastrophic backtracking ends (at the match limit) */
	{
		char v[64];
		memset(v, 'a', sizeof(v) - 2);
		v[sizeof(v) - 2] = '!';
		v[sizeof(v) - 1] = '\0';
		(void)rx_match("^(a+)+$", v);
	}
	/* compiled once: the same pattern is the same cache entry */
	{
		struct sregex a, b;
		schema_regex_init(&a, "^[a-z]{3}$");
		schema_regex_init(&b, "^[a-z]{3}$");
		assert_true(schema_regex_match(&a, "abc"));
		assert_true(schema_regex_match(&b, "abc"));
		assert_ptr_equal(atomic_load(&a.compiled), atomic_load(&b.compiled));
	}
}

/* ---- validation ---- */

static struct value *tag(const char *k, const char *v)
{
	return M("Key", S(k), "Value", S(v), NULL);
}

static void test_valid_vpc(void **state)
{
	(void)state;
	expect_clean("AWS::EC2::VPC",
		     M("CidrBlock", S("10.0.0.0/16"), "EnableDnsSupport", B(true),
		       "EnableDnsHostnames", S("true"), "InstanceTenancy",
		       S("default"), "Tags", L(tag("Name", "main"), NULL), NULL));
	/* no Properties at all: VPC requires one of two */
	assert_int_equal(run("AWS::EC2::VPC", NULL), 1);
	assert_string_equal(DL.items[0].path, "Properties");
	assert_string_equal(DL.items[0].msg, "exactly one of \"CidrBlock\", "
					     "\"Ipv4IpamPoolId\" is required, found none");
}

static void test_unknown_property(void **state)
{
	struct value *p = M("CidrBlok", at(S("10.0.0.0/16"), 4, 18), "CidrBlock",
			    S("10.0.0.0/16"), NULL);
	const struct diag *d;

	(void)state;
	key_at(p, "CidrBlok", 4, 7);
	d = expect_one("AWS::EC2::VPC", p, "Properties.CidrBlok",
		       "unknown property \"CidrBlok\" (did you mean \"CidrBlock\"?)");
	assert_mark(d, 4, 7); /* the key's mark, not the value's */
	assert_int_equal(d->severity, DIAG_ERROR);

	/* case slips are suggested too */
	expect_one("AWS::EC2::VPC", M("CidrBlock", S("10.0.0.0/16"), "enablednssupport",
				      B(true), NULL),
		   "Properties.enablednssupport",
		   "unknown property \"enablednssupport\" (did you mean "
		   "\"EnableDnsSupport\"?)");
	expect_one("AWS::EC2::VPC", M("CidrBlock", S("10.0.0.0/16"), "Colour", S("x"), NULL),
		   "Properties.Colour", "unknown property \"Colour\"");
	/* a key that would break the one-line message is escaped */
	expect_one("AWS::EC2::VPC", M("CidrBlock", S("10.0.0.0/16"), "a\"b\nc", S("x"), NULL),
		   "Properties.a\"b\nc", "unknown property \"a\\\"b\\nc\"");
	/* nested, under a list */
	expect_one("AWS::EC2::VPC",
		   M("CidrBlock", S("10.0.0.0/16"), "Tags",
		     L(tag("a", "b"), M("Key", S("k"), "Valeu", S("v"), "Value", S("v"), NULL),
		       NULL),
		     NULL),
		   "Properties.Tags[1].Valeu",
		   "unknown property \"Valeu\" (did you mean \"Value\"?)");
}

static void test_missing_required(void **state)
{
	struct value *p = at(M("CidrBlock", S("10.0.1.0/24"), NULL), 3, 5);
	const struct diag *d;
	const struct schema_type *t = schema_find("AWS::EC2::Subnet");
	struct mark where = { "t.yaml", 9, 3 };

	(void)state;
	d = expect_one("AWS::EC2::Subnet", p, "Properties",
		       "missing required property \"VpcId\"");
	assert_mark(d, 3, 5);
	/* nested: a tag without its Value */
	expect_one("AWS::EC2::VPC",
		   M("CidrBlock", S("10.0.0.0/16"), "Tags", L(M("Key", S("k"), NULL), NULL),
		     NULL),
		   "Properties.Tags[0]", "missing required property \"Value\"");
	/* no Properties: the resource's mark is used */
	diag_list_release(&DL);
	memset(&DL, 0, sizeof(DL));
	schema_validate_at(t, NULL, "Res", &where, &DL);
	assert_true(DL.n >= 1);
	assert_true(has_diag("Properties", "missing required property \"VpcId\""));
	assert_int_equal(DL.items[0].mark.line, 9);
	assert_int_equal(DL.items[0].mark.col, 3);
}

static void test_wrong_type(void **state)
{
	const struct diag *d;

	(void)state;
	d = expect_one("AWS::EC2::VPC",
		       M("CidrBlock", S("10.0.0.0/16"), "EnableDnsSupport",
			 at(S("yes"), 6, 25), NULL),
		       "Properties.EnableDnsSupport",
		       "expected boolean, got string \"yes\"");
	assert_mark(d, 6, 25);
	expect_one("AWS::EC2::VPC",
		   M("CidrBlock", S("10.0.0.0/16"), "EnableDnsSupport", L(NULL), NULL),
		   "Properties.EnableDnsSupport", "expected boolean, got list");
	expect_one("AWS::EC2::VPC",
		   M("CidrBlock", S("10.0.0.0/16"), "Tags", M("Name", S("x"), NULL), NULL),
		   "Properties.Tags", "expected list, got map");
	expect_one("AWS::EC2::VPC",
		   M("CidrBlock", value_new_null(A), NULL), "Properties.CidrBlock",
		   "expected string, got null");
	expect_one("AWS::IAM::Role",
		   M("AssumeRolePolicyDocument", L(S("x"), NULL), NULL),
		   "Properties.AssumeRolePolicyDocument",
		   "expected string or map, got list");
	expect_one("AWS::IAM::Role",
		   M("AssumeRolePolicyDocument", S("{}"), "MaxSessionDuration",
		     S("1h"), NULL),
		   "Properties.MaxSessionDuration",
		   "expected integer, got string \"1h\"");
	expect_one("AWS::IAM::Role",
		   M("AssumeRolePolicyDocument", S("{}"), "MaxSessionDuration",
		     N("3600.5"), NULL),
		   "Properties.MaxSessionDuration", "expected integer, got number 3600.5");
	/* Properties itself must be a map */
	expect_one("AWS::EC2::VPC", L(NULL), "Properties", "expected map, got list");
}

static void test_coercion(void **state)
{
	(void)state;
	/* CloudFormation passes scalars as text: these all deploy */
	expect_clean("AWS::EC2::Subnet",
		     M("VpcId", S("vpc-1"), "CidrBlock", S("10.0.1.0/24"),
		       "MapPublicIpOnLaunch", S("True"), "EnableDns64", S("false"),
		       "Tags", L(M("Key", S("n"), "Value", N("5"), NULL),
				 M("Key", B(true), "Value", B(false), NULL), NULL),
		       NULL));
	expect_clean("AWS::IAM::Role",
		     M("AssumeRolePolicyDocument", M("Version", S("2012-10-17"), NULL),
		       "MaxSessionDuration", S("7200"), NULL));
	expect_clean("AWS::IAM::Role",
		     M("AssumeRolePolicyDocument", S("{\"Version\":\"2012-10-17\"}"),
		       "MaxSessionDuration", N("3600.0"), NULL));
	expect_clean("AWS::Logs::LogGroup", M("RetentionInDays", S("7"), NULL));
	expect_clean("AWS::Logs::LogGroup", M("RetentionInDays", N("7"), NULL));
	/* a range applies to the number inside the string */
	expect_one("AWS::IAM::Role",
		   M("AssumeRolePolicyDocument", S("{}"), "MaxSessionDuration",
		     S("60"), NULL),
		   "Properties.MaxSessionDuration",
		   "value \"60\" is less than the minimum 3600");
}

static void test_unknown_satisfies(void **state)
{
	(void)state;
	expect_clean("AWS::EC2::Subnet",
		     M("VpcId", U("Vpc.VpcId"), "CidrBlock", U("x"), "AvailabilityZone",
		       U("GetAZs"), "MapPublicIpOnLaunch", U("y"), "Tags", U("z"), NULL));
	/* an unknown list item, an unknown map value */
	expect_clean("AWS::EC2::VPC",
		     M("CidrBlock", S("10.0.0.0/16"), "Tags",
		       L(U("t"), M("Key", U("k"), "Value", S("v"), NULL), NULL), NULL));
	/* presence still counts for requiredXor */
	expect_one("AWS::EC2::VPC",
		   M("CidrBlock", U("a"), "Ipv4IpamPoolId", U("b"), "Ipv4NetmaskLength",
		     N("16"), NULL),
		   "Properties",
		   "exactly one of \"CidrBlock\", \"Ipv4IpamPoolId\" is required, "
		   "found \"CidrBlock\" and \"Ipv4IpamPoolId\"");
}

static void test_enum(void **state)
{
	(void)state;
	expect_one("AWS::EC2::VPC",
		   M("CidrBlock", S("10.0.0.0/16"), "InstanceTenancy", S("Dedicated"), NULL),
		   "Properties.InstanceTenancy",
		   "value \"Dedicated\" is not one of \"dedicated\", \"default\", "
		   "\"host\" (did you mean \"dedicated\"?)");
	expect_one("AWS::EC2::VPC",
		   M("CidrBlock", S("10.0.0.0/16"), "InstanceTenancy", S("shared"), NULL),
		   "Properties.InstanceTenancy",
		   "value \"shared\" is not one of \"dedicated\", \"default\", \"host\"");
	expect_one("AWS::Logs::LogGroup", M("RetentionInDays", N("8"), NULL),
		   "Properties.RetentionInDays",
		   "value 8 is not one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, "
		   "365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653");
	/* enum of list items */
	expect_one("AWS::ECS::TaskDefinition",
		   M("RequiresCompatibilities", L(S("FARGATE"), S("LAMBDA"), NULL), NULL),
		   "Properties.RequiresCompatibilities[1]",
		   "value \"LAMBDA\" is not one of \"EC2\", \"EXTERNAL\", \"FARGATE\", "
		   "\"MANAGED_INSTANCES\"");
}

static void test_pattern_and_length(void **state)
{
	char name[80];

	(void)state;
	expect_one("AWS::Logs::LogGroup", M("LogGroupName", S("/ecs/prefect worker"), NULL),
		   "Properties.LogGroupName",
		   "value \"/ecs/prefect worker\" does not match pattern "
		   "\"^[.\\-_/#A-Za-z0-9]{1,512}\\Z\"");
	expect_clean("AWS::Logs::LogGroup", M("LogGroupName", S("/ecs/prefect-worker"), NULL));
	expect_one("AWS::ECR::Repository",
		   M("LifecyclePolicy", M("LifecyclePolicyText", S("{}"), NULL), NULL),
		   "Properties.LifecyclePolicy.LifecyclePolicyText",
		   "value \"{}\" is too short (2 characters, minimum 100)");
	memset(name, 'r', 65);
	name[65] = '\0';
	run("AWS::IAM::Role", M("AssumeRolePolicyDocument", S("{}"), "RoleName", S(name), NULL));
	assert_int_equal(DL.n, 1);
	assert_string_equal(DL.items[0].msg,
			    "value \"rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
			    "...\" is too long (65 characters, maximum 64)");
	/* lengths count characters, not bytes: 256 two-byte characters fit */
	{
		struct strbuf sb = STRBUF_INIT;
		int i;
		for (i = 0; i < 256; i++)
			strbuf_addstr(&sb, "\xc3\xa9");
		expect_clean("AWS::Logs::LogGroup",
			     M("Tags", L(tag("k", sb.buf), NULL), NULL));
		strbuf_addstr(&sb, "\xc3\xa9");
		run("AWS::Logs::LogGroup", M("Tags", L(tag("k", sb.buf), NULL), NULL));
		assert_int_equal(DL.n, 1);
		assert_string_equal(DL.items[0].path, "Properties.Tags[0].Value");
		/* 60 bytes shown: 30 characters, never half of one */
		assert_string_equal(DL.items[0].msg,
				    "value \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
				    "...\" is too long (257 characters, maximum 256)");
		strbuf_release(&sb);
	}
	/* IAM names are ASCII (\w in ECMA regexes) */
	expect_one("AWS::IAM::Role",
		   M("AssumeRolePolicyDocument", S("{}"), "RoleName", S("\xc3\xa9\xc3\xa9"), NULL),
		   "Properties.RoleName",
		   "value \"\xc3\xa9\xc3\xa9\" does not match pattern \"[\\w+=,.@-]+\"");
	/* ECR name: lookahead length and shape */
	expect_one("AWS::ECR::Repository", M("RepositoryName", S("Prefect"), NULL),
		   "Properties.RepositoryName",
		   "value \"Prefect\" does not match pattern \"^(?=.{2,256}$)((?:[a-z0-9]+"
		   "(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)$\"");
	/* a pattern applies to strings only: a policy given as a map is fine */
	expect_clean("AWS::IAM::ManagedPolicy",
		     M("PolicyDocument", M("Statement", L(NULL), NULL), NULL));
}

static void test_range(void **state)
{
	(void)state;
	expect_one("AWS::IAM::Role",
		   M("AssumeRolePolicyDocument", S("{}"), "MaxSessionDuration", N("100"), NULL),
		   "Properties.MaxSessionDuration", "value 100 is less than the minimum 3600");
	expect_one("AWS::IAM::Role",
		   M("AssumeRolePolicyDocument", S("{}"), "MaxSessionDuration",
		     S("50000"), NULL),
		   "Properties.MaxSessionDuration",
		   "value \"50000\" is greater than the maximum 43200");
	expect_clean("AWS::IAM::Role",
		     M("AssumeRolePolicyDocument", S("{}"), "MaxSessionDuration",
		       N("43200"), NULL));
}

static void test_items(void **state)
{
	struct value *arns = value_new_list(A);
	int i;

	(void)state;
	for (i = 0; i < 21; i++) {
		char buf[80];
		snprintf(buf, sizeof(buf), "arn:aws:iam::aws:policy/P%d", i);
		value_list_push(A, arns, S(buf));
	}
	expect_one("AWS::IAM::Role", M("AssumeRolePolicyDocument", S("{}"),
				       "ManagedPolicyArns", arns, NULL),
		   "Properties.ManagedPolicyArns", "list has 21 items, maximum 20");
	expect_one("AWS::ECR::Repository",
		   M("ImageTagMutabilityExclusionFilters", L(NULL), NULL),
		   "Properties.ImageTagMutabilityExclusionFilters",
		   "list has 0 items, minimum 1");
	expect_one("AWS::IAM::Role",
		   M("AssumeRolePolicyDocument", S("{}"), "ManagedPolicyArns",
		     L(S("arn:aws:iam::aws:policy/A"), at(S("arn:aws:iam::aws:policy/A"), 8, 9),
		       NULL),
		     NULL),
		   "Properties.ManagedPolicyArns[1]", "duplicate list item (same as item 0)");
	assert_int_equal(DL.items[0].mark.line, 8);
	/* unknown items are never duplicates */
	expect_clean("AWS::IAM::Role",
		     M("AssumeRolePolicyDocument", S("{}"), "ManagedPolicyArns",
		       L(U("a"), U("a"), NULL), NULL));
	/* item pattern */
	expect_one("AWS::IAM::Role",
		   M("AssumeRolePolicyDocument", S("{}"), "ManagedPolicyArns",
		     L(S("AmazonECSTaskExecutionRolePolicy"), NULL), NULL),
		   "Properties.ManagedPolicyArns[0]",
		   "value \"AmazonECSTaskExecutionRolePolicy\" does not match pattern "
		   "\"arn:(aws[a-zA-Z-]*)?:iam::(\\d{12}|aws):policy/[a-zA-Z_0-9+=,.@\\-_/]+\"");
}

static void test_unique_keys(void **state)
{
	struct value *env = L(M("Name", S("A"), "Value", S("1"), NULL),
			      M("Name", at(S("A"), 12, 17), "Value", S("2"), NULL), NULL);

	(void)state;
	expect_one("AWS::ECS::TaskDefinition",
		   M("ContainerDefinitions",
		     L(M("Name", S("c"), "Image", S("i"), "Environment", env, NULL), NULL),
		     NULL),
		   "Properties.ContainerDefinitions[0].Environment[1]",
		   "duplicate \"Name\" \"A\" (same as item 0)");
	assert_int_equal(DL.items[0].mark.line, 12);
}

static void test_formats(void **state)
{
	static const char *const bad[] = { "10.0.0.0/33", "10.0.0/16", "256.0.0.0/8",
					   "10.0.0.0", "10.0.0.0/", "010.0.0.0/8",
					   "a.b.c.d/8", "10.0.0.0/16 ", "" };
	static const char *const good[] = { "10.0.1.0/24", "0.0.0.0/0", "10.0.0.1/32",
					    "255.255.255.255/32" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char msg[128];
		snprintf(msg, sizeof(msg),
			 "value \"%s\" is not a valid IPv4 CIDR block (like 10.0.0.0/16)",
			 bad[i]);
		expect_one("AWS::EC2::Subnet", M("VpcId", S("v"), "CidrBlock", S(bad[i]), NULL),
			   "Properties.CidrBlock", msg);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		expect_clean("AWS::EC2::Subnet",
			     M("VpcId", S("v"), "CidrBlock", S(good[i]), NULL));
	expect_clean("AWS::EC2::Subnet",
		     M("VpcId", S("v"), "Ipv6CidrBlock", S("2001:db8::/64"), NULL));
	expect_one("AWS::EC2::Subnet", M("VpcId", S("v"), "Ipv6CidrBlock", S("2001:db8::/129"), NULL),
		   "Properties.Ipv6CidrBlock",
		   "value \"2001:db8::/129\" is not a valid IPv6 CIDR block");
	expect_one("AWS::IAM::ManagedPolicy", M("PolicyDocument", S("{not json"), NULL),
		   "Properties.PolicyDocument", "value \"{not json\" is not valid JSON");
	expect_clean("AWS::IAM::ManagedPolicy",
		     M("PolicyDocument", S("{\"Version\":\"2012-10-17\",\"Statement\":[]}"),
		       NULL));
}

static void test_required_xor_or(void **state)
{
	struct value *p;

	(void)state;
	p = M("CidrBlock", S("10.0.0.0/16"), "Ipv4IpamPoolId", S("ipam-pool-1"),
	      "Ipv4NetmaskLength", N("16"), NULL);
	key_at(p, "Ipv4IpamPoolId", 5, 7);
	{
		const struct diag *d = expect_one(
			"AWS::EC2::VPC", p, "Properties",
			"exactly one of \"CidrBlock\", \"Ipv4IpamPoolId\" is required, "
			"found \"CidrBlock\" and \"Ipv4IpamPoolId\"");
		assert_mark(d, 5, 7);
	}
	/* nested: a security group rule with no source */
	expect_one("AWS::EC2::SecurityGroup",
		   M("GroupDescription", S("d"), "SecurityGroupIngress",
		     L(M("IpProtocol", S("-1"), NULL), NULL), NULL),
		   "Properties.SecurityGroupIngress[0]",
		   "exactly one of \"CidrIp\", \"CidrIpv6\", \"SourcePrefixListId\", "
		   "\"SourceSecurityGroupId\", \"SourceSecurityGroupName\" is required, "
		   "found none");
	expect_one("AWS::EC2::Subnet", M("VpcId", S("v"), NULL), "Properties",
		   "at least one of \"CidrBlock\", \"Ipv4IpamPoolId\", "
		   "\"Ipv6IpamPoolId\", \"Ipv6CidrBlock\" is required");
}

static void test_dependent(void **state)
{
	struct value *p;
	const struct diag *d;

	(void)state;
	p = M("VpcId", S("v"), "Ipv4IpamPoolId", S("ipam-pool-1"), NULL);
	key_at(p, "Ipv4IpamPoolId", 7, 5);
	d = expect_one("AWS::EC2::Subnet", p, "Properties",
		       "property \"Ipv4IpamPoolId\" requires \"Ipv4NetmaskLength\"");
	assert_mark(d, 7, 5);
	/* excluded both ways: reported once, at the later key */
	p = M("VpcId", S("v"), "CidrBlock", S("10.0.0.0/24"), "AvailabilityZone",
	      S("us-east-1a"), "AvailabilityZoneId", S("use1-az1"), NULL);
	key_at(p, "AvailabilityZoneId", 9, 5);
	d = expect_one("AWS::EC2::Subnet", p, "Properties",
		       "property \"AvailabilityZoneId\" cannot be used with "
		       "\"AvailabilityZone\"");
	assert_mark(d, 9, 5);
	/* egress rules need a VPC */
	expect_one("AWS::EC2::SecurityGroup",
		   M("GroupDescription", S("d"), "SecurityGroupEgress",
		     L(M("IpProtocol", S("-1"), "CidrIp", S("0.0.0.0/0"), NULL), NULL),
		     NULL),
		   "Properties",
		   "property \"SecurityGroupEgress\" requires \"VpcId\"");
}

static void test_any_of(void **state)
{
	(void)state;
	expect_one("AWS::IAM::Policy",
		   M("PolicyName", S("p"), "PolicyDocument", M("Statement", L(NULL), NULL),
		     NULL),
		   "Properties",
		   "at least one of \"Users\", \"Groups\", \"Roles\" is required");
	expect_clean("AWS::IAM::Policy",
		     M("PolicyName", S("p"), "PolicyDocument", S("{}"), "Roles",
		       L(S("r"), NULL), NULL));
}

static void test_pattern_properties(void **state)
{
	struct value *lc;

	(void)state;
	lc = M("LogDriver", S("awslogs"), "Options",
	       M("awslogs-group", S("/ecs/x"), "awslogs-region", S("us-east-1"), NULL),
	       NULL);
	expect_clean("AWS::ECS::TaskDefinition",
		     M("ContainerDefinitions",
		       L(M("Name", S("c"), "Image", S("i"), "LogConfiguration", lc, NULL),
			 NULL),
		       NULL));
	lc = M("LogDriver", S("awslogs"), "Options",
	       M("awslogs-group", L(NULL), NULL), NULL);
	expect_one("AWS::ECS::TaskDefinition",
		   M("ContainerDefinitions",
		     L(M("Name", S("c"), "Image", S("i"), "LogConfiguration", lc, NULL),
		       NULL),
		     NULL),
		   "Properties.ContainerDefinitions[0].LogConfiguration.Options.awslogs-group",
		   "expected string, got list");
}

static void test_sensitive_not_shown(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct value *secret;
	int i;

	(void)state;
	for (i = 0; i < 65537; i++)
		strbuf_addch(&sb, 'k');
	secret = S(sb.buf);
	secret->sensitive = 1;
	expect_one("AWS::SecretsManager::Secret", M("SecretString", secret, NULL),
		   "Properties.SecretString",
		   "value (sensitive) is too long (65537 characters, maximum 65536)");
	secret = S("");
	secret->sensitive = 1;
	expect_one("AWS::SecretsManager::Secret", M("SecretString", secret, NULL),
		   "Properties.SecretString",
		   "value (sensitive) is too short (0 characters, minimum 1)");
	strbuf_release(&sb);
}

static void test_warnings(void **state)
{
	(void)state;
	expect_one("AWS::EC2::VPC", M("CidrBlock", S("10.0.0.0/16"), "VpcId", S("vpc-1"), NULL),
		   "Properties.VpcId",
		   "property \"VpcId\" is read-only (AWS sets it); the value given is ignored");
	assert_int_equal(DL.items[0].severity, DIAG_WARNING);
	assert_int_equal(DL.errors, 0);
	expect_one("AWS::ECS::TaskDefinition", M("InferenceAccelerators", L(NULL), NULL),
		   "Properties.InferenceAccelerators",
		   "property \"InferenceAccelerators\" is deprecated");
	assert_int_equal(DL.items[0].severity, DIAG_WARNING);
}

/* Keywords no embedded schema uses yet, on a hand-written schema. */
static const char custom_schema[] =
	"{\"typeName\":\"Test::Custom::Thing\","
	"\"definitions\":{\"Node\":{\"type\":\"object\",\"additionalProperties\":false,"
	"  \"properties\":{\"Next\":{\"$ref\":\"#/definitions/Node\"},\"V\":{\"type\":\"integer\"}}}},"
	"\"properties\":{"
	"  \"Pct\":{\"type\":\"number\",\"multipleOf\":0.1,\"exclusiveMinimum\":0},"
	"  \"Owner\":{\"type\":\"string\",\"const\":\"Destination\"},"
	"  \"Form\":{\"oneOf\":["
	"    {\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"A\"],"
	"     \"properties\":{\"A\":{\"type\":\"string\"}}},"
	"    {\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"B\"],"
	"     \"properties\":{\"B\":{\"type\":\"string\"}}}]},"
	"  \"Either\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]},"
	"  \"Both\":{\"allOf\":[{\"minLength\":2},{\"maxLength\":3}]},"
	"  \"Labels\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"boolean\"}},"
	"  \"Chain\":{\"$ref\":\"#/definitions/Node\"},"
	"  \"Free\":{\"type\":\"object\"},"
	"  \"Formula\":{\"type\":\"string\"}"
	"},\"additionalProperties\":false,"
	"\"readOnlyProperties\":[\"/properties/Out/Deep\"],"
	"\"writeOnlyProperties\":[\"/properties/Form\"],"
	"\"primaryIdentifier\":[\"/properties/Owner\"]}";

static void test_custom_keywords(void **state)
{
	struct err err = ERR_INIT;
	struct schema_type *t = schema_type_parse(custom_schema, strlen(custom_schema), &err);
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	if (!t)
		fail_msg("%s", err.msg);
#define CHECK1(PROPS, PATH, MSG)                                             \
	do {                                                                 \
		schema_validate(t, PROPS, "Res", &dl);                       \
		if (dl.n != 1)                                               \
			fail_msg("%zu problems for %s", dl.n, MSG);          \
		assert_string_equal(dl.items[0].path, PATH);                 \
		assert_string_equal(dl.items[0].msg, MSG);                   \
		diag_list_release(&dl);                                      \
		memset(&dl, 0, sizeof(dl));                                  \
	} while (0)
#define CLEAN(PROPS)                                                         \
	do {                                                                 \
		schema_validate(t, PROPS, "Res", &dl);                       \
		if (dl.n)                                                    \
			fail_msg("unexpected: %s", dl.items[0].msg);         \
	} while (0)

	CLEAN(M("Pct", N("0.3"), "Owner", S("Destination"), "Form", M("A", S("x"), NULL),
		"Either", N("5"), "Both", S("abc"), "Labels", M("x", B(true), NULL),
		"Chain", M("Next", M("Next", M("V", N("1"), NULL), NULL), NULL),
		"Free", M("anything", L(NULL), NULL), NULL));
	CHECK1(M("Pct", N("0.15"), NULL), "Properties.Pct",
	       "value 0.15 is not a multiple of 0.1");
	CHECK1(M("Pct", N("0"), NULL), "Properties.Pct", "value 0 must be greater than 0");
	CHECK1(M("Owner", S("Source"), NULL), "Properties.Owner",
	       "value \"Source\" must be \"Destination\"");
	/* no form matches: the problems of the closest one (the first) */
	schema_validate(t, M("Form", M("C", S("x"), NULL), NULL), "Res", &dl);
	assert_int_equal(dl.n, 2);
	assert_string_equal(dl.items[0].path, "Properties.Form.C");
	assert_string_equal(dl.items[0].msg, "unknown property \"C\"");
	assert_string_equal(dl.items[1].path, "Properties.Form");
	assert_string_equal(dl.items[1].msg, "missing required property \"A\"");
	diag_list_release(&dl);
	memset(&dl, 0, sizeof(dl));
	CLEAN(M("Form", M("B", S("x"), NULL), NULL));
	/* "5" is a string and an integer to CloudFormation: not ambiguous */
	CLEAN(M("Either", S("5"), NULL));
	CHECK1(M("Either", L(NULL), NULL), "Properties.Either",
	       "expected string, got list");
	/* a map matching two object forms is */
	{
		static const char two[] =
			"{\"typeName\":\"T::T::T\",\"properties\":{\"F\":{\"oneOf\":["
			"{\"type\":\"object\"},{\"required\":[\"A\"]}]}}}";
		struct schema_type *t2 = schema_type_parse(two, strlen(two), &err);
		assert_non_null(t2);
		schema_validate(t2, M("F", M("A", S("x"), NULL), NULL), "Res", &dl);
		assert_int_equal(dl.n, 1);
		assert_string_equal(dl.items[0].msg,
				    "value matches more than one of the allowed forms");
		diag_list_release(&dl);
		memset(&dl, 0, sizeof(dl));
		schema_type_free(t2);
	}
	CHECK1(M("Both", S("abcd"), NULL), "Properties.Both",
	       "value \"abcd\" is too long (4 characters, maximum 3)");
	CHECK1(M("Labels", M("x", S("maybe"), NULL), NULL), "Properties.Labels.x",
	       "expected boolean, got string \"maybe\"");
	CHECK1(M("Chain", M("Next", M("Next", M("W", N("1"), NULL), NULL), NULL), NULL),
	       "Properties.Chain.Next.Next.W", "unknown property \"W\"");
	assert_true(schema_has_attribute(t, "Out.Deep"));
	assert_true(schema_has_attribute(t, "Pct"));
	assert_false(schema_has_attribute(t, "Out"));
	/* write-only: not an attribute; a longer name is another property */
	assert_false(schema_has_attribute(t, "Form"));
	assert_true(schema_has_attribute(t, "Formula"));
	assert_string_equal(schema_attributes(t),
			    "Both, Chain, Either, Formula, Free, Labels, Out.Deep, Owner, Pct");
	assert_false(schema_taggable(t));
#undef CHECK1
#undef CLEAN
	diag_list_release(&dl);
	schema_type_free(t);
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(schema_edit_distance("CidrBlok", "CidrBlock", 3), 1);
	assert_int_equal(schema_edit_distance("VpcID", "VpcId", 3), 0); /* case */
	assert_int_equal(schema_edit_distance("abc", "abc", 0), 0);
	assert_int_equal(schema_edit_distance("kitten", "sitting", 5), 3);
	assert_int_equal(schema_edit_distance("kitten", "sitting", 2), 3); /* cap + 1 */
	assert_int_equal(schema_edit_distance("", "abcd", 2), 3);
	assert_int_equal(schema_edit_distance("Subnets", "SubnetIds", 3), 2);
}

static void test_suggestions(void **state)
{
	(void)state;
	expect_one("AWS::EC2::Subnet", M("VpcID", S("v"), "VpcId", S("v"), "CidrBlock",
				       S("10.0.0.0/24"), NULL),
		   "Properties.VpcID", "unknown property \"VpcID\" (did you mean \"VpcId\"?)");
	expect_one("AWS::EC2::VPCEndpoint",
		   M("VpcId", S("v"), "Subnets", L(S("s"), NULL), NULL),
		   "Properties.Subnets",
		   "unknown property \"Subnets\" (did you mean \"SubnetIds\"?)");
	/* nothing close: no guess */
	expect_one("AWS::EC2::Subnet", M("VpcId", S("v"), "CidrBlock", S("10.0.0.0/24"),
				       "Zone", S("a"), NULL),
		   "Properties.Zone", "unknown property \"Zone\"");
}

/* Strings CloudFormation would not read as numbers stay strings. */
static void test_number_text(void **state)
{
	static const char *const not_int[] = { "0x10", " 5", "5 ", "inf", "nan", "", "1.5",
					       "five" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(not_int) / sizeof(not_int[0]); i++) {
		char msg[80];
		snprintf(msg, sizeof(msg), "expected integer, got string \"%s\"", not_int[i]);
		expect_one("AWS::Logs::LogGroup", M("RetentionInDays", S(not_int[i]), NULL),
			   "Properties.RetentionInDays", msg);
	}
	expect_clean("AWS::Logs::LogGroup", M("RetentionInDays", S("3e1"), NULL));
	expect_clean("AWS::Logs::LogGroup", M("RetentionInDays", S("+14"), NULL));
}

/* A value deeper than any template the loader accepts: bounded, no crash. */
static void test_deep_value(void **state)
{
	struct err err = ERR_INIT;
	struct schema_type *t = schema_type_parse(custom_schema, strlen(custom_schema), &err);
	struct diag_list dl = DIAG_LIST_INIT;
	struct value *v = M("W", N("1"), NULL);
	int i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < 1000; i++)
		v = M("Next", v, NULL);
	schema_validate(t, M("Chain", v, NULL), "Res", &dl);
	assert_int_equal(dl.n, 0); /* the bad key is below the depth limit */
	diag_list_release(&dl);
	schema_type_free(t);
}

struct thread_job {
	struct value *props;
	size_t problems;
};

static void *validate_in_thread(void *arg)
{
	struct thread_job *job = arg;
	int i;

	for (i = 0; i < 200; i++) {
		struct diag_list dl = DIAG_LIST_INIT;
		schema_validate(schema_find("AWS::ECR::Repository"), job->props, "R", &dl);
		job->problems += dl.n;
		diag_list_release(&dl);
	}
	return NULL;
}

/* Regexes are shared: validation from many threads at once. */
static void test_threads(void **state)
{
	struct thread_job jobs[4];
	pthread_t th[4];
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		jobs[i].problems = 0;
		jobs[i].props = M("RepositoryName", S(i % 2 ? "Bad Name" : "good-name"),
				  "LifecyclePolicy",
				  M("RegistryId", S(i % 2 ? "12345" : "123456789012"), NULL),
				  NULL);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, validate_in_thread, &jobs[i]), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 4; i++)
		/* odd: name pattern, RegistryId pattern and minLength */
		assert_int_equal(jobs[i].problems, i % 2 ? 600 : 0);
}

/* ---- random trees: never a crash, every diag well-formed ---- */

static unsigned long rng_state = 12345;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((rng_state >> 33) % n);
}

static struct value *random_value(const struct snode *n, int depth)
{
	static const char *const strings[] = {
		"", "x", "10.0.0.0/16", "10.0.0.0/33", "true", "5", "-1", "1e999",
		"arn:aws:iam::aws:policy/A", "caf\xc3\xa9", "{\"a\":1}", "{", "DISABLED",
		"a\"b", "/ecs/x", "\xff\xfe", "line\nbreak",
	};
	static const char *const numbers[] = { "0", "1", "-1", "3.5", "65536", "1e3" };
	unsigned k = rnd(depth > 4 ? 4 : 7);
	struct value *v;
	size_t i, count;

	switch (k) {
	case 0:
		v = S(strings[rnd(sizeof(strings) / sizeof(strings[0]))]);
		break;
	case 1:
		v = N(numbers[rnd(sizeof(numbers) / sizeof(numbers[0]))]);
		break;
	case 2:
		v = rnd(2) ? B(rnd(2)) : value_new_null(A);
		break;
	case 3:
		v = U("u");
		break;
	case 4:
	case 5:
		v = value_new_map(A);
		count = rnd(6);
		for (i = 0; i < count; i++) {
			const struct snode *child = NULL;
			const char *key = "Junk";
			if (n && n->nprops && rnd(4)) {
				const struct sprop *p = &n->props[rnd((unsigned)n->nprops)];
				key = p->name;
				child = p->node;
			}
			value_map_set(A, v, key, random_value(child, depth + 1));
		}
		break;
	default:
		v = value_new_list(A);
		count = rnd(4);
		for (i = 0; i < count; i++)
			value_list_push(A, v, random_value(n ? n->items : NULL, depth + 1));
		break;
	}
	if (rnd(8) == 0)
		v->sensitive = 1;
	return at(v, 1 + rnd(100), 1 + rnd(80));
}

static void test_random_trees(void **state)
{
	size_t round, i, total = 0;

	(void)state;
	for (round = 0; round < 3000; round++) {
		const struct schema_type *t = schema_at(round % schema_count());
		struct value *props = value_new_map(A);
		size_t k, count = rnd(8);

		for (k = 0; k < count && t->root->nprops; k++) {
			const struct sprop *p = &t->root->props[rnd((unsigned)t->root->nprops)];
			value_map_set(A, props, p->name, random_value(p->node, 1));
		}
		diag_list_release(&DL);
		memset(&DL, 0, sizeof(DL));
		schema_validate(t, props, "Res", &DL);
		for (i = 0; i < DL.n; i++) {
			assert_non_null(DL.items[i].msg);
			assert_non_null(DL.items[i].path);
			assert_true(!strncmp(DL.items[i].path, "Properties", 10));
			assert_null(strchr(DL.items[i].msg, '\n'));
			assert_string_equal(DL.items[i].logical_id, "Res");
		}
		total += DL.n;
	}
	assert_true(total > 1000); /* the trees do exercise the checks */
}

/* ---- lookups ---- */

static void test_create_only(void **state)
{
	const struct schema_type *subnet = schema_find("AWS::EC2::Subnet");
	const struct schema_type *td = schema_find("AWS::ECS::TaskDefinition");
	const struct schema_type *vpce = schema_find("AWS::EC2::VPCEndpoint");
	const struct schema_type *vpc = schema_find("AWS::EC2::VPC");

	(void)state;
	assert_string_equal(schema_create_only(subnet, "CidrBlock"), "CidrBlock");
	assert_null(schema_create_only(subnet, "Tags"));
	assert_null(schema_create_only(subnet, "MapPublicIpOnLaunch"));
	/* through an ancestor, with '*' or an index */
	assert_string_equal(schema_create_only(td, "ContainerDefinitions/*/Image"),
			    "ContainerDefinitions");
	assert_string_equal(schema_create_only(td, "ContainerDefinitions/0/Image"),
			    "ContainerDefinitions");
	assert_null(schema_create_only(td, "Tags"));
	/* a nested entry matches itself and its descendants, not its parent */
	assert_string_equal(schema_create_only(vpce, "DnsOptions/PrivateDnsPreference"),
			    "DnsOptions/PrivateDnsPreference");
	assert_null(schema_create_only(vpce, "DnsOptions"));
	assert_null(schema_create_only(vpce, "DnsOptions/DnsRecordIpType"));
	/* whole steps only: CidrBlockAssociations is not under CidrBlock */
	assert_null(schema_create_only(vpc, "CidrBlockAssociations"));
	/* conditional ones are kept apart */
	assert_null(schema_create_only(vpc, "InstanceTenancy"));
	assert_string_equal(schema_conditional_create_only(vpc, "InstanceTenancy"),
			    "InstanceTenancy");
	assert_string_equal(schema_conditional_create_only(subnet, "Ipv6CidrBlock"),
			    "Ipv6CidrBlock");
	assert_null(schema_conditional_create_only(subnet, "CidrBlock"));
	assert_null(schema_create_only(vpc, ""));
	assert_null(schema_create_only(vpc, NULL));
}

static void test_write_read_only(void **state)
{
	const struct schema_type *secret = schema_find("AWS::SecretsManager::Secret");
	const struct schema_type *sg = schema_find("AWS::EC2::SecurityGroup");
	const struct schema_type *vpc = schema_find("AWS::EC2::VPC");

	(void)state;
	assert_string_equal(schema_write_only(secret, "SecretString"), "SecretString");
	assert_string_equal(schema_write_only(secret, "GenerateSecretString/PasswordLength"),
			    "GenerateSecretString");
	assert_null(schema_write_only(secret, "Name"));
	assert_string_equal(schema_write_only(sg, "SecurityGroupIngress/3/SourceSecurityGroupName"),
			    "SecurityGroupIngress/*/SourceSecurityGroupName");
	assert_null(schema_write_only(sg, "SecurityGroupIngress/3/CidrIp"));
	assert_null(schema_write_only(sg, "SecurityGroupIngress"));
	assert_string_equal(schema_read_only(vpc, "VpcId"), "VpcId");
	assert_string_equal(schema_read_only(vpc, "DefaultSecurityGroup"),
			    "DefaultSecurityGroup");
	assert_null(schema_read_only(vpc, "CidrBlock"));
}

static void test_unordered(void **state)
{
	(void)state;
	assert_true(schema_unordered(schema_find("AWS::EC2::VPC"), "Tags"));
	assert_false(schema_unordered(schema_find("AWS::EC2::Subnet"), "Tags"));
	assert_true(schema_unordered(schema_find("AWS::IAM::Role"), "ManagedPolicyArns"));
	assert_true(schema_unordered(schema_find("AWS::ECS::TaskDefinition"),
				     "ContainerDefinitions/0/Environment"));
	assert_true(schema_unordered(schema_find("AWS::ECS::TaskDefinition"),
				     "ContainerDefinitions/*/Environment"));
	assert_false(schema_unordered(schema_find("AWS::ECR::Repository"),
				      "ImageTagMutabilityExclusionFilters"));
	assert_false(schema_unordered(schema_find("AWS::IAM::Role"), "Nope/Deeper"));
}

static void test_identity_and_tags(void **state)
{
	const char *const *ids;
	size_t n;

	(void)state;
	ids = schema_primary_identifier(schema_find("AWS::EC2::Subnet"), &n);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "SubnetId");
	ids = schema_primary_identifier(schema_find("AWS::IAM::RolePolicy"), &n);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "PolicyName");
	assert_string_equal(ids[1], "RoleName");
	assert_true(schema_taggable(schema_find("AWS::EC2::VPC")));
	assert_true(schema_taggable(schema_find("AWS::ECS::TaskDefinition")));
	assert_false(schema_taggable(schema_find("AWS::IAM::ManagedPolicy")));
	assert_false(schema_taggable(schema_find("AWS::IAM::Policy")));
	assert_false(schema_taggable(schema_find("AWS::EC2::Route")));
	assert_true(schema_delete_before_create(schema_find("AWS::EC2::VPCGatewayAttachment")));
	assert_true(schema_delete_before_create(
		schema_find("AWS::EC2::SubnetRouteTableAssociation")));
	assert_false(schema_delete_before_create(schema_find("AWS::EC2::VPC")));
	assert_false(schema_delete_before_create(schema_find("AWS::ECS::Service")));
}

static void test_attributes(void **state)
{
	const struct schema_type *eip = schema_find("AWS::EC2::EIP");
	const struct schema_type *secret = schema_find("AWS::SecretsManager::Secret");
	const struct schema_type *svc = schema_find("AWS::ECS::Service");

	(void)state;
	assert_true(schema_has_attribute(eip, "PublicIp"));
	assert_true(schema_has_attribute(eip, "AllocationId"));
	assert_false(schema_has_attribute(eip, "Address")); /* write-only */
	assert_false(schema_has_attribute(eip, "Arn"));
	assert_false(schema_has_attribute(eip, NULL));
	assert_string_equal(schema_attributes(eip),
			    "AllocationId, Domain, InstanceId, NetworkBorderGroup, "
			    "PublicIp, PublicIpv4Pool, Tags");
	assert_true(schema_has_attribute(secret, "Id"));
	assert_false(schema_has_attribute(secret, "SecretString"));
	assert_true(schema_has_attribute(svc, "ServiceArn"));
	assert_true(schema_has_attribute(svc, "Name"));
	assert_true(schema_has_attribute(schema_find("AWS::EC2::VPC"), "CidrBlock"));
	assert_true(schema_has_attribute(schema_find("AWS::EC2::VPC"), "DefaultSecurityGroup"));
}

/* ---- schema_coerce: CloudFormation's conversion to the declared type ---- */

static const char *json_of(const struct value *v)
{
	struct strbuf sb = STRBUF_INIT;
	const char *out;

	value_to_json(v, &sb, 0);
	out = arena_strdup(A, sb.buf);
	strbuf_release(&sb);
	return out;
}

static void test_coerce_task_definition(void **state)
{
	const struct schema_type *td = schema_find("AWS::ECS::TaskDefinition");
	struct value *env_val = at(N("10"), 9, 20);
	struct value *props, *orig, *out;
	const char *before;

	(void)state;
	env_val->sensitive = 1;
	/* ContainerDefinitions[].Environment[].Value is a string (KeyValuePair,
	 * reached through two $refs); ContainerDefinition.Cpu an integer;
	 * Essential a boolean; the task's Cpu a string */
	props = M("Cpu", N("256"), "Memory", S("512"),
		  "ContainerDefinitions",
		  L(M("Name", S("app"), "Image", S("nginx"), "Cpu", S("256"),
		      "Essential", S("TRUE"), "Memory", S("+512"),
		      "Environment",
		      L(M("Name", S("AWS_MAX_ATTEMPTS"), "Value", env_val, NULL),
			M("Name", S("FLAG"), "Value", B(false), NULL), NULL),
		      "PortMappings", L(M("ContainerPort", S("80"), "HostPort",
					  N("8080.0"), NULL),
					M("ContainerPort", N("1e3"), NULL), NULL),
		      "DockerLabels", M("n", N("1.50"), NULL), NULL),
		    NULL),
		  NULL);
	orig = props;
	before = json_of(props);
	out = schema_coerce(td, A, props);
	assert_string_equal(
		json_of(out),
		"{\"Cpu\":\"256\",\"Memory\":\"512\",\"ContainerDefinitions\":"
		"[{\"Name\":\"app\",\"Image\":\"nginx\",\"Cpu\":256,"
		"\"Essential\":true,\"Memory\":512,\"Environment\":"
		"[{\"Name\":\"AWS_MAX_ATTEMPTS\",\"Value\":\"10\"},"
		"{\"Name\":\"FLAG\",\"Value\":\"false\"}],"
		"\"PortMappings\":[{\"ContainerPort\":80,\"HostPort\":8080},"
		"{\"ContainerPort\":1000}],"
		"\"DockerLabels\":{\"n\":\"1.50\"}}]}");
	/* the input is never changed (it may share nodes with the template) */
	assert_ptr_equal(out == orig, false);
	assert_string_equal(json_of(orig), before);
	/* marks and the sensitive bit follow the value */
	{
		const struct value *v = value_get_path(
			out, "ContainerDefinitions[0].Environment[0].Value");
		assert_int_equal(v->kind, VALUE_STRING);
		assert_int_equal(v->mark.line, 9);
		assert_int_equal(v->mark.col, 20);
		assert_true(v->sensitive);
	}
	/* the converted tree validates */
	expect_clean("AWS::ECS::TaskDefinition", out);
}

static void test_coerce_untouched(void **state)
{
	const struct schema_type *role = schema_find("AWS::IAM::Role");
	const struct schema_type *sg = schema_find("AWS::EC2::SecurityGroup");
	struct value *doc, *props, *out;

	(void)state;
	/* a policy document is Json (object or string, no properties): its
	 * "2012-10-17" and a numeric condition value stay as written */
	doc = M("Version", S("2012-10-17"),
		"Statement", L(M("Effect", S("Allow"), "Action", S("s3:*"),
				 "Resource", S("*"), "Condition",
				 M("NumericLessThan", M("s3:max-keys", N("10"), NULL),
				   NULL),
				 NULL),
			       NULL),
		NULL);
	props = M("AssumeRolePolicyDocument", doc, "MaxSessionDuration", S("3600"),
		  "Policies", L(M("PolicyName", N("7"), "PolicyDocument", doc, NULL),
				NULL),
		  NULL);
	out = schema_coerce(role, A, props);
	assert_ptr_equal(value_map_get(out, "AssumeRolePolicyDocument"), doc);
	assert_ptr_equal(value_get_path(out, "Policies[0].PolicyDocument"), doc);
	assert_string_equal(json_of(value_get_path(out, "Policies[0].PolicyName")),
			    "\"7\"");
	assert_string_equal(json_of(value_map_get(out, "MaxSessionDuration")), "3600");

	/* nothing to convert: the very same tree comes back */
	props = M("GroupDescription", S("d"),
		  "SecurityGroupIngress",
		  L(M("IpProtocol", S("tcp"), "FromPort", N("443"), "ToPort",
		      N("443"), "CidrIp", S("0.0.0.0/0"), NULL),
		    NULL),
		  NULL);
	assert_ptr_equal(schema_coerce(sg, A, props), props);
	/* ports given as text become numbers; IpProtocol -1 a string */
	props = M("GroupDescription", N("12"),
		  "SecurityGroupIngress",
		  L(M("IpProtocol", N("-1"), "FromPort", S("0"), "ToPort", S("65535"),
		      "CidrIp", S("0.0.0.0/0"), NULL),
		    NULL),
		  NULL);
	assert_string_equal(
		json_of(schema_coerce(sg, A, props)),
		"{\"GroupDescription\":\"12\",\"SecurityGroupIngress\":"
		"[{\"IpProtocol\":\"-1\",\"FromPort\":0,\"ToPort\":65535,"
		"\"CidrIp\":\"0.0.0.0/0\"}]}");
	/* NULL, a non-map and unknowns pass through */
	assert_null(schema_coerce(sg, A, NULL));
	out = U("X.Arn");
	assert_ptr_equal(schema_coerce(sg, A, out), out);
	props = M("GroupDescription", U("X.Name"), NULL);
	assert_ptr_equal(schema_coerce(sg, A, props), props);
}

static void test_coerce_impossible(void **state)
{
	const struct schema_type *td = schema_find("AWS::ECS::TaskDefinition");
	struct value *props, *out;
	const struct diag *d;

	(void)state;
	/* "abc" cannot be an integer, 1.5 is not one, "yes" is not a boolean:
	 * left as they are for validation to report at their marks */
	props = M("ContainerDefinitions",
		  L(M("Name", S("a"), "Image", S("i"), "Cpu", at(S("abc"), 7, 16),
		      NULL),
		    NULL),
		  NULL);
	out = schema_coerce(td, A, props);
	assert_ptr_equal(out, props);
	d = expect_one("AWS::ECS::TaskDefinition", out,
		       "Properties.ContainerDefinitions[0].Cpu",
		       "expected integer, got string \"abc\"");
	assert_mark(d, 7, 16);
	props = M("ContainerDefinitions",
		  L(M("Name", S("a"), "Image", S("i"), "Cpu", S("1.5"),
		      "Essential", S("yes"), NULL),
		    NULL),
		  NULL);
	assert_ptr_equal(schema_coerce(td, A, props), props);
}

static void test_coerce_task_sizes(void **state)
{
	const struct schema_type *td = schema_find("AWS::ECS::TaskDefinition");
	struct value *props;

	(void)state;
	/* ECS stores "1 vCPU" as 1024 CPU units and "0.5 GB" as 512 MiB */
	props = M("Cpu", S("1 vCPU"), "Memory", S("0.5gb"), NULL);
	assert_string_equal(json_of(schema_coerce(td, A, props)),
			    "{\"Cpu\":\"1024\",\"Memory\":\"512\"}");
	props = M("Cpu", S(".25 vcpu"), "Memory", S("2 GB"), NULL);
	assert_string_equal(json_of(schema_coerce(td, A, props)),
			    "{\"Cpu\":\"256\",\"Memory\":\"2048\"}");
	/* plain numbers, unknown units and other types are left alone */
	props = M("Cpu", S("256"), "Memory", S("1 TB"), NULL);
	assert_ptr_equal(schema_coerce(td, A, props), props);
	assert_string_equal(json_of(schema_coerce(schema_find("AWS::ECS::Cluster"), A,
						  M("ClusterName", S("1gb"), NULL))),
			    "{\"ClusterName\":\"1gb\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lazy_init_threads),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_all_patterns_supported),
		cmocka_unit_test(test_parse_unembedded),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_shipped_schema_patterns_compile),
		cmocka_unit_test(test_regex_schema_patterns),
		cmocka_unit_test(test_regex_ecma_features),
		cmocka_unit_test(test_regex_invalid),
		cmocka_unit_test_setup_teardown(test_valid_vpc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_property, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coercion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_satisfies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pattern_and_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unique_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_required_xor_or, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dependent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_of, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pattern_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sensitive_not_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_warnings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_custom_keywords, setup, teardown),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test_setup_teardown(test_suggestions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_number_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_trees, setup, teardown),
		cmocka_unit_test(test_create_only),
		cmocka_unit_test(test_write_read_only),
		cmocka_unit_test(test_unordered),
		cmocka_unit_test(test_identity_and_tags),
		cmocka_unit_test(test_attributes),
		cmocka_unit_test_setup_teardown(test_coerce_task_definition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coerce_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coerce_impossible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coerce_task_sizes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
