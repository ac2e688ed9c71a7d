"""Changes to an applied stack, through the real binary against the emulator:
updates in place (with the AWS calls they need and no create/delete of the
resource), replacements in the right order, removed resources deleted or
(DeletionPolicy: Retain) forgotten. Each change is a small edit of
stacks/prefect-ecs-worker.yaml written into tmp_path, or a parameter; the
outcome is checked through botocore, the emulator's inventory and the
emulator's call counters (GET /_emulator/calls), and afterwards
`cairn plan --detailed-exitcode` must find nothing left to do."""
import json
import os
import re
import sqlite3

import pytest

from accept_util import TOP
from test_apply_stacks import PARAMS, expected_counts, inventory_counts

SRC = os.path.join(TOP, 'stacks', 'prefect-ecs-worker.yaml')
BASE = open(SRC).read()
STACK = 'chg'     # the template's file name: the stack name

# operations that make or unmake something (a replacement or a stray create
# shows up here); an in-place update may use only the ones its case allows
MAKING = re.compile(r':(Create|Delete|Register|Deregister|Allocate|Release|Associate|'
                    r'Disassociate|Attach|Detach|Run)')


def edit(text, old, new, count=1):
    """text with the first `count` occurrences of old replaced (old must be there)."""
    assert text.count(old) >= count, f'{old!r} not in the template'
    return text.replace(old, new, count)


def delta(before, after):
    return {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0) > 0}


class Stack:
    """One stack in tmp_path: write a template text, apply it, plan it."""

    def __init__(self, emu, cairn):
        self.emu = emu
        self.cairn = cairn
        self.tpl = cairn.tmp / f'{STACK}.yaml'
        self.state = str(cairn.tmp / 'state.db')
        self.common = [*cairn.endpoint, '--state', self.state, *PARAMS]

    def apply(self, text, *extra):
        self.tpl.write_text(text)
        before = self.emu.control('calls')
        r = self.cairn('apply', str(self.tpl), '--auto-approve', *self.common, *extra)
        assert r.rc == 0, r
        return r, delta(before, self.emu.control('calls'))

    def converged(self, *extra):
        p = self.cairn('plan', str(self.tpl), '--detailed-exitcode', *self.common, *extra)
        assert p.rc == 0, p

    def destroy(self, *extra):
        d = self.cairn('destroy', str(self.tpl), '--auto-approve', *self.common, *extra)
        assert d.rc == 0, d
        assert inventory_counts(self.emu) == {}, self.emu.control('inventory')

    def resources(self):
        db = sqlite3.connect(self.state)
        try:
            return dict(db.execute('select logical_id, physical_id from resources'))
        finally:
            db.close()


@pytest.fixture
def stack(emu, cairn):
    emu.reset()
    s = Stack(emu, cairn)
    r, _ = s.apply(BASE)
    assert inventory_counts(emu) == expected_counts(SRC)
    return s


def progress(err):
    """cairn's progress lines ('HH:MM:SS Name: action...' / '... done'), in order."""
    return [line.split(' ', 1)[1] for line in err.splitlines()
            if re.match(r'\d\d:\d\d:\d\d \S+: ', line)]


def index(lines, start):
    hits = [i for i, line in enumerate(lines) if line.startswith(start)]
    assert hits, (start, lines)
    return hits[0]


# ---- updates in place ------------------------------------------------------

def _log_group(emu):
    gs = emu.client('logs').describe_log_groups(logGroupNamePrefix='/ecs/prefect-worker')
    return gs['logGroups']


def _vpc(emu):
    vpcs = emu.client('ec2').describe_vpcs(
        Filters=[{'Name': 'tag:cairn:stack', 'Values': [STACK]}])['Vpcs']
    assert len(vpcs) == 1, vpcs
    return vpcs[0]


def _sg(emu):
    sgs = emu.client('ec2').describe_security_groups(
        Filters=[{'Name': 'tag:cairn:stack', 'Values': [STACK]}])['SecurityGroups']
    sgs = [g for g in sgs if g['GroupName'] != 'default']
    assert len(sgs) == 1, sgs
    return sgs[0]


