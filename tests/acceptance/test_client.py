"""The AWS client against an account that is not the emulator's perfect
default: a server clock far from ours, SSO profiles, credentials that expire
mid-run, credential sources that fail for a while, zones that are not
<region>a/b/c. The real binary against the emulator; outcomes checked through
the emulator's call counters and inventory."""
import json

import pytest

SMALL = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /cairn-client/{name}
      RetentionInDays: 7
  Net:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.42.0.0/16
"""


def _calls(emu):
    return emu.control('calls')


def _total(calls):
    return sum(calls.values())


def _apply(cairn, emu, name, *extra, extra_env=None):
    tpl = cairn.tmp / f'{name}.yaml'
    tpl.write_text(SMALL.format(name=name))
    return cairn('apply', str(tpl), '--auto-approve', '--parallelism', '1',
                 '--state', str(cairn.tmp / f'{name}.db'), *cairn.endpoint, *extra,
                 extra_env=extra_env)


@pytest.fixture
def clean(emu):
    emu.reset()
    emu.control('calls', method='DELETE')
    yield emu
    emu.control('config', {'server_clock_offset': 0, 'clock_offset': 0})


def test_whoami_corrects_a_clock_20_minutes_behind(clean, cairn):
    emu = clean
    emu.control('config', {'server_clock_offset': 1200})
    r = cairn('whoami', *cairn.endpoint)
    assert r.rc == 0, r
    # refused once (Signature expired), signed again with the server's time
    assert _calls(emu).get('sts:GetCallerIdentity') == 2


@pytest.mark.parametrize('offset', [1200, -1200])
def test_apply_with_skewed_server_clock_costs_one_call(clean, cairn, offset):
    emu = clean
    r = _apply(cairn, emu, 'baseline')
    assert r.rc == 0, r
    baseline = _total(_calls(emu))
    emu.reset()
    emu.control('calls', method='DELETE')
    emu.control('config', {'server_clock_offset': offset})
    r = _apply(cairn, emu, 'skewed', '--debug')
    assert r.rc == 0, r
    # the first call is refused and corrected; every later one is signed
    # with the learnt offset (EC2's RequestExpired included: no credential
    # refresh, no second refusal)
    assert _total(_calls(emu)) == baseline + 1, (_calls(emu), baseline)
    types = sorted(x['type'] for x in emu.control('inventory'))
    assert any('vpc' in t.lower() for t in types) and any('log' in t.lower() for t in types)
    assert 'fetching credentials again' not in r.err


# ---- SSO profiles -----------------------------------------------------------

import datetime
import hashlib
import os

SSO_CONFIG = """\
[profile prod-sso]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Admin
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile legacy-sso]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 444455556666
sso_role_name = ReadOnly

[profile empty]
region = us-east-1

