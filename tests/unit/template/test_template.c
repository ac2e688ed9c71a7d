/*
 * Unit tests of the template engine: the loader, every intrinsic,
 * parameters and their constraints, conditions. Expected values are worked
 * out by hand from the CloudFormation documentation (Fn::Cidr and
 * Fn::Base64 vectors come from the AWS docs / RFC 4648), never taken from
 * the code's own output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/template.h"

struct fx {
	struct arena *a;
	struct diag_list dl;
	struct template *t;
	struct tmpl_stack *st;
	struct tmpl_ctx ctx;
	struct strbuf text; /* all diags, one per line */
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->a = arena_new();
	strbuf_init(&f->text, 0);
	tmpl_ctx_init(&f->ctx, f->a, "eu-west-1", "111122223333", "demo");
	f->ctx.missing_params_unknown = false;
	return f;
}

static void fx_free(struct fx *f)
{
	diag_list_release(&f->dl);
	strbuf_release(&f->text);
	arena_free(f->a);
	free(f);
}

static void fx_text(struct fx *f)
{
	size_t i;

	strbuf_reset(&f->text);
	diag_sort(&f->dl);
	for (i = 0; i < f->dl.n; i++) {
		diag_format(&f->dl.items[i], &f->text);
		strbuf_addch(&f->text, '\n');
	}
}

/* Loads and evaluates src as "t.yaml". */
static struct fx *run(const char *src)
{
	struct fx *f = fx_new();
	struct err err = ERR_INIT;

	f->t = template_load_buffer(f->a, "t.yaml", src, strlen(src), &f->dl, &err);
	if (f->t)
		f->st = template_evaluate(f->a, f->t, &f->ctx, &f->dl);
	fx_text(f);
	return f;
}

static struct fx *run_ctx(const char *src, void (*setup)(struct fx *))
{
	struct fx *f = fx_new();
	struct err err = ERR_INIT;

	setup(f);
	f->t = template_load_buffer(f->a, "t.yaml", src, strlen(src), &f->dl, &err);
	if (f->t)
		f->st = template_evaluate(f->a, f->t, &f->ctx, &f->dl);
	fx_text(f);
	return f;
}

static const struct value *prop(struct fx *f, const char *res, const char *path)
{
	size_t i;

	for (i = 0; i < f->st->nresources; i++)
		if (!strcmp(f->st->resources[i].res->logical_id, res))
			return value_get_path(f->st->resources[i].properties, path);
	return NULL;
}

static void assert_str(const struct value *v, const char *want)
{
	assert_non_null(v);
	if (v->kind != VALUE_STRING)
		fail_msg("expected string \"%s\", got kind %s", want,
			 value_kind_name(v->kind));
	assert_string_equal(v->u.str.s, want);
}

static void assert_unknown(const struct value *v, const char *what)
{
	assert_non_null(v);
	if (v->kind != VALUE_UNKNOWN)
		fail_msg("expected unknown \"%s\", got kind %s", what,
			 value_kind_name(v->kind));
	assert_string_equal(v->u.unknown.what, what);
}

static void assert_clean(struct fx *f)
{
	if (f->dl.errors)
		fail_msg("unexpected problems:\n%s", f->text.buf);
}

#define HDR "Resources:\n"

static void assert_has(struct fx *f, const char *want)
{
	if (!strstr(f->text.buf, want))
		fail_msg("wanted:\n%s\nin:\n%s", want, f->text.buf);
}

/* ---- loader ---- */

static void test_load_scalars_and_marks(void **state)
{
	const char *src = "a: true\n"
			  "b: 010\n"
			  "c: ~\n"
			  "d: \"true\"\n"
			  "e: 1.50\n"
			  "f: hello world\n"
			  "g: 2010-09-09\n"
			  "h: 0x1F\n"
			  "i: ''\n";
	struct arena *a = arena_new();
	struct diag_list dl = DIAG_LIST_INIT;
	struct value *v;
	(void)state;

	v = template_parse_yaml(a, "s.yaml", src, strlen(src), &dl);
	assert_non_null(v);
	assert_int_equal(dl.n, 0);
	assert_int_equal(value_map_get(v, "a")->kind, VALUE_BOOL);
	assert_true(value_map_get(v, "a")->u.b);
	assert_int_equal(value_map_get(v, "b")->kind, VALUE_NUMBER);
	assert_string_equal(value_map_get(v, "b")->u.num.text, "010");
	assert_int_equal(value_map_get(v, "c")->kind, VALUE_NULL);
	assert_str(value_map_get(v, "d"), "true");
	assert_string_equal(value_map_get(v, "e")->u.num.text, "1.50");
	assert_str(value_map_get(v, "f"), "hello world");
	assert_str(value_map_get(v, "g"), "2010-09-09");
	assert_true(value_map_get(v, "h")->u.num.d == 31.0);
	assert_str(value_map_get(v, "i"), "");
	/* marks are 1-based line:col of the value */
	assert_int_equal(value_map_get(v, "f")->mark.line, 6);
	assert_int_equal(value_map_get(v, "f")->mark.col, 4);
	assert_string_equal(value_map_get(v, "f")->mark.file, "s.yaml");
	assert_int_equal(v->u.map.items[2].key_mark.line, 3);
	assert_int_equal(v->u.map.items[2].key_mark.col, 1);
	diag_list_release(&dl);
	arena_free(a);
}

static void test_load_short_tags(void **state)
{
	const char *src = "a: !Ref Vpc\n"
			  "b: !GetAtt Db.Endpoint.Address\n"
			  "c: !Sub 'x-${AWS::Region}'\n"
			  "d: !Join [',', [a, b]]\n"
			  "e: !Condition IsProd\n"
			  "f: !GetAtt [Vpc, CidrBlock]\n";
	struct arena *a = arena_new();
	struct diag_list dl = DIAG_LIST_INIT;
	struct value *v;
	(void)state;

	v = template_parse_yaml(a, "s.yaml", src, strlen(src), &dl);
	assert_non_null(v);
	assert_int_equal(dl.n, 0);
	assert_str(value_get_path(v, "a.Ref"), "Vpc");
	assert_str(value_get_path(v, "b.Fn::GetAtt[0]"), "Db");
	assert_str(value_get_path(v, "b.Fn::GetAtt[1]"), "Endpoint.Address");
	assert_str(value_get_path(v, "c.Fn::Sub"), "x-${AWS::Region}");
	assert_str(value_get_path(v, "d.Fn::Join[1][1]"), "b");
	assert_str(value_get_path(v, "e.Condition"), "IsProd");
	assert_str(value_get_path(v, "f.Fn::GetAtt[1]"), "CidrBlock");
	/* the tag's mark: line 2, column 4 */
	assert_int_equal(value_map_get(v, "b")->mark.line, 2);
	assert_int_equal(value_map_get(v, "b")->mark.col, 4);
	diag_list_release(&dl);
	arena_free(a);
}

static void expect_load_error(const char *src, size_t len, const char *want)
{
	struct arena *a = arena_new();
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	template_parse_yaml(a, "bad.yaml", src, len, &dl);
	for (i = 0; i < dl.n; i++) {
		diag_format(&dl.items[i], &sb);
		strbuf_addch(&sb, '\n');
	}
	if (!strstr(sb.buf, want))
		fail_msg("wanted \"%s\" in:\n%s", want, sb.buf);
	assert_true(dl.errors > 0);
	strbuf_release(&sb);
	diag_list_release(&dl);
	arena_free(a);
}

