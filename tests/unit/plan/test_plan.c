/*
 * Unit tests of the plan module: the diff engine for every value kind, the
 * actions, ordering, rendering and saved plans. Inputs are written as JSON
 * by hand; the expected paths, texts and actions are written out here, not
 * produced by the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/arena.h"
#include "cairn/graph.h"
#include "cairn/plan.h"
#include "cairn/schema.h"
#include "cairn/state.h"
#include "cairn/strbuf.h"
#include "cairn/template.h"
#include "cairn/value.h"

static struct arena *A;

static int setup(void **state)
{
	(void)state;
	A = arena_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	arena_free(A);
	A = NULL;
	return 0;
}

static struct value *J(const char *json)
{
	struct err err = ERR_INIT;
	struct value *v = value_from_json(A, json, strlen(json),
					  VALUE_JSON_UNKNOWN_MARKER, &err);
	if (!v)
		fail_msg("bad test JSON %s: %s", json, err.msg);
	return v;
}

static const struct schema_type *T(const char *type)
{
	const struct schema_type *t = schema_find(type);
	if (!t)
		fail_msg("schema for %s missing", type);
	return t;
}

static struct plan_changes diff_t(const char *type, const char *desired,
				  const char *recorded)
{
	struct plan_changes ch = { NULL, 0, 0 };
	struct plan_diff_opts o = { NULL, NULL, NULL };

	o.schema = type ? T(type) : NULL;
	plan_diff_props(A, desired ? J(desired) : NULL,
			recorded ? J(recorded) : NULL, &o, &ch);
	return ch;
}

static const struct plan_change *find(const struct plan_changes *c,
				      const char *path)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->items[i].path, path))
			return &c->items[i];
	fail_msg("no change at %s (have %zu changes)", path, c->n);
	return NULL;
}

static const char *js(const struct value *v)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s;

	value_to_json(v, &sb, VALUE_JSON_UNKNOWN_MARKER);
	s = arena_strdup(A, sb.buf);
	strbuf_release(&sb);
	return s;
}

/* ------------------------------------------------------------ scalars */

static void test_scalars_coerce(void **state)
{
	struct plan_changes c;
	(void)state;

	/* CloudFormation coerces: "7" is 7, "true" is true, 7.0 is 7 */
	c = diff_t("AWS::Logs::LogGroup",
		   "{\"RetentionInDays\":\"7\",\"LogGroupName\":\"/x\"}",
		   "{\"RetentionInDays\":7,\"LogGroupName\":\"/x\"}");
	assert_int_equal(c.n, 0);
	c = diff_t(NULL, "{\"A\":7.0,\"B\":\"TRUE\",\"C\":false}",
		   "{\"A\":7,\"B\":true,\"C\":\"false\"}");
	assert_int_equal(c.n, 0);
	/* but not "7 " or "0x7", and not "1" for true */
	c = diff_t(NULL, "{\"A\":\"7 \",\"B\":\"0x7\",\"C\":\"1\"}",
		   "{\"A\":7,\"B\":7,\"C\":true}");
	assert_int_equal(c.n, 3);

	c = diff_t("AWS::Logs::LogGroup", "{\"RetentionInDays\":14}",
		   "{\"RetentionInDays\":7}");
	assert_int_equal(c.n, 1);
	assert_string_equal(c.items[0].path, "RetentionInDays");
	assert_int_equal(c.items[0].kind, PLAN_CHANGE_UPDATE);
	assert_string_equal(js(c.items[0].before), "7");
	assert_string_equal(js(c.items[0].after), "14");
	assert_null(c.items[0].forces);
	assert_false(c.items[0].sensitive);
	assert_false(c.items[0].unknown);
}

static void test_kind_change_and_null(void **state)
{
	struct plan_changes c;
	(void)state;

	/* null is the same as absent, on either side */
	c = diff_t(NULL, "{\"A\":null,\"B\":1}", "{\"B\":1,\"C\":null}");
	assert_int_equal(c.n, 0);
	/* a string became a list: one change of the whole value */
	c = diff_t(NULL, "{\"A\":[\"x\"]}", "{\"A\":\"x\"}");
	assert_int_equal(c.n, 1);
	assert_int_equal(c.items[0].kind, PLAN_CHANGE_UPDATE);
	assert_string_equal(js(c.items[0].after), "[\"x\"]");
	/* set to null = removed */
	c = diff_t(NULL, "{\"A\":null}", "{\"A\":\"x\"}");
	assert_int_equal(c.n, 1);
	assert_int_equal(c.items[0].kind, PLAN_CHANGE_REMOVE);
	assert_null(c.items[0].after);
}

/* --------------------------------------------------------------- maps */

static void test_maps_nested(void **state)
{
	struct plan_changes c;
	const struct plan_change *x;
	(void)state;

	c = diff_t(NULL,
		   "{\"Outer\":{\"Same\":1,\"Changed\":\"b\",\"New\":{\"k\":1}},"
		   "\"Top\":true}",
		   "{\"Outer\":{\"Same\":1,\"Changed\":\"a\",\"Gone\":[1,2]},"
		   "\"Old\":\"z\"}");
	assert_int_equal(c.n, 5);
	x = find(&c, "Outer.Changed");
	assert_int_equal(x->kind, PLAN_CHANGE_UPDATE);
	assert_string_equal(js(x->before), "\"a\"");
	assert_string_equal(js(x->after), "\"b\"");
	x = find(&c, "Outer.New");
	assert_int_equal(x->kind, PLAN_CHANGE_ADD);
	assert_null(x->before);
	assert_string_equal(js(x->after), "{\"k\":1}");
	x = find(&c, "Outer.Gone");
	assert_int_equal(x->kind, PLAN_CHANGE_REMOVE);
	assert_string_equal(js(x->before), "[1,2]");
	assert_int_equal(find(&c, "Top")->kind, PLAN_CHANGE_ADD);
	assert_int_equal(find(&c, "Old")->kind, PLAN_CHANGE_REMOVE);
}

static void test_map_odd_keys(void **state)
{
	struct plan_changes c;
	(void)state;

	/* keys that are not identifiers are quoted in the path */
	c = diff_t(NULL, "{\"Options\":{\"a.b\":\"2\",\"awslogs-group\":\"g\"}}",
		   "{\"Options\":{\"a.b\":\"1\",\"awslogs-group\":\"h\"}}");
	assert_int_equal(c.n, 2);
	assert_string_equal(c.items[0].path, "Options[\"a.b\"]");
	assert_string_equal(c.items[1].path, "Options.awslogs-group");
}

static void test_whole_properties(void **state)
{
	struct plan_changes c;
	(void)state;

	/* no recorded properties: every desired one is an add */
	c = diff_t("AWS::EC2::VPC", "{\"CidrBlock\":\"10.0.0.0/16\","
				    "\"EnableDnsSupport\":true}",
		   NULL);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.items[0].path, "CidrBlock");
	assert_int_equal(c.items[0].kind, PLAN_CHANGE_ADD);
	c = diff_t(NULL, NULL, "{\"X\":1}");
	assert_int_equal(c.n, 1);
	assert_int_equal(c.items[0].kind, PLAN_CHANGE_REMOVE);
	c = diff_t(NULL, NULL, NULL);
	assert_int_equal(c.n, 0);
}

/* -------------------------------------------------------------- lists */

