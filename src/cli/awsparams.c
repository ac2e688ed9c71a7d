/*
 * Parameters of AWS types, resolved and checked at plan time as
 * CloudFormation does ("Supported AWS-specific parameter types" and "SSM
 * parameter types" in the CloudFormation user guide):
 *   - AWS::SSM::Parameter::Value<T>: the value given is a Parameter Store
 *     name; the parameter's value is read with ssm:GetParameters (at most
 *     10 names a call) and used as a T;
 *   - AWS::EC2::VPC::Id, Subnet::Id, SecurityGroup::Id, KeyPair::KeyName,
 *     AvailabilityZone::Name and their List<...> forms: the values must
 *     exist in the account and region, else the plan fails naming the
 *     parameter and the value.
 * Without AWS credentials (validate, graph, an offline plan) nothing is
 * asked: SSM values stay unknown and the others are plain strings.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn/aws.h"
#include "cairn/log.h"
#include "cairn/xalloc.h"
#include "tmplopts.h"

/* The client of struct tmplopts_azs (shared with Fn::GetAZs): 1 with *out,
 * 0 when no credentials are configured (nothing can be asked), -1. */
static int params_client(struct tmplopts_azs *z, struct aws_client **out,
			 struct err *err)
{
	struct aws_client *c = z->aws_client ? z->aws_client : z->own;

	if (!c && z->tried)
		return 0;
	if (!c) {
		struct aws_options ao = *z->aws_opts;
		z->tried = 1;
		if (!ao.region)
			ao.region = z->region;
		z->own = c = aws_client_new(&ao, err);
		if (!c)
			return -1;
	}
	*out = c;
	return 1;
}

static const char *strip_list(const char *type, char *buf, size_t cap)
{
	size_t n = strlen(type);

	if (!strncmp(type, "List<", 5) && n > 6 && type[n - 1] == '>' &&
	    n - 6 < cap) {
		memcpy(buf, type + 5, n - 6);
		buf[n - 6] = '\0';
		return buf;
	}
	return type;
}

static int ssm_resolve(struct aws_client *c, struct arena *a,
		       struct tmpl_aws_param *ps, size_t n, struct err *err)
{
	size_t i = 0;

	while (i < n) {
		struct value *p = value_new_map(a), *names = value_new_list(a), *r;
		const struct value *got, *bad;
		size_t j, k, end;
		for (end = i; end < n && end - i < 10; end++)
			value_list_push(a, names, value_new_string(a, ps[end].vals[0]));
		value_map_set(a, p, "Names", names);
		if (!(r = aws_call(c, "ssm", "GetParameters", p, a, err)))
			return err_prefix(err, "parameter \"%s\": ", ps[i].name);
		got = value_map_get(r, "Parameters");
		bad = value_map_get(r, "InvalidParameters");
		for (j = i; j < end; j++) {
			for (k = 0; bad && bad->kind == VALUE_LIST && k < bad->u.list.n; k++)
				if (!strcmp(value_str(bad->u.list.items[k]) ?
						    value_str(bad->u.list.items[k]) : "",
					    ps[j].vals[0]))
					return err_set(err, ERR_VALIDATION,
						       "parameter \"%s\": SSM parameter "
						       "\"%s\" does not exist",
						       ps[j].name, ps[j].vals[0]);
			for (k = 0; got && got->kind == VALUE_LIST && k < got->u.list.n; k++) {
				const struct value *g = got->u.list.items[k];
				const char *nm = value_str(value_map_get(g, "Name"));
				if (nm && !strcmp(nm, ps[j].vals[0]))
					ps[j].resolved = value_str(value_map_get(g, "Value"));
			}
		}
		i = end;
	}
	return 0;
}

struct ec2_kind {
	const char *type, *op, *ids_member, *what;
};

