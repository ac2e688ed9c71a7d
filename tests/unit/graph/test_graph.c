/*
 * Unit tests of the dependency graph: explicit edges by kind, the implicit
 * AWS ordering edges, cycles, topological order and longest path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/graph.h"

struct gx {
	struct arena *a;
	struct diag_list dl;
	struct graph *g;
	struct strbuf text;
};

static struct gx *build(const char *src)
{
	struct gx *x = calloc(1, sizeof(*x));
	struct err err = ERR_INIT;
	struct tmpl_ctx ctx;
	struct template *t;
	struct tmpl_stack *st;
	size_t i;

	x->a = arena_new();
	strbuf_init(&x->text, 0);
	tmpl_ctx_init(&ctx, x->a, "us-east-1", "123456789012", "g");
	t = template_load_buffer(x->a, "g.yaml", src, strlen(src), &x->dl, &err);
	assert_non_null(t);
	st = template_evaluate(x->a, t, &ctx, &x->dl);
	x->g = graph_build(x->a, st, &x->dl);
	diag_sort(&x->dl);
	for (i = 0; i < x->dl.n; i++) {
		diag_format(&x->dl.items[i], &x->text);
		strbuf_addch(&x->text, '\n');
	}
	return x;
}

static void gx_free(struct gx *x)
{
	diag_list_release(&x->dl);
	strbuf_release(&x->text);
	arena_free(x->a);
	free(x);
}

static const struct graph_edge *edge(struct gx *x, const char *from,
				     const char *to)
{
	long f = graph_find(x->g, from), t = graph_find(x->g, to);

	if (f < 0 || t < 0)
		fail_msg("no node %s or %s", from, to);
	return graph_edge_between(x->g, (size_t)f, (size_t)t);
}

static size_t pos(struct gx *x, const char *id)
{
	size_t i;

	for (i = 0; i < x->g->norder; i++)
		if (!strcmp(x->g->nodes[x->g->order[i]].logical_id, id))
			return i;
	fail_msg("%s not in order", id);
	return 0;
}

static const char *vpc_stack =
	"Resources:\n"
	"  Vpc:\n"
	"    Type: AWS::EC2::VPC\n"
	"    Properties: {CidrBlock: 10.0.0.0/16, EnableDnsSupport: true, EnableDnsHostnames: true}\n"
	"  Igw: {Type: AWS::EC2::InternetGateway}\n"
	"  Attach:\n"
	"    Type: AWS::EC2::VPCGatewayAttachment\n"
	"    Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Igw}\n"
	"  Public:\n"
	"    Type: AWS::EC2::Subnet\n"
	"    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.2.0/24}\n"
	"  Private:\n"
	"    Type: AWS::EC2::Subnet\n"
	"    Properties: {VpcId: !Ref Vpc, CidrBlock: !Sub '10.0.${One}.0/24'}\n"
	"  Eip:\n"
	"    Type: AWS::EC2::EIP\n"
	"    Properties: {Domain: vpc}\n"
	"  Nat:\n"
	"    Type: AWS::EC2::NatGateway\n"
	"    Properties: {SubnetId: !Ref Public, AllocationId: !GetAtt Eip.AllocationId}\n"
	"  PublicRt:\n"
	"    Type: AWS::EC2::RouteTable\n"
	"    Properties: {VpcId: !Ref Vpc}\n"
	"  PublicRoute:\n"
	"    Type: AWS::EC2::Route\n"
	"    Properties: {RouteTableId: !Ref PublicRt, DestinationCidrBlock: 0.0.0.0/0, GatewayId: !Ref Igw}\n"
	"  PrivateRt:\n"
	"    Type: AWS::EC2::RouteTable\n"
	"    Properties: {VpcId: !Ref Vpc}\n"
	"  PrivateRoute:\n"
	"    Type: AWS::EC2::Route\n"
	"    DependsOn: Nat\n"
	"    Properties: {RouteTableId: !Ref PrivateRt, DestinationCidrBlock: 0.0.0.0/0, NatGatewayId: !Ref Nat}\n"
	"  Sg:\n"
	"    Type: AWS::EC2::SecurityGroup\n"
	"    Properties: {GroupDescription: x, VpcId: !Ref Vpc}\n"
	"  Endpoint:\n"
	"    Type: AWS::EC2::VPCEndpoint\n"
	"    Properties:\n"
	"      VpcId: !Ref Vpc\n"
	"      ServiceName: !Sub 'com.amazonaws.${AWS::Region}.secretsmanager'\n"
	"      VpcEndpointType: Interface\n"
	"      PrivateDnsEnabled: true\n"
	"      SubnetIds: [!Ref Private]\n"
	"      SecurityGroupIds: [!Ref Sg]\n"
	"  Logs:\n"
	"    Type: AWS::Logs::LogGroup\n"
	"    Properties: {LogGroupName: /ecs/worker, RetentionInDays: 7}\n"
	"  Task:\n"
	"    Type: AWS::ECS::TaskDefinition\n"
	"    Properties:\n"
	"      ContainerDefinitions:\n"
	"        - Name: w\n"
	"          Image: busybox\n"
	"          LogConfiguration:\n"
	"            LogDriver: awslogs\n"
	"            Options: {awslogs-group: /ecs/worker, awslogs-region: !Ref AWS::Region}\n"
	"Parameters:\n"
	"  One: {Type: String, Default: '1'}\n";

static void test_explicit_edges(void **state)
{
	struct gx *x = build(vpc_stack);
	const struct graph_edge *e;
	(void)state;

	if (x->dl.errors)
		fail_msg("%s", x->text.buf);
	e = edge(x, "Attach", "Vpc");
	assert_non_null(e);
	assert_int_equal(e->kind, GRAPH_EDGE_REF);
	assert_false(e->implicit);
	e = edge(x, "Nat", "Eip");
	assert_non_null(e);
	assert_int_equal(e->kind, GRAPH_EDGE_GETATT);
	e = edge(x, "PrivateRoute", "Nat");
	assert_non_null(e);
	/* Ref came before DependsOn in evaluation order: DependsOn is first */
	assert_true(e->kind == GRAPH_EDGE_DEPENDSON || e->kind == GRAPH_EDGE_REF);
	assert_null(edge(x, "Vpc", "Attach"));
	gx_free(x);
}