static void test_load_errors(void **state)
{
	(void)state;
	expect_load_error("a: 1\nb: 2\na: 3\n", 15,
			  "bad.yaml:3:1: error: duplicate key \"a\" (first at "
			  "line 1, column 1)");
	expect_load_error("a:\n  b: 1\n\tc: 2\n", 16,
			  "bad.yaml:3:1: error: tab character in indentation");
	expect_load_error("a: b\nc: \xff\xfe\n", 10,
			  "bad.yaml:2:4: error: invalid UTF-8 byte 0xff");
	expect_load_error("a: \xc3\x28\n", 6,
			  "bad.yaml:1:4: error: invalid UTF-8 byte 0xc3");
	expect_load_error("a: !Bogus x\n", 12,
			  "bad.yaml:1:4: error: unknown tag \"!Bogus\"");
	expect_load_error("a: [1, 2\n", 9, "bad.yaml:2:1: error: malformed YAML");
	expect_load_error("a: 1\n---\nb: 2\n", 14,
			  "bad.yaml:2:1: error: more than one YAML document");
	expect_load_error("a: *nope\n", 9,
			  "bad.yaml:1:4: error: alias \"*nope\" refers to no anchor");
	expect_load_error("", 0, "error: the file is empty");
	/* JSON indented with tabs is fine; its syntax errors are not blamed
	 * on the tabs */
	expect_load_error("{\n\t\"a\": {\"b\": 1}\n\t\"c\": 2\n}\n", 26,
			  "bad.yaml:3:2: error: JSON not well-formed: expected "
			  "',' or '}' after an object member");
	{
		const char *j = "{\n\t\"a\": {\"b\": 1},\n\t\"c\": [\n\t\t2]\n}\n";
		struct arena *a = arena_new();
		struct diag_list dl = DIAG_LIST_INIT;
		assert_non_null(template_parse_yaml(a, "j", j, strlen(j), &dl));
		assert_int_equal(dl.n, 0);
		diag_list_release(&dl);
		arena_free(a);
	}
	{
		/* a big map goes through the hash table */
		struct strbuf sb = STRBUF_INIT;
		int i;
		for (i = 0; i < 40; i++)
			strbuf_addf(&sb, "k%d: %d\n", i, i);
		strbuf_addstr(&sb, "k3: again\nk39: again\n");
		expect_load_error(sb.buf, sb.len,
				  "bad.yaml:41:1: error: duplicate key \"k3\" "
				  "(first at line 4, column 1)\n"
				  "bad.yaml:42:1: error: duplicate key \"k39\" "
				  "(first at line 40, column 1)\n");
		strbuf_release(&sb);
	}
}

static void test_load_depth_limit(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	int i;
	(void)state;

	for (i = 0; i < 64; i++)
		strbuf_addch(&sb, '[');
	for (i = 0; i < 64; i++)
		strbuf_addch(&sb, ']');
	{
		/* exactly 64 levels load */
		struct arena *a = arena_new();
		struct diag_list dl = DIAG_LIST_INIT;
		assert_non_null(template_parse_yaml(a, "d", sb.buf, sb.len, &dl));
		diag_list_release(&dl);
		arena_free(a);
	}
	strbuf_reset(&sb);
	for (i = 0; i < 100000; i++)
		strbuf_addch(&sb, '[');
	expect_load_error(sb.buf, sb.len,
			  "bad.yaml:1:65: error: nesting deeper than 64 levels");
	strbuf_release(&sb);
}

static void test_load_billion_laughs(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	int i, j;
	(void)state;

	strbuf_addstr(&sb, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 10; i++) {
		strbuf_addf(&sb, "a%d: &a%d [", i, i);
		for (j = 0; j < 10; j++)
			strbuf_addf(&sb, "%s*a%d", j ? ", " : "", i - 1);
		strbuf_addstr(&sb, "]\n");
	}
	expect_load_error(sb.buf, sb.len, "expands to more than 2000000 nodes");
	strbuf_release(&sb);
}

static void test_load_aliases_ok(void **state)
{
	const char *src = "base: &b {x: 1}\nother: *b\n";
	struct arena *a = arena_new();
	struct diag_list dl = DIAG_LIST_INIT;
	struct value *v;
	(void)state;

	v = template_parse_yaml(a, "s", src, strlen(src), &dl);
	assert_non_null(v);
	assert_string_equal(value_get_path(v, "other.x")->u.num.text, "1");
	diag_list_release(&dl);
	arena_free(a);
}

/* YAML 1.1 merge keys, as `aws cloudformation package` resolves them: the
 * map's own keys win wherever they are written, then the merged maps in
 * the order listed; a quoted "<<" is an ordinary key. */
static void test_load_merge_keys(void **state)
{
	const char *src = "a: &a {x: 1, y: 1}\n"
			  "b: &b {y: 2, z: 2}\n"
			  "one:\n  w: 0\n  <<: *a\n  x: 9\n"
			  "two:\n  <<: [*b, *a]\n"
			  "three: {'<<': *a}\n";
	struct arena *a = arena_new();
	struct diag_list dl = DIAG_LIST_INIT;
	struct value *v;
	const struct value *one;
	(void)state;

	v = template_parse_yaml(a, "s", src, strlen(src), &dl);
	assert_non_null(v);
	assert_int_equal(dl.errors, 0);
	one = value_map_get(v, "one");
	assert_int_equal(one->u.map.n, 3);
	assert_string_equal(value_get_path(v, "one.x")->u.num.text, "9");
	assert_string_equal(value_get_path(v, "one.y")->u.num.text, "1");
	assert_null(value_map_get(one, "<<"));
	assert_string_equal(value_get_path(v, "two.y")->u.num.text, "2");
	assert_string_equal(value_get_path(v, "two.x")->u.num.text, "1");
	assert_string_equal(value_get_path(v, "two.z")->u.num.text, "2");
	assert_non_null(value_map_get(value_map_get(v, "three"), "<<"));
	diag_list_release(&dl);
	arena_free(a);
	expect_load_error("a: 1\nb:\n  <<: 5\n", 15,
			  "bad.yaml:3:3: error: a merge key (<<) takes a map or "
			  "a list of maps, not a number");
}

static void test_load_too_big(void **state)
{
	size_t n = TEMPLATE_MAX_BYTES + 1;
	char *big = malloc(n);
	(void)state;

	memset(big, ' ', n);
	expect_load_error(big, n, "error: file is larger than 10 MB");
	free(big);
}

static void test_load_json(void **state)
{
	struct fx *f = run("{\"Resources\": {\"Vpc\": {\"Type\": "
			   "\"AWS::EC2::VPC\", \"Properties\": {\"CidrBlock\": "
			   "{\"Fn::Sub\": \"10.${N}.0.0/16\"}}}},\n"
			   "\"Parameters\": {\"N\": {\"Type\": \"Number\", "
			   "\"Default\": 3}}}");
	(void)state;
	assert_clean(f);
	assert_str(prop(f, "Vpc", "CidrBlock"), "10.3.0.0/16");
	fx_free(f);
}

/* JSON templates are held to RFC 8259, as CloudFormation holds them ("JSON
 * not well-formed"), though YAML would take every one of these. */
static void test_load_json_strict(void **state)
{
	static const struct {
		const char *src, *want;
	} bad[] = {
		{ "{\"Resources\": {\"A\": 1,}}",
		  "bad.yaml:1:23: error: JSON not well-formed: trailing comma" },
		{ "{\"Resources\": [1, 2,\n]}",
		  "bad.yaml:2:1: error: JSON not well-formed: trailing comma" },
		{ "{\n  # note\n  \"Resources\": {}}",
		  "bad.yaml:2:3: error: JSON not well-formed: comments" },
		{ "{Resources: {}}", "bad.yaml:1:2: error: JSON not well-formed: "
				      "object keys must be double-quoted" },
		{ "{\"R\": 'x'}", "bad.yaml:1:7: error: JSON not well-formed: "
				   "strings take double quotes" },
		{ "{\"R\": 01}", "1:8: error: JSON not well-formed: number with "
				  "a leading zero" },
		{ "{\"R\": 1.}", "1:9: error: JSON not well-formed: a digit must "
				  "follow the decimal point" },
		{ "{\"R\": \"a\\x\"}", "JSON not well-formed: invalid escape" },
		{ "{\"R\": \"a\nb\"}", "JSON not well-formed: line break inside "
					 "a string" },
		{ "{\"R\": tru}", "1:7: error: JSON not well-formed: expected a "
				   "value" },
		{ "{\"R\": 1} {}", "1:10: error: JSON not well-formed: content "
				    "after the end" },
		{ "{\"R\": {\"a\": 1 \"b\": 2}}", "1:15: error: JSON not "
			"well-formed: expected ',' or '}' after an object member" },
		{ "{\"R\": [1 2]}", "1:10: error: JSON not well-formed: expected "
				     "',' or ']' after an array element" },
		{ "{\"R\": {", "JSON not well-formed: unexpected end of file" },
		{ "{\"R\": \"\\u12\"}", "JSON not well-formed: \\u needs four" },
	};
	struct fx *f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_load_error(bad[i].src, strlen(bad[i].src), bad[i].want);
	/* what JSON does allow still loads: escapes, exponents, literals, a
	 * byte order mark, an empty container */
	f = run("\xef\xbb\xbf {\"Resources\": {\"G\": {\"Type\": "
		"\"AWS::Logs::LogGroup\", \"Properties\": {\"LogGroupName\": "
		"\"a\\/b\\u0063\", \"Tags\": []}}},\n"
		"\"Outputs\": {\"O\": {\"Value\": {\"Fn::Join\": [\"\", "
		"[\"x\", \"-1.5e3\"]]}}}, \"Metadata\": {\"n\": [-0.5E+2, true, "
		"false, null, {}]}}");
	assert_clean(f);
	assert_str(prop(f, "G", "LogGroupName"), "a/bc");
	fx_free(f);
}