def _lifecycle(emu, repo):
    return json.loads(emu.client('ecr').get_lifecycle_policy(repositoryName=repo)
                      ['lifecyclePolicyText'])


def _worker_policy(emu):
    iam = emu.client('iam')
    pols = [p for p in iam.list_policies(Scope='Local')['Policies']
            if 'WorkerPolicy' in p['PolicyName']]
    assert len(pols) == 1, pols
    p = iam.get_policy(PolicyArn=pols[0]['Arn'])['Policy']
    v = iam.get_policy_version(PolicyArn=p['Arn'], VersionId=p['DefaultVersionId'])
    doc = v['PolicyVersion']['Document']
    if isinstance(doc, str):
        doc = json.loads(doc)
    return p['Arn'], p['DefaultVersionId'], doc


def _service(emu):
    ecs = emu.client('ecs')
    cl = ecs.list_clusters()['clusterArns']
    assert len(cl) == 1, cl
    arns = ecs.list_services(cluster=cl[0])['serviceArns']
    assert len(arns) == 1, arns
    return ecs.describe_services(cluster=cl[0], services=arns)['services'][0]


def _ingress(sg):
    return sorted(r['CidrIp'] for p in sg['IpPermissions'] for r in p.get('IpRanges', []))


# (id, edit of the template, extra args, read the resource's identity,
#  read the changed value, value before, value after, calls needed, calls allowed)
IN_PLACE = [
    ('log-retention',
     lambda t: edit(t, 'RetentionInDays: 7', 'RetentionInDays: 14'), [],
     lambda e: _log_group(e)[0]['arn'],
     lambda e: _log_group(e)[0].get('retentionInDays'), 7, 14,
     {'logs:PutRetentionPolicy'}, set()),
    ('vpc-tag',
     lambda t: edit(t, 'Value: !Sub "${AWS::StackName}-vpc"',
                    'Value: !Sub "${AWS::StackName}-network"'), [],
     lambda e: _vpc(e)['VpcId'],
     lambda e: {x['Key']: x['Value'] for x in _vpc(e)['Tags']}.get('Name'),
     f'{STACK}-vpc', f'{STACK}-network',
     {'ec2:CreateTags'}, {'ec2:CreateTags'}),
    ('sg-ingress',
     lambda t: edit(t, 'CidrIp: 10.0.0.0/16', 'CidrIp: 10.0.0.0/17'), [],
     lambda e: _sg(e)['GroupId'],
     lambda e: _ingress(_sg(e)), ['10.0.0.0/16'], ['10.0.0.0/17'],
     {'ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'}, set()),
    ('ecr-lifecycle',
     # the first repository (FlowRepository) keeps 5 images instead of 2
     lambda t: edit(t, '"countNumber": 2', '"countNumber": 5'), [],
     lambda e: e.client('ecr').describe_repositories(
         repositoryNames=['prefect-flows'])['repositories'][0]['repositoryArn'],
     lambda e: (_lifecycle(e, 'prefect-flows')['rules'][0]['selection']['countNumber'],
                _lifecycle(e, 'prefect-worker')['rules'][0]['selection']['countNumber']),
     (2, 2), (5, 2),
     {'ecr:PutLifecyclePolicy'}, set()),
    ('managed-policy-document',
     lambda t: edit(t, 'Action: ecr:GetAuthorizationToken',
                    'Action: [ecr:GetAuthorizationToken, ecr:DescribeRepositories]'), [],
     lambda e: _worker_policy(e)[0],
     lambda e: [s['Action'] for s in _worker_policy(e)[2]['Statement']
                if s.get('Sid') == 'EcrLogin'],
     ['ecr:GetAuthorizationToken'],
     [['ecr:GetAuthorizationToken', 'ecr:DescribeRepositories']],
     {'iam:CreatePolicyVersion'}, {'iam:CreatePolicyVersion', 'iam:DeletePolicyVersion'}),
    ('service-desired-count',
     lambda t: t, ['--param', 'WorkerDesiredCount=2'],
     lambda e: _service(e)['serviceArn'],
     lambda e: _service(e)['desiredCount'], 0, 2,
     {'ecs:UpdateService'}, set()),
]


