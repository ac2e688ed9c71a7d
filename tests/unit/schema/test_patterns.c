/*
 * Every `pattern` and patternProperties key of every type in the all-types
 * bundle (schemas/registry/all-types.bundle, about 1600 registry schemas)
 * compiles with PCRE2 the way cairn compiles them, and a match on an
 * ordinary value never errs. The only exceptions are the patterns listed
 * below, which are malformed in ECMA-262 and Java too, so that AWS cannot
 * apply them either: cairn skips them (never a false error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cairn/schema.h"
#include "internal.h"

static const char *const malformed[] = {
	/* a quantifier after the end anchor */
	"^([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,128}",
	"^([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,256}",
	/* an unterminated class */
	"^([^",
};

static int is_malformed(const char *src)
{
	size_t i;

	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		if (!strcmp(src, malformed[i]))
			return 1;
	return 0;
}

static void test_bundle_patterns_compile(void **state)
{
	size_t n, i, j, total = 0, bad = 0, skipped = 0;
	const char *const *names = schema_registry_names(&n);

	(void)state;
	assert_true(n > 1000);
	for (i = 0; i < n; i++) {
		const struct schema_type *t = schema_find(names[i]);
		if (!t)
			fail_msg("%s: in the bundle's index but not found", names[i]);
		for (j = 0; j < t->nregexes; j++, total++) {
			const struct sregex *r = t->regexes[j];
			char msg[200];
			if (schema_regex_check(r->src, msg, sizeof(msg)) < 0) {
				if (is_malformed(r->src)) {
					skipped++;
					continue;
				}
				print_error("%s: pattern %s: %s\n", t->name, r->src, msg);
				bad++;
			}
			/* a search over an ordinary value never errs */
			(void)schema_regex_match(r, "prod-1 caf\xc3\xa9");
		}
	}
	print_message("%zu patterns, %zu malformed ones skipped\n", total, skipped);
	assert_true(total > 5000);
	assert_int_equal(bad, 0);
}

/* What the adaptations mean, on patterns taken from the bundle. */
static int rx(const char *pat, const char *s)
{
	struct sregex r;
	char msg[200];

	if (schema_regex_check(pat, msg, sizeof(msg)) < 0)
		fail_msg("%s: %s", pat, msg);
	schema_regex_init(&r, pat);
	return schema_regex_match(&r, s);
}

static void test_adaptations(void **state)
{
	const char *cleanrooms =
		"^[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDBFF-\\uDC00\\uDFFF\\t\\r\\n]*$";

	(void)state;
	/* Java's \p{Print} / \p{Graph} are ASCII */
	assert_true(rx("^\\p{Print}+$", "a b~"));
	assert_false(rx("^\\p{Print}+$", "a\x01"));
	assert_false(rx("^\\p{Print}+$", "caf\xc3\xa9"));
	assert_true(rx("^[\\p{Graph}\\x20]*$", "a b"));
	assert_false(rx("^[\\p{Graph}\\x20]*$", "a\tb"));
	assert_true(rx("^\\P{Digit}+$", "ab"));
	assert_false(rx("^\\P{Digit}+$", "a1"));
	/* '-' beside \w or \p{..} is a hyphen */
	assert_true(rx("^[\\w-\\.\\+]+@([\\w-]+\\.)+[\\w-]{2,4}$", "a-b.c+d@x-y.org"));
	assert_false(rx("^[\\w-\\.\\+]+@([\\w-]+\\.)+[\\w-]{2,4}$", "a,b@x.org"));
	assert_true(rx("^(?! )[\\p{L}\\p{N}\\p{Z}-_]*(?<! )$", "a-b_c"));
	assert_false(rx("^(?! )[\\p{L}\\p{N}\\p{Z}-_]*(?<! )$", "a.b"));
	/* surrogates stand for the supplementary planes; controls stay out */
	assert_true(rx(cleanrooms, "text \xf0\x9f\x98\x80 \xe6\x9d\xb1\n"));
	assert_false(rx(cleanrooms, "bell\x07"));
	assert_false(rx(cleanrooms, "\xef\xbf\xbe")); /* U+FFFE */
	/* ranges and escapes in a class keep their meaning */
	assert_true(rx("^[-a-zA-Z0-9._/]+$", "-a/b.c_9"));
	assert_false(rx("^[-a-zA-Z0-9._/]+$", "a b"));
	assert_true(rx("^[\\-_A-Za-z0-9\\[\\]\\(\\)\\{\\}\\.: ]+$", "[a] (b) {c}."));
	assert_false(rx("^[\\-_A-Za-z0-9\\[\\]\\(\\)\\{\\}\\.: ]+$", "a|b"));
	assert_true(rx("^[^\\u0000-\\u001F]+$", "ok"));
	assert_false(rx("^[^\\u0000-\\u001F]+$", "n\x1fo"));
	/* an empty class matches nothing, [^] anything (ECMA-262) */
	assert_false(rx("^a[]b$", "ab"));
	assert_true(rx("^a[^]b$", "axb"));
	/* too large for PCRE2 as written: the bound is lifted, never tighter */
	assert_true(rx("^([a-z]|\\{day\\}|\\{month\\}){1,900}$", "ab{day}"));
	assert_false(rx("^([a-z]|\\{day\\}|\\{month\\}){1,900}$", "ab{week}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_patterns_compile),
		cmocka_unit_test(test_adaptations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
