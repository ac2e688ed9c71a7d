/* The credentials chain, in the order AWS SDKs use:
 *   1. environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *      AWS_SESSION_TOKEN) -- skipped when --profile names a profile, as
 *      botocore does;
 *   2. web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or the
 *      profile's web_identity_token_file + role_arn) via
 *      sts:AssumeRoleWithWebIdentity, unsigned;
 *   3. the profile: role_arn + source_profile via sts:AssumeRole; SSO
 *      (sso.c); keys in the shared credentials file; credential_process;
 *      keys in the config file. A profile named by --profile or AWS_PROFILE
 *      that yields nothing is an error, never a fall-through to 4 and 5;
 *   4. container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI);
 *   5. EC2 instance metadata, IMDSv2, with 1 s timeouts.
 * The first source that yields keys is remembered; temporary credentials are
 * fetched again from it 5 minutes before they expire. Secrets are wiped
 * with OPENSSL_cleanse when dropped and never logged. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws_int.h"
#include "cairn/log.h"
#include "cairn/xalloc.h"

enum source {
	SRC_NONE,
	SRC_ENV,
	SRC_WEB_IDENTITY,
	SRC_ASSUME_ROLE,
	SRC_CREDENTIALS_FILE,
	SRC_PROCESS,
	SRC_CONFIG_FILE,
	SRC_CONTAINER,
	SRC_IMDS,
};

struct creds_provider {
	pthread_mutex_t lock;
	struct aws_client *client;
	const struct aws_env *env;
	const struct ini *config, *credentials;
	char *profile;     /* profile name in effect */
	int explicit_profile;
	enum source src;
	struct aws_creds cur;
	char source[256];
	time_t next_try; /* after a failed advisory refresh: not before this */
};

static const char *env_get(const struct creds_provider *p, const char *name)
{
	const char *v = p->env->get(p->env->ctx, name);
	return v && *v ? v : NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void aws_creds_wipe(struct aws_creds *c)
{
	free_secret(c->access_key);
	free_secret(c->secret_key);
	free_secret(c->session_token);
	memset(c, 0, sizeof(*c));
}

void aws_creds_copy(struct aws_creds *dst, const struct aws_creds *src)
{
	dst->access_key = dup_or_null(src->access_key);
	dst->secret_key = dup_or_null(src->secret_key);
	dst->session_token = dup_or_null(src->session_token);
	dst->expiration = src->expiration;
}

int aws_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0;
	const char *rest;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
		   &n) != 6)
		return -1;
	rest = s + n;
	if (*rest == '.')
		for (rest++; isdigit((unsigned char)*rest); rest++)
			;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	if (*rest == 'Z' || *rest == '\0')
		return 0;
	if ((*rest == '+' || *rest == '-') && isdigit((unsigned char)rest[1])) {
		int oh = 0, om = 0;
		if (sscanf(rest + 1, "%2d:%2d", &oh, &om) < 1)
			return -1;
		*out -= (*rest == '+' ? 1 : -1) * (oh * 3600 + om * 60);
		return 0;
	}
	return -1;
}

