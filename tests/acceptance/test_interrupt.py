"""One Ctrl-C during an apply, through the real binary against the emulator:
cairn finishes what is in flight, records everything AWS created, leaves no
open intent in its journal and exits 1; a second apply then completes with
exactly the template's resources."""
import os
import signal
import sqlite3
import subprocess
import time

from accept_util import TOP
from test_apply_stacks import (PARAMS, SUBRESOURCES, expected_counts, inventory_counts,
                               live_inventory)

TPL = os.path.join(TOP, 'stacks', 'prefect-ecs-worker.yaml')
NAT_SECONDS = 1.5     # long enough for the interrupt to land while it is in flight


def recorded(inv_id, physical_ids):
    """The emulator lists some resources by name where cairn keeps the ARN
    (or the reverse): the same resource when one contains the other."""
    return any(p and (p == inv_id or inv_id in p or p in inv_id) for p in physical_ids)


def interrupt_at(cairn, args, marker, signals=1):
    """Runs cairn with args, sends SIGINT `signals` times (0.2 s apart) once a
    stderr line contains marker (a string, or a tuple: each seen); returns
    (rc, stdout, stderr, seconds from the first signal to the exit)."""
    markers = (marker,) if isinstance(marker, str) else marker
    cairn.settle()      # the visibility delay of what the last command made
    p = subprocess.Popen([cairn.path, *args], cwd=str(cairn.tmp), env=cairn.env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = p.stderr.readline()
            if not line:
                break
            seen.append(line)
            if all(any(m in x for x in seen) for m in markers):
                break
        assert all(any(m in x for x in seen) for m in markers), ''.join(seen)
        sent = time.monotonic()
        for i in range(signals):
            if i:
                time.sleep(0.2)
            p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out, ''.join(seen) + err, time.monotonic() - sent


def open_intents(state):
    db = sqlite3.connect(state)
    try:
        return db.execute('select logical_id, action from open_intents').fetchall()
    finally:
        db.close()


def test_sigint_during_apply(emu, cairn):
    emu.reset()
    emu.control('config', {'async': {'nat_gateway_create': NAT_SECONDS}})
    state = str(cairn.tmp / 'state.db')
    try:
        rc, out, err, took = interrupt_at(
            cairn, ['apply', TPL, '--auto-approve', *cairn.endpoint, '--state', state, *PARAMS],
            'NatGateway: create (')
    finally:
        emu.control('config', {'async': {'nat_gateway_create': 0.3}})

    assert rc == 1, (rc, out[-3000:], err[-3000:])
    assert 'interrupt' in err, err[-3000:]
    # it waited for the NAT gateway in flight (not abandoned) and it is recorded
    assert 'NatGateway: create done' in err, err[-3000:]
    assert took < 30, took

    db = sqlite3.connect(state)
    try:
        assert db.execute('select count(*) from open_intents').fetchone()[0] == 0, \
            db.execute('select logical_id, action from open_intents').fetchall()
        rows = dict(db.execute('select logical_id, physical_id from resources'))
        statuses = dict(db.execute('select logical_id, status from resources'))
    finally:
        db.close()
    assert rows.get('NatGateway', '').startswith('nat-'), rows
    assert set(statuses.values()) <= {'created'}, statuses
    # what waits on the NAT gateway was not started after the interrupt
    assert 'PrivateDefaultRoute' not in rows and 'WorkerService' not in rows, rows
    inv = [r for r in live_inventory(emu) if (r['service'], r['type']) not in SUBRESOURCES]
    assert ('ecs', 'service') not in {(r['service'], r['type']) for r in inv}
    # everything AWS has, the state has (nothing orphaned)
    orphans = [r for r in inv if not recorded(r['id'], rows.values())]
    assert not orphans, (orphans, rows)
    assert len(inv) < sum(expected_counts(TPL).values())    # it did stop early

    common = [*cairn.endpoint, '--state', state, *PARAMS]
    r = cairn('apply', TPL, '--auto-approve', *common)
    assert r.rc == 0, r
    assert inventory_counts(emu) == expected_counts(TPL)
    pl = cairn('plan', TPL, '--detailed-exitcode', *common)
    assert pl.rc == 0, pl
    d = cairn('destroy', TPL, '--auto-approve', *common)
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}, emu.control('inventory')