@pytest.mark.parametrize('case', IN_PLACE, ids=[c[0] for c in IN_PLACE])
def test_update_in_place(emu, stack, case):
    _, change, extra, ident, read, old, new, needed, allowed = case
    id0 = ident(emu)
    assert read(emu) == old
    ids0 = stack.resources()

    r, calls = stack.apply(change(BASE), *extra)
    assert read(emu) == new, (calls, r)
    assert ident(emu) == id0
    for op in needed:
        assert calls.get(op, 0) >= 1, (op, calls)
    making = {op for op in calls if MAKING.search(op)} - allowed
    assert not making, (making, calls)
    # no resource changed its physical id, nothing appeared or vanished
    assert stack.resources() == ids0
    assert inventory_counts(emu) == expected_counts(SRC)
    stack.converged(*extra)
    if case[0] == 'managed-policy-document':
        # same ARN, a new default version
        assert _worker_policy(emu)[1] != 'v1'
    stack.destroy(*extra)


TASK_TRUST = '''            Action: sts:AssumeRole
      Tags:
        - Key: Name
          Value: !Sub "${AWS::StackName}-task"'''


def test_updates_in_place_in_sequence(emu, stack):
    """More in-place changes on one stack, one apply each: a property
    removed, tags added and removed, a second ingress rule, a new secret
    value, a role's trust policy and attached policies, and six policy
    documents in a row (IAM keeps at most five versions)."""
    iam = emu.client('iam')
    ids0 = stack.resources()
    text = BASE

    def step(new_text, needed, allowed=(), extra=()):
        nonlocal text
        text = new_text
        r, calls = stack.apply(text, *extra)
        for op in needed:
            assert calls.get(op, 0) >= 1, (op, calls, r)
        making = {op for op in calls if MAKING.search(op)} - set(needed) - set(allowed)
        assert not making, (making, calls)
        stack.converged(*extra)
        return calls

    # RetentionInDays removed: logs never expire again
    step(edit(text, '      RetentionInDays: 7\n', ''), ['logs:DeleteRetentionPolicy'])
    assert 'retentionInDays' not in _log_group(emu)[0]

    # a second tag on the VPC, then taken away again
    vpc_tag = '          Value: !Sub "${AWS::StackName}-vpc"\n'
    step(edit(text, vpc_tag, vpc_tag + '        - Key: team\n          Value: data\n'),
         ['ec2:CreateTags'])
    assert {x['Key']: x['Value'] for x in _vpc(emu)['Tags']}.get('team') == 'data'
    step(edit(text, '        - Key: team\n          Value: data\n', ''), ['ec2:DeleteTags'])
    assert 'team' not in {x['Key'] for x in _vpc(emu)['Tags']}

    # a second ingress rule next to the first
    rule = '          Description: anything inside the VPC, including the interface endpoints\n'
    step(edit(text, rule, rule + '        - IpProtocol: tcp\n          FromPort: 443\n'
              '          ToPort: 443\n          CidrIp: 192.168.0.0/16\n'),
         ['ec2:AuthorizeSecurityGroupIngress'])
    assert _ingress(_sg(emu)) == ['10.0.0.0/16', '192.168.0.0/16']

    # the API key (a NoEcho parameter) changes: the secret's value follows
    calls = step(text, [], extra=['--param', 'PrefectApiKey=pfk-rotated-not-real'])
    assert 'secretsmanager:CreateSecret' not in calls, calls
    sm = emu.client('secretsmanager')
    arn = sm.list_secrets()['SecretList'][0]['ARN']
    assert sm.get_secret_value(SecretId=arn)['SecretString'] == 'pfk-rotated-not-real'
    step(text, [])   # and back to PARAMS' key
    assert sm.get_secret_value(SecretId=arn)['SecretString'] != 'pfk-rotated-not-real'

    # the execution role loses its AWS managed policy; the task role's
    # trust policy gains an action
    step(edit(edit(text, '      ManagedPolicyArns:\n        - !Sub "arn:${AWS::Partition}:iam::aws:'
                         'policy/service-role/AmazonECSTaskExecutionRolePolicy"\n', ''),
              TASK_TRUST, TASK_TRUST.replace('Action: sts:AssumeRole',
                                             'Action: [sts:AssumeRole, sts:TagSession]')),
         ['iam:DetachRolePolicy', 'iam:UpdateAssumeRolePolicy'])
    assert iam.list_attached_role_policies(RoleName=ids0['ExecutionRole'])[
        'AttachedPolicies'] == []
    doc = iam.get_role(RoleName=ids0['TaskRole'])['Role']['AssumeRolePolicyDocument']
    doc = json.loads(doc) if isinstance(doc, str) else doc
    assert doc['Statement'][0]['Action'] == ['sts:AssumeRole', 'sts:TagSession']

    # six policy documents in a row: the oldest versions are pruned
    arn0 = _worker_policy(emu)[0]
    for i in range(1, 7):
        step(re.sub(r'Sid: EcrLogin\d*\n', f'Sid: EcrLogin{i}\n', text),
             ['iam:CreatePolicyVersion'], allowed=['iam:DeletePolicyVersion'])
        arn, _, doc = _worker_policy(emu)
        assert arn == arn0
        assert doc['Statement'][0]['Sid'] == f'EcrLogin{i}'
    assert len(iam.list_policy_versions(PolicyArn=arn0)['Versions']) <= 5

    assert stack.resources() == ids0
    assert inventory_counts(emu) == expected_counts(SRC)
    stack.destroy()


