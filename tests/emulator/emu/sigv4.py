"""SigV4 verification: the signature is recomputed with botocore's signer from
the request as received, and compared in constant time.

verify() returns the caller's identity or raises AuthError(kind); the server
maps the kind to the code each protocol uses (see AUTH_CODES).
"""
import calendar
import hashlib
import hmac
import re
import time
from urllib.parse import parse_qsl, quote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from .core import AwsError

_AUTH_RE = re.compile(
    r'^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,'
    r'\s*Signature=([0-9a-f]{64})\s*$')

UNSIGNED = ('UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')


class AuthError(Exception):
    def __init__(self, kind, detail=''):
        super().__init__(kind)
        self.kind = kind   # missing malformed unknown_key signature expired bad_token token_expired
        self.detail = detail


# kind -> protocol -> (code, status, message)
AUTH_CODES = {
    'missing': {
        'ec2': ('MissingAuthenticationToken', 401, 'The request must contain either a valid '
                                                   '(registered) AWS access key ID or X.509 '
                                                   'certificate.'),
        'query': ('MissingAuthenticationToken', 403, 'Request is missing Authentication '
                                                     'Token'),
        'json': ('MissingAuthenticationTokenException', 400, 'Missing Authentication Token'),
        'rest-xml': ('AccessDenied', 403, 'Access Denied'),
    },
    'malformed': {
        'ec2': ('IncompleteSignature', 400, None),
        'query': ('IncompleteSignature', 403, None),
        'json': ('IncompleteSignatureException', 400, None),
        'rest-xml': ('AuthorizationHeaderMalformed', 400, None),
    },
    'unknown_key': {
        'ec2': ('AuthFailure', 401, 'AWS was not able to validate the provided access '
                                    'credentials'),
        'query': ('InvalidClientTokenId', 403, 'The security token included in the request '
                                               'is invalid.'),
        'json': ('UnrecognizedClientException', 400, 'The security token included in the '
                                                     'request is invalid.'),
        'rest-xml': ('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does '
                                                'not exist in our records.'),
    },
    'bad_token': {
        'ec2': ('AuthFailure', 401, 'AWS was not able to validate the provided access '
                                    'credentials'),
        'query': ('InvalidClientTokenId', 403, 'The security token included in the request '
                                               'is invalid.'),
        'json': ('UnrecognizedClientException', 400, 'The security token included in the '
                                                     'request is invalid.'),
        'rest-xml': ('InvalidToken', 400, 'The provided token is malformed or otherwise '
                                          'invalid.'),
    },
    'token_expired': {
        'ec2': ('RequestExpired', 400, 'Request has expired.'),
        'query': ('ExpiredToken', 403, 'The security token included in the request is '
                                       'expired'),
        'json': ('ExpiredTokenException', 400, 'The security token included in the request '
                                               'is expired'),
        'rest-xml': ('ExpiredToken', 400, 'The provided token has expired.'),
    },
    'signature': {
        'ec2': ('AuthFailure', 401, 'AWS was not able to validate the provided access '
                                    'credentials'),
        'query': ('SignatureDoesNotMatch', 403, 'The request signature we calculated does '
                                                'not match the signature you provided. Check '
                                                'your AWS Secret Access Key and signing '
                                                'method. Consult the service documentation '
                                                'for details.'),
        'json': ('InvalidSignatureException', 400, 'The request signature we calculated does '
                                                   'not match the signature you provided. '
                                                   'Check your AWS Secret Access Key and '
                                                   'signing method. Consult the service '
                                                   'documentation for details.'),
        'rest-xml': ('SignatureDoesNotMatch', 403, 'The request signature we calculated '
                                                   'does not match the signature you '
                                                   'provided. Check your key and signing '
                                                   'method.'),
    },
    'expired': {
        'ec2': ('RequestExpired', 400, None),
        'query': ('SignatureDoesNotMatch', 403, None),
        'json': ('InvalidSignatureException', 400, None),
        'rest-xml': ('RequestTimeTooSkewed', 403, 'The difference between the request time '
                                                  'and the current time is too large.'),
    },
    'content_sha_missing': {
        'ec2': ('IncompleteSignature', 400, None),
        'query': ('IncompleteSignature', 403, None),
        'json': ('IncompleteSignatureException', 400, None),
        'rest-xml': ('InvalidRequest', 400, None),
    },
    'content_sha': {
        'ec2': ('IncompleteSignature', 400, None),
        'query': ('IncompleteSignature', 403, None),
        'json': ('IncompleteSignatureException', 400, None),
        'rest-xml': ('XAmzContentSHA256Mismatch', 400, 'The provided '
                                                       "'x-amz-content-sha256' header does "
                                                       'not match what was computed.'),
    },
}