static const struct ec2_kind EC2_KINDS[] = {
	{ "AWS::EC2::VPC::Id", "DescribeVpcs", "VpcIds", "VPC" },
	{ "AWS::EC2::Subnet::Id", "DescribeSubnets", "SubnetIds", "subnet" },
	{ "AWS::EC2::SecurityGroup::Id", "DescribeSecurityGroups", "GroupIds",
	  "security group" },
	{ "AWS::EC2::KeyPair::KeyName", "DescribeKeyPairs", "KeyNames",
	  "key pair" },
};

/* Whether every value exists: one Describe call with them all; on a NotFound
 * answer, one call per value to name the missing one. */
static int ec2_check(struct aws_client *c, struct arena *a,
		     const struct ec2_kind *k, const struct tmpl_aws_param *p,
		     struct err *err)
{
	struct value *q = value_new_map(a), *ids = value_new_list(a);
	size_t i;

	if (!p->nvals)
		return 0;
	for (i = 0; i < p->nvals; i++)
		value_list_push(a, ids, value_new_string(a, p->vals[i]));
	value_map_set(a, q, k->ids_member, ids);
	if (aws_call(c, "ec2", k->op, q, a, err))
		return 0;
	if (err->code != ERR_NOT_FOUND && err->code != ERR_VALIDATION)
		return err_prefix(err, "parameter \"%s\": ", p->name);
	for (i = 0; i < p->nvals; i++) {
		struct err e1 = ERR_INIT;
		q = value_new_map(a);
		ids = value_new_list(a);
		value_list_push(a, ids, value_new_string(a, p->vals[i]));
		value_map_set(a, q, k->ids_member, ids);
		if (!aws_call(c, "ec2", k->op, q, a, &e1))
			return err_set(err, ERR_VALIDATION,
				       "parameter \"%s\": %s \"%s\" does not exist "
				       "in this account and region (%s: %s)",
				       p->name, k->what, p->vals[i],
				       e1.aws_code[0] ? e1.aws_code : "error", e1.msg);
	}
	return err_prefix(err, "parameter \"%s\": ", p->name);
}

static int az_check(struct aws_client *c, const struct tmpl_aws_param *p,
		    struct err *err)
{
	const char *const *azs;
	size_t n, i, j;

	if (aws_availability_zones(c, &azs, &n, err) < 0)
		return err_prefix(err, "parameter \"%s\": ", p->name);
	for (i = 0; i < p->nvals; i++) {
		for (j = 0; j < n && strcmp(azs[j], p->vals[i]); j++)
			;
		if (j == n)
			return err_set(err, ERR_VALIDATION,
				       "parameter \"%s\": availability zone \"%s\" "
				       "is not one of this region's",
				       p->name, p->vals[i]);
	}
	return 0;
}

int tmplopts_aws_params(void *ud, struct arena *a, struct tmpl_aws_param *ps,
			size_t n, struct err *err)
{
	struct tmplopts_azs *z = ud;
	struct aws_client *c = NULL;
	struct tmpl_aws_param *ssm;
	size_t i, nssm = 0;
	int got = params_client(z, &c, err);

	if (got < 0)
		goto fail;
	if (!got)
		return 0;
	ssm = arena_alloc(a, n * sizeof(*ssm));
	for (i = 0; i < n; i++)
		if (!strncmp(ps[i].type, "AWS::SSM::Parameter::Value<", 27))
			ssm[nssm++] = ps[i];
	if (nssm) {
		size_t k = 0;
		if (ssm_resolve(c, a, ssm, nssm, err) < 0)
			goto fail;
		for (i = 0; i < n; i++)
			if (!strncmp(ps[i].type, "AWS::SSM::Parameter::Value<", 27))
				ps[i].resolved = ssm[k++].resolved;
	}
	for (i = 0; i < n; i++) {
		char buf[128];
		const char *t = strip_list(ps[i].type, buf, sizeof(buf));
		size_t k;
		if (!strcmp(t, "AWS::EC2::AvailabilityZone::Name")) {
			if (az_check(c, &ps[i], err) < 0)
				goto fail;
			continue;
		}
		for (k = 0; k < sizeof(EC2_KINDS) / sizeof(EC2_KINDS[0]); k++)
			if (!strcmp(t, EC2_KINDS[k].type) &&
			    ec2_check(c, a, &EC2_KINDS[k], &ps[i], err) < 0)
				goto fail;
	}
	return 0;
fail:
	/* no credentials at all: as for Fn::GetAZs, nothing can be known */
	if (!z->aws_client && err->code == ERR_AUTH &&
	    strstr(err->msg, "no AWS credentials found")) {
		log_debug("AWS-typed parameters: %s; not checked", err->msg);
		err_clear(err);
		for (i = 0; i < n; i++)
			ps[i].resolved = NULL;
		return 0;
	}
	return -1;
}