[profile half-sso]
sso_session = corp
"""


def _iso(delta_s):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


def _sso_env(cairn, emu):
    home = cairn.tmp / 'home'
    (home / '.aws' / 'sso' / 'cache').mkdir(parents=True, exist_ok=True)
    (home / '.aws' / 'config').write_text(SSO_CONFIG)
    env = {'AWS_ACCESS_KEY_ID': '', 'AWS_SECRET_ACCESS_KEY': '',
           'AWS_ENDPOINT_URL': emu.url}
    return home, env


def _cache(home, key, **tok):
    path = home / '.aws' / 'sso' / 'cache' / (hashlib.sha1(key.encode()).hexdigest() + '.json')
    path.write_text(json.dumps(tok))
    return path


def test_sso_session_profile_end_to_end(clean, cairn):
    emu = clean
    home, env = _sso_env(cairn, emu)
    emu.control('config', {'sso_access_tokens': {'tok-corp-valid': 0}})
    _cache(home, 'corp', startUrl='https://corp.awsapps.com/start', region='us-east-1',
           accessToken='tok-corp-valid', expiresAt=_iso(3600))
    r = cairn('whoami', '--profile', 'prod-sso', '--json', extra_env=env)
    assert r.rc == 0, r
    who = json.loads(r.out)
    assert who['account'] == '111122223333'
    assert 'AWSReservedSSO_Admin_' in who['arn']
    assert 'SSO' in who['source']
    calls = _calls(emu)
    assert calls.get('sso:GetRoleCredentials') == 1
    assert calls.get('sts:GetCallerIdentity') == 1
    # the bearer token never shows, even in a trace
    r = cairn('whoami', '--profile', 'prod-sso', extra_env=dict(env, CAIRN_LOG='trace'))
    assert r.rc == 0, r
    assert 'tok-corp-valid' not in r.out + r.err


def test_sso_legacy_profile_via_aws_profile(clean, cairn):
    emu = clean
    home, env = _sso_env(cairn, emu)
    emu.control('config', {'sso_access_tokens': {'tok-legacy': 0}})
    _cache(home, 'https://legacy.awsapps.com/start', startUrl='https://legacy.awsapps.com/start',
           region='us-east-1', accessToken='tok-legacy', expiresAt=_iso(1800))
    r = cairn('whoami', '--json', extra_env=dict(env, AWS_PROFILE='legacy-sso'))
    assert r.rc == 0, r
    assert json.loads(r.out)['account'] == '444455556666'


def test_sso_expired_token_says_to_log_in(clean, cairn):
    emu = clean
    home, env = _sso_env(cairn, emu)
    emu.control('config', {'sso_access_tokens': {'tok-old': 0}})
    _cache(home, 'corp', startUrl='https://corp.awsapps.com/start', region='us-east-1',
           accessToken='tok-old', expiresAt=_iso(-60))
    r = cairn('whoami', '--profile', 'prod-sso', extra_env=env)
    assert r.rc == 1, r
    assert 'expired' in r.err and 'aws sso login --profile prod-sso' in r.err, r
    assert _calls(emu).get('sso:GetRoleCredentials') is None


def test_sso_no_cached_token_says_to_log_in(clean, cairn):
    emu = clean
    home, env = _sso_env(cairn, emu)
    r = cairn('whoami', '--profile', 'prod-sso', extra_env=env)
    assert r.rc == 1, r
    assert 'no SSO token cached' in r.err and 'aws sso login --profile prod-sso' in r.err, r


def test_sso_refused_token_says_to_log_in(clean, cairn):
    emu = clean
    home, env = _sso_env(cairn, emu)
    _cache(home, 'corp', startUrl='https://corp.awsapps.com/start', region='us-east-1',
           accessToken='tok-revoked', expiresAt=_iso(3600))
    r = cairn('whoami', '--profile', 'prod-sso', extra_env=env)
    assert r.rc == 1, r
    assert 'UnauthorizedException' in r.err and 'aws sso login' in r.err, r


def test_sso_token_near_expiry_is_refreshed(clean, cairn):
    emu = clean
    home, env = _sso_env(cairn, emu)
    emu.control('config', {'sso_refresh_tokens': {'rt-1': 'client-1'}})
    path = _cache(home, 'corp', startUrl='https://corp.awsapps.com/start', region='us-east-1',
                  accessToken='tok-stale', expiresAt=_iso(-10), clientId='client-1',
                  clientSecret='secret-1', registrationExpiresAt=_iso(86400),
                  refreshToken='rt-1')
    r = cairn('whoami', '--profile', 'prod-sso', '--json', extra_env=env)
    assert r.rc == 0, r
    assert json.loads(r.out)['account'] == '111122223333'
    assert _calls(emu).get('sso-oidc:CreateToken') == 1
    tok = json.loads(path.read_text())
    assert tok['accessToken'] != 'tok-stale' and tok['refreshToken'] != 'rt-1'
    assert tok['clientId'] == 'client-1'
    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    # the refreshed token is used as it is the next time, without a refresh
    r = cairn('whoami', '--profile', 'prod-sso', extra_env=env)
    assert r.rc == 0, r
    assert _calls(emu).get('sso-oidc:CreateToken') == 1


def test_sso_profile_missing_settings(clean, cairn):
    home, env = _sso_env(cairn, clean)
    r = cairn('whoami', '--profile', 'half-sso', extra_env=env)
    assert r.rc == 1, r
    assert 'sso_account_id' in r.err and 'sso_role_name' in r.err, r


@pytest.mark.parametrize('how', ['--profile', 'AWS_PROFILE'])
def test_explicit_profile_without_credentials_never_falls_through(clean, cairn, how):
    """A named profile that yields nothing must not silently become the
    container's (or the instance's) identity."""
    emu = clean
    home, env = _sso_env(cairn, emu)
    env['AWS_CONTAINER_CREDENTIALS_FULL_URI'] = emu.url + '/_emulator/container-credentials'
    args = ['whoami', '--json']
    if how == '--profile':
        args += ['--profile', 'empty']
    else:
        env['AWS_PROFILE'] = 'empty'
    r = cairn(*args, extra_env=env)
    assert r.rc == 1, r
    assert 'profile "empty" holds no credentials' in r.err, r
    assert _calls(emu).get('sts:GetCallerIdentity') is None
    # without the profile, the same environment does use the container
    env.pop('AWS_PROFILE', None)
    r = cairn('whoami', '--json', extra_env=env)
    assert r.rc == 0 and 'emulator-task-role' in r.out, r


# ---- credentials that expire, sources that fail -----------------------------

import base64
import http.server
import threading

TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Federated': 'token.actions.githubusercontent.com'},
    'Action': 'sts:AssumeRoleWithWebIdentity'}]})


def _jwt(sub):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip('=')
    return f"{enc({'alg': 'RS256'})}.{enc({'sub': sub, 'aud': 'sts.amazonaws.com'})}.c2ln"


def test_credentials_expiring_mid_apply_are_refreshed(clean, cairn):
    emu = clean
    role = emu.client('iam').create_role(RoleName='deploy',
                                         AssumeRolePolicyDocument=TRUST)['Role']
    tok = cairn.tmp / 'oidc'
    tok.write_text(_jwt('repo:x/y:ref:refs/heads/main'))
    # every session the emulator issues lives 4 seconds; each call is slowed
    # so the apply outlives several of them
    emu.control('config', {'sts_credentials_seconds': 4, 'latency': {'logs': 0.6, 'ec2': 0.6}})
    emu.control('calls', method='DELETE')
    try:
        r = _apply(cairn, emu, 'expiring', extra_env={
            'AWS_ACCESS_KEY_ID': '', 'AWS_SECRET_ACCESS_KEY': '',
            'AWS_WEB_IDENTITY_TOKEN_FILE': str(tok), 'AWS_ROLE_ARN': role['Arn']})
    finally:
        emu.control('config', {'sts_credentials_seconds': None, 'latency': {}})
    assert r.rc == 0, r
    assert _calls(emu).get('sts:AssumeRoleWithWebIdentity', 0) >= 2, _calls(emu)
    assert len(emu.control('inventory')) >= 2


PROCESS = """#!/bin/sh
# first call: credentials valid for {valid} s; every later call fails
if [ -e "{marker}" ]; then echo "token service down" >&2; exit 1; fi
touch "{marker}"
exp=$(date -u -d "+{valid} seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{{"Version": 1, "AccessKeyId": "test", "SecretAccessKey": "test", "Expiration": "%s"}}' "$exp"
"""


def _process_profile(cairn, valid):
    script = cairn.tmp / 'creds.sh'
    script.write_text(PROCESS.format(marker=cairn.tmp / 'used', valid=valid))
    script.chmod(0o755)
    home = cairn.tmp / 'home'
    (home / '.aws').mkdir(parents=True, exist_ok=True)
    (home / '.aws' / 'config').write_text(
        f'[profile proc]\ncredential_process = {script}\nregion = us-east-1\n')
    return {'AWS_ACCESS_KEY_ID': '', 'AWS_SECRET_ACCESS_KEY': '', 'AWS_PROFILE': 'proc'}


def test_failed_refresh_keeps_credentials_still_valid(clean, cairn):
    """Credentials 2 minutes from expiry are inside the advisory window: each
    call tries a refresh, the source fails, the valid credentials carry on."""
    emu = clean
    env = _process_profile(cairn, 120)
    r = _apply(cairn, emu, 'advisory', extra_env=env)
    assert r.rc == 0, r
    assert 'refreshing AWS credentials failed' in r.err
    assert 'token service down' not in r.out
    assert len(emu.control('inventory')) >= 2


def test_failed_refresh_of_expired_credentials_is_an_error(clean, cairn):
    emu = clean
    env = _process_profile(cairn, 5)    # inside the mandatory window at once
    r = cairn('whoami', *cairn.endpoint, extra_env=env)
    assert r.rc == 1, r
    assert 'credential_process' in r.err


class _Flaky(http.server.BaseHTTPRequestHandler):
    """A container credentials agent that fails its first answers."""
    failures = 2
    seen = []

    def do_GET(self):
        type(self).seen.append(self.path)
        if len(type(self).seen) <= type(self).failures:
            self.send_response(503)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        exp = _iso(3600)
        body = json.dumps({'AccessKeyId': 'test', 'SecretAccessKey': 'test',
                           'Expiration': exp}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_container_credentials_are_retried(clean, cairn):
    _Flaky.seen = []
    srv = http.server.HTTPServer(('127.0.0.1', 0), _Flaky)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        r = cairn('whoami', *cairn.endpoint, extra_env={
            'AWS_ACCESS_KEY_ID': '', 'AWS_SECRET_ACCESS_KEY': '',
            'AWS_CONTAINER_CREDENTIALS_FULL_URI':
                f'http://127.0.0.1:{srv.server_address[1]}/v2/credentials'})
    finally:
        srv.shutdown()
    assert r.rc == 0, r
    assert len(_Flaky.seen) == 3


# ---- smaller: container URL hosts, MFA ---------------------------------------

@pytest.mark.parametrize('uri,ok', [
    ('http://169.254.170.2.example.com/creds', False),
    ('http://169.254.170.2@127.0.0.1:{port}/creds', False),
    ('http://127.0.0.1:{port}/creds', True),
    ('http://localhost:{port}/creds', True),
])
def test_container_full_uri_host_is_checked_whole(clean, cairn, uri, ok):
    _Flaky.seen = []
    _Flaky.failures = 0
    srv = http.server.HTTPServer(('127.0.0.1', 0), _Flaky)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        r = cairn('whoami', *cairn.endpoint, extra_env={
            'AWS_ACCESS_KEY_ID': '', 'AWS_SECRET_ACCESS_KEY': '',
            'AWS_CONTAINER_AUTHORIZATION_TOKEN': 'container-secret',
            'AWS_CONTAINER_CREDENTIALS_FULL_URI': uri.format(port=srv.server_address[1])})
    finally:
        srv.shutdown()
        _Flaky.failures = 2
    if ok:
        assert r.rc == 0, r
    else:
        assert r.rc == 1, r
        assert 'http is only allowed' in r.err, r
        assert _Flaky.seen == []    # the token went nowhere


MFA_CONFIG = """\
[profile mfa]
role_arn = {role}
source_profile = base
mfa_serial = arn:aws:iam::123456789012:mfa/alice
region = us-east-1
"""


def _mfa_setup(cairn, emu):
    role = emu.client('iam').create_role(RoleName='deploy-mfa',
                                         AssumeRolePolicyDocument=TRUST)['Role']
    home = cairn.tmp / 'home'
    (home / '.aws').mkdir(parents=True, exist_ok=True)
    (home / '.aws' / 'config').write_text(MFA_CONFIG.format(role=role['Arn']))
    (home / '.aws' / 'credentials').write_text(
        '[base]\naws_access_key_id = test\naws_secret_access_key = test\n')
    return {'AWS_ACCESS_KEY_ID': '', 'AWS_SECRET_ACCESS_KEY': ''}


def test_mfa_without_terminal_is_a_clear_error(clean, cairn):
    env = _mfa_setup(cairn, clean)
    r = cairn('whoami', '--profile', 'mfa', *cairn.endpoint, extra_env=env)
    assert r.rc == 1, r
    assert 'MFA code' in r.err and 'no terminal' in r.err, r
    assert _calls(clean).get('sts:AssumeRole') is None


def test_mfa_code_is_asked_on_the_terminal(clean, cairn):
    import pty
    import select
    emu = clean
    env = dict(cairn.env)
    env.update(_mfa_setup(cairn, emu))
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(str(cairn.tmp))
        os.execve(cairn.path, [cairn.path, 'whoami', '--profile', 'mfa', '--json',
                               *cairn.endpoint], env)
    out = b''
    sent = False
    while True:
        r, _, _ = select.select([fd], [], [], 20)
        if not r:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not sent and b'Enter MFA code for arn:aws:iam::123456789012:mfa/alice' in out:
            os.write(fd, b'123456\n')
            sent = True
    _, status = os.waitpid(pid, 0)
    assert sent, out
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert b'assumed-role/deploy-mfa' in out, out
    assert _calls(emu).get('sts:AssumeRole') == 1


# ---- Fn::GetAZs ---------------------------------------------------------------

AZ_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.60.0.0/16
  SubnetA:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.60.0.0/24
      AvailabilityZone: !Select [0, !GetAZs ""]
  SubnetB:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.60.1.0/24
      AvailabilityZone: !Select [1, !GetAZs ""]
  SubnetC:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.60.2.0/24
      AvailabilityZone: !Select [2, !GetAZs ""]
"""

TOKYO = ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d',
         {'name': 'ap-northeast-1-tpe-1a', 'type': 'local-zone'},
         {'name': 'ap-northeast-1b', 'state': 'impaired'}]