/* ---- structure ---- */

static void test_unknown_section_and_attribute(void **state)
{
	struct fx *f = run("Resources:\n"
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Propertise: {}\n"
			   "Outputz: {}\n");
	(void)state;
	assert_has(f,
		"t.yaml:4:5: error: Resources.Vpc: unknown resource attribute "
		"\"Propertise\" (did you mean \"Properties\"?)\n");
	assert_has(f,
		"t.yaml:5:1: error: unknown top-level section \"Outputz\" (did "
		"you mean \"Outputs\"?)\n");
	fx_free(f);
}

static void test_unsupported_type(void **state)
{
	/* far from every embedded type: no "did you mean" */
	struct fx *f = run(HDR "  B:\n    Type: AWS::Qqq::Zzzzz\n");
	(void)state;
	assert_has(f,
		"t.yaml:3:11: error: Resources.B.Type: unsupported resource "
		"type \"AWS::Qqq::Zzzzz\" (supported: ");
	assert_has(f, "AWS::EC2::VPC");
	fx_free(f);
}

/* ---- intrinsics ---- */

static void test_ref_and_pseudo(void **state)
{
	struct fx *f = run("Parameters:\n"
			   "  Name: {Type: String, Default: web}\n"
			   HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Properties:\n"
			   "      CidrBlock: 10.0.0.0/16\n"
			   "      Tags:\n"
			   "        - {Key: a, Value: !Ref Name}\n"
			   "        - {Key: b, Value: !Ref AWS::Region}\n"
			   "        - {Key: c, Value: !Ref AWS::AccountId}\n"
			   "        - {Key: d, Value: !Ref AWS::StackName}\n"
			   "        - {Key: e, Value: !Ref AWS::Partition}\n"
			   "        - {Key: f, Value: !Ref AWS::URLSuffix}\n"
			   "        - {Key: g, Value: !Ref AWS::StackId}\n"
			   "  Sn:\n"
			   "    Type: AWS::EC2::Subnet\n"
			   "    Properties:\n"
			   "      VpcId: !Ref Vpc\n"
			   "      CidrBlock: !GetAtt Vpc.CidrBlock\n");
	(void)state;
	assert_clean(f);
	assert_str(prop(f, "Vpc", "Tags[0].Value"), "web");
	assert_str(prop(f, "Vpc", "Tags[1].Value"), "eu-west-1");
	assert_str(prop(f, "Vpc", "Tags[2].Value"), "111122223333");
	assert_str(prop(f, "Vpc", "Tags[3].Value"), "demo");
	assert_str(prop(f, "Vpc", "Tags[4].Value"), "aws");
	assert_str(prop(f, "Vpc", "Tags[5].Value"), "amazonaws.com");
	assert_str(prop(f, "Vpc", "Tags[6].Value"),
		   "arn:aws:cloudformation:eu-west-1:111122223333:stack/demo/"
		   "00000000-0000-4000-8000-000000000000");
	assert_unknown(prop(f, "Sn", "VpcId"), "Vpc");
	assert_unknown(prop(f, "Sn", "CidrBlock"), "Vpc.CidrBlock");
	/* the evaluator recorded both references */
	assert_int_equal(f->st->resources[1].nrefs, 2);
	assert_string_equal(f->st->resources[1].refs[0].target, "Vpc");
	assert_int_equal(f->st->resources[1].refs[1].kind, TMPL_REF_GETATT);
	fx_free(f);
}

static void test_ref_errors(void **state)
{
	struct fx *f = run(HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Properties:\n"
			   "      CidrBlock: !Ref Vcp\n"
			   "      Tags:\n"
			   "        - Key: a\n"
			   "          Value: !GetAtt Vpc.NoSuchAttr\n");
	(void)state;
	assert_has(f,
		"t.yaml:5:18: error: Resources.Vpc.Properties.CidrBlock: "
		"unresolved reference \"Vcp\": no parameter or resource has "
		"that name (did you mean \"Vpc\"?)\n");
	assert_has(f,
		"t.yaml:8:18: error: Resources.Vpc.Properties.Tags[0].Value: "
		"Vpc has no attribute \"NoSuchAttr\" (type AWS::EC2::VPC has: ");
	fx_free(f);
}

static void test_sub(void **state)
{
	struct fx *f = run("Parameters:\n"
			   "  Env: {Type: String, Default: prod}\n"
			   HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Properties:\n"
			   "      CidrBlock: 10.0.0.0/16\n"
			   "      Tags:\n"
			   "        - {Key: a, Value: !Sub '${Env}-${AWS::Region}-${!Literal}'}\n"
			   "        - {Key: b, Value: !Sub ['${X}/${Env}', {X: !Ref AWS::AccountId}]}\n"
			   "        - {Key: c, Value: !Sub 'vpc ${Vpc} in ${Vpc.CidrBlock}'}\n"
			   "        - {Key: d, Value: !Sub 'plain'}\n");
	(void)state;
	assert_clean(f);
	assert_str(prop(f, "Vpc", "Tags[0].Value"), "prod-eu-west-1-${Literal}");
	assert_str(prop(f, "Vpc", "Tags[1].Value"), "111122223333/prod");
	assert_unknown(prop(f, "Vpc", "Tags[2].Value"),
		       "vpc ${Vpc} in ${Vpc.CidrBlock}");
	assert_str(prop(f, "Vpc", "Tags[3].Value"), "plain");
	fx_free(f);
}

static void test_join_select_split_getazs(void **state)
{
	struct fx *f = run(HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Properties:\n"
			   "      CidrBlock: 10.0.0.0/16\n"
			   "      Tags:\n"
			   "        - {Key: a, Value: !Join ['-', [x, 1, !Ref AWS::Region]]}\n"
			   "        - {Key: b, Value: !Select [1, !GetAZs '']}\n"
			   "        - {Key: c, Value: !Select ['2', !Split [',', 'p,q,r']]}\n"
			   "        - {Key: d, Value: !Join [':', !Split ['|', 'a||b']]}\n"
			   "        - {Key: e, Value: !Join ['', [!Ref Vpc, '/x']]}\n"
			   "        - {Key: f, Value: !Select [0, !GetAZs {Ref: 'AWS::Region'}]}\n");
	(void)state;
	assert_clean(f);
	assert_str(prop(f, "Vpc", "Tags[0].Value"), "x-1-eu-west-1");
	assert_str(prop(f, "Vpc", "Tags[1].Value"), "eu-west-1b");
	assert_str(prop(f, "Vpc", "Tags[2].Value"), "r");
	assert_str(prop(f, "Vpc", "Tags[3].Value"), "a::b");
	assert_unknown(prop(f, "Vpc", "Tags[4].Value"), "${Vpc}/x");
	assert_str(prop(f, "Vpc", "Tags[5].Value"), "eu-west-1a");
	fx_free(f);
}

static void no_azs(struct fx *f)
{
	f->ctx.azs = NULL;
	f->ctx.nazs = 0;
}

static void test_getazs_unknown(void **state)
{
	struct fx *f = run_ctx(HDR
			       "  S:\n"
			       "    Type: AWS::EC2::Subnet\n"
			       "    Properties:\n"
			       "      VpcId: vpc-1\n"
			       "      CidrBlock: 10.0.0.0/24\n"
			       "      AvailabilityZone: !Select [0, !GetAZs '']\n",
			       no_azs);
	(void)state;
	assert_clean(f);
	assert_unknown(prop(f, "S", "AvailabilityZone"), "Fn::GetAZs[0]");
	fx_free(f);
}

static void test_select_out_of_range(void **state)
{
	struct fx *f = run(HDR
			   "  S:\n"
			   "    Type: AWS::EC2::Subnet\n"
			   "    Properties:\n"
			   "      VpcId: vpc-1\n"
			   "      CidrBlock: 10.0.0.0/24\n"
			   "      AvailabilityZone: !Select [3, !GetAZs '']\n");
	(void)state;
	assert_has(f,
		"t.yaml:7:34: error: Resources.S.Properties.AvailabilityZone: "
		"Fn::Select index 3 is out of range (the list has 3 items)\n");
	fx_free(f);
}

