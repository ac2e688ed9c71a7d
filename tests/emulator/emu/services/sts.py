"""STS: caller identity and temporary credentials that the emulator accepts."""
import base64
import json
import string

from ..core import AwsError

_UPPER = string.ascii_uppercase + string.digits
_SECRET = string.ascii_letters + string.digits + '+/'


def _rand(ctx, alphabet, n):
    rng = ctx._state.rng
    return ''.join(rng.choice(alphabet) for _ in range(n))


def get_caller_identity(ctx, params):
    c = ctx.caller
    return {'UserId': c.get('user_id') or ctx.account, 'Account': ctx.account,
            'Arn': c.get('arn') or f'arn:aws:iam::{ctx.account}:root'}


def _role(ctx, role_arn):
    parts = role_arn.split(':')
    if len(parts) != 6 or parts[0] != 'arn' or parts[2] != 'iam' or \
            not parts[5].startswith('role/'):
        raise AwsError('ValidationError', f'{role_arn} is invalid')
    name = parts[5].rsplit('/', 1)[-1]
    role = ctx.store('iam').get('roles', {}).get(name)
    if role is None or role['Arn'] != role_arn:
        who = ctx.caller.get('arn') or 'anonymous'
        raise AwsError('AccessDenied', f'User: {who} is not authorized to perform: '
                                       f'sts:AssumeRole on resource: {role_arn}', status=403)
    return role


def _issue(ctx, role, session_name, duration):
    return issue(ctx, role, session_name, duration)


def issue(ctx, role, session_name, duration, check=True):
    """A temporary session for role (a dict with RoleName, RoleId, Arn).

    The knob `sts_credentials_seconds` (config) shortens every session the
    emulator hands out (AssumeRole*, instance and container credentials, SSO)
    to that many seconds, so tests see credentials expire mid-run; expired
    sessions are refused with each protocol's ExpiredToken code."""
    if check and not 900 <= duration <= max(3600, role.get('MaxSessionDuration', 3600)):
        raise AwsError('ValidationError',
                       'The requested DurationSeconds exceeds the MaxSessionDuration set '
                       'for this role.')
    short = ctx.config.get('sts_credentials_seconds')
    if short:
        duration = min(duration, float(short))
    ak = 'ASIA' + _rand(ctx, _UPPER, 16)
    secret = _rand(ctx, _SECRET, 40)
    token = 'FwoGZXIvYXdzE' + _rand(ctx, string.ascii_letters + string.digits, 120)
    exp = ctx.now() + duration
    acct = role['Arn'].split(':')[4]
    arn = f'arn:aws:sts::{acct}:assumed-role/{role["RoleName"]}/{session_name}'
    user_id = f'{role["RoleId"]}:{session_name}'
    ctx.store('sts').setdefault('sessions', {})[ak] = {
        'SecretAccessKey': secret, 'SessionToken': token, 'Expiration': exp,
        'Account': acct, 'Arn': arn, 'UserId': user_id, 'RoleName': role['RoleName']}
    _prune(ctx)
    return ({'AccessKeyId': ak, 'SecretAccessKey': secret, 'SessionToken': token,
             'Expiration': exp},
            {'AssumedRoleId': user_id, 'Arn': arn})


def mint(ctx, role_name, session_name, duration=3600):
    """Temporary credentials for a role that need not exist in IAM (instance
    metadata and container credential endpoints)."""
    role = ctx.store('iam').get('roles', {}).get(role_name) or {
        'RoleName': role_name, 'RoleId': 'AROA' + _rand(ctx, _UPPER, 17),
        'Arn': f'arn:aws:iam::{ctx.account}:role/{role_name}', 'MaxSessionDuration': duration}
    # DurationSeconds' 900..MaxSessionDuration range is a check of the
    # AssumeRole* parameter; the instance and container endpoints take no
    # such parameter, so any lifetime the config asks for is handed out.
    creds, user = issue(ctx, role, session_name, duration, check=False)
    return creds, user, role['Arn']


def _prune(ctx):
    sessions = ctx.store('sts')['sessions']
    now = ctx.now()
    for k in [k for k, v in sessions.items() if v['Expiration'] < now - 3600]:
        del sessions[k]


def assume_role(ctx, params):
    role = _role(ctx, params['RoleArn'])
    creds, user = _issue(ctx, role, params['RoleSessionName'],
                         params.get('DurationSeconds', 3600))
    return {'Credentials': creds, 'AssumedRoleUser': user, 'PackedPolicySize': 0,
            'SourceIdentity': params.get('SourceIdentity')}


def _jwt_claims(token):
    parts = token.split('.')
    if len(parts) != 3 or not all(parts[:2]):
        raise AwsError('InvalidIdentityToken', 'Token is not a valid JWT')
    try:
        pad = parts[1] + '=' * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(pad))
        if not isinstance(claims, dict):
            raise ValueError
        return claims
    except ValueError:
        raise AwsError('InvalidIdentityToken', 'Token payload is not valid JSON')


def assume_role_with_web_identity(ctx, params):
    claims = _jwt_claims(params['WebIdentityToken'])
    # an OIDC token past its "exp" claim is refused as STS does (a CI job's
    # token file written once goes stale within minutes)
    exp = claims.get('exp')
    if isinstance(exp, (int, float)) and exp <= ctx.now():
        raise AwsError('ExpiredTokenException',
                       'Token expired: current date/time must be before the expiration '
                       'date/time')
    role = _role(ctx, params['RoleArn'])
    creds, user = _issue(ctx, role, params['RoleSessionName'],
                         params.get('DurationSeconds', 3600))
    aud = claims.get('aud')
    return {'Credentials': creds, 'AssumedRoleUser': user, 'PackedPolicySize': 0,
            'SubjectFromWebIdentityToken': str(claims.get('sub', 'subject')),
            'Audience': aud if isinstance(aud, str) else (aud or ['sts.amazonaws.com'])[0],
            'Provider': str(claims.get('iss', 'emulator')).replace('https://', '')}


HANDLERS = {
    'GetCallerIdentity': get_caller_identity,
    'AssumeRole': assume_role,
    'AssumeRoleWithWebIdentity': assume_role_with_web_identity,
}


def inventory(store):
    return []   # temporary credentials are not resources
