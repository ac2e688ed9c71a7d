#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/arena.h"
#include "cairn/diag.h"
#include "cairn/err.h"
#include "cairn/clock.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"

static void test_strbuf(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	assert_string_equal(sb.buf, "");
	strbuf_addstr(&sb, "abc");
	strbuf_addf(&sb, "-%d-%s", 42, "x");
	assert_string_equal(sb.buf, "abc-42-x");
	strbuf_reset(&sb);
	strbuf_add_json_str(&sb, "a\"b\\\n\x01", 6);
	assert_string_equal(sb.buf, "\"a\\\"b\\\\\\n\\u0001\"");
	strbuf_release(&sb);
}

static void test_err(void **state)
{
	struct err err = ERR_INIT;
	(void)state;
	assert_int_equal(err_set(&err, ERR_NOT_FOUND, "vpc \"%s\" not found", "v"), -1);
	err_prefix(&err, "resource %s: ", "Vpc");
	assert_string_equal(err.msg, "resource Vpc: vpc \"v\" not found");
	assert_string_equal(err_code_name(err.code), "not_found");
}

static void test_value_json_roundtrip(void **state)
{
	struct arena *a = arena_new();
	struct err err = ERR_INIT;
	const char *in = "{\"b\":[1,\"x\",true,null],\"a\":{\"$unknown\":\"X.Arn\"}}";
	struct value *v = value_from_json(a, in, strlen(in),
					  VALUE_JSON_UNKNOWN_MARKER, &err);
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	assert_non_null(v);
	assert_int_equal(value_map_get(v, "a")->kind, VALUE_UNKNOWN);
	assert_string_equal(value_str(value_get_path(v, "b[1]")), "x");
	value_to_json(v, &sb, VALUE_JSON_UNKNOWN_MARKER | VALUE_JSON_SORT_KEYS);
	assert_string_equal(sb.buf, "{\"a\":{\"$unknown\":\"X.Arn\"},\"b\":[1,\"x\",true,null]}");
	assert_false(value_equal(value_map_get(v, "a"), value_map_get(v, "a")));
	assert_true(value_equal(value_map_get(v, "b"), value_copy(a, value_map_get(v, "b"))));
	assert_null(value_from_json(a, "{", 1, 0, &err));
	assert_int_equal(err.code, ERR_PARSE);
	strbuf_release(&sb);
	arena_free(a);
}

static void test_value_sensitive_redact(void **state)
{
	struct arena *a = arena_new();
	struct value *m = value_new_map(a);
	struct value *s = value_new_string(a, "hunter2");
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	s->sensitive = 1;
	value_map_set(a, m, "SecretString", s);
	assert_true(value_has_sensitive(m));
	value_to_json(m, &sb, VALUE_JSON_REDACT);
	assert_null(strstr(sb.buf, "hunter2"));
	assert_non_null(strstr(sb.buf, "(sensitive)"));
	strbuf_release(&sb);
	arena_free(a);
}

static void test_diag_sort_format(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct mark m1 = { "t.yaml", 9, 3 }, m2 = { "t.yaml", 2, 5 };
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	diag_add(&dl, DIAG_ERROR, &m1, "Vpc", "Properties.CidrBlock", "bad %s", "cidr");
	diag_add(&dl, DIAG_ERROR, &m2, NULL, NULL, "first");
	diag_sort(&dl);
	diag_format(&dl.items[1], &sb);
	assert_string_equal(sb.buf, "t.yaml:9:3: error: Resources.Vpc.Properties.CidrBlock: bad cidr");
	assert_int_equal(dl.errors, 2);
	strbuf_release(&sb);
	diag_list_release(&dl);
}

/* env_seconds: the default for anything but a number inside [lo, hi]. */
static void test_env_seconds(void **state)
{
	static const struct {
		const char *text;
		double want;
	} cases[] = {
		{ NULL, 7 },   { "", 7 },     { "2.5", 2.5 }, { "0", 0 },
		{ "-1", 7 },   { "61", 7 },   { "60", 60 },   { "5s", 7 },
		{ "abc", 7 },  { " ", 7 },    { "1e1", 10 },  { "nan", 7 },
	};
	size_t i;
	double t0, t1;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].text)
			setenv("CAIRN_TEST_SECONDS", cases[i].text, 1);
		else
			unsetenv("CAIRN_TEST_SECONDS");
		if (env_seconds("CAIRN_TEST_SECONDS", 7, 0, 60) !=
		    cases[i].want)
			fail_msg("\"%s\": got %g, want %g",
				 cases[i].text ? cases[i].text : "(unset)",
				 env_seconds("CAIRN_TEST_SECONDS", 7, 0, 60),
				 cases[i].want);
	}
	unsetenv("CAIRN_TEST_SECONDS");
	t0 = mono_seconds();
	t1 = mono_seconds();
	assert_true(t1 >= t0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf),
		cmocka_unit_test(test_env_seconds),
		cmocka_unit_test(test_err),
		cmocka_unit_test(test_value_json_roundtrip),
		cmocka_unit_test(test_value_sensitive_redact),
		cmocka_unit_test(test_diag_sort_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