def test_getazs_uses_the_account_zones(clean, cairn):
    emu = clean
    emu.control('config', {'availability_zones': {'ap-northeast-1': TOKYO}})
    tpl = cairn.tmp / 'azs.yaml'
    tpl.write_text(AZ_TEMPLATE)
    common = [*cairn.endpoint, '--region', 'ap-northeast-1', '--state', str(cairn.tmp / 'azs.db')]
    # the plan shows the zones AWS has, not <region>a/b/c
    r = cairn('plan', str(tpl), *common)
    assert r.rc == 0, r
    assert '"ap-northeast-1c"' in r.out and '"ap-northeast-1d"' in r.out, r
    assert 'ap-northeast-1b' not in r.out and 'tpe' not in r.out, r
    emu.control('calls', method='DELETE')
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    # asked once per run, though three subnets use it
    assert _calls(emu).get('ec2:DescribeAvailabilityZones') == 1, _calls(emu)
    ec2 = emu.client('ec2', region='ap-northeast-1')
    zones = sorted(s['AvailabilityZone'] for s in ec2.describe_subnets()['Subnets']
                   if s['CidrBlock'].startswith('10.60.'))   # not a seeded default subnet
    assert zones == ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d']
    # and the next plan agrees with what was applied
    r = cairn('plan', str(tpl), *common, '--detailed-exitcode')
    assert r.rc == 0, r


