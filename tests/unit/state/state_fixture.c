/*
 * state_fixture: writes sample states and holds locks for the end-to-end
 * tests of the state commands (apply does not exist yet).
 *
 *   state_fixture write PATH              a sample stack "demo"
 *   state_fixture hold-lock PATH SECONDS  takes the lock, prints
 *                                         "locked <id>", sleeps, releases
 *   state_fixture crash-lock PATH         takes the lock and dies by SIGKILL
 *
 * The sample holds one plaintext secret, FIXTURE_SECRET below, which the
 * tests grep for and must never find.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn/arena.h"
#include "cairn/err.h"
#include "cairn/state.h"
#include "cairn/value.h"

#define FIXTURE_SECRET "Fixture-Pl41ntext-Pa55word"

static struct value *js(struct arena *a, const char *text)
{
	struct err err = ERR_INIT;
	struct value *v = value_from_json(a, text, strlen(text),
					  VALUE_JSON_UNKNOWN_MARKER, &err);
	if (!v) {
		fprintf(stderr, "state_fixture: %s: %s\n", text, err.msg);
		exit(1);
	}
	return v;
}

static struct value *secret(struct arena *a, const char *s)
{
	struct value *v = value_new_string(a, s);
	v->sensitive = 1;
	return v;
}

static int write_sample(struct state *st, struct arena *a, struct err *err)
{
	struct state_stack sk = { 0 };
	struct state_resource r = { 0 };
	struct state_output outs[3];
	struct state_intent in = { 0 };
	struct state_outcome oc = { 0 };
	const char *subnet_deps[] = { "Vpc" };
	const char *nat_deps[] = { "Subnet", "Eip" };
	int64_t id;

	sk.name = "demo";
	sk.region = "eu-west-1";
	sk.account = "123456789012";
	sk.template_digest = "sha256:1111111111111111111111111111111111111111"
			     "111111111111111111111111";
	sk.parameters = js(a, "{\"Env\":\"test\"}");
	value_map_set(a, sk.parameters, "DbPassword", secret(a, FIXTURE_SECRET));
	if (state_stack_put(st, &sk, err))
		return -1;

	in.logical_id = "Vpc";
	in.resource_type = "AWS::EC2::VPC";
	in.action = "create";
	in.tags = js(a, "{\"cairn:stack\":\"demo\",\"cairn:logical-id\":\"Vpc\"}");
	if ((id = state_journal_intent(st, &in, err)) < 0)
		return -1;
	r.logical_id = "Vpc";
	r.type = "AWS::EC2::VPC";
	r.physical_id = "vpc-0a1b2c3d";
	r.properties = js(a, "{\"CidrBlock\":\"10.0.0.0/16\","
			     "\"EnableDnsSupport\":true,"
			     "\"Tags\":[{\"Key\":\"Name\",\"Value\":\"demo\"}]}");
	r.attributes = js(a, "{\"VpcId\":\"vpc-0a1b2c3d\","
			     "\"DefaultSecurityGroup\":\"sg-0001\"}");
	r.status = STATE_CREATED;
	if (state_resource_put(st, &r, err))
		return -1;
	oc.ok = true;
	oc.physical_id = "vpc-0a1b2c3d";
	oc.request_id = "req-0001";
	if (state_journal_outcome(st, id, &oc, err))
		return -1;

	r.logical_id = "Subnet";
	r.type = "AWS::EC2::Subnet";
	r.physical_id = "subnet-0e0e";
	r.properties = js(a, "{\"VpcId\":\"vpc-0a1b2c3d\","
			     "\"CidrBlock\":\"10.0.1.0/24\"}");
	r.attributes = js(a, "{\"AvailabilityZone\":\"eu-west-1a\"}");
	r.dependencies = subnet_deps;
	r.n_dependencies = 1;
	if (state_resource_put(st, &r, err))
		return -1;

	r.logical_id = "DbSecret";
	r.type = "AWS::SecretsManager::Secret";
	r.physical_id = "arn:aws:secretsmanager:eu-west-1:123456789012:"
			"secret:demo-db-AbCdEf";
	r.properties = js(a, "{\"Name\":\"demo-db\"}");
	value_map_set(a, r.properties, "SecretString",
		      secret(a, FIXTURE_SECRET));
	r.attributes = js(a, "{}");
	r.deletion_policy = "Retain";
	r.dependencies = NULL;
	r.n_dependencies = 0;
	if (state_resource_put(st, &r, err))
		return -1;

	/* a NAT gateway whose create was sent but never confirmed */
	in.logical_id = "Nat";
	in.resource_type = "AWS::EC2::NatGateway";
	in.action = "create";
	in.client_token = "cairn-demo-Nat-7f3e";
	in.tags = js(a, "{\"cairn:stack\":\"demo\",\"cairn:logical-id\":\"Nat\"}");
	if (state_journal_intent(st, &in, err) < 0)
		return -1;
	r.logical_id = "Nat";
	r.type = "AWS::EC2::NatGateway";
	r.physical_id = NULL;
	r.properties = js(a, "{\"SubnetId\":\"subnet-0e0e\","
			     "\"AllocationId\":{\"$unknown\":\"Eip.AllocationId\"}}");
	r.dependencies = nat_deps;
	r.n_dependencies = 2;
	r.status = STATE_CREATING;
	r.deletion_policy = NULL;
	if (state_resource_put(st, &r, err))
		return -1;

	outs[0].name = "VpcId";
	outs[0].value = js(a, "\"vpc-0a1b2c3d\"");
	outs[0].description = "the VPC";
	outs[0].export_name = "demo-VpcId";
	outs[1].name = "DbPassword";
	outs[1].value = secret(a, FIXTURE_SECRET);
	outs[1].description = NULL;
	outs[1].export_name = NULL;
	outs[2].name = "SubnetIds";
	outs[2].value = js(a, "[\"subnet-0e0e\"]");
	outs[2].description = NULL;
	outs[2].export_name = NULL;
	return state_outputs_put(st, outs, 3, err);
}

int main(int argc, char **argv)
{
	struct err err = ERR_INIT;
	struct arena *a;
	struct state *st;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: state_fixture write|hold-lock|crash-lock "
				"PATH [SECONDS]\n");
		return 2;
	}
	st = state_open(argv[2], STATE_OPEN_CREATE, &err);
	if (!st) {
		fprintf(stderr, "state_fixture: %s\n", err.msg);
		return 1;
	}
	a = arena_new();
	if (!strcmp(argv[1], "write")) {
		rc = write_sample(st, a, &err);
	} else if (!strcmp(argv[1], "hold-lock") && argc > 3) {
		struct state_lock_opts lo = { 0, 0, "state_fixture hold-lock" };
		rc = state_lock_acquire(st, &lo, &err);
		if (!rc) {
			struct timespec ts = { atoi(argv[3]), 0 };
			printf("locked %s\n", state_lock_id(st));
			fflush(stdout);
			nanosleep(&ts, NULL);
		}
	} else if (!strcmp(argv[1], "crash-lock")) {
		struct state_lock_opts lo = { 0, 0, "state_fixture crash-lock" };
		rc = state_lock_acquire(st, &lo, &err);
		if (!rc) {
			printf("locked %s\n", state_lock_id(st));
			fflush(stdout);
			kill(getpid(), SIGKILL);
		}
	} else {
		fprintf(stderr, "state_fixture: unknown mode '%s'\n", argv[1]);
		rc = -1;
		err.msg[0] = '\0';
	}
	if (rc && err.msg[0])
		fprintf(stderr, "state_fixture: %s\n", err.msg);
	state_close(st);
	arena_free(a);
	return rc ? 1 : 0;
}
