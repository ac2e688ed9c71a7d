/*
 * Unit tests of the all-types schema bundle (src/schema/bundle.c): the
 * index, lazy parsing of every type, the provisioning class, the
 * precedence of embedded schemas and of the schema cache, and type-name
 * suggestions. Expected values come from the registry schemas read by eye
 * (AWS::SQS::Queue: primaryIdentifier QueueUrl, createOnly FifoQueue and
 * QueueName; AWS::CloudFormation::WaitConditionHandle has no handlers).
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
#include "cairn/schema.h"
#include "cairn/value.h"
#include "cairn/strbuf.h"

static char cache_dir[] = "/tmp/cairn-schema-cache-XXXXXX";

static void test_index(void **state)
{
	bool prov = false;
	size_t n, i, nonp = 0;
	const char *const *names = schema_registry_names(&n);

	(void)state;
	assert_non_null(schema_registry_path());
	assert_non_null(schema_registry_source());
	/* the registry has well over a thousand resource types */
	assert_true(n > 1000);
	assert_int_equal(schema_registry_count(), n);
	for (i = 1; i < n; i++)
		assert_true(strcmp(names[i - 1], names[i]) < 0);
	for (i = 0; i < n; i++) {
		assert_string_equal(schema_registry_name(i, &prov), names[i]);
		nonp += !prov;
	}
	assert_true(nonp > 50 && nonp < n / 4);
	assert_null(schema_registry_name(n, &prov));
}

/* Every schema of the bundle inflates and parses into a type cairn can
 * validate against. */
static void test_every_type_parses(void **state)
{
	size_t n, i, bad = 0;
	const char *const *names = schema_registry_names(&n);

	(void)state;
	for (i = 0; i < n; i++) {
		const struct schema_type *t = schema_find(names[i]);
		if (!t) {
			fprintf(stderr, "does not parse: %s\n", names[i]);
			bad++;
			continue;
		}
		assert_string_equal(schema_type_name(t), names[i]);
	}
	assert_int_equal(bad, 0);
}

static void test_queue(void **state)
{
	const struct schema_type *t = schema_find("AWS::SQS::Queue");
	const char *const *pk;
	size_t n;

	(void)state;
	assert_non_null(t);
	assert_false(schema_native(t));
	assert_true(schema_provisionable(t));
	pk = schema_primary_identifier(t, &n);
	assert_int_equal(n, 1);
	assert_string_equal(pk[0], "QueueUrl");
	assert_non_null(schema_create_only(t, "QueueName"));
	assert_non_null(schema_create_only(t, "FifoQueue"));
	assert_null(schema_create_only(t, "VisibilityTimeout"));
	assert_true(schema_has_attribute(t, "Arn"));
	assert_true(schema_has_attribute(t, "QueueUrl"));
	/* and, as CloudFormation allows, the declared properties */
	assert_true(schema_has_attribute(t, "VisibilityTimeout"));
	assert_false(schema_has_attribute(t, "NoSuchThing"));
	/* the same parsed type every time */
	assert_ptr_equal(t, schema_find("AWS::SQS::Queue"));
}

/* CloudFormation's conversions before Cloud Control sees the values */
static void test_coerce(void **state)
{
	const struct schema_type *t = schema_find("AWS::SQS::Queue");
	struct arena *a = arena_new();
	struct err err = ERR_INIT;
	const char *in = "{\"VisibilityTimeout\":\"30\",\"FifoQueue\":\"true\","
			 "\"QueueName\":5,\"DelaySeconds\":\"x5\","
			 "\"Tags\":[{\"Key\":\"n\",\"Value\":7}]}";
	struct value *v = value_from_json(a, in, strlen(in), 0, &err);
	struct value *c;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_non_null(v);
	c = schema_coerce(t, a, v);
	value_to_json(c, &sb, 0);
	assert_string_equal(sb.buf,
			    "{\"VisibilityTimeout\":30,\"FifoQueue\":true,"
			    "\"QueueName\":\"5\",\"DelaySeconds\":\"x5\","
			    "\"Tags\":[{\"Key\":\"n\",\"Value\":\"7\"}]}");
	strbuf_release(&sb);
	arena_free(a);
}

static void test_provisioning_class(void **state)
{
	const struct schema_type *t =
		schema_find("AWS::CloudFormation::WaitConditionHandle");

	(void)state;
	assert_non_null(t);
	assert_false(schema_provisionable(t));
	t = schema_find("AWS::OpsWorks::Stack");
	assert_non_null(t);
	assert_false(schema_provisionable(t));
	t = schema_find("AWS::DynamoDB::Table");
	assert_non_null(t);
	assert_true(schema_provisionable(t));
}

static void test_embedded_wins(void **state)
{
	const struct schema_type *t = schema_find("AWS::EC2::VPC");

	(void)state;
	assert_non_null(t);
	assert_true(schema_native(t));
	assert_true(schema_provisionable(t));
	assert_null(schema_find("AWS::Nope::Nothing"));
	assert_null(schema_find(NULL));
}

static void test_suggest(void **state)
{
	(void)state;
	assert_string_equal(schema_suggest_type("AWS::SNS::Topik"),
			    "AWS::SNS::Topic");
	assert_string_equal(schema_suggest_type("aws::sqs::queue"),
			    "AWS::SQS::Queue");
	assert_string_equal(schema_suggest_type("AWS::EC2::VPc"), "AWS::EC2::VPC");
	assert_null(schema_suggest_type("Foo::Bar::Baz"));
}

/* A schema `cairn schema update` cached wins over the bundle's, with the
 * provisioning type DescribeType reported. */
static void test_cache_wins(void **state)
{
	char *path = schema_cache_file(cache_dir, "AWS::SNS::Topic");
	const char *doc =
		"{\"TypeName\":\"AWS::SNS::Topic\",\"ProvisioningType\":"
		"\"NON_PROVISIONABLE\",\"Schema\":\"{\\\"typeName\\\":"
		"\\\"AWS::SNS::Topic\\\",\\\"properties\\\":{\\\"Only\\\":"
		"{\\\"type\\\":\\\"string\\\"},\\\"Arn\\\":{\\\"type\\\":"
		"\\\"string\\\"}},\\\"primaryIdentifier\\\":[\\\"/properties/Arn\\\"],"
		"\\\"readOnlyProperties\\\":[\\\"/properties/Arn\\\"]}\"}";
	const struct schema_type *t;
	FILE *f;

	(void)state;
	assert_string_equal(path + strlen(cache_dir), "/AWS-SNS-Topic.json");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(doc, f);
	fclose(f);
	t = schema_find("AWS::SNS::Topic");
	assert_non_null(t);
	assert_false(schema_provisionable(t));
	assert_true(schema_has_attribute(t, "Arn"));
	assert_false(schema_has_attribute(t, "TopicArn"));
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_coerce),
		cmocka_unit_test(test_provisioning_class),
		cmocka_unit_test(test_embedded_wins),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_cache_wins),
		cmocka_unit_test(test_every_type_parses),
	};
	int rc;

	if (!mkdtemp(cache_dir))
		return 1;
	setenv("CAIRN_SCHEMA_CACHE", cache_dir, 1);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(cache_dir);
	return rc;
}