static void test_conditions_if_novalue(void **state)
{
	struct fx *f = run("Parameters:\n"
			   "  Env: {Type: String, Default: prod, AllowedValues: [prod, dev]}\n"
			   "Conditions:\n"
			   "  IsProd: !Equals [!Ref Env, prod]\n"
			   "  IsDev: !Not [!Condition IsProd]\n"
			   "  Both: !And [!Condition IsProd, !Equals [1, '1']]\n"
			   "  Either: !Or [!Condition IsDev, !Equals [a, b]]\n"
			   HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Properties:\n"
			   "      CidrBlock: !If [IsProd, 10.0.0.0/16, 10.1.0.0/16]\n"
			   "      EnableDnsSupport: !If [IsDev, true, !Ref AWS::NoValue]\n"
			   "      Tags:\n"
			   "        - !If [Both, {Key: both, Value: y}, !Ref AWS::NoValue]\n"
			   "        - !If [Either, {Key: either, Value: y}, !Ref AWS::NoValue]\n"
			   "  DevOnly:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Condition: IsDev\n"
			   "    Properties: {CidrBlock: 10.9.0.0/16}\n");
	(void)state;
	assert_clean(f);
	assert_str(prop(f, "Vpc", "CidrBlock"), "10.0.0.0/16");
	assert_null(prop(f, "Vpc", "EnableDnsSupport"));
	assert_int_equal(prop(f, "Vpc", "Tags")->u.list.n, 1);
	assert_str(prop(f, "Vpc", "Tags[0].Key"), "both");
	assert_false(f->st->resources[1].included);
	assert_int_equal(f->st->nincluded, 1);
	assert_false(value_map_get(f->st->conditions, "Either")->u.b);
	fx_free(f);
}

static void test_condition_cycle(void **state)
{
	struct fx *f = run("Conditions:\n"
			   "  A: !Not [!Condition B]\n"
			   "  B: !Not [!Condition C]\n"
			   "  C: !Not [!Condition A]\n"
			   HDR
			   "  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n");
	(void)state;
	assert_has(f,
		"t.yaml:4:12: error: Conditions.C: condition cycle: A -> B -> C "
		"-> A\n");
	fx_free(f);
}

static void test_ref_to_excluded(void **state)
{
	struct fx *f = run("Conditions:\n"
			   "  No: !Equals [a, b]\n"
			   HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Condition: 'No'\n"
			   "    Properties: {CidrBlock: 10.0.0.0/16}\n"
			   "  S:\n"
			   "    Type: AWS::EC2::Subnet\n"
			   "    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.0.0/24}\n");
	(void)state;
	assert_has(f,
		"t.yaml:10:25: error: Resources.S.Properties.VpcId: Ref to "
		"\"Vpc\", which is not created (its condition \"No\" is false)\n");
	fx_free(f);
}

static void test_findinmap_base64_cidr_json(void **state)
{
	struct fx *f = run("Mappings:\n"
			   "  Nets:\n"
			   "    eu-west-1: {Cidr: 10.42.0.0/16}\n"
			   HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Properties:\n"
			   "      CidrBlock: !FindInMap [Nets, !Ref AWS::Region, Cidr]\n"
			   "      Tags:\n"
			   "        - {Key: a, Value: !Base64 hello}\n"
			   "        - {Key: b, Value: !Base64 'ab'}\n"
			   "        - {Key: c, Value: !Select [2, !Cidr [10.0.0.0/16, 3, 8]]}\n"
			   "        - {Key: d, Value: !Select [1, !Cidr [192.168.0.0/24, 4, 6]]}\n"
			   "        - {Key: e, Value: !ToJsonString {k: [1, 'x']}}\n"
			   "        - {Key: f, Value: !FindInMap [Nets, us-east-1, Cidr]}\n");
	(void)state;
	assert_str(prop(f, "Vpc", "CidrBlock"), "10.42.0.0/16");
	assert_str(prop(f, "Vpc", "Tags[0].Value"), "aGVsbG8=");
	assert_str(prop(f, "Vpc", "Tags[1].Value"), "YWI=");
	assert_str(prop(f, "Vpc", "Tags[2].Value"), "10.0.2.0/24");
	assert_str(prop(f, "Vpc", "Tags[3].Value"), "192.168.0.64/26");
	assert_str(prop(f, "Vpc", "Tags[4].Value"), "{\"k\":[1,\"x\"]}");
	assert_has(f,
		"t.yaml:15:45: error: Resources.Vpc.Properties.Tags[5].Value: "
		"Fn::FindInMap: no top-level key \"us-east-1\"\n");
	assert_int_equal(f->dl.errors, 1);
	fx_free(f);
}

/* The AWS::LanguageExtensions fourth element: the default stands in for a
 * missing top-level or second-level key, never for a missing map. */
static void test_findinmap_default(void **state)
{
	struct fx *f = run("Mappings:\n"
			   "  Nets:\n"
			   "    eu-west-1: {Cidr: 10.42.0.0/16}\n"
			   HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Properties:\n"
			   "      CidrBlock: !FindInMap [Nets, !Ref AWS::Region, Cidr, {DefaultValue: 10.1.0.0/16}]\n"
			   "      Tags:\n"
			   "        - {Key: a, Value: !FindInMap [Nets, us-east-1, Cidr, {DefaultValue: !Ref AWS::Region}]}\n"
			   "        - {Key: b, Value: !FindInMap [Nets, eu-west-1, Nope, {DefaultValue: dflt}]}\n"
			   "        - {Key: c, Value: !FindInMap [Nope, eu-west-1, Cidr, {DefaultValue: x}]}\n"
			   "        - {Key: d, Value: !FindInMap [Nets, eu-west-1, Cidr, {Default: x}]}\n");
	(void)state;
	assert_str(prop(f, "Vpc", "CidrBlock"), "10.42.0.0/16");
	assert_str(prop(f, "Vpc", "Tags[0].Value"), "eu-west-1");
	assert_str(prop(f, "Vpc", "Tags[1].Value"), "dflt");
	assert_has(f, "Resources.Vpc.Properties.Tags[2].Value: "
		      "Fn::FindInMap: no mapping \"Nope\"\n");
	assert_has(f, "Resources.Vpc.Properties.Tags[3].Value: "
		      "Fn::FindInMap's fourth element must be {DefaultValue: "
		      "value}\n");
	assert_int_equal(f->dl.errors, 2);
	fx_free(f);
}

/* Fn::ForEach: copies per item with ${Id}, &{Id} and {Ref: Id} replaced,
 * nested loops, loops in Conditions, Outputs and inside properties, a
 * collection from a CommaDelimitedList parameter's Default. */
static void test_foreach(void **state)
{
	struct fx *f = run("Transform: AWS::LanguageExtensions\n"
			   "Parameters:\n"
			   "  Envs: {Type: CommaDelimitedList, Default: 'dev, prod'}\n"
			   "Conditions:\n"
			   "  Fn::ForEach::C:\n"
			   "    - E\n"
			   "    - !Ref Envs\n"
			   "    - Is${E}: !Equals [!Ref E, prod]\n"
			   HDR
			   "  Fn::ForEach::Nets:\n"
			   "    - Cidr\n"
			   "    - [10.0.0.0/16, 10.1.0.0/16]\n"
			   "    - Vpc&{Cidr}:\n"
			   "        Type: AWS::EC2::VPC\n"
			   "        Properties:\n"
			   "          CidrBlock: !Ref Cidr\n"
			   "          Tags:\n"
			   "            - {Key: Name, Value: !Sub 'net-${Cidr}-${AWS::Region}'}\n"
			   "  Fn::ForEach::Outer:\n"
			   "    - E\n"
			   "    - !Ref Envs\n"
			   "    - Fn::ForEach::Inner:\n"
			   "        - App\n"
			   "        - [api, web]\n"
			   "        - ${E}${App}:\n"
			   "            Type: AWS::Logs::LogGroup\n"
			   "            Properties:\n"
			   "              LogGroupName: /${E}/${App}\n"
			   "              RetentionInDays: !If ['Is${E}', 30, 1]\n"
			   "  Plain:\n"
			   "    Type: AWS::Logs::LogGroup\n"
			   "Outputs:\n"
			   "  Fn::ForEach::O:\n"
			   "    - E\n"
			   "    - [dev]\n"
			   "    - Name${E}:\n"
			   "        Value: !Ref ${E}api\n");
	(void)state;
	assert_clean(f);
	assert_int_equal(f->t->nresources, 7);
	assert_str(prop(f, "Vpc1000016", "CidrBlock"), "10.0.0.0/16");
	assert_str(prop(f, "Vpc1010016", "Tags[0].Value"),
		   "net-10.1.0.0/16-eu-west-1");
	assert_str(prop(f, "devweb", "LogGroupName"), "/dev/web");
	assert_str(prop(f, "prodapi", "LogGroupName"), "/prod/api");
	assert_int_equal(prop(f, "prodapi", "RetentionInDays")->u.num.d, 30);
	assert_int_equal(prop(f, "devapi", "RetentionInDays")->u.num.d, 1);
	assert_non_null(template_find_resource(f->t, "Plain"));
	assert_int_equal(f->t->noutputs, 1);
	assert_string_equal(f->t->outputs[0].name, "Namedev");
	fx_free(f);
}

