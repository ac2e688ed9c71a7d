"""Test controls: configuration, fault injection, counters, inventory, reset,
seed, persistence, start-up options and clean shutdown."""
import json
import signal
import time

import botocore.exceptions
import pytest

from conftest import Emulator

TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]})


def code_status(e):
    r = e.value.response
    return r['Error']['Code'], r['ResponseMetadata']['HTTPStatusCode']


def test_config_roundtrip(emulator):
    cfg = emulator.control('config')
    assert cfg['throttle_rate'] == 0 and 'nat_gateway_create' in cfg['async']
    out = emulator.control('config', {'async': {'nat_gateway_create': 30},
                                      'iam_propagation_seconds': 8})
    assert out['async']['nat_gateway_create'] == 30
    assert out['async']['nat_gateway_delete'] == cfg['async']['nat_gateway_delete']  # merged
    assert out['iam_propagation_seconds'] == 8
    emulator.control('config', {'async': cfg['async']})


@pytest.mark.parametrize('service,call,want', [
    ('sts', lambda c: c.get_caller_identity(), ('Throttling', 400)),
    ('logs', lambda c: c.describe_log_groups(), ('ThrottlingException', 400)),
    ('ec2', lambda c: c.describe_availability_zones(), ('RequestLimitExceeded', 503)),
    ('s3', lambda c: c.list_buckets(), ('SlowDown', 503)),
])
def test_throttling_per_protocol(emulator, service, call, want):
    emulator.control('config', {'throttle_rate': 1.0})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(emulator.client(service))
    assert code_status(e) == want


def test_throttle_targets_one_operation(emulator):
    emulator.control('config', {'throttle_rate': {'logs:DescribeLogGroups': 1.0}})
    emulator.client('logs').create_log_group(logGroupName='ok')      # not throttled
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emulator.client('logs').describe_log_groups()
    assert code_status(e) == ('ThrottlingException', 400)
    emulator.client('sts').get_caller_identity()


def test_throttle_rate_is_a_probability(emulator):
    emulator.control('config', {'throttle_rate': {'sts': 0.5}, 'seed': 3})
    emulator.reset()
    ok = bad = 0
    for _ in range(60):
        try:
            emulator.client('sts').get_caller_identity()
            ok += 1
        except botocore.exceptions.ClientError:
            bad += 1
    assert 10 < bad < 50 and ok + bad == 60
    emulator.control('config', {'seed': None})


def test_server_errors(emulator):
    emulator.control('config', {'error_rate': {'logs': 1.0}})
    seen = set()
    for _ in range(20):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            emulator.client('logs').describe_log_groups()
        seen.add(code_status(e))
    assert seen <= {('InternalFailure', 500), ('ServiceUnavailable', 503)}
    assert {s for _, s in seen} == {500, 503}


def test_dropped_connections(emulator):
    emulator.control('config', {'drop_rate': {'sts:GetCallerIdentity': 1.0}})
    with pytest.raises((botocore.exceptions.ConnectionClosedError,
                        botocore.exceptions.EndpointConnectionError)):
        emulator.client('sts').get_caller_identity()
    emulator.client('logs').describe_log_groups()       # other operations unaffected


def test_drop_after_applying(emulator):
    emulator.control('config', {'drop_after_rate': {'logs:CreateLogGroup': 1.0}})
    with pytest.raises((botocore.exceptions.ConnectionClosedError,
                        botocore.exceptions.EndpointConnectionError)):
        emulator.client('logs').create_log_group(logGroupName='applied')
    # the change happened although the client never heard back
    assert {'service': 'logs', 'type': 'log-group', 'id': 'applied', 'region': 'us-east-1'} in \
        emulator.control('inventory')


def test_latency(emulator):
    emulator.control('config', {'latency': {'logs:DescribeLogGroups': 0.3}})
    t = time.monotonic()
    emulator.client('logs').describe_log_groups()
    assert time.monotonic() - t >= 0.3
    t = time.monotonic()
    emulator.client('sts').get_caller_identity()
    assert time.monotonic() - t < 0.3


def test_call_counters(emulator):
    logs = emulator.client('logs')
    logs.create_log_group(logGroupName='c')
    for _ in range(3):
        logs.describe_log_groups()
    emulator.control('config', {'throttle_rate': {'logs:DescribeLogGroups': 1.0}})
    with pytest.raises(botocore.exceptions.ClientError):
        logs.describe_log_groups()                   # attempts that failed count too
    calls = emulator.control('calls')
    assert calls['logs:CreateLogGroup'] == 1 and calls['logs:DescribeLogGroups'] == 4


def test_reset_forgets_everything(emulator):
    emulator.client('logs').create_log_group(logGroupName='r')
    emulator.client('iam').create_role(RoleName='r', AssumeRolePolicyDocument=TRUST)
    assert len(emulator.control('inventory')) == 2
    emulator.reset()
    assert emulator.control('inventory') == [] and emulator.control('calls') == {}