/*
 * Dynamic references ("Using dynamic references to specify template
 * values", CloudFormation user guide), read at apply (exec_opts.dynref):
 *   ssm:parameter-name[:version]            (String / StringList)
 *   ssm-secure:parameter-name[:version]     (SecureString)
 *   secretsmanager:secret-id[:SecretString[:json-key[:version-stage[:version-id]]]]
 * secret-id is a name or a full ARN (which has colons of its own). The value
 * is read with ssm:GetParameter ("name:version" is GetParameter's own
 * selector) or secretsmanager:GetSecretValue, whose answers are kept out of
 * the trace log; it is returned in a, which the executor wipes.
 */
static int split_fields(struct arena *a, const char *s, const char **f,
			size_t max)
{
	size_t n = 0;

	while (n < max) {
		const char *c = strchr(s, ':');
		f[n++] = c ? arena_strndup(a, s, (size_t)(c - s)) : arena_strdup(a, s);
		if (!c)
			break;
		s = c + 1;
	}
	return (int)n;
}

/* secretsmanager:secret-id:SecretString:json-key:version-stage:version-id,
 * the secret id a name or a whole ARN (which holds colons itself). */
struct secret_ref {
	const char *id, *key, *stage, *version; /* "" when not given */
};

static void parse_secret_ref(struct arena *a, const char *spec,
			     struct secret_ref *r)
{
	const char *f[12] = { 0 };
	int n = split_fields(a, spec, f, 12), k;

	if (!strcmp(f[0], "arn") && n >= 7) {
		/* arn:partition:secretsmanager:region:account:secret:name-XXXXXX */
		r->id = arena_sprintf(a, "%s:%s:%s:%s:%s:%s:%s", f[0], f[1], f[2],
				      f[3], f[4], f[5], f[6]);
		k = 7;
	} else {
		r->id = f[0];
		k = 1;
	}
	/* f[k] is SecretString or empty (the template checked it) */
	r->key = k + 1 < n ? f[k + 1] : "";
	r->stage = k + 2 < n ? f[k + 2] : "";
	r->version = k + 3 < n ? f[k + 3] : "";
}

/* As CloudFormation: ssm for String and StringList, ssm-secure for
 * SecureString, never the other way round. */
static int ssm_kind_check(const char *name, const char *type, bool secure,
			  struct err *err)
{
	if (type && !strcmp(type, "SecureString") != secure)
		return err_set(err, ERR_VALIDATION,
			       "SSM parameter \"%s\" is a %s: use %s", name, type,
			       secure ? "{{resolve:ssm:...}}" :
					"{{resolve:ssm-secure:...}}");
	return 0;
}

static int resolve_ssm(struct aws_client *c, struct arena *a, const char *spec,
		       bool secure, const char **out, struct err *err)
{
	struct value *p = value_new_map(a), *r;
	const struct value *par;
	const char *type;

	value_map_set(a, p, "Name", value_new_string(a, spec));
	if (secure)
		value_map_set(a, p, "WithDecryption", value_new_bool(a, true));
	if (!(r = aws_call_secret(c, "ssm", "GetParameter", p, a, err)))
		return -1;
	par = value_map_get(r, "Parameter");
	type = value_str(value_map_get(par, "Type"));
	if (ssm_kind_check(spec, type, secure, err) < 0)
		return -1;
	*out = value_str(value_map_get(par, "Value"));
	if (!*out)
		return err_set(err, ERR_AWS, "ssm:GetParameter answered no value");
	return 0;
}

