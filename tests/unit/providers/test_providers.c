/*
 * Unit tests for the providers' pure parts: generated names, tag merging
 * and diffing, security group rule sets, policy canonicalisation, key
 * recasing, the provider table and the poll schedule. Expected values are
 * written by hand from the AWS/CloudFormation rules, not produced by the
 * code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <regex.h>
#include <strings.h>
#include <string.h>
#include <time.h>

#include "cairn/arena.h"
#include "cairn/provider.h"
#include "cairn/strbuf.h"
#include "cairn/value.h"
#include "ec2_table.h"
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

static void ctx_init(struct provider_ctx *c, struct arena *a, const char *stack,
		     const char *lid, const char *token)
{
	memset(c, 0, sizeof(*c));
	c->arena = a;
	c->stack = stack;
	c->logical_id = lid;
	c->token = token;
	c->type = "AWS::Test::Thing";
}

/* ------------------------------------------------------------ names */

static void check_suffix(const char *name, bool lower)
{
	size_t n = strlen(name), i;

	assert_true(n >= 12);
	for (i = n - 12; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		assert_true(isdigit(c) || (lower ? islower(c) : isupper(c)));
	}
}

static void test_name_shape(void **state)
{
	struct arena *a = arena_new();
	struct provider_ctx c;
	const char *n;

	(void)state;
	ctx_init(&c, a, "prod", "WebRole", "0123456789abcdef0123456789abcdef");
	n = provider_generate_name(&c, 64, false);
	/* "prod-WebRole-" + 12 characters */
	assert_int_equal(strlen(n), strlen("prod-WebRole-") + 12);
	assert_memory_equal(n, "prod-WebRole-", 13);
	check_suffix(n, false);
	/* same token: same name (a retry must not create a second one) */
	assert_string_equal(n, provider_generate_name(&c, 64, false));
	/* another token: another name */
	c.token = "fedcba9876543210fedcba9876543210";
	assert_string_not_equal(n, provider_generate_name(&c, 64, false));
	arena_free(a);
}

static void test_name_trim_lower_charset(void **state)
{
	struct arena *a = arena_new();
	struct provider_ctx c;
	const char *n;
	size_t i;

	(void)state;
	ctx_init(&c, a,
		 "a-very-long-stack-name-that-goes-on-and-on-and-on-forever",
		 "AnEvenLongerLogicalIdentifierForTheRole",
		 "0123456789abcdef0123456789abcdef");
	n = provider_generate_name(&c, 64, false);
	assert_int_equal(strlen(n), 64); /* IAM role names: at most 64 */
	assert_memory_equal(n, "a-very-long-stack-name", 22);
	assert_int_equal(n[64 - 13], '-');
	check_suffix(n, false);
	/* ECR: lowercase */
	n = provider_generate_name(&c, 256, true);
	for (i = 0; n[i]; i++)
		assert_false(isupper((unsigned char)n[i]));
	check_suffix(n, true);
	/* characters no AWS name takes are dropped */
	ctx_init(&c, a, "my_stack.v2", "Res", "0123456789abcdef0123456789abcdef");
	n = provider_generate_name(&c, 255, false);
	assert_memory_equal(n, "mystackv2-Res-", 14);
	/* too short for a prefix: the suffix alone */
	n = provider_generate_name(&c, 12, false);
	assert_int_equal(strlen(n), 12);
	arena_free(a);
}

/* ------------------------------------------------------------- tags */

