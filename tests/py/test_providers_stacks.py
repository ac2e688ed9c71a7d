"""The shipped stacks through the real binary and every provider they use:
apply (with a share of calls throttled), drift (nothing moved), destroy,
and the emulator's inventory checked before and after, with botocore
looking at what the apply made.

Environment: CAIRN_BUILD (meson build directory; default build/) or CAIRN
(the binary).
"""
import json
import os
import subprocess
import tempfile
import urllib.request

import botocore.config
import botocore.session
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get('CAIRN_BUILD', os.path.join(ROOT, 'build'))
CAIRN = os.environ.get('CAIRN', os.path.join(BUILD, 'cairn'))
RUN = os.path.join(ROOT, 'tests', 'emulator', 'run')

pytestmark = pytest.mark.skipif(not os.path.exists(CAIRN), reason=f'{CAIRN} is not built')


@pytest.fixture(scope='module')
def emu():
    proc = subprocess.Popen(['/usr/bin/python3', RUN, '--port', '0'],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith('listening on '), line
    url = line.split()[-1]
    yield url
    proc.terminate()
    proc.wait(10)


def control(url, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f'{url}/_emulator/{path}', data=data,
                                 method='POST' if data is not None else 'GET')
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b'null')


def cairn(url, *args, timeout=300):
    env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
               AWS_REGION='us-east-1', CAIRN_POLL_MIN_MS='50', CAIRN_POLL_MAX_MS='200',
               NO_COLOR='1')
    env.pop('AWS_PROFILE', None)
    return subprocess.run([CAIRN, *args, '--endpoint-url', url], capture_output=True,
                          text=True, env=env, timeout=timeout)


@pytest.mark.parametrize('stack', ['prefect-ecs-worker', 'prefect-agent-dedicated-ip'])
def test_stack_apply_drift_destroy(emu, stack):
    control(emu, 'reset', {})
    tpl = os.path.join(ROOT, 'stacks', f'{stack}.yaml')
    with tempfile.TemporaryDirectory() as d:
        common = [tpl, '--state', os.path.join(d, 's.db'), '--stack', 'st',
                  '--param', 'PrefectApiKey=pnu_secret_value_123',
                  '--param', 'PrefectApiUrl=https://api.example.com/api']
        control(emu, 'config', {'throttle_rate': 0.2, 'seed': 3})
        # the client gives up after --max-attempts throttled answers in a
        # row (standard mode: 3); 0.2^8 makes that vanishingly rare here
        p = cairn(emu, 'apply', *common, '--auto-approve', '--poll-interval-ms', '50',
                  '--max-attempts', '8')
        control(emu, 'config', {'throttle_rate': 0})
        assert p.returncode == 0, p.stdout + p.stderr
        assert 'pnu_secret_value_123' not in p.stdout + p.stderr
        inv = control(emu, 'inventory')
        assert inv, 'nothing was created'

        # what the apply made, seen by botocore: every tagged EC2 resource
        # carries cairn's tags
        s = botocore.session.get_session()
        ec2 = s.create_client('ec2', region_name='us-east-1', endpoint_url=emu,
                              aws_access_key_id='test', aws_secret_access_key='test',
                              config=botocore.config.Config(retries={'max_attempts': 1}))
        vpcs = ec2.describe_vpcs(Filters=[{'Name': 'tag:cairn:stack', 'Values': ['st']}])
        assert len(vpcs['Vpcs']) == 1
        sm = s.create_client('secretsmanager', region_name='us-east-1', endpoint_url=emu,
                             aws_access_key_id='test', aws_secret_access_key='test')
        secrets = sm.list_secrets()['SecretList']
        assert any(sm.get_secret_value(SecretId=x['ARN'])['SecretString'] ==
                   'pnu_secret_value_123' for x in secrets)

        p = cairn(emu, 'drift', *common)
        assert p.returncode == 0, p.stdout + p.stderr

        p = cairn(emu, 'destroy', *common, '--auto-approve', '--poll-interval-ms', '50')
        assert p.returncode == 0, p.stdout + p.stderr
        left = control(emu, 'inventory')
        assert left == [], left