def test_second_sigint_abandons_the_wait(emu, cairn):
    """Ctrl-C twice while the NAT gateway and the endpoints are still
    pending: cairn stops waiting at once. AWS has them; the journal keeps
    their create intents open (with the idempotency tokens), so the next
    apply adopts them: no second NAT gateway (no 'address already
    associated' failure), no duplicate endpoint."""
    emu.reset()
    emu.control('config', {'async': {'nat_gateway_create': 4.0, 'vpc_endpoint_create': 4.0}})
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS]
    ec2 = emu.client('ec2')
    try:
        rc, out, err, took = interrupt_at(
            cairn, ['apply', TPL, '--auto-approve', *common],
            tuple(f'{lid}: create (' for lid in ('NatGateway', 'SecretsManagerEndpoint',
                                                 'EcrDockerEndpoint', 'EcrApiEndpoint')),
            signals=2)
        assert rc == 1, (rc, out[-3000:], err[-3000:])
        assert took < 3, (took, err[-3000:])                 # it did not wait the 4 s out
        assert 'second interrupt' in err, err[-3000:]
        nats = ec2.describe_nat_gateways()['NatGateways']
        assert len(nats) == 1 and nats[0]['State'] == 'pending', nats
        # the abandoned creates (the NAT gateway, the endpoints) stay open,
        # and nothing else
        assert sorted(open_intents(state)) == [
            (lid, 'create') for lid in ('EcrApiEndpoint', 'EcrDockerEndpoint', 'NatGateway',
                                        'SecretsManagerEndpoint')]
    finally:
        emu.control('config', {'async': {'nat_gateway_create': 0.3, 'vpc_endpoint_create': 0.2}})
    r = cairn('apply', TPL, '--auto-approve', *common)
    assert r.rc == 0, r
    assert open_intents(state) == []
    assert inventory_counts(emu) == expected_counts(TPL)
    after = ec2.describe_nat_gateways(
        Filter=[{'Name': 'state', 'Values': ['pending', 'available']}])['NatGateways']
    assert [n['NatGatewayId'] for n in after] == [nats[0]['NatGatewayId']], after
    db = sqlite3.connect(state)
    try:
        rows = dict(db.execute('select logical_id, physical_id from resources'))
    finally:
        db.close()
    assert rows.get('NatGateway') == nats[0]['NatGatewayId'], rows
    assert cairn('plan', TPL, '--detailed-exitcode', *common).rc == 0
    d = cairn('destroy', TPL, '--auto-approve', *common)
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}, emu.control('inventory')