static void test_tags_merged(void **state)
{
	struct arena *a = arena_new();
	struct provider_ctx c;
	struct value *t;

	(void)state;
	ctx_init(&c, a, "s1", "Vpc", "0123456789abcdef0123456789abcdef");
	t = tags_merged(&c, json(a, "{\"Tags\":[{\"Key\":\"Name\",\"Value\":\"main\"},"
				    "{\"Key\":\"cairn:stack\",\"Value\":\"forged\"}]}"));
	assert_string_equal(to_json(a, t),
			    "[{\"Key\":\"Name\",\"Value\":\"main\"},"
			    "{\"Key\":\"cairn:stack\",\"Value\":\"s1\"},"
			    "{\"Key\":\"cairn:logical-id\",\"Value\":\"Vpc\"}]");
	/* ECS shape and Logs shape */
	assert_string_equal(to_json(a, tags_rekey(a, t, "key", "value")),
			    "[{\"key\":\"Name\",\"value\":\"main\"},"
			    "{\"key\":\"cairn:stack\",\"value\":\"s1\"},"
			    "{\"key\":\"cairn:logical-id\",\"value\":\"Vpc\"}]");
	assert_string_equal(to_json(a, tags_as_map(a, t)),
			    "{\"Name\":\"main\",\"cairn:logical-id\":\"Vpc\","
			    "\"cairn:stack\":\"s1\"}");
	/* no Tags at all: only cairn's */
	t = tags_merged(&c, json(a, "{}"));
	assert_int_equal(t->u.list.n, 2);
	/* read back: cairn: and aws: keys are not the template's */
	t = tags_from_aws(a, json(a, "[{\"key\":\"cairn:stack\",\"value\":\"s1\"},"
				     "{\"key\":\"aws:x\",\"value\":\"y\"},"
				     "{\"key\":\"Env\",\"value\":\"dev\"}]"),
			  "key", "value");
	assert_string_equal(to_json(a, t), "[{\"Key\":\"Env\",\"Value\":\"dev\"}]");
	assert_null(tags_from_aws(a, json(a, "{\"cairn:stack\":\"s\"}"), NULL, NULL));
	arena_free(a);
}

static void test_tags_diff(void **state)
{
	struct arena *a = arena_new();
	struct value *set, *removed;

	(void)state;
	tags_diff(a,
		  json(a, "[{\"Key\":\"A\",\"Value\":\"1\"},{\"Key\":\"B\",\"Value\":\"2\"},"
			  "{\"Key\":\"C\",\"Value\":\"3\"}]"),
		  json(a, "[{\"Key\":\"A\",\"Value\":\"1\"},{\"Key\":\"B\",\"Value\":\"20\"},"
			  "{\"Key\":\"D\",\"Value\":\"4\"}]"),
		  &set, &removed);
	assert_string_equal(to_json(a, set), "[{\"Key\":\"B\",\"Value\":\"20\"},"
					     "{\"Key\":\"D\",\"Value\":\"4\"}]");
	assert_string_equal(to_json(a, removed), "[\"C\"]");
	arena_free(a);
}

/* -------------------------------------------------------- SG rules */

static void test_sg_rules_template(void **state)
{
	struct arena *a = arena_new();
	struct sg_rules r = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(sg_rules_from_template(
				 a,
				 json(a, "[{\"IpProtocol\":\"tcp\",\"FromPort\":443,"
					 "\"ToPort\":443,\"CidrIp\":\"10.0.0.0/16\"},"
					 "{\"IpProtocol\":\"6\",\"FromPort\":\"443\","
					 "\"ToPort\":\"443\",\"CidrIp\":\"10.0.0.0/16\"},"
					 "{\"IpProtocol\":-1,\"FromPort\":0,\"ToPort\":0,"
					 "\"SourceSecurityGroupId\":\"sg-1\"}]"),
				 false, &r, &err),
			 0);
	/* "6" is tcp and the duplicate collapses; -1 has no ports */
	assert_int_equal(r.n, 2);
	assert_string_equal(r.items[0].key, "tcp|443|443|cidr|10.0.0.0/16");
	assert_string_equal(r.items[1].key, "-1|||sg|sg-1");
	/* a rule needs exactly one target */
	memset(&r, 0, sizeof(r));
	assert_int_equal(sg_rules_from_template(
				 a,
				 json(a, "[{\"IpProtocol\":\"tcp\",\"CidrIp\":\"1.2.3.4/32\","
					 "\"SourceSecurityGroupId\":\"sg-1\"}]"),
				 false, &r, &err),
			 -1);
	assert_int_equal(err.code, ERR_VALIDATION);
	assert_non_null(strstr(err.msg, "SecurityGroupIngress[0]"));
	arena_free(a);
}

