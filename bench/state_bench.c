/*
 * state_bench: measures the state module (run by bench/state_bench.sh).
 *
 *   state_bench write DIR N full|normal   N resource writes, each its own
 *                                         transaction, lock held (as the
 *                                         executor does); per-write ms
 *   state_bench load DIR N                writes N resources, then times
 *                                         open + state_resource_list in a
 *                                         fresh handle; peak RSS
 *
 * Output: one line "key=value ..." per measurement, for the script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cairn/arena.h"
#include "cairn/err.h"
#include "cairn/state.h"
#include "cairn/value.h"

/* a typical subnet-sized record: ~600 bytes of JSON */
static const char props_json[] =
	"{\"VpcId\":\"vpc-0123456789abcdef0\",\"CidrBlock\":\"10.0.1.0/24\","
	"\"AvailabilityZone\":\"eu-west-1a\",\"MapPublicIpOnLaunch\":true,"
	"\"Tags\":[{\"Key\":\"Name\",\"Value\":\"demo-private-a\"},"
	"{\"Key\":\"cairn:stack\",\"Value\":\"bench\"},"
	"{\"Key\":\"cairn:logical-id\",\"Value\":\"PrivateSubnetA\"},"
	"{\"Key\":\"Environment\",\"Value\":\"production\"}]}";
static const char attrs_json[] =
	"{\"SubnetId\":\"subnet-0123456789abcdef0\",\"AvailabilityZone\":"
	"\"eu-west-1a\",\"NetworkAclAssociationId\":\"aclassoc-0123456789abcdef\","
	"\"Ipv6CidrBlocks\":[],\"VpcId\":\"vpc-0123456789abcdef0\"}";

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void die(const char *what, const struct err *err)
{
	fprintf(stderr, "state_bench: %s: %s\n", what, err->msg);
	exit(1);
}

static void fill(struct arena *a, struct state_resource *r, const char **deps)
{
	struct err err = ERR_INIT;

	memset(r, 0, sizeof(*r));
	r->type = "AWS::EC2::Subnet";
	r->physical_id = "subnet-0123456789abcdef0";
	r->properties = value_from_json(a, props_json, strlen(props_json), 0,
					&err);
	r->attributes = value_from_json(a, attrs_json, strlen(attrs_json), 0,
					&err);
	if (!r->properties || !r->attributes)
		die("fixture JSON", &err);
	r->dependencies = deps;
	r->n_dependencies = 2;
	r->status = STATE_CREATED;
}

static int bench_write(const char *dir, int n, int full)
{
	struct err err = ERR_INIT;
	struct arena *a = arena_new();
	char path[512], id[32];
	const char *deps[] = { "Vpc", "RouteTable" };
	struct state_lock_opts lo = { 0, 0, "state_bench" };
	struct state_resource r;
	struct state *st;
	double *t = malloc((size_t)n * sizeof(double)), sum = 0;
	int i;

	snprintf(path, sizeof(path), "%s/write-%s.db", dir,
		 full ? "full" : "normal");
	st = state_open(path,
			STATE_OPEN_CREATE | (full ? 0 : STATE_OPEN_SYNC_NORMAL),
			&err);
	if (!st)
		die("open", &err);
	if (state_lock_acquire(st, &lo, &err))
		die("lock", &err);
	fill(a, &r, deps);
	for (i = 0; i < n; i++) {
		double t0;
		snprintf(id, sizeof(id), "Subnet%05d", i);
		r.logical_id = id;
		t0 = now_ms();
		if (state_resource_put(st, &r, &err))
			die("put", &err);
		t[i] = now_ms() - t0;
		sum += t[i];
	}
	qsort(t, (size_t)n, sizeof(double), cmp_d);
	printf("write sync=%s n=%d mean_ms=%.3f p50_ms=%.3f p99_ms=%.3f "
	       "max_ms=%.3f\n",
	       full ? "full" : "normal", n, sum / n, t[n / 2],
	       t[(int)(n * 0.99)], t[n - 1]);
	state_close(st);
	arena_free(a);
	free(t);
	return 0;
}

static long max_rss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int bench_load(const char *dir, int n)
{
	struct err err = ERR_INIT;
	struct arena *a = arena_new();
	char path[512], id[32];
	const char *deps[] = { "Vpc", "RouteTable" };
	struct state_resource r, *list;
	struct state *st;
	size_t got;
	long rss0;
	double t0, t_open, t_list;
	int i;

	snprintf(path, sizeof(path), "%s/load-%d.db", dir, n);
	/* populate fast: this part is not what is measured */
	st = state_open(path, STATE_OPEN_CREATE | STATE_OPEN_SYNC_NORMAL, &err);
	if (!st)
		die("open", &err);
	fill(a, &r, deps);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "Subnet%05d", i);
		r.logical_id = id;
		if (state_resource_put(st, &r, &err))
			die("put", &err);
	}
	state_close(st);
	arena_free(a);

	rss0 = max_rss_kb();
	a = arena_new();
	t0 = now_ms();
	st = state_open(path, 0, &err);
	if (!st)
		die("reopen", &err);
	t_open = now_ms() - t0;
	t0 = now_ms();
	if (state_resource_list(st, a, &list, &got, &err))
		die("list", &err);
	t_list = now_ms() - t0;
	if (got != (size_t)n) {
		fprintf(stderr, "state_bench: listed %zu of %d\n", got, n);
		return 1;
	}
	printf("load n=%d open_ms=%.2f list_ms=%.2f arena_kb=%zu "
	       "peak_rss_kb=%ld rss_before_kb=%ld\n",
	       n, t_open, t_list, arena_used(a) / 1024, max_rss_kb(), rss0);
	state_close(st);
	arena_free(a);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "write"))
		return bench_write(argv[2], atoi(argv[3]),
				   !strcmp(argv[4], "full"));
	if (argc == 4 && !strcmp(argv[1], "load"))
		return bench_load(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: state_bench write DIR N full|normal\n"
			"       state_bench load DIR N\n");
	return 2;
}
