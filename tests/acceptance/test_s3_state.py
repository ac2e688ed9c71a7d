"""The stack's state in S3 (issue 10): the real binary against the emulator's
S3, checked through botocore (the object, its ETag, versions, the lock object)
and the emulator's inventory, never through cairn's own word alone."""
import json
import os
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from test_apply_stacks import inventory_counts, live_inventory

BUCKET = 'team-state'

# small, quick to apply, five resources of four kinds, two of them tag-found
TEMPLATE = """\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.7.0.0/16}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.7.1.0/24}
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties: {GroupDescription: s3 state test, VpcId: !Ref Vpc}
  Rt:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref Vpc}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 7}
Outputs:
  VpcId: {Value: !Ref Vpc}
"""
WANT = {('ec2', 'vpc'): 1, ('ec2', 'subnet'): 1, ('ec2', 'security-group'): 1,
        ('ec2', 'route-table'): 1, ('logs', 'log-group'): 1}


def aws_counts(emu):
    """The inventory without the state bucket and its objects."""
    return {k: v for k, v in inventory_counts(emu).items() if k[0] != 's3'}


@pytest.fixture
def s3(emu):
    return emu.client('s3')


@pytest.fixture
def stack(emu, cairn, s3):
    """A fresh emulator with the state bucket; the template on disk."""
    emu.reset()
    emu.control('config', {'latency': {'*': 0.0}, 'error_rate': 0, 'throttle_rate': 0,
                           'drop_rate': 0, 'drop_after_rate': 0})
    s3.create_bucket(Bucket=BUCKET)
    tpl = cairn.tmp / 'web.yaml'
    tpl.write_text(TEMPLATE)
    return str(tpl)


def url(key='cairn/web.db'):
    return f's3://{BUCKET}/{key}'


def remote_resources(s3, tmp, key='cairn/web.db'):
    """logical id -> (type, physical id, status) of the state object in S3."""
    body = s3.get_object(Bucket=BUCKET, Key=key)['Body'].read()
    path = tmp / f'peek-{time.monotonic_ns()}.db'
    path.write_bytes(body)
    db = sqlite3.connect(str(path))
    try:
        rows = db.execute('SELECT logical_id, type, physical_id, status FROM resources').fetchall()
        serial = db.execute('SELECT serial FROM stack').fetchone()[0]
    finally:
        db.close()
    path.unlink()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}, serial


def live_ids(emu):
    """Ids of what AWS holds beyond the seeded account, state bucket aside."""
    return {r['id'] for r in live_inventory(emu) if r['service'] != 's3'}


def apply(cairn, tpl, *extra, env=None, timeout=120):
    return cairn('apply', tpl, '--auto-approve', *cairn.endpoint, '--state', url(), *extra,
                 extra_env=env, timeout=timeout)


def temp_copies(tmpdir):
    return [n for n in os.listdir(tmpdir) if n.startswith('cairn-state-')]