def auth_error_to_aws(protocol, e):
    code, status, msg = AUTH_CODES[e.kind][protocol]
    return AwsError(code, msg or e.detail, status=status)


def parse_authorization(value):
    """-> (access_key, date, region, service, signed_headers list, signature)."""
    if not value:
        raise AuthError('missing')
    m = _AUTH_RE.match(value.strip())
    if not m:
        if not value.startswith('AWS4-HMAC-SHA256'):
            raise AuthError('malformed', 'Authorization header requires the '
                                         'AWS4-HMAC-SHA256 algorithm')
        raise AuthError('malformed', "Authorization header requires 'Credential', "
                                     "'SignedHeaders' and 'Signature' parameters. "
                                     f"Authorization={value}")
    cred, signed, sig = m.groups()
    parts = cred.split('/')
    if len(parts) != 5 or parts[4] != 'aws4_request' or not re.fullmatch(r'\d{8}', parts[1]):
        raise AuthError('malformed', f"Credential should be scoped to a valid region, "
                                     f"service and 'aws4_request'. Credential={cred}")
    return parts[0], parts[1], parts[2], parts[3], signed.split(';'), sig


def scope_service(headers):
    """The credential-scope service of a request, or None."""
    try:
        return parse_authorization(headers.get('Authorization'))[3]
    except AuthError:
        return None


class _Verifier(SigV4Auth):
    def __init__(self, credentials, service, region, signed):
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request):
        hm = HTTPHeaders()
        for name in self._signed:
            for v in request.headers.get_all(name) if hasattr(request.headers, 'get_all') \
                    else [request.headers.get(name)]:
                if v is not None:
                    hm[name] = v
        return hm


class _S3Verifier(_Verifier, S3SigV4Auth):
    pass


def _canonical_query(query):
    pairs = parse_qsl(query, keep_blank_values=True)
    return '&'.join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


