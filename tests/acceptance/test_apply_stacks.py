"""Both shipped stacks through the real binary against the emulator:
apply from empty, a no-change plan, updates in place, destroy to an empty
inventory. Outcomes are checked through the emulator's inventory and
botocore, not through cairn's output."""
import os
import sqlite3

import pytest

from accept_util import SECRET, TOP, template_types

# CloudFormation type -> the emulator inventory's (service, type)
INVENTORY = {
    'AWS::EC2::VPC': ('ec2', 'vpc'),
    'AWS::EC2::Subnet': ('ec2', 'subnet'),
    'AWS::EC2::InternetGateway': ('ec2', 'internet-gateway'),
    'AWS::EC2::EIP': ('ec2', 'elastic-ip'),
    'AWS::EC2::NatGateway': ('ec2', 'natgateway'),
    'AWS::EC2::RouteTable': ('ec2', 'route-table'),
    'AWS::EC2::SecurityGroup': ('ec2', 'security-group'),
    'AWS::EC2::VPCEndpoint': ('ec2', 'vpc-endpoint'),
    'AWS::ECS::Cluster': ('ecs', 'cluster'),
    'AWS::ECS::TaskDefinition': ('ecs', 'task-definition'),
    'AWS::ECS::Service': ('ecs', 'service'),
    'AWS::ECR::Repository': ('ecr', 'repository'),
    'AWS::IAM::Role': ('iam', 'role'),
    'AWS::IAM::ManagedPolicy': ('iam', 'policy'),
    'AWS::Logs::LogGroup': ('logs', 'log-group'),
    'AWS::SecretsManager::Secret': ('secretsmanager', 'secret'),
}

STACKS = ['prefect-ecs-worker', 'prefect-agent-dedicated-ip']
PARAMS = ['--param', 'PrefectApiUrl=https://api.prefect.cloud/api/accounts/a/workspaces/w',
          '--param', 'PrefectApiKey=' + SECRET]


# parts of other resources the inventory also lists (a role's inline and
# attached policies); their owners are counted instead
SUBRESOURCES = {('iam', 'role-policy'), ('iam', 'role-policy-attachment')}


def live_inventory(emu):
    """The emulator's inventory less the seeded account (the baseline the emu
    fixture took) and the service-linked roles AWS creates on first use."""
    base = getattr(emu, 'baseline', set())
    return [r for r in emu.control('inventory')
            if (r['service'], r['type'], r['id']) not in base
            and not (r['service'] == 'iam' and r['id'].split('|')[0].split('/')[0]
                     .startswith('AWSServiceRoleFor'))]


def inventory_counts(emu):
    counts = {}
    for r in live_inventory(emu):
        k = (r['service'], r['type'])
        if k not in SUBRESOURCES:
            counts[k] = counts.get(k, 0) + 1
    return counts


def expected_counts(path):
    want = {}
    for t, n in template_types(path).items():
        if t in INVENTORY:
            want[INVENTORY[t]] = want.get(INVENTORY[t], 0) + n
    return want


@pytest.mark.parametrize('stack', STACKS)
def test_apply_plan_destroy(emu, cairn, stack):
    emu.reset()
    tpl = os.path.join(TOP, 'stacks', stack + '.yaml')
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS]

    r = cairn('apply', tpl, '--auto-approve', *common)
    assert r.rc == 0, r
    got = inventory_counts(emu)
    want = expected_counts(tpl)
    for k, n in want.items():
        assert got.get(k, 0) == n, (k, got, want)
    # nothing else was created (no duplicates, no strays)
    assert sum(got.values()) == sum(want.values()), (got, want)

    # every VPC resource carries cairn's identifying tags
    ec2 = emu.client('ec2')
    vpcs = ec2.describe_vpcs(Filters=[{'Name': 'tag:cairn:stack', 'Values': [stack]}])['Vpcs']
    assert len(vpcs) == 1
    dns = ec2.describe_vpc_attribute(VpcId=vpcs[0]['VpcId'], Attribute='enableDnsHostnames')
    assert dns['EnableDnsHostnames']['Value'] is True

    # the NAT gateway's address is the dedicated outbound IP
    nats = ec2.describe_nat_gateways(Filter=[{'Name': 'state', 'Values': ['available']}])['NatGateways']
    assert len(nats) == 1
    eips = ec2.describe_addresses()['Addresses']
    assert nats[0]['NatGatewayAddresses'][0]['PublicIp'] in [a['PublicIp'] for a in eips]

    # the secret's value reached AWS, but never the state file or the output
    sm = emu.client('secretsmanager')
    secrets = sm.list_secrets()['SecretList']
    assert len(secrets) == 1
    assert sm.get_secret_value(SecretId=secrets[0]['ARN'])['SecretString'] == SECRET
    for f in os.listdir(cairn.tmp):
        if f.startswith('state.db'):
            assert SECRET.encode() not in open(cairn.tmp / f, 'rb').read()
    assert SECRET not in r.out and SECRET not in r.err

    # a second plan sees no changes
    p = cairn('plan', tpl, '--detailed-exitcode', *common)
    assert p.rc == 0, p

    # outputs were recorded
    o = cairn('output', '--state', state, '--json')
    assert o.rc == 0, o
    assert nats[0]['NatGatewayAddresses'][0]['PublicIp'] in o.out

    d = cairn('destroy', tpl, '--auto-approve', *common)
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}, emu.control('inventory')
    db = sqlite3.connect(state)
    assert db.execute('select count(*) from resources').fetchone()[0] == 0


