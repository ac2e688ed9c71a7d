/* Unit tests of the AWS client's stages. Expected values come from AWS's
 * documentation, botocore's behaviour, or the wire formats in docs/aws-behaviour.md,
 * never from this code's own output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_int.h"
#include "cairn/aws_sigv4.h"

static void uri(const char *in, int s3, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	sigv4_canonical_uri(in, s3, &sb);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_canonical_uri(void **state)
{
	(void)state;
	uri("", 0, "/");
	uri("/", 0, "/");
	uri("/a/./b/../c//d/", 0, "/a/c/d/"); /* botocore remove_dot_segments */
	uri("/../x", 0, "/x");
	uri("/a%20b", 0, "/a%2520b");         /* encoded twice */
	uri("/a%20b/./c", 1, "/a%20b/./c");   /* S3: as sent */
	uri("/~user/x y", 0, "/~user/x%20y");
}

static void query(const char *in, const char *want)
{
	struct strbuf sb = STRBUF_INIT;
	sigv4_canonical_query(in, &sb);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_canonical_query(void **state)
{
	(void)state;
	query("", "");
	query("foo=aha&foo=Zoo", "foo=Zoo&foo=aha"); /* AWS suite: by value */
	query("b=1&a=2", "a=2&b=1");
	query("a-b=1&a=2", "a=2&a-b=1"); /* key first, not "a=..." vs "a-b" */
	query("k&k=", "k=&k=");
	query("Param2=value2&Param1=value1", "Param1=value1&Param2=value2");
}

static void test_canonical_headers(void **state)
{
	struct sigv4_header h[] = {
		{ "Host", "example.com" }, { "X-Multi", "  a   b  " },
		{ "x-multi", "c" }, { "User-Agent", "x" }, { "Content-Type", "t" },
	};
	struct strbuf out = STRBUF_INIT, sh = STRBUF_INIT;
	(void)state;
	sigv4_canonical_headers(h, 5, &out, &sh);
	assert_string_equal(out.buf, "content-type:t\nhost:example.com\nx-multi:a b,c\n");
	assert_string_equal(sh.buf, "content-type;host;x-multi");
	strbuf_reset(&out);
	strbuf_reset(&sh);
	{
		/* more headers than the signer's stack array: 40 names x-h00..x-h39
		 * given in reverse, sorted back */
		struct sigv4_header many[40];
		char names[40][8];
		int i;
		for (i = 0; i < 40; i++) {
			snprintf(names[i], sizeof(names[i]), "X-H%02d", 39 - i);
			many[i].name = names[i];
			many[i].value = "v";
		}
		sigv4_canonical_headers(many, 40, &out, &sh);
		assert_int_equal(strncmp(out.buf, "x-h00:v\nx-h01:v\n", 16), 0);
		assert_int_equal(sh.len, 40 * 5 + 39);
	}
	strbuf_release(&out);
	strbuf_release(&sh);
}

static void test_sign_aws_example(void **state)
{
	/* AWS General Reference, IAM ListUsers example (2015-08-30) */
	struct sigv4_header h[] = {
		{ "Host", "iam.amazonaws.com" },
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
	};
	struct sigv4_request r = { "GET", "/", "Action=ListUsers&Version=2010-05-08",
				   h, 2, NULL, 0 };
	struct sigv4_creds c = { "AKIDEXAMPLE",
				 "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL };
	struct sigv4_signer *s = sigv4_signer_new();
	struct sigv4_result res;
	int i;
	(void)state;
	sigv4_result_init(&res);
	for (i = 0; i < 2; i++) { /* the second run uses the cached key */
		assert_int_equal(sigv4_sign(s, &r, &c, "us-east-1", "iam", 1440938160,
					    SIGV4_KEEP_STAGES, &res), 0);
		assert_string_equal(res.authorization.buf,
			"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
			"SignedHeaders=content-type;host;x-amz-date, "
			"Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
	}
	/* the documented hash of the canonical request */
	assert_non_null(strstr(res.string_to_sign.buf,
		"f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"));
	assert_int_equal(sigv4_sign(s, &r, &(struct sigv4_creds){ NULL, "x", NULL },
				    "us-east-1", "iam", 0, 0, &res), -1);
	sigv4_result_release(&res);
	sigv4_signer_free(s);
}

static void test_ini(void **state)
{
	const char *text =
		"# comment\n"
		"[default]\n"
		"aws_access_key_id = AKID\n"
		"  ; indented comment\n"
		"[profile  dev ]\n"
		"Region=eu-west-1\n"
		"role_arn = arn:aws:iam::1:role/x\n"
		"s3 =\n"
		"    max_concurrent_requests = 10\n"
		"region = us-west-2\n"
		"[services local]\n"
		"ec2 =\n"
		"  endpoint_url = http://127.0.0.1:1\n";
	struct ini ini;
	struct err err = ERR_INIT;
	const struct ini_section *s;
	(void)state;
	assert_int_equal(ini_parse(text, strlen(text), "cfg", 1, &ini, &err), 0);
	assert_string_equal(ini_get(ini_section(&ini, "default"), "aws_access_key_id"), "AKID");
	s = ini_section(&ini, "dev");
	assert_non_null(s);
	assert_string_equal(ini_get(s, "region"), "us-west-2"); /* repeated: last wins */
	assert_string_equal(ini_get(s, "role_arn"), "arn:aws:iam::1:role/x");
	assert_int_equal(ini_get_kv(s, "s3")->nsub, 1);
	assert_string_equal(ini_get_kv(ini_section(&ini, "services local"), "ec2")->sub[0].value,
			    "http://127.0.0.1:1");
	ini_release(&ini);
	assert_int_equal(ini_parse("key = v\n", 8, "f", 0, &ini, &err), -1);
	assert_non_null(strstr(err.msg, "f:1:"));
	assert_int_equal(ini_parse("[a\n", 3, "f", 0, &ini, &err), -1);
	assert_int_equal(ini_parse("[a]\njunk\n", 9, "f", 0, &ini, &err), -1);
	assert_non_null(strstr(err.msg, "f:2:"));
}

struct fakeenv {
	const char *k[8], *v[8];
};

static const char *fake_get(void *ctx, const char *name)
{
	struct fakeenv *e = ctx;
	int i;
	for (i = 0; i < 8 && e->k[i]; i++)
		if (!strcmp(e->k[i], name))
			return e->v[i];
	return NULL;
}

static void test_endpoints(void **state)
{
	const char *cfg = "[default]\nregion = eu-west-1\nendpoint_url = https://global.example\n"
			  "services = s\n[services s]\nsecrets_manager =\n  endpoint_url = https://sm.example\n";
	struct ini ini;
	struct err err = ERR_INIT;
	struct fakeenv fe = { { NULL }, { NULL } };
	struct aws_env env;
	struct aws_endpoint ep;
	(void)state;
	assert_int_equal(ini_parse(cfg, strlen(cfg), "c", 1, &ini, &err), 0);
	env.get = fake_get;
	env.ctx = &fe;
	env.profile = ini_section(&ini, "default");
	env.config = &ini;
	env.credentials = NULL;
	assert_string_equal(aws_resolve_region(NULL, &env), "eu-west-1");
	fe.k[0] = "AWS_DEFAULT_REGION"; fe.v[0] = "us-west-1";
	assert_string_equal(aws_resolve_region(NULL, &env), "us-west-1");
	fe.k[1] = "AWS_REGION"; fe.v[1] = "ap-south-1";
	assert_string_equal(aws_resolve_region(NULL, &env), "ap-south-1");
	assert_string_equal(aws_resolve_region("ca-central-1", &env), "ca-central-1");

	/* profile's services section beats the profile's endpoint_url */
	assert_int_equal(aws_resolve_endpoint(aws_service_find("secretsmanager"), "eu-west-1",
					      NULL, &env, &ep, &err), 0);
	assert_string_equal(ep.url, "https://sm.example");
	assert_int_equal(aws_resolve_endpoint(aws_service_find("ec2"), "eu-west-1",
					      NULL, &env, &ep, &err), 0);
	assert_string_equal(ep.url, "https://global.example");
	/* env: global, then service-specific beat the files */
	fe.k[2] = "AWS_ENDPOINT_URL"; fe.v[2] = "http://127.0.0.1:4566/";
	assert_int_equal(aws_resolve_endpoint(aws_service_find("secretsmanager"), "eu-west-1",
					      NULL, &env, &ep, &err), 0);
	assert_string_equal(ep.url, "http://127.0.0.1:4566");
	assert_string_equal(ep.host, "127.0.0.1:4566");
	fe.k[3] = "AWS_ENDPOINT_URL_SECRETS_MANAGER"; fe.v[3] = "https://Svc.Example:443";
	assert_int_equal(aws_resolve_endpoint(aws_service_find("secretsmanager"), "eu-west-1",
					      NULL, &env, &ep, &err), 0);
	assert_string_equal(ep.host, "svc.example"); /* default port dropped */
	/* --endpoint-url beats everything */
	assert_int_equal(aws_resolve_endpoint(aws_service_find("secretsmanager"), "eu-west-1",
					      "https://cli.example", &env, &ep, &err), 0);
	assert_string_equal(ep.url, "https://cli.example");
	/* ignore configured endpoints */
	fe.k[4] = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"; fe.v[4] = "true";
	assert_int_equal(aws_resolve_endpoint(aws_service_find("ecr"), "eu-west-1",
					      NULL, &env, &ep, &err), 0);
	assert_string_equal(ep.url, "https://api.ecr.eu-west-1.amazonaws.com");
	assert_int_equal(aws_resolve_endpoint(aws_service_find("iam"), "eu-west-1",
					      NULL, &env, &ep, &err), 0);
	assert_string_equal(ep.url, "https://iam.amazonaws.com");
	assert_string_equal(ep.signing_region, "us-east-1");
	/* plain http only to loopback */
	assert_int_equal(aws_check_url("http://127.1.2.3:80/", &err), 0);
	assert_int_equal(aws_check_url("http://[::1]:4566", &err), 0);
	assert_int_equal(aws_check_url("http://localhost", &err), 0);
	assert_int_equal(aws_check_url("http://10.0.0.1", &err), -1);
	assert_int_equal(aws_check_url("http://127.0.0.1.evil.com", &err), -1);
	assert_int_equal(aws_check_url("ftp://127.0.0.1", &err), -1);
	/* no region for a regional service */
	assert_int_equal(aws_resolve_endpoint(aws_service_find("ec2"), NULL, NULL, &env,
					      &ep, &err), -1);
	ini_release(&ini);
}

/* Endpoints and signing regions per partition, from the SDK endpoint data
 * (tests/py/test_endpoints_botocore.py checks many more against botocore's
 * own resolver). */
static void test_endpoint_partitions(void **state)
{
	static const struct {
		const char *svc, *region;
		const char *fips, *dual, *s3regional; /* env values or NULL */
		const char *url, *sign;
	} t[] = {
		{ "iam", "us-west-2", NULL, NULL, NULL, "https://iam.amazonaws.com", "us-east-1" },
		{ "iam", "cn-northwest-1", NULL, NULL, NULL,
		  "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1" },
		{ "iam", "us-gov-east-1", NULL, NULL, NULL, "https://iam.us-gov.amazonaws.com",
		  "us-gov-west-1" },
		{ "iam", NULL, NULL, NULL, NULL, "https://iam.amazonaws.com", "us-east-1" },
		{ "iam", "eu-west-1", "true", NULL, NULL, "https://iam-fips.amazonaws.com",
		  "us-east-1" },
		{ "sts", "eu-west-1", NULL, NULL, NULL, "https://sts.eu-west-1.amazonaws.com",
		  "eu-west-1" },
		{ "sts", "cn-north-1", NULL, NULL, NULL, "https://sts.cn-north-1.amazonaws.com.cn",
		  "cn-north-1" },
		{ "ec2", "ap-northeast-1", NULL, NULL, NULL,
		  "https://ec2.ap-northeast-1.amazonaws.com", "ap-northeast-1" },
		{ "ec2", "us-east-1", "true", NULL, NULL, "https://ec2-fips.us-east-1.amazonaws.com",
		  "us-east-1" },
		{ "ec2", "us-east-1", NULL, "true", NULL, "https://ec2.us-east-1.api.aws",
		  "us-east-1" },
		{ "ecr", "us-gov-west-1", "true", NULL, NULL,
		  "https://ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1" },
		{ "s3", "us-east-1", NULL, NULL, NULL, "https://s3.amazonaws.com", "us-east-1" },
		{ "s3", "us-east-1", NULL, NULL, "regional", "https://s3.us-east-1.amazonaws.com",
		  "us-east-1" },
		{ "s3", "eu-central-1", NULL, "true", NULL,
		  "https://s3.dualstack.eu-central-1.amazonaws.com", "eu-central-1" },
		{ "logs", "mars-west-1", NULL, NULL, NULL, "https://logs.mars-west-1.amazonaws.com",
		  "mars-west-1" },
		{ "sso", "eu-west-1", NULL, NULL, NULL, "https://portal.sso.eu-west-1.amazonaws.com",
		  "eu-west-1" },
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct fakeenv fe = { { "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
					"AWS_S3_US_EAST_1_REGIONAL_ENDPOINT" },
				      { t[i].fips, t[i].dual, t[i].s3regional } };
		struct aws_env env = { fake_get, &fe, NULL, NULL, NULL };
		struct aws_endpoint ep;
		struct err err = ERR_INIT;
		int rc = aws_resolve_endpoint(aws_service_find(t[i].svc), t[i].region, NULL,
					      &env, &ep, &err);
		if (rc)
			fail_msg("%s %s: %s", t[i].svc, t[i].region, err.msg);
		assert_string_equal(ep.url, t[i].url);
		assert_string_equal(ep.signing_region, t[i].sign);
	}
	{
		/* the profile's keys count when the environment is silent */
		const char *cfg = "[default]\nuse_fips_endpoint = true\n";
		struct ini ini;
		struct err err = ERR_INIT;
		struct fakeenv fe = { { NULL }, { NULL } };
		struct aws_env env = { fake_get, &fe, NULL, NULL, NULL };
		struct aws_endpoint ep;
		assert_int_equal(ini_parse(cfg, strlen(cfg), "c", 1, &ini, &err), 0);
		env.profile = ini_section(&ini, "default");
		assert_int_equal(aws_resolve_endpoint(aws_service_find("sts"), "us-east-2", NULL,
						      &env, &ep, &err), 0);
		assert_string_equal(ep.url, "https://sts-fips.us-east-2.amazonaws.com");
		/* dual-stack does not exist in the isolated partitions */
		fe.k[0] = "AWS_USE_DUALSTACK_ENDPOINT";
		fe.v[0] = "true";
		assert_int_equal(aws_resolve_endpoint(aws_service_find("ec2"), "us-iso-east-1",
						      NULL, &env, &ep, &err), -1);
		assert_non_null(strstr(err.msg, "dual-stack"));
		ini_release(&ini);
	}
}

static void test_ser_ec2(void **state)
{
	struct arena *a = arena_new();
	struct err err = ERR_INIT;
	const char *in = "{\"CidrBlock\":\"10.0.0.0/16\",\"TagSpecifications\":[{\"ResourceType\":"
			 "\"vpc\",\"Tags\":[{\"Key\":\"a b\",\"Value\":\"c\"}]}]}";
	struct value *p = value_from_json(a, in, strlen(in), 0, &err);
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	assert_int_equal(aws_ser_ec2("CreateVpc", "2016-11-15", p, &sb, NULL, &err), 0);
	assert_string_equal(sb.buf,
		"Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16"
		"&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=a+b"
		"&TagSpecification.1.Tag.1.Value=c");
	strbuf_reset(&sb);
	in = "{\"GroupName\":\"g\",\"Description\":\"d\",\"VpcId\":\"vpc-1\"}";
	p = value_from_json(a, in, strlen(in), 0, &err);
	assert_int_equal(aws_ser_ec2("CreateSecurityGroup", "2016-11-15", p, &sb, NULL, &err), 0);
	assert_non_null(strstr(sb.buf, "&GroupDescription=d"));
	strbuf_reset(&sb);
	in = "{\"GroupId\":\"sg-1\",\"IpPermissions\":[{\"IpProtocol\":\"tcp\",\"FromPort\":443,"
	     "\"UserIdGroupPairs\":[{\"GroupId\":\"sg-2\"}]}]}";
	p = value_from_json(a, in, strlen(in), 0, &err);
	assert_int_equal(aws_ser_ec2("AuthorizeSecurityGroupIngress", "2016-11-15", p, &sb,
				     NULL, &err), 0);
	assert_non_null(strstr(sb.buf, "&IpPermissions.1.FromPort=443"));
	assert_non_null(strstr(sb.buf, "&IpPermissions.1.Groups.1.GroupId=sg-2"));
	strbuf_reset(&sb);
	in = "{\"Filter\":[{\"Name\":\"vpc-id\",\"Values\":[\"v1\",\"v2\"]}],\"NatGatewayIds\":[\"n\"]}";
	p = value_from_json(a, in, strlen(in), 0, &err);
	assert_int_equal(aws_ser_ec2("DescribeNatGateways", "2016-11-15", p, &sb, NULL, &err), 0);
	assert_string_equal(sb.buf, "Action=DescribeNatGateways&Version=2016-11-15"
		"&Filter.1.Name=vpc-id&Filter.1.Value.1=v1&Filter.1.Value.2=v2&NatGatewayId.1=n");
	strbuf_release(&sb);
	arena_free(a);
}

static void test_ser_query_json(void **state)
{
	struct arena *a = arena_new();
	struct err err = ERR_INIT;
	const char *in = "{\"RoleName\":\"r\",\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}],\"TagKeys\":[]}";
	struct value *p = value_from_json(a, in, strlen(in), 0, &err);
	struct strbuf sb = STRBUF_INIT, red = STRBUF_INIT;
	(void)state;
	assert_int_equal(aws_ser_query("TagRole", "2010-05-08", p, &sb, NULL, &err), 0);
	assert_string_equal(sb.buf, "Action=TagRole&Version=2010-05-08&RoleName=r"
		"&Tags.member.1.Key=k&Tags.member.1.Value=v&TagKeys=");
	strbuf_reset(&sb);
	in = "{\"SecretId\":\"s\",\"SecretString\":\"hunter2\"}";
	p = value_from_json(a, in, strlen(in), 0, &err);
	value_map_get(p, "SecretString")->sensitive = 1;
	assert_int_equal(aws_ser_json(p, &sb, &red, &err), 0);
	assert_non_null(strstr(sb.buf, "hunter2"));
	assert_null(strstr(red.buf, "hunter2"));
	strbuf_release(&sb);
	strbuf_release(&red);
	arena_free(a);
}

static void test_xml(void **state)
{
	/* shapes from AWS's API references (DescribeVpcs, ListAttachedRolePolicies) */
	const char *ec2 =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
		"  <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>\n"
		"  <vpcSet>\n    <item>\n      <vpcId>vpc-1a2b3c4d</vpcId>\n"
		"      <state>available</state>\n      <tagSet/>\n"
		"      <isDefault>false</isDefault>\n    </item>\n  </vpcSet>\n"
		"</DescribeVpcsResponse>\n";
	const char *iam =
		"<ListAttachedRolePoliciesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
		"<ListAttachedRolePoliciesResult><AttachedPolicies>"
		"<member><PolicyName>A</PolicyName><PolicyArn>arn:a</PolicyArn></member>"
		"<member><PolicyName>B</PolicyName><PolicyArn>arn:b</PolicyArn></member>"
		"</AttachedPolicies><IsTruncated>false</IsTruncated></ListAttachedRolePoliciesResult>"
		"<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>"
		"</ListAttachedRolePoliciesResponse>";
	struct arena *a = arena_new();
	struct err err = ERR_INIT;
	struct value *v;
	(void)state;
	v = aws_xml_to_value(a, ec2, strlen(ec2), 0, &err);
	assert_non_null(v);
	assert_string_equal(value_str(value_get_path(v, "vpcSet[0].vpcId")), "vpc-1a2b3c4d");
	assert_int_equal(value_get_path(v, "vpcSet[0].tagSet")->kind, VALUE_LIST);
	assert_int_equal(aws_get_bool(v, "vpcSet[0].isDefault", &err), 0);
	v = aws_xml_to_value(a, iam, strlen(iam), 1, &err);
	assert_non_null(v);
	assert_int_equal(value_get_path(v, "AttachedPolicies")->u.list.n, 2);
	assert_string_equal(value_str(value_get_path(v, "AttachedPolicies[1].PolicyArn")), "arn:b");
	assert_null(aws_get_str(v, "Nope", &err));
	assert_non_null(strstr(err.msg, "\"Nope\""));
	assert_int_equal(aws_get_list(a, v, "Missing", &err)->u.list.n, 0);
	assert_null(aws_xml_to_value(a, "<a><b></a>", 10, 0, &err));
	assert_int_equal(err.code, ERR_PARSE);
	arena_free(a);
}

static void test_errors(void **state)
{
	const char *ec2 = "<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code>"
			  "<Message>The vpc ID 'vpc-1' does not exist</Message></Error></Errors>"
			  "<RequestID>req-1</RequestID></Response>";
	const char *q = "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
			"<Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>m</Message>"
			"</Error><RequestId>req-2</RequestId></ErrorResponse>";
	const char *js = "{\"__type\":\"com.amazonaws.ecs#ClusterNotFoundException\","
			 "\"message\":\"Cluster not found.\"}";
	struct aws_error_info e;
	(void)state;
	assert_int_equal(aws_parse_error(ec2, strlen(ec2), NULL, &e), 0);
	assert_string_equal(e.code, "InvalidVpcID.NotFound");
	assert_string_equal(e.request_id, "req-1");
	assert_int_equal(aws_parse_error(q, strlen(q), NULL, &e), 0);
	assert_string_equal(e.code, "NoSuchEntity");
	assert_string_equal(e.request_id, "req-2");
	assert_int_equal(aws_parse_error(js, strlen(js), NULL, &e), 0);
	assert_string_equal(e.code, "ClusterNotFoundException");
	assert_string_equal(e.message, "Cluster not found.");
	assert_int_equal(aws_parse_error("{}", 2, "ThrottlingException:http://internal", &e), 0);
	assert_string_equal(e.code, "ThrottlingException");
	assert_int_equal(aws_parse_error("", 0, NULL, &e), -1);

	assert_int_equal(aws_error_class("InvalidVpcID.NotFound", 400), ERR_NOT_FOUND);
	assert_int_equal(aws_error_class("InvalidSubnetID.NotFound", 400), ERR_NOT_FOUND);
	assert_int_equal(aws_error_class("NatGatewayNotFound", 400), ERR_NOT_FOUND);
	assert_int_equal(aws_error_class("DependencyViolation", 400), ERR_CONFLICT);
	assert_int_equal(aws_error_class("InvalidPermission.Duplicate", 400), ERR_ALREADY_EXISTS);
	assert_int_equal(aws_error_class("RouteAlreadyExists", 400), ERR_ALREADY_EXISTS);
	assert_int_equal(aws_error_class("EntityAlreadyExists", 409), ERR_ALREADY_EXISTS);
	assert_int_equal(aws_error_class("RequestLimitExceeded", 503), ERR_THROTTLED);
	assert_int_equal(aws_error_class("Throttling", 400), ERR_THROTTLED);
	assert_int_equal(aws_error_class("ThrottlingException", 400), ERR_THROTTLED);
	assert_int_equal(aws_error_class("TooManyRequestsException", 429), ERR_THROTTLED);
	assert_int_equal(aws_error_class("InternalError", 500), ERR_TRANSIENT);
	assert_int_equal(aws_error_class("", 503), ERR_TRANSIENT);
	assert_int_equal(aws_error_class("UnauthorizedOperation", 403), ERR_ACCESS_DENIED);
	assert_int_equal(aws_error_class("SignatureDoesNotMatch", 403), ERR_AUTH);
	assert_int_equal(aws_error_class("InvalidParameterValue", 400), ERR_VALIDATION);
	assert_int_equal(aws_error_class("SomethingNew", 418), ERR_AWS);
	assert_true(aws_retryable(ERR_THROTTLED));
	assert_true(aws_retryable(ERR_TRANSIENT));
	assert_false(aws_retryable(ERR_NOT_FOUND));
	assert_false(aws_retryable(ERR_VALIDATION));
}

static void test_backoff_bucket(void **state)
{
	struct token_bucket tb;
	int i;
	(void)state;
	assert_int_equal(aws_backoff_ms(1, 1000, 0.99), 0);
	assert_int_equal(aws_backoff_ms(2, 1000, 0.5), 500);
	assert_int_equal(aws_backoff_ms(3, 1000, 0.5), 1000);
	assert_int_equal(aws_backoff_ms(30, 1000, 0.999999), 19999); /* capped at 20 s */
	tb_init(&tb, 5, 3); /* 5/s, burst 3 */
	for (i = 0; i < 3; i++)
		assert_int_equal(tb_take(&tb, 0), 0);
	assert_int_equal(tb_take(&tb, 0), 200000000);   /* 1 token short: 0.2 s */
	assert_int_equal(tb_take(&tb, 0), 400000000);
	assert_int_equal(tb_take(&tb, 1000000000), 0);  /* 5 tokens refilled */
	tb_release(&tb);
}

/* A throttling answer empties the bucket: the next call waits a full
 * refill interval (1/rate), not what the client thought it had left. */
static void test_token_bucket_drain(void **state)
{
	struct token_bucket tb;
	(void)state;
	tb_init(&tb, 10, 5);
	assert_int_equal(tb_take(&tb, 0), 0);          /* 4 left, says the client */
	tb_drain(&tb, 0);                              /* AWS: none left */
	assert_int_equal(tb_take(&tb, 0), 100000000);  /* 0.1 s for a token */
	/* reservations made before a drain stay in force */
	tb_drain(&tb, 0);
	assert_int_equal(tb_take(&tb, 0), 200000000);
	tb_release(&tb);
}

/* The documented buckets (data/rate-limits/rate-limits.json; sources in
 * docs/aws-behaviour.md): EC2 one bucket per API, ECS one per category,
 * IAM one for every mutating call, Logs per API. */
static void test_rate_lookup(void **state)
{
	char name[96];
	double burst = 0, rate = 0;
	(void)state;
	assert_int_equal(aws_rate_lookup("ec2", "CreateSubnet", 1, name, sizeof(name),
					 &burst, &rate), 0);
	assert_string_equal(name, "ec2:CreateSubnet");
	assert_true(burst == 50 && rate == 5);
	assert_int_equal(aws_rate_lookup("ec2", "DescribeSubnets", 0, name, sizeof(name),
					 &burst, &rate), 0);
	assert_string_equal(name, "ec2:DescribeSubnets");
	assert_true(burst == 100 && rate == 20);
	assert_int_equal(aws_rate_lookup("ec2", "CreateNatGateway", 1, name, sizeof(name),
					 &burst, &rate), 0);
	assert_true(burst == 10 && rate == 1);
	assert_int_equal(aws_rate_lookup("ecs", "DeleteService", 1, name, sizeof(name),
					 &burst, &rate), 0);
	assert_string_equal(name, "ecs:service_modify");
	assert_true(burst == 50 && rate == 5);
	assert_int_equal(aws_rate_lookup("iam", "CreateRole", 1, name, sizeof(name),
					 &burst, &rate), 0);
	assert_string_equal(name, "iam:mutating");
	assert_int_equal(aws_rate_lookup("iam", "ListRolePolicies", 0, name, sizeof(name),
					 &burst, &rate), 0);
	assert_string_equal(name, "iam:read");
	assert_int_equal(aws_rate_lookup("logs", "PutRetentionPolicy", 1, name,
					 sizeof(name), &burst, &rate), 0);
	assert_string_equal(name, "logs:PutRetentionPolicy");
	assert_int_equal(aws_rate_lookup("nosuch", "X", 1, name, sizeof(name), &burst,
					 &rate), -1);
	assert_true(aws_op_is_read("SearchTransitGatewayRoutes"));
	assert_false(aws_op_is_read("CreateTags"));
}

static void test_retry_quota(void **state)
{
	struct retry_quota q;
	int i;
	(void)state;
	quota_init(&q, 500); /* standard mode: 500 tokens, 5 per retry */
	for (i = 0; i < 100; i++)
		assert_int_equal(quota_take(&q, 5), 0);
	assert_int_equal(quota_take(&q, 5), -1);
	quota_refund(&q, 10);
	assert_int_equal(quota_take(&q, 10), 0); /* a timeout retry costs 10 */
	assert_int_equal(quota_take(&q, 1), -1);
	quota_refund(&q, 100000);
	assert_int_equal(q.tokens, 500); /* capped */
	quota_release(&q);
}

static void test_creds_json_time(void **state)
{
	const char *doc = "{\"Version\": 1, \"AccessKeyId\": \"AK\", \"SecretAccessKey\": \"SK\","
			  " \"SessionToken\": \"T\", \"Expiration\": \"2026-11-22T08:00:00Z\"}";
	struct aws_creds c;
	struct err err = ERR_INIT;
	time_t t;
	struct strbuf sb = STRBUF_INIT;
	(void)state;
	assert_int_equal(aws_creds_from_json(doc, strlen(doc), 1, &c, &err), 0);
	assert_string_equal(c.access_key, "AK");
	assert_string_equal(c.session_token, "T");
	assert_int_equal(c.expiration, 1795334400);
	aws_creds_wipe(&c);
	assert_int_equal(aws_creds_from_json("{\"Version\":2}", 13, 1, &c, &err), -1);
	assert_int_equal(aws_parse_time("2026-11-22T09:00:00.123+01:00", &t), 0);
	assert_int_equal(t, 1795334400);
	assert_int_equal(aws_parse_time("yesterday", &t), -1);
	{
		const char *b = "<SecretAccessKey>abc</SecretAccessKey>{\"SecretString\": \"x\\\"y\"}"
				"&WebIdentityToken=tok&x=1";
		aws_redact_body(b, strlen(b), &sb);
	}
	assert_null(strstr(sb.buf, "abc"));
	assert_null(strstr(sb.buf, "x\\\"y"));
	assert_null(strstr(sb.buf, "tok"));
	assert_non_null(strstr(sb.buf, "&x=1"));
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_uri),
		cmocka_unit_test(test_canonical_query),
		cmocka_unit_test(test_canonical_headers),
		cmocka_unit_test(test_sign_aws_example),
		cmocka_unit_test(test_ini),
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_endpoint_partitions),
		cmocka_unit_test(test_ser_ec2),
		cmocka_unit_test(test_ser_query_json),
		cmocka_unit_test(test_xml),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_backoff_bucket),
		cmocka_unit_test(test_token_bucket_drain),
		cmocka_unit_test(test_rate_lookup),
		cmocka_unit_test(test_retry_quota),
		cmocka_unit_test(test_creds_json_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
