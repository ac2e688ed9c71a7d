/*
 * Unit tests of refresh.c: batching, the statuses, the drift rules
 * (unrecorded properties, write-only ones, cairn:* tags, secrets), writing
 * back to the state and the plan's snapshot. The "AWS" is a table of fake
 * resources behind fake providers defined here (provider_find), with call
 * counters; every expected value is written out by hand.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/batchread.h"
#include "cairn/provider.h"
#include "cairn/refresh.h"
#include "cairn/schema.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"

/* ------------------------------------------------------- the fake AWS */

struct fake {
	const char *id;
	const char *props; /* JSON */
};

static const struct fake WORLD[] = {
	{ "lg-a", "{\"LogGroupName\":\"lg-a\",\"RetentionInDays\":7,"
		  "\"Tags\":[{\"Key\":\"cairn:stack\",\"Value\":\"s\"},"
		  "{\"Key\":\"team\",\"Value\":\"b\"}]}" },
	{ "lg-b", "{\"LogGroupName\":\"lg-b\",\"RetentionInDays\":30,"
		  "\"KmsKeyId\":\"k-default\"}" },
	/* lg-c: deleted behind cairn's back */
	{ "lg-d", "{\"LogGroupName\":\"lg-d\",\"Tags\":["
		  "{\"Key\":\"aws:cloudformation:x\",\"Value\":\"1\"},"
		  "{\"Key\":\"cairn:logical-id\",\"Value\":\"D\"},"
		  "{\"Key\":\"team\",\"Value\":\"a\"}]}" },
	{ "lg-e", "{\"LogGroupName\":\"lg-e\",\"RetentionInDays\":\"14\"}" },
	{ "lg-s", "{\"LogGroupName\":\"lg-s\",\"KmsKeyId\":\"key-live\"}" },
	{ "vpc-1", "{\"CidrBlock\":\"10.0.0.0/16\",\"EnableDnsSupport\":true}" },
	/* vpc-2: gone */
	{ "sec-1", "{\"Name\":\"sec-1\",\"Description\":\"d\"}" },
	/* relationships: h-1's items are its own, a sibling's, AWS's and a
	 * stray one; h-2 records none and has a stray one; h-3 records one
	 * that was removed */
	{ "h-1", "{\"Items\":[{\"Name\":\"own\"},{\"Name\":\"sib\"},"
		 "{\"Name\":\"aws\"},{\"Name\":\"stray\",\"Extra\":1}]}" },
	{ "h-2", "{\"Items\":[{\"Name\":\"sib2\"},{\"Name\":\"stray2\"}]}" },
	{ "h-3", "{}" },
	{ "c-1", "{\"Holder\":\"h-1\",\"Name\":\"sib\"}" },
	{ "c-2", "{\"Holder\":[\"h-2\"],\"Name\":\"sib2\"}" },
	{ "c-3", "{\"Holder\":\"h-9\",\"Name\":\"stray\"}" },
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int n_read, n_read_many;
static size_t max_batch_seen;

static const struct fake *lookup(const char *id)
{
	size_t i;

	for (i = 0; i < sizeof(WORLD) / sizeof(WORLD[0]); i++)
		if (!strcmp(WORLD[i].id, id))
			return &WORLD[i];
	return NULL;
}

static void fill(struct provider_ctx *ctx, const struct fake *f,
		 struct provider_result *out)
{
	struct err e = ERR_INIT;

	out->physical_id = arena_strdup(ctx->arena, f->id);
	out->props = value_from_json(ctx->arena, f->props, strlen(f->props), 0,
				     &e);
	assert_non_null(out->props);
	out->attrs = value_new_map(ctx->arena);
	value_map_set(ctx->arena, out->attrs, "Arn",
		      value_new_string(ctx->arena,
				       arena_sprintf(ctx->arena, "arn:%s", f->id)));
}

static int fake_read(struct provider_ctx *ctx, const char *id,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	const struct fake *f = lookup(id);

	(void)attrs;
	pthread_mutex_lock(&mu);
	n_read++;
	pthread_mutex_unlock(&mu);
	if (!f)
		return err_set(err, ERR_NOT_FOUND, "%s does not exist", id);
	fill(ctx, f, out);
	return 0;
}

/* like CloudWatch Logs: missing ids are simply not in the answer */
static int fake_read_many(struct provider_ctx *ctx, size_t n,
			  const char *const *ids, struct provider_result *outs,
			  struct err *err)
{
	size_t i;

	(void)err;
	pthread_mutex_lock(&mu);
	n_read_many++;
	if (n > max_batch_seen)
		max_batch_seen = n;
	pthread_mutex_unlock(&mu);
	for (i = 0; i < n; i++) {
		const struct fake *f = lookup(ids[i]);
		memset(&outs[i], 0, sizeof(outs[i]));
		if (f)
			fill(ctx, f, &outs[i]);
	}
	return 0;
}

/* like EC2: one missing id fails the whole call */
static int fake_ec2_read_many(struct provider_ctx *ctx, size_t n,
			      const char *const *ids,
			      struct provider_result *outs, struct err *err)
{
	size_t i;

	pthread_mutex_lock(&mu);
	n_read_many++;
	pthread_mutex_unlock(&mu);
	for (i = 0; i < n; i++)
		if (!lookup(ids[i]))
			return err_set(err, ERR_NOT_FOUND,
				       "InvalidVpcID.NotFound: %s", ids[i]);
	for (i = 0; i < n; i++)
		fill(ctx, lookup(ids[i]), &outs[i]);
	return 0;
}

static int fake_denied(struct provider_ctx *ctx, const char *id,
		       const struct value *attrs, struct provider_result *out,
		       struct err *err)
{
	(void)ctx; (void)id; (void)attrs; (void)out;
	pthread_mutex_lock(&mu);
	n_read++;
	pthread_mutex_unlock(&mu);
	err_set(err, ERR_ACCESS_DENIED, "iam:GetRole: AccessDenied");
	snprintf(err->aws_code, sizeof(err->aws_code), "AccessDenied");
	return -1;
}

/* a whole batch refused (throttled past the retries, access denied) */
static int fake_denied_many(struct provider_ctx *ctx, size_t n,
			    const char *const *ids, struct provider_result *outs,
			    struct err *err)
{
	(void)ctx; (void)n; (void)ids; (void)outs;
	pthread_mutex_lock(&mu);
	n_read_many++;
	pthread_mutex_unlock(&mu);
	err_set(err, ERR_THROTTLED, "ecs:DescribeServices: ThrottlingException");
	snprintf(err->request_id, sizeof(err->request_id), "req-123");
	return -1;
}

/* not visible for its first two reads (a new id, eventual consistency) */
static int slow_reads;

static int fake_slow(struct provider_ctx *ctx, const char *id,
		     const struct value *attrs, struct provider_result *out,
		     struct err *err)
{
	int n;

	pthread_mutex_lock(&mu);
	n = ++slow_reads;
	pthread_mutex_unlock(&mu);
	if (n <= 2)
		return err_set(err, ERR_NOT_FOUND, "%s does not exist", id);
	return fake_read(ctx, "lg-b", attrs, out, err);
}

static const struct provider PROVS[] = {
	{ .type = "Test::Slow", .read = fake_slow },
	{ .type = "AWS::ECS::Service", .read = fake_read,
	  .read_many = fake_denied_many },
	{ .type = "AWS::Logs::LogGroup", .read = fake_read,
	  .read_many = fake_read_many },
	{ .type = "AWS::EC2::VPC", .read = fake_read,
	  .read_many = fake_ec2_read_many },
	{ .type = "AWS::SecretsManager::Secret", .read = fake_read },
	{ .type = "AWS::IAM::Role", .read = fake_denied },
	{ .type = "Test::Holder", .read = fake_read },
	{ .type = "Test::Claimer", .read = fake_read },
};

/* The shared listings (batchread.h) live with the real providers: none
 * here, every fake read is a point read or its own read_many. */
bool batchread_begin(struct aws_client *aws, const char *stack,
		     const char *const *types, size_t n)
{
	(void)aws;
	(void)stack;
	(void)types;
	(void)n;
	return false;
}

void batchread_end(void)
{
}

const struct provider *provider_find(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof(PROVS) / sizeof(PROVS[0]); i++)
		if (!strcmp(PROVS[i].type, type))
			return &PROVS[i];
	return NULL;
}