int aws_creds_from_json(const char *text, size_t len, int want_version,
			struct aws_creds *out, struct err *err)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	const cJSON *ak, *sk, *tok, *exp, *ver;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return err_set(err, ERR_AUTH, "credentials document is not a JSON object");
	}
	ver = cJSON_GetObjectItemCaseSensitive(j, "Version");
	ak = cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId");
	sk = cJSON_GetObjectItemCaseSensitive(j, "SecretAccessKey");
	tok = cJSON_GetObjectItemCaseSensitive(j, "SessionToken");
	if (!tok)
		tok = cJSON_GetObjectItemCaseSensitive(j, "Token");
	exp = cJSON_GetObjectItemCaseSensitive(j, "Expiration");
	if (want_version && (!cJSON_IsNumber(ver) || ver->valuedouble != want_version)) {
		rc = err_set(err, ERR_AUTH,
			     "credentials document: \"Version\" must be %d", want_version);
	} else if (!cJSON_IsString(ak) || !*ak->valuestring || !cJSON_IsString(sk) ||
		   !*sk->valuestring) {
		rc = err_set(err, ERR_AUTH,
			     "credentials document lacks AccessKeyId or SecretAccessKey");
	} else {
		out->access_key = xstrdup(ak->valuestring);
		out->secret_key = xstrdup(sk->valuestring);
		if (cJSON_IsString(tok) && *tok->valuestring)
			out->session_token = xstrdup(tok->valuestring);
		if (cJSON_IsString(exp) && aws_parse_time(exp->valuestring,
							  &out->expiration) < 0) {
			aws_creds_wipe(out);
			rc = err_set(err, ERR_AUTH,
				     "credentials document: bad Expiration \"%s\"",
				     exp->valuestring);
		}
	}
	/* wipe cJSON's copies of the secrets before freeing */
	if (cJSON_IsString(sk))
		OPENSSL_cleanse(sk->valuestring, strlen(sk->valuestring));
	if (cJSON_IsString(tok))
		OPENSSL_cleanse(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(j);
	return rc;
}

struct creds_provider *creds_provider_new(struct aws_client *c,
					  const char *profile_name,
					  const struct aws_env *env)
{
	struct creds_provider *p = xcalloc(1, sizeof(*p));
	const char *prof;

	pthread_mutex_init(&p->lock, NULL);
	p->client = c;
	p->env = env;
	p->config = env->config;
	p->credentials = env->credentials;
	p->explicit_profile = profile_name && *profile_name;
	prof = p->explicit_profile ? profile_name : env_get(p, "AWS_PROFILE");
	p->profile = xstrdup(prof ? prof : "default");
	return p;
}

