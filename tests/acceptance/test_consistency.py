"""cairn under AWS's eventual consistency (issues 15/16): with the emulator's
visibility delays raised to ~1.5 s (a resource just created answers NotFound,
or ECS DescribeServices MISSING, to cairn's reads for that long; the tests'
own botocore checks are exempt), a resource not yet visible is never taken
for gone, nor missed after a crash:

- apply, then at once `plan --detailed-exitcode` finds nothing to do and a
  second apply makes no Create* call (counted by GET /_emulator/calls);
- a kill -9 right after CreateService / CreateLogGroup (AWS did it, the state
  has not recorded it), then `destroy` at once: it finishes in bounded time
  and leaves the account as seeded.

See src/exec/settle.c for what AWS documents and what cairn does."""
import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest

from accept_util import TOP
from test_apply_stacks import PARAMS, inventory_counts, live_inventory

WORKER = os.path.join(TOP, 'stacks', 'prefect-ecs-worker.yaml')
ECR = os.path.join(TOP, 'examples', 'ecr-repository.yaml')

DELAY = 1.5
SLOW = {s: DELAY for s in ('ec2', 'iam', 'secretsmanager', 'logs', 'ecr', 'ecs')}
# well above DELAY, far below the 20 s cairn waits on AWS by default
ENV = {'CAIRN_SETTLE_SECONDS': '8'}
CREATES = re.compile(r':(Create|Register|Allocate|Run)')


@pytest.fixture
def slow(emu):
    """Visibility delays of DELAY seconds for one test, then the default."""
    from conftest import VISIBILITY_DELAY
    emu.reset()
    emu.control('config', {'visibility_delay': SLOW})
    yield emu
    emu.control('config', {'visibility_delay': VISIBILITY_DELAY})


def creates(calls):
    return {k: n for k, n in calls.items() if CREATES.search(k)}


def apply_plan_apply(emu, cairn, tpl, params):
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *params]
    r = cairn('apply', tpl, '--auto-approve', *common, extra_env=ENV, settle=False)
    assert r.rc == 0, r
    made = creates(emu.control('calls'))
    assert made, 'the apply created nothing?'
    # at once: the resources just created are not yet visible to cairn
    emu.control('calls', method='DELETE')
    p = cairn('plan', tpl, '--detailed-exitcode', *common, extra_env=ENV, settle=False)
    assert p.rc == 0, p
    assert 'gone' not in p.out and 'to add' not in p.out.replace('0 to add', ''), p
    a = cairn('apply', tpl, '--auto-approve', *common, extra_env=ENV, settle=False)
    assert a.rc == 0, a
    assert creates(emu.control('calls')) == {}, emu.control('calls')
    d = cairn('destroy', tpl, '--auto-approve', *common, extra_env=ENV, settle=False)
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}, live_inventory(emu)


def test_plan_right_after_apply_worker_stack(slow, cairn):
    """Log group, secret, roles, policies, ECS cluster/service/task
    definitions, VPC, subnets, security group, endpoints..."""
    apply_plan_apply(slow, cairn, WORKER, PARAMS)


def test_plan_right_after_apply_ecr(slow, cairn):
    apply_plan_apply(slow, cairn, ECR, [])


# long enough that the destroy (a refresh first, then the open intents) meets
# the victim still invisible
LATE = {**SLOW, 'logs': 6.0, 'ecs': 6.0}


def kill_after_call(cairn, args, op, env):
    """Runs cairn with args and kill -9s it as soon as its debug log shows
    AWS's answer to op ("logs:CreateLogGroup"): the call made, nothing of it
    recorded (the provider still waits for the resource to become visible)."""
    e = {**cairn.env, **env, 'CAIRN_LOG': 'debug'}
    p = subprocess.Popen([cairn.path, *args], cwd=str(cairn.tmp), env=e, text=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = p.stderr.readline()
            if not line:
                break
            seen.append(line)
            if f'aws {op} status=200' in line:
                p.kill()
                break
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert any(f'aws {op} status=200' in x for x in seen), ''.join(seen[-50:])
    assert p.returncode == -signal.SIGKILL, ''.join(seen[-50:])


@pytest.mark.parametrize('victim,op', [('WorkerService', 'ecs:CreateService'),
                                       ('WorkerLogGroup', 'logs:CreateLogGroup')])
def test_destroy_after_kill_right_after_create_call(slow, cairn, victim, op):
    """kill -9 right after the create call answered, then destroy at once:
    the stopped run's open create intent is resolved through find() (or the
    token-idempotent create) while the resource is still invisible; find
    looks again instead of concluding nothing was made, so the destroy
    deletes it (and the ECS cluster is not blocked by an unknown service)."""
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS]
    env = {'CAIRN_SETTLE_SECONDS': '15'}
    slow.control('config', {'visibility_delay': LATE})
    kill_after_call(cairn, ['apply', WORKER, '--auto-approve', *common], op, env)
    journal = sqlite3.connect(state).execute(
        'select logical_id from open_intents').fetchall()
    assert (victim,) in journal, journal
    t0 = time.monotonic()
    d = cairn('destroy', WORKER, '--auto-approve', *common, extra_env=env,
              timeout=240, settle=False)
    took = time.monotonic() - t0
    assert d.rc == 0, d
    assert inventory_counts(slow) == {}, live_inventory(slow)
    assert took < 120, took
    calls = slow.control('calls')
    assert calls.get('ecs:DeleteCluster', 0) < 20, calls


def test_delete_cluster_blocked_by_unknown_service(emu, cairn):
    """A service the stack does not know (made behind cairn's back) keeps the
    cluster from going: destroy fails within a bounded time naming it, rather
    than retrying ClusterContainsServicesException for minutes; once it is
    gone the destroy finishes."""
    emu.reset()
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS]
    r = cairn('apply', WORKER, '--auto-approve', *common)
    assert r.rc == 0, r
    db = sqlite3.connect(state)
    cluster, = db.execute("select physical_id from resources "
                          "where type = 'AWS::ECS::Cluster'").fetchone()
    svc_arn, = db.execute("select physical_id from resources "
                          "where type = 'AWS::ECS::Service'").fetchone()
    db.close()
    ecs = emu.client('ecs')
    mine = ecs.describe_services(cluster=cluster, services=[svc_arn])['services'][0]
    ecs.create_service(cluster=cluster, serviceName='intruder',
                       taskDefinition=mine['taskDefinition'], desiredCount=0,
                       launchType='FARGATE',
                       networkConfiguration=mine['networkConfiguration'])
    t0 = time.monotonic()
    d = cairn('destroy', WORKER, '--auto-approve', *common, timeout=200)
    took = time.monotonic() - t0
    assert d.rc != 0, d
    assert 'intruder' in d.err and 'ACTIVE' in d.err, d
    assert took < 120, took
    # the blocker gone, the destroy finishes
    ecs.delete_service(cluster=cluster, service='intruder', force=True)
    d = cairn('destroy', WORKER, '--auto-approve', *common, timeout=200)
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}, live_inventory(emu)