/* One relationship among the fake types (the real table is in
 * src/providers/relations.c, exercised by tests/acceptance): a holder's
 * Items, named by Name, which a claimer whose Holder names the holder
 * declares from its side; the item "aws" is AWS's own. */
static const char *item_name(struct arena *a, const struct value *item)
{
	(void)a;
	return value_str(value_map_get(item, "Name"));
}

static const char *claimed_name(struct arena *a, const char *physical_id,
				const struct value *props)
{
	(void)a;
	(void)physical_id;
	return value_str(value_map_get(props, "Name"));
}

static bool aws_item(const struct value *recorded, const struct value *item)
{
	const char *n = value_str(value_map_get(item, "Name"));

	(void)recorded;
	return n && !strcmp(n, "aws");
}

static const struct provider_claim CLAIMS[] = {
	{ "Test::Claimer", "Holder", claimed_name },
	{ NULL, NULL, NULL },
};

static const struct provider_relation RELS[] = {
	{ "Items", false, item_name, aws_item, CLAIMS, NULL },
};

const struct provider_relation *provider_relations(const char *type, size_t *n)
{
	if (type && !strcmp(type, "Test::Holder")) {
		*n = 1;
		return RELS;
	}
	*n = 0;
	return NULL;
}

const struct provider_versioned *provider_versioned(const char *type)
{
	(void)type;
	return NULL;
}

