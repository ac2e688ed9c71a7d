"""Live reads through the real binary against the emulator: `cairn drift`,
`cairn refresh`, `cairn plan` (refresh on by default) and the API calls a
no-change plan costs.

Changes are made behind cairn's back with botocore; what cairn reports is
checked against the values set there, and what it records by reading
state.db with sqlite3, never only through cairn's own output."""
import json
import os
import sqlite3

import pytest

from accept_util import SECRET, TOP

STACK = 'prefect-ecs-worker'
TPL = os.path.join(TOP, 'stacks', STACK + '.yaml')
LOG_GROUP = '/ecs/prefect-worker'  # WorkerLogGroup's LogGroupName in the stack
PARAMS = ['--param', 'PrefectApiUrl=https://api.prefect.cloud/api/accounts/a/workspaces/w',
          '--param', 'PrefectApiKey=' + SECRET]


def _common(cairn):
    return [*cairn.endpoint, '--state', str(cairn.tmp / 'state.db')]


def _record(cairn, logical_id):
    """(physical_id, properties, attributes) of a resource in state.db, or None."""
    db = sqlite3.connect(str(cairn.tmp / 'state.db'))
    try:
        cols = [r[1] for r in db.execute('PRAGMA table_info(resources)')]
        row = db.execute('SELECT * FROM resources WHERE logical_id = ?', (logical_id,)).fetchone()
    finally:
        db.close()
    if row is None:
        return None
    rec = dict(zip(cols, row))
    return (rec.get('physical_id'), json.loads(rec.get('properties') or '{}'),
            json.loads(rec.get('attributes') or '{}'))


def _journal(cairn):
    db = sqlite3.connect(str(cairn.tmp / 'state.db'))
    try:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute('SELECT * FROM journal ORDER BY id')]
    finally:
        db.close()


def _calls(emu):
    return emu.control('calls')


def _delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def _task_sg(emu, stack):
    ec2 = emu.client('ec2')
    sgs = ec2.describe_security_groups(Filters=[
        {'Name': 'tag:cairn:stack', 'Values': [stack]},
        {'Name': 'tag:cairn:logical-id', 'Values': ['TaskSecurityGroup']}])['SecurityGroups']
    assert len(sgs) == 1, sgs
    return sgs[0]


def _vpc(emu, stack):
    vpcs = emu.client('ec2').describe_vpcs(
        Filters=[{'Name': 'tag:cairn:stack', 'Values': [stack]}])['Vpcs']
    assert len(vpcs) == 1
    return vpcs[0]


@pytest.fixture
def applied(emu, cairn):
    emu.reset()
    r = cairn('apply', TPL, '--auto-approve', *_common(cairn), *PARAMS)
    assert r.rc == 0, r
    return cairn


def test_no_drift_after_apply_and_plan_call_count(emu, applied):
    cairn = applied
    r = cairn('drift', TPL, *_common(cairn))
    assert r.rc == 0, r
    assert 'No drift' in r.out

    db = sqlite3.connect(str(cairn.tmp / 'state.db'))
    n_resources = db.execute('SELECT count(*) FROM resources').fetchone()[0]
    db.close()
    assert n_resources == 29  # the stack's resources, counted in the template
    before = _calls(emu)
    p = cairn('plan', TPL, '--detailed-exitcode', *_common(cairn), *PARAMS)
    delta = _delta(before, _calls(emu))
    assert p.rc == 0, p
    assert 'Refreshed' in p.err, p
    total = sum(delta.values())
    # every call a refresh makes is a read
    assert all(':Describe' in k or ':Get' in k or ':List' in k for k in delta), delta
    # batched: one Describe for all the resources of a type that has one
    # (2 subnets, 3 VPC endpoints, 2 route tables + 2 routes + 2
    # associations all read through DescribeRouteTables)
    assert delta.get('ec2:DescribeSubnets') == 1, delta
    assert delta.get('ec2:DescribeVpcEndpoints') == 1, delta
    assert delta.get('ec2:DescribeRouteTables', 0) <= 3, delta
    # against one call per resource: some types' reads take several calls
    # (an IAM role: GetRole, ListRolePolicies, GetRolePolicy,
    # ListAttachedRolePolicies), so the total stays within 2 per resource
    assert 0 < total < 2 * n_resources, (total, n_resources, delta)
    print(f'\nno-change plan with refresh: {total} API calls for {n_resources} resources: {delta}')

    before = _calls(emu)
    q = cairn('plan', TPL, '--refresh=false', *_common(cairn), *PARAMS)
    assert q.rc == 0, q
    assert _delta(before, _calls(emu)) == {}

    # a state of another stack is refused, before any AWS call
    before = _calls(emu)
    for cmd in ('drift', 'refresh'):
        r = cairn(cmd, TPL, *_common(cairn), '--stack', 'other')
        assert r.rc == 1 and 'belongs to stack "prefect-ecs-worker"' in r.err, r
    assert _delta(before, _calls(emu)) == {}