static void test_implicit_edges(void **state)
{
	struct gx *x = build(vpc_stack);
	const struct graph_edge *e;
	(void)state;

	e = edge(x, "Nat", "Attach");
	assert_non_null(e);
	assert_true(e->implicit);
	assert_string_equal(e->reason,
			    "a NAT gateway needs the VPC's internet gateway attached");
	e = edge(x, "PublicRoute", "Attach");
	assert_non_null(e);
	assert_true(e->implicit);
	e = edge(x, "Eip", "Attach");
	assert_non_null(e);
	assert_true(e->implicit);
	/* an explicit Ref already orders the endpoint after the VPC: the
	 * reason is kept but the edge stays explicit */
	e = edge(x, "Endpoint", "Vpc");
	assert_non_null(e);
	assert_false(e->implicit);
	assert_string_equal(e->reason, "private DNS needs the VPC's DNS attributes set");
	e = edge(x, "Task", "Logs");
	assert_non_null(e);
	assert_true(e->implicit);
	/* no implicit edge where AWS needs none */
	assert_null(edge(x, "PrivateRoute", "Attach"));
	assert_null(edge(x, "Sg", "Attach"));
	gx_free(x);
}

static void test_order_and_longest_path(void **state)
{
	struct gx *x = build(vpc_stack);
	size_t i;
	(void)state;

	assert_false(x->g->has_cycle);
	assert_int_equal(x->g->norder, x->g->n);
	/* every edge goes from a later node to an earlier one */
	for (i = 0; i < x->g->nedges; i++) {
		const struct graph_edge *e = &x->g->edges[i];
		assert_true(pos(x, x->g->nodes[e->from].logical_id) >
			    pos(x, x->g->nodes[e->to].logical_id));
	}
	/* the longest chain after Vpc: Attach, Eip (implicit), Nat,
	 * PrivateRoute */
	assert_int_equal(x->g->nodes[graph_find(x->g, "Vpc")].longest, 4);
	assert_int_equal(x->g->nodes[graph_find(x->g, "Attach")].longest, 3);
	assert_int_equal(x->g->nodes[graph_find(x->g, "Eip")].longest, 2);
	assert_int_equal(x->g->nodes[graph_find(x->g, "PrivateRoute")].longest, 0);
	gx_free(x);
}

static void test_cycle(void **state)
{
	struct gx *x = build("Resources:\n"
			     "  A:\n"
			     "    Type: AWS::EC2::SecurityGroup\n"
			     "    Properties: {GroupDescription: !Ref B}\n"
			     "  B:\n"
			     "    Type: AWS::EC2::SecurityGroup\n"
			     "    Properties: {GroupDescription: !GetAtt C.GroupId}\n"
			     "  C:\n"
			     "    Type: AWS::EC2::SecurityGroup\n"
			     "    DependsOn: A\n"
			     "    Properties: {GroupDescription: c}\n"
			     "  D:\n"
			     "    Type: AWS::EC2::SecurityGroup\n"
			     "    Properties: {GroupDescription: !Ref A}\n");
	(void)state;
	assert_true(x->g->has_cycle);
	if (!strstr(x->text.buf, "g.yaml:4:36: error: Resources.A: dependency "
				 "cycle: A -> B -> C -> A\n"))
		fail_msg("got:\n%s", x->text.buf);
	gx_free(x);
}