void creds_provider_free(struct creds_provider *p)
{
	if (!p)
		return;
	aws_creds_wipe(&p->cur);
	free(p->profile);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* ---- STS-based sources -------------------------------------------------- */

static void cleanse_tree(struct value *v)
{
	size_t i;

	if (!v)
		return;
	if (v->kind == VALUE_STRING)
		OPENSSL_cleanse((char *)v->u.str.s, v->u.str.len);
	else if (v->kind == VALUE_MAP)
		for (i = 0; i < v->u.map.n; i++)
			cleanse_tree(v->u.map.items[i].val);
	else if (v->kind == VALUE_LIST)
		for (i = 0; i < v->u.list.n; i++)
			cleanse_tree(v->u.list.items[i]);
}

static int from_sts(struct value *res, struct aws_creds *out, struct err *err)
{
	const char *ak = value_str(value_get_path(res, "Credentials.AccessKeyId"));
	const char *sk = value_str(value_get_path(res, "Credentials.SecretAccessKey"));
	const char *tok = value_str(value_get_path(res, "Credentials.SessionToken"));
	const char *exp = value_str(value_get_path(res, "Credentials.Expiration"));

	if (!ak || !sk || !*ak || !*sk) {
		cleanse_tree(res);
		return err_set(err, ERR_AUTH, "STS response has no credentials");
	}
	out->access_key = xstrdup(ak);
	out->secret_key = xstrdup(sk);
	out->session_token = tok && *tok ? xstrdup(tok) : NULL;
	out->expiration = 0;
	if (exp && aws_parse_time(exp, &out->expiration) < 0)
		out->expiration = time(NULL) + 900;
	cleanse_tree(res);
	return 0;
}

static int web_identity(struct creds_provider *p, const char *token_file,
			const char *role_arn, const char *session,
			struct aws_creds *out, struct err *err)
{
	struct strbuf tok = STRBUF_INIT;
	struct arena *a;
	struct value *params, *res;
	char sess[64];
	int rc;

	if (strbuf_read_file(&tok, token_file, 1 << 20) < 0) {
		strbuf_release(&tok);
		return err_set(err, ERR_AUTH, "web identity token file \"%s\": %s",
			       token_file, strerror(errno));
	}
	while (tok.len && isspace((unsigned char)tok.buf[tok.len - 1]))
		strbuf_setlen(&tok, tok.len - 1);
	if (!session) {
		snprintf(sess, sizeof(sess), "cairn-%ld", (long)time(NULL));
		session = sess;
	}
	a = arena_new();
	params = value_new_map(a);
	value_map_set(a, params, "RoleArn", value_new_string(a, role_arn));
	value_map_set(a, params, "RoleSessionName", value_new_string(a, session));
	{
		struct value *t = value_new_string(a, tok.buf);
		t->sensitive = 1;
		value_map_set(a, params, "WebIdentityToken", t);
		OPENSSL_cleanse(tok.buf, tok.len);
		strbuf_release(&tok);
		res = aws_call_with(p->client, "sts", "AssumeRoleWithWebIdentity",
				    params, NULL, a, err);
		OPENSSL_cleanse((char *)t->u.str.s, t->u.str.len);
	}
	rc = res ? from_sts(res, out, err) : -1;
	if (rc < 0)
		err_prefix(err, "web identity (role \"%s\"): ", role_arn);
	arena_free(a);
	return rc;
}

/*
 * The MFA code for a role whose profile sets mfa_serial, as the AWS CLI asks
 * for it: a prompt on the terminal (/dev/tty, so stdin and stdout may be
 * redirected). Without a terminal there is nobody to ask: a clear error
 * instead of an AccessDenied from STS. The code is 6 digits.
 */
static int mfa_code(const char *serial, char *code, size_t n, struct err *err)
{
	FILE *tty = fopen("/dev/tty", "r+");
	size_t len;

	if (!tty || !isatty(fileno(tty))) {
		if (tty)
			fclose(tty);
		return err_set(err, ERR_AUTH,
			       "the profile needs an MFA code (mfa_serial %s) and there is no terminal to ask for it; run cairn from a terminal, or give it credentials that need no MFA (for example from `aws sts get-session-token` or a credential_process)",
			       serial);
	}
	fprintf(tty, "Enter MFA code for %s: ", serial);
	fflush(tty);
	if (!fgets(code, (int)n, tty)) {
		fclose(tty);
		return err_set(err, ERR_AUTH, "no MFA code entered for %s", serial);
	}
	fclose(tty);
	len = strcspn(code, "\r\n");
	code[len] = '\0';
	if (len != 6 || strspn(code, "0123456789") != 6)
		return err_set(err, ERR_AUTH, "MFA code for %s: expected 6 digits", serial);
	return 0;
}

static int assume_role(struct creds_provider *p, const struct aws_creds *src,
		       const char *role_arn, const struct ini_section *prof,
		       struct aws_creds *out, struct err *err)
{
	struct arena *a = arena_new();
	struct value *params = value_new_map(a), *res;
	const char *session = ini_get(prof, "role_session_name");
	const char *ext = ini_get(prof, "external_id");
	const char *dur = ini_get(prof, "duration_seconds");
	const char *mfa = ini_get(prof, "mfa_serial");
	char sess[64];
	int rc;

	if (!session) {
		snprintf(sess, sizeof(sess), "cairn-%ld", (long)time(NULL));
		session = sess;
	}
	value_map_set(a, params, "RoleArn", value_new_string(a, role_arn));
	value_map_set(a, params, "RoleSessionName", value_new_string(a, session));
	if (ext)
		value_map_set(a, params, "ExternalId", value_new_string(a, ext));
	if (dur && strspn(dur, "0123456789") == strlen(dur))
		value_map_set(a, params, "DurationSeconds", value_new_number(a, dur));
	if (mfa) {
		char code[32];
		if (mfa_code(mfa, code, sizeof(code), err) < 0) {
			err_prefix(err, "assume role \"%s\": ", role_arn);
			arena_free(a);
			return -1;
		}
		value_map_set(a, params, "SerialNumber", value_new_string(a, mfa));
		value_map_set(a, params, "TokenCode", value_new_string(a, code));
	}
	res = aws_call_with(p->client, "sts", "AssumeRole", params, src, a, err);
	rc = res ? from_sts(res, out, err) : -1;
	if (rc < 0)
		err_prefix(err, "assume role \"%s\": ", role_arn);
	arena_free(a);
	return rc;
}

/* ---- process, container, IMDS ------------------------------------------- */

static int run_process(const char *cmd, struct aws_creds *out, struct err *err)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *f;
	int st, rc;

	fflush(NULL);
	f = popen(cmd, "r");
	if (!f)
		return err_set(err, ERR_AUTH, "credential_process: cannot run: %s",
			       strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && sb.len < (1u << 20))
		strbuf_add(&sb, buf, n);
	OPENSSL_cleanse(buf, sizeof(buf));
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		OPENSSL_cleanse(sb.buf, sb.len);
		strbuf_release(&sb);
		return err_set(err, ERR_AUTH, "credential_process exited with status %d",
			       st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128);
	}
	rc = aws_creds_from_json(sb.buf, sb.len, 1, out, err);
	OPENSSL_cleanse(sb.buf, sb.len);
	strbuf_release(&sb);
	if (rc < 0)
		err_prefix(err, "credential_process: ");
	return rc;
}

