/* Services cairn calls, their standard endpoints, and the override rules
 * (AWS SDK "service-specific endpoints" precedence).
 *
 * Standard endpoints come from the AWS SDKs' endpoint data
 * (data/endpoints/endpoints.json, botocore's, embedded at build time),
 * resolved the way botocore's EndpointResolver does: the partition whose
 * region list or pattern holds the region; the service's entry for that
 * region, else its partition endpoint when the service is not regionalized
 * (IAM: iam.amazonaws.com signed us-east-1 in aws, iam.cn-north-1.amazonaws.com.cn
 * signed cn-north-1 in aws-cn, iam.us-gov.amazonaws.com signed us-gov-west-1
 * in aws-us-gov), else the partition's hostname template; FIPS and
 * dual-stack variants looked up by their exact tag set in the endpoint, the
 * service defaults, then the partition defaults. The signing region is the
 * entry's credentialScope region, else the endpoint name. STS is regional
 * (as the AWS CLI v2). S3 in us-east-1 uses the global s3.amazonaws.com
 * unless AWS_S3_US_EAST_1_REGIONAL_ENDPOINT / s3_us_east_1_regional_endpoint
 * says "regional" (the SDKs' "legacy" default).
 */
#include <ctype.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "aws_int.h"

/* The last four numbers (reads: rate, burst; mutating: rate, burst) are only
 * a fallback: the client paces every call with AWS's documented per-API
 * buckets from data/rate-limits/rate-limits.json (aws_rate_lookup), which
 * has a row for each service here. */
const struct aws_service aws_services[AWS_NSERVICES] = {
	{ "ec2", "ec2", "ec2", PROTO_EC2, "2016-11-15", NULL, "EC2", "ec2", 0,
	  20, 100, 5, 200 },
	{ "ecs", "ecs", "ecs", PROTO_JSON, NULL,
	  "AmazonEC2ContainerServiceV20141113", "ECS", "ecs", 0, 20, 50, 0, 0 },
	{ "ecr", "api.ecr", "ecr", PROTO_JSON, NULL,
	  "AmazonEC2ContainerRegistry_V20150921", "ECR", "ecr", 0, 20, 50, 0, 0 },
	{ "iam", "iam", "iam", PROTO_QUERY, "2010-05-08", NULL, "IAM", "iam", 1,
	  10, 20, 0, 0 },
	{ "secretsmanager", "secretsmanager", "secretsmanager", PROTO_JSON, NULL,
	  "secretsmanager", "SECRETS_MANAGER", "secrets_manager", 0, 20, 50, 0, 0 },
	{ "logs", "logs", "logs", PROTO_JSON, NULL, "Logs_20140328",
	  "CLOUDWATCH_LOGS", "cloudwatch_logs", 0, 10, 20, 0, 0 },
	{ "sts", "sts", "sts", PROTO_QUERY, "2011-06-15", NULL, "STS", "sts", 0,
	  20, 50, 0, 0 },
	{ "s3", "s3", "s3", PROTO_REST_XML, NULL, NULL, "S3", "s3", 0, 100, 200,
	  0, 0 },
	/* IAM Identity Center, for SSO profiles: the portal's GetRoleCredentials
	 * (bearer token, unsigned) and the OIDC token refresh (unsigned) */
	{ "sso", "portal.sso", "awsssoportal", PROTO_REST_JSON, NULL, NULL, "SSO",
	  "sso", 0, 10, 20, 0, 0 },
	{ "sso-oidc", "oidc", "sso-oauth", PROTO_REST_JSON, NULL, NULL,
	  "SSO_OIDC", "sso_oidc", 0, 10, 20, 0, 0 },
	/* Cloud Control speaks JSON 1.0 (client.c picks the content type);
	 * its documented quotas are a few requests/s per account and region */
	{ "cloudcontrol", "cloudcontrolapi", "cloudcontrolapi", PROTO_JSON,
	  NULL, "CloudApiService", "CLOUDCONTROL", "cloudcontrol", 0, 10, 20,
	  0, 0 },
	{ "cloudformation", "cloudformation", "cloudformation", PROTO_QUERY,
	  "2010-05-15", NULL, "CLOUDFORMATION", "cloudformation", 0, 10, 20, 0,
	  0 },
	/* Resource Groups Tagging API (refresh's tag listing): AWS publishes
	 * no bucket for GetResources; pages are fetched back to back, so only
	 * a few calls a refresh, well under any quota */
	{ "tagging", "tagging", "tagging", PROTO_JSON, NULL,
	  "ResourceGroupsTaggingAPI_20170126", "RESOURCE_GROUPS_TAGGING_API",
	  "resource_groups_tagging_api", 0, 10, 20, 0, 0 },
	/* Systems Manager Parameter Store (AWS::SSM::Parameter, key pairs'
	 * private keys, SSM parameter types); GetParameters' default quota is
	 * 40 TPS */
	{ "ssm", "ssm", "ssm", PROTO_JSON, NULL, "AmazonSSM", "SSM", "ssm", 0,
	  20, 40, 0, 0 },
};