static void test_self_cycle(void **state)
{
	struct gx *x = build("Resources:\n"
			     "  A:\n"
			     "    Type: AWS::EC2::SecurityGroup\n"
			     "    Properties: {GroupDescription: !Ref A}\n");
	(void)state;
	assert_true(x->g->has_cycle);
	if (!strstr(x->text.buf, "dependency cycle: A -> A\n"))
		fail_msg("got:\n%s", x->text.buf);
	gx_free(x);
}

static void test_output_formats(void **state)
{
	struct gx *x = build(vpc_stack);
	struct strbuf sb = STRBUF_INIT;
	(void)state;

	graph_to_dot(x->g, &sb);
	assert_non_null(strstr(sb.buf, "digraph cairn {"));
	assert_non_null(strstr(sb.buf, "\"Nat\" -> \"Attach\" [style=dashed, "
				       "label=\"a NAT gateway needs the VPC's "
				       "internet gateway attached\"];"));
	assert_non_null(strstr(sb.buf, "\"Attach\" -> \"Vpc\";"));
	strbuf_reset(&sb);
	graph_to_json(x->g, &sb);
	assert_non_null(strstr(sb.buf, "{\"from\": \"Task\", \"to\": \"Logs\", "
				       "\"kind\": \"implicit\", \"implicit\": "
				       "true, \"reason\": "));
	strbuf_release(&sb);
	gx_free(x);
}

static void test_big_graph_is_linear(void **state)
{
	/* a 3000-long chain: recursion or O(n^2) would show here */
	struct strbuf sb = STRBUF_INIT;
	struct gx *x;
	int i;
	(void)state;

	strbuf_addstr(&sb, "Resources:\n  R0: {Type: AWS::EC2::SecurityGroup, "
			   "Properties: {GroupDescription: x}}\n");
	for (i = 1; i < 3000; i++)
		strbuf_addf(&sb, "  R%d: {Type: AWS::EC2::SecurityGroup, "
				 "Properties: {GroupDescription: !Ref R%d}}\n",
			    i, i - 1);
	x = build(sb.buf);
	assert_false(x->g->has_cycle);
	assert_int_equal(x->g->nodes[0].longest, 2999);
	assert_int_equal(x->g->order[0], 0);
	strbuf_release(&sb);
	gx_free(x);
}

static void test_no_implicit_edges_when_not_needed(void **state)
{
	struct gx *x = build(
		"Resources:\n"
		"  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n"
		"  Igw: {Type: AWS::EC2::InternetGateway}\n"
		"  Attach:\n"
		"    Type: AWS::EC2::VPCGatewayAttachment\n"
		"    Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Igw}\n"
		"  Sn:\n"
		"    Type: AWS::EC2::Subnet\n"
		"    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.1.0/24}\n"
		"  PrivNat:\n"
		"    Type: AWS::EC2::NatGateway\n"
		"    Properties: {SubnetId: !Ref Sn, ConnectivityType: private}\n"
		"  Eip:\n"
		"    Type: AWS::EC2::EIP\n"
		"  Rt: {Type: AWS::EC2::RouteTable, Properties: {VpcId: !Ref Vpc}}\n"
		"  Vgw: {Type: AWS::EC2::VPNGateway}\n"
		"  Ep:\n"
		"    Type: AWS::EC2::VPCEndpoint\n"
		"    Properties:\n"
		"      VpcId: !Ref Vpc\n"
		"      ServiceName: com.amazonaws.us-east-1.s3\n"
		"      VpcEndpointType: Gateway\n"
		"      RouteTableIds: [!Ref Rt]\n"
		"  Logs: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: /other}}\n"
		"  Task:\n"
		"    Type: AWS::ECS::TaskDefinition\n"
		"    Properties:\n"
		"      ContainerDefinitions:\n"
		"        - Name: w\n"
		"          Image: busybox\n"
		"          LogConfiguration:\n"
		"            LogDriver: awslogs\n"
		"            Options: {awslogs-group: /ecs/worker}\n");
	(void)state;
	/* VPNGateway is not a supported type: the only error */
	assert_int_equal(x->dl.errors, 1);
	assert_null(edge(x, "PrivNat", "Attach"));
	assert_null(edge(x, "Eip", "Attach")); /* no Domain: vpc */
	assert_null(edge(x, "Task", "Logs"));  /* another log group */
	assert_false(edge(x, "Ep", "Vpc")->reason != NULL);
	gx_free(x);
}

