/*
 * Unit tests of the Cloud Control provider's pure parts: which types the
 * provider table sends to it, and the RFC 6902 patch it computes. The
 * expected patches are written by hand from RFC 6902 / RFC 6901.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cairn/arena.h"
#include "cairn/provider.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"
#include "prov_int.h"

static struct value *json(struct arena *a, const char *text)
{
	struct err err = ERR_INIT;
	struct value *v = value_from_json(a, text, strlen(text), 0, &err);

	assert_non_null(v);
	return v;
}

static char *to_json(struct arena *a, const struct value *v)
{
	struct strbuf sb;
	char *s;

	strbuf_init(&sb, 64);
	value_to_json(v, &sb, VALUE_JSON_SORT_KEYS);
	s = arena_strdup(a, sb.buf);
	strbuf_release(&sb);
	return s;
}

static void test_fallback(void **state)
{
	const struct provider *p;

	(void)state;
	p = provider_find("AWS::SQS::Queue");
	assert_non_null(p);
	assert_ptr_equal(p, &prov_cloudcontrol);
	assert_non_null(p->create);
	assert_non_null(p->read);
	assert_non_null(p->update);
	assert_non_null(p->delete);
	assert_non_null(p->find);
	assert_ptr_equal(provider_find("AWS::SNS::Topic"), &prov_cloudcontrol);
	/* native types keep their own provider */
	p = provider_find("AWS::Logs::LogGroup");
	assert_non_null(p);
	assert_string_equal(p->type, "AWS::Logs::LogGroup");
	assert_ptr_not_equal(p, &prov_cloudcontrol);
	/* not provisionable, or unknown: nobody */
	assert_null(provider_find("AWS::OpsWorks::Stack"));
	assert_null(provider_find("AWS::CloudFormation::WaitConditionHandle"));
	assert_null(provider_find("AWS::Nope::Nothing"));
	/* the table itself lists the native providers only */
	assert_int_equal(provider_count(), 30);
}

static void test_patch(void **state)
{
	struct arena *a = arena_new();
	struct value *old = json(a, "{\"A\":1,\"B\":{\"x\":[1,2]},\"C\":\"keep\","
				    "\"D\":true}");
	struct value *new = json(a, "{\"A\":2,\"B\":{\"x\":[1,2]},\"C\":\"keep\","
				    "\"E\":[\"n\"]}");

	(void)state;
	assert_string_equal(
		to_json(a, cc_json_patch(a, old, new)),
		"[{\"op\":\"add\",\"path\":\"/A\",\"value\":2},"
		"{\"op\":\"add\",\"path\":\"/E\",\"value\":[\"n\"]},"
		"{\"op\":\"remove\",\"path\":\"/D\"}]");
	/* nothing changed: no operation */
	assert_int_equal(cc_json_patch(a, old, old)->u.list.n, 0);
	/* RFC 6901 escapes in keys: '~' -> ~0, '/' -> ~1 */
	assert_string_equal(
		to_json(a, cc_json_patch(a, json(a, "{}"),
					 json(a, "{\"a/b~c\":1}"))),
		"[{\"op\":\"add\",\"path\":\"/a~1b~0c\",\"value\":1}]");
	/* a null in the new properties is "not set": removed */
	assert_string_equal(to_json(a, cc_json_patch(a, json(a, "{\"a\":1}"),
						     json(a, "{\"a\":null}"))),
			    "[{\"op\":\"remove\",\"path\":\"/a\"}]");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_patch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