static void expect_foreach_error(const char *src, const char *want)
{
	struct fx *f = run(src);

	if (!strstr(f->text.buf ? f->text.buf : "", want))
		fail_msg("wanted \"%s\" in:\n%s", want, f->text.buf);
	assert_true(f->dl.errors > 0);
	fx_free(f);
}

static void test_foreach_errors(void **state)
{
	(void)state;
	expect_foreach_error(HDR "  Fn::ForEach::L:\n    - X\n    - [a, b]\n"
			     "    - Same:\n        Type: AWS::Logs::LogGroup\n",
			     "t.yaml:5:7: error: Fn::ForEach: the key \"Same\" "
			     "must contain ${X} or &{X}");
	expect_foreach_error(HDR "  Fn::ForEach::L:\n    - X\n    - [a-b, ab]\n"
			     "    - G&{X}:\n        Type: AWS::Logs::LogGroup\n",
			     "error: Fn::ForEach makes the key \"Gab\" twice");
	expect_foreach_error(HDR "  Ga:\n    Type: AWS::Logs::LogGroup\n"
			     "  Fn::ForEach::L:\n    - X\n    - [a]\n"
			     "    - G${X}:\n        Type: AWS::Logs::LogGroup\n",
			     "Fn::ForEach makes the key \"Ga\" twice");
	expect_foreach_error(HDR "  L:\n    Type: AWS::Logs::LogGroup\n"
			     "  Fn::ForEach::L:\n    - X\n    - [a]\n"
			     "    - G${X}:\n        Type: AWS::Logs::LogGroup\n",
			     "t.yaml:4:3: error: Fn::ForEach: loop name \"L\" is "
			     "also a resource's logical id");
	expect_foreach_error(HDR "  Fn::ForEach::L:\n    - X\n    - [a]\n"
			     "    - G${X}:\n        Type: AWS::Logs::LogGroup\n"
			     "Outputs:\n  Fn::ForEach::L:\n    - Y\n    - [a]\n"
			     "    - O${Y}:\n        Value: !Ref G${Y}\n",
			     "t.yaml:8:3: error: Fn::ForEach: loop name \"L\" is "
			     "used twice");
	expect_foreach_error("Parameters:\n  P: {Type: String, Default: a}\n"
			     HDR "  Fn::ForEach::L:\n    - X\n    - !Ref P\n"
			     "    - G${X}:\n        Type: AWS::Logs::LogGroup\n",
			     "t.yaml:6:7: error: Fn::ForEach: the collection Ref "
			     "\"P\" must name a CommaDelimitedList");
	expect_foreach_error("Parameters:\n  P: {Type: CommaDelimitedList}\n"
			     HDR "  Fn::ForEach::L:\n    - X\n    - !Ref P\n"
			     "    - G${X}:\n        Type: AWS::Logs::LogGroup\n",
			     "parameter \"P\" has no value");
	expect_foreach_error(HDR "  Fn::ForEach::L: [X, [a]]\n",
			     "Fn::ForEach::L needs [Identifier, Collection, "
			     "{OutputKey: OutputValue}]");
	expect_foreach_error(HDR "  Fn::ForEach::L:\n    - X\n    - [{a: 1}]\n"
			     "    - G${X}:\n        Type: AWS::Logs::LogGroup\n",
			     "collection items must be strings, not a map");
	expect_foreach_error("Mappings:\n  Fn::ForEach::M: [X, [a], {'K${X}': {a: b}}]\n"
			     HDR "  G:\n    Type: AWS::Logs::LogGroup\n",
			     "t.yaml:2:3: error: Fn::ForEach cannot be used in "
			     "Mappings");
	expect_foreach_error(HDR
			     "  Fn::ForEach::A:\n   - I1\n   - [a]\n"
			     "   - Fn::ForEach::B:\n      - I2\n      - [b]\n"
			     "      - Fn::ForEach::C:\n         - I3\n         - [c]\n"
			     "         - Fn::ForEach::D:\n            - I4\n            - [d]\n"
			     "            - Fn::ForEach::E:\n               - I5\n               - [e]\n"
			     "               - Fn::ForEach::F:\n                  - I6\n                  - [f]\n"
			     "                  - G${I6}:\n                      Type: AWS::Logs::LogGroup\n",
			     "Fn::ForEach: loops nest at most 5 deep");
	expect_foreach_error("Transform: AWS::Serverless-2016-10-31\n" HDR
			     "  G:\n    Type: AWS::Logs::LogGroup\n",
			     "t.yaml:1:12: error: Transform: transform "
			     "\"AWS::Serverless-2016-10-31\" is not supported");
}

/* IPv6 Fn::Cidr, worked out by hand: /64s from a /56 count up in the
 * fourth group; cidrBits 4 on a /120 steps by 0x10; output in RFC 5952
 * form whatever the input's case; blocks too small are refused. */
static void test_cidr_ipv6(void **state)
{
	struct fx *f = run(HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Properties:\n"
			   "      CidrBlock: 10.0.0.0/16\n"
			   "      Tags:\n"
			   "        - {Key: a, Value: !Select [3, !Cidr ['2001:db8:1234:1a00::/56', 4, 64]]}\n"
			   "        - {Key: b, Value: !Select [0, !Cidr ['2001:DB8:1234:1A00::/56', 256, 64]]}\n"
			   "        - {Key: c, Value: !Select [1, !Cidr ['2001:db8::/120', 2, 4]]}\n"
			   "        - {Key: d, Value: !Select [255, !Cidr ['2001:db8:1234:1a00::/56', 256, 64]]}\n"
			   "        - {Key: e, Value: !Select [1, !Cidr ['2001:db8::ff/120', 16, 4]]}\n"
			   "        - {Key: f, Value: !Select [0, !Cidr ['2001:db8::/120', 17, 4]]}\n"
			   "        - {Key: g, Value: !Select [0, !Cidr ['2001:zz8::/56', 1, 64]]}\n");
	(void)state;
	assert_str(prop(f, "Vpc", "Tags[0].Value"), "2001:db8:1234:1a03::/64");
	assert_str(prop(f, "Vpc", "Tags[1].Value"), "2001:db8:1234:1a00::/64");
	assert_str(prop(f, "Vpc", "Tags[2].Value"), "2001:db8::10/124");
	assert_str(prop(f, "Vpc", "Tags[3].Value"), "2001:db8:1234:1aff::/64");
	assert_str(prop(f, "Vpc", "Tags[4].Value"), "2001:db8::10/124");
	assert_has(f, "Fn::Cidr: 2001:db8::/120 cannot hold 17 subnets of "
		      "/124\n");
	assert_has(f, "Fn::Cidr: \"2001:zz8::\" is not an IPv6 address\n");
	assert_int_equal(f->dl.errors, 2);
	fx_free(f);
}

static void test_unknown_intrinsic(void **state)
{
	struct fx *f = run(HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Properties:\n"
			   "      CidrBlock: {'Fn::Frob': x}\n");
	(void)state;
	assert_has(f,
		"t.yaml:5:19: error: Resources.Vpc.Properties.CidrBlock: "
		"unknown intrinsic function \"Fn::Frob\"\n");
	fx_free(f);
}

/* ---- parameters ---- */

static const char *param_tmpl =
	"Parameters:\n"
	"  Name:\n"
	"    Type: String\n"
	"    AllowedPattern: '[a-z][a-z0-9-]*'\n"
	"    MinLength: 3\n"
	"    MaxLength: 8\n"
	"    ConstraintDescription: lowercase letters, digits and dashes\n"
	"  Size:\n"
	"    Type: Number\n"
	"    MinValue: 1\n"
	"    MaxValue: 10\n"
	"  Tier:\n"
	"    Type: String\n"
	"    AllowedValues: [small, large]\n"
	"    Default: small\n"
	"  Key:\n"
	"    Type: String\n"
	"    NoEcho: true\n"
	"  Azs:\n"
	"    Type: CommaDelimitedList\n"
	"    Default: 'a, b,c'\n"
	HDR
	"  Vpc:\n"
	"    Type: AWS::EC2::VPC\n"
	"    Properties:\n"
	"      CidrBlock: 10.0.0.0/16\n"
	"      Tags:\n"
	"        - {Key: n, Value: !Sub '${Name}:${Size}:${Tier}'}\n"
	"        - {Key: k, Value: !Sub 'key=${Key}'}\n"
	"        - {Key: z, Value: !Join ['+', !Ref Azs]}\n";