static void test_sg_rules_aws_and_diff(void **state)
{
	struct arena *a = arena_new();
	struct sg_rules have = { 0 }, want = { 0 }, add = { 0 }, rm = { 0 };
	struct err err = ERR_INIT;

	(void)state;
	/* DescribeSecurityGroups' shape after XML conversion */
	sg_rules_from_aws(a,
			  json(a, "[{\"ipProtocol\":\"-1\",\"ipRanges\":[{\"cidrIp\":"
				  "\"0.0.0.0/0\"}],\"groups\":[],\"ipv6Ranges\":\"\"},"
				  "{\"ipProtocol\":\"tcp\",\"fromPort\":\"80\",\"toPort\":"
				  "\"80\",\"ipRanges\":[{\"cidrIp\":\"10.0.0.0/8\"},"
				  "{\"cidrIp\":\"192.168.0.0/16\"}]}]"),
			  &have);
	assert_int_equal(have.n, 3);
	assert_true(sg_rule_is_default_egress(&have.items[0]));
	assert_int_equal(sg_rules_from_template(
				 a,
				 json(a, "[{\"IpProtocol\":\"tcp\",\"FromPort\":80,\"ToPort\":80,"
					 "\"CidrIp\":\"10.0.0.0/8\"},{\"IpProtocol\":\"udp\","
					 "\"FromPort\":53,\"ToPort\":53,\"CidrIp\":"
					 "\"10.0.0.0/8\"}]"),
				 true, &want, &err),
			 0);
	sg_rules_minus(a, &want, &have, &add);
	sg_rules_minus(a, &have, &want, &rm);
	assert_int_equal(add.n, 1);
	assert_string_equal(add.items[0].key, "udp|53|53|cidr|10.0.0.0/8");
	assert_int_equal(rm.n, 2);
	assert_string_equal(rm.items[0].key, "-1|||cidr|0.0.0.0/0");
	assert_string_equal(rm.items[1].key, "tcp|80|80|cidr|192.168.0.0/16");
	/* the request shape for AuthorizeSecurityGroupEgress */
	assert_string_equal(to_json(a, sg_rules_to_params(a, &add)),
			    "[{\"FromPort\":53,\"IpProtocol\":\"udp\",\"IpRanges\":"
			    "[{\"CidrIp\":\"10.0.0.0/8\"}],\"ToPort\":53}]");
	arena_free(a);
}

/* ---------------------------------------------------------- policies */

static void test_url_decode(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	assert_string_equal(url_decode(a, "%7B%22a%22%3A1%7D"), "{\"a\":1}");
	assert_string_equal(url_decode(a, "100%"), "100%");
	assert_string_equal(url_decode(a, "%zz%4"), "%zz%4");
	assert_string_equal(url_decode(a, "a+b"), "a+b");
	arena_free(a);
}

static void test_policy_canonical(void **state)
{
	struct arena *a = arena_new();
	struct err err = ERR_INIT;
	const char *x, *y, *z;

	(void)state;
	/* the template's map */
	x = policy_canonical(a,
			     json(a, "{\"Version\":\"2012-10-17\",\"Statement\":[{"
				     "\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
				     "[\"ecs-tasks.amazonaws.com\"]},\"Action\":"
				     "\"sts:AssumeRole\"}]}"),
			     &err);
	/* IAM's answer: URL-encoded, other key order, scalar Service,
	 * one-element Action list, single Statement object */
	y = policy_canonical(
		a,
		value_new_string(a, "%7B%22Statement%22%3A%7B%22Action%22%3A%5B%22sts%3A"
				    "AssumeRole%22%5D%2C%22Principal%22%3A%7B%22Service"
				    "%22%3A%22ecs-tasks.amazonaws.com%22%7D%2C%22Effect"
				    "%22%3A%22Allow%22%7D%2C%22Version%22%3A%222012-10-17"
				    "%22%7D"),
		&err);
	assert_non_null(x);
	assert_non_null(y);
	assert_string_equal(x, y);
	assert_string_equal(x, "{\"Statement\":[{\"Action\":\"sts:AssumeRole\","
			       "\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
			       "\"ecs-tasks.amazonaws.com\"}}],\"Version\":"
			       "\"2012-10-17\"}");
	/* a real difference stays a difference */
	z = policy_canonical(a,
			     json(a, "{\"Version\":\"2012-10-17\",\"Statement\":[{"
				     "\"Effect\":\"Deny\",\"Principal\":{\"Service\":"
				     "\"ecs-tasks.amazonaws.com\"},\"Action\":"
				     "\"sts:AssumeRole\"}]}"),
			     &err);
	assert_string_not_equal(x, z);
	/* two actions are not collapsed */
	z = policy_canonical(a, json(a, "{\"Action\":[\"a\",\"b\"]}"), &err);
	assert_string_equal(z, "{\"Action\":[\"a\",\"b\"]}");
	/* not JSON */
	assert_null(policy_canonical(a, value_new_string(a, "{nope"), &err));
	arena_free(a);
}

