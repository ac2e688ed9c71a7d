/* The one table from AWS error codes to cairn's error classes, the
 * standard-mode retry decision, backoff, and the client-side token bucket.
 * Decisions use codes and HTTP statuses, never message text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_int.h"

struct code_class {
	const char *code;
	enum err_code cls;
};

/* Sorted by code (strcmp) for bsearch. Sources: docs/aws-behaviour.md ("Error
 * classes", checked by tests/py/test_error_table.py), botocore's retry
 * configuration (throttling and transient codes), the services' documented
 * error codes. */
static const struct code_class table[] = {
	{ "AccessDenied", ERR_ACCESS_DENIED },
	{ "AccessDeniedException", ERR_ACCESS_DENIED },
	{ "AuthFailure", ERR_AUTH },
	{ "BandwidthLimitExceeded", ERR_THROTTLED },
	{ "ClientException", ERR_VALIDATION },
	{ "ClusterContainsServicesException", ERR_CONFLICT },
	{ "ClusterContainsTasksException", ERR_CONFLICT },
	{ "ClusterNotFoundException", ERR_NOT_FOUND },
	{ "ConcurrentModificationException", ERR_CONFLICT },
	{ "ConditionalRequestConflict", ERR_CONFLICT },
	{ "DeleteConflict", ERR_CONFLICT },
	{ "DependencyViolation", ERR_CONFLICT },
	{ "EC2ThrottledException", ERR_THROTTLED },
	{ "EntityAlreadyExists", ERR_ALREADY_EXISTS },
	{ "ExpiredToken", ERR_AUTH },
	{ "ExpiredTokenException", ERR_AUTH },
	{ "Gateway.NotAttached", ERR_CONFLICT },
	{ "IDPCommunicationError", ERR_TRANSIENT },
	{ "IncompleteSignature", ERR_AUTH },
	{ "IncorrectState", ERR_CONFLICT },
	{ "InternalError", ERR_TRANSIENT },
	{ "InternalFailure", ERR_TRANSIENT },
	{ "InternalServerError", ERR_TRANSIENT },
	{ "InvalidAction", ERR_VALIDATION },
	{ "InvalidClientTokenId", ERR_AUTH },
	{ "InvalidGroup.Duplicate", ERR_ALREADY_EXISTS },
	{ "InvalidIPAddress.InUse", ERR_CONFLICT },
	{ "InvalidIdentityToken", ERR_AUTH },
	{ "InvalidInput", ERR_VALIDATION },
	{ "InvalidParameter", ERR_VALIDATION },
	{ "InvalidParameterCombination", ERR_VALIDATION },
	{ "InvalidParameterException", ERR_VALIDATION },
	{ "InvalidParameterValue", ERR_VALIDATION },
	{ "InvalidPermission.Duplicate", ERR_ALREADY_EXISTS },
	{ "InvalidRequestException", ERR_VALIDATION },
	{ "InvalidResourceId", ERR_NOT_FOUND },
	{ "InvalidSignatureException", ERR_AUTH },
	{ "LifecyclePolicyNotFoundException", ERR_NOT_FOUND },
	{ "LimitExceeded", ERR_QUOTA },
	{ "LimitExceededException", ERR_QUOTA },
	{ "MalformedPolicyDocument", ERR_VALIDATION },
	{ "MalformedQueryString", ERR_VALIDATION },
	{ "MissingAuthenticationToken", ERR_AUTH },
	{ "MissingParameter", ERR_VALIDATION },
	{ "NatGatewayNotFound", ERR_NOT_FOUND },
	{ "NoSuchBucket", ERR_NOT_FOUND },
	{ "NoSuchEntity", ERR_NOT_FOUND },
	{ "NoSuchKey", ERR_NOT_FOUND },
	{ "NotFound", ERR_NOT_FOUND },
	{ "OperationAbortedException", ERR_CONFLICT },
	{ "OptInRequired", ERR_ACCESS_DENIED },
	{ "ParameterAlreadyExists", ERR_ALREADY_EXISTS },
	{ "ParameterNotFound", ERR_NOT_FOUND },
	{ "PreconditionFailed", ERR_CONFLICT },
	{ "PriorRequestNotComplete", ERR_THROTTLED },
	{ "ProvisionedThroughputExceededException", ERR_THROTTLED },
	{ "RepositoryAlreadyExistsException", ERR_ALREADY_EXISTS },
	{ "RepositoryNotEmptyException", ERR_CONFLICT },
	{ "RepositoryNotFoundException", ERR_NOT_FOUND },
	{ "RepositoryPolicyNotFoundException", ERR_NOT_FOUND },
	{ "RequestExpired", ERR_AUTH },
	{ "RequestLimitExceeded", ERR_THROTTLED },
	{ "RequestThrottled", ERR_THROTTLED },
	{ "RequestThrottledException", ERR_THROTTLED },
	{ "RequestTimeout", ERR_TRANSIENT },
	{ "RequestTimeoutException", ERR_TRANSIENT },
	{ "Resource.AlreadyAssociated", ERR_CONFLICT },
	{ "ResourceAlreadyExistsException", ERR_ALREADY_EXISTS },
	{ "ResourceExistsException", ERR_ALREADY_EXISTS },
	{ "ResourceInUseException", ERR_CONFLICT },
	{ "ResourceNotFoundException", ERR_NOT_FOUND },
	{ "RouteAlreadyExists", ERR_ALREADY_EXISTS },
	{ "SerializationException", ERR_VALIDATION },
	{ "ServerException", ERR_TRANSIENT },
	{ "ServiceNotFoundException", ERR_NOT_FOUND },
	{ "ServiceQuotaExceededException", ERR_QUOTA },
	{ "ServiceUnavailable", ERR_TRANSIENT },
	{ "ServiceUnavailableException", ERR_TRANSIENT },
	{ "SignatureDoesNotMatch", ERR_AUTH },
	{ "SlowDown", ERR_THROTTLED },
	{ "ThrottledException", ERR_THROTTLED },
	{ "Throttling", ERR_THROTTLED },
	{ "ThrottlingException", ERR_THROTTLED },
	{ "TooManyRequestsException", ERR_THROTTLED },
	{ "TransactionInProgressException", ERR_THROTTLED },
	{ "UnauthorizedOperation", ERR_ACCESS_DENIED },
	{ "UnknownOperationException", ERR_VALIDATION },
	{ "UnrecognizedClientException", ERR_AUTH },
	{ "ValidationError", ERR_VALIDATION },
	{ "ValidationException", ERR_VALIDATION },
};

