/*
 * SSO profiles (IAM Identity Center), as the AWS CLI v2 resolves them.
 *
 * A profile names either an sso_session (whose [sso-session NAME] section
 * holds sso_start_url and sso_region) or, the legacy form, sso_start_url and
 * sso_region itself; both add sso_account_id and sso_role_name. `aws sso
 * login` caches the access token in ~/.aws/sso/cache/<sha1>.json, the SHA-1
 * (hex) of the session name, or of the start URL for the legacy form:
 *   {"startUrl", "region", "accessToken", "expiresAt": "2026-...Z",
 *    and for sessions "clientId", "clientSecret", "registrationExpiresAt",
 *    "refreshToken"}.
 * The token buys role credentials from the portal: GET
 * /federation/credentials?role_name=R&account_id=A on
 * portal.sso.<sso_region>.amazonaws.com, header x-amz-sso_bearer_token,
 * unsigned; the answer is {"roleCredentials": {"accessKeyId",
 * "secretAccessKey", "sessionToken", "expiration": <epoch ms>}}.
 * A session token that expires within 15 minutes is refreshed, as botocore's
 * SSOTokenProvider does, with sso-oidc CreateToken (POST /token on
 * oidc.<sso_region>.amazonaws.com, grantType refresh_token, unsigned) and
 * the cache file rewritten; a failed refresh keeps a token that is still
 * valid. Legacy profiles cannot refresh. An expired or refused token is an
 * error telling the user to run `aws sso login --profile NAME`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws_int.h"
#include "cairn/aws_sigv4.h"
#include "cairn/log.h"
#include "cairn/xalloc.h"

#define SSO_REFRESH_WINDOW_S (15 * 60)

int sso_profile(const struct ini_section *prof)
{
	size_t i;

	if (!prof)
		return 0;
	for (i = 0; i < prof->n; i++)
		if (!strncmp(prof->kv[i].key, "sso_", 4))
			return 1;
	return 0;
}

struct sso_cfg {
	const char *name;       /* the profile */
	const char *session;    /* sso_session, or NULL (legacy) */
	const char *start_url;
	const char *region;
	const char *account;
	const char *role;
	char cache_path[4096];
};

static int login_hint(struct err *err, const char *name)
{
	size_t n = strlen(err->msg);

	snprintf(err->msg + n, sizeof(err->msg) - n,
		 ": run `aws sso login --profile %s`", name);
	return -1;
}

static int read_cfg(const char *name, const struct ini_section *prof,
		    const struct ini *config, const char *home,
		    struct sso_cfg *c, struct err *err)
{
	const char *missing[4];
	size_t nmiss = 0, i;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const char *key;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->session = ini_get(prof, "sso_session");
	c->account = ini_get(prof, "sso_account_id");
	c->role = ini_get(prof, "sso_role_name");
	if (c->session) {
		struct strbuf sec = STRBUF_INIT;
		const struct ini_section *ss;
		strbuf_addf(&sec, "sso-session %s", c->session);
		ss = ini_section(config, sec.buf);
		strbuf_release(&sec);
		if (!ss)
			return err_set(err, ERR_AUTH,
				       "profile \"%s\": sso_session \"%s\" has no [sso-session %s] section in the config file",
				       name, c->session, c->session);
		c->start_url = ini_get(ss, "sso_start_url");
		c->region = ini_get(ss, "sso_region");
		/* a profile repeating them must agree, as the CLI requires */
		if (ini_get(prof, "sso_start_url") && c->start_url &&
		    strcmp(ini_get(prof, "sso_start_url"), c->start_url))
			return err_set(err, ERR_AUTH,
				       "profile \"%s\": sso_start_url differs from the one of sso-session \"%s\"",
				       name, c->session);
		if (ini_get(prof, "sso_region") && c->region &&
		    strcmp(ini_get(prof, "sso_region"), c->region))
			return err_set(err, ERR_AUTH,
				       "profile \"%s\": sso_region differs from the one of sso-session \"%s\"",
				       name, c->session);
	} else {
		c->start_url = ini_get(prof, "sso_start_url");
		c->region = ini_get(prof, "sso_region");
	}
	if (!c->start_url)
		missing[nmiss++] = "sso_start_url";
	if (!c->region)
		missing[nmiss++] = "sso_region";
	if (!c->account)
		missing[nmiss++] = "sso_account_id";
	if (!c->role)
		missing[nmiss++] = "sso_role_name";
	if (nmiss) {
		struct strbuf sb = STRBUF_INIT;
		for (i = 0; i < nmiss; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", missing[i]);
		err_set(err, ERR_AUTH, "profile \"%s\" is an SSO profile but lacks %s%s",
			name, sb.buf, c->session ? " (in the profile or its sso-session)" : "");
		strbuf_release(&sb);
		return -1;
	}
	key = c->session ? c->session : c->start_url;
	if (!EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha1(), NULL))
		return err_set(err, ERR_INTERNAL, "SHA-1 failed");
	for (i = 0; i < mdlen; i++) {
		static const char digits[] = "0123456789abcdef";
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * mdlen] = '\0';
	snprintf(c->cache_path, sizeof(c->cache_path), "%s/.aws/sso/cache/%s.json",
		 home ? home : "", hex);
	return 0;
}