static void test_recase(void **state)
{
	static const char *const verbatim[] = { "Options", NULL };
	struct arena *a = arena_new();
	struct value *v;

	(void)state;
	v = camel_keys(a,
		       json(a, "{\"ContainerDefinitions\":[{\"Name\":\"web\","
			       "\"LogConfiguration\":{\"LogDriver\":\"awslogs\","
			       "\"Options\":{\"awslogs-group\":\"g\"}}}],"
			       "\"EFSVolumeConfiguration\":{\"FileSystemId\":\"fs\"},"
			       "\"IPCMode\":\"host\",\"Cpu\":\"256\"}"),
		       verbatim);
	assert_string_equal(to_json(a, v),
			    "{\"containerDefinitions\":[{\"logConfiguration\":{"
			    "\"logDriver\":\"awslogs\",\"options\":{\"awslogs-group\":"
			    "\"g\"}},\"name\":\"web\"}],\"cpu\":\"256\","
			    "\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs\"},"
			    "\"ipcMode\":\"host\"}");
	v = pascal_keys(a, json(a, "{\"scanOnPush\":true}"), NULL);
	assert_string_equal(to_json(a, v), "{\"ScanOnPush\":true}");
	arena_free(a);
}

/* ------------------------------------------------------------ table */

static void test_table(void **state)
{
	static const char *const types[] = {
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
		"AWS::S3::Bucket", "AWS::S3::BucketPolicy", NULL
	};
	static const char *const with_find[] = {
		"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::InternetGateway",
		"AWS::EC2::RouteTable", "AWS::EC2::SecurityGroup", "AWS::EC2::EIP",
		"AWS::IAM::Role", "AWS::ECR::Repository", "AWS::Logs::LogGroup",
		"AWS::ECS::Cluster", "AWS::SSM::Parameter", "AWS::EC2::Instance",
		"AWS::EC2::KeyPair", "AWS::IAM::InstanceProfile",
		"AWS::IAM::OIDCProvider", "AWS::S3::Bucket", NULL
	};
	size_t i;

	(void)state;
	for (i = 0; types[i]; i++) {
		const struct provider *p = provider_find(types[i]);
		assert_non_null(p);
		assert_string_equal(p->type, types[i]);
		assert_non_null(p->create);
		assert_non_null(p->read);
		assert_non_null(p->update);
		assert_non_null(p->delete);
		/* the drift check reads EC2 types in batches; an instance
		 * is read one at a time (its read needs the recorded
		 * attributes, see ec2_instance.c), key pairs are few */
		if (!strncmp(types[i], "AWS::EC2::", 10) &&
		    strcmp(types[i], "AWS::EC2::Instance") &&
		    strcmp(types[i], "AWS::EC2::KeyPair"))
			assert_non_null(p->read_many);
	}
	assert_int_equal(provider_count(), i);
	for (i = 0; with_find[i]; i++)
		assert_non_null(provider_find(with_find[i])->find);
	/* the types without a native provider go to Cloud Control when the
	 * schema bundle is found (test_cloudcontrol.c) */
	assert_null(provider_find("AWS::Nope::Nothing"));
	assert_null(provider_find(NULL));
	assert_null(provider_at(provider_count()));
}

/* ---------------------------------------------------------- EC2 table */

/* Every provider entry that points at a shared EC2 table function has a
 * row of its type with what that function needs: a type whose row is
 * missing from ec2_table.c's list would fail only when AWS is called. */