static void test_ordered_list(void **state)
{
	struct plan_changes c;
	const struct plan_change *x;
	(void)state;

	/* AWS::EC2::Subnet Tags have no insertionOrder: ordered */
	c = diff_t("AWS::EC2::Subnet",
		   "{\"VpcId\":\"vpc-1\",\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},"
		   "{\"Key\":\"b\",\"Value\":\"2\"},{\"Key\":\"c\",\"Value\":\"NEW\"},"
		   "{\"Key\":\"d\",\"Value\":\"4\"}]}",
		   "{\"VpcId\":\"vpc-1\",\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},"
		   "{\"Key\":\"b\",\"Value\":\"2\"},{\"Key\":\"c\",\"Value\":\"3\"}]}");
	assert_int_equal(c.n, 2);
	x = find(&c, "Tags[2].Value");
	assert_int_equal(x->kind, PLAN_CHANGE_UPDATE);
	assert_string_equal(js(x->before), "\"3\"");
	assert_string_equal(js(x->after), "\"NEW\"");
	assert_null(x->forces);
	x = find(&c, "Tags[3]");
	assert_int_equal(x->kind, PLAN_CHANGE_ADD);

	/* order matters in an ordered list */
	c = diff_t(NULL, "{\"L\":[1,2]}", "{\"L\":[2,1]}");
	assert_int_equal(c.n, 2);
	assert_string_equal(c.items[0].path, "L[0]");
	assert_string_equal(c.items[1].path, "L[1]");
	/* shorter */
	c = diff_t(NULL, "{\"L\":[1]}", "{\"L\":[1,2,3]}");
	assert_int_equal(c.n, 2);
	assert_int_equal(find(&c, "L[1]")->kind, PLAN_CHANGE_REMOVE);
	assert_int_equal(find(&c, "L[2]")->kind, PLAN_CHANGE_REMOVE);
}

static void test_set_list(void **state)
{
	struct plan_changes c;
	const struct plan_change *x;
	(void)state;

	/* AWS::EC2::VPC Tags: insertionOrder false -> a reorder is no change */
	c = diff_t("AWS::EC2::VPC",
		   "{\"Tags\":[{\"Key\":\"b\",\"Value\":\"2\"},"
		   "{\"Value\":\"1\",\"Key\":\"a\"}]}",
		   "{\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},"
		   "{\"Key\":\"b\",\"Value\":\"2\"}]}");
	assert_int_equal(c.n, 0);
	/* a changed tag keeps its key: shown field by field at the desired
	 * index; an extra recorded one is removed at its recorded index */
	c = diff_t("AWS::EC2::VPC",
		   "{\"Tags\":[{\"Key\":\"b\",\"Value\":\"22\"},"
		   "{\"Key\":\"a\",\"Value\":\"1\"}]}",
		   "{\"Tags\":[{\"Key\":\"a\",\"Value\":\"1\"},"
		   "{\"Key\":\"c\",\"Value\":\"3\"},{\"Key\":\"b\",\"Value\":\"2\"}]}");
	assert_int_equal(c.n, 2);
	x = find(&c, "Tags[0].Value");
	assert_int_equal(x->kind, PLAN_CHANGE_UPDATE);
	assert_string_equal(js(x->before), "\"2\"");
	x = find(&c, "Tags[1]");
	assert_int_equal(x->kind, PLAN_CHANGE_REMOVE);
	assert_string_equal(js(x->before), "{\"Key\":\"c\",\"Value\":\"3\"}");
	/* duplicates count: a multiset */
	c = diff_t("AWS::IAM::Role",
		   "{\"ManagedPolicyArns\":[\"arn:a\",\"arn:a\"]}",
		   "{\"ManagedPolicyArns\":[\"arn:a\"]}");
	assert_int_equal(c.n, 1);
	assert_string_equal(c.items[0].path, "ManagedPolicyArns[1]");
	assert_int_equal(c.items[0].kind, PLAN_CHANGE_ADD);
	/* scalar sets: plain add and remove */
	c = diff_t("AWS::EC2::VPCEndpoint",
		   "{\"SubnetIds\":[\"s-2\",\"s-3\"]}",
		   "{\"SubnetIds\":[\"s-1\",\"s-2\"]}");
	assert_int_equal(c.n, 2);
	assert_int_equal(find(&c, "SubnetIds[1]")->kind, PLAN_CHANGE_ADD);
	assert_int_equal(find(&c, "SubnetIds[0]")->kind, PLAN_CHANGE_REMOVE);
}

static void test_create_only_nested(void **state)
{
	struct plan_changes c;
	const struct plan_change *x;
	(void)state;

	/* ContainerDefinitions is create-only and a set; the container keeps
	 * its Name so the change is shown at Image, forced by the ancestor */
	c = diff_t("AWS::ECS::TaskDefinition",
		   "{\"Family\":\"f\",\"ContainerDefinitions\":[{\"Name\":\"w\","
		   "\"Image\":\"img:2\",\"Command\":[\"a\",\"b\"]}]}",
		   "{\"Family\":\"f\",\"ContainerDefinitions\":[{\"Name\":\"w\","
		   "\"Image\":\"img:1\",\"Command\":[\"a\",\"b\"]}]}");
	assert_int_equal(c.n, 1);
	x = &c.items[0];
	assert_string_equal(x->path, "ContainerDefinitions[0].Image");
	assert_non_null(x->forces);
	assert_string_equal(x->forces, "ContainerDefinitions");
	/* Subnet CidrBlock forces; Tags does not */
	c = diff_t("AWS::EC2::Subnet",
		   "{\"CidrBlock\":\"10.0.3.0/24\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v2\"}]}",
		   "{\"CidrBlock\":\"10.0.1.0/24\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}");
	assert_int_equal(c.n, 2);
	assert_string_equal(find(&c, "CidrBlock")->forces, "CidrBlock");
	assert_null(find(&c, "Tags[0].Value")->forces);
	/* adding a create-only property forces too */
	c = diff_t("AWS::EC2::Subnet", "{\"AvailabilityZone\":\"us-east-1a\"}",
		   "{}");
	assert_string_equal(c.items[0].forces, "AvailabilityZone");
	/* a nested create-only entry: DnsOptions/PrivateDnsPreference */
	c = diff_t("AWS::EC2::VPCEndpoint",
		   "{\"DnsOptions\":{\"PrivateDnsPreference\":\"ALL_DOMAINS\","
		   "\"DnsRecordIpType\":\"ipv4\"}}",
		   "{\"DnsOptions\":{\"PrivateDnsPreference\":\"VERIFIED_DOMAINS_ONLY\","
		   "\"DnsRecordIpType\":\"dualstack\"}}");
	assert_int_equal(c.n, 2);
	assert_string_equal(find(&c, "DnsOptions.PrivateDnsPreference")->forces,
			    "DnsOptions/PrivateDnsPreference");
	assert_null(find(&c, "DnsOptions.DnsRecordIpType")->forces);
}

static void test_read_only_ignored(void **state)
{
	struct plan_changes c;
	(void)state;

	/* VpcId and DefaultSecurityGroup are read-only on AWS::EC2::VPC */
	c = diff_t("AWS::EC2::VPC", "{\"CidrBlock\":\"10.0.0.0/16\"}",
		   "{\"CidrBlock\":\"10.0.0.0/16\",\"VpcId\":\"vpc-1\","
		   "\"DefaultSecurityGroup\":\"sg-1\"}");
	assert_int_equal(c.n, 0);
}

/* ----------------------------------------------------------- unknowns */