def test_drift_refresh_plan_repair(emu, applied):
    cairn = applied
    common = _common(cairn)
    logs = emu.client('logs')
    ec2 = emu.client('ec2')
    sg = _task_sg(emu, STACK)
    vpc = _vpc(emu, STACK)
    rec_before = _record(cairn, 'WorkerLogGroup')

    # --- behind cairn's back
    logs.put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=30)
    ec2.create_tags(Resources=[vpc['VpcId']], Tags=[{'Key': 'Name', 'Value': 'renamed-by-hand'}])
    rule = [p for p in sg['IpPermissions'] if p.get('IpProtocol') == '-1'][0]
    ec2.revoke_security_group_ingress(GroupId=sg['GroupId'], IpPermissions=[rule])

    # --- drift names each of them; the state is not touched
    r = cairn('drift', TPL, *common)
    assert r.rc == 2, r
    assert 'WorkerLogGroup' in r.out and 'RetentionInDays: 7 -> 30' in r.out, r
    assert 'Vpc ' in r.out and 'renamed-by-hand' in r.out, r
    assert 'TaskSecurityGroup' in r.out and 'SecurityGroupIngress' in r.out, r
    assert SECRET not in r.out and SECRET not in r.err
    assert _record(cairn, 'WorkerLogGroup') == rec_before

    j = cairn('drift', TPL, '--json', *common)
    assert j.rc == 2, j
    doc = json.loads(j.out)
    assert doc['drifted'] is True
    by_id = {x['logical_id']: x for x in doc['resources']}
    lg = by_id['WorkerLogGroup']
    assert lg['status'] == 'drifted'
    ch = [c for c in lg['changes'] if c['path'] == 'RetentionInDays']
    assert ch and ch[0]['recorded'] == 7 and ch[0]['live'] == 30, lg
    assert by_id['TaskSecurityGroup']['status'] == 'drifted'
    assert by_id['Vpc']['status'] == 'drifted'
    assert by_id['PrivateSubnet']['status'] == 'unchanged'
    assert SECRET not in j.out

    # --- refresh records what AWS has
    f = cairn('refresh', TPL, *common)
    assert f.rc == 0, f
    _, props, _ = _record(cairn, 'WorkerLogGroup')
    assert int(props['RetentionInDays']) == 30
    _, props, _ = _record(cairn, 'Vpc')
    assert {'Key': 'Name', 'Value': 'renamed-by-hand'} in props['Tags']
    assert not any(t['Key'].startswith('cairn:') for t in props['Tags'])
    _, props, _ = _record(cairn, 'TaskSecurityGroup')
    assert not props.get('SecurityGroupIngress'), props
    # ... and now nothing drifts from the state
    assert cairn('drift', TPL, *common).rc == 0

    # --- the next plan shows the repairs, apply makes them
    p = cairn('plan', TPL, '--detailed-exitcode', *common, *PARAMS)
    assert p.rc == 2, p
    assert 'WorkerLogGroup' in p.out and 'TaskSecurityGroup' in p.out and 'Vpc' in p.out, p
    a = cairn('apply', TPL, '--auto-approve', *common, *PARAMS)
    assert a.rc == 0, a
    got = logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)['logGroups']
    assert got[0]['retentionInDays'] == 7
    sg = _task_sg(emu, STACK)
    assert any(p.get('IpProtocol') == '-1' and
               any(r.get('CidrIp') == '10.0.0.0/16' for r in p.get('IpRanges', []))
               for p in sg['IpPermissions']), sg
    assert cairn('drift', TPL, *common).rc == 0


def test_gone_resource(emu, applied):
    cairn = applied
    common = _common(cairn)
    phys, _, _ = _record(cairn, 'WorkerLogGroup')
    emu.client('logs').delete_log_group(logGroupName=LOG_GROUP)

    r = cairn('drift', TPL, *common)
    assert r.rc == 2, r
    assert 'WorkerLogGroup' in r.out and 'gone' in r.out, r

    # a plan reads live too: it recreates the log group, without writing the state
    p = cairn('plan', TPL, '--detailed-exitcode', *common, *PARAMS)
    assert p.rc == 2, p
    assert '+ WorkerLogGroup' in p.out or ('WorkerLogGroup' in p.out and 'create' in p.out), p
    assert _record(cairn, 'WorkerLogGroup') is not None

    f = cairn('refresh', TPL, *common)
    assert f.rc == 0, f
    assert 'WorkerLogGroup' in f.out
    assert _record(cairn, 'WorkerLogGroup') is None
    events = [e for e in _journal(cairn) if e.get('logical_id') == 'WorkerLogGroup'
              and e.get('action') == 'refresh']
    assert events and 'gone' in (events[-1].get('message') or ''), events

    a = cairn('apply', TPL, '--auto-approve', *common, *PARAMS)
    assert a.rc == 0, a
    assert emu.client('logs').describe_log_groups(logGroupNamePrefix=LOG_GROUP)['logGroups']
    assert cairn('drift', TPL, *common).rc == 0