const struct aws_service *aws_service_find(const char *name)
{
	size_t i;

	for (i = 0; i < AWS_NSERVICES; i++)
		if (!strcmp(aws_services[i].name, name))
			return &aws_services[i];
	return NULL;
}

static const char *env_get(const struct aws_env *env, const char *name)
{
	const char *v = env->get(env->ctx, name);
	return v && *v ? v : NULL;
}

const char *aws_resolve_region(const char *opt, const struct aws_env *env)
{
	const char *r;

	if (opt && *opt)
		return opt;
	if ((r = env_get(env, "AWS_REGION")))
		return r;
	if ((r = env_get(env, "AWS_DEFAULT_REGION")))
		return r;
	return ini_get(env->profile, "region");
}

static int is_loopback_host(const char *h, size_t n)
{
	char buf[256];
	unsigned a, b, c, d;
	char extra;

	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, h, n);
	buf[n] = '\0';
	if (!strcasecmp(buf, "localhost") || !strcmp(buf, "[::1]") ||
	    !strcmp(buf, "::1"))
		return 1;
	if (sscanf(buf, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4 &&
	    a == 127 && b < 256 && c < 256 && d < 256)
		return 1;
	return 0;
}

/* Splits scheme://host[:port]/...; host excludes brackets' content only for
 * the loopback test. */
static int url_host(const char *url, const char **host, size_t *hlen)
{
	const char *p = strstr(url, "://"), *h, *e;

	if (!p)
		return -1;
	h = p + 3;
	if (*h == '[') {
		e = strchr(h, ']');
		if (!e)
			return -1;
		e++;
	} else {
		e = h + strcspn(h, ":/?#");
	}
	if (e == h)
		return -1;
	*host = h;
	*hlen = (size_t)(e - h);
	return 0;
}

int aws_check_url(const char *url, struct err *err)
{
	const char *h = NULL;
	size_t hl = 0;

	if (strncasecmp(url, "https://", 8) && strncasecmp(url, "http://", 7))
		return err_set(err, ERR_VALIDATION,
			       "endpoint \"%s\": only https:// (or http:// to a loopback address) is supported",
			       url);
	if (url_host(url, &h, &hl) < 0)
		return err_set(err, ERR_VALIDATION,
			       "endpoint \"%s\": no host in the URL", url);
	if (!strncasecmp(url, "http://", 7) && !is_loopback_host(h, hl))
		return err_set(err, ERR_VALIDATION,
			       "endpoint \"%s\": plain http is only allowed to loopback addresses (127.0.0.0/8, ::1, localhost); use https://",
			       url);
	return 0;
}

static int fill_from_url(const char *url, const char *sign_region,
			 struct aws_endpoint *out, struct err *err)
{
	const char *h = NULL;
	size_t hl = 0, ul = strlen(url);