static void test_unknowns(void **state)
{
	struct plan_changes c;
	const struct plan_change *x;
	(void)state;

	c = diff_t("AWS::EC2::Subnet",
		   "{\"VpcId\":{\"$unknown\":\"Vpc\"},\"CidrBlock\":\"10.0.1.0/24\"}",
		   "{\"VpcId\":\"vpc-123\",\"CidrBlock\":\"10.0.1.0/24\"}");
	assert_int_equal(c.n, 1);
	x = &c.items[0];
	assert_string_equal(x->path, "VpcId");
	assert_int_equal(x->kind, PLAN_CHANGE_UPDATE);
	assert_true(x->unknown);
	assert_string_equal(x->forces, "VpcId");
	/* unknown on both sides: nothing to say */
	c = diff_t(NULL, "{\"A\":{\"$unknown\":\"X.Arn\"}}",
		   "{\"A\":{\"$unknown\":\"X.Arn\"}}");
	assert_int_equal(c.n, 0);
	/* an unknown deep in a new value makes the add unknown */
	c = diff_t(NULL, "{\"A\":[{\"B\":{\"$unknown\":\"X\"}}]}", "{}");
	assert_int_equal(c.n, 1);
	assert_true(c.items[0].unknown);
	/* nested in a map with a recorded value: the leaf changes */
	c = diff_t(NULL, "{\"M\":{\"K\":{\"$unknown\":\"R.Arn\"},\"J\":1}}",
		   "{\"M\":{\"K\":\"arn:x\",\"J\":1}}");
	assert_int_equal(c.n, 1);
	assert_string_equal(c.items[0].path, "M.K");
	assert_true(c.items[0].unknown);
	/* an unknown set element never matches a known one */
	c = diff_t("AWS::EC2::VPCEndpoint",
		   "{\"SubnetIds\":[{\"$unknown\":\"S\"}]}",
		   "{\"SubnetIds\":[\"subnet-1\"]}");
	assert_int_equal(c.n, 2);
}

/* ---------------------------------------------------------- sensitive */

static const char *FP_GOOD = "hmac-sha256:00ff";

/* The test's fingerprint: "hmac-sha256:00ff" stands for "hunter2". */
static bool fake_match(void *ud, const struct value *desired, const char *fp)
{
	int *calls = ud;
	(*calls)++;
	return !strcmp(fp, FP_GOOD) && value_str(desired) &&
	       !strcmp(value_str(desired), "hunter2");
}

static void test_sensitive(void **state)
{
	struct plan_changes c = { NULL, 0, 0 };
	struct plan_diff_opts o = { NULL, fake_match, NULL };
	struct value *d = J("{\"SecretString\":\"hunter2\",\"Name\":\"s\"}");
	struct value *r = J("{\"SecretString\":{\"$secret\":\"hmac-sha256:00ff\"},"
			    "\"Name\":\"s\"}");
	struct value *r_state;
	int calls = 0;
	(void)state;

	o.secret_ud = &calls;
	o.schema = T("AWS::SecretsManager::Secret");
	value_map_get(d, "SecretString")->sensitive = 1;
	plan_diff_props(A, d, r, &o, &c);
	assert_int_equal(c.n, 0);
	assert_int_equal(calls, 1);

	/* a different secret: a change, shown as sensitive */
	value_map_set(A, d, "SecretString", value_new_string(A, "swordfish"));
	value_map_get(d, "SecretString")->sensitive = 1;
	plan_diff_props(A, d, r, &o, &c);
	assert_int_equal(c.n, 1);
	assert_true(c.items[0].sensitive);
	assert_int_equal(c.items[0].kind, PLAN_CHANGE_UPDATE);
	assert_null(c.items[0].forces);

	/* the form state_resource_get() returns: a sensitive string */
	r_state = J("{\"SecretString\":\"hmac-sha256:00ff\",\"Name\":\"s\"}");
	value_map_get(r_state, "SecretString")->sensitive = 1;
	c.n = 0;
	plan_diff_props(A, d, r_state, &o, &c);
	assert_int_equal(c.n, 1);
	assert_true(c.items[0].sensitive);
	value_map_set(A, d, "SecretString", value_new_string(A, "hunter2"));
	c.n = 0;
	plan_diff_props(A, d, r_state, &o, &c);
	assert_int_equal(c.n, 0);
	/* ...but a plain string that merely looks like one is not a secret */
	value_map_get(r_state, "SecretString")->sensitive = 0;
	plan_diff_props(A, d, r_state, &o, &c);
	assert_int_equal(c.n, 1);
	assert_false(c.items[0].sensitive);

	/* no matcher: a recorded secret always differs */
	o.secret_match = NULL;
	c.n = 0;
	plan_diff_props(A, d, r, &o, &c);
	assert_int_equal(c.n, 1);
	/* removed secret: sensitive remove */
	c.n = 0;
	plan_diff_props(A, J("{\"Name\":\"s\"}"), r, &o, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.items[0].kind, PLAN_CHANGE_REMOVE);
	assert_true(c.items[0].sensitive);
	/* a sensitive map compared with a plain recorded map: the nested
	 * change is sensitive too */
	d = J("{\"Cfg\":{\"Pw\":\"a\"}}");
	value_map_get(d, "Cfg")->sensitive = 1;
	c.n = 0;
	plan_diff_props(A, d, J("{\"Cfg\":{\"Pw\":\"b\"}}"), &o, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.items[0].path, "Cfg.Pw");
	assert_true(c.items[0].sensitive);
}

/* -------------------------------------------------------------- model */

static const char *const NO_DEPS[] = { NULL };

static struct plan_resource *add(struct plan *p, const char *id,
				 const char *type, const char *desired,
				 const char *rec_type, const char *recorded,
				 const char *status)
{
	struct plan_desired d;
	struct plan_recorded r;
	struct plan_diff_opts o = { NULL, NULL, NULL };

	memset(&d, 0, sizeof(d));
	memset(&r, 0, sizeof(r));
	d.logical_id = id;
	d.type = type;
	d.props = desired ? J(desired) : NULL;
	d.depends_on = NO_DEPS;
	o.schema = schema_find(type);
	if (!recorded)
		return plan_add(p, &d, NULL, &o);
	r.logical_id = id;
	r.type = rec_type ? rec_type : type;
	r.physical_id = arena_sprintf(A, "phys-%s", id);
	r.props = J(recorded);
	r.status = status;
	return plan_add(p, &d, &r, &o);
}