static void test_nat_traced_to_its_vpc(void **state)
{
	/* two VPCs with their own gateways: a NAT waits only for its own */
	struct gx *x = build(
		"Resources:\n"
		"  V1: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n"
		"  V2: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.1.0.0/16}}\n"
		"  G1: {Type: AWS::EC2::InternetGateway}\n"
		"  G2: {Type: AWS::EC2::InternetGateway}\n"
		"  A1: {Type: AWS::EC2::VPCGatewayAttachment, Properties: {VpcId: !Ref V1, InternetGatewayId: !Ref G1}}\n"
		"  A2: {Type: AWS::EC2::VPCGatewayAttachment, Properties: {VpcId: !Ref V2, InternetGatewayId: !Ref G2}}\n"
		"  S2: {Type: AWS::EC2::Subnet, Properties: {VpcId: !Ref V2, CidrBlock: 10.1.0.0/24}}\n"
		"  N2: {Type: AWS::EC2::NatGateway, Properties: {SubnetId: !Ref S2}}\n"
		"  R1: {Type: AWS::EC2::RouteTable, Properties: {VpcId: !Ref V1}}\n"
		"  Route1: {Type: AWS::EC2::Route, Properties: {RouteTableId: !Ref R1, DestinationCidrBlock: 0.0.0.0/0, GatewayId: !Ref G1}}\n");
	(void)state;
	if (x->dl.errors)
		fail_msg("%s", x->text.buf);
	assert_non_null(edge(x, "N2", "A2"));
	assert_null(edge(x, "N2", "A1"));
	assert_non_null(edge(x, "Route1", "A1"));
	assert_null(edge(x, "Route1", "A2"));
	gx_free(x);
}

static void test_service_waits_for_role_policies(void **state)
{
	struct gx *x = build(
		"Resources:\n"
		"  Exec:\n"
		"    Type: AWS::IAM::Role\n"
		"    Properties:\n"
		"      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}\n"
		"  ReadSecret:\n"
		"    Type: AWS::IAM::Policy\n"
		"    Properties:\n"
		"      PolicyName: read\n"
		"      Roles: [!Ref Exec]\n"
		"      PolicyDocument: {Version: '2012-10-17', Statement: []}\n"
		"  Unrelated:\n"
		"    Type: AWS::IAM::ManagedPolicy\n"
		"    Properties:\n"
		"      PolicyDocument: {Version: '2012-10-17', Statement: []}\n"
		"  Cluster: {Type: AWS::ECS::Cluster}\n"
		"  Task:\n"
		"    Type: AWS::ECS::TaskDefinition\n"
		"    Properties:\n"
		"      ExecutionRoleArn: !GetAtt Exec.Arn\n"
		"      ContainerDefinitions: [{Name: w, Image: busybox}]\n"
		"  Svc:\n"
		"    Type: AWS::ECS::Service\n"
		"    Properties:\n"
		"      Cluster: !Ref Cluster\n"
		"      TaskDefinition: !Ref Task\n");
	const struct graph_edge *e;
	(void)state;
	if (x->dl.errors)
		fail_msg("%s", x->text.buf);
	e = edge(x, "Svc", "ReadSecret");
	assert_non_null(e);
	assert_true(e->implicit);
	assert_string_equal(e->reason, "the service's tasks need their roles' policies");
	assert_null(edge(x, "Svc", "Unrelated"));
	assert_null(edge(x, "Task", "ReadSecret"));
	gx_free(x);
}

static void test_implicit_edge_never_closes_a_cycle(void **state)
{
	/* the template orders the attachment after the NAT gateway (odd, but
	 * explicit): the implicit NAT -> attachment edge would make a cycle,
	 * so it is not added and the template stays valid */
	struct gx *x = build(
		"Resources:\n"
		"  Vpc: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n"
		"  Igw: {Type: AWS::EC2::InternetGateway}\n"
		"  Sn: {Type: AWS::EC2::Subnet, Properties: {VpcId: !Ref Vpc, CidrBlock: 10.0.0.0/24}}\n"
		"  Nat: {Type: AWS::EC2::NatGateway, Properties: {SubnetId: !Ref Sn}}\n"
		"  Attach:\n"
		"    Type: AWS::EC2::VPCGatewayAttachment\n"
		"    DependsOn: Nat\n"
		"    Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Igw}\n");
	(void)state;
	if (x->dl.errors)
		fail_msg("%s", x->text.buf);
	assert_false(x->g->has_cycle);
	assert_null(edge(x, "Nat", "Attach"));
	assert_non_null(edge(x, "Attach", "Nat"));
	gx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explicit_edges),
		cmocka_unit_test(test_implicit_edges),
		cmocka_unit_test(test_order_and_longest_path),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_self_cycle),
		cmocka_unit_test(test_output_formats),
		cmocka_unit_test(test_big_graph_is_linear),
		cmocka_unit_test(test_no_implicit_edges_when_not_needed),
		cmocka_unit_test(test_nat_traced_to_its_vpc),
		cmocka_unit_test(test_service_waits_for_role_policies),
		cmocka_unit_test(test_implicit_edge_never_closes_a_cycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