def test_apply_then_plan_from_another_home(emu, cairn, stack, s3, tmp_path):
    tmpdir = tmp_path / 'tmp'
    tmpdir.mkdir()
    r = apply(cairn, stack, env={'TMPDIR': str(tmpdir)})
    assert r.rc == 0, r
    assert aws_counts(emu) == WANT
    head = s3.head_object(Bucket=BUCKET, Key='cairn/web.db')
    assert head['ServerSideEncryption'] == 'AES256'      # SSE-S3 by default
    res, serial = remote_resources(s3, tmp_path)
    assert sorted(res) == ['Logs', 'Rt', 'Sg', 'Subnet', 'Vpc']
    assert {p for _, p, _ in res.values()} <= live_ids(emu)
    assert all(s == 'created' for _, _, s in res.values())
    # no lock object left, no temporary copy left behind, nothing local
    assert 'Contents' not in s3.list_objects_v2(Bucket=BUCKET, Prefix='cairn/web.db.lock')
    assert temp_copies(tmpdir) == []
    assert not (cairn.tmp / 'state').exists()

    # "CI": another HOME and working directory, no local file at all
    ci = tmp_path / 'ci'
    (ci / 'home').mkdir(parents=True)
    (ci / 'web.yaml').write_text(TEMPLATE)
    env = dict(cairn.env, HOME=str(ci / 'home'), TMPDIR=str(tmpdir))
    cairn.settle()      # the visibility delay of what the last apply made
    p = subprocess.run([cairn.path, 'plan', 'web.yaml', '--detailed-exitcode',
                        *cairn.endpoint, '--state', url()], cwd=str(ci), env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert 'No changes' in p.stdout
    # a plan reads without the lock and writes nothing back
    assert s3.head_object(Bucket=BUCKET, Key='cairn/web.db')['ETag'] == head['ETag']
    o = subprocess.run([cairn.path, 'output', 'VpcId', *cairn.endpoint, '--state', url()],
                       cwd=str(ci), env=env, capture_output=True, text=True, timeout=60)
    assert o.returncode == 0 and o.stdout.strip().strip('"') == res['Vpc'][1], o
    assert sorted(os.listdir(ci)) == ['home', 'web.yaml']


def test_kms_key_and_cairn_yaml(emu, cairn, stack, s3):
    (cairn.tmp / 'cairn.yaml').write_text(
        f'state:\n  web: s3://{BUCKET}/by-config/{{stack}}.db\n'
        'state_kms_key: alias/cairn-state\n')
    r = cairn('apply', stack, '--auto-approve', *cairn.endpoint)
    assert r.rc == 0, r
    head = s3.head_object(Bucket=BUCKET, Key='by-config/web.db')
    assert (head['ServerSideEncryption'], head['SSEKMSKeyId']) == ('aws:kms', 'alias/cairn-state')
    # CAIRN_STATE wins over cairn.yaml, --state over both
    r = cairn('plan', stack, '--detailed-exitcode', *cairn.endpoint,
              extra_env={'CAIRN_STATE': f's3://{BUCKET}/by-env/{{stack}}.db'})
    assert r.rc == 2, r                      # an empty state there: everything to create
    r = cairn('plan', stack, '--detailed-exitcode', *cairn.endpoint,
              '--state', f's3://{BUCKET}/by-config/web.db',
              extra_env={'CAIRN_STATE': f's3://{BUCKET}/by-env/{{stack}}.db'})
    assert r.rc == 0, r
    bad = cairn('plan', stack, *cairn.endpoint, '--state', 's3://only-a-bucket')
    assert bad.rc == 1 and 's3://BUCKET/KEY' in bad.err, bad


def test_two_applies_at_once_one_proceeds(emu, cairn, stack, s3):
    emu.control('config', {'latency': {'ec2:CreateVpc': 1.5}})
    env = dict(cairn.env)
    args = [cairn.path, 'apply', stack, '--auto-approve', *cairn.endpoint, '--state', url()]
    procs = [subprocess.Popen(args, cwd=str(cairn.tmp), env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    rcs = sorted(p.returncode for p in procs)
    assert rcs == [0, 1], outs
    loser = outs[[p.returncode for p in procs].index(1)]
    assert 'is locked by' in loser[1] and 'cairn apply' in loser[1], loser
    assert 'lock id' in loser[1]
    assert aws_counts(emu) == WANT               # never both: one VPC
    # a waiter gets its turn once the holder is done
    emu.control('config', {'latency': {'ec2:CreateVpc': 0.0, 'logs:PutRetentionPolicy': 1.5}})
    stack2 = cairn.tmp / 'web.yaml'
    stack2.write_text(TEMPLATE.replace('RetentionInDays: 7', 'RetentionInDays: 14'))
    first = subprocess.Popen(args, cwd=str(cairn.tmp), env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while time.time() < deadline and 'Contents' not in s3.list_objects_v2(
            Bucket=BUCKET, Prefix='cairn/web.db.lock'):
        time.sleep(0.05)
    waiter = subprocess.run(args + ['--lock-timeout', '60s'], cwd=str(cairn.tmp), env=env,
                            text=True, capture_output=True, timeout=120)
    out1 = first.communicate(timeout=120)
    assert first.returncode == 0, out1
    assert waiter.returncode == 0, (waiter.stdout, waiter.stderr)
    assert 'waiting' in waiter.stderr or 'No changes' in waiter.stdout
    assert aws_counts(emu) == WANT


def put_lock(s3, lock_id, host, expires_in):
    now = int(time.time())
    body = {'ID': lock_id, 'Holder': 'alice', 'Host': host, 'Pid': 4242,
            'Command': 'cairn apply web.yaml', 'Created': '2026-01-01T00:00:00Z',
            'Expires': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now + expires_in)),
            'ExpiresUnix': now + expires_in, 'Lease': 600, 'State': url()}
    s3.put_object(Bucket=BUCKET, Key='cairn/web.db.lock', Body=json.dumps(body).encode())


def test_lock_held_elsewhere_lease_and_unlock(emu, cairn, stack, s3):
    put_lock(s3, 'aaaabbbbccccdddd', 'laptop-of-alice', 600)
    r = apply(cairn, stack)
    assert r.rc == 1, r
    assert 'alice@laptop-of-alice' in r.err and 'aaaabbbbccccdddd' in r.err, r
    assert aws_counts(emu) == {}
    # unlock wants the right id
    u = cairn('unlock', '0000000000000000', *cairn.endpoint, '--state', url())
    assert u.rc == 1 and 'aaaabbbbccccdddd' in u.err, u
    assert 'Contents' in s3.list_objects_v2(Bucket=BUCKET, Prefix='cairn/web.db.lock')
    u = cairn('unlock', 'aaaabbbbccccdddd', *cairn.endpoint, '--state', url())
    assert u.rc == 0, u
    assert 'Contents' not in s3.list_objects_v2(Bucket=BUCKET, Prefix='cairn/web.db.lock')
    # a lease about to run out: --lock-timeout waits past it and takes over
    put_lock(s3, 'eeeeffff00001111', 'ci-runner-7', 2)
    t0 = time.time()
    r = apply(cairn, stack, '--lock-timeout', '30s')
    assert r.rc == 0, r
    assert time.time() - t0 >= 1.5
    assert 'taking over the lock eeeeffff00001111' in r.err, r
    assert aws_counts(emu) == WANT
    assert 'Contents' not in s3.list_objects_v2(Bucket=BUCKET, Prefix='cairn/web.db.lock')


def test_stale_writer_refused_nothing_lost(emu, cairn, stack, s3, tmp_path):
    assert apply(cairn, stack).rc == 0
    # someone writes the object behind cairn's back while an apply runs
    stack_text = TEMPLATE.replace('RetentionInDays: 7', 'RetentionInDays: 30')
    (cairn.tmp / 'web.yaml').write_text(stack_text)
    emu.control('config', {'latency': {'logs:PutRetentionPolicy': 2.0}})
    tmpdir = tmp_path / 'tmp'
    tmpdir.mkdir()
    env = dict(cairn.env, TMPDIR=str(tmpdir))
    p = subprocess.Popen([cairn.path, 'apply', stack, '--auto-approve', *cairn.endpoint,
                          '--state', url()], cwd=str(cairn.tmp), env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    rogue = b'written by someone who ignored the lock'
    s3.put_object(Bucket=BUCKET, Key='cairn/web.db', Body=rogue)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 1, (out, err)
    assert 'changed by someone else' in err and 'not overwriting' in err, err
    # the other writer's object is intact ...
    assert s3.get_object(Bucket=BUCKET, Key='cairn/web.db')['Body'].read() == rogue
    # ... and cairn's own record is kept locally, where the message says
    kept = temp_copies(tmpdir)
    assert len(kept) == 1 and os.path.join(str(tmpdir), kept[0]) in err
    db = sqlite3.connect(os.path.join(str(tmpdir), kept[0], 'state.db'))
    rows = dict(db.execute('SELECT logical_id, physical_id FROM resources').fetchall())
    db.close()
    assert set(rows) == {'Logs', 'Rt', 'Sg', 'Subnet', 'Vpc'}
    assert set(rows.values()) <= live_ids(emu)
    # and the lock was still released
    assert 'Contents' not in s3.list_objects_v2(Bucket=BUCKET, Prefix='cairn/web.db.lock')
    # the kept copy is never cleaned up by a later run
    r = cairn('plan', stack, *cairn.endpoint, '--state', url(), '--refresh=false',
              extra_env={'TMPDIR': str(tmpdir)})
    assert temp_copies(tmpdir) == kept


def test_kill9_at_random_instants(emu, cairn, stack, s3, tmp_path):
    """kill -9 during an apply with S3 state, then apply again: exactly the
    template's resources, the S3 state naming exactly them."""
    trials = int(os.environ.get('CAIRN_S3_CRASH_TRIALS', '20'))
    rng = random.Random(int(os.environ.get('CAIRN_CRASH_SEED', '11')))
    tmpdir = tmp_path / 'tmp'
    tmpdir.mkdir()
    env = dict(cairn.env, CAIRN_STATE_UPLOAD_INTERVAL='0.2', CAIRN_STATE_LOCK_LEASE='3',
               TMPDIR=str(tmpdir))
    args = [cairn.path, 'apply', stack, '--auto-approve', *cairn.endpoint, '--state', url()]
    for t in range(trials):
        emu.reset()
        emu.control('config', {'latency': {'ec2': 0.08, 'logs': 0.08, 's3': 0.01}})
        s3.create_bucket(Bucket=BUCKET)
        p = subprocess.Popen(args, cwd=str(cairn.tmp), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.02, 1.2))
        p.send_signal(signal.SIGKILL)
        p.wait()
        time.sleep(0.3)  # past the emulator's visibility delay (see the Ctrl-C test)
        # the dead holder's lock (same host, process gone) is taken over at once
        r = subprocess.run(args, cwd=str(cairn.tmp), env=env, text=True, capture_output=True,
                           timeout=120)
        assert r.returncode == 0, (t, r.stdout[-2000:], r.stderr[-2000:])
        assert aws_counts(emu) == WANT, (t, aws_counts(emu))
        res, _ = remote_resources(s3, tmp_path)
        assert sorted(res) == ['Logs', 'Rt', 'Sg', 'Subnet', 'Vpc'], (t, res)
        assert {p_ for _, p_, _ in res.values()} <= live_ids(emu), t
        assert all(s == 'created' for _, _, s in res.values()), (t, res)
        assert 'Contents' not in s3.list_objects_v2(Bucket=BUCKET, Prefix='cairn/web.db.lock')
        # the killed run's private copy (it holds the state's HMAC key) is
        # removed by the next run
        left = temp_copies(tmpdir)
        assert left == [], (t, p.pid, [(d, os.listdir(tmpdir / d)) for d in left],
                            r.stderr[-1500:])


@pytest.mark.parametrize('fault', ['error_rate', 'throttle_rate', 'drop_rate', 'drop_after_rate',
                                   'slow_put'])
def test_s3_faults_state_ends_equal_to_aws(emu, cairn, stack, s3, tmp_path, fault):
    if fault == 'slow_put':
        emu.control('config', {'latency': {'s3:PutObject': 0.7, 'ec2': 0.1}})
    else:
        emu.control('config', {fault: {'s3': 0.3},
                               'latency': {'s3:PutObject': 0.05, 'ec2': 0.1}})
    env = {'CAIRN_STATE_UPLOAD_INTERVAL': '0.1'}
    r = apply(cairn, stack, '--max-attempts', '8', env=env)
    emu.control('config', {fault: 0} if fault != 'slow_put' else {'latency': {'*': 0.0}})
    assert r.rc == 0, r
    calls = emu.control('calls')
    assert calls.get('s3:PutObject', 0) >= 3, calls   # lock, uploads, faults met
    res, _ = remote_resources(s3, tmp_path)
    assert sorted(res) == ['Logs', 'Rt', 'Sg', 'Subnet', 'Vpc'], res
    assert {p for _, p, _ in res.values()} == live_ids(emu)
    assert aws_counts(emu) == WANT
    # the next run agrees that nothing is left to do
    r = cairn('plan', stack, '--detailed-exitcode', *cairn.endpoint, '--state', url())
    assert r.rc == 0, r


def test_push_pull_migrate_history(emu, cairn, stack, s3, tmp_path):
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={'Status': 'Enabled'})
    local = str(cairn.tmp / 'local.db')
    r = cairn('apply', stack, '--auto-approve', *cairn.endpoint, '--state', local)
    assert r.rc == 0, r
    m = cairn('state', 'migrate', '--to', url(), '--state', local, *cairn.endpoint)
    assert m.rc == 0, m
    res, serial = remote_resources(s3, tmp_path)
    assert sorted(res) == ['Logs', 'Rt', 'Sg', 'Subnet', 'Vpc']
    # the remote moves on; pushing the older local copy is refused
    (cairn.tmp / 'web.yaml').write_text(TEMPLATE.replace('RetentionInDays: 7',
                                                         'RetentionInDays: 14'))
    assert apply(cairn, stack).rc == 0
    _, newer = remote_resources(s3, tmp_path)
    assert newer > serial
    before = s3.head_object(Bucket=BUCKET, Key='cairn/web.db')['ETag']
    p = cairn('state', 'push', local, '--state', url(), *cairn.endpoint)
    assert p.rc == 1 and 'newer' in p.err, p
    assert s3.head_object(Bucket=BUCKET, Key='cairn/web.db')['ETag'] == before
    # pull over the older local copy is fine; the reverse is refused
    p = cairn('state', 'pull', local, '--state', url(), *cairn.endpoint)
    assert p.rc == 0, p
    db = sqlite3.connect(local)
    assert db.execute('SELECT serial FROM stack').fetchone()[0] == newer
    db.close()
    # history lists the bucket's versions of the object
    h = cairn('state', 'history', '--versions', '--json', '--state', url(), *cairn.endpoint)
    assert h.rc == 0, h
    got = [v['VersionId'] for v in json.loads(h.out)['versions']]
    want = [v['VersionId'] for v in s3.list_object_versions(
        Bucket=BUCKET, Prefix='cairn/web.db')['Versions'] if v['Key'] == 'cairn/web.db']
    assert got == want and len(got) >= 2
    # an old version can be read back
    old = cairn('state', 'pull', str(cairn.tmp / 'old.db'), '--version-id', got[-1],
                '--state', url(), *cairn.endpoint)
    assert old.rc == 0, old
    db = sqlite3.connect(str(cairn.tmp / 'old.db'))
    assert db.execute('SELECT serial FROM stack').fetchone()[0] == serial
    db.close()


def test_lease_renewed_while_a_long_apply_runs(emu, cairn, stack, s3):
    """A 2 s lease and an apply that takes longer: the holder renews it, so
    a second apply never sees it expired and never takes it over."""
    emu.control('config', {'latency': {'ec2:CreateVpc': 5.0}})
    env = dict(cairn.env, CAIRN_STATE_LOCK_LEASE='2')
    args = [cairn.path, 'apply', stack, '--auto-approve', *cairn.endpoint, '--state', url()]
    first = subprocess.Popen(args, cwd=str(cairn.tmp), env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while time.time() < deadline and 'Contents' not in s3.list_objects_v2(
            Bucket=BUCKET, Prefix='cairn/web.db.lock'):
        time.sleep(0.05)
    etag0 = s3.head_object(Bucket=BUCKET, Key='cairn/web.db.lock')['ETag']
    time.sleep(3.0)          # past the first lease
    second = subprocess.run(args, cwd=str(cairn.tmp), env=env, text=True,
                            capture_output=True, timeout=60)
    assert second.returncode == 1 and 'is locked by' in second.stderr, second.stderr
    assert 'taking over' not in second.stderr
    lock = json.loads(s3.get_object(Bucket=BUCKET, Key='cairn/web.db.lock')['Body'].read())
    assert lock['ExpiresUnix'] > time.time()               # renewed, not expired
    assert s3.head_object(Bucket=BUCKET, Key='cairn/web.db.lock')['ETag'] != etag0
    out = first.communicate(timeout=60)
    assert first.returncode == 0, out
    assert aws_counts(emu) == WANT


def test_ctrl_c_saves_the_state_and_unlocks(emu, cairn, stack, s3, tmp_path):
    emu.control('config', {'latency': {'logs:CreateLogGroup': 3.0}})
    p = subprocess.Popen([cairn.path, 'apply', stack, '--auto-approve', *cairn.endpoint,
                          '--state', url()], cwd=str(cairn.tmp), env=cairn.env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # interrupt once the EC2 side is done and the log group is in flight
    deadline = time.time() + 20
    while time.time() < deadline and aws_counts(emu).get(('ec2', 'route-table'), 0) == 0:
        time.sleep(0.05)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode != 0 or 'Apply complete' in out, (out, err)
    # past the emulator's visibility delay: a refresh that does not yet see
    # what was just created would take it for gone (not this test's subject)
    time.sleep(0.5)
    res, _ = remote_resources(s3, tmp_path)
    # everything AWS has is recorded in S3, and the lock is gone
    assert {p_ for _, p_, _ in res.values()} == live_ids(emu)
    assert 'Vpc' in res and 'Contents' not in s3.list_objects_v2(
        Bucket=BUCKET, Prefix='cairn/web.db.lock')
    r = apply(cairn, stack)
    assert r.rc == 0, r
    assert aws_counts(emu) == WANT


def test_push_refuses_another_lineage(emu, cairn, stack, s3, tmp_path):
    assert apply(cairn, stack).rc == 0
    # an unrelated state of the same stack name (made elsewhere, from scratch)
    other = str(cairn.tmp / 'other.db')
    r = cairn('apply', stack, '--auto-approve', *cairn.endpoint, '--state', other)
    assert r.rc == 0, r
    for _ in range(3):       # a higher serial than the remote: still refused
        cairn('apply', stack, '--auto-approve', *cairn.endpoint, '--state', other)
    before = s3.head_object(Bucket=BUCKET, Key='cairn/web.db')['ETag']
    p = cairn('state', 'push', other, '--state', url(), *cairn.endpoint)
    assert p.rc == 1 and 'different states' in p.err, p
    assert s3.head_object(Bucket=BUCKET, Key='cairn/web.db')['ETag'] == before
    p = cairn('state', 'pull', other, '--state', url(), *cairn.endpoint)
    assert p.rc == 1 and 'different states' in p.err, p
    p = cairn('state', 'push', other, '--force', '--state', url(), *cairn.endpoint)
    assert p.rc == 0, p
    assert s3.head_object(Bucket=BUCKET, Key='cairn/web.db')['ETag'] != before


@pytest.mark.parametrize('bucket_region,stack_region', [('eu-west-1', 'us-east-1'),
                                                        ('us-east-1', 'eu-west-1')])
def test_state_bucket_in_another_region(emu, cairn, stack, bucket_region, stack_region):
    """The state bucket need not be in the profile's Region: S3's redirect
    (301 PermanentRedirect with x-amz-bucket-region) is followed once per
    run, then every lock, read and conditional write goes to the bucket's
    Region directly."""
    bucket = f'state-{bucket_region}'
    oracle = emu.client('s3', region=bucket_region)
    if bucket_region == 'us-east-1':
        oracle.create_bucket(Bucket=bucket)
    else:
        oracle.create_bucket(Bucket=bucket, CreateBucketConfiguration={
            'LocationConstraint': bucket_region})
    where = f's3://{bucket}/x/web.db'
    env = {'AWS_REGION': stack_region, 'CAIRN_LOG': 'debug'}
    r = cairn('apply', stack, '--auto-approve', *cairn.endpoint, '--state', where,
              extra_env=env)
    assert r.rc == 0, r
    assert r.err.count(f'bucket {bucket} is in {bucket_region}') == 1, r.err
    body = oracle.get_object(Bucket=bucket, Key='x/web.db')['Body'].read()
    assert body.startswith(b'SQLite format 3')
    assert 'Contents' not in oracle.list_objects_v2(Bucket=bucket, Prefix='x/web.db.lock')
    applied = aws_counts(emu)     # (a Region's default VPC comes on its first use)
    p = cairn('plan', stack, '--detailed-exitcode', *cairn.endpoint, '--state', where,
              extra_env={'AWS_REGION': stack_region})
    assert p.rc == 0, p
    d = cairn('destroy', stack, '--auto-approve', *cairn.endpoint, '--state', where,
              extra_env={'AWS_REGION': stack_region})
    assert d.rc == 0, d
    left = aws_counts(emu)
    assert {k: n - left.get(k, 0) for k, n in applied.items() if n - left.get(k, 0)} == WANT


class _Redirector:
    """A stand-in S3 that answers every request with a redirect (a proxy or
    endpoint misconfigured): `region` in x-amz-bucket-region and the body,
    or nothing at all. Counts what it is sent."""

    def __init__(self, region, first=None):
        import http.server
        import threading
        seen = self.seen = []

        class H(http.server.BaseHTTPRequestHandler):
            def _send(self, status, body, headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header('x-amz-request-id', 'R1')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _answer(self):
                n = int(self.headers.get('Content-Length') or 0)
                if n:
                    self.rfile.read(n)
                scope = self.headers.get('Authorization', '').split('/')[2:3]
                seen.append((self.command, self.path, scope))
                if first is not None:
                    # S3 as it is: the bucket's Region named in the body
                    # only; signed for that Region, the object is missing
                    if scope == [region]:
                        return self._send(404, b'<Error><Code>NoSuchKey</Code><Message>'
                                          b'The specified key does not exist.</Message>'
                                          b'</Error>')
                    return self._send(*first)
                body = b'' if self.command == 'HEAD' or not region else (
                    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect'
                    b'</Code><Message>The bucket you are attempting to access must be '
                    b'addressed using the specified endpoint.</Message><Endpoint>s3.'
                    + region.encode() + b'.amazonaws.com</Endpoint><Bucket>b</Bucket>'
                    b'<RequestId>R1</RequestId><HostId>h</HostId></Error>')
                self.send_response(301)
                if region:
                    self.send_header('x-amz-bucket-region', region)
                self.send_header('x-amz-request-id', 'R1')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _answer

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
        self.url = f'http://127.0.0.1:{self.srv.server_address[1]}'
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.mark.parametrize('hint', ['eu-west-1', ''])
def test_redirects_are_followed_once_never_looped(cairn, hint):
    """A server that keeps redirecting (always to eu-west-1, or without
    saying where): one re-send at most, then a clear error naming the
    bucket, the Region and the status; a redirect without a Region asks
    HeadBucket once and gives up."""
    fake = _Redirector(hint)
    try:
        (cairn.tmp / 'empty.yaml').write_text(
            'Resources:\n  P:\n    Type: AWS::SSM::Parameter\n'
            '    Properties: {Type: String, Value: x}\n')
        r = cairn('plan', 'empty.yaml', '--endpoint-url', fake.url, '--state',
                  's3://elsewhere-bucket/k.db', timeout=60)
    finally:
        fake.close()
    assert r.rc == 1, r
    assert 'elsewhere-bucket' in r.err, r
    if hint:
        assert 'giving up after one redirect' in r.err and 'eu-west-1' in r.err, r
        # the first request signed for us-east-1, the one re-send for eu-west-1
        assert [s[2] for s in fake.seen] == [['us-east-1'], ['eu-west-1']], fake.seen
    else:
        assert 'did not say which region' in r.err and 'HTTP 301' in r.err, r
        assert [s[0] for s in fake.seen] == ['GET', 'HEAD'], fake.seen


AHM = (400, b'<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization '
            b"header is malformed; the region 'us-east-1' is wrong; expecting 'ap-south-1'"
            b'</Message><Region>ap-south-1</Region><RequestId>R1</RequestId></Error>')
TEMP = (307, b'<Error><Code>TemporaryRedirect</Code><Message>Please re-send this request to '
             b'the specified temporary endpoint.</Message><Endpoint>b.s3.ap-south-1.amazonaws'
             b'.com</Endpoint><Bucket>b</Bucket><RequestId>R1</RequestId></Error>',
        [('Location', 'https://b.s3.ap-south-1.amazonaws.com/k.db')])


@pytest.mark.parametrize('first', [AHM, TEMP], ids=['AuthorizationHeaderMalformed', '307'])
def test_region_from_the_error_body(cairn, first):
    """Without x-amz-bucket-region, the Region comes from the body:
    AuthorizationHeaderMalformed's <Region>, a 307's <Endpoint> host."""
    fake = _Redirector('ap-south-1', first=first)
    try:
        (cairn.tmp / 'one.yaml').write_text(
            'Resources:\n  P:\n    Type: AWS::SSM::Parameter\n'
            '    Properties: {Type: String, Value: x}\n')
        r = cairn('plan', 'one.yaml', '--endpoint-url', fake.url, '--state',
                  's3://b/k.db', timeout=60)
    finally:
        fake.close()
    assert r.rc == 0, r
    assert 'P' in r.out and 'create' in r.out, r
    assert [x[2] for x in fake.seen] == [['us-east-1'], ['ap-south-1']], fake.seen