static int cmp_code(const void *k, const void *e)
{
	return strcmp(k, ((const struct code_class *)e)->code);
}

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

enum err_code aws_error_class(const char *code, int status)
{
	if (code && *code) {
		const struct code_class *e =
			bsearch(code, table, sizeof(table) / sizeof(table[0]),
				sizeof(table[0]), cmp_code);
		if (e)
			return e->cls;
		/* EC2's families: InvalidVpcID.NotFound, InvalidGroup.NotFound,
		 * InvalidAllocationID.NotFound ...; *.Duplicate; *.InUse */
		if (ends_with(code, ".NotFound") || ends_with(code, ".Malformed.NotFound"))
			return ERR_NOT_FOUND;
		if (ends_with(code, ".Duplicate"))
			return ERR_ALREADY_EXISTS;
		if (ends_with(code, ".InUse"))
			return ERR_CONFLICT;
		/* a quota reached (VpcLimitExceeded, AddressLimitExceeded,
		 * RulesPerSecurityGroupLimitExceeded, ...) is not throttling:
		 * waiting does not help; RequestLimitExceeded, the one EC2
		 * throttling code of that shape, is in the table */
		if (ends_with(code, "LimitExceeded") || ends_with(code, "QuotaExceeded") ||
		    ends_with(code, "QuotaExceededException"))
			return ERR_QUOTA;
		if (ends_with(code, ".Malformed") || !strncmp(code, "InvalidParameter", 16))
			return ERR_VALIDATION;
	}
	switch (status) {
	case 400:
		return ERR_VALIDATION;
	case 401:
		return ERR_AUTH;
	case 403:
		return ERR_ACCESS_DENIED;
	case 404:
		return ERR_NOT_FOUND;
	case 409:
	case 412:
		return ERR_CONFLICT;
	case 429:
		return ERR_THROTTLED;
	case 500:
	case 502:
	case 503:
	case 504:
		return ERR_TRANSIENT;
	default:
		return ERR_AWS;
	}
}

int aws_retryable(enum err_code cls)
{
	return cls == ERR_THROTTLED || cls == ERR_TRANSIENT;
}