def test_updates_in_place(emu, cairn):
    emu.reset()
    tpl = os.path.join(TOP, 'stacks', 'prefect-ecs-worker.yaml')
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS]
    r = cairn('apply', tpl, '--auto-approve', *common)
    assert r.rc == 0, r
    before = emu.control('calls')

    r = cairn('apply', tpl, '--auto-approve', *common, '--param', 'WorkerDesiredCount=1')
    assert r.rc == 0, r
    assert '1 updated' in r.out or 'updated' in r.out, r
    ecs = emu.client('ecs')
    clusters = ecs.list_clusters()['clusterArns']
    services = ecs.list_services(cluster=clusters[0])['serviceArns']
    svc = ecs.describe_services(cluster=clusters[0], services=services)['services'][0]
    assert svc['desiredCount'] == 1
    after = emu.control('calls')
    # an in-place update: UpdateService, and no new cluster/VPC
    def calls(c, op):
        return sum(v for k, v in c.items() if k.endswith(op)) if isinstance(c, dict) else 0
    assert calls(after, 'UpdateService') > calls(before, 'UpdateService')
    assert calls(after, 'CreateVpc') == calls(before, 'CreateVpc')

    d = cairn('destroy', tpl, '--auto-approve', *common)
    assert d.rc == 0, d
    assert inventory_counts(emu) == {}


def test_apply_under_faults(emu, cairn):
    """10% throttling, 5% server errors and added latency: apply and destroy
    still converge, with no orphan and no duplicate."""
    emu.reset()
    tpl = os.path.join(TOP, 'stacks', 'prefect-ecs-worker.yaml')
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS, '--max-attempts', '10']
    emu.control('config', {'throttle_rate': 0.10, 'error_rate': 0.05,
                           'latency': {'*': 0.02}, 'seed': 11})
    try:
        r = cairn('apply', tpl, '--auto-approve', *common)
        assert r.rc == 0, r
        assert inventory_counts(emu) == expected_counts(tpl)
        p = cairn('plan', tpl, '--detailed-exitcode', *common)
        assert p.rc == 0, p
        d = cairn('destroy', tpl, '--auto-approve', *common)
        assert d.rc == 0, d
        assert inventory_counts(emu) == {}
    finally:
        emu.control('config', {'throttle_rate': 0.0, 'error_rate': 0.0, 'latency': {},
                               'seed': None})


def test_failure_stops_only_dependents_and_resumes(emu, cairn):
    """A failing resource stops what depends on it, the rest finishes, the
    summary names the AWS error code and request id, and a second apply
    continues where the first stopped."""
    emu.reset()
    tpl = os.path.join(TOP, 'stacks', 'prefect-ecs-worker.yaml')
    state = str(cairn.tmp / 'state.db')
    common = [*cairn.endpoint, '--state', state, *PARAMS]
    # every CreateLogGroup fails: the worker task definition (awslogs) and
    # the service wait on it; the network does not
    emu.control('config', {'error_rate': {'logs:CreateLogGroup': 1.0}})
    try:
        r = cairn('apply', tpl, '--auto-approve', *common, '--max-attempts', '1')
    finally:
        emu.control('config', {'error_rate': 0.0})
    assert r.rc == 1, r
    assert 'WorkerLogGroup' in r.out and 'request id' in r.out, r
    got = inventory_counts(emu)
    assert got.get(('ec2', 'natgateway')) == 1, got
    assert got.get(('logs', 'log-group'), 0) == 0
    assert got.get(('ecs', 'service'), 0) == 0
    r = cairn('apply', tpl, '--auto-approve', *common)
    assert r.rc == 0, r
    assert inventory_counts(emu) == expected_counts(tpl)
    d = cairn('destroy', tpl, '--auto-approve', *common)
    assert d.rc == 0, d
