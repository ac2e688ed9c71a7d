/* Services cairn calls, their standard endpoints, and the override rules
 * (AWS SDK "service-specific endpoints" precedence). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws_int.h"

/* Rates: EC2's documented API throttling buckets (non-mutating: 100 burst,
 * 20/s; mutating: 200 burst, 5/s). Other services publish no buckets for
 * these calls; the figures stay under their documented TPS quotas. */
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
	/* Cloud Control speaks JSON 1.0 (client.c picks the content type);
	 * its documented quotas are a few requests/s per account and region */
	{ "cloudcontrol", "cloudcontrolapi", "cloudcontrolapi", PROTO_JSON,
	  NULL, "CloudApiService", "CLOUDCONTROL", "cloudcontrol", 0, 10, 20,
	  0, 0 },
	{ "cloudformation", "cloudformation", "cloudformation", PROTO_QUERY,
	  "2010-05-15", NULL, "CLOUDFORMATION", "cloudformation", 0, 10, 20, 0,
	  0 },
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

int aws_resolve_endpoint(const struct aws_service *svc, const char *region,
			 const char *opt_url, const struct aws_env *env,
			 struct aws_endpoint *out, struct err *err)
{
	const char *sign_region = svc->global ? "us-east-1" : region;
	const char *url = NULL;
	char name[96];

	memset(out, 0, sizeof(*out));
	if (!sign_region)
		return err_set(err, ERR_VALIDATION,
			       "no AWS region: use --region, AWS_REGION, AWS_DEFAULT_REGION or a profile's region");
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
		out->overridden = 1;
		return fill_from_url(url, sign_region, out, err);
	}
	{
		char def[512];
		const char *suffix = !strncmp(sign_region, "cn-", 3) ?
					     "amazonaws.com.cn" : "amazonaws.com";
		if (svc->global)
			snprintf(def, sizeof(def), "https://%s.%s", svc->host_prefix,
				 suffix);
		else
			snprintf(def, sizeof(def), "https://%s.%s.%s",
				 svc->host_prefix, region, suffix);
		return fill_from_url(def, sign_region, out, err);
	}
}