long aws_backoff_ms(int attempt, long base_ms, double rnd)
{
	double cap = 20000.0, exp_ms;

	if (attempt < 2)
		return 0;
	exp_ms = (double)base_ms * pow(2.0, (double)(attempt - 2));
	if (exp_ms > cap)
		exp_ms = cap;
	return (long)(rnd * exp_ms);
}

void tb_init(struct token_bucket *tb, double rate, double capacity)
{
	pthread_mutex_init(&tb->lock, NULL);
	tb->rate = rate;
	tb->capacity = capacity;
	tb->tokens = capacity;
	tb->last_ns = -1;
}

void tb_release(struct token_bucket *tb)
{
	pthread_mutex_destroy(&tb->lock);
}

/* Adds the tokens earned since the last call (capped at the bucket's
 * size). Called with tb->lock held. */
static void tb_refill(struct token_bucket *tb, int64_t now_ns)
{
	if (tb->last_ns >= 0 && now_ns > tb->last_ns) {
		tb->tokens += (double)(now_ns - tb->last_ns) * tb->rate / 1e9;
		if (tb->tokens > tb->capacity)
			tb->tokens = tb->capacity;
	}
	if (tb->last_ns < 0 || now_ns > tb->last_ns)
		tb->last_ns = now_ns;
}

int64_t tb_take(struct token_bucket *tb, int64_t now_ns)
{
	int64_t wait = 0;

	if (tb->rate <= 0)
		return 0;
	pthread_mutex_lock(&tb->lock);
	tb_refill(tb, now_ns);
	tb->tokens -= 1.0;
	if (tb->tokens < 0)
		wait = (int64_t)(-tb->tokens * 1e9 / tb->rate);
	pthread_mutex_unlock(&tb->lock);
	return wait;
}

void tb_drain(struct token_bucket *tb, int64_t now_ns)
{
	if (tb->rate <= 0)
		return;
	pthread_mutex_lock(&tb->lock);
	tb_refill(tb, now_ns);
	if (tb->tokens > 0)
		tb->tokens = 0;
	pthread_mutex_unlock(&tb->lock);
}

int aws_op_is_read(const char *op)
{
	static const char *const pre[] = { "Describe", "Get", "List", "Search",
					   "Head" };
	size_t i;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (!strncmp(op, pre[i], strlen(pre[i])))
			return 1;
	return 0;
}

static int cmp_rate_api(const void *k, const void *e)
{
	return strcmp(k, ((const struct aws_rate_api *)e)->key);
}

int aws_rate_lookup(const char *service, const char *op, int mutating,
		    char *name, size_t n, double *burst, double *rate)
{
	const struct aws_rate_service *s = NULL;
	const struct aws_rate_api *a;
	char key[160];
	size_t i;

	for (i = 0; i < aws_rate_nservices; i++)
		if (!strcmp(aws_rate_services[i].name, service))
			s = &aws_rate_services[i];
	if (!s)
		return -1;
	snprintf(key, sizeof(key), "%s:%s", service, op);
	a = bsearch(key, aws_rate_apis, aws_rate_napis, sizeof(aws_rate_apis[0]),
		    cmp_rate_api);
	if (a) {
		snprintf(name, n, "%s", a->bucket);
		*burst = a->burst;
		*rate = a->rate;
		return 0;
	}
	if (s->per_api)
		snprintf(name, n, "%s", key);
	else
		snprintf(name, n, "%s:%s", service, mutating ? "mutating" : "read");
	*burst = mutating ? s->mut_burst : s->read_burst;
	*rate = mutating ? s->mut_rate : s->read_rate;
	return 0;
}

void quota_init(struct retry_quota *q, int capacity)
{
	pthread_mutex_init(&q->lock, NULL);
	q->tokens = q->capacity = capacity;
}

void quota_release(struct retry_quota *q)
{
	pthread_mutex_destroy(&q->lock);
}

int quota_take(struct retry_quota *q, int cost)
{
	int rc = -1;

	pthread_mutex_lock(&q->lock);
	if (q->tokens >= cost) {
		q->tokens -= cost;
		rc = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void quota_refund(struct retry_quota *q, int amount)
{
	pthread_mutex_lock(&q->lock);
	q->tokens += amount;
	if (q->tokens > q->capacity)
		q->tokens = q->capacity;
	pthread_mutex_unlock(&q->lock);
}

int64_t aws_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