def test_validate_does_not_ask_aws_for_zones(clean, cairn):
    emu = clean
    tpl = cairn.tmp / 'azs.yaml'
    tpl.write_text(AZ_TEMPLATE)
    emu.control('calls', method='DELETE')
    r = cairn('validate', str(tpl), '--region', 'ap-northeast-1',
              extra_env={'AWS_ENDPOINT_URL': emu.url})
    assert r.rc == 0, r
    assert _calls(emu) == {}


def _jwt_exp(sub, exp):
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip('=')
    return (f"{enc({'alg': 'RS256'})}."
            f"{enc({'sub': sub, 'aud': 'sts.amazonaws.com', 'exp': int(exp)})}.c2ln")


def test_web_identity_token_file_is_read_again_at_each_refresh(clean, cairn):
    """The README's CI recipe: the OIDC token lives a few seconds, the STS
    session too; a background loop rewrites the file; the apply outlives
    several tokens and completes, each refresh using the current file."""
    import time as _time
    emu = clean
    role = emu.client('iam').create_role(RoleName='deploy-oidc',
                                         AssumeRolePolicyDocument=TRUST)['Role']
    tok = cairn.tmp / 'oidc'
    tok.write_text(_jwt_exp('repo:x/y', _time.time() + 3))
    stop = threading.Event()

    def remint():
        while not stop.wait(1.0):
            new = cairn.tmp / 'oidc.new'
            new.write_text(_jwt_exp('repo:x/y', _time.time() + 3))
            os.replace(new, tok)
    t = threading.Thread(target=remint, daemon=True)
    t.start()
    emu.control('config', {'sts_credentials_seconds': 2, 'latency': {'logs': 0.4, 'ec2': 0.4}})
    try:
        r = _apply(cairn, emu, 'remint', extra_env={
            'AWS_ACCESS_KEY_ID': '', 'AWS_SECRET_ACCESS_KEY': '',
            'AWS_WEB_IDENTITY_TOKEN_FILE': str(tok), 'AWS_ROLE_ARN': role['Arn']})
    finally:
        stop.set()
        emu.control('config', {'sts_credentials_seconds': None, 'latency': {}})
    assert r.rc == 0, r
    assert _calls(emu).get('sts:AssumeRoleWithWebIdentity', 0) >= 2


def test_stale_web_identity_token_is_a_clear_error(clean, cairn):
    import time as _time
    emu = clean
    role = emu.client('iam').create_role(RoleName='deploy-stale',
                                         AssumeRolePolicyDocument=TRUST)['Role']
    tok = cairn.tmp / 'oidc'
    tok.write_text(_jwt_exp('repo:x/y', _time.time() - 60))
    r = cairn('whoami', *cairn.endpoint, extra_env={
        'AWS_ACCESS_KEY_ID': '', 'AWS_SECRET_ACCESS_KEY': '',
        'AWS_WEB_IDENTITY_TOKEN_FILE': str(tok), 'AWS_ROLE_ARN': role['Arn']})
    assert r.rc == 1, r
    assert 'web identity' in r.err and 'ExpiredTokenException' in r.err, r