def test_failed_update_is_retried_in_place(emu, stack):
    """An update that AWS refuses (a 500 on PutRetentionPolicy) fails the
    apply; the next apply updates again in place. It must not replace the
    log group (delete-first: its logs would be lost) nor, through it, the
    task definitions."""
    text = edit(BASE, 'RetentionInDays: 7', 'RetentionInDays: 14')
    stack.tpl.write_text(text)
    arn0 = _log_group(emu)[0]['arn']
    ids0 = stack.resources()
    emu.control('config', {'error_rate': {'logs:PutRetentionPolicy': 1.0}})
    try:
        r = stack.cairn('apply', str(stack.tpl), '--auto-approve', *stack.common,
                        '--max-attempts', '1')
    finally:
        emu.control('config', {'error_rate': 0.0})
    assert r.rc == 1 and 'PutRetentionPolicy' in r.out, r
    assert _log_group(emu)[0].get('retentionInDays') == 7

    p = stack.cairn('plan', str(stack.tpl), *stack.common)
    assert p.rc == 0, p
    assert 'Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy' in p.out, p
    r, calls = stack.apply(text)
    assert calls.get('logs:PutRetentionPolicy') == 1, calls
    assert not {op for op in calls if MAKING.search(op)}, calls
    assert _log_group(emu)[0]['arn'] == arn0
    assert _log_group(emu)[0]['retentionInDays'] == 14
    assert stack.resources() == ids0
    stack.converged()
    stack.destroy()


# ---- replacements ----------------------------------------------------------