static void test_actions(void **state)
{
	struct plan *p = plan_new(A);
	struct plan_resource *it;
	struct plan_summary s;
	(void)state;

	it = add(p, "Vpc", "AWS::EC2::VPC", "{\"CidrBlock\":\"10.0.0.0/16\"}",
		 NULL, NULL, NULL);
	assert_int_equal(it->action, PLAN_CREATE);
	assert_int_equal(it->changes.n, 1);
	/* a create never says "forces replacement" */
	assert_null(it->changes.items[0].forces);

	it = add(p, "Logs", "AWS::Logs::LogGroup", "{\"RetentionInDays\":14}",
		 NULL, "{\"RetentionInDays\":7}", "created");
	assert_int_equal(it->action, PLAN_UPDATE);
	assert_string_equal(it->physical_id, "phys-Logs");

	it = add(p, "Same", "AWS::Logs::LogGroup", "{\"RetentionInDays\":\"7\"}",
		 NULL, "{\"RetentionInDays\":7}", "created");
	assert_int_equal(it->action, PLAN_NOOP);

	/* CidrBlock is create-only; VPC has no name: create first */
	it = add(p, "Net", "AWS::EC2::Subnet",
		 "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.0.3.0/24\"}", NULL,
		 "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.0.1.0/24\"}", "created");
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_int_equal(it->nreasons, 1);
	assert_string_equal(it->reasons[0], "CidrBlock");
	assert_true(it->create_before_delete);

	/* same VPC and CIDR, new AZ: the new subnet would overlap */
	it = add(p, "Net2", "AWS::EC2::Subnet",
		 "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.0.1.0/24\","
		 "\"AvailabilityZone\":\"us-east-1b\"}",
		 NULL,
		 "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.0.1.0/24\","
		 "\"AvailabilityZone\":\"us-east-1a\"}",
		 "created");
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_false(it->create_before_delete);
	assert_string_equal(it->conflict, "VpcId, CidrBlock");

	/* a role with a fixed name: delete before create; generated: after */
	it = add(p, "Role", "AWS::IAM::Role",
		 "{\"RoleName\":\"r\",\"Path\":\"/b/\"}", NULL,
		 "{\"RoleName\":\"r\",\"Path\":\"/a/\"}", "created");
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_false(it->create_before_delete);
	assert_string_equal(it->conflict, "RoleName");
	it = add(p, "Role2", "AWS::IAM::Role", "{\"Path\":\"/b/\"}", NULL,
		 "{\"Path\":\"/a/\"}", "created");
	assert_true(it->create_before_delete);
	/* renamed: the new name is free, create first */
	it = add(p, "Role3", "AWS::IAM::Role", "{\"RoleName\":\"new\"}", NULL,
		 "{\"RoleName\":\"old\"}", "created");
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_true(it->create_before_delete);

	/* tainted: replaced even without changes */
	it = add(p, "Bad", "AWS::Logs::LogGroup", "{}", NULL, "{}", "tainted");
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_string_equal(it->reasons[0], "tainted");
	/* the type changed */
	it = add(p, "Swap", "AWS::IAM::Policy", "{}", "AWS::IAM::RolePolicy",
		 "{}", "created");
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_string_equal(it->reasons[0], "Type");
	assert_string_equal(it->old_type, "AWS::IAM::RolePolicy");
	/* recorded without a physical id (create never confirmed): create */
	{
		struct plan_desired d = { "Half", "AWS::EC2::VPC", NULL, NULL,
					  0, NULL, NULL };
		struct plan_recorded r = { "Half", "AWS::EC2::VPC", NULL, NULL,
					   NULL, 0, "creating", NULL };
		it = plan_add(p, &d, &r, NULL);
		assert_int_equal(it->action, PLAN_CREATE);
	}
	plan_summarize(p, &s);
	assert_int_equal(s.add, 2);
	assert_int_equal(s.change, 1);
	assert_int_equal(s.noop, 1);
	assert_int_equal(s.replace, 7);
	assert_true(plan_has_changes(p));

	assert_true(plan_keeps_identity(p, "Logs"));
	assert_true(plan_keeps_identity(p, "Same"));
	assert_false(plan_keeps_identity(p, "Vpc"));
	assert_false(plan_keeps_identity(p, "Net"));
	assert_false(plan_keeps_identity(p, "Nope"));
}

/* AWS::EC2::Instance: a block device's DeleteOnTermination changes in
 * place, any other block device change replaces; each change says whether
 * it interrupts the instance (CloudFormation's "Update requires"). */
static void test_instance_update_classes(void **state)
{
	static const char base[] =
		"{\"ImageId\":\"ami-1\",\"InstanceType\":\"t3.micro\","
		"\"Monitoring\":false,\"BlockDeviceMappings\":[{\"DeviceName\":"
		"\"/dev/xvda\",\"Ebs\":{\"VolumeSize\":8,\"DeleteOnTermination\":true}}]}";
	struct plan *p = plan_new(A);
	struct plan_resource *it;
	(void)state;

	it = add(p, "A", "AWS::EC2::Instance",
		 "{\"ImageId\":\"ami-1\",\"InstanceType\":\"t3.micro\","
		 "\"Monitoring\":true,\"BlockDeviceMappings\":[{\"DeviceName\":"
		 "\"/dev/xvda\",\"Ebs\":{\"VolumeSize\":8,\"DeleteOnTermination\":false}}]}",
		 NULL, base, NULL);
	assert_int_equal(it->action, PLAN_UPDATE);
	assert_null(find(&it->changes,
			 "BlockDeviceMappings[0].Ebs.DeleteOnTermination")->forces);
	assert_string_equal(plan_change_interruption(it, find(&it->changes, "Monitoring")),
			    "no interruption");
	assert_null(plan_interruption(it, &(const char *){ NULL }));

	it = add(p, "B", "AWS::EC2::Instance",
		 "{\"ImageId\":\"ami-1\",\"InstanceType\":\"t3.small\","
		 "\"Monitoring\":false,\"BlockDeviceMappings\":[{\"DeviceName\":"
		 "\"/dev/xvda\",\"Ebs\":{\"VolumeSize\":8,\"DeleteOnTermination\":true}}]}",
		 NULL, base, NULL);
	assert_int_equal(it->action, PLAN_UPDATE);
	assert_string_equal(plan_change_interruption(it, find(&it->changes, "InstanceType")),
			    "some interruption");

	it = add(p, "C", "AWS::EC2::Instance",
		 "{\"ImageId\":\"ami-1\",\"InstanceType\":\"t3.micro\","
		 "\"Monitoring\":false,\"BlockDeviceMappings\":[{\"DeviceName\":"
		 "\"/dev/xvda\",\"Ebs\":{\"VolumeSize\":9,\"DeleteOnTermination\":true}}]}",
		 NULL, base, NULL);
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_string_equal(find(&it->changes, "BlockDeviceMappings[0].Ebs.VolumeSize")->forces,
			    "BlockDeviceMappings");
	assert_null(plan_change_interruption(it, &it->changes.items[0]));

	/* a second device added: replacement too */
	it = add(p, "D", "AWS::EC2::Instance",
		 "{\"ImageId\":\"ami-1\",\"InstanceType\":\"t3.micro\","
		 "\"Monitoring\":false,\"BlockDeviceMappings\":[{\"DeviceName\":"
		 "\"/dev/xvda\",\"Ebs\":{\"VolumeSize\":8,\"DeleteOnTermination\":true}},"
		 "{\"DeviceName\":\"/dev/sdf\",\"Ebs\":{\"VolumeSize\":1}}]}",
		 NULL, base, NULL);
	assert_int_equal(it->action, PLAN_REPLACE);
}

static void test_update_replace_policy(void **state)
{
	struct plan *p = plan_new(A);
	struct plan_desired d = { "Repo", "AWS::ECR::Repository", NULL, NULL,
				  0, NULL, "Retain" };
	struct plan_recorded r = { "Repo", "AWS::ECR::Repository", "repo", NULL,
				   NULL, 0, "created", NULL };
	struct plan_diff_opts o = { NULL, NULL, NULL };
	struct plan_resource *it;
	(void)state;

	o.schema = T("AWS::ECR::Repository");
	d.props = J("{\"RepositoryName\":\"b\"}");
	r.props = J("{\"RepositoryName\":\"a\"}");
	it = plan_add(p, &d, &r, &o);
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_true(it->retain_old);
	assert_true(it->create_before_delete);
}