static void test_ec2_table_rows(void **state)
{
	struct arena *a = arena_new();
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < provider_count(); i++) {
		const struct provider *p = provider_at(i);
		struct provider_ctx ctx = { .arena = a, .type = p->type };
		const struct ec2_type *t;
		struct err err = ERR_INIT;
		bool reads = p->read_many == ec2_table_read_many ||
			     p->find == ec2_table_find;
		if (!reads && p->update != ec2_table_update &&
		    p->delete != ec2_table_delete && p->read != ec2_table_read)
			continue;
		n++;
		if (p->read == ec2_table_read)
			assert_non_null(p->read_many);
		if (!reads && p->update != ec2_table_update &&
		    p->delete != ec2_table_delete)
			continue;
		t = ec2_table_row(&ctx, &err);
		assert_non_null(t);
		assert_string_equal(t->type, p->type);
		if (reads) {
			assert_non_null(t->describe);
			assert_non_null(t->ids_member);
			assert_non_null(t->set);
			assert_non_null(t->id_field);
		}
		if (p->delete == ec2_table_delete) {
			assert_non_null(t->delete_op);
			assert_non_null(t->delete_member);
		}
		if (p->update == ec2_table_update || reads)
			assert_string_equal(t->attrs[0].name, "Ref");
	}
	/* the thirteen network types of ec2_net.c, ec2_gw.c, ec2_sg.c */
	assert_int_equal(n, 13);
	arena_free(a);
}

/* A Describe item to CloudFormation's attributes and properties, by the
 * rows' mappings (NAT gateway: the first address; EIP: Ref is the public
 * IP; Subnet: a boolean as EC2's "true", tags without cairn's). */
static void test_ec2_table_fill(void **state)
{
	struct arena *a = arena_new();
	struct provider_ctx ctx = { .arena = a, .type = "AWS::EC2::NatGateway" };
	struct provider_result out;
	struct value *nat = json(a,
		"{\"natGatewayId\":\"nat-1\",\"subnetId\":\"subnet-1\","
		"\"state\":\"available\",\"connectivityType\":\"public\","
		"\"natGatewayAddressSet\":[{\"allocationId\":\"eipalloc-1\","
		"\"networkInterfaceId\":\"eni-1\",\"privateIp\":\"10.0.0.5\"}],"
		"\"tagSet\":[{\"key\":\"cairn:stack\",\"value\":\"s\"},"
		"{\"key\":\"Name\",\"value\":\"n\"}]}");
	struct value *eip = json(a,
		"{\"allocationId\":\"eipalloc-1\",\"publicIp\":\"203.0.113.7\","
		"\"domain\":\"vpc\"}");
	struct value *subnet = json(a,
		"{\"subnetId\":\"subnet-1\",\"vpcId\":\"vpc-1\","
		"\"mapPublicIpOnLaunch\":\"true\",\"cidrBlock\":\"10.0.1.0/24\"}");

	(void)state;
	ec2_table_fill(&ec2_row_natgw, &ctx, "nat-1", nat, &out);
	assert_string_equal(out.physical_id, "nat-1");
	assert_string_equal(value_str(value_map_get(out.attrs, "Ref")), "nat-1");
	assert_string_equal(value_str(value_map_get(out.attrs, "EniId")), "eni-1");
	assert_string_equal(value_str(value_map_get(out.props, "AllocationId")),
			    "eipalloc-1");
	assert_string_equal(value_str(value_map_get(out.props, "PrivateIpAddress")),
			    "10.0.0.5");
	assert_int_equal(value_map_get(out.props, "Tags")->u.list.n, 1);
	assert_string_equal(value_str(value_get_path(out.props, "Tags[0].Key")),
			    "Name");
	/* a create's result: only what the id gives */
	ec2_table_fill(&ec2_row_natgw, &ctx, "nat-1", NULL, &out);
	assert_null(out.props);
	assert_null(value_map_get(out.attrs, "EniId"));
	assert_string_equal(value_str(value_map_get(out.attrs, "NatGatewayId")),
			    "nat-1");

	ec2_table_fill(&ec2_row_eip, &ctx, "eipalloc-1", eip, &out);
	assert_string_equal(value_str(value_map_get(out.attrs, "Ref")),
			    "203.0.113.7");
	assert_string_equal(value_str(value_map_get(out.attrs, "AllocationId")),
			    "eipalloc-1");
	assert_string_equal(value_str(value_map_get(out.props, "Domain")), "vpc");
	assert_null(value_map_get(out.props, "Tags"));

	ec2_table_fill(&ec2_row_subnet, &ctx, "subnet-1", subnet, &out);
	assert_true(value_map_get(out.props, "MapPublicIpOnLaunch")->kind ==
		    VALUE_BOOL);
	assert_true(value_map_get(out.props, "MapPublicIpOnLaunch")->u.b);
	assert_int_equal(value_map_get(out.attrs, "Ipv6CidrBlocks")->u.list.n, 0);
	assert_null(value_map_get(out.attrs, "AvailabilityZone"));
	arena_free(a);
}