static const char *jstr(const cJSON *j, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* The CLI writes "2026-12-04T21:00:00Z"; older versions "...UTC". */
static int parse_expiry(const char *s, time_t *out)
{
	char buf[64];
	size_t n;

	if (!s)
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	n = strlen(buf);
	if (n > 3 && !strcmp(buf + n - 3, "UTC")) {
		buf[n - 3] = 'Z';
		buf[n - 2] = '\0';
	}
	return aws_parse_time(buf, out);
}

static void wipe_json(cJSON *j)
{
	cJSON *it;

	if (!j)
		return;
	cJSON_ArrayForEach(it, j) {
		if (cJSON_IsString(it))
			OPENSSL_cleanse(it->valuestring, strlen(it->valuestring));
		else
			wipe_json(it);
	}
}

static void free_json(cJSON *j)
{
	wipe_json(j);
	cJSON_Delete(j);
}

/* Writes the refreshed token back where the CLI keeps it (0600, atomic). */
static void save_cache(const char *path, cJSON *tok)
{
	struct strbuf tmp = STRBUF_INIT;
	char *text = cJSON_PrintUnformatted(tok);
	int fd;

	if (!text)
		return;
	strbuf_addf(&tmp, "%s.cairn-%ld", path, (long)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		size_t len = strlen(text), off = 0;
		ssize_t w = 0;
		while (off < len && (w = write(fd, text + off, len - off)) > 0)
			off += (size_t)w;
		if (close(fd) == 0 && off == len && rename(tmp.buf, path) == 0)
			log_debug("aws: SSO token refreshed and saved to %s", path);
		else
			unlink(tmp.buf);
	}
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	strbuf_release(&tmp);
}

/* sso-oidc CreateToken with the refresh token; updates tok in place. */
static int refresh_token(struct aws_client *cl, const struct sso_cfg *c,
			 cJSON *tok, struct err *err)
{
	const char *cid = jstr(tok, "clientId"), *csec = jstr(tok, "clientSecret");
	const char *rt = jstr(tok, "refreshToken");
	const char *regexp = jstr(tok, "registrationExpiresAt");
	struct aws_endpoint ep;
	struct http_header h[1];
	struct http_request req;
	struct http_response resp;
	struct strbuf url = STRBUF_INIT;
	cJSON *body, *ans = NULL;
	char *text;
	time_t reg_exp;
	int rc = -1;

	if (!cid || !csec || !rt)
		return err_set(err, ERR_AUTH, "the cached token has no refresh token");
	if (regexp && parse_expiry(regexp, &reg_exp) == 0 && reg_exp <= time(NULL))
		return err_set(err, ERR_AUTH, "the SSO client registration has expired");
	if (aws_client_endpoint(cl, "sso-oidc", c->region, &ep, err) < 0)
		return -1;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "clientId", cid);
	cJSON_AddStringToObject(body, "clientSecret", csec);
	cJSON_AddStringToObject(body, "grantType", "refresh_token");
	cJSON_AddStringToObject(body, "refreshToken", rt);
	text = cJSON_PrintUnformatted(body);
	free_json(body);
	strbuf_addf(&url, "%s/token", ep.url);
	h[0].name = "Content-Type";
	h[0].value = "application/json";
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url.buf;
	req.headers = h;
	req.nheaders = 1;
	req.body = text;
	req.body_len = strlen(text);
	req.connect_timeout_ms = 5000;
	req.timeout_ms = 15000;
	req.max_response = 1 << 16;
	http_response_init(&resp);
	if (aws_fetch(cl, &req, 3, &resp, err) < 0)
		goto out;
	if (resp.status != 200) {
		struct aws_error_info info;
		if (aws_parse_error(resp.body.buf, resp.body.len, resp.error_type,
				    &info) < 0)
			snprintf(info.code, sizeof(info.code), "HTTP %d", resp.status);
		err_set(err, ERR_AUTH, "sso-oidc:CreateToken: %s", info.code);
		goto out;
	}
	ans = cJSON_ParseWithLength(resp.body.buf, resp.body.len);
	{
		const char *at = jstr(ans, "accessToken"), *nrt = jstr(ans, "refreshToken");
		const cJSON *ein = cJSON_GetObjectItemCaseSensitive(ans, "expiresIn");
		char when[32];
		struct tm tm;
		time_t exp;
		if (!at || !cJSON_IsNumber(ein)) {
			err_set(err, ERR_AUTH, "sso-oidc:CreateToken: no accessToken/expiresIn in the answer");
			goto out;
		}
		exp = time(NULL) + (time_t)ein->valuedouble;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&exp, &tm));
		cJSON_DeleteItemFromObjectCaseSensitive(tok, "accessToken");
		cJSON_AddStringToObject(tok, "accessToken", at);
		cJSON_DeleteItemFromObjectCaseSensitive(tok, "expiresAt");
		cJSON_AddStringToObject(tok, "expiresAt", when);
		if (nrt) {
			cJSON_DeleteItemFromObjectCaseSensitive(tok, "refreshToken");
			cJSON_AddStringToObject(tok, "refreshToken", nrt);
		}
	}
	save_cache(c->cache_path, tok);
	rc = 0;
