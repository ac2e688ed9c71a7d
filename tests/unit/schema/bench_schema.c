/*
 * bench_schema [N]: times schema_init() and schema_validate() of N
 * resources (default 5000) shaped like the shipped stacks: a mix of VPCs,
 * subnets, security groups with rules, roles with inline policies, task
 * definitions with containers. Prints milliseconds; not run by meson test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cairn/arena.h"
#include "cairn/diag.h"
#include "cairn/schema.h"
#include "cairn/value.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct value *str(struct arena *a, const char *s)
{
	return value_new_string(a, s);
}

static struct value *tags(struct arena *a, const char *name)
{
	struct value *l = value_new_list(a), *t = value_new_map(a);

	value_map_set(a, t, "Key", str(a, "Name"));
	value_map_set(a, t, "Value", str(a, name));
	value_list_push(a, l, t);
	return l;
}

static struct value *make(struct arena *a, size_t i, const char **type)
{
	struct value *p = value_new_map(a), *l, *m, *c;
	char buf[64];

	snprintf(buf, sizeof(buf), "res-%zu", i);
	switch (i % 5) {
	case 0:
		*type = "AWS::EC2::VPC";
		value_map_set(a, p, "CidrBlock", str(a, "10.0.0.0/16"));
		value_map_set(a, p, "EnableDnsSupport", value_new_bool(a, true));
		value_map_set(a, p, "EnableDnsHostnames", value_new_bool(a, true));
		break;
	case 1:
		*type = "AWS::EC2::Subnet";
		value_map_set(a, p, "VpcId", value_new_unknown(a, "Vpc.VpcId"));
		value_map_set(a, p, "CidrBlock", str(a, "10.0.1.0/24"));
		value_map_set(a, p, "AvailabilityZone", str(a, "us-east-1a"));
		break;
	case 2:
		*type = "AWS::EC2::SecurityGroup";
		value_map_set(a, p, "GroupDescription", str(a, "workers"));
		value_map_set(a, p, "VpcId", value_new_unknown(a, "Vpc.VpcId"));
		l = value_new_list(a);
		m = value_new_map(a);
		value_map_set(a, m, "IpProtocol", str(a, "-1"));
		value_map_set(a, m, "CidrIp", str(a, "10.0.0.0/16"));
		value_list_push(a, l, m);
		value_map_set(a, p, "SecurityGroupIngress", l);
		break;
	case 3:
		*type = "AWS::IAM::Role";
		m = value_new_map(a);
		value_map_set(a, m, "Version", str(a, "2012-10-17"));
		value_map_set(a, p, "AssumeRolePolicyDocument", m);
		l = value_new_list(a);
		value_list_push(a, l, str(a, "arn:aws:iam::aws:policy/service-role/"
					     "AmazonECSTaskExecutionRolePolicy"));
		value_map_set(a, p, "ManagedPolicyArns", l);
		value_map_set(a, p, "RoleName", str(a, buf));
		break;
	default:
		*type = "AWS::ECS::TaskDefinition";
		value_map_set(a, p, "Family", str(a, buf));
		value_map_set(a, p, "Cpu", str(a, "256"));
		value_map_set(a, p, "Memory", str(a, "512"));
		value_map_set(a, p, "NetworkMode", str(a, "awsvpc"));
		l = value_new_list(a);
		value_list_push(a, l, str(a, "FARGATE"));
		value_map_set(a, p, "RequiresCompatibilities", l);
		l = value_new_list(a);
		c = value_new_map(a);
		value_map_set(a, c, "Name", str(a, "worker"));
		value_map_set(a, c, "Image", str(a, "prefecthq/prefect:3-latest"));
		m = value_new_map(a);
		value_map_set(a, m, "LogDriver", str(a, "awslogs"));
		value_map_set(a, c, "LogConfiguration", m);
		value_list_push(a, l, c);
		value_map_set(a, p, "ContainerDefinitions", l);
		break;
	}
	value_map_set(a, p, "Tags", tags(a, buf));
	return p;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 5000, i;
	struct arena *a = arena_new();
	struct value **props = malloc(n * sizeof(*props));
	const char **types = malloc(n * sizeof(*types));
	struct diag_list dl = DIAG_LIST_INIT;
	double t0, t1, t2;

	if (!props || !types)
		return 1;
	for (i = 0; i < n; i++)
		props[i] = make(a, i, &types[i]);
	t0 = now_ms();
	schema_init();
	t1 = now_ms();
	for (i = 0; i < n; i++)
		schema_validate(schema_find(types[i]), props[i], "R", &dl);
	t2 = now_ms();
	printf("schema_init: %.2f ms; validate %zu resources: %.2f ms; %zu problems\n",
	       t1 - t0, n, t2 - t1, dl.n);
	diag_list_release(&dl);
	free(props);
	free(types);
	arena_free(a);
	return dl.n ? 1 : 0;
}
