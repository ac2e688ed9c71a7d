"""IAM Identity Center for SSO profiles: the portal's GetRoleCredentials and
the OIDC service's CreateToken (refresh_token grant), both unsigned.

These are REST-JSON calls the SigV4 dispatcher does not route; server.py
hands them here by shape (see `claims`):

GET  /federation/credentials?role_name=R&account_id=A
     header x-amz-sso_bearer_token: an access token the emulator knows
     -> {"roleCredentials": {accessKeyId, secretAccessKey, sessionToken,
        expiration (epoch ms)}}: an STS session the services then accept, as
        the role AWSReservedSSO_<R>_<hex> in account A.
     Unknown or expired token: 401 UnauthorizedException.
POST /token  {"clientId", "clientSecret", "grantType": "refresh_token",
              "refreshToken"}
     -> {"accessToken", "tokenType": "Bearer", "expiresIn", "refreshToken"}
     (the refresh token rotates). Unknown refresh token: 400 InvalidGrantException.

Which tokens are valid (config):
  sso_access_tokens   {"token": expiry epoch seconds, or 0 for never}
  sso_refresh_tokens  {"refresh token": "client id"}
  sso_token_seconds   lifetime of access tokens CreateToken issues (3600)
Tokens CreateToken issued are kept in the state (store "sso") with their
expiry on the emulator clock (clock_offset applies).
"""
import json
import secrets
import time
from urllib.parse import parse_qsl

from ..core import Ctx
from . import sts


def claims(req):
    """Whether this request is an SSO portal or OIDC call."""
    if 'Authorization' in req.headers:
        return False
    if req.method == 'GET' and req.raw_path == '/federation/credentials':
        return True
    return req.method == 'POST' and req.raw_path == '/token' and \
        req.headers.get('Content-Type', '').startswith('application/json')


def _json(status, obj, error_type=None):
    h = {'Content-Type': 'application/json', 'x-amzn-RequestId': secrets.token_hex(16)}
    if error_type:
        h['x-amzn-ErrorType'] = error_type
    return status, h, json.dumps(obj).encode()


def _err(status, code, message):
    return _json(status, {'message': message}, error_type=f'{code}:http://internal.amazon.com/')


def _token_valid(state, token, now):
    cfg = state.config.get('sso_access_tokens') or {}
    if token in cfg:
        exp = float(cfg[token] or 0)
        return exp == 0 or now < exp
    issued = state.stores.get('sso', {}).get('access', {})
    return token in issued and now < issued[token]


def handle(emu, req):
    state = emu.state
    now = time.time() + float(state.config.get('clock_offset') or 0)
    if req.raw_path == '/federation/credentials':
        state.count('sso', 'GetRoleCredentials')
        q = dict(parse_qsl(req.query, keep_blank_values=True))
        role, account = q.get('role_name'), q.get('account_id')
        if not role or not account:
            return _err(400, 'InvalidRequestException',
                        'role_name and account_id are required')
        token = req.headers.get('x-amz-sso_bearer_token')
        if not token:
            return _err(401, 'UnauthorizedException', 'Session token not found or invalid')
        with state.lock:
            if not _token_valid(state, token, now):
                return _err(401, 'UnauthorizedException',
                            'Session token not found or invalid')
            ctx = Ctx(state, 'sts', account=account)
            name = f'AWSReservedSSO_{role}_{ctx.rand_hex(16)}'
            fake = {'RoleName': name, 'RoleId': 'AROA' + ctx.rand_hex(17).upper(),
                    'Arn': f'arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{name}',
                    'MaxSessionDuration': 43200}
            seconds = int(state.config.get('sts_credentials_seconds') or 3600)
            creds, _ = sts.issue(ctx, fake, 'sso-user', max(seconds, 1), check=False)
            state.dirty = True
        return _json(200, {'roleCredentials': {
            'accessKeyId': creds['AccessKeyId'], 'secretAccessKey': creds['SecretAccessKey'],
            'sessionToken': creds['SessionToken'],
            'expiration': int(creds['Expiration'] * 1000)}})
    # POST /token (sso-oidc CreateToken)
    state.count('sso-oidc', 'CreateToken')
    try:
        body = json.loads(req.body or b'{}')
    except ValueError:
        return _err(400, 'InvalidRequestException', 'body is not JSON')
    if body.get('grantType') != 'refresh_token':
        return _err(400, 'UnsupportedGrantTypeException',
                    'the emulator supports the refresh_token grant only')
    rt = body.get('refreshToken')
    with state.lock:
        store = state.stores.setdefault('sso', {})
        known = dict(state.config.get('sso_refresh_tokens') or {})
        known.update(store.get('refresh', {}))
        if rt not in known or known[rt] != body.get('clientId'):
            return _err(400, 'InvalidGrantException', 'Invalid refresh token provided')
        store.setdefault('refresh', {}).pop(rt, None)
        cfg_rt = state.config.get('sso_refresh_tokens') or {}
        cfg_rt.pop(rt, None)    # refresh tokens are single use: they rotate
        seconds = int(state.config.get('sso_token_seconds') or 3600)
        at = 'aoa' + secrets.token_urlsafe(48)
        nrt = 'aor' + secrets.token_urlsafe(48)
        store.setdefault('access', {})[at] = now + seconds
        store['refresh'][nrt] = body.get('clientId')
        state.dirty = True
    return _json(200, {'accessToken': at, 'tokenType': 'Bearer', 'expiresIn': seconds,
                       'refreshToken': nrt})


def inventory(store):
    return []   # tokens are not resources