/* ------------------------------------------------------------ the state */

static char state_file[64];
static struct state *ST;
static struct arena *A;

static struct value *J(const char *json)
{
	struct err e = ERR_INIT;
	struct value *v = value_from_json(A, json, strlen(json), 0, &e);

	assert_non_null(v);
	return v;
}

static void put(const char *lid, const char *type, const char *phys,
		struct value *props)
{
	struct state_resource r;
	struct err e = ERR_INIT;

	memset(&r, 0, sizeof(r));
	r.logical_id = lid;
	r.type = type;
	r.physical_id = phys;
	r.properties = props;
	r.attributes = J("{\"cairn:DeletionPolicy\":\"Retain\"}");
	r.status = STATE_CREATED;
	assert_int_equal(state_resource_put(ST, &r, &e), 0);
}

static struct value *secret(const char *s)
{
	struct value *v = value_new_string(A, s);
	v->sensitive = 1;
	return v;
}

static int setup(void **unused)
{
	struct err e = ERR_INIT;
	struct state_stack ss;
	struct value *p;
	int fd;

	(void)unused;
	A = arena_new();
	snprintf(state_file, sizeof(state_file), "/tmp/cairn-test-refresh-XXXXXX");
	fd = mkstemp(state_file);
	assert_true(fd >= 0);
	close(fd);
	unlink(state_file);
	ST = state_open(state_file, STATE_OPEN_CREATE | STATE_OPEN_SYNC_NORMAL, &e);
	assert_non_null(ST);
	memset(&ss, 0, sizeof(ss));
	ss.name = "s";
	ss.region = "us-east-1";
	ss.account = "123456789012";
	assert_int_equal(state_stack_put(ST, &ss, &e), 0);

	put("A", "AWS::Logs::LogGroup", "lg-a",
	    J("{\"LogGroupName\":\"lg-a\",\"RetentionInDays\":30,"
	      "\"Tags\":[{\"Key\":\"team\",\"Value\":\"a\"}]}"));
	put("B", "AWS::Logs::LogGroup", "lg-b",
	    J("{\"LogGroupName\":\"lg-b\",\"RetentionInDays\":30}"));
	put("C", "AWS::Logs::LogGroup", "lg-c", J("{\"LogGroupName\":\"lg-c\"}"));
	put("D", "AWS::Logs::LogGroup", "lg-d",
	    J("{\"LogGroupName\":\"lg-d\",\"Tags\":[{\"Key\":\"team\",\"Value\":\"a\"}]}"));
	/* "14" live equals 14 recorded: CloudFormation's coercion */
	put("E", "AWS::Logs::LogGroup", "lg-e",
	    J("{\"LogGroupName\":\"lg-e\",\"RetentionInDays\":14}"));
	/* a secret in a property AWS does return: compared by fingerprint */
	p = J("{\"LogGroupName\":\"lg-s\"}");
	value_map_set(A, p, "KmsKeyId", secret("key-recorded"));
	put("S", "AWS::Logs::LogGroup", "lg-s", p);
	put("V1", "AWS::EC2::VPC", "vpc-1", J("{\"CidrBlock\":\"10.0.0.0/16\"}"));
	put("V2", "AWS::EC2::VPC", "vpc-2", J("{\"CidrBlock\":\"10.1.0.0/16\"}"));
	/* SecretString is write-only: AWS never returns it */
	p = J("{\"Name\":\"sec-1\",\"Description\":\"d\"}");
	value_map_set(A, p, "SecretString", secret("hunter2-plaintext"));
	put("Sec", "AWS::SecretsManager::Secret", "sec-1", p);
	put("Role", "AWS::IAM::Role", "role-1", J("{\"RoleName\":\"role-1\"}"));
	put("NoId", "AWS::Logs::LogGroup", NULL, J("{}"));
	put("Bucket", "AWS::S3::Bucket", "bkt", J("{}"));
	n_read = n_read_many = 0;
	max_batch_seen = 0;
	return 0;
}