/* ------------------------------------------------------------- waits */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_sleep_deadline_cancel(void **state)
{
	struct arena *a = arena_new();
	struct provider_ctx c;
	struct err err = ERR_INIT;
	_Atomic int cancel = 0;
	int attempt = 0;
	double t0;

	(void)state;
	ctx_init(&c, a, "s", "Nat", "0123456789abcdef0123456789abcdef");
	c.poll_min_ms = 20;
	c.poll_max_ms = 40;
	c.deadline = now_s() + 0.5;
	t0 = now_s();
	assert_int_equal(provider_sleep(&c, &attempt, "x", &err), 0);
	assert_int_equal(attempt, 1);
	assert_true(now_s() - t0 >= 0.015);
	/* past the deadline: a timeout, not a hang */
	c.deadline = now_s() - 1;
	assert_int_equal(provider_sleep(&c, &attempt, "nat gateway available", &err), -1);
	assert_int_equal(err.code, ERR_TIMEOUT);
	assert_non_null(strstr(err.msg, "nat gateway available"));
	/* Ctrl-C twice */
	c.deadline = now_s() + 10;
	cancel = 1;
	c.cancel = &cancel;
	assert_int_equal(provider_sleep(&c, &attempt, "x", &err), -1);
	assert_int_equal(err.code, ERR_CANCELLED);
	arena_free(a);
}

/* Each service's rules for the names cairn generates, from the API
 * references: IAM CreateRole RoleName [\\w+=,.@-], 1..64, CreatePolicy
 * 1..128; ECR repositoryName lowercase words joined by single ._- (and
 * slashes), 2..256; ECS cluster, service and family [a-zA-Z0-9_-] 1..255;
 * CloudWatch Logs [.-_/#A-Za-z0-9] 1..512; Secrets Manager
 * [A-Za-z0-9/_+=.@-] 1..512; EC2 group names up to 255, not "sg-*". */
static const struct {
	const char *what;
	size_t max;
	unsigned flags;
	const char *ere;
} name_rules[] = {
	{ "iam role", 64, 0, "^[A-Za-z0-9_+=,.@-]{1,64}$" },
	{ "iam policy", 128, 0, "^[A-Za-z0-9_+=,.@-]{1,128}$" },
	{ "ecr repository", 256, NAME_LOWER,
	  "^([a-z0-9]+([._-][a-z0-9]+)*/)*[a-z0-9]+([._-][a-z0-9]+)*$" },
	{ "ecs cluster", 255, 0, "^[a-zA-Z0-9_-]{1,255}$" },
	{ "log group", 512, 0, "^[._/#A-Za-z0-9-]{1,512}$" },
	{ "secret", 512, 0, "^[A-Za-z0-9/_+=.@-]{1,512}$" },
	{ "security group", 255, NAME_EC2_GROUP, "^.{1,255}$" },
};

