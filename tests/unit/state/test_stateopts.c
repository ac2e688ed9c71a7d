/*
 * The CLI's state options (src/cli/stateopts.c): durations, stack names and
 * where the state file is.
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

#include "stateopts.h"

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		double seconds;
	} good[] = {
		{ "0", 0 },	 { "30", 30 },	      { "30s", 30 },
		{ "5m", 300 },	 { "1h", 3600 },      { "1h30m", 5400 },
		{ "500ms", 0.5 }, { "1.5s", 1.5 },    { "2m30s", 150 },
		{ "1h0m5s", 3605 },
	};
	static const char *const bad[] = {
		"", "-5s", "5x", "s", "m5", "5 s", "5s3", "1e400", "inf",
		"nan", "9999999h",
	};
	struct err err = ERR_INIT;
	size_t i;
	double d;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		d = -1;
		if (stateopts_parse_duration(good[i].text, &d, &err))
			fail_msg("'%s' refused: %s", good[i].text, err.msg);
		assert_float_equal(d, good[i].seconds, 1e-9);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&err);
		if (!stateopts_parse_duration(bad[i], &d, &err))
			fail_msg("'%s' accepted as %g", bad[i], d);
		assert_int_equal(err.code, ERR_USAGE);
	}
}

static void test_stack_names(void **state)
{
	(void)state;
	assert_true(stateopts_valid_stack("demo"));
	assert_true(stateopts_valid_stack("my-stack_2.prod"));
	assert_false(stateopts_valid_stack(""));
	assert_false(stateopts_valid_stack(".hidden"));
	assert_false(stateopts_valid_stack("../etc"));
	assert_false(stateopts_valid_stack("a/b"));
	assert_false(stateopts_valid_stack("a b"));
}

static void test_paths(void **state)
{
	struct stateopts o;
	struct err err = ERR_INIT;
	char dir[] = "/tmp/cairn-stateopts-XXXXXX", old[4096];
	char *p;
	FILE *f;

	(void)state;
	stateopts_init(&o);
	assert_int_equal(stateopts_handle(&o, STATEOPT_STACK, "web", &err), 1);
	p = stateopts_path(&o, NULL, "stacks/vpc.yaml", &err);
	assert_string_equal(p, "state/web.db");
	free(p);
	assert_int_equal(stateopts_handle(&o, STATEOPT_STATE, "/x/y.db", &err),
			 1);
	p = stateopts_path(&o, NULL, NULL, &err);
	assert_string_equal(p, "/x/y.db");
	free(p);
	assert_int_equal(stateopts_handle(&o, STATEOPT_STACK, "../x", &err), -1);
	assert_int_equal(stateopts_handle(&o, STATEOPT_LOCK_TIMEOUT, "2m", &err),
			 1);
	assert_float_equal(o.lock_timeout, 120, 1e-9);
	assert_int_equal(stateopts_handle(&o, 'j', NULL, &err), 0);

	stateopts_init(&o);
	p = stateopts_path(&o, NULL, "stacks/network.stack.yaml", &err);
	assert_string_equal(p, "state/network.stack.db");
	free(p);
	p = stateopts_path(&o, "given", "stacks/vpc.yaml", &err);
	assert_string_equal(p, "state/given.db");
	free(p);
	p = stateopts_path(&o, NULL, "weird name.yaml", &err);
	assert_null(p);
	assert_int_equal(err.code, ERR_USAGE);
	assert_non_null(strstr(err.msg, "--stack"));

	/* no stack at all: the only state/ *.db, else a list */
	assert_non_null(getcwd(old, sizeof(old)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	assert_null(stateopts_path(&o, NULL, NULL, &err));
	assert_non_null(strstr(err.msg, "no state/ directory"));
	assert_int_equal(mkdir("state", 0700), 0);
	f = fopen("state/one.db", "w");
	fclose(f);
	p = stateopts_path(&o, NULL, NULL, &err);
	assert_string_equal(p, "state/one.db");
	free(p);
	f = fopen("state/two.db", "w");
	fclose(f);
	assert_null(stateopts_path(&o, NULL, NULL, &err));
	assert_non_null(strstr(err.msg, "one"));
	assert_non_null(strstr(err.msg, "two"));
	unlink("state/one.db");
	unlink("state/two.db");
	rmdir("state");
	assert_int_equal(chdir(old), 0);
	rmdir(dir);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* --state, CAIRN_STATE, cairn.yaml beside the template, cairn.yaml here,
 * state/<stack>.db: in that order, with {stack}. */
static void test_locations(void **state)
{
	struct stateopts o;
	struct err err = ERR_INIT;
	char dir[] = "/tmp/cairn-stateloc-XXXXXX", old[4096];
	char *p, *b = NULL, *k = NULL;

	(void)state;
	assert_non_null(getcwd(old, sizeof(old)));
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(mkdir("infra", 0700), 0);
	unsetenv("CAIRN_STATE");
	stateopts_init(&o);

	/* nothing configured */
	p = stateopts_path(&o, NULL, "infra/web.yaml", &err);
	assert_string_equal(p, "state/web.db");
	free(p);
	/* cairn.yaml here: a string for every stack */
	write_file("cairn.yaml", "state: s3://team/cairn/{stack}.db\n");
	p = stateopts_path(&o, NULL, "infra/web.yaml", &err);
	assert_string_equal(p, "s3://team/cairn/web.db");
	free(p);
	/* beside the template wins; a map by stack, "*" for the others */
	write_file("infra/cairn.yaml",
		   "state:\n  web: s3://b1/web-state.db\n"
		   "  \"*\": s3://b2/{stack}.db\n"
		   "state_kms_key: alias/k\nstate_region: eu-west-1\n");
	p = stateopts_path(&o, NULL, "infra/web.yaml", &err);
	assert_string_equal(p, "s3://b1/web-state.db");
	free(p);
	assert_string_equal(o.kms_key, "alias/k");
	assert_string_equal(o.region, "eu-west-1");
	p = stateopts_path(&o, NULL, "infra/db.yaml", &err);
	assert_string_equal(p, "s3://b2/db.db");
	free(p);
	/* CAIRN_STATE wins over both, --state over everything */
	setenv("CAIRN_STATE", "s3://env/{stack}/state.db", 1);
	p = stateopts_path(&o, NULL, "infra/web.yaml", &err);
	assert_string_equal(p, "s3://env/web/state.db");
	free(p);
	/* {stack} without a stack is a usage error naming the variable */
	assert_null(stateopts_path(&o, NULL, NULL, &err));
	assert_int_equal(err.code, ERR_USAGE);
	assert_non_null(strstr(err.msg, "CAIRN_STATE"));
	assert_int_equal(stateopts_handle(&o, STATEOPT_STATE, "/x/y.db", &err), 1);
	p = stateopts_path(&o, NULL, "infra/web.yaml", &err);
	assert_string_equal(p, "/x/y.db");
	free(p);
	unsetenv("CAIRN_STATE");

	/* a broken cairn.yaml: an error with the file and the place */
	stateopts_init(&o);
	write_file("infra/cairn.yaml", "state: [1, 2]\n");
	assert_null(stateopts_path(&o, NULL, "infra/web.yaml", &err));
	assert_non_null(strstr(err.msg, "infra/cairn.yaml:1:"));
	write_file("infra/cairn.yaml", "state: {web: \"\"}\n");
	assert_null(stateopts_path(&o, NULL, "infra/web.yaml", &err));
	assert_non_null(strstr(err.msg, "s3://BUCKET/KEY"));
	unlink("infra/cairn.yaml");
	unlink("cairn.yaml");
	rmdir("infra");
	assert_int_equal(chdir(old), 0);
	rmdir(dir);

	/* URLs */
	assert_true(remote_is_url("s3://b/k"));
	assert_false(remote_is_url("state/s3.db"));
	assert_int_equal(remote_parse_url("s3://bkt/a/b.db", &b, &k, &err), 0);
	assert_string_equal(b, "bkt");
	assert_string_equal(k, "a/b.db");
	free(b);
	free(k);
	assert_int_equal(remote_parse_url("s3://bkt", &b, &k, &err), -1);
	assert_int_equal(remote_parse_url("s3:///k", &b, &k, &err), -1);
	assert_int_equal(remote_parse_url("s3://b/dir/", &b, &k, &err), -1);
	assert_non_null(strstr(err.msg, "s3://BUCKET/KEY"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_stack_names),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_locations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