static int resolve_secret(struct aws_client *c, struct arena *a,
			  const char *spec, const char **out, struct err *err)
{
	struct value *p = value_new_map(a), *r;
	struct secret_ref ref;
	const char *id, *key, *stage, *version;

	parse_secret_ref(a, spec, &ref);
	id = ref.id;
	key = ref.key;
	stage = ref.stage;
	version = ref.version;
	value_map_set(a, p, "SecretId", value_new_string(a, id));
	if (*stage)
		value_map_set(a, p, "VersionStage", value_new_string(a, stage));
	if (*version)
		value_map_set(a, p, "VersionId", value_new_string(a, version));
	if (!(r = aws_call_secret(c, "secretsmanager", "GetSecretValue", p, a,
				  err)))
		return -1;
	*out = value_str(value_map_get(r, "SecretString"));
	if (!*out)
		return err_set(err, ERR_VALIDATION, "secret \"%s\" has no SecretString", id);
	if (*key) {
		struct err jerr = ERR_INIT;
		struct value *doc = value_from_json(a, *out, strlen(*out), 0, &jerr);
		const struct value *v;
		/* jerr may quote the text: never shown */
		if (!doc || doc->kind != VALUE_MAP)
			return err_set(err, ERR_VALIDATION,
				       "secret \"%s\" is not a JSON object, so it has "
				       "no key \"%s\"", id, key);
		v = value_map_get(doc, key);
		if (!v || !value_str(v))
			return err_set(err, ERR_VALIDATION,
				       "secret \"%s\" has no string key \"%s\"", id, key);
		*out = value_str(v);
	}
	return 0;
}

int cli_apply_dynref(void *ud, struct arena *a, const char *ref,
		     const char **out, struct err *err)
{
	struct aws_client *c = ud;

	*out = NULL;
	if (!strncmp(ref, "ssm:", 4))
		return resolve_ssm(c, a, ref + 4, false, out, err);
	if (!strncmp(ref, "ssm-secure:", 11))
		return resolve_ssm(c, a, ref + 11, true, out, err);
	if (!strncmp(ref, "secretsmanager:", 15))
		return resolve_secret(c, a, ref + 15, out, err);
	return err_set(err, ERR_VALIDATION,
		       "unknown dynamic reference service (ssm, ssm-secure, "
		       "secretsmanager)");
}

/*
 * The plan's check of a dynamic reference: that the parameter or secret it
 * names exists (and the version, stage or version id it selects), read
 * from metadata only: ssm:DescribeParameters, secretsmanager:DescribeSecret
 * never return a value. An SSM version is checked against the latest one
 * (older versions are in GetParameterHistory, which returns values).
 */
static int check_ssm(struct aws_client *c, struct arena *a, const char *spec,
		     bool secure, struct err *err)
{
	struct value *p = value_new_map(a), *f = value_new_map(a), *fl, *vals, *r;
	const char *colon = strchr(spec, ':');
	char *name = colon ? arena_strndup(a, spec, (size_t)(colon - spec))
			   : arena_strdup(a, spec);
	const struct value *pars, *par = NULL;
	const char *type, *ver;

	fl = value_new_list(a);
	vals = value_new_list(a);
	value_list_push(a, vals, value_new_string(a, name));
	value_map_set(a, f, "Key", value_new_string(a, "Name"));
	value_map_set(a, f, "Option", value_new_string(a, "Equals"));
	value_map_set(a, f, "Values", vals);
	value_list_push(a, fl, f);
	value_map_set(a, p, "ParameterFilters", fl);
	if (!(r = aws_call(c, "ssm", "DescribeParameters", p, a, err)))
		return -1;
	pars = value_map_get(r, "Parameters");
	if (pars && pars->kind == VALUE_LIST && pars->u.list.n)
		par = pars->u.list.items[0];
	if (!par)
		return err_set(err, ERR_NOT_FOUND,
			       "SSM parameter \"%s\" does not exist in this account "
			       "and region (ssm:DescribeParameters found none)", name);
	type = value_str(value_map_get(par, "Type"));
	if (ssm_kind_check(name, type, secure, err) < 0)
		return -1;
	ver = value_str(value_map_get(par, "Version"));
	if (!ver) {
		const struct value *vv = value_map_get(par, "Version");
		if (vv && vv->kind == VALUE_NUMBER)
			ver = vv->u.num.text;
	}
	if (colon && ver && strtoll(colon + 1, NULL, 10) > strtoll(ver, NULL, 10))
		return err_set(err, ERR_NOT_FOUND,
			       "SSM parameter \"%s\" has no version %s (the latest "
			       "is %s)", name, colon + 1, ver);
	return 0;
}