def verify(state, method, raw_path, query, headers, body):
    """headers: an http.client.HTTPMessage (case-insensitive, multi-valued).

    Returns {'access_key', 'account', 'arn', 'user_id', 'session'} or raises AuthError.
    """
    ak, date, region, service, signed, sig = parse_authorization(headers.get('Authorization'))
    if 'host' not in signed:
        raise AuthError('malformed', 'Signed headers must include host')
    amz_date = headers.get('X-Amz-Date')
    if amz_date is None:
        d = headers.get('Date')
        if d is None:
            raise AuthError('malformed', 'Authorization header requires existence of '
                                         'either a \'X-Amz-Date\' or a \'Date\' header.')
        raise AuthError('malformed', "X-Amz-Date header is required")
    try:
        ts = calendar.timegm(time.strptime(amz_date, '%Y%m%dT%H%M%SZ'))
    except ValueError:
        raise AuthError('malformed', f"Invalid X-Amz-Date '{amz_date}'")
    if amz_date[:8] != date:
        raise AuthError('signature', 'Date in Credential scope does not match YYYYMMDD '
                                     'from ISO-8601 version of date from HTTP')
    now = server_time(state)
    skew = max_skew(state, service)
    if abs(now - ts) > skew:
        now_s = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))
        lo = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now - skew))
        hi = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now + skew))
        mins = f'{skew / 60:g} min.'
        if ts < now:
            msg = f'Signature expired: {amz_date} is now earlier than {lo} ({now_s} - {mins})'
        else:
            msg = f'Signature not yet current: {amz_date} is still later than {hi} ' \
                  f'({now_s} + {mins})'
        raise AuthError('expired', msg)
    now = time.time()

    # who is it?
    token = headers.get('X-Amz-Security-Token')
    ident = lookup_key(state, ak, token, now + float(state.config.get('clock_offset') or 0))

    content_sha = headers.get('X-Amz-Content-SHA256')
    if content_sha is not None and content_sha not in UNSIGNED and \
            not content_sha.startswith('STREAMING-'):
        if content_sha != hashlib.sha256(body).hexdigest():
            raise AuthError('content_sha', 'The provided x-amz-content-sha256 header does '
                                           'not match the computed hash')

    hdrs = HTTPHeaders()
    for name in signed:
        vals = headers.get_all(name) if hasattr(headers, 'get_all') else [headers.get(name)]
        if not vals or vals[0] is None:
            raise AuthError('malformed', f"Signed header '{name}' is missing")
        for v in vals:
            hdrs[name] = v
    if content_sha is not None and 'x-amz-content-sha256' not in hdrs:
        hdrs['X-Amz-Content-SHA256'] = content_sha
    cq = _canonical_query(query) if query else ''
    url = 'http://' + headers.get('Host', 'localhost') + raw_path + ('?' + cq if cq else '')
    req = AWSRequest(method=method, url=url, data=body, headers=hdrs)
    req.context['timestamp'] = amz_date
    creds = Credentials(ak, ident['secret'], token)
    cls = _S3Verifier if service == 's3' else _Verifier
    signer = cls(creds, service, region, [s.lower() for s in signed])
    if content_sha is None and service == 's3':
        raise AuthError('content_sha_missing', 'Missing required header for this request: '
                                               'x-amz-content-sha256')
    canonical = signer.canonical_request(req)
    sts = signer.string_to_sign(req, canonical)
    expected = signer.signature(sts, req)
    if not hmac.compare_digest(expected, sig):
        raise AuthError('signature')
    ident = dict(ident)
    ident['region'] = region
    ident['service'] = service
    return ident


def server_time(state):
    """The emulator's wall clock: the host's plus `server_clock_offset` (a
    server whose clock is ahead of or behind the client's). Used for the
    signature time check and the Date header of every answer; resource times
    and expiries follow `clock_offset` instead."""
    return time.time() + float(state.config.get('server_clock_offset') or 0)


def max_skew(state, service):
    """How far a request's signing time may be from the server clock: the
    `max_skew_seconds` knob, else AWS's windows (SigV4 services 5 minutes,
    S3 15 minutes)."""
    v = state.config.get('max_skew_seconds')
    if v:
        return float(v)
    return 900.0 if service == 's3' else 300.0


def lookup_key(state, ak, token, now):
    creds = state.config.get('credentials', {})
    if ak in creds:
        c = creds[ak]
        if token is not None and not c.get('session_token'):
            raise AuthError('bad_token')
        if c.get('session_token') and token != c['session_token']:
            raise AuthError('bad_token')
        acct = c.get('account', '123456789012')
        return {'access_key': ak, 'secret': c['secret'], 'account': acct,
                'arn': c.get('arn', f'arn:aws:iam::{acct}:root'),
                'user_id': c.get('user_id', acct), 'session': None}
    temp = state.stores.get('sts', {}).get('sessions', {}).get(ak)
    if temp is None:
        raise AuthError('unknown_key')
    if token != temp['SessionToken']:
        raise AuthError('bad_token')
    if now > temp['Expiration']:
        raise AuthError('token_expired')
    return {'access_key': ak, 'secret': temp['SecretAccessKey'], 'account': temp['Account'],
            'arn': temp['Arn'], 'user_id': temp['UserId'], 'session': temp}