/*
 * AWS_CONTAINER_CREDENTIALS_FULL_URI: https to any host, plain http only to
 * the ECS/EKS agents' link-local addresses (169.254.170.2, 169.254.170.23,
 * fd00:ec2::23) or a loopback address, the rule of the SDKs. The host is
 * parsed out of the URL and compared whole: http://169.254.170.2.example.com
 * and http://169.254.170.2@example.com are other hosts, refused, since the
 * container's authorization token would go to them in clear.
 */
static int container_url_ok(const char *url)
{
	const char *auth, *end, *at;
	char host[256];
	unsigned a, b, c, d;
	char extra;
	size_t n;

	if (!strncasecmp(url, "https://", 8))
		return 1;
	if (strncasecmp(url, "http://", 7))
		return 0;
	auth = url + 7;
	end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(end - auth));
	if (at)
		return 0; /* userinfo: never for a credentials endpoint */
	if (*auth == '[') {
		const char *rb = memchr(auth, ']', (size_t)(end - auth));
		if (!rb)
			return 0;
		n = (size_t)(rb - auth - 1);
		if (n >= sizeof(host))
			return 0;
		memcpy(host, auth + 1, n);
		host[n] = '\0';
		if (rb[1] && rb[1] != ':' && rb + 1 != end)
			return 0;
		return !strcasecmp(host, "fd00:ec2::23") || !strcmp(host, "::1");
	}
	n = strcspn(auth, ":/?#");
	if (n >= sizeof(host) || !n)
		return 0;
	memcpy(host, auth, n);
	host[n] = '\0';
	if (!strcmp(host, "169.254.170.2") || !strcmp(host, "169.254.170.23") ||
	    !strcasecmp(host, "localhost"))
		return 1;
	return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4 && a == 127 &&
	       b < 256 && c < 256 && d < 256;
}