def test_drift_errors(emu, cairn):
    emu.reset()
    # no state: an error, not "no drift"
    r = cairn('drift', TPL, *_common(cairn))
    assert r.rc == 1, r
    # usage errors are 1, never 2 (2 means drift)
    assert cairn('drift').rc == 1
    assert cairn('drift', TPL, '--bogus').rc == 1
    assert cairn('refresh').rc == 2


def test_read_failures_and_throttling(emu, applied):
    cairn = applied
    common = _common(cairn)
    try:
        # a read that keeps failing: drift is an error (1), not "drift" or
        # "all clear", and names the call; plan refuses to plan from
        # stale data and says how to plan without reading
        emu.control('config', {'error_rate': {'iam:GetRole': 1.0}})
        r = cairn('drift', TPL, *common, '--max-attempts', '2')
        assert r.rc == 1, r
        assert 'GetRole' in r.err or 'InternalError' in r.err or 'ServiceUnavailable' in r.err, r
        j = cairn('drift', TPL, '--json', *common, '--max-attempts', '2')
        assert j.rc == 1, j
        failed = [x for x in json.loads(j.out)['resources'] if x['status'] == 'failed']
        assert {x['type'] for x in failed} == {'AWS::IAM::Role'}, failed
        assert all(x['error'] for x in failed)
        p = cairn('plan', TPL, *common, *PARAMS, '--max-attempts', '2')
        assert p.rc == 1 and '--refresh=false' in p.err, p
        assert cairn('plan', TPL, '--refresh=false', *common, *PARAMS).rc == 0

        # throttling on every call: the client's retries absorb it
        emu.control('config', {'error_rate': {'iam:GetRole': 0.0}, 'throttle_rate': 0.3})
        r = cairn('drift', TPL, *common, '--max-attempts', '10')
        assert r.rc == 0, r
    finally:
        emu.control('config', {'error_rate': 0.0, 'throttle_rate': 0.0})


def test_apply_repairs_drift_directly(emu, applied):
    """apply reads live as plan does: the drift is repaired without a
    separate refresh."""
    cairn = applied
    common = _common(cairn)
    logs = emu.client('logs')
    logs.put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=90)
    assert cairn('drift', TPL, *common).rc == 2
    a = cairn('apply', TPL, '--auto-approve', *common, *PARAMS)
    assert a.rc == 0, a
    assert 'WorkerLogGroup' in a.out, a
    got = logs.describe_log_groups(logGroupNamePrefix=LOG_GROUP)['logGroups']
    assert got[0]['retentionInDays'] == 7
    assert cairn('drift', TPL, *common).rc == 0


def _physical(cairn, logical_id):
    rec = _record(cairn, logical_id)
    assert rec, logical_id
    return rec[0]