def test_replace_private_subnet(emu, stack):
    ec2 = emu.client('ec2')
    old = stack.resources()
    old_subnet = old['PrivateSubnet']
    eps0 = {e['VpcEndpointId'] for e in ec2.describe_vpc_endpoints()['VpcEndpoints']}
    svc0 = _service(emu)['serviceArn']

    r, calls = stack.apply(edit(BASE, 'CidrBlock: 10.0.1.0/24', 'CidrBlock: 10.0.3.0/24'))
    new = stack.resources()
    new_subnet = new['PrivateSubnet']
    assert new_subnet != old_subnet
    # the old subnet is gone, the new one has the new range
    subnets = {s['SubnetId']: s['CidrBlock'] for s in ec2.describe_subnets()['Subnets']}
    assert old_subnet not in subnets, subnets
    assert subnets[new_subnet] == '10.0.3.0/24'
    assert calls.get('ec2:CreateSubnet') == 1 and calls.get('ec2:DeleteSubnet') == 1, calls

    # what referenced it followed: the association (replaced), the three
    # endpoints and the service's network configuration (updated in place)
    assert new['PrivateSubnetRouteTableAssociation'] != old['PrivateSubnetRouteTableAssociation']
    rt = ec2.describe_route_tables(RouteTableIds=[new['PrivateRouteTable']])['RouteTables'][0]
    assert [a['SubnetId'] for a in rt['Associations'] if not a.get('Main')] == [new_subnet]
    eps = ec2.describe_vpc_endpoints()['VpcEndpoints']
    assert {e['VpcEndpointId'] for e in eps} == eps0          # not replaced
    for e in eps:
        assert e['SubnetIds'] == [new_subnet], e
    svc = _service(emu)
    assert svc['serviceArn'] == svc0
    assert svc['networkConfiguration']['awsvpcConfiguration']['subnets'] == [new_subnet]
    assert 'ec2:CreateVpcEndpoint' not in calls and 'ec2:DeleteVpcEndpoints' not in calls
    assert 'ecs:CreateService' not in calls and 'ecs:DeleteService' not in calls
    # what does not reference it stayed
    for lid in ('Vpc', 'PublicSubnet', 'NatGateway', 'PrivateRouteTable', 'TaskSecurityGroup'):
        assert new[lid] == old[lid], lid

    # order: the new subnet first, the dependents moved onto it, the old
    # subnet deleted last (after the old association)
    lines = progress(r.err)
    made = index(lines, 'PrivateSubnet: replace done')
    moved = [index(lines, f'{lid}: update done') for lid in
             ('SecretsManagerEndpoint', 'EcrDockerEndpoint', 'EcrApiEndpoint', 'WorkerService')]
    moved.append(index(lines, 'PrivateSubnetRouteTableAssociation: replace done'))
    old_assoc = index(lines, 'PrivateSubnetRouteTableAssociation~old: delete')
    gone = index(lines, 'PrivateSubnet~old: delete')
    assert made < min(moved) and max(moved) < gone and old_assoc < gone, lines

    assert inventory_counts(emu) == expected_counts(SRC)
    # the output follows the replacement
    o = stack.cairn('output', '--state', stack.state, '--json')
    assert o.rc == 0, o
    assert json.loads(o.out)['PrivateSubnetId']['value'] == new_subnet
    stack.converged()
    stack.destroy()


def test_replace_public_subnet_keeps_the_egress_ip(emu, stack):
    """The public subnet's range changes: the NAT gateway must move to the new
    subnet (SubnetId is create-only) and keep the same elastic IP, the one
    address partners allow-list; the private route follows the new gateway."""
    ec2 = emu.client('ec2')
    old = stack.resources()
    ip0 = ec2.describe_addresses()['Addresses'][0]['PublicIp']
    r, calls = stack.apply(edit(BASE, 'CidrBlock: 10.0.2.0/24', 'CidrBlock: 10.0.4.0/24'))
    new = stack.resources()
    assert new['PublicSubnet'] != old['PublicSubnet']
    assert new['NatGateway'] != old['NatGateway']
    assert new['NatEip'] == old['NatEip']
    nats = ec2.describe_nat_gateways(
        Filter=[{'Name': 'state', 'Values': ['pending', 'available']}])['NatGateways']
    assert len(nats) == 1 and nats[0]['SubnetId'] == new['PublicSubnet'], nats
    assert nats[0]['NatGatewayAddresses'][0]['PublicIp'] == ip0
    rt = ec2.describe_route_tables(RouteTableIds=[new['PrivateRouteTable']])['RouteTables'][0]
    assert [x.get('NatGatewayId') for x in rt['Routes']
            if x.get('DestinationCidrBlock') == '0.0.0.0/0'] == [new['NatGateway']]
    assert inventory_counts(emu) == expected_counts(SRC)
    stack.converged()
    stack.destroy()