static void test_removed_order(void **state)
{
	struct plan *p = plan_new(A);
	/* recorded: Vpc <- Subnet <- Assoc; Sg <- Rule. Rule is retained. */
	const char *subnet_deps[] = { "Vpc" };
	const char *assoc_deps[] = { "Subnet", "Kept" };
	const char *rule_deps[] = { "Sg" };
	struct plan_recorded recs[] = {
		{ "Assoc", "AWS::EC2::SubnetRouteTableAssociation", "a", NULL,
		  assoc_deps, 2, "created", NULL },
		{ "Rule", "AWS::EC2::SecurityGroupIngress", "r", NULL, rule_deps,
		  1, "created", "Retain" },
		{ "Sg", "AWS::EC2::SecurityGroup", "sg", NULL, NULL, 0,
		  "created", NULL },
		{ "Subnet", "AWS::EC2::Subnet", "s", NULL, subnet_deps, 1,
		  "created", NULL },
		{ "Vpc", "AWS::EC2::VPC", "v", NULL, NULL, 0, "created", NULL },
	};
	const char *order_vpc_first[] = { "Vpc", "Sg", "Subnet", "Rule", "Assoc" };
	struct plan_desired kept = { "Kept", "AWS::EC2::VPC", NULL, NULL, 0,
				     NULL, NULL };
	struct plan_summary s;
	size_t i, pos[5];
	(void)state;

	plan_add(p, &kept, NULL, NULL);
	/* add in an order where dependencies come first, the worst case */
	for (i = 0; i < 5; i++) {
		size_t k;
		for (k = 0; k < 5; k++)
			if (!strcmp(recs[k].logical_id, order_vpc_first[i]))
				plan_add_removed(p, &recs[k],
						 recs[k].deletion_policy,
						 k == 3 ? "condition \"HasNet\" is false"
							: NULL);
	}
	plan_finish(p);
	assert_int_equal(p->n, 6);
	assert_string_equal(p->items[0].logical_id, "Kept");
	for (i = 0; i < 6; i++) {
		const char *id = p->items[i].logical_id;
		size_t k;
		for (k = 0; k < 5; k++)
			if (!strcmp(id, recs[k].logical_id))
				pos[k] = i;
	}
	/* dependents are removed before what they depend on */
	assert_true(pos[0] < pos[3]); /* Assoc before Subnet */
	assert_true(pos[3] < pos[4]); /* Subnet before Vpc */
	assert_true(pos[1] < pos[2]); /* Rule before Sg */
	assert_int_equal(plan_find(p, "Rule")->action, PLAN_FORGET);
	assert_int_equal(plan_find(p, "Vpc")->action, PLAN_DELETE);
	assert_string_equal(plan_find(p, "Vpc")->why, "not in the template");
	assert_string_equal(plan_find(p, "Subnet")->why,
			    "condition \"HasNet\" is false");
	plan_summarize(p, &s);
	assert_int_equal(s.destroy, 4);
	assert_int_equal(s.forget, 1);
	assert_int_equal(s.add, 1);
}

static void test_many_resources_index(void **state)
{
	struct plan *p = plan_new(A);
	char id[32];
	int i;
	(void)state;

	for (i = 0; i < 3000; i++) {
		struct plan_desired d = { NULL, "AWS::EC2::VPC", NULL, NULL, 0,
					  NULL, NULL };
		snprintf(id, sizeof(id), "R%d", i);
		d.logical_id = id;
		plan_add(p, &d, NULL, NULL);
	}
	plan_finish(p);
	for (i = 0; i < 3000; i += 7) {
		snprintf(id, sizeof(id), "R%d", i);
		assert_non_null(plan_find(p, id));
		assert_string_equal(plan_find(p, id)->logical_id, id);
	}
	assert_null(plan_find(p, "R3000"));
}

/* ---------------------------------------------------------- rendering */

static struct plan *sample_plan(void)
{
	struct plan *p = plan_new(A);
	struct plan_desired d;
	struct plan_recorded r;
	struct plan_diff_opts o = { NULL, NULL, NULL };
	struct value *sec;
	struct plan_binding b;

	memset(&b, 0, sizeof(b));
	b.stack = "demo";
	b.template_path = "demo.yaml";
	b.template_digest = "sha256:aaaa";
	b.params = J("{\"Env\":\"prod\",\"Key\":\"hunter2\"}");
	value_map_get(b.params, "Key")->sensitive = 1;
	b.state_serial = 4;
	b.state_exists = true;
	b.state_path = "state/demo.db";
	plan_bind(p, &b);

	add(p, "Vpc", "AWS::EC2::VPC", "{\"CidrBlock\":\"10.0.0.0/16\"}", NULL,
	    "{\"CidrBlock\":\"10.0.0.0/16\"}", "created");
	add(p, "Logs", "AWS::Logs::LogGroup", "{\"RetentionInDays\":14}", NULL,
	    "{\"RetentionInDays\":7}", "created");
	add(p, "Net", "AWS::EC2::Subnet",
	    "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.0.3.0/24\"}", NULL,
	    "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.0.1.0/24\"}", "created");
	memset(&d, 0, sizeof(d));
	d.logical_id = "Secret";
	d.type = "AWS::SecretsManager::Secret";
	d.props = J("{\"SecretString\":\"hunter2\",\"Tags\":[{\"Key\":\"a\","
		    "\"Value\":{\"$unknown\":\"Vpc\"}}]}");
	sec = value_map_get(d.props, "SecretString");
	sec->sensitive = 1;
	o.schema = T("AWS::SecretsManager::Secret");
	plan_add(p, &d, NULL, &o);
	memset(&r, 0, sizeof(r));
	r.logical_id = "Old";
	r.type = "AWS::ECR::Repository";
	r.physical_id = "old-repo";
	plan_add_removed(p, &r, NULL, NULL);
	r.logical_id = "Kept";
	r.type = "AWS::Logs::LogGroup";
	r.physical_id = "/kept";
	plan_add_removed(p, &r, "Retain", NULL);
	plan_finish(p);
	return p;
}

static void test_render_human(void **state)
{
	struct plan *p = sample_plan();
	struct strbuf sb = STRBUF_INIT;
	const char *want =
		"Stack \"demo\": state serial 4, compared with recorded state "
		"only (no refresh).\n"
		"\n"
		"cairn will perform the following actions:\n"
		"\n"
		"  ~ Logs (AWS::Logs::LogGroup, id phys-Logs): update in place\n"
		"      ~ RetentionInDays: 7 -> 14\n"
		"\n"
		"  +/- Net (AWS::EC2::Subnet, id phys-Net): replace (forces "
		"replacement: CidrBlock), create before delete\n"
		"      ~ CidrBlock: \"10.0.1.0/24\" -> \"10.0.3.0/24\" (forces "
		"replacement)\n"
		"\n"
		"  + Secret (AWS::SecretsManager::Secret): create\n"
		"      + SecretString: (sensitive)\n"
		"      + Tags: [\n"
		"          {\n"
		"            Key: \"a\"\n"
		"            Value: (known after apply)\n"
		"          }\n"
		"        ]\n"
		"\n"
		"  - Old (AWS::ECR::Repository, id old-repo): destroy (not in "
		"the template)\n"
		"\n"
		"  . Kept (AWS::Logs::LogGroup, id /kept): forget (not in the "
		"template; DeletionPolicy Retain: removed from state, left in "
		"AWS)\n"
		"\n"
		"Plan: 1 to add, 1 to change, 1 to replace, 1 to destroy, 1 to "
		"forget.\n";
	(void)state;

	plan_render_human(p, &sb, false);
	assert_string_equal(sb.buf, want);
	assert_null(strstr(sb.buf, "hunter2"));
	assert_null(strstr(sb.buf, "\033["));
	strbuf_reset(&sb);
	plan_render_human(p, &sb, true);
	assert_non_null(strstr(sb.buf, "\033[32m"));
	strbuf_release(&sb);
}

static void test_render_summary(void **state)
{
	struct plan *p = plan_new(A);
	struct strbuf sb = STRBUF_INIT;
	(void)state;

	plan_render_summary(p, &sb);
	assert_string_equal(sb.buf, "No changes. Your infrastructure matches "
				    "the template.\n");
	add(p, "A", "AWS::EC2::VPC", "{}", NULL, NULL, NULL);
	add(p, "B", "AWS::EC2::VPC", "{}", NULL, NULL, NULL);
	add(p, "C", "AWS::EC2::VPC", "{}", NULL, NULL, NULL);
	add(p, "D", "AWS::Logs::LogGroup", "{\"RetentionInDays\":1}", NULL,
	    "{\"RetentionInDays\":3}", NULL);
	add(p, "E", "AWS::EC2::VPC", "{\"CidrBlock\":\"10.1.0.0/16\"}", NULL,
	    "{\"CidrBlock\":\"10.0.0.0/16\"}", NULL);
	strbuf_reset(&sb);
	plan_render_summary(p, &sb);
	assert_string_equal(sb.buf, "Plan: 3 to add, 1 to change, 1 to "
				    "replace, 0 to destroy.\n");
	strbuf_release(&sb);
}