	if (aws_check_url(url, err) < 0)
		return -1;
	while (ul && url[ul - 1] == '/')
		ul--;
	if (ul >= sizeof(out->url))
		return err_set(err, ERR_VALIDATION, "endpoint \"%s\": too long", url);
	memcpy(out->url, url, ul);
	out->url[ul] = '\0';
	url_host(out->url, &h, &hl);
	/* Host: host plus a non-default port, lowercased (as botocore) */
	{
		const char *port = h + hl;
		size_t pl = 0, i;
		int https = !strncasecmp(url, "https", 5);
		if (*port == ':') {
			pl = strcspn(port, "/?#");
			if ((https && pl == 4 && !strncmp(port, ":443", 4)) ||
			    (!https && pl == 3 && !strncmp(port, ":80", 3)))
				pl = 0;
		}
		if (hl + pl >= sizeof(out->host))
			return err_set(err, ERR_VALIDATION,
				       "endpoint \"%s\": host too long", url);
		for (i = 0; i < hl; i++)
			out->host[i] = (char)tolower((unsigned char)h[i]);
		memcpy(out->host + hl, port, pl);
		out->host[hl + pl] = '\0';
	}
	snprintf(out->signing_region, sizeof(out->signing_region), "%s",
		 sign_region);
	return 0;
}

static int truthy(const char *v)
{
	return v && !strcasecmp(v, "true");
}

/* ---- the SDK endpoint data ---------------------------------------------- */

extern const unsigned char aws_endpoints_json[];
extern const size_t aws_endpoints_json_len;

#define MAX_PARTITIONS 16

static cJSON *ep_data;
static regex_t ep_rx[MAX_PARTITIONS];
static int ep_rx_ok[MAX_PARTITIONS];
static pthread_once_t ep_once = PTHREAD_ONCE_INIT;