static int check_secret(struct aws_client *c, struct arena *a,
			const char *spec, struct err *err)
{
	struct value *p = value_new_map(a), *r;
	const struct value *stages;
	struct secret_ref ref;
	const char *id, *stage, *version;
	size_t i, j;

	parse_secret_ref(a, spec, &ref);
	id = ref.id;
	stage = ref.stage;
	version = ref.version;
	value_map_set(a, p, "SecretId", value_new_string(a, id));
	if (!(r = aws_call(c, "secretsmanager", "DescribeSecret", p, a, err)))
		return -1;
	if (value_map_get(r, "DeletedDate"))
		return err_set(err, ERR_NOT_FOUND,
			       "secret \"%s\" is scheduled for deletion", id);
	stages = value_map_get(r, "VersionIdsToStages");
	if (*version && !value_map_get(stages, version))
		return err_set(err, ERR_NOT_FOUND,
			       "secret \"%s\" has no version \"%s\"", id, version);
	if (*stage) {
		bool found = false;
		for (i = 0; stages && stages->kind == VALUE_MAP && i < stages->u.map.n; i++) {
			const struct value *l = stages->u.map.items[i].val;
			for (j = 0; l && l->kind == VALUE_LIST && j < l->u.list.n; j++)
				found = found || !strcmp(value_str(l->u.list.items[j]) ?
							 value_str(l->u.list.items[j]) : "",
							 stage);
		}
		if (!found)
			return err_set(err, ERR_NOT_FOUND,
				       "secret \"%s\" has no version labelled \"%s\"",
				       id, stage);
	}
	return 0;
}

int tmplopts_dynref_check(void *ud, struct arena *a, const char *ref,
			  struct err *err)
{
	struct tmplopts_azs *z = ud;
	struct aws_client *c = NULL;
	int got, rc;
	size_t i;

	for (i = 0; i < z->ndynref_seen; i++)
		if (!strcmp(z->dynref_seen[i], ref))
			return 0;
	got = params_client(z, &c, err);
	if (got < 0)
		goto fail;
	if (!got)
		return 0;
	if (!strncmp(ref, "ssm:", 4))
		rc = check_ssm(c, a, ref + 4, false, err);
	else if (!strncmp(ref, "ssm-secure:", 11))
		rc = check_ssm(c, a, ref + 11, true, err);
	else if (!strncmp(ref, "secretsmanager:", 15))
		rc = check_secret(c, a, ref + 15, err);
	else
		rc = 0; /* the template reported it */
	if (rc < 0)
		goto fail;
	z->dynref_seen = xrealloc(z->dynref_seen,
				  (z->ndynref_seen + 1) * sizeof(*z->dynref_seen));
	z->dynref_seen[z->ndynref_seen++] = xstrdup(ref);
	return 0;
fail:
	/* no credentials at all: nothing can be checked, as for Fn::GetAZs */
	if (!z->aws_client && err->code == ERR_AUTH &&
	    strstr(err->msg, "no AWS credentials found")) {
		err_clear(err);
		return 0;
	}
	/* a role allowed to read the value (what apply needs, and all
	 * CloudFormation needs) but not to describe it: a warning, the read
	 * at apply has the last word */
	if (err->code == ERR_ACCESS_DENIED) {
		log_msg(LOG_WARN, "{{resolve:%s}} not checked: %s", ref, err->msg);
		err_clear(err);
		return 0;
	}
	return -1;
}