static struct value *pmap(struct fx *f, const char *kv)
{
	/* "A=1;B=2" */
	struct value *m = value_new_map(f->a);
	char *s = arena_strdup(f->a, kv), *tok, *save = NULL;

	for (tok = strtok_r(s, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(tok, '=');
		*eq = '\0';
		value_map_set(f->a, m, tok, value_new_string(f->a, eq + 1));
	}
	return m;
}

static struct fx *run_params(const char *given, const char *env)
{
	struct fx *f = fx_new();
	struct err err = ERR_INIT;

	f->ctx.params = given ? pmap(f, given) : NULL;
	f->ctx.env_params = env ? pmap(f, env) : NULL;
	f->t = template_load_buffer(f->a, "t.yaml", param_tmpl,
				    strlen(param_tmpl), &f->dl, &err);
	f->st = template_evaluate(f->a, f->t, &f->ctx, &f->dl);
	fx_text(f);
	return f;
}

static void test_params_ok_and_sensitive(void **state)
{
	struct fx *f = run_params("Name=web-1;Size=4;Key=s3cret", NULL);
	const struct value *k;
	(void)state;
	assert_clean(f);
	assert_str(prop(f, "Vpc", "Tags[0].Value"), "web-1:4:small");
	k = prop(f, "Vpc", "Tags[1].Value");
	assert_str(k, "key=s3cret");
	assert_true(k->sensitive);
	assert_false(prop(f, "Vpc", "Tags[0].Value")->sensitive);
	assert_str(prop(f, "Vpc", "Tags[2].Value"), "a+b+c");
	assert_int_equal(value_map_get(f->st->params, "Size")->kind, VALUE_NUMBER);
	fx_free(f);
}

static void test_params_precedence(void **state)
{
	struct fx *f = run_params("Name=fromcli;Size=4;Key=k",
				  "Name=fromenv;Tier=large;Nope=1");
	(void)state;
	assert_clean(f); /* undeclared env names are ignored */
	assert_str(prop(f, "Vpc", "Tags[0].Value"), "fromcli:4:large");
	fx_free(f);
}

static void test_params_constraints(void **state)
{
	struct fx *f = run_params("Name=Web;Size=11;Key=k;Tier=medium;Extra=1",
				  NULL);
	(void)state;
	assert_has(f,
		"error: Parameters.Extra: parameter \"Extra\" is not declared "
		"by the template\n");
	assert_has(f,
		"t.yaml:2:3: error: Parameters.Name: value \"Web\" does not "
		"match AllowedPattern \"[a-z][a-z0-9-]*\": lowercase letters, "
		"digits and dashes\n");
	assert_has(f,
		"t.yaml:8:3: error: Parameters.Size: value \"11\" is greater "
		"than MaxValue 10\n");
	assert_has(f,
		"t.yaml:12:3: error: Parameters.Tier: value \"medium\" is not "
		"one of the AllowedValues (small, large)\n");
	fx_free(f);
	f = run_params("Name=ab;Size=x;Key=k", NULL);
	assert_has(f,
		"t.yaml:2:3: error: Parameters.Name: value \"ab\" is shorter "
		"than MinLength 3: lowercase letters, digits and dashes\n");
	assert_has(f,
		"t.yaml:8:3: error: Parameters.Size: value \"x\" is not a "
		"number\n");
	fx_free(f);
}

static void test_params_missing(void **state)
{
	struct fx *f = run_params("Name=web;Size=2", NULL);
	(void)state;
	assert_has(f,
		"t.yaml:16:3: error: Parameters.Key: missing value for "
		"parameter \"Key\" (it has no Default; use --param "
		"Key=VALUE)\n");
	fx_free(f);
}

static void test_params_missing_lenient(void **state)
{
	struct fx *f = fx_new();
	struct err err = ERR_INIT;
	const struct value *k;
	(void)state;

	f->ctx.missing_params_unknown = true;
	f->ctx.params = pmap(f, "Name=web;Size=2");
	f->t = template_load_buffer(f->a, "t.yaml", param_tmpl,
				    strlen(param_tmpl), &f->dl, &err);
	f->st = template_evaluate(f->a, f->t, &f->ctx, &f->dl);
	fx_text(f);
	assert_int_equal(f->dl.errors, 0);
	assert_has(f,
		"t.yaml:16:3: warning: Parameters.Key: no value given and no "
		"Default; evaluated as unknown\n");
	k = prop(f, "Vpc", "Tags[1].Value");
	assert_unknown(k, "key=${Key}");
	assert_true(k->sensitive);
	fx_free(f);
}

static void test_noecho_hidden_in_messages(void **state)
{
	struct fx *f = run("Parameters:\n"
			   "  Pw: {Type: String, NoEcho: true, MinLength: 10}\n"
			   HDR
			   "  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n");
	struct fx *g;
	(void)state;
	fx_free(f);
	g = fx_new();
	{
		struct err err = ERR_INIT;
		const char *src = "Parameters:\n"
				  "  Pw: {Type: String, NoEcho: true, MinLength: 10}\n"
				  HDR
				  "  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n";
		g->ctx.params = pmap(g, "Pw=hunter2");
		g->t = template_load_buffer(g->a, "t.yaml", src, strlen(src),
					    &g->dl, &err);
		g->st = template_evaluate(g->a, g->t, &g->ctx, &g->dl);
		fx_text(g);
	}
	assert_null(strstr(g->text.buf, "hunter2"));
	assert_has(g, "value \"(hidden)\" is shorter");
	fx_free(g);
}

/* ---- resolver and template_eval_resource ---- */

static const struct value *resolver(void *ud, const char *id, const char *attr)
{
	struct arena *a = ud;
	if (!strcmp(id, "Vpc") && !attr)
		return value_new_string(a, "vpc-0abc");
	if (!strcmp(id, "Vpc") && attr && !strcmp(attr, "CidrBlock"))
		return value_new_string(a, "10.0.0.0/16");
	return NULL;
}

static void test_eval_resource_with_resolver(void **state)
{
	struct fx *f = run(HDR
			   "  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n"
			   "  Igw: {Type: AWS::EC2::InternetGateway}\n"
			   "  S:\n"
			   "    Type: AWS::EC2::Subnet\n"
			   "    Properties:\n"
			   "      VpcId: !Ref Vpc\n"
			   "      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 2, 8]]\n"
			   "      Tags: [{Key: igw, Value: !Ref Igw}]\n");
	struct tmpl_ctx ctx = f->ctx;
	struct err err = ERR_INIT;
	struct value *p;
	(void)state;

	assert_clean(f);
	assert_unknown(prop(f, "S", "CidrBlock"), "Fn::Cidr[0]");
	ctx.resolve = resolver;
	ctx.resolve_ud = f->a;
	p = template_eval_resource(f->a, f->st, &ctx, "S", NULL, &err);
	assert_non_null(p);
	assert_str(value_map_get(p, "VpcId"), "vpc-0abc");
	assert_str(value_map_get(p, "CidrBlock"), "10.0.0.0/24");
	assert_unknown(value_get_path(p, "Tags[0].Value"), "Igw");
	p = template_eval_resource(f->a, f->st, &ctx, "Nope", NULL, &err);
	assert_null(p);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	fx_free(f);
}

static void test_depends_on(void **state)
{
	struct fx *f = run(HDR
			   "  A: {Type: AWS::EC2::InternetGateway, DependsOn: [B, Bx]}\n"
			   "  B: {Type: AWS::EC2::InternetGateway, DependsOn: A}\n");
	(void)state;
	assert_has(f,
		"t.yaml:2:55: error: Resources.A.DependsOn: DependsOn names "
		"unknown resource \"Bx\" (did you mean \"B\"?)\n");
	assert_int_equal(f->st->resources[0].nrefs, 1);
	assert_int_equal(f->st->resources[0].refs[0].kind, TMPL_REF_DEPENDSON);
	fx_free(f);
}


static void test_more_intrinsic_errors(void **state)
{
	struct fx *f = run("Parameters:\n"
			   "  L: {Type: CommaDelimitedList, Default: 'a,b'}\n"
			   "Conditions:\n"
			   "  C: !Equals [!Ref Vpc, x]\n"
			   HDR
			   "  Vpc:\n"
			   "    Type: AWS::EC2::VPC\n"
			   "    Properties:\n"
			   "      CidrBlock: 10.0.0.0/16\n"
			   "      Tags:\n"
			   "        - {Key: a, Value: !Sub 'x-${Open'}\n"
			   "        - {Key: b, Value: !Sub '${L}'}\n"
			   "        - {Key: c, Value: !If [Nope, x, y]}\n"
			   "        - {Key: d, Value: !Select [x, [a]]}\n"
			   "        - {Key: e, Value: !Split [',']}\n");
	(void)state;
	assert_has(f, "t.yaml:4:15: error: Conditions.C: conditions cannot "
		      "refer to resources (\"Vpc\")\n");
	assert_has(f, "t.yaml:11:27: error: Resources.Vpc.Properties.Tags[0].Value: "
		      "Fn::Sub: \"${\" without a closing \"}\"\n");
	assert_has(f, "t.yaml:12:27: error: Resources.Vpc.Properties.Tags[1].Value: "
		      "Fn::Sub: \"L\" is a list; use Fn::Join to make it a "
		      "string\n");
	assert_has(f, "t.yaml:13:32: error: Resources.Vpc.Properties.Tags[2].Value: "
		      "unknown condition \"Nope\"\n");
	assert_has(f, "t.yaml:14:36: error: Resources.Vpc.Properties.Tags[3].Value: "
		      "Fn::Select needs a non-negative integer index\n");
	assert_has(f, "t.yaml:15:27: error: Resources.Vpc.Properties.Tags[4].Value: "
		      "Fn::Split needs [delimiter, string]\n");
	assert_int_equal(f->dl.errors, 6);
	fx_free(f);
}

static void test_structure_errors(void **state)
{
	struct fx *f = run("Transform: AWS::Serverless-2016-10-31\n"
			   "AWSTemplateFormatVersion: '2011-01-01'\n"
			   "Parameters:\n"
			   "  Vpc: {Type: String}\n"
			   "  P: {Type: Strin, AllowedPattern: '[a-'}\n"
			   HDR
			   "  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n"
			   "  my-res: {Type: AWS::EC2::InternetGateway}\n");
	(void)state;
	assert_has(f, "t.yaml:1:12: error: Transform: transform "
		      "\"AWS::Serverless-2016-10-31\" is not supported by "
		      "cairn");
	assert_has(f, "t.yaml:2:27: error: AWSTemplateFormatVersion: the only "
		      "valid version is \"2010-09-09\"\n");
	assert_has(f, "t.yaml:5:13: error: Parameters.P: unsupported parameter "
		      "type \"Strin\"");
	assert_has(f, "t.yaml:5:36: error: Parameters.P: AllowedPattern is not "
		      "a valid POSIX extended regular expression: ");
	assert_has(f, "t.yaml:7:3: error: Resources.Vpc: a parameter has the "
		      "same name; Ref would be ambiguous\n");
	assert_has(f, "t.yaml:8:3: error: Resources.my-res: logical id must be "
		      "alphanumeric\n");
	fx_free(f);
}

static void test_sensitivity_and_outputs(void **state)
{
	struct fx *f = fx_new();
	struct err err = ERR_INIT;
	const char *src = "Parameters:\n"
			  "  Pw: {Type: String, NoEcho: true}\n"
			  "  Ids: {Type: 'List<AWS::EC2::Subnet::Id>', Default: 'subnet-1,subnet-2'}\n"
			  "  Acct: {Type: String, Default: 012345678901}\n"
			  HDR
			  "  S:\n"
			  "    Type: AWS::SecretsManager::Secret\n"
			  "    Properties:\n"
			  "      SecretString: !Join ['', ['{\"k\":\"', !Ref Pw, '\"}']]\n"
			  "      Description: !Sub '${Acct}/${AWS::Region}'\n"
			  "Outputs:\n"
			  "  Second:\n"
			  "    Value: !Select [1, !Ref Ids]\n"
			  "    Export: {Name: !Sub '${AWS::StackName}-second'}\n"
			  "  Count:\n"
			  "    Value: {'Fn::Length': !Ref Ids}\n"
			  "  Arn:\n"
			  "    Value: !Ref S\n";
	(void)state;
	f->ctx.params = pmap(f, "Pw=p4ss");
	f->t = template_load_buffer(f->a, "t.yaml", src, strlen(src), &f->dl, &err);
	f->st = template_evaluate(f->a, f->t, &f->ctx, &f->dl);
	fx_text(f);
	assert_clean(f);
	assert_str(prop(f, "S", "SecretString"), "{\"k\":\"p4ss\"}");
	assert_true(prop(f, "S", "SecretString")->sensitive);
	/* unquoted 012345678901 keeps its text (a number in YAML) */
	assert_str(prop(f, "S", "Description"), "012345678901/eu-west-1");
	assert_false(prop(f, "S", "Description")->sensitive);
	assert_int_equal(f->st->noutputs, 3);
	assert_str(f->st->outputs[0].value, "subnet-2");
	assert_str(f->st->outputs[0].export_name, "demo-second");
	assert_string_equal(f->st->outputs[1].value->u.num.text, "2");
	assert_unknown(f->st->outputs[2].value, "S");
	fx_free(f);
}

static void test_list_number_param(void **state)
{
	struct fx *f = fx_new();
	struct err err = ERR_INIT;
	const char *src = "Parameters:\n"
			  "  Ports: {Type: 'List<Number>'}\n"
			  HDR
			  "  Igw: {Type: AWS::EC2::InternetGateway}\n";
	(void)state;
	f->ctx.params = pmap(f, "Ports=80, x");
	f->t = template_load_buffer(f->a, "t.yaml", src, strlen(src), &f->dl, &err);
	f->st = template_evaluate(f->a, f->t, &f->ctx, &f->dl);
	fx_text(f);
	assert_has(f, "t.yaml:2:3: error: Parameters.Ports: value \"x\" is not "
		      "a number\n");
	fx_free(f);
}

static void test_condition_depth_limit(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct fx *f;
	int i;
	(void)state;

	/* C0 -> C1 -> ... -> C149: refused past 100 levels, no stack blowup */
	strbuf_addstr(&sb, "Conditions:\n");
	for (i = 0; i < 149; i++)
		strbuf_addf(&sb, "  C%d: !Not [!Condition C%d]\n", i, i + 1);
	strbuf_addstr(&sb, "  C149: !Equals [a, a]\n" HDR
			   "  Igw: {Type: AWS::EC2::InternetGateway, Condition: C0}\n");
	f = run(sb.buf);
	assert_has(f, "error: Conditions.C99: conditions nested more than 100 deep\n");
	fx_free(f);
	/* 60 levels are fine: C0 = not^60(true) = true */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "Conditions:\n");
	for (i = 0; i < 60; i++)
		strbuf_addf(&sb, "  C%d: !Not [!Condition C%d]\n", i, i + 1);
	strbuf_addstr(&sb, "  C60: !Equals [a, a]\n" HDR
			   "  Igw: {Type: AWS::EC2::InternetGateway, Condition: C0}\n");
	f = run(sb.buf);
	assert_clean(f);
	assert_true(f->st->resources[0].included);
	fx_free(f);
	strbuf_release(&sb);
}