out:
	free_json(ans);
	OPENSSL_cleanse(resp.body.buf, resp.body.len);
	http_response_release(&resp);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	strbuf_release(&url);
	return rc;
}

/* The access token to use, or -1 with an error that says to log in. */
static int get_token(struct aws_client *cl, const struct sso_cfg *c,
		     struct strbuf *out, struct err *err)
{
	struct strbuf raw = STRBUF_INIT;
	cJSON *tok;
	const char *at;
	time_t exp = 0, now = time(NULL);
	int rc = -1;

	if (strbuf_read_file(&raw, c->cache_path, 1 << 20) < 0) {
		int e = errno;
		strbuf_release(&raw);
		err_set(err, ERR_AUTH, "profile \"%s\": no SSO token cached (%s: %s)",
			c->name, c->cache_path, strerror(e));
		return login_hint(err, c->name);
	}
	tok = cJSON_ParseWithLength(raw.buf, raw.len);
	OPENSSL_cleanse(raw.buf, raw.len);
	strbuf_release(&raw);
	if (!cJSON_IsObject(tok) || !jstr(tok, "accessToken") ||
	    parse_expiry(jstr(tok, "expiresAt"), &exp) < 0) {
		free_json(tok);
		err_set(err, ERR_AUTH,
			"profile \"%s\": the SSO token cache %s is not a token (accessToken, expiresAt)",
			c->name, c->cache_path);
		return login_hint(err, c->name);
	}
	if (c->session && exp - now < SSO_REFRESH_WINDOW_S) {
		struct err rerr = ERR_INIT;
		if (refresh_token(cl, c, tok, &rerr) == 0) {
			parse_expiry(jstr(tok, "expiresAt"), &exp);
		} else if (exp > now) {
			log_msg(LOG_WARN, "profile %s: refreshing the SSO token failed (%s); "
				"using it until it expires", c->name, rerr.msg);
		} else {
			log_debug("aws: profile %s: SSO token refresh: %s", c->name,
				  rerr.msg);
		}
	}
	at = jstr(tok, "accessToken");
	if (exp <= now) {
		char when[32];
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&exp, &tm));
		err_set(err, ERR_AUTH, "profile \"%s\": the SSO token expired at %s",
			c->name, when);
		login_hint(err, c->name);
	} else {
		strbuf_addstr(out, at);
		rc = 0;
	}
	free_json(tok);
	return rc;
}