def test_drift_catches_what_nobody_owns(emu, applied):
    """Issue 9 item 10: out-of-band changes that no property of the stack
    declares are still drift: reported with resource, path, recorded and
    live (the secret only by version, never its value), exit 2; plan shows
    the repair and apply makes it (checked with botocore)."""
    cairn = applied
    common = _common(cairn)
    iam, ec2 = emu.client('iam'), emu.client('ec2')
    sm, ecs, ecr = emu.client('secretsmanager'), emu.client('ecs'), emu.client('ecr')
    task_role = _physical(cairn, 'TaskRole')
    exec_role = _physical(cairn, 'ExecutionRole')
    rtb = _physical(cairn, 'PrivateRouteTable')
    igw = _physical(cairn, 'InternetGateway')
    sg = _task_sg(emu, STACK)['GroupId']
    secret_arn = _physical(cairn, 'PrefectApiKeySecret')
    service_arn = _physical(cairn, 'WorkerService')
    cluster = _physical(cairn, 'Cluster')
    repo = _record(cairn, 'FlowRepository')[1]['RepositoryName']
    version_before = _record(cairn, 'PrefectApiKeySecret')[2].get('VersionId')
    assert version_before, 'the secret version cairn wrote is recorded'
    desired = ecs.describe_services(cluster=cluster, services=[service_arn])['services'][0]['desiredCount']
    other_value = 'replaced-by-hand-0d5e'

    # --- behind cairn's back
    iam.put_role_policy(RoleName=task_role, PolicyName='break-glass', PolicyDocument=json.dumps(
        {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
    stray = iam.create_policy(PolicyName='stray-admin', PolicyDocument=json.dumps(
        {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))['Policy']['Arn']
    iam.attach_role_policy(RoleName=exec_role, PolicyArn=stray)
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock='192.168.0.0/16', GatewayId=igw)
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    sm.put_secret_value(SecretId=secret_arn, SecretString=other_value)
    ecs.update_service(cluster=cluster, service=service_arn, desiredCount=desired + 2)
    ecr.delete_lifecycle_policy(repositoryName=repo)

    # --- drift reports each: what and where
    r = cairn('drift', TPL, *common)
    assert r.rc == 2, r
    for needle in ('TaskRole', 'break-glass', 'ExecutionRole', stray,
                   'PrivateRouteTable', '192.168.0.0/16', 'TaskSecurityGroup',
                   'PrefectApiKeySecret', 'WorkerService', 'FlowRepository'):
        assert needle in r.out, (needle, r)
    for text in (r.out, r.err):
        assert SECRET not in text and other_value not in text
    j = cairn('drift', TPL, '--json', *common)
    assert j.rc == 2, j
    assert SECRET not in j.out and other_value not in j.out
    by_id = {x['logical_id']: x for x in json.loads(j.out)['resources']}

    def change(lid, prefix):
        item = by_id[lid]
        assert item['status'] == 'drifted', item
        hits = [c for c in item['changes'] if c['path'].startswith(prefix)]
        assert hits, (lid, prefix, item)
        return hits

    assert any('break-glass' in json.dumps(c['live']) and c['recorded'] is None and c['unowned']
               for c in change('TaskRole', 'Policies')), by_id['TaskRole']
    assert any(c['live'] == stray for c in change('ExecutionRole', 'ManagedPolicyArns'))
    assert any('192.168.0.0/16' in json.dumps(c['live']) for c in change('PrivateRouteTable', 'Routes'))
    assert any('"FromPort": 22' in json.dumps(c['live'])
               for c in change('TaskSecurityGroup', 'SecurityGroupIngress'))
    sec = change('PrefectApiKeySecret', 'SecretString')
    live_version = sm.describe_secret(SecretId=secret_arn)['VersionIdsToStages']
    current = [v for v, st in live_version.items() if 'AWSCURRENT' in st][0]
    assert version_before in sec[0]['recorded'] and current in sec[0]['live'], sec
    dc = change('WorkerService', 'DesiredCount')
    assert int(dc[0]['recorded']) == desired and int(dc[0]['live']) == desired + 2, dc
    change('FlowRepository', 'LifecyclePolicy')
    # what the stack declares elsewhere is nobody's drift
    for lid in ('PublicRouteTable', 'TaskPolicy', 'ReadApiKeyPolicy', 'PrivateSubnet'):
        if lid in by_id:
            assert by_id[lid]['status'] == 'unchanged', by_id[lid]

    # --- plan shows every repair, apply makes them
    p = cairn('plan', TPL, '--detailed-exitcode', *common, *PARAMS)
    assert p.rc == 2, p
    for lid in ('TaskRole', 'ExecutionRole', 'PrivateRouteTable', 'TaskSecurityGroup',
                'PrefectApiKeySecret', 'WorkerService', 'FlowRepository'):
        assert lid in p.out, (lid, p)
    assert SECRET not in p.out and other_value not in p.out
    a = cairn('apply', TPL, '--auto-approve', *common, *PARAMS)
    assert a.rc == 0, a

    assert 'break-glass' not in iam.list_role_policies(RoleName=task_role)['PolicyNames']
    assert stray not in {x['PolicyArn'] for x in
                         iam.list_attached_role_policies(RoleName=exec_role)['AttachedPolicies']}
    table = ec2.describe_route_tables(RouteTableIds=[rtb])['RouteTables'][0]
    assert '192.168.0.0/16' not in {x.get('DestinationCidrBlock') for x in table['Routes']}
    assert '0.0.0.0/0' in {x.get('DestinationCidrBlock') for x in table['Routes']}
    ingress = _task_sg(emu, STACK)['IpPermissions']
    assert not any(x.get('FromPort') == 22 for x in ingress), ingress
    assert sm.get_secret_value(SecretId=secret_arn)['SecretString'] == SECRET
    assert ecs.describe_services(cluster=cluster, services=[service_arn])[
        'services'][0]['desiredCount'] == desired
    assert ecr.get_lifecycle_policy(repositoryName=repo)['lifecyclePolicyText']
    assert cairn('drift', TPL, *common).rc == 0
    assert cairn('plan', TPL, '--detailed-exitcode', *common, *PARAMS).rc == 0