static void test_error_cap_and_many_aliases(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct fx *f;
	size_t i;
	(void)state;

	/* 3000 bad references: at most TEMPLATE_MAX_ERRORS errors, the last
	 * saying the rest are not shown */
	strbuf_addstr(&sb, HDR);
	for (i = 0; i < 3000; i++)
		strbuf_addf(&sb, "  R%zu: {Type: AWS::EC2::InternetGateway, "
				 "Properties: {Tags: [{Key: k, Value: !Ref X%zu}]}}\n",
			    i, i);
	f = run(sb.buf);
	assert_int_equal(f->dl.errors, TEMPLATE_MAX_ERRORS);
	assert_has(f, "too many errors; the rest are not shown\n");
	fx_free(f);

	/* 30000 anchors and aliases resolve through the index, not a scan */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "Metadata:\n");
	for (i = 0; i < 30000; i++)
		strbuf_addf(&sb, "  a%zu: &x%zu v%zu\n", i, i, i);
	for (i = 0; i < 30000; i++)
		strbuf_addf(&sb, "  b%zu: *x%zu\n", i, 29999 - i);
	strbuf_addstr(&sb, HDR "  I: {Type: AWS::EC2::InternetGateway}\n");
	f = run(sb.buf);
	assert_clean(f);
	assert_str(value_get_path(f->t->root, "Metadata.b0"), "v29999");
	fx_free(f);
	strbuf_release(&sb);
}

/* ---- scalars converted to the schema's types, in the evaluator ---- */

static const struct value *num_resolver(void *ud, const char *id,
					const char *attr)
{
	struct arena *a = ud;
	/* a GetAtt AWS answers with a number, used where a string goes */
	if (!strcmp(id, "Logs") && attr && !strcmp(attr, "Arn"))
		return value_new_number(a, "42");
	return NULL;
}