def test_replace_vpc_moves_everything(emu, stack):
    """A new VPC range (the subnets and the rule move with it): everything in
    the VPC is replaced, the internet gateway and the elastic IP are kept,
    and at the end AWS holds exactly the template's resources."""
    ec2 = emu.client('ec2')
    old = stack.resources()
    r, calls = stack.apply(BASE.replace('10.0.', '10.1.'))
    new = stack.resources()
    for lid in ('Vpc', 'PublicSubnet', 'PrivateSubnet', 'NatGateway', 'TaskSecurityGroup',
                'SecretsManagerEndpoint', 'PrivateRouteTable'):
        assert new[lid] != old[lid], lid
    for lid in ('InternetGateway', 'NatEip', 'Cluster', 'WorkerService'):
        assert new[lid] == old[lid], lid
    vpcs = [v for v in ec2.describe_vpcs()['Vpcs'] if not v['IsDefault']]   # not the seed's
    assert [v['VpcId'] for v in vpcs] == [new['Vpc']] and vpcs[0]['CidrBlock'] == '10.1.0.0/16'
    assert inventory_counts(emu) == expected_counts(SRC)
    stack.converged()
    stack.destroy()


def test_replace_worker_image(emu, stack):
    ecs = emu.client('ecs')
    old_td = stack.resources()['WorkerTaskDefinition']
    assert _service(emu)['taskDefinition'] == old_td

    r, calls = stack.apply(BASE, '--param', 'WorkerImageTag=v2')
    new_td = stack.resources()['WorkerTaskDefinition']
    assert new_td != old_td
    assert new_td.rsplit(':', 1)[0] == old_td.rsplit(':', 1)[0]   # same family
    assert int(new_td.rsplit(':', 1)[1]) == int(old_td.rsplit(':', 1)[1]) + 1
    td = ecs.describe_task_definition(taskDefinition=new_td)['taskDefinition']
    assert td['containerDefinitions'][0]['image'].endswith('/prefect-worker:v2')
    assert td['status'] == 'ACTIVE'
    assert ecs.describe_task_definition(taskDefinition=old_td)['taskDefinition']['status'] \
        == 'INACTIVE'
    assert _service(emu)['taskDefinition'] == new_td
    assert calls.get('ecs:RegisterTaskDefinition') == 1, calls
    assert calls.get('ecs:UpdateService') == 1, calls
    assert calls.get('ecs:DeregisterTaskDefinition') == 1, calls
    assert 'ecs:CreateService' not in calls and 'ecs:DeleteService' not in calls
    assert json.loads(stack.cairn('output', '--state', stack.state, '--json').out)[
        'WorkerTaskDefinitionArn']['value'] == new_td
    # the emulator counts calls but keeps no order: the order is cairn's
    # progress lines (written as each step starts and ends)
    lines = progress(r.err)
    registered = index(lines, 'WorkerTaskDefinition: replace done')
    svc_start = index(lines, 'WorkerService: update (')
    svc_done = index(lines, 'WorkerService: update done')
    dereg = index(lines, 'WorkerTaskDefinition~old: delete (')
    assert registered < svc_start < svc_done < dereg, lines
    # the flow task definition did not change
    flows = ecs.list_task_definitions(familyPrefix=f'{STACK}-flow')['taskDefinitionArns']
    assert len(flows) == 1, flows
    stack.converged('--param', 'WorkerImageTag=v2')
    stack.destroy('--param', 'WorkerImageTag=v2')