def test_sigint_between_replace_and_delete_of_old(emu, cairn):
    """An image change replaces the worker task definition: interrupted while
    the service is being moved to the new revision, the old revision stays in
    the state (not deregistered yet) and the next apply deregisters it."""
    emu.reset()
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS]
    r = cairn('apply', TPL, '--auto-approve', *common)
    assert r.rc == 0, r
    ecs = emu.client('ecs')
    old_td = ecs.list_task_definitions(familyPrefix='prefect-ecs-worker-worker')[
        'taskDefinitionArns']
    assert len(old_td) == 1, old_td
    emu.control('config', {'latency': {'ecs:UpdateService': 1.5}})
    try:
        rc, out, err, took = interrupt_at(
            cairn, ['apply', TPL, '--auto-approve', *common, '--param', 'WorkerImageTag=v2'],
            'WorkerService: update (')
    finally:
        emu.control('config', {'latency': {}})
    assert rc == 1, (rc, out[-3000:], err[-3000:])
    assert 'WorkerService: update done' in err, err[-3000:]
    assert open_intents(state) == []
    # the service runs the new revision; the old one is still active, and
    # still cairn's to delete
    cl = ecs.list_clusters()['clusterArns'][0]
    svc = ecs.describe_services(cluster=cl, services=ecs.list_services(cluster=cl)[
        'serviceArns'])['services'][0]
    assert svc['taskDefinition'] != old_td[0]
    assert ecs.describe_task_definition(taskDefinition=old_td[0])['taskDefinition'][
        'status'] == 'ACTIVE'
    db = sqlite3.connect(state)
    try:
        phys = [p for (p,) in db.execute('select physical_id from resources')]
    finally:
        db.close()
    assert old_td[0] in phys and svc['taskDefinition'] in phys, phys

    r = cairn('apply', TPL, '--auto-approve', *common, '--param', 'WorkerImageTag=v2')
    assert r.rc == 0, r
    assert ecs.describe_task_definition(taskDefinition=old_td[0])['taskDefinition'][
        'status'] == 'INACTIVE'
    assert inventory_counts(emu) == expected_counts(TPL)
    assert cairn('plan', TPL, '--detailed-exitcode', *common,
                 '--param', 'WorkerImageTag=v2').rc == 0
    d = cairn('destroy', TPL, '--auto-approve', *common, '--param', 'WorkerImageTag=v2')
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}, emu.control('inventory')


def test_sigint_during_destroy(emu, cairn):
    """Interrupted while the NAT gateway is being deleted: cairn waits for it,
    exits 1 with what is left still in the state, and a second destroy
    finishes the job."""
    emu.reset()
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS]
    r = cairn('apply', TPL, '--auto-approve', *common)
    assert r.rc == 0, r
    emu.control('config', {'async': {'nat_gateway_delete': NAT_SECONDS}})
    try:
        rc, out, err, took = interrupt_at(cairn, ['destroy', TPL, '--auto-approve', *common],
                                          'NatGateway: delete (')
    finally:
        emu.control('config', {'async': {'nat_gateway_delete': 0.3}})
    assert rc == 1, (rc, out[-3000:], err[-3000:])
    assert 'NatGateway: delete done' in err, err[-3000:]
    assert open_intents(state) == []
    db = sqlite3.connect(state)
    try:
        left = dict(db.execute('select logical_id, physical_id from resources'))
    finally:
        db.close()
    assert 'NatGateway' not in left and left, left
    # whatever AWS still has, the state still has
    inv = [r for r in live_inventory(emu) if (r['service'], r['type']) not in SUBRESOURCES]
    assert inv and not [r for r in inv if not recorded(r['id'], left.values())], (inv, left)
    d = cairn('destroy', TPL, '--auto-approve', *common)
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}, emu.control('inventory')


def test_destroy_after_abandoned_creates(emu, cairn):
    """Ctrl-C twice while the NAT gateway is pending, then destroy straight
    away: the destroy records what the stopped run created but did not
    record (its open create intents), and deletes it with the rest, so the
    inventory ends empty."""
    emu.reset()
    emu.control('config', {'async': {'nat_gateway_create': 4.0, 'vpc_endpoint_create': 4.0}})
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS]
    try:
        rc, out, err, took = interrupt_at(
            cairn, ['apply', TPL, '--auto-approve', *common],
            tuple(f'{lid}: create (' for lid in ('NatGateway', 'SecretsManagerEndpoint',
                                                 'EcrDockerEndpoint', 'EcrApiEndpoint')),
            signals=2)
        assert rc == 1, (rc, out[-3000:], err[-3000:])
        assert ('NatGateway', 'create') in open_intents(state)
    finally:
        emu.control('config', {'async': {'nat_gateway_create': 0.3, 'vpc_endpoint_create': 0.2}})
    d = cairn('destroy', TPL, '--auto-approve', *common, timeout=120)
    assert d.rc == 0, d
    assert 'interrupted run created' in d.err, d
    assert inventory_counts(emu) == {}, emu.control('inventory')
    assert open_intents(state) == []