def test_seed_makes_ids_repeatable(emulator):
    emulator.control('config', {'seed': 1234})
    ids = []
    for _ in range(2):
        emulator.reset()
        ids.append(emulator.client('iam').create_role(
            RoleName='seeded', AssumeRolePolicyDocument=TRUST)['Role']['RoleId'])
    emulator.control('config', {'seed': None})
    assert ids[0] == ids[1]


def test_unknown_control_is_404(emulator):
    import urllib.error
    with pytest.raises(urllib.error.HTTPError) as e:
        emulator.control('teleport')
    assert e.value.code == 404


def test_persistence_roundtrip(tmp_path):
    state = tmp_path / 'state'
    emu = Emulator(['--state-dir', str(state)])
    try:
        emu.client('iam').create_role(RoleName='kept', AssumeRolePolicyDocument=TRUST)
        emu.client('logs').create_log_group(logGroupName='kept')
        emu.client('s3').create_bucket(Bucket='kept')
        emu.client('s3').put_object(Bucket='kept', Key='k', Body=b'\x00bin')
        emu.client('secretsmanager').create_secret(Name='kept', SecretString='s')
        before = emu.control('inventory')
    finally:
        assert emu.stop() == 0
    assert (state / 'state.json').exists()
    emu = Emulator(['--state-dir', str(state)])
    try:
        assert emu.control('inventory') == before
        assert emu.client('s3').get_object(Bucket='kept', Key='k')['Body'].read() == b'\x00bin'
        assert emu.client('secretsmanager').get_secret_value(SecretId='kept')['SecretString'] == 's'
    finally:
        emu.stop()


def test_config_file_and_sigint(tmp_path):
    cfg = tmp_path / 'cfg.json'
    cfg.write_text(json.dumps({'iam_propagation_seconds': 12, 'async': {'nat_gateway_create': 60},
                               'credentials': {'AKIADEMO': {'secret': 'demo',
                                                            'account': '111122223333'}}}))
    emu = Emulator(['--config', str(cfg)])
    try:
        got = emu.control('config')
        assert got['iam_propagation_seconds'] == 12 and got['async']['nat_gateway_create'] == 60
        ident = emu.client('sts', access_key='AKIADEMO', secret_key='demo').get_caller_identity()
        assert ident['Account'] == '111122223333'
        assert emu.client('sts').get_caller_identity()['Account'] == '123456789012'
    finally:
        emu.proc.send_signal(signal.SIGINT)
        assert emu.proc.wait(10) == 0


def test_bad_config_file_fails_cleanly(tmp_path):
    import subprocess
    from conftest import RUN
    cfg = tmp_path / 'bad.json'
    cfg.write_text('{nope')
    p = subprocess.run(['/usr/bin/python3', RUN, '--port', '0', '--config', str(cfg)],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and 'cannot read --config' in p.stderr


def test_persistence_roundtrip_all_services(tmp_path):
    """The interface promises JSON-able stores from every service module."""
    state = tmp_path / 'state'
    emu = Emulator(['--state-dir', str(state)])
    try:
        vpc = emu.client('ec2').create_vpc(CidrBlock='10.9.0.0/16')['Vpc']['VpcId']
        emu.client('ecs').create_cluster(clusterName='kept')
        emu.client('ecr').create_repository(repositoryName='kept')
        before = emu.control('inventory')
    finally:
        assert emu.stop() == 0
    emu = Emulator(['--state-dir', str(state)])
    try:
        assert emu.control('inventory') == before
        vpcs = emu.client('ec2').describe_vpcs(VpcIds=[vpc])['Vpcs']
        assert vpcs[0]['CidrBlock'] == '10.9.0.0/16'
    finally:
        emu.stop()


def test_corrupt_state_file_fails_cleanly(tmp_path):
    import subprocess
    from conftest import RUN
    (tmp_path / 'state.json').write_text('{"stores": [1, 2')
    p = subprocess.run(['/usr/bin/python3', RUN, '--port', '0', '--state-dir', str(tmp_path)],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode == 2 and 'cannot load' in p.stderr and 'Traceback' not in p.stderr


def test_state_saved_soon_after_a_change(tmp_path):
    emu = Emulator(['--state-dir', str(tmp_path)])
    try:
        emu.client('logs').create_log_group(logGroupName='soon')
        deadline = time.monotonic() + 3
        saved = None
        while time.monotonic() < deadline:
            try:
                saved = json.loads((tmp_path / 'state.json').read_text())
                if 'soon' in saved['stores'].get('logs', {}).get('regions', {}).get('us-east-1', {}):
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        assert 'soon' in saved['stores']['logs']['regions']['us-east-1']   # written while still running
    finally:
        emu.stop()


def test_realistic_config_file_loads(tmp_path):
    import os
    from conftest import HERE
    emu = Emulator(['--config', os.path.join(HERE, 'config-realistic.json')])
    try:
        cfg = emu.control('config')
        assert cfg['async']['nat_gateway_create'] == 90 and cfg['iam_propagation_seconds'] == 8
        assert cfg['latency']['*'] > 0
    finally:
        emu.stop()