static const cJSON *jget(const cJSON *o, const char *k)
{
	return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = jget(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void ep_load(void)
{
	const cJSON *part;
	int i = 0;

	ep_data = cJSON_ParseWithLength((const char *)aws_endpoints_json,
					aws_endpoints_json_len);
	cJSON_ArrayForEach(part, jget(ep_data, "partitions")) {
		const char *rx = jstr(part, "regionRegexPosix");
		if (i >= MAX_PARTITIONS)
			break;
		ep_rx_ok[i] = rx && regcomp(&ep_rx[i], rx, REG_EXTENDED | REG_NOSUB) == 0;
		i++;
	}
}

static int region_match(int i, const cJSON *part, const char *region)
{
	if (jget(jget(part, "regions"), region))
		return 1;
	return i < MAX_PARTITIONS && ep_rx_ok[i] &&
	       regexec(&ep_rx[i], region, 0, NULL, 0) == 0;
}

/* The variant of data whose tags are exactly {fips?, dualstack?}. */
static const cJSON *variant(const cJSON *data, int fips, int dual)
{
	const cJSON *v, *t;

	cJSON_ArrayForEach(v, jget(data, "variants")) {
		int f = 0, d = 0, n = 0;
		cJSON_ArrayForEach(t, jget(v, "tags")) {
			n++;
			if (cJSON_IsString(t) && !strcmp(t->valuestring, "fips"))
				f = 1;
			else if (cJSON_IsString(t) && !strcmp(t->valuestring, "dualstack"))
				d = 1;
		}
		if (f == fips && d == dual && n == f + d)
			return v;
	}
	return NULL;
}

struct merged {
	const char *hostname, *dns_suffix, *scope_region;
	int scope_set;
};

/* botocore's _merge_keys on the three keys cairn reads: first one wins. */
static void merge(struct merged *m, const cJSON *from)
{
	const cJSON *scope;

	if (!from)
		return;
	if (!m->hostname)
		m->hostname = jstr(from, "hostname");
	if (!m->dns_suffix)
		m->dns_suffix = jstr(from, "dnsSuffix");
	if (!m->scope_set && (scope = jget(from, "credentialScope"))) {
		m->scope_set = 1;
		m->scope_region = jstr(scope, "region");
	}
}

static void expand(const char *tmpl, const char *service, const char *region,
		   const char *dns, char *out, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	for (p = tmpl; *p;) {
		if (!strncmp(p, "{service}", 9)) {
			strbuf_addstr(&sb, service);
			p += 9;
		} else if (!strncmp(p, "{region}", 8)) {
			strbuf_addstr(&sb, region);
			p += 8;
		} else if (!strncmp(p, "{dnsSuffix}", 11)) {
			strbuf_addstr(&sb, dns);
			p += 11;
		} else {
			strbuf_addch(&sb, *p++);
		}
	}
	snprintf(out, n, "%s", sb.buf);
	strbuf_release(&sb);
}

/* 1 resolved, 0 the partition does not hold the region, -1 error. */
static int for_partition(int idx, const cJSON *part, const char *prefix,
			 const char *region, int fips, int dual, int force,
			 struct aws_std_endpoint *out, struct err *err)
{
	const cJSON *svc = jget(jget(part, "services"), prefix);
	const cJSON *eps = jget(svc, "endpoints"), *epd;
	const char *name = region, *pe = jstr(svc, "partitionEndpoint");
	const cJSON *reg = jget(svc, "isRegionalized");
	struct merged m;

	if (!name) {
		if (!pe)
			return err_set(err, ERR_VALIDATION,
				       "no AWS region: use --region, AWS_REGION, AWS_DEFAULT_REGION or a profile's region");
		name = pe;
	} else if (!jget(eps, name)) {
		if (!force && !region_match(idx, part, name))
			return 0;
		if (pe && cJSON_IsFalse(reg))
			name = pe;
	}
	epd = jget(eps, name);
	memset(&m, 0, sizeof(m));
	if (fips || dual) {
		merge(&m, variant(epd, fips, dual));
		merge(&m, variant(jget(svc, "defaults"), fips, dual));
		merge(&m, variant(jget(part, "defaults"), fips, dual));
		if (!m.hostname && !m.dns_suffix)
			return err_set(err, ERR_VALIDATION,
				       "%s: no %s endpoint in region %s (partition %s)",
				       prefix, fips && dual ? "FIPS dual-stack" :
				       fips ? "FIPS" : "dual-stack", name,
				       jstr(part, "partition"));
	}
	merge(&m, epd);
	if (!m.dns_suffix)
		m.dns_suffix = jstr(part, "dnsSuffix");
	merge(&m, jget(svc, "defaults"));
	merge(&m, jget(part, "defaults"));
	if (!m.hostname || !m.dns_suffix)
		return err_set(err, ERR_INTERNAL, "endpoint data: no hostname for %s in %s",
			       prefix, name);
	expand(m.hostname, prefix, name, m.dns_suffix, out->host, sizeof(out->host));
	snprintf(out->signing_region, sizeof(out->signing_region), "%s",
		 m.scope_region ? m.scope_region : name);
	snprintf(out->partition, sizeof(out->partition), "%s",
		 jstr(part, "partition"));
	return 1;
}

int aws_endpoint_standard(const char *prefix, const char *region, int fips,
			  int dual, struct aws_std_endpoint *out, struct err *err)
{
	const cJSON *part, *first = NULL;
	int i = 0, rc;

	pthread_once(&ep_once, ep_load);
	memset(out, 0, sizeof(*out));
	if (!ep_data)
		return err_set(err, ERR_INTERNAL, "the built-in endpoint data is unreadable");
	cJSON_ArrayForEach(part, jget(ep_data, "partitions")) {
		const char *pn = jstr(part, "partition");
		if (!first)
			first = part;
		/* botocore: no dual-stack in the isolated partitions */
		if (dual && pn && (!strcmp(pn, "aws-iso") || !strcmp(pn, "aws-iso-b"))) {
			if (region && region_match(i, part, region))
				return err_set(err, ERR_VALIDATION,
					       "dual-stack endpoints are not available in partition %s",
					       pn);
			i++;
			continue;
		}
		rc = for_partition(i, part, prefix, region, fips, dual, 0, out, err);
		if (rc)
			return rc < 0 ? -1 : 0;
		i++;
	}
	/* a region no partition knows: the aws partition's templates */
	if (!first)
		return err_set(err, ERR_INTERNAL, "the built-in endpoint data has no partition");
	rc = for_partition(0, first, prefix, region, fips, dual, 1, out, err);
	return rc == 1 ? 0 : -1;
}

/* AWS_USE_FIPS_ENDPOINT / use_fips_endpoint and the like: the environment
 * first, then the profile. */
static int flag(const struct aws_env *env, const char *envname, const char *key)
{
	const char *v = env_get(env, envname);

	if (!v)
		v = ini_get(env->profile, key);
	return truthy(v);
}

int aws_resolve_endpoint(const struct aws_service *svc, const char *region,
			 const char *opt_url, const struct aws_env *env,
			 struct aws_endpoint *out, struct err *err)
{
	struct aws_std_endpoint std;
	const char *url = NULL, *endpoint_region = region;
	char name[96];
	int fips, dual, std_rc;

	memset(out, 0, sizeof(*out));
	fips = flag(env, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint");
	dual = flag(env, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint");
	if (!strcmp(svc->host_prefix, "s3") && region && !strcmp(region, "us-east-1") &&
	    !fips && !dual) {
		const char *v = env_get(env, "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT");
		if (!v)
			v = ini_get(env->profile, "s3_us_east_1_regional_endpoint");
		if (!v || strcasecmp(v, "regional"))
			endpoint_region = "aws-global";
	}
	if (opt_url && *opt_url) {
		url = opt_url;
	} else if (!truthy(env_get(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) &&
		   !truthy(ini_get(env->profile, "ignore_configured_endpoint_urls"))) {
		snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", svc->env_suffix);
		url = env_get(env, name);
		if (!url)
			url = env_get(env, "AWS_ENDPOINT_URL");
		if (!url) {
			const char *sname = ini_get(env->profile, "services");
			if (sname) {
				const struct ini_section *ss;
				const struct ini_kv *kv;
				size_t i;
				snprintf(name, sizeof(name), "services %s", sname);
				ss = ini_section(env->config, name);
				kv = ini_get_kv(ss, svc->config_key);
				for (i = 0; kv && i < kv->nsub; i++)
					if (!strcmp(kv->sub[i].key, "endpoint_url") &&
					    *kv->sub[i].value)
						url = kv->sub[i].value;
			}
		}
		if (!url)
			url = ini_get(env->profile, "endpoint_url");
	}
	if (url) {
		/* a given URL: signed for the region the standard endpoint
		 * would use (IAM: the partition's global region), else the
		 * configured one; FIPS/dual-stack do not apply */
		struct err ignore = ERR_INIT;
		const char *sign = region;
		if (aws_endpoint_standard(svc->host_prefix, endpoint_region, 0, 0, &std,
					  &ignore) == 0)
			sign = std.signing_region;
		if (!sign)
			return err_set(err, ERR_VALIDATION,
				       "no AWS region: use --region, AWS_REGION, AWS_DEFAULT_REGION or a profile's region");
		out->overridden = 1;
		return fill_from_url(url, sign, out, err);
	}
	std_rc = aws_endpoint_standard(svc->host_prefix, endpoint_region, fips, dual,
				       &std, err);
	if (std_rc < 0)
		return -1;
	{
		char def[512];
		snprintf(def, sizeof(def), "https://%s", std.host);
		return fill_from_url(def, std.signing_region, out, err);
	}
}