static void test_name_service_rules(void **state)
{
	static const char *stacks[] = {
		"sg", "SG-prod", "Prod", "a", "my--stack-", "-lead", "my_stack.v2",
		/* 100 characters */
		"s123456789-123456789-123456789-123456789-123456789-"
		"123456789-123456789-123456789-123456789-123456789",
	};
	static const char *ids[] = { "Sg", "WebServerSecurityGroup", "Repo",
				     "VpcPublicSubnet1SubnetB4246D30" };
	struct arena *a = arena_new();
	struct provider_ctx c;
	size_t r, s, i;

	(void)state;
	assert_int_equal(strlen(stacks[7]), 100);
	for (r = 0; r < sizeof(name_rules) / sizeof(name_rules[0]); r++) {
		regex_t re;
		assert_int_equal(regcomp(&re, name_rules[r].ere, REG_EXTENDED | REG_NOSUB), 0);
		for (s = 0; s < sizeof(stacks) / sizeof(stacks[0]); s++) {
			for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
				const char *n;
				ctx_init(&c, a, stacks[s], ids[i],
					 "0123456789abcdef0123456789abcdef");
				n = provider_generate_name(&c, name_rules[r].max,
							   name_rules[r].flags);
				if (regexec(&re, n, 0, NULL, 0) ||
				    strlen(n) > name_rules[r].max)
					fail_msg("%s: \"%s\" breaks the rules",
						 name_rules[r].what, n);
				if (name_rules[r].flags & NAME_EC2_GROUP)
					assert_false(!strncasecmp(n, "sg-", 3));
				/* the suffix is always whole */
				assert_int_equal(n[strlen(n) - 13], '-');
			}
		}
		regfree(&re);
	}
	/* the reported case: stack "sg" made "sg-Sg-..." */
	ctx_init(&c, a, "sg", "Sg", "0123456789abcdef0123456789abcdef");
	assert_memory_equal(provider_generate_name(&c, 255, NAME_EC2_GROUP), "sg_Sg-", 6);
	assert_memory_equal(provider_generate_name(&c, 64, 0), "sg-Sg-", 6);
	ctx_init(&c, a, "SG-prod", "Web", "0123456789abcdef0123456789abcdef");
	assert_memory_equal(provider_generate_name(&c, 255, NAME_EC2_GROUP),
			    "SG_prod-Web-", 12);
	/* ECR: upper case folded, separators single */
	ctx_init(&c, a, "My--Stack-", "Repo", "0123456789abcdef0123456789abcdef");
	assert_memory_equal(provider_generate_name(&c, 256, NAME_LOWER),
			    "my-stack-repo-", 14);
	arena_free(a);
}

static void test_name_cut_like_cloudformation(void **state)
{
	struct arena *a = arena_new();
	struct provider_ctx c;
	const char *n;

	(void)state;
	/* names CloudFormation generated for a 26-character stack (quoted in
	 * KensioSoftware/yulin#1113): 64 -> 25 + 25, 63 -> 25 + 24 */
	ctx_init(&c, a, "ChineseboostAnalyticsStack",
		 "RainlyticsSummariesJobFunction1234ABCD",
		 "0123456789abcdef0123456789abcdef");
	n = provider_generate_name(&c, 64, 0);
	assert_int_equal(strlen(n), 64);
	assert_memory_equal(n, "ChineseboostAnalyticsStac-RainlyticsSummariesJobFun-", 52);
	ctx_init(&c, a, "ChineseboostAnalyticsStack", "RainlyticsLogsBucket8DF4ABCD",
		 "0123456789abcdef0123456789abcdef");
	n = provider_generate_name(&c, 63, NAME_LOWER);
	assert_memory_equal(n, "chineseboostanalyticsstac-rainlyticslogsbucket8df4-", 51);
	/* it fits: nothing cut */
	ctx_init(&c, a, "ChineseboostAnalyticsStack",
		 "RainlyticsSummariesJobLogs1C6CB09C", "0123456789abcdef0123456789abcdef");
	n = provider_generate_name(&c, 512, 0);
	assert_memory_equal(n, "ChineseboostAnalyticsStack-RainlyticsSummariesJobLogs1C6CB09C-", 62);
	/* a short logical id leaves its share to the stack name */
	ctx_init(&c, a,
		 "s123456789-123456789-123456789-123456789-123456789-"
		 "123456789-123456789-123456789-123456789-123456789",
		 "Db", "0123456789abcdef0123456789abcdef");
	n = provider_generate_name(&c, 64, 0);
	assert_int_equal(strlen(n), 64);
	assert_memory_equal(n, "s123456789-123456789-123456789-123456789-1234567-Db-", 52);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_shape),
		cmocka_unit_test(test_name_trim_lower_charset),
		cmocka_unit_test(test_name_service_rules),
		cmocka_unit_test(test_name_cut_like_cloudformation),
		cmocka_unit_test(test_tags_merged),
		cmocka_unit_test(test_tags_diff),
		cmocka_unit_test(test_sg_rules_template),
		cmocka_unit_test(test_sg_rules_aws_and_diff),
		cmocka_unit_test(test_url_decode),
		cmocka_unit_test(test_policy_canonical),
		cmocka_unit_test(test_recase),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_ec2_table_rows),
		cmocka_unit_test(test_ec2_table_fill),
		cmocka_unit_test(test_sleep_deadline_cancel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
