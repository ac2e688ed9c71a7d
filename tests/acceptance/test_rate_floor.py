"""Apply and destroy at AWS's rate limits (issue 12, point 3): with the
emulator enforcing AWS's documented token buckets (config rate_limits, the
table of data/rate-limits/rate-limits.json; here run 2x faster, rate_scale 2,
and cairn told so with CAIRN_RATE_SCALE), a stack whose calls exceed the
buckets' bursts is applied and destroyed with no throttling error answered
and no call retried; when another client has spent a bucket first, cairn is
throttled a little, empties its bucket and finishes. No timings are asserted
(bench/apply_floor.py measures the wall time against the floor)."""
import os
import re
import subprocess
import sys
import threading
import time

import botocore.exceptions

import pytest

from accept_util import TOP

SCALE = 2
RETRY = re.compile(r' attempt=([2-9]|\d\d+)/')

sys.path.insert(0, os.path.join(TOP, 'tests', 'emulator'))
from emu import ratelimits  # noqa: E402


def mixed(tmp, n):
    path = os.path.join(str(tmp), f'mixed{n}.yaml')
    with open(path, 'w') as f:
        f.write(subprocess.run([sys.executable, os.path.join(TOP, 'bench', 'gen_stack.py'),
                                '--mixed', str(n)], check=True, capture_output=True,
                               text=True).stdout)
    return path


def by_bucket(calls):
    table = ratelimits.documented()
    out = {}
    for key, n in calls.items():
        svc, _, op = key.partition(':')
        b = ratelimits.bucket_for(table, svc, op)
        if b:
            e = out.setdefault(b[0], [0, b[1], b[2]])
            e[0] += n
    return out


@pytest.fixture
def limited(emu):
    emu.control('config', {'rate_limits': True, 'rate_scale': SCALE})
    yield emu
    emu.control('config', {'rate_limits': False, 'rate_scale': 1})


def live(emu):
    # ECS makes its service-linked role on the first CreateCluster; it is
    # the account's, not the stack's
    return {(s, t, i) for s, t, i in
            {(r['service'], r['type'], r['id']) for r in emu.control('inventory')} -
            emu.baseline if 'AWSServiceRoleForECS' not in i}


def test_apply_and_destroy_beyond_the_bursts_are_never_throttled(limited, cairn):
    emu = limited
    tpl = mixed(cairn.tmp, 60)
    env = {'CAIRN_RATE_SCALE': str(SCALE), 'CAIRN_LOG': 'debug'}
    for cmd in ('apply', 'destroy'):
        emu.control('calls', method='DELETE')
        emu.control('throttled', method='DELETE')
        r = cairn(cmd, tpl, '--auto-approve', '--state', 'rl.db', *cairn.endpoint,
                  extra_env=env, timeout=600)
        assert r.rc == 0, r
        calls = emu.control('calls')
        assert emu.control('throttled') == {}, r
        assert not RETRY.findall(r.err), [x for x in r.err.split('\n') if RETRY.search(x)][:5]
        buckets = by_bucket(calls)
        # the test means something only when some buckets had to refill:
        # more calls than their burst
        over = {k: v for k, v in buckets.items() if v[0] > v[1]}
        if cmd == 'apply':
            assert 'logs:CreateLogGroup' in over and 'iam:mutating' in over, buckets
            assert len(live(emu)) >= 60
            # the floor assumes full buckets at the start of each command
            time.sleep(max(v[1] / (v[2] * SCALE) for v in buckets.values()) + 0.2)
        else:
            assert 'logs:DeleteLogGroup' in over and 'iam:mutating' in over, buckets
            assert live(emu) == set()


def test_a_bucket_another_client_spends_costs_a_few_throttles(limited, cairn):
    """Another client of the account spends CreateLogGroup's bucket just as
    cairn starts creating: cairn's next calls are refused, its own bucket
    follows AWS's (emptied) and the rest is paced at the refill rate, so the
    refusals stay few and the apply finishes."""
    emu = limited
    tpl = mixed(cairn.tmp, 40)
    logs = emu.client('logs')
    spent = {'ok': 0, 'refused': 0}

    def other_client():
        deadline = time.time() + 120
        while time.time() < deadline and 'ec2:CreateVpc' not in emu.control('calls'):
            time.sleep(0.005)
        for i in range(5):                  # the documented burst
            try:
                logs.create_log_group(logGroupName=f'/other/client/{i}')
                spent['ok'] += 1
            except botocore.exceptions.ClientError:
                spent['refused'] += 1
    emu.control('calls', method='DELETE')
    t = threading.Thread(target=other_client)
    t.start()
    try:
        r = cairn('apply', tpl, '--auto-approve', '--state', 'spent.db', *cairn.endpoint,
                  extra_env={'CAIRN_RATE_SCALE': str(SCALE), 'CAIRN_LOG': 'debug'},
                  timeout=600)
    finally:
        t.join()
    assert r.rc == 0, r
    thr = emu.control('throttled')
    assert set(thr) <= {'logs:CreateLogGroup'}, thr
    mine = thr.get('logs:CreateLogGroup', 0) - spent['refused']
    # together they asked more than the bucket holds: someone was refused
    assert thr.get('logs:CreateLogGroup', 0) >= 1, (thr, spent)
    # cairn: a few refusals at most, each retried once it had a token
    assert mine <= 4, (thr, spent)
    assert len(RETRY.findall(r.err)) == mine, (thr, spent)
    r = cairn('destroy', tpl, '--auto-approve', '--state', 'spent.db', *cairn.endpoint,
              extra_env={'CAIRN_RATE_SCALE': str(SCALE)}, timeout=600)
    assert r.rc == 0, r
    for i in range(5):
        try:
            logs.delete_log_group(logGroupName=f'/other/client/{i}')
        except botocore.exceptions.ClientError:
            pass
