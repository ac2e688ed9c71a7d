/* Eventual consistency of AWS reads right after a write.
 *
 * AWS documents that a resource just created may be unknown to the calls
 * that follow: "if you run a command to modify or describe the resource
 * that you just created, its ID might not have propagated throughout the
 * system, and you will get an error responding that the resource does not
 * exist"; the advice is to describe again with exponential backoff, from a
 * couple of seconds up to a few minutes ("Eventual consistency in the
 * Amazon EC2 API", docs.aws.amazon.com/ec2/latest/devguide/
 * eventual-consistency.html). IAM, Secrets Manager, CloudWatch Logs, ECR
 * and ECS (DescribeServices failures "MISSING") behave alike. The
 * Terraform AWS provider's contributor guide ("Retries and Waiters",
 * hashicorp.github.io/terraform-provider-aws/retries-and-waiters/) names
 * the class "not yet visible" and retries a NotFound on the read that
 * follows a create for a bounded time (d.IsNewResource(),
 * tfresource.RetryWhenNewResourceNotFound, a propagation timeout of
 * minutes) instead of dropping the resource from its state.
 *
 * cairn does the same wherever a NotFound would make it act: a refresh of
 * a resource the state says was created or changed within the last
 * CAIRN_SETTLE_RECENT_SECONDS (300), and find() for a stopped run's
 * recent create intent (or after a create answered "already exists"),
 * read again with backoff for CAIRN_SETTLE_SECONDS (20) before believing
 * it. A resource that is really gone costs that wait once; one wrongly
 * taken for gone costs a duplicate (money, quota) or a destroy that
 * cannot delete what depends on it. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "settle.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/clock.h"

bool settle_recent(const char *stamp)
{
	struct tm tm;
	time_t t;
	double window = env_seconds("CAIRN_SETTLE_RECENT_SECONDS", 300.0, 0, 3600);

	if (!stamp)
		return true;
	memset(&tm, 0, sizeof(tm));
	if (!strptime(stamp, "%Y-%m-%dT%H:%M:%S", &tm))
		return true;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return true;
	return difftime(time(NULL), t) <= window;
}

void settle_start(struct settle *s, const _Atomic int *cancel)
{
	s->deadline = mono_seconds() + env_seconds("CAIRN_SETTLE_SECONDS", 20.0, 0, 3600);
	s->next_ms = 250.0;
	s->tries = 0;
	s->cancel = cancel;
}

bool settle_again(struct settle *s)
{
	double left = s->deadline - mono_seconds(), ms = s->next_ms;

	if (left <= 0 || (s->cancel && *s->cancel))
		return false;
	if (ms / 1000.0 > left)
		ms = left * 1000.0;
	while (ms > 0) {
		double slice = ms > 100 ? 100 : ms;
		struct timespec ts = { 0, (long)(slice * 1e6) };
		nanosleep(&ts, NULL);
		ms -= slice;
		if (s->cancel && *s->cancel)
			return false;
	}
	s->next_ms = s->next_ms * 2 > 2000 ? 2000 : s->next_ms * 2;
	s->tries++;
	return true;
}