static int container(struct creds_provider *p, struct aws_creds *out,
		     struct err *err)
{
	const char *rel = env_get(p, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env_get(p, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *tokfile = env_get(p, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tokenv = env_get(p, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	struct strbuf url = STRBUF_INIT, tok = STRBUF_INIT;
	struct http_header hdr[1];
	struct http_request req;
	struct http_response resp;
	int rc;

	if (rel)
		strbuf_addf(&url, "http://169.254.170.2%s", rel);
	else
		strbuf_addstr(&url, full);
	if (!rel && !container_url_ok(full)) {
		strbuf_release(&url);
		return err_set(err, ERR_AUTH,
			       "AWS_CONTAINER_CREDENTIALS_FULL_URI \"%s\": http is only allowed to the ECS/EKS agent or loopback",
			       full);
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url.buf;
	req.connect_timeout_ms = 2000;
	req.timeout_ms = 5000;
	req.max_response = 1 << 16;
	if (tokfile) {
		if (strbuf_read_file(&tok, tokfile, 1 << 16) < 0) {
			strbuf_release(&url);
			strbuf_release(&tok);
			return err_set(err, ERR_AUTH, "container token file \"%s\": %s",
				       tokfile, strerror(errno));
		}
		while (tok.len && isspace((unsigned char)tok.buf[tok.len - 1]))
			strbuf_setlen(&tok, tok.len - 1);
	} else if (tokenv) {
		strbuf_addstr(&tok, tokenv);
	}
	if (tok.len) {
		hdr[0].name = "Authorization";
		hdr[0].value = tok.buf;
		req.headers = hdr;
		req.nheaders = 1;
	}
	http_response_init(&resp);
	/* the agent can be briefly unavailable (botocore tries 3 times) */
	rc = aws_fetch(p->client, &req, 3, &resp, err);
	if (!rc && resp.status != 200)
		rc = err_set(err, ERR_AUTH, "container credentials: HTTP %d from %s",
			     resp.status, url.buf);
	if (!rc)
		rc = aws_creds_from_json(resp.body.buf, resp.body.len, 0, out, err);
	OPENSSL_cleanse(resp.body.buf, resp.body.len);
	OPENSSL_cleanse(tok.buf, tok.len);
	http_response_release(&resp);
	strbuf_release(&tok);
	strbuf_release(&url);
	return rc;
}

static int imds_get(struct creds_provider *p, const char *method,
		    const char *url, const struct http_header *h, size_t nh,
		    long timeout_ms, int tries, struct http_response *resp,
		    struct err *err)
{
	struct http_request req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = h;
	req.nheaders = nh;
	req.connect_timeout_ms = timeout_ms;
	req.timeout_ms = timeout_ms;
	req.max_response = 1 << 16;
	http_response_init(resp);
	if (aws_fetch(p->client, &req, tries, resp, err) < 0)
		return -1;
	if (resp->status != 200)
		return err_set(err, ERR_AUTH, "instance metadata: HTTP %d from %s",
			       resp->status, url);
	return 0;
}

/*
 * Instance metadata. Attempts per request: AWS_METADATA_SERVICE_NUM_ATTEMPTS
 * (botocore's setting; 1 by default, so a machine without IMDS fails fast
 * while the chain probes it), but 3 when IMDS already gave this run its
 * credentials (a refresh: the service exists, a failure is transient).
 */
static int imds(struct creds_provider *p, struct aws_creds *out, struct err *err)
{
	const char *base = env_get(p, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *tmo = env_get(p, "AWS_METADATA_SERVICE_TIMEOUT");
	const char *na = env_get(p, "AWS_METADATA_SERVICE_NUM_ATTEMPTS");
	long timeout_ms = tmo ? atol(tmo) * 1000 : 1000;
	int tries = na ? atoi(na) : 1;
	struct http_response r1, r2, r3;
	struct http_header h[1];
	struct strbuf url = STRBUF_INIT, token = STRBUF_INIT, base_sb = STRBUF_INIT;
	int rc = -1;

	if (timeout_ms <= 0 || timeout_ms > 5000)
		timeout_ms = 1000;
	if (tries < 1 || tries > 10)
		tries = 1;
	if (p->src == SRC_IMDS && tries < 3)
		tries = 3;
	if (!base)
		base = "http://169.254.169.254";
	if (aws_check_url(base, err) < 0 && strncmp(base, "http://169.254.169.254", 22) &&
	    strncmp(base, "http://[fd00:ec2::254]", 22))
		return -1;
	err_clear(err);
	http_response_init(&r2);
	http_response_init(&r3);
	{
		size_t bl = strlen(base);
		while (bl && base[bl - 1] == '/')
			bl--;
		strbuf_add(&base_sb, base, bl);
		base = base_sb.buf;
	}
	strbuf_addf(&url, "%s/latest/api/token", base);
	h[0].name = "X-aws-ec2-metadata-token-ttl-seconds";
	h[0].value = "21600";
	if (imds_get(p, "PUT", url.buf, h, 1, timeout_ms, tries, &r1, err) < 0) {
		http_response_release(&r1);
		goto out;
	}
	strbuf_add(&token, r1.body.buf, r1.body.len);
	OPENSSL_cleanse(r1.body.buf, r1.body.len);
	http_response_release(&r1);
	h[0].name = "X-aws-ec2-metadata-token";
	h[0].value = token.buf;
	strbuf_reset(&url);
	strbuf_addf(&url, "%s/latest/meta-data/iam/security-credentials/", base);
	if (imds_get(p, "GET", url.buf, h, 1, timeout_ms, tries, &r2, err) < 0)
		goto out;
	{
		size_t l = strcspn(r2.body.buf, "\r\n");
		if (!l) {
			err_set(err, ERR_AUTH, "instance metadata: no IAM role attached");
			goto out;
		}
		strbuf_reset(&url);
		strbuf_addf(&url, "%s/latest/meta-data/iam/security-credentials/%.*s",
			    base, (int)l, r2.body.buf);
	}
	if (imds_get(p, "GET", url.buf, h, 1, timeout_ms, tries, &r3, err) < 0)
		goto out;
	rc = aws_creds_from_json(r3.body.buf, r3.body.len, 0, out, err);
out:
	OPENSSL_cleanse(r3.body.buf, r3.body.len);
	OPENSSL_cleanse(token.buf, token.len);
	http_response_release(&r2);
	http_response_release(&r3);
	strbuf_release(&token);
	strbuf_release(&url);
	strbuf_release(&base_sb);
	return rc;
}

/* ---- profiles ----------------------------------------------------------- */

static int static_keys(const struct ini_section *s, struct aws_creds *out)
{
	const char *ak = ini_get(s, "aws_access_key_id");
	const char *sk = ini_get(s, "aws_secret_access_key");

	if (!ak || !sk)
		return 0;
	out->access_key = xstrdup(ak);
	out->secret_key = xstrdup(sk);
	out->session_token = dup_or_null(ini_get(s, "aws_session_token"));
	out->expiration = 0;
	return 1;
}

/* Credentials of profile `name` used as a source_profile: keys in either
 * file, credential_process, or its own role chain (depth-limited). */
static int profile_creds(struct creds_provider *p, const char *name, int depth,
			 struct aws_creds *out, char *src, size_t nsrc,
			 struct err *err)
{
	const struct ini_section *cs = ini_section(p->credentials, name);
	const struct ini_section *cf = ini_section(p->config, name);
	const char *role = ini_get(cf, "role_arn");
	const char *proc;

	if (!cs && !cf)
		return err_set(err, ERR_AUTH,
			       "profile \"%s\" not found in the shared config or credentials file",
			       name);
	if (depth > 4)
		return err_set(err, ERR_AUTH, "profile \"%s\": source_profile chain too long",
			       name);
	if (!role)
		role = ini_get(cs, "role_arn");
	if (role) {
		const struct ini_section *rp = cf ? cf : cs;
		const char *sp = ini_get(rp, "source_profile");
		const char *wif = ini_get(rp, "web_identity_token_file");
		const char *csrc = ini_get(rp, "credential_source");
		struct aws_creds base;
		int rc;

		memset(&base, 0, sizeof(base));
		if (wif) {
			snprintf(src, nsrc, "profile %s (web identity)", name);
			return web_identity(p, wif, role, ini_get(rp, "role_session_name"),
					    out, err);
		}
		if (sp && !strcmp(sp, name)) {
			if (!static_keys(cs, &base) && !static_keys(cf, &base))
				return err_set(err, ERR_AUTH,
					       "profile \"%s\": source_profile is itself but it has no keys",
					       name);
		} else if (sp) {
			char inner[128];
			if (profile_creds(p, sp, depth + 1, &base, inner, sizeof(inner),
					  err) < 0)
				return err_prefix(err, "profile \"%s\": ", name);
		} else if (csrc && !strcasecmp(csrc, "Environment")) {
			const char *ak = env_get(p, "AWS_ACCESS_KEY_ID");
			const char *sk = env_get(p, "AWS_SECRET_ACCESS_KEY");
			if (!ak || !sk)
				return err_set(err, ERR_AUTH,
					       "profile \"%s\": credential_source Environment but no keys in the environment",
					       name);
			base.access_key = xstrdup(ak);
			base.secret_key = xstrdup(sk);
			base.session_token = dup_or_null(env_get(p, "AWS_SESSION_TOKEN"));
		} else if (csrc && !strcasecmp(csrc, "EcsContainer")) {
			if (container(p, &base, err) < 0)
				return -1;
		} else if (csrc && !strcasecmp(csrc, "Ec2InstanceMetadata")) {
			if (imds(p, &base, err) < 0)
				return -1;
		} else {
			return err_set(err, ERR_AUTH,
				       "profile \"%s\": role_arn needs source_profile, credential_source or web_identity_token_file",
				       name);
		}
		rc = assume_role(p, &base, role, rp, out, err);
		aws_creds_wipe(&base);
		snprintf(src, nsrc, "profile %s (assume role %s)", name, role);
		return rc;
	}
	if (sso_profile(cf))
		return sso_creds(p->client, name, cf, p->config, env_get(p, "HOME"), out,
				 src, nsrc, err);
	if (static_keys(cs, out)) {
		snprintf(src, nsrc, "profile %s (shared credentials file)", name);
		return 0;
	}
	proc = ini_get(cf, "credential_process");
	if (!proc)
		proc = ini_get(cs, "credential_process");
	if (proc) {
		snprintf(src, nsrc, "profile %s (credential_process)", name);
		return run_process(proc, out, err);
	}
	if (static_keys(cf, out)) {
		snprintf(src, nsrc, "profile %s (config file)", name);
		return 0;
	}
	return 1; /* the profile exists but holds no credentials */
}

/* ---- the chain ---------------------------------------------------------- */

static int resolve(struct creds_provider *p, struct aws_creds *out,
		   struct err *err)
{
	const char *ak = env_get(p, "AWS_ACCESS_KEY_ID");
	const char *sk = env_get(p, "AWS_SECRET_ACCESS_KEY");
	const char *wif = env_get(p, "AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = env_get(p, "AWS_ROLE_ARN");
	int rc;

	if (!p->explicit_profile && ak && sk) {
		out->access_key = xstrdup(ak);
		out->secret_key = xstrdup(sk);
		out->session_token = dup_or_null(env_get(p, "AWS_SESSION_TOKEN"));
		out->expiration = 0;
		p->src = SRC_ENV;
		snprintf(p->source, sizeof(p->source), "environment");
		return 0;
	}
	if (!p->explicit_profile && wif && role) {
		p->src = SRC_WEB_IDENTITY;
		snprintf(p->source, sizeof(p->source), "web-identity");
		return web_identity(p, wif, role, env_get(p, "AWS_ROLE_SESSION_NAME"),
				    out, err);
	}
	if (ini_section(p->config, p->profile) || ini_section(p->credentials, p->profile)) {
		rc = profile_creds(p, p->profile, 0, out, p->source,
				   sizeof(p->source), err);
		if (rc <= 0) {
			p->src = SRC_CREDENTIALS_FILE;
			return rc;
		}
		/* a profile asked for by name that holds nothing is an error:
		 * falling through to container or instance credentials would
		 * act as another identity, maybe in another account */
		if (p->explicit_profile || env_get(p, "AWS_PROFILE"))
			return err_set(err, ERR_AUTH,
				       "profile \"%s\" holds no credentials (no keys, role_arn, credential_process or sso_* settings)%s",
				       p->profile,
				       p->explicit_profile ? "" : " (named by AWS_PROFILE)");
	} else if (p->explicit_profile || env_get(p, "AWS_PROFILE")) {
		return err_set(err, ERR_AUTH,
			       "profile \"%s\" not found in the shared config or credentials file",
			       p->profile);
	}
	if (env_get(p, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
	    env_get(p, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
		p->src = SRC_CONTAINER;
		snprintf(p->source, sizeof(p->source), "container");
		return container(p, out, err);
	}
	{
		const char *dis = env_get(p, "AWS_EC2_METADATA_DISABLED");
		if (!dis || strcasecmp(dis, "true")) {
			struct err ierr = ERR_INIT;
			if (imds(p, out, &ierr) == 0) {
				p->src = SRC_IMDS;
				snprintf(p->source, sizeof(p->source),
					 "instance metadata (IMDSv2)");
				return 0;
			}
			log_debug("aws: instance metadata: %s", ierr.msg);
		}
	}
	return err_set(err, ERR_AUTH,
		       "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, use --profile or AWS_PROFILE, or web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN)");
}

/*
 * Refresh windows, as botocore's RefreshableCredentials: within ADVISORY of
 * the expiry a refresh is tried, and when it fails the current credentials,
 * still valid, go on being used (a warning says so; the next try waits
 * RETRY_AFTER); within MANDATORY (they are about to expire, or an
 * ExpiredToken answer invalidated them) the refresh must succeed or the call
 * fails. botocore's windows are 15 and 10 minutes; cairn's are 5 minutes and
 * 10 seconds, so a source whose credentials live 15 minutes (the shortest
 * STS session) is not refreshed on every call, and credentials are used until
 * they truly expire.
 */
#define ADVISORY_S 300
#define MANDATORY_S 10
#define RETRY_AFTER_S 30

int creds_get(struct creds_provider *p, struct aws_creds *out, char *source,
	      size_t nsource, struct err *err)
{
	int rc = 0;
	time_t now = time(NULL);

	pthread_mutex_lock(&p->lock);
	if (!p->cur.access_key ||
	    (p->cur.expiration && now + MANDATORY_S >= p->cur.expiration)) {
		struct aws_creds fresh;
		memset(&fresh, 0, sizeof(fresh));
		if (p->cur.access_key)
			log_debug("aws: refreshing credentials from %s", p->source);
		rc = resolve(p, &fresh, err);
		if (rc == 0) {
			aws_creds_wipe(&p->cur);
			p->cur = fresh;
			p->next_try = 0;
		} else {
			aws_creds_wipe(&fresh);
			if (p->cur.access_key)
				err_prefix(err, "refreshing expired credentials (%s): ",
					   p->source);
		}
	} else if (p->cur.expiration && now + ADVISORY_S >= p->cur.expiration &&
		   now >= p->next_try) {
		struct aws_creds fresh;
		struct err rerr = ERR_INIT;
		char prev[sizeof(p->source)];
		memset(&fresh, 0, sizeof(fresh));
		snprintf(prev, sizeof(prev), "%s", p->source);
		log_debug("aws: refreshing credentials from %s (they expire in %lds)",
			  p->source, (long)(p->cur.expiration - now));
		if (resolve(p, &fresh, &rerr) == 0) {
			aws_creds_wipe(&p->cur);
			p->cur = fresh;
			p->next_try = 0;
		} else {
			aws_creds_wipe(&fresh);
			snprintf(p->source, sizeof(p->source), "%s", prev);
			p->next_try = now + RETRY_AFTER_S;
			log_msg(LOG_WARN,
				"refreshing AWS credentials failed (%s); the current ones stay valid for %lds and are used until then",
				rerr.msg, (long)(p->cur.expiration - now));
		}
	}
	if (rc == 0) {
		aws_creds_copy(out, &p->cur);
		if (source)
			snprintf(source, nsource, "%s", p->source);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void creds_invalidate(struct creds_provider *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->cur.access_key)
		p->cur.expiration = 1; /* long past: the next get must fetch again */
	pthread_mutex_unlock(&p->lock);
}