static void remove_state(void)
{
	struct strbuf sb = STRBUF_INIT;

	unlink(state_file);
	strbuf_addf(&sb, "%s-wal", state_file);
	unlink(sb.buf);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s-shm", state_file);
	unlink(sb.buf);
	strbuf_release(&sb);
}

static int teardown(void **unused)
{
	(void)unused;
	state_close(ST);
	ST = NULL;
	remove_state();
	arena_free(A);
	A = NULL;
	return 0;
}

static const struct refresh_item *item(const struct refresh_result *r,
				       const char *lid)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->items[i].logical_id, lid))
			return &r->items[i];
	fail_msg("no item %s", lid);
	return NULL;
}

static double fresh_seconds = -1; /* the tests' records are all fresh */

static void do_read(struct refresh_result *res, size_t batch_max)
{
	struct refresh_opts o;
	struct err e = ERR_INIT;

	memset(&o, 0, sizeof(o));
	o.fresh_seconds = fresh_seconds;
	o.stack = "s";
	o.region = "us-east-1";
	o.account = "123456789012";
	o.parallelism = 3;
	o.batch_max = batch_max;
	assert_int_equal(refresh_read(A, ST, NULL, &o, res, &e), 0);
}

/* ---------------------------------------------------------------- tests */

/* The records of the relationship test, in a state of their own. */
static void put_owned(void)
{
	struct err e = ERR_INIT;
	struct state_resource *recs;
	size_t n, i;

	assert_int_equal(state_resource_list(ST, A, &recs, &n, &e), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(state_resource_delete(ST, recs[i].logical_id, &e), 0);
	put("H1", "Test::Holder", "h-1", J("{\"Items\":[{\"Name\":\"own\"}]}"));
	put("H2", "Test::Holder", "h-2", J("{}"));
	put("H3", "Test::Holder", "h-3", J("{\"Items\":[{\"Name\":\"gone\"}]}"));
	put("C1", "Test::Claimer", "c-1", J("{\"Holder\":\"h-1\",\"Name\":\"sib\"}"));
	put("C2", "Test::Claimer", "c-2", J("{\"Holder\":[\"h-2\"],\"Name\":\"sib2\"}"));
	/* names another holder: its item on h-1 is nobody's */
	put("C3", "Test::Claimer", "c-3", J("{\"Holder\":\"h-9\",\"Name\":\"stray\"}"));
}

/* A resource recorded moments ago and not visible yet is read again
 * until it is; one still gone when its record is fresh_seconds old is
 * gone. */
static void test_fresh_not_visible_yet(void **unused)
{
	struct err e = ERR_INIT;
	struct state_resource *recs;
	struct refresh_result res;
	size_t n, i;

	(void)unused;
	assert_int_equal(state_resource_list(ST, A, &recs, &n, &e), 0);
	for (i = 0; i < n; i++)
		if (strcmp(recs[i].logical_id, "C"))
			assert_int_equal(state_resource_delete(ST, recs[i].logical_id,
							       &e), 0);
	put("New", "Test::Slow", "lg-b", J("{\"LogGroupName\":\"lg-b\"}"));
	slow_reads = 0;
	fresh_seconds = 1.0;
	do_read(&res, 0);
	fresh_seconds = -1;
	assert_int_equal(item(&res, "New")->status, REFRESH_UNCHANGED);
	assert_int_equal(slow_reads, 3);
	/* lg-c really is gone: read again until its record was 1 s old */
	assert_int_equal(item(&res, "C")->status, REFRESH_GONE);
	assert_true(res.seconds >= 0.5);
}

static void test_relationship_owners(void **unused)
{
	struct refresh_result res;
	const struct refresh_item *h1, *h2, *h3;
	const struct value *items;

	(void)unused;
	put_owned();
	do_read(&res, 0);

	/* h-1: its own item, a claimer's, AWS's: only the stray one moved,
	 * shown whole (not cut to the shape of "own") */
	h1 = item(&res, "H1");
	assert_int_equal(h1->status, REFRESH_DRIFTED);
	assert_int_equal(h1->changes.n, 1);
	assert_int_equal(h1->changes.items[0].kind, PLAN_CHANGE_ADD);
	assert_null(h1->changes.items[0].before);
	assert_string_equal(value_str(value_map_get(h1->changes.items[0].after,
						    "Name")), "stray");
	assert_non_null(value_map_get(h1->changes.items[0].after, "Extra"));
	/* recorded after a refresh: own and stray, not sib nor aws */
	items = value_map_get(h1->new_props, "Items");
	assert_non_null(items);
	assert_int_equal(items->u.list.n, 2);

	/* h-2 records no Items: the claimed one is not drift, the stray one
	 * is, compared as if an empty list were recorded */
	h2 = item(&res, "H2");
	assert_int_equal(h2->status, REFRESH_DRIFTED);
	assert_int_equal(h2->changes.n, 1);
	assert_string_equal(h2->changes.items[0].path, "Items[0]");
	assert_string_equal(value_str(value_map_get(h2->changes.items[0].after,
						    "Name")), "stray2");
	items = value_map_get(h2->new_props, "Items");
	assert_int_equal(items->u.list.n, 1);

	/* h-3's recorded item is gone: recorded as an empty list, not as
	 * an absent property */
	h3 = item(&res, "H3");
	assert_int_equal(h3->status, REFRESH_DRIFTED);
	assert_int_equal(h3->changes.items[0].kind, PLAN_CHANGE_REMOVE);
	items = value_map_get(h3->new_props, "Items");
	assert_non_null(items);
	assert_int_equal(items->kind, VALUE_LIST);
	assert_int_equal(items->u.list.n, 0);

	assert_int_equal(item(&res, "C1")->status, REFRESH_UNCHANGED);
}

static void test_statuses_and_batches(void **unused)
{
	struct refresh_result res;
	const struct refresh_item *it;

	(void)unused;
	do_read(&res, 2);
	assert_int_equal(res.n, 12);
	/* log groups A B C D E S (NoId is skipped): batches [A B] [C D]
	 * [E S]; VPCs: one batch that fails on vpc-2, then one read each */
	assert_int_equal(res.batches, 4);
	assert_int_equal(n_read_many, 4);
	assert_int_equal(max_batch_seen, 2);
	/* singles: Sec, Role; plus the VPC fallback's two reads */
	assert_int_equal(res.singles, 2);
	assert_int_equal(n_read, 4);

	assert_int_equal(item(&res, "A")->status, REFRESH_DRIFTED);
	assert_int_equal(item(&res, "B")->status, REFRESH_UNCHANGED);
	assert_int_equal(item(&res, "C")->status, REFRESH_GONE);
	assert_int_equal(item(&res, "D")->status, REFRESH_UNCHANGED);
	assert_int_equal(item(&res, "E")->status, REFRESH_UNCHANGED);
	assert_int_equal(item(&res, "S")->status, REFRESH_DRIFTED);
	assert_int_equal(item(&res, "V1")->status, REFRESH_UNCHANGED);
	assert_int_equal(item(&res, "V2")->status, REFRESH_GONE);
	assert_int_equal(item(&res, "Sec")->status, REFRESH_UNCHANGED);
	assert_int_equal(item(&res, "Role")->status, REFRESH_FAILED);
	assert_int_equal(item(&res, "NoId")->status, REFRESH_SKIPPED);
	assert_int_equal(item(&res, "Bucket")->status, REFRESH_SKIPPED);
	assert_int_equal(res.unchanged, 5);
	assert_int_equal(res.drifted, 2);
	assert_int_equal(res.gone, 2);
	assert_int_equal(res.failed, 1);
	assert_int_equal(res.skipped, 2);

	it = item(&res, "Role");
	assert_int_equal(it->err->code, ERR_ACCESS_DENIED);
	assert_string_equal(it->err->aws_code, "AccessDenied");
	assert_non_null(strstr(it->err->msg, "Role"));
	assert_non_null(strstr(it->err->msg, "AccessDenied"));
}

static void test_drift_paths(void **unused)
{
	struct refresh_result res;
	const struct refresh_item *it;
	size_t i;
	bool retention = false, tag = false;

	(void)unused;
	do_read(&res, 0);
	/* one batch per type when the API's maximum allows */
	assert_int_equal(res.batches, 2);
	it = item(&res, "A");
	assert_int_equal(it->changes.n, 2);
	for (i = 0; i < it->changes.n; i++) {
		const struct plan_change *c = &it->changes.items[i];
		if (!strcmp(c->path, "RetentionInDays")) {
			retention = true;
			assert_int_equal(c->kind, PLAN_CHANGE_UPDATE);
			assert_int_equal(c->before->kind, VALUE_NUMBER);
			assert_true(c->before->u.num.d == 30);
			assert_true(c->after->u.num.d == 7);
		} else {
			/* the cairn:stack tag is not drift; team a -> b is */
			assert_non_null(strstr(c->path, "Tags"));
			assert_non_null(strstr(c->path, "Value"));
			tag = true;
		}
		assert_false(c->sensitive);
	}
	assert_true(retention && tag);
	/* a secret compared by fingerprint, shown as sensitive */
	it = item(&res, "S");
	assert_int_equal(it->changes.n, 1);
	assert_string_equal(it->changes.items[0].path, "KmsKeyId");
	assert_true(it->changes.items[0].sensitive);
}

static void test_write_back(void **unused)
{
	struct refresh_result res;
	struct state_resource r;
	struct state_journal_entry *j;
	struct err e = ERR_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t nj, i;
	int64_t serial;
	bool gone_c = false;
	char *fp_before;

	(void)unused;
	assert_int_equal(state_resource_get(ST, "Sec", A, &r, &e), 1);
	fp_before = strdup(value_str(value_map_get(r.properties, "SecretString")));

	do_read(&res, 0);
	/* A, S updated; C, V2 removed; the rest unchanged: not rewritten
	 * (the attribute Arn is new for them though: recorded too) */
	assert_true(refresh_write(ST, &res, &e) >= 4);

	assert_int_equal(state_resource_get(ST, "A", A, &r, &e), 1);
	value_to_json(r.properties, &sb, VALUE_JSON_SORT_KEYS);
	assert_string_equal(sb.buf, "{\"LogGroupName\":\"lg-a\",\"RetentionInDays\":7,"
				    "\"Tags\":[{\"Key\":\"team\",\"Value\":\"b\"}]}");
	assert_string_equal(value_str(value_map_get(r.attributes, "Arn")), "arn:lg-a");
	assert_string_equal(value_str(value_map_get(r.attributes, "cairn:DeletionPolicy")),
			    "Retain");
	assert_int_equal(state_resource_get(ST, "C", A, &r, &e), 0);
	assert_int_equal(state_resource_get(ST, "V2", A, &r, &e), 0);
	assert_int_equal(state_resource_get(ST, "Role", A, &r, &e), 1);
	assert_int_equal(state_resource_get(ST, "Bucket", A, &r, &e), 1);

	/* the write-only secret kept, as the same fingerprint */
	assert_int_equal(state_resource_get(ST, "Sec", A, &r, &e), 1);
	assert_true(state_value_is_secret(value_map_get(r.properties, "SecretString")));
	assert_string_equal(value_str(value_map_get(r.properties, "SecretString")),
			    fp_before);
	free(fp_before);
	/* the live value replacing a secret is stored as a fingerprint */
	assert_int_equal(state_resource_get(ST, "S", A, &r, &e), 1);
	assert_true(state_value_is_secret(value_map_get(r.properties, "KmsKeyId")));
	strbuf_reset(&sb);
	assert_int_equal(strbuf_read_file(&sb, state_file, 1u << 24), 0);
	for (i = 0; i + 8 <= sb.len; i++)
		assert_false(!memcmp(sb.buf + i, "key-live", 8));
	for (i = 0; i + 7 <= sb.len; i++)
		assert_false(!memcmp(sb.buf + i, "hunter2", 7));

	assert_int_equal(state_journal_list(ST, "C", 0, A, &j, &nj, &e), 0);
	for (i = 0; i < nj; i++)
		if (j[i].action && !strcmp(j[i].action, "refresh") &&
		    j[i].message && strstr(j[i].message, "gone"))
			gone_c = true;
	assert_true(gone_c);

	/* a second refresh finds nothing to record */
	serial = state_serial(ST, &e);
	do_read(&res, 0);
	assert_int_equal(res.drifted, 0);
	assert_int_equal(res.gone, 0);
	assert_int_equal(refresh_write(ST, &res, &e), 0);
	assert_int_equal(state_serial(ST, &e), serial);
	strbuf_release(&sb);
}

static void test_snapshot(void **unused)
{
	struct refresh_result res;
	struct state_resource r;
	struct state *snap;
	struct err e = ERR_INIT;
	char *path;
	int64_t serial;

	(void)unused;
	serial = state_serial(ST, &e);
	snap = refresh_snapshot(ST, &path, &e);
	assert_non_null(snap);
	assert_int_equal(access(path, F_OK), 0);
	do_read(&res, 0);
	assert_true(refresh_write(snap, &res, &e) > 0);
	/* the snapshot moved, the real state did not */
	assert_int_equal(state_resource_get(snap, "C", A, &r, &e), 0);
	assert_int_equal(state_resource_get(ST, "C", A, &r, &e), 1);
	assert_int_equal(state_serial(ST, &e), serial);
	/* same secret key: the snapshot matches the original's secrets */
	assert_int_equal(state_resource_get(snap, "Sec", A, &r, &e), 1);
	{
		struct value *v = value_new_string(A, "hunter2-plaintext");
		v->sensitive = 1;
		assert_true(state_value_equal(snap, v,
					      value_map_get(r.properties, "SecretString")));
	}
	state_close(snap);
	{
		char *copy = strdup(path);
		refresh_snapshot_remove(path);
		assert_int_equal(access(copy, F_OK), -1);
		free(copy);
	}
}

/* AWS's defaults inside recorded values are not drift; a rule added by
 * hand is */
static void test_projection(void **unused)
{
	const struct schema_type *sg = schema_find("AWS::EC2::SecurityGroup");
	struct value *rec, *live, *proj;
	struct plan_changes ch;
	struct strbuf sb = STRBUF_INIT;

	(void)unused;
	A = arena_new();
	assert_non_null(sg);
	rec = J("{\"GroupDescription\":\"g\",\"SecurityGroupIngress\":"
		"[{\"IpProtocol\":\"-1\",\"CidrIp\":\"10.0.0.0/16\"}]}");
	live = J("{\"GroupDescription\":\"g\",\"GroupName\":\"sg-gen\","
		 "\"SecurityGroupIngress\":[{\"IpProtocol\":\"-1\","
		 "\"CidrIp\":\"10.0.0.0/16\",\"FromPort\":-1,\"ToPort\":-1}]}");
	proj = refresh_project(A, live, rec);
	value_to_json(proj, &sb, VALUE_JSON_SORT_KEYS);
	assert_string_equal(sb.buf, "{\"GroupDescription\":\"g\",\"SecurityGroupIngress\":"
				    "[{\"CidrIp\":\"10.0.0.0/16\",\"IpProtocol\":\"-1\"}]}");
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(refresh_diff(A, NULL, sg, rec, proj, &ch), 0);

	live = J("{\"GroupDescription\":\"g\",\"SecurityGroupIngress\":["
		 "{\"IpProtocol\":\"-1\",\"CidrIp\":\"10.0.0.0/16\",\"FromPort\":-1},"
		 "{\"IpProtocol\":\"tcp\",\"CidrIp\":\"0.0.0.0/0\",\"FromPort\":22}]}");
	proj = refresh_project(A, live, rec);
	memset(&ch, 0, sizeof(ch));
	assert_true(refresh_diff(A, NULL, sg, rec, proj, &ch) >= 1);
	assert_int_equal(ch.items[0].kind, PLAN_CHANGE_ADD);
	assert_non_null(strstr(ch.items[0].path, "SecurityGroupIngress"));

	/* JSON held in a string: AWS's spacing is not drift, a change is */
	rec = J("{\"P\":\"{\\n  \\\"rules\\\": [ {\\\"n\\\": 2} ]\\n}\\n\"}");
	live = J("{\"P\":\"{\\\"rules\\\":[{\\\"n\\\":2}]}\"}");
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(refresh_diff(A, NULL, NULL, rec, refresh_project(A, live, rec), &ch), 0);
	live = J("{\"P\":\"{\\\"rules\\\":[{\\\"n\\\":3}]}\"}");
	assert_int_equal(refresh_diff(A, NULL, NULL, rec, refresh_project(A, live, rec), &ch), 1);
	assert_string_equal(ch.items[0].path, "P");

	/* a rule deleted by hand */
	rec = J("{\"GroupDescription\":\"g\",\"SecurityGroupIngress\":"
		"[{\"IpProtocol\":\"-1\",\"CidrIp\":\"10.0.0.0/16\"}]}");
	live = J("{\"GroupDescription\":\"g\",\"SecurityGroupIngress\":[]}");
	memset(&ch, 0, sizeof(ch));
	assert_true(refresh_diff(A, NULL, sg, rec, refresh_project(A, live, rec), &ch) >= 1);
	assert_int_equal(ch.items[0].kind, PLAN_CHANGE_REMOVE);
	strbuf_release(&sb);
	arena_free(A);
	A = NULL;
}

/* a failed batch fails each of its resources with the call's error, and
 * only them; ECS takes 10 ids a call */
static void test_failed_batch(void **unused)
{
	struct refresh_result res;
	char lid[16], phys[16];
	size_t i;

	(void)unused;
	for (i = 0; i < 12; i++) {
		snprintf(lid, sizeof(lid), "Svc%02zu", i);
		snprintf(phys, sizeof(phys), "svc-%02zu", i);
		put(arena_strdup(A, lid), "AWS::ECS::Service", arena_strdup(A, phys),
		    J("{}"));
	}
	do_read(&res, 0);
	assert_int_equal(res.failed, 13); /* 12 services and the role */
	for (i = 0; i < res.n; i++) {
		const struct refresh_item *it = &res.items[i];
		if (strcmp(it->type, "AWS::ECS::Service"))
			continue;
		assert_int_equal(it->status, REFRESH_FAILED);
		assert_int_equal(it->err->code, ERR_THROTTLED);
		assert_string_equal(it->err->request_id, "req-123");
		assert_non_null(strstr(it->err->msg, it->logical_id));
	}
	/* two ECS batches (10 + 2) next to the log groups' and VPCs' */
	assert_int_equal(res.batches, 4);
	assert_int_equal(res.drifted, 2);
}

/*
 * One worker, one id a batch: more ended batches than the one the worker
 * may leave undiffed, so it waits for the calling thread each time; the
 * result is the same as with three workers. An unchanged resource's
 * result is its record's own values (nothing copied per resource), and
 * every record comes back decoded.
 */
static void test_one_worker_bounded_backlog(void **unused)
{
	struct refresh_opts o;
	struct refresh_result one, three;
	struct err e = ERR_INIT;
	size_t i;

	(void)unused;
	memset(&o, 0, sizeof(o));
	o.fresh_seconds = -1;
	o.stack = "s";
	o.region = "us-east-1";
	o.account = "123456789012";
	o.parallelism = 1;
	o.batch_max = 1;
	assert_int_equal(refresh_read(A, ST, NULL, &o, &one, &e), 0);
	do_read(&three, 1);
	assert_int_equal(one.n, three.n);
	assert_true(one.batches + one.singles >= 10);
	for (i = 0; i < one.n; i++) {
		const struct refresh_item *x = &one.items[i];
		const struct refresh_item *y = item(&three, x->logical_id);
		assert_int_equal(x->status, y->status);
		assert_int_equal(x->changes.n, y->changes.n);
		assert_non_null(x->rec);
		assert_non_null(x->rec->properties);
		assert_non_null(x->rec->attributes);
		assert_null(x->rec->properties_json);
		if (x->status == REFRESH_UNCHANGED)
			assert_ptr_equal(x->new_props, x->rec->properties);
		/* the fake reads report an Arn the records lack: a copy then */
		if (x->new_attrs && value_equal(x->new_attrs, x->rec->attributes))
			assert_ptr_equal(x->new_attrs, x->rec->attributes);
		if (x->status == REFRESH_DRIFTED)
			assert_ptr_not_equal(x->new_props, x->rec->properties);
	}
	assert_int_equal(item(&one, "B")->status, REFRESH_UNCHANGED);
	assert_int_equal(item(&one, "A")->status, REFRESH_DRIFTED);
}

/* A damaged record (its attributes no longer JSON) fails the refresh
 * with the resource and the state named, as the state's own listing
 * would, even though the refresh decodes the records batch by batch. */
static void test_damaged_record_named(void **unused)
{
	struct refresh_opts o;
	struct refresh_result res;
	struct err e = ERR_INIT;
	sqlite3 *db;

	(void)unused;
	assert_int_equal(sqlite3_open(state_file, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE resources SET attributes = "
					  "'{\"a\":' WHERE logical_id = 'B'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	memset(&o, 0, sizeof(o));
	o.fresh_seconds = -1;
	o.stack = "s";
	o.parallelism = 2;
	assert_int_equal(refresh_read(A, ST, NULL, &o, &res, &e), -1);
	assert_non_null(strstr(e.msg, "resource \"B\""));
	assert_non_null(strstr(e.msg, state_file));
}

static void test_batch_limits(void **unused)
{
	(void)unused;
	assert_int_equal(refresh_batch_max("AWS::ECS::Service"), 10);
	assert_int_equal(refresh_batch_max("AWS::EC2::Subnet"), 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_statuses_and_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drift_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relationship_owners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fresh_not_visible_yet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_worker_bounded_backlog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_record_named, setup, teardown),
		cmocka_unit_test(test_projection),
		cmocka_unit_test(test_batch_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