static void test_scalars_take_schema_types(void **state)
{
	struct fx *f = run("Parameters:\n"
			   "  Attempts: {Type: Number, Default: 10}\n"
			   "  Cpu: {Type: String, Default: '256'}\n"
			   "  Ports: {Type: CommaDelimitedList, Default: '80,443'}\n"
			   HDR
			   "  Logs:\n"
			   "    Type: AWS::Logs::LogGroup\n"
			   "    Properties: {RetentionInDays: '14'}\n"
			   "  Task:\n"
			   "    Type: AWS::ECS::TaskDefinition\n"
			   "    Properties:\n"
			   "      Cpu: 512\n"
			   "      ContainerDefinitions:\n"
			   "        - Name: app\n"
			   "          Image: nginx\n"
			   "          Cpu: !Ref Cpu\n"
			   "          Essential: 'false'\n"
			   "          PortMappings:\n"
			   "            - ContainerPort: !Select [1, !Ref Ports]\n"
			   "          Environment:\n"
			   "            - {Name: A, Value: !Ref Attempts}\n"
			   "            - {Name: B, Value: true}\n"
			   "            - {Name: C, Value: !GetAtt Logs.Arn}\n");
	struct tmpl_ctx ctx;
	struct err err = ERR_INIT;
	const struct value *v;
	struct value *p;

	(void)state;
	assert_clean(f);
	assert_str(prop(f, "Task", "Cpu"), "512");
	v = prop(f, "Task", "ContainerDefinitions[0].Cpu");
	assert_int_equal(v->kind, VALUE_NUMBER);
	assert_string_equal(v->u.num.text, "256");
	v = prop(f, "Task", "ContainerDefinitions[0].PortMappings[0].ContainerPort");
	assert_int_equal(v->kind, VALUE_NUMBER);
	assert_true(v->u.num.d == 443);
	v = prop(f, "Task", "ContainerDefinitions[0].Essential");
	assert_int_equal(v->kind, VALUE_BOOL);
	assert_false(v->u.b);
	assert_str(prop(f, "Task", "ContainerDefinitions[0].Environment[0].Value"), "10");
	assert_str(prop(f, "Task", "ContainerDefinitions[0].Environment[1].Value"), "true");
	assert_unknown(prop(f, "Task", "ContainerDefinitions[0].Environment[2].Value"),
		       "Logs.Arn");
	v = prop(f, "Logs", "RetentionInDays");
	assert_int_equal(v->kind, VALUE_NUMBER);
	/* the parameter itself keeps its type: only property values convert */
	assert_int_equal(value_map_get(f->st->params, "Attempts")->kind, VALUE_NUMBER);

	/* evaluated again at apply, with AWS's answers: converted the same way */
	ctx = f->ctx;
	ctx.resolve = num_resolver;
	ctx.resolve_ud = f->a;
	p = template_eval_resource(f->a, f->st, &ctx, "Task", NULL, &err);
	assert_non_null(p);
	assert_str(value_get_path(p, "ContainerDefinitions[0].Environment[2].Value"), "42");
	assert_str(value_get_path(p, "ContainerDefinitions[0].Environment[0].Value"), "10");
	fx_free(f);
}

/* ---- dynamic references ---- */

static int dynref_calls;

static int check_stub(void *ud, struct arena *a, const char *ref,
		      struct err *err)
{
	(void)ud;
	(void)a;
	dynref_calls++;
	if (strstr(ref, "missing"))
		return err_set(err, ERR_NOT_FOUND, "no such secret (request id r-1)");
	return 0;
}

static void with_check(struct fx *f)
{
	f->ctx.dynref_check = check_stub;
	f->ctx.dynref_check_ud = NULL;
}

static void test_dynamic_references_kept_literal(void **state)
{
	struct fx *f;
	const struct value *v;

	(void)state;
	dynref_calls = 0;
	/* the literal stays, marked; Sub around it is evaluated */
	f = run_ctx(HDR "  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n"
		    "      Type: String\n"
		    "      Value: !Sub \"${AWS::Region}:{{resolve:secretsmanager:a:SecretString:k}}\"\n"
		    "      Description: plain\n",
		    with_check);
	assert_clean(f);
	v = prop(f, "P", "Value");
	assert_str(v, "eu-west-1:{{resolve:secretsmanager:a:SecretString:k}}");
	assert_true(v->dynref && v->sensitive);
	v = prop(f, "P", "Description");
	assert_false(v->dynref || v->sensitive);
	assert_int_equal(dynref_calls, 1);
	fx_free(f);

	/* the check's error lands at the string, naming the reference */
	f = run_ctx(HDR "  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n"
		    "      Type: String\n"
		    "      Value: \"{{resolve:ssm:/missing:3}}\"\n",
		    with_check);
	assert_has(f, "t.yaml:6:14: error: Resources.P.Properties.Value: "
		      "{{resolve:ssm:/missing:3}}: no such secret (request id r-1)");
	fx_free(f);

	/* forms CloudFormation refuses */
	f = run(HDR "  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n"
		"      Type: String\n"
		"      Value: \"{{resolve:ssm-secure:/pw}} {{resolve:ssm:/p:latest}}\"\n"
		"      Description: \"{{resolve:secretsmanager:s:SecretString:k:AWSCURRENT:v1}} {{resolve:x:y}} {{resolve:ssm:/p\"\n");
	assert_has(f, "{{resolve:ssm-secure:/pw}}: CloudFormation accepts ssm-secure");
	assert_has(f, "{{resolve:ssm:/p:latest}}: the version after the name must be a number");
	assert_has(f, "give a version stage or a version id, not both");
	assert_has(f, "{{resolve:x:y}}: unknown service");
	assert_has(f, "dynamic reference without \"}}\"");
	fx_free(f);

	/* ssm-secure where CloudFormation takes it; ARNs with their colons */
	f = run(HDR "  U:\n    Type: AWS::IAM::User\n    Properties:\n"
		"      LoginProfile:\n"
		"        Password: \"{{resolve:ssm-secure:/pw:2}}\"\n"
		"  D:\n    Type: AWS::RDS::DBInstance\n    Properties:\n"
		"      MasterUserPassword: \"{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf:SecretString:password::v-1}}\"\n");
	/* (the unit build has no Cloud Control fallback: those two types
	 * are "unsupported" here, nothing else may be reported) */
	if (strstr(f->text.buf, "resolve"))
		fail_msg("unexpected problems:\n%s", f->text.buf);
	assert_non_null(f->st);
	assert_true(prop(f, "U", "LoginProfile.Password")->dynref);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_scalars_and_marks),
		cmocka_unit_test(test_load_short_tags),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_depth_limit),
		cmocka_unit_test(test_load_billion_laughs),
		cmocka_unit_test(test_load_aliases_ok),
		cmocka_unit_test(test_load_merge_keys),
		cmocka_unit_test(test_load_too_big),
		cmocka_unit_test(test_load_json),
		cmocka_unit_test(test_load_json_strict),
		cmocka_unit_test(test_unknown_section_and_attribute),
		cmocka_unit_test(test_unsupported_type),
		cmocka_unit_test(test_ref_and_pseudo),
		cmocka_unit_test(test_ref_errors),
		cmocka_unit_test(test_sub),
		cmocka_unit_test(test_join_select_split_getazs),
		cmocka_unit_test(test_getazs_unknown),
		cmocka_unit_test(test_select_out_of_range),
		cmocka_unit_test(test_conditions_if_novalue),
		cmocka_unit_test(test_condition_cycle),
		cmocka_unit_test(test_ref_to_excluded),
		cmocka_unit_test(test_findinmap_base64_cidr_json),
		cmocka_unit_test(test_findinmap_default),
		cmocka_unit_test(test_cidr_ipv6),
		cmocka_unit_test(test_foreach),
		cmocka_unit_test(test_foreach_errors),
		cmocka_unit_test(test_unknown_intrinsic),
		cmocka_unit_test(test_params_ok_and_sensitive),
		cmocka_unit_test(test_params_precedence),
		cmocka_unit_test(test_params_constraints),
		cmocka_unit_test(test_params_missing),
		cmocka_unit_test(test_params_missing_lenient),
		cmocka_unit_test(test_noecho_hidden_in_messages),
		cmocka_unit_test(test_eval_resource_with_resolver),
		cmocka_unit_test(test_depends_on),
		cmocka_unit_test(test_more_intrinsic_errors),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_sensitivity_and_outputs),
		cmocka_unit_test(test_list_number_param),
		cmocka_unit_test(test_condition_depth_limit),
		cmocka_unit_test(test_error_cap_and_many_aliases),
		cmocka_unit_test(test_scalars_take_schema_types),
		cmocka_unit_test(test_dynamic_references_kept_literal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