int sso_creds(struct aws_client *cl, const char *name,
	      const struct ini_section *prof, const struct ini *config,
	      const char *home, struct aws_creds *out, char *src, size_t nsrc,
	      struct err *err)
{
	struct sso_cfg c;
	struct strbuf token = STRBUF_INIT, url = STRBUF_INIT;
	struct aws_endpoint ep;
	struct http_header h[1];
	struct http_request req;
	struct http_response resp;
	cJSON *ans = NULL;
	const cJSON *rc_, *exp;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (read_cfg(name, prof, config, home, &c, err) < 0)
		return -1;
	snprintf(src, nsrc, "profile %s (SSO, account %s, role %s)", name, c.account,
		 c.role);
	if (get_token(cl, &c, &token, err) < 0)
		return -1;
	if (aws_client_endpoint(cl, "sso", c.region, &ep, err) < 0)
		goto out;
	strbuf_addf(&url, "%s/federation/credentials?role_name=", ep.url);
	sigv4_uri_encode(c.role, strlen(c.role), NULL, &url);
	strbuf_addstr(&url, "&account_id=");
	sigv4_uri_encode(c.account, strlen(c.account), NULL, &url);
	h[0].name = "x-amz-sso_bearer_token";
	h[0].value = token.buf;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url.buf;
	req.headers = h;
	req.nheaders = 1;
	req.connect_timeout_ms = 5000;
	req.timeout_ms = 15000;
	req.max_response = 1 << 16;
	http_response_init(&resp);
	if (aws_fetch(cl, &req, 3, &resp, err) < 0) {
		err_prefix(err, "profile \"%s\": sso:GetRoleCredentials: ", name);
		goto out_resp;
	}
	if (resp.status != 200) {
		struct aws_error_info info;
		if (aws_parse_error(resp.body.buf, resp.body.len, resp.error_type,
				    &info) < 0) {
			snprintf(info.code, sizeof(info.code), "HTTP %d", resp.status);
			info.message[0] = '\0';
		}
		err_set(err, ERR_AUTH, "profile \"%s\": sso:GetRoleCredentials (account %s, role %s): %s%s%s",
			name, c.account, c.role, info.code, info.message[0] ? ": " : "",
			info.message);
		if (resp.status == 401 || !strcmp(info.code, "UnauthorizedException"))
			login_hint(err, name);
		goto out_resp;
	}
	ans = cJSON_ParseWithLength(resp.body.buf, resp.body.len);
	rc_ = cJSON_GetObjectItemCaseSensitive(ans, "roleCredentials");
	if (!jstr(rc_, "accessKeyId") || !jstr(rc_, "secretAccessKey")) {
		err_set(err, ERR_AUTH, "profile \"%s\": sso:GetRoleCredentials returned no credentials",
			name);
		goto out_resp;
	}
	out->access_key = xstrdup(jstr(rc_, "accessKeyId"));
	out->secret_key = xstrdup(jstr(rc_, "secretAccessKey"));
	out->session_token = jstr(rc_, "sessionToken") ?
				     xstrdup(jstr(rc_, "sessionToken")) : NULL;
	exp = cJSON_GetObjectItemCaseSensitive(rc_, "expiration");
	out->expiration = cJSON_IsNumber(exp) ? (time_t)(exp->valuedouble / 1000) :
						time(NULL) + 900;
	rc = 0;
out_resp:
	free_json(ans);
	OPENSSL_cleanse(resp.body.buf, resp.body.len);
	http_response_release(&resp);
out:
	OPENSSL_cleanse(token.buf, token.len);
	strbuf_release(&token);
	strbuf_release(&url);
	return rc;
}
