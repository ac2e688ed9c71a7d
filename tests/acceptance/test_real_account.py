"""cairn against the emulator's real-world knobs (issue 16): short pages from
every paged call, the ECS service-linked-role error of a fresh account, larger
visibility delays, and a seeded account whose common names are taken. Outcomes
are checked through the emulator's inventory and botocore."""
import os

import pytest

from accept_util import TOP
from test_apply_stacks import PARAMS, expected_counts, inventory_counts

TPL = os.path.join(TOP, 'stacks', 'prefect-ecs-worker.yaml')


def _cycle(emu, cairn, extra=(), settle=True):
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS, *extra]
    r = cairn('apply', TPL, '--auto-approve', *common)
    assert r.rc == 0, r
    assert inventory_counts(emu) == expected_counts(TPL)
    p = cairn('plan', TPL, '--detailed-exitcode', *common, settle=settle)
    if p.rc != 0:
        print(p.out, p.err)
    assert p.rc == 0, p
    d = cairn('drift', TPL, *common)
    assert d.rc == 0, d
    d = cairn('destroy', TPL, '--auto-approve', *common)
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}, emu.control('inventory')


def test_short_pages(emu, cairn):
    """Every paginated answer holds at most one item: cairn must follow every
    NextToken / nextToken / Marker to find what it looks up by listing."""
    emu.reset()
    emu.control('config', {'page_size': 1})
    try:
        _cycle(emu, cairn)
    finally:
        emu.control('config', {'page_size': 0})
    calls = emu.control('calls')
    assert any(k.startswith(('ec2:Describe', 'iam:List', 'logs:Describe')) for k in calls)


def test_fresh_account_ecs_service_linked_role(emu, cairn):
    """On a fresh account the first CreateCluster/CreateService answer
    InvalidParameterException "Unable to assume the service linked role" until
    AWSServiceRoleForECS has propagated; cairn retries and converges."""
    emu.reset()
    emu.control('config', {'ecs_slr_error_seconds': 2.0})
    try:
        _cycle(emu, cairn)
    finally:
        emu.control('config', {'ecs_slr_error_seconds': 0})
    role = emu.client('iam').get_role(RoleName='AWSServiceRoleForECS')['Role']
    assert role['Path'] == '/aws-service-role/ecs.amazonaws.com/'


def test_plan_right_after_apply_under_eventual_consistency(emu, cairn):
    """Two seconds of eventual consistency everywhere (AWS sometimes takes that):
    apply copes; the plan that follows at once must show no change."""
    emu.reset()
    emu.control('config', {'visibility_delay': {'*': 2.0}})
    try:
        _cycle(emu, cairn, settle=False)
    finally:
        from conftest import VISIBILITY_DELAY
        emu.control('config', {'visibility_delay': VISIBILITY_DELAY})


def test_apply_copes_with_eventual_consistency(emu, cairn):
    """Apply and destroy under two seconds of eventual consistency everywhere:
    every create is followed by reads and writes naming the new resource."""
    emu.reset()
    emu.control('config', {'visibility_delay': {'*': 2.0}})
    try:
        state = str(cairn.tmp / 'state.db')
        common = [*cairn.endpoint, '--state', state, *PARAMS]
        r = cairn('apply', TPL, '--auto-approve', *common)
        assert r.rc == 0, r
        assert inventory_counts(emu) == expected_counts(TPL)
    finally:
        from conftest import VISIBILITY_DELAY
        emu.control('config', {'visibility_delay': VISIBILITY_DELAY})
    # a destroy at once: the newest resources must not read as gone (and be
    # left out, DeleteCluster then blocked by the service)
    d = cairn('destroy', TPL, '--auto-approve', *common, settle=False)
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}, emu.control('inventory')


def test_crash_recovery_under_eventual_consistency(emu, cairn):
    import signal
    emu.reset()
    emu.control('config', {'visibility_delay': {'*': 2.0}})
    try:
        state = str(cairn.tmp / 'state.db')
        common = [*cairn.endpoint, '--state', state, *PARAMS]
        r = cairn('apply', TPL, '--auto-approve', *common,
                  extra_env={'CAIRN_TEST_CRASH_AFTER': 'WorkerLogGroup'})
        assert r.rc == -signal.SIGKILL, r
        r = cairn('apply', TPL, '--auto-approve', *common, settle=False)
        assert r.rc == 0, r
        assert inventory_counts(emu) == expected_counts(TPL)
    finally:
        from conftest import VISIBILITY_DELAY
        emu.control('config', {'visibility_delay': VISIBILITY_DELAY})