static void test_render_values(void **state)
{
	struct plan *p = plan_new(A);
	struct strbuf sb = STRBUF_INIT;
	const char *want =
		"cairn will perform the following actions:\n"
		"\n"
		"  + Repo (AWS::ECR::Repository): create\n"
		"      + LifecyclePolicy: {\n"
		"          LifecyclePolicyText: <<EOT\n"
		"            {\n"
		"              \"rules\": []\n"
		"            }\n"
		"          EOT\n"
		"        }\n"
		"      + Tags: []\n"
		"      + EmptyMap: {}\n"
		"      + Short: [1, \"two\", true, null]\n"
		"      + Ctl: \"a\\u0001b\\nc\"\n"
		"\n"
		"Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.\n";
	(void)state;

	/* no binding: no header line */
	add(p, "Repo", "AWS::ECR::Repository",
	    "{\"LifecyclePolicy\":{\"LifecyclePolicyText\":"
	    "\"{\\n  \\\"rules\\\": []\\n}\\n\"},\"Tags\":[],\"EmptyMap\":{},"
	    "\"Short\":[1,\"two\",true,null],\"Ctl\":\"a\\u0001b\\nc\"}",
	    NULL, NULL, NULL);
	plan_render_human(p, &sb, false);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_render_json(void **state)
{
	struct plan *p = sample_plan();
	struct strbuf sb = STRBUF_INIT;
	struct err err = ERR_INIT;
	struct value *doc, *res, *ch;
	size_t i;
	(void)state;

	plan_render_json(p, &sb);
	assert_null(strstr(sb.buf, "hunter2"));
	doc = value_from_json(A, sb.buf, sb.len, VALUE_JSON_UNKNOWN_MARKER, &err);
	assert_non_null(doc);
	assert_string_equal(value_str(value_map_get(doc, "format_version")), "1");
	assert_string_equal(value_str(value_get_path(doc, "template.digest")),
			    "sha256:aaaa");
	assert_string_equal(value_str(value_map_get(doc, "template_digest")),
			    "sha256:aaaa");
	assert_int_equal(value_get_path(doc, "state.serial")->u.num.d, 4);
	assert_string_equal(value_str(value_get_path(doc,
				"parameters.values.Env.value")), "prod");
	assert_null(value_get_path(doc, "parameters.values.Key.value"));
	assert_true(value_get_path(doc, "parameters.values.Key.sensitive")->u.b);
	assert_int_equal(value_get_path(doc, "summary.add")->u.num.d, 1);
	assert_int_equal(value_get_path(doc, "summary.no_op")->u.num.d, 1);
	assert_int_equal(value_get_path(doc, "summary.forget")->u.num.d, 1);
	res = value_map_get(doc, "resources");
	assert_int_equal(res->u.list.n, 6);
	for (i = 0; i < res->u.list.n; i++) {
		const char *id = value_str(value_map_get(res->u.list.items[i],
							 "logical_id"));
		if (!strcmp(id, "Net")) {
			assert_string_equal(value_str(value_map_get(
				res->u.list.items[i], "action")), "replace");
			assert_string_equal(value_str(value_get_path(
				res->u.list.items[i], "replacement.order")),
				"create_before_delete");
			assert_string_equal(value_str(value_get_path(
				res->u.list.items[i], "replacement.reasons[0]")),
				"CidrBlock");
			ch = value_get_path(res->u.list.items[i], "changes[0]");
			assert_string_equal(value_str(value_map_get(ch, "path")),
					    "CidrBlock");
			assert_string_equal(value_str(value_map_get(ch,
				"forces_replacement")), "CidrBlock");
			assert_string_equal(value_str(value_map_get(ch, "before")),
					    "10.0.1.0/24");
		}
		if (!strcmp(id, "Secret")) {
			ch = value_get_path(res->u.list.items[i], "changes[0]");
			assert_string_equal(value_str(value_map_get(ch, "after")),
					    "(sensitive)");
			assert_true(value_map_get(ch, "sensitive")->u.b);
			ch = value_get_path(res->u.list.items[i],
					    "changes[1].after[0].Value");
			assert_int_equal(ch->kind, VALUE_UNKNOWN);
		}
	}
	strbuf_release(&sb);
}

/* --------------------------------------------------------- plan files */

static void test_digest(void **state)
{
	char path[] = "/tmp/cairn-plan-digest-XXXXXX";
	int fd = mkstemp(path);
	struct err err = ERR_INIT;
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	close(fd);
	/* FIPS 180-2 test vector for "abc" */
	assert_string_equal(plan_digest_file(A, path, &err),
			    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a3"
			    "96177a9cb410ff61f20015ad");
	unlink(path);
	assert_null(plan_digest_file(A, path, &err));
	assert_int_equal(err.code, ERR_IO);
}

static void test_save_load(void **state)
{
	struct plan *p = sample_plan(), *q;
	char dir[] = "/tmp/cairn-plan-XXXXXX";
	char path[256];
	struct plan_binding b;
	struct err err = ERR_INIT;
	struct strbuf sb = STRBUF_INIT, human = STRBUF_INIT;
	struct stat st;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json", dir);
	assert_int_equal(plan_save(p, path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(strbuf_read_file(&sb, path, 0), 0);
	assert_null(strstr(sb.buf, "hunter2"));

	memset(&b, 0, sizeof(b));
	b.stack = "demo";
	b.template_digest = "sha256:aaaa";
	b.params = J("{\"Env\":\"prod\",\"Key\":\"hunter2\"}");
	value_map_get(b.params, "Key")->sensitive = 1;
	b.state_serial = 4;
	q = plan_load(A, path, &b, &err);
	if (!q)
		fail_msg("load: %s", err.msg);
	assert_int_equal(q->n, p->n);
	assert_int_equal(plan_find(q, "Net")->action, PLAN_REPLACE);
	assert_true(plan_find(q, "Net")->create_before_delete);
	assert_int_equal(plan_find(q, "Kept")->action, PLAN_FORGET);
	/* the loaded plan renders as the original did */
	plan_render_human(q, &human, false);
	strbuf_reset(&sb);
	plan_render_human(p, &sb, false);
	assert_string_equal(human.buf, sb.buf);

	/* stale: every moved part is named */
	b.template_digest = "sha256:bbbb";
	b.state_serial = 5;
	b.params = J("{\"Env\":\"dev\",\"Key\":\"hunter2\",\"New\":\"x\"}");
	value_map_get(b.params, "Key")->sensitive = 1;
	assert_null(plan_load(A, path, &b, &err));
	assert_int_equal(err.code, ERR_CONFLICT);
	assert_non_null(strstr(err.msg, "the template changed (sha256:aaaa when "
					"planned, sha256:bbbb now)"));
	assert_non_null(strstr(err.msg, "the state changed (serial 4 when "
					"planned, 5 now)"));
	assert_non_null(strstr(err.msg, "parameter \"Env\" changed"));
	assert_non_null(strstr(err.msg, "parameter \"New\" was not set when "
					"planned"));
	assert_null(strstr(err.msg, "\"Key\""));
	/* a changed secret is detected without being stored */
	b.template_digest = "sha256:aaaa";
	b.state_serial = 4;
	b.params = J("{\"Env\":\"prod\",\"Key\":\"hunter3\"}");
	value_map_get(b.params, "Key")->sensitive = 1;
	assert_null(plan_load(A, path, &b, &err));
	assert_string_equal(strchr(err.msg, ':') + 2,
			    "parameter \"Key\" changed; run 'cairn plan' again");

	/* not a plan, a future format */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "{\"format_version\":\"2\",\"resources\":[]}");
	{
		FILE *f = fopen(path, "w");
		fputs(sb.buf, f);
		fclose(f);
	}
	assert_null(plan_load(A, path, NULL, &err));
	assert_int_equal(err.code, ERR_PARSE);
	assert_non_null(strstr(err.msg, "format_version \"2\""));
	{
		FILE *f = fopen(path, "w");
		fputs("[1,2", f);
		fclose(f);
	}
	assert_null(plan_load(A, path, NULL, &err));
	assert_int_equal(err.code, ERR_PARSE);
	unlink(path);
	rmdir(dir);
	strbuf_release(&sb);
	strbuf_release(&human);
}

/* Two small plans: Logs updated (retention 7 -> `days`) and Repo created,
 * added in the order given. */
static struct plan *two_step(const char *days, bool repo_first)
{
	struct plan *p = plan_new(A);
	char desired[64];

	snprintf(desired, sizeof(desired), "{\"RetentionInDays\":%s}", days);
	if (repo_first)
		add(p, "Repo", "AWS::ECR::Repository", "{\"RepositoryName\":\"r\"}",
		    NULL, NULL, NULL);
	add(p, "Logs", "AWS::Logs::LogGroup", desired, NULL,
	    "{\"RetentionInDays\":7}", "created");
	if (!repo_first)
		add(p, "Repo", "AWS::ECR::Repository", "{\"RepositoryName\":\"r\"}",
		    NULL, NULL, NULL);
	plan_finish(p);
	return p;
}

/* apply PLANFILE runs only when the plan made now does the same work as
 * the saved one: same actions, and also the same values and order. */
static void test_same_work(void **state)
{
	struct plan *p = sample_plan(), *q;
	char dir[] = "/tmp/cairn-plan-same-XXXXXX";
	char path[256];
	struct err err = ERR_INIT;
	struct strbuf why = STRBUF_INIT;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json", dir);
	/* a saved plan does the same work as the plan it was saved from,
	 * unknowns and secrets included */
	assert_int_equal(plan_save(p, path, &err), 0);
	q = plan_load(A, path, NULL, &err);
	assert_non_null(q);
	assert_true(plan_same_work(q, p, &why));
	assert_int_equal(why.len, 0);

	/* the same action (update) with another value */
	assert_int_equal(plan_save(two_step("14", false), path, &err), 0);
	q = plan_load(A, path, NULL, &err);
	assert_non_null(q);
	assert_true(plan_same_work(q, two_step("14", false), &why));
	assert_false(plan_same_work(q, two_step("30", false), &why));
	assert_string_equal(why.buf, "\"Logs\": the change to RetentionInDays differs");
	/* no value ever in the message */
	assert_null(strstr(why.buf, "30"));

	/* the same actions and values, in another order */
	strbuf_reset(&why);
	assert_false(plan_same_work(q, two_step("14", true), &why));
	assert_string_equal(why.buf, "the order changed (planned Logs, "
				     "Repo; now Repo, Logs)");

	/* another action, a resource more, a property more */
	strbuf_reset(&why);
	{
		struct plan *r = plan_new(A);
		add(r, "Logs", "AWS::Logs::LogGroup",
		    "{\"RetentionInDays\":14,\"KmsKeyId\":\"k\"}", NULL,
		    "{\"RetentionInDays\":7}", "created");
		add(r, "Repo", "AWS::ECR::Repository", "{\"RepositoryName\":\"r\"}",
		    NULL, "{\"RepositoryName\":\"r\"}", "created");
		add(r, "Extra", "AWS::ECR::Repository", "{}", NULL, NULL, NULL);
		plan_finish(r);
		assert_false(plan_same_work(q, r, &why));
		assert_non_null(strstr(why.buf, "\"Repo\" planned create, now no-op"));
		assert_non_null(strstr(why.buf, "\"Extra\" planned no-op, now create"));
		assert_non_null(strstr(why.buf, "\"Logs\": KmsKeyId changes now, it was not planned to"));
	}
	unlink(path);
	rmdir(dir);
	strbuf_release(&why);
}

/* Damaged or hostile plan files fail with a message, never a crash. */
static void test_load_damaged(void **state)
{
	static const char *const bad[] = {
		"{\"format_version\":\"1\",\"resources\":[1,2]}",
		"{\"format_version\":\"1\",\"resources\":[{\"logical_id\":\"A\"}]}",
		"{\"format_version\":\"1\",\"resources\":[{\"logical_id\":\"A\","
		"\"type\":\"T\",\"action\":\"explode\"}]}",
		"{\"format_version\":\"1\",\"resources\":[{\"logical_id\":\"A\","
		"\"type\":\"T\",\"action\":\"update\",\"changes\":{}}]}",
		"{\"format_version\":\"1\",\"resources\":[{\"logical_id\":\"A\","
		"\"type\":\"T\",\"action\":\"update\",\"changes\":[7]}]}",
		"{\"format_version\":\"1\",\"resources\":[{\"logical_id\":\"A\","
		"\"type\":\"T\",\"action\":\"update\",\"changes\":[{\"path\":\"X\","
		"\"kind\":\"morph\"}]}]}",
		"{\"format_version\":\"1\",\"resources\":{}}",
		"{\"format_version\":1,\"resources\":[]}",
		"[]",
		"",
	};
	char path[] = "/tmp/cairn-plan-bad-XXXXXX";
	struct err err = ERR_INIT;
	struct plan_binding b;
	struct plan *p;
	size_t i;
	int fd = mkstemp(path);
	(void)state;

	assert_true(fd >= 0);
	close(fd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		err_clear(&err);
		if (plan_load(A, path, NULL, &err))
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(err.code, ERR_PARSE);
		assert_non_null(strstr(err.msg, path));
	}
	/* well formed, but the binding fields are junk: stale, not a crash */
	{
		FILE *f = fopen(path, "w");
		fputs("{\"format_version\":\"1\",\"resources\":[],\"parameters\":"
		      "{\"salt\":\"zz\",\"values\":[1]},\"state\":{\"serial\":\"x\"}}",
		      f);
		fclose(f);
	}
	memset(&b, 0, sizeof(b));
	b.template_digest = "sha256:00";
	p = plan_load(A, path, &b, &err);
	assert_null(p);
	assert_int_equal(err.code, ERR_CONFLICT);
	assert_non_null(strstr(err.msg, "the template changed"));
	assert_non_null(strstr(err.msg, "parameter fingerprints are unreadable"));
	/* a missing file */
	unlink(path);
	assert_null(plan_load(A, path, NULL, &err));
	assert_int_equal(err.code, ERR_IO);
}

/* ------------------------------------------------- plan_build (adapter) */

static const char BUILD_TMPL[] =
	"Parameters:\n"
	"  Cidr: {Type: String, Default: 10.0.0.0/16}\n"
	"  Key: {Type: String, NoEcho: true}\n"
	"Resources:\n"
	"  Vpc:\n"
	"    Type: AWS::EC2::VPC\n"
	"    Properties: {CidrBlock: !Ref Cidr}\n"
	"  Subnet:\n"
	"    Type: AWS::EC2::Subnet\n"
	"    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24}\n"
	"  Sg:\n"
	"    Type: AWS::EC2::SecurityGroup\n"
	"    Properties:\n"
	"      GroupDescription: !Sub 'in ${Vpc}'\n"
	"      SecurityGroupIngress:\n"
	"        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: !GetAtt Vpc.CidrBlock}\n"
	"  Secret:\n"
	"    Type: AWS::SecretsManager::Secret\n"
	"    Properties: {SecretString: !Ref Key}\n"
	"  Eip:\n"
	"    Type: AWS::EC2::EIP\n"
	"    Properties: {Domain: vpc}\n"
	"  Rule:\n"
	"    Type: AWS::EC2::SecurityGroupIngress\n"
	"    Properties: {GroupId: !Ref Sg, IpProtocol: tcp, FromPort: 22,\n"
	"                 ToPort: 22, CidrIp: !Sub '${Eip}/32'}\n";

/* Plans BUILD_TMPL with Cidr and Key against the state at db. */
static struct plan *build(const char *db, const char *cidr, const char *key)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct err err = ERR_INIT;
	struct tmpl_ctx ctx;
	struct template *t;
	struct tmpl_stack *st;
	struct graph *g;
	struct state *s;
	struct value *params = value_new_map(A);
	struct plan *p;

	t = template_load_buffer(A, "t.yaml", BUILD_TMPL, strlen(BUILD_TMPL),
				 &dl, &err);
	assert_non_null(t);
	tmpl_ctx_init(&ctx, A, "us-east-1", "123456789012", "t");
	value_map_set(A, params, "Cidr", value_new_string(A, cidr));
	value_map_set(A, params, "Key", value_new_string(A, key));
	ctx.params = params;
	st = template_evaluate(A, t, &ctx, &dl);
	g = graph_build(A, st, &dl);
	if (dl.errors) {
		struct strbuf sb = STRBUF_INIT;
		diag_format(&dl.items[0], &sb);
		fail_msg("template: %s", sb.buf);
	}
	diag_list_release(&dl);
	s = db ? state_open(db, 0, &err) : NULL;
	if (db && !s)
		fail_msg("state: %s", err.msg);
	p = plan_build(A, st, &ctx, g, s, &err);
	if (!p)
		fail_msg("plan_build: %s", err.msg);
	state_close(s);
	return p;
}

static void put(struct state *s, const char *id, const char *type,
		const char *phys, const char *props, const char *attrs,
		const char *sensitive_prop)
{
	struct state_resource r;
	struct err err = ERR_INIT;

	memset(&r, 0, sizeof(r));
	r.logical_id = id;
	r.type = type;
	r.physical_id = phys;
	r.properties = J(props);
	r.attributes = attrs ? J(attrs) : NULL;
	r.status = STATE_CREATED;
	if (sensitive_prop)
		value_map_get(r.properties, sensitive_prop)->sensitive = 1;
	if (state_resource_put(s, &r, &err) < 0)
		fail_msg("put %s: %s", id, err.msg);
}

static void test_build_against_state(void **state)
{
	char dir[] = "/tmp/cairn-plan-build-XXXXXX";
	char db[256];
	struct err err = ERR_INIT;
	struct state *s;
	struct plan *p;
	const struct plan_resource *it;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/t.db", dir);

	/* no state: everything created, in dependency order */
	p = build(NULL, "10.0.0.0/16", "k1");
	assert_int_equal(p->n, 6);
	assert_string_equal(p->items[0].logical_id, "Vpc");
	assert_int_equal(plan_find(p, "Subnet")->action, PLAN_CREATE);
	assert_true(plan_find(p, "Subnet")->changes.items[0].unknown);

	s = state_open(db, STATE_OPEN_CREATE | STATE_OPEN_SYNC_NORMAL, &err);
	assert_non_null(s);
	put(s, "Vpc", "AWS::EC2::VPC", "vpc-1", "{\"CidrBlock\":\"10.0.0.0/16\"}",
	    "{\"CidrBlock\":\"10.0.0.0/16\"}", NULL);
	put(s, "Subnet", "AWS::EC2::Subnet", "subnet-1",
	    "{\"VpcId\":\"vpc-1\",\"CidrBlock\":\"10.0.1.0/24\"}", NULL, NULL);
	put(s, "Sg", "AWS::EC2::SecurityGroup", "sg-1",
	    "{\"GroupDescription\":\"in vpc-1\",\"SecurityGroupIngress\":[{"
	    "\"IpProtocol\":\"tcp\",\"FromPort\":443,\"ToPort\":443,"
	    "\"CidrIp\":\"10.0.0.0/16\"}]}", NULL, NULL);
	put(s, "Secret", "AWS::SecretsManager::Secret", "arn:s",
	    "{\"SecretString\":\"k1\"}", NULL, "SecretString");
	put(s, "Gone", "AWS::Logs::LogGroup", "/gone", "{}", NULL, NULL);
	/* Ref of an EIP is its address, not its physical id: apply records
	 * it as attributes.Ref */
	put(s, "Eip", "AWS::EC2::EIP", "eipalloc-1", "{\"Domain\":\"vpc\"}",
	    "{\"Ref\":\"203.0.113.5\",\"AllocationId\":\"eipalloc-1\"}", NULL);
	put(s, "Rule", "AWS::EC2::SecurityGroupIngress", "sgr-1",
	    "{\"GroupId\":\"sg-1\",\"IpProtocol\":\"tcp\",\"FromPort\":22,"
	    "\"ToPort\":22,\"CidrIp\":\"203.0.113.5/32\"}",
	    NULL, NULL);
	state_close(s);

	/* Ref and GetAtt resolved from the state; the secret by its
	 * fingerprint; only the removed log group changes */
	p = build(db, "10.0.0.0/16", "k1");
	assert_int_equal(plan_find(p, "Vpc")->action, PLAN_NOOP);
	assert_int_equal(plan_find(p, "Subnet")->action, PLAN_NOOP);
	assert_int_equal(plan_find(p, "Sg")->action, PLAN_NOOP);
	assert_int_equal(plan_find(p, "Secret")->action, PLAN_NOOP);
	assert_int_equal(plan_find(p, "Eip")->action, PLAN_NOOP);
	/* GroupId from the group's physical id, the CIDR from the EIP's
	 * recorded Ref */
	assert_int_equal(plan_find(p, "Rule")->action, PLAN_NOOP);
	assert_int_equal(plan_find(p, "Gone")->action, PLAN_DELETE);
	assert_string_equal(p->items[p->n - 1].logical_id, "Gone");

	/* a new VPC CIDR replaces the VPC, and the replacement ripples:
	 * the subnet's VpcId (create-only) is unknown, so it is replaced
	 * too; the group's description and rule are unknown as well */
	p = build(db, "10.9.0.0/16", "k2");
	it = plan_find(p, "Vpc");
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_string_equal(it->reasons[0], "CidrBlock");
	it = plan_find(p, "Subnet");
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_string_equal(it->reasons[0], "VpcId");
	assert_true(it->changes.items[0].unknown);
	it = plan_find(p, "Sg");
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_string_equal(it->reasons[0], "GroupDescription");
	it = plan_find(p, "Secret");
	assert_int_equal(it->action, PLAN_UPDATE);
	assert_true(it->changes.items[0].sensitive);
	/* the rule's group is replaced: its GroupId (create-only) is
	 * unknown; the EIP's address is still known */
	it = plan_find(p, "Rule");
	assert_int_equal(it->action, PLAN_REPLACE);
	assert_int_equal(it->changes.n, 1);
	assert_string_equal(it->changes.items[0].path, "GroupId");
	unlink(db);
	{
		char side[300];
		snprintf(side, sizeof(side), "%s-wal", db);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", db);
		unlink(side);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scalars_coerce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_update_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kind_change_and_null, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maps_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_odd_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whole_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ordered_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_only_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknowns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sensitive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_replace_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_resources_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_human, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_work, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_against_state, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