def test_replace_cluster_moves_the_service(emu, stack):
    """A ClusterName given to the cluster replaces it; the service (whose
    Cluster is create-only) is replaced into the new cluster before the old
    service and then the old cluster go."""
    ecs = emu.client('ecs')
    old = stack.resources()
    text = edit(BASE, '  Cluster:\n    Type: AWS::ECS::Cluster\n    Properties:\n',
                '  Cluster:\n    Type: AWS::ECS::Cluster\n    Properties:\n'
                '      ClusterName: prefect-named\n')
    r, calls = stack.apply(text)
    new = stack.resources()
    assert new['WorkerService'] != old['WorkerService']
    clusters = ecs.list_clusters()['clusterArns']
    assert len(clusters) == 1 and clusters[0].endswith(':cluster/prefect-named'), clusters
    svcs = ecs.list_services(cluster='prefect-named')['serviceArns']
    assert svcs == [new['WorkerService']], svcs
    for op in ('ecs:CreateCluster', 'ecs:CreateService', 'ecs:DeleteService',
               'ecs:DeleteCluster'):
        assert calls.get(op) == 1, (op, calls)
    # the policy naming the cluster's ARN follows it (a new version)
    assert calls.get('iam:CreatePolicyVersion') == 1, calls
    lines = progress(r.err)
    assert (index(lines, 'Cluster: replace done') < index(lines, 'WorkerService: replace (')
            < index(lines, 'WorkerService: replace done')
            < index(lines, 'WorkerService~old: delete (')
            < index(lines, 'WorkerService~old: delete done')
            < index(lines, 'Cluster~old: delete (')), lines
    assert inventory_counts(emu) == expected_counts(SRC)
    stack.converged()
    stack.destroy()


# ---- removals --------------------------------------------------------------

SCRATCH = '''
  ScratchRepository:
    Type: AWS::ECR::Repository{policy}
    Properties:
      RepositoryName: cairn-scratch
'''


def _with_scratch(policy=''):
    return edit(BASE, '\n  # ---- logs and the API key ----',
                SCRATCH.format(policy=policy) + '\n  # ---- logs and the API key ----')


def _repos(emu):
    return sorted(r['repositoryName'] for r in
                  emu.client('ecr').describe_repositories()['repositories'])


def test_remove_shipped_endpoint(emu, stack):
    """EcrApiEndpoint taken out of the template (and out of the service's
    DependsOn) is deleted in AWS and leaves the state."""
    ec2 = emu.client('ec2')
    vpce = stack.resources()['EcrApiEndpoint']
    text = edit(BASE, '      - EcrApiEndpoint\n', '')
    start = text.index('  EcrApiEndpoint:\n')
    end = text.index('  # ---- images ----')
    text = text[:start] + text[end:]
    r, calls = stack.apply(text)
    assert calls.get('ec2:DeleteVpcEndpoints') == 1, calls
    assert not any(op.startswith('ec2:Create') and op != 'ec2:CreateTags' for op in calls), calls
    live = {e['VpcEndpointId']: e['State'] for e in ec2.describe_vpc_endpoints()['VpcEndpoints']}
    assert live.get(vpce, 'deleted') == 'deleted', live
    assert 'EcrApiEndpoint' not in stack.resources()
    want = expected_counts(SRC)
    want[('ec2', 'vpc-endpoint')] -= 1
    assert inventory_counts(emu) == want
    stack.converged()
    stack.destroy()


def test_remove_resource_deletes_it(emu, cairn):
    emu.reset()
    s = Stack(emu, cairn)
    s.apply(_with_scratch())
    assert 'cairn-scratch' in _repos(emu)
    assert 'ScratchRepository' in s.resources()

    r, calls = s.apply(BASE)
    assert calls.get('ecr:DeleteRepository') == 1, calls
    assert _repos(emu) == ['prefect-flows', 'prefect-worker']
    assert 'ScratchRepository' not in s.resources()
    assert inventory_counts(emu) == expected_counts(SRC)
    s.converged()
    s.destroy()


def test_remove_retained_resource_forgets_it(emu, cairn):
    emu.reset()
    s = Stack(emu, cairn)
    s.apply(_with_scratch('\n    DeletionPolicy: Retain'))
    assert 'ScratchRepository' in s.resources()

    r, calls = s.apply(BASE)
    assert 'ecr:DeleteRepository' not in calls, calls
    assert _repos(emu) == ['cairn-scratch', 'prefect-flows', 'prefect-worker']
    assert 'ScratchRepository' not in s.resources()
    s.converged()
    # destroy leaves the retained repository alone: it is no longer cairn's
    d = cairn('destroy', str(s.tpl), '--auto-approve', *s.common)
    assert d.rc == 0, d
    assert _repos(emu) == ['cairn-scratch']
    assert inventory_counts(emu) == {('ecr', 'repository'): 1}
    emu.client('ecr').delete_repository(repositoryName='cairn-scratch', force=True)
