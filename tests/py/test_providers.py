"""Every cairn provider against the real emulator, over HTTP.

Each test runs provider operations through the provider_driver test binary
(one create / read / update / delete per process) and checks the outcome
independently: with botocore against the same emulator and through the
emulator's inventory (GET /_emulator/inventory), never only through what
cairn printed.

Environment: CAIRN_BUILD (the meson build directory; default build/).
"""
import json
import os
import subprocess
import sys
import urllib.request

import botocore.config
import botocore.session
import pytest
from botocore.exceptions import ClientError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get('CAIRN_BUILD', os.path.join(ROOT, 'build'))
DRIVER = os.path.join(BUILD, 'tests', 'unit', 'providers', 'provider_driver')
RUN = os.path.join(ROOT, 'tests', 'emulator', 'run')

pytestmark = pytest.mark.skipif(not os.path.exists(DRIVER),
                                reason=f'{DRIVER} is not built')


class Emu:
    def __init__(self):
        self.proc = subprocess.Popen(['/usr/bin/python3', RUN, '--port', '0'],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith('listening on '), line
        self.url = line.split()[-1]
        self.session = botocore.session.get_session()
        self._clients = {}

    def client(self, service):
        if service not in self._clients:
            cfg = botocore.config.Config(retries={'total_max_attempts': 1})
            self._clients[service] = self.session.create_client(
                service, region_name='us-east-1', endpoint_url=self.url,
                aws_access_key_id='test', aws_secret_access_key='test', config=cfg)
        return self._clients[service]

    def control(self, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f'{self.url}/_emulator/{path}', data=data,
                                     method='POST' if data is not None else 'GET')
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b'null')

    def inventory(self):
        return self.control('inventory')

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope='module')
def emu():
    e = Emu()
    yield e
    e.stop()


@pytest.fixture(autouse=True)
def _calm(emu):
    emu.control('config', {'throttle_rate': 0, 'error_rate': 0,
                           'iam_propagation_seconds': 0})
    yield


TOKEN = iter(f'{i:032x}' for i in range(1, 10 ** 6))


class DriverError(Exception):
    def __init__(self, rc, stderr):
        super().__init__(stderr)
        self.rc = rc
        self.stderr = stderr


def drive(emu, op, rtype, *args, lid='Res', token=None, stack='teststack',
          timeout=120, check=True):
    env = dict(os.environ, AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test',
               AWS_REGION='us-east-1', CAIRN_POLL_MIN_MS='50', CAIRN_POLL_MAX_MS='200')
    env.pop('AWS_PROFILE', None)
    cmd = [DRIVER, '--endpoint-url', emu.url, '--stack', stack, '--logical-id', lid,
           '--token', token or next(TOKEN), '--timeout', str(timeout), op, rtype]
    cmd += [a if isinstance(a, str) else json.dumps(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout + 60)
    if p.returncode != 0:
        if check:
            raise DriverError(p.returncode, p.stderr)
        return p
    return json.loads(p.stdout) if p.stdout.strip() else None


def tags_of(tag_list, k='Key', v='Value'):
    return {t[k]: t[v] for t in tag_list or []}


def live(emu, rid):
    return any(r['id'] == rid for r in emu.inventory())


def gone(fn, code_part='NotFound'):
    with pytest.raises(ClientError) as e:
        fn()
    assert code_part in e.value.response['Error']['Code']


# ------------------------------------------------------------------ EC2

def test_vpc_lifecycle(emu):
    ec2 = emu.client('ec2')
    props = {'CidrBlock': '10.10.0.0/16', 'EnableDnsSupport': True,
             'EnableDnsHostnames': True, 'Tags': [{'Key': 'Name', 'Value': 'main'}]}
    r = drive(emu, 'create', 'AWS::EC2::VPC', props, lid='Vpc')
    vid = r['physical_id']
    assert r['attrs']['Ref'] == vid and r['attrs']['CidrBlock'] == '10.10.0.0/16'
    v = ec2.describe_vpcs(VpcIds=[vid])['Vpcs'][0]
    # cairn:token: the create's token, by which a lost answer's VPC is found
    assert tags_of(v['Tags']) == {'Name': 'main', 'cairn:stack': 'teststack',
                                  'cairn:logical-id': 'Vpc',
                                  'cairn:token': tags_of(v['Tags'])['cairn:token']}
    assert len(tags_of(v['Tags'])['cairn:token']) == 32
    for attr, key in (('enableDnsSupport', 'EnableDnsSupport'),
                      ('enableDnsHostnames', 'EnableDnsHostnames')):
        assert ec2.describe_vpc_attribute(VpcId=vid, Attribute=attr)[key]['Value']
    sg = ec2.describe_security_groups(Filters=[
        {'Name': 'vpc-id', 'Values': [vid]}, {'Name': 'group-name', 'Values': ['default']}])
    assert r['attrs']['DefaultSecurityGroup'] == sg['SecurityGroups'][0]['GroupId']

    got = drive(emu, 'read', 'AWS::EC2::VPC', vid, lid='Vpc')
    # AWS's default tenancy is reported too
    assert got['props'] == dict(props, InstanceTenancy='default')
    # find() adopts it by its cairn tags; another logical id does not
    assert drive(emu, 'find', 'AWS::EC2::VPC', {}, lid='Vpc')['physical_id'] == vid
    assert drive(emu, 'find', 'AWS::EC2::VPC', {}, lid='Other', check=False).returncode == 4

    new = dict(props, EnableDnsHostnames=False, Tags=[{'Key': 'Env', 'Value': 'dev'}])
    drive(emu, 'update', 'AWS::EC2::VPC', vid, props, new, lid='Vpc')
    assert not ec2.describe_vpc_attribute(
        VpcId=vid, Attribute='enableDnsHostnames')['EnableDnsHostnames']['Value']
    v = ec2.describe_vpcs(VpcIds=[vid])['Vpcs'][0]
    got = tags_of(v['Tags'])
    assert got.pop('cairn:token')  # the create's, kept
    assert got == {'Env': 'dev', 'cairn:stack': 'teststack', 'cairn:logical-id': 'Vpc'}

    drive(emu, 'delete', 'AWS::EC2::VPC', vid, new)
    gone(lambda: ec2.describe_vpcs(VpcIds=[vid]))
    # deleting again is success; reading is "not found" (exit 4)
    drive(emu, 'delete', 'AWS::EC2::VPC', vid, new)
    assert drive(emu, 'read', 'AWS::EC2::VPC', vid, check=False).returncode == 4


def make_vpc(emu, cidr='10.20.0.0/16', lid='Vpc'):
    return drive(emu, 'create', 'AWS::EC2::VPC',
                 {'CidrBlock': cidr, 'EnableDnsSupport': True,
                  'EnableDnsHostnames': True}, lid=lid)['physical_id']


def test_network_stack(emu):
    """Subnet, IGW + attachment, EIP, NAT, route table, routes, association:
    a public/private layout built and torn down in dependency order."""
    ec2 = emu.client('ec2')
    vid = make_vpc(emu)
    sub_p = {'VpcId': vid, 'CidrBlock': '10.20.1.0/24', 'MapPublicIpOnLaunch': True,
             'AvailabilityZone': 'us-east-1a'}
    sub = drive(emu, 'create', 'AWS::EC2::Subnet', sub_p, lid='Public')
    sid = sub['physical_id']
    assert sub['attrs']['AvailabilityZone'] == 'us-east-1a'
    s = ec2.describe_subnets(SubnetIds=[sid])['Subnets'][0]
    assert s['MapPublicIpOnLaunch'] and s['VpcId'] == vid
    sub_p2 = dict(sub_p, MapPublicIpOnLaunch=False)
    drive(emu, 'update', 'AWS::EC2::Subnet', sid, sub_p, sub_p2)
    assert not ec2.describe_subnets(SubnetIds=[sid])['Subnets'][0]['MapPublicIpOnLaunch']

    igw = drive(emu, 'create', 'AWS::EC2::InternetGateway', {}, lid='Igw')['physical_id']
    att_p = {'InternetGatewayId': igw, 'VpcId': vid}
    att = drive(emu, 'create', 'AWS::EC2::VPCGatewayAttachment', att_p)
    assert att['physical_id'] == f'{igw}|{vid}'
    g = ec2.describe_internet_gateways(InternetGatewayIds=[igw])['InternetGateways'][0]
    assert g['Attachments'][0]['VpcId'] == vid
    assert drive(emu, 'read', 'AWS::EC2::VPCGatewayAttachment',
                 att['physical_id'])['props'] == att_p

    eip = drive(emu, 'create', 'AWS::EC2::EIP', {'Domain': 'vpc'}, lid='NatIp')
    alloc = eip['physical_id']
    addr = ec2.describe_addresses(AllocationIds=[alloc])['Addresses'][0]
    # CloudFormation: Ref of an EIP is the public IP
    assert eip['attrs']['Ref'] == addr['PublicIp']
    assert eip['attrs']['AllocationId'] == alloc

    nat_p = {'SubnetId': sid, 'AllocationId': alloc}
    tok = next(TOKEN)
    nat = drive(emu, 'create', 'AWS::EC2::NatGateway', nat_p, token=tok, lid='Nat')
    nid = nat['physical_id']
    n = ec2.describe_nat_gateways(NatGatewayIds=[nid])['NatGateways'][0]
    assert n['State'] == 'available'
    assert tags_of(n['Tags'])['cairn:logical-id'] == 'Nat'
    assert nat['attrs']['EniId'] == n['NatGatewayAddresses'][0]['NetworkInterfaceId']
    # the same ClientToken: the same gateway, not a second one
    assert drive(emu, 'create', 'AWS::EC2::NatGateway', nat_p, token=tok,
                 lid='Nat')['physical_id'] == nid

    rtb = drive(emu, 'create', 'AWS::EC2::RouteTable', {'VpcId': vid},
                lid='Rt')['physical_id']
    route_p = {'RouteTableId': rtb, 'DestinationCidrBlock': '0.0.0.0/0', 'GatewayId': igw}
    route = drive(emu, 'create', 'AWS::EC2::Route', route_p)
    assert route['physical_id'] == f'{rtb}|0.0.0.0/0'
    # a retried create of the same route is success
    drive(emu, 'create', 'AWS::EC2::Route', route_p)
    routes = ec2.describe_route_tables(RouteTableIds=[rtb])['RouteTables'][0]['Routes']
    assert [r.get('GatewayId') for r in routes
            if r.get('DestinationCidrBlock') == '0.0.0.0/0'] == [igw]
    # same destination, another target: a conflict
    p = drive(emu, 'create', 'AWS::EC2::Route',
              dict(route_p, GatewayId=None, NatGatewayId=nid), check=False)
    assert p.returncode == 1 and 'RouteAlreadyExists' in p.stderr
    # update: ReplaceRoute to the NAT gateway
    route_p2 = {'RouteTableId': rtb, 'DestinationCidrBlock': '0.0.0.0/0',
                'NatGatewayId': nid}
    drive(emu, 'update', 'AWS::EC2::Route', route['physical_id'], route_p, route_p2)
    routes = ec2.describe_route_tables(RouteTableIds=[rtb])['RouteTables'][0]['Routes']
    assert [r.get('NatGatewayId') for r in routes
            if r.get('DestinationCidrBlock') == '0.0.0.0/0'] == [nid]
    assert drive(emu, 'read', 'AWS::EC2::Route', route['physical_id'])['props'] == route_p2

    assoc = drive(emu, 'create', 'AWS::EC2::SubnetRouteTableAssociation',
                  {'SubnetId': sid, 'RouteTableId': rtb})['physical_id']
    assocs = ec2.describe_route_tables(RouteTableIds=[rtb])['RouteTables'][0]['Associations']
    assert any(a['RouteTableAssociationId'] == assoc and a['SubnetId'] == sid
               for a in assocs)

    # batched read for the drift check: one id gone
    many = drive(emu, 'read-many', 'AWS::EC2::Subnet', sid, 'subnet-0123456789abcdef0')
    assert many[0]['physical_id'] == sid and many[1] is None

    # teardown, reverse order
    drive(emu, 'delete', 'AWS::EC2::SubnetRouteTableAssociation', assoc, {})
    drive(emu, 'delete', 'AWS::EC2::Route', route['physical_id'], route_p2)
    drive(emu, 'delete', 'AWS::EC2::RouteTable', rtb, {})
    drive(emu, 'delete', 'AWS::EC2::NatGateway', nid, nat_p)
    n = ec2.describe_nat_gateways(NatGatewayIds=[nid])['NatGateways']
    assert not n or n[0]['State'] == 'deleted'
    drive(emu, 'delete', 'AWS::EC2::EIP', alloc, {})
    gone(lambda: ec2.describe_addresses(AllocationIds=[alloc]))
    drive(emu, 'delete', 'AWS::EC2::VPCGatewayAttachment', att['physical_id'], att_p)
    drive(emu, 'delete', 'AWS::EC2::InternetGateway', igw, {})
    gone(lambda: ec2.describe_internet_gateways(InternetGatewayIds=[igw]))
    drive(emu, 'delete', 'AWS::EC2::Subnet', sid, sub_p2)
    drive(emu, 'delete', 'AWS::EC2::VPC', vid, {})
    for rid in (vid, sid, igw, alloc, rtb):
        assert not live(emu, rid)


def test_nat_gateway_failure_is_an_error(emu):
    """No internet gateway attached: the gateway ends up failed and the
    error carries AWS's failure code."""
    vid = make_vpc(emu, '10.30.0.0/16')
    sid = drive(emu, 'create', 'AWS::EC2::Subnet',
                {'VpcId': vid, 'CidrBlock': '10.30.1.0/24'})['physical_id']
    alloc = drive(emu, 'create', 'AWS::EC2::EIP', {})['physical_id']
    p = drive(emu, 'create', 'AWS::EC2::NatGateway',
              {'SubnetId': sid, 'AllocationId': alloc}, lid='Nat', check=False)
    assert p.returncode == 1
    assert 'Gateway.NotAttached' in p.stderr and 'AWS::EC2::NatGateway Nat' in p.stderr
    drive(emu, 'delete', 'AWS::EC2::EIP', alloc, {})
    drive(emu, 'delete', 'AWS::EC2::Subnet', sid, {})
    drive(emu, 'delete', 'AWS::EC2::VPC', vid, {})


def test_security_groups(emu):
    ec2 = emu.client('ec2')
    vid = make_vpc(emu, '10.40.0.0/16')
    props = {'GroupDescription': 'web', 'VpcId': vid,
             'SecurityGroupIngress': [
                 {'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443,
                  'CidrIp': '10.0.0.0/8', 'Description': 'https'}],
             'SecurityGroupEgress': [
                 {'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443,
                  'CidrIp': '0.0.0.0/0'}]}
    r = drive(emu, 'create', 'AWS::EC2::SecurityGroup', props, lid='WebSg')
    gid = r['physical_id']
    assert r['attrs']['GroupId'] == r['attrs']['Id'] == r['attrs']['Ref'] == gid
    g = ec2.describe_security_groups(GroupIds=[gid])['SecurityGroups'][0]
    # a generated GroupName: <stack>-<LogicalId>-<suffix>
    assert g['GroupName'].startswith('teststack-WebSg-')
    assert [(p['IpProtocol'], p.get('FromPort'), p['IpRanges'][0]['CidrIp'])
            for p in g['IpPermissions']] == [('tcp', 443, '10.0.0.0/8')]
    # the default allow-all egress was revoked, ours added
    assert [(p['IpProtocol'], p.get('FromPort'), p['IpRanges'][0]['CidrIp'])
            for p in g['IpPermissionsEgress']] == [('tcp', 443, '0.0.0.0/0')]

    # the template's allow-all egress with a description: AWS's default
    # rule is kept and described, and reads back as listed
    desc_p = {'GroupDescription': 'out', 'VpcId': vid, 'SecurityGroupEgress': [
        {'IpProtocol': '-1', 'CidrIp': '0.0.0.0/0', 'Description': 'all out'}]}
    dg = drive(emu, 'create', 'AWS::EC2::SecurityGroup', desc_p, lid='DescSg')['physical_id']
    eg = ec2.describe_security_groups(GroupIds=[dg])['SecurityGroups'][0][
        'IpPermissionsEgress']
    assert [(p['IpProtocol'], p['IpRanges'][0].get('Description')) for p in eg] == \
        [('-1', 'all out')]
    assert drive(emu, 'read', 'AWS::EC2::SecurityGroup', dg)['props'][
        'SecurityGroupEgress'] == desc_p['SecurityGroupEgress']
    drive(emu, 'delete', 'AWS::EC2::SecurityGroup', dg, desc_p)

    # a second group referenced by a standalone ingress rule
    other = drive(emu, 'create', 'AWS::EC2::SecurityGroup',
                  {'GroupDescription': 'app', 'VpcId': vid}, lid='AppSg')['physical_id']
    g2 = ec2.describe_security_groups(GroupIds=[other])['SecurityGroups'][0]
    # no egress listed: AWS's default stays
    assert [(p['IpProtocol'], p['IpRanges'][0]['CidrIp'])
            for p in g2['IpPermissionsEgress']] == [('-1', '0.0.0.0/0')]
    ing_p = {'GroupId': gid, 'IpProtocol': 'tcp', 'FromPort': 8080, 'ToPort': 8080,
             'SourceSecurityGroupId': other, 'Description': 'from app'}
    ing = drive(emu, 'create', 'AWS::EC2::SecurityGroupIngress', ing_p)
    rid = ing['physical_id']
    assert rid.startswith('sgr-')
    rule = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])[
        'SecurityGroupRules'][0]
    assert rule['ReferencedGroupInfo']['GroupId'] == other and not rule['IsEgress']
    got = drive(emu, 'read', 'AWS::EC2::SecurityGroupIngress', rid)['props']
    assert got['SourceSecurityGroupId'] == other and str(got['FromPort']) == '8080'
    drive(emu, 'update', 'AWS::EC2::SecurityGroupIngress', rid, ing_p,
          dict(ing_p, Description='from the app tier'))
    rule = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])[
        'SecurityGroupRules'][0]
    assert rule['Description'] == 'from the app tier'

    # update of inline rules: diff old vs new template rules; the
    # standalone rule is not touched
    new = dict(props, SecurityGroupIngress=[
        {'IpProtocol': 'tcp', 'FromPort': 80, 'ToPort': 80, 'CidrIp': '10.0.0.0/8'}])
    del new['SecurityGroupEgress']
    drive(emu, 'update', 'AWS::EC2::SecurityGroup', gid, props, new)
    g = ec2.describe_security_groups(GroupIds=[gid])['SecurityGroups'][0]
    ingress = sorted((p['IpProtocol'], p.get('FromPort')) for p in g['IpPermissions'])
    assert ingress == [('tcp', 80), ('tcp', 8080)]
    # egress back to AWS's default
    assert [(p['IpProtocol'], p['IpRanges'][0]['CidrIp'])
            for p in g['IpPermissionsEgress']] == [('-1', '0.0.0.0/0')]

    eg_p = {'GroupId': other, 'IpProtocol': 'udp', 'FromPort': 53, 'ToPort': 53,
            'CidrIp': '10.0.0.2/32'}
    eg = drive(emu, 'create', 'AWS::EC2::SecurityGroupEgress', eg_p)['physical_id']
    rule = ec2.describe_security_group_rules(SecurityGroupRuleIds=[eg])[
        'SecurityGroupRules'][0]
    assert rule['IsEgress'] and rule['CidrIpv4'] == '10.0.0.2/32'
    drive(emu, 'delete', 'AWS::EC2::SecurityGroupEgress', eg, eg_p)
    gone(lambda: ec2.describe_security_group_rules(SecurityGroupRuleIds=[eg]))

    drive(emu, 'delete', 'AWS::EC2::SecurityGroupIngress', rid, ing_p)
    gone(lambda: ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid]))
    drive(emu, 'delete', 'AWS::EC2::SecurityGroup', gid, new)
    drive(emu, 'delete', 'AWS::EC2::SecurityGroup', other, {})
    gone(lambda: ec2.describe_security_groups(GroupIds=[gid]))
    drive(emu, 'delete', 'AWS::EC2::VPC', vid, {})


def test_vpc_endpoint(emu):
    ec2 = emu.client('ec2')
    vid = make_vpc(emu, '10.50.0.0/16')
    sid = drive(emu, 'create', 'AWS::EC2::Subnet',
                {'VpcId': vid, 'CidrBlock': '10.50.1.0/24'})['physical_id']
    gid = drive(emu, 'create', 'AWS::EC2::SecurityGroup',
                {'GroupDescription': 'vpce', 'VpcId': vid}, lid='EpSg')['physical_id']
    props = {'VpcId': vid, 'ServiceName': 'com.amazonaws.us-east-1.secretsmanager',
             'VpcEndpointType': 'Interface', 'SubnetIds': [sid],
             'SecurityGroupIds': [gid], 'PrivateDnsEnabled': True}
    r = drive(emu, 'create', 'AWS::EC2::VPCEndpoint', props, lid='SmEndpoint')
    eid = r['physical_id']
    e = ec2.describe_vpc_endpoints(VpcEndpointIds=[eid])['VpcEndpoints'][0]
    assert e['State'].lower() == 'available'
    assert e['SubnetIds'] == [sid]
    assert r['attrs']['NetworkInterfaceIds'] == e['NetworkInterfaceIds']
    got = drive(emu, 'read', 'AWS::EC2::VPCEndpoint', eid)['props']
    assert got['SubnetIds'] == [sid] and got['SecurityGroupIds'] == [gid]
    drive(emu, 'delete', 'AWS::EC2::VPCEndpoint', eid, props)
    e = ec2.describe_vpc_endpoints(VpcEndpointIds=[eid])['VpcEndpoints']
    assert not e or e[0]['State'].lower() == 'deleted'
    # already gone: DeleteVpcEndpoints answers 200 with the failure under
    # "unsuccessful"; a NotFound there is success
    drive(emu, 'delete', 'AWS::EC2::VPCEndpoint', eid, props)
    assert drive(emu, 'read', 'AWS::EC2::VPCEndpoint', eid, check=False).returncode == 4
    drive(emu, 'delete', 'AWS::EC2::SecurityGroup', gid, {})
    drive(emu, 'delete', 'AWS::EC2::Subnet', sid, {})
    drive(emu, 'delete', 'AWS::EC2::VPC', vid, {})


# ------------------------------------------------------------------ IAM

ASSUME = {'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]}
READ_LOGS = {'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Action': ['logs:PutLogEvents'], 'Resource': '*'}]}
EXEC_POLICY = 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy'


def test_iam_role(emu):
    iam = emu.client('iam')
    props = {'AssumeRolePolicyDocument': ASSUME,
             'Policies': [{'PolicyName': 'logs', 'PolicyDocument': READ_LOGS}],
             'ManagedPolicyArns': [EXEC_POLICY],
             'Tags': [{'Key': 'team', 'Value': 'core'}]}
    tok = next(TOKEN)
    r = drive(emu, 'create', 'AWS::IAM::Role', props, lid='TaskRole', token=tok)
    name = r['physical_id']
    # after a crash, find() adopts the role by the name the token generates
    # and its cairn tags; a create retried with the same token says
    # "already exists" and leaves adoption to the executor's find()
    assert drive(emu, 'find', 'AWS::IAM::Role', props, lid='TaskRole',
                 token=tok)['physical_id'] == name
    p = drive(emu, 'create', 'AWS::IAM::Role', props, lid='TaskRole', token=tok,
              check=False)
    assert p.returncode == 1 and p.stderr.startswith('error already_exists'), p.stderr
    assert drive(emu, 'find', 'AWS::IAM::Role', props, lid='TaskRole',
                 check=False).returncode == 4
    # the same name under another stack's tags is never returned
    p = drive(emu, 'find', 'AWS::IAM::Role', dict(props, RoleName=name), lid='TaskRole',
              token=tok, stack='otherstack', check=False)
    assert p.returncode == 1 and 'already_exists' in p.stderr, p.stderr
    assert name.startswith('teststack-TaskRole-') and len(name) <= 64
    role = iam.get_role(RoleName=name)['Role']
    assert r['attrs']['Arn'] == role['Arn'] and r['attrs']['RoleId'] == role['RoleId']
    assert tags_of(role['Tags']) == {'team': 'core', 'cairn:stack': 'teststack',
                                     'cairn:logical-id': 'TaskRole'}
    assert iam.list_role_policies(RoleName=name)['PolicyNames'] == ['logs']
    assert [p['PolicyArn'] for p in iam.list_attached_role_policies(
        RoleName=name)['AttachedPolicies']] == [EXEC_POLICY]
    # read back: URL-decoded documents, the template's shape
    got = drive(emu, 'read', 'AWS::IAM::Role', name)['props']
    assert got['AssumeRolePolicyDocument'] == ASSUME
    assert got['Policies'] == props['Policies']
    assert got['ManagedPolicyArns'] == [EXEC_POLICY]

    new = dict(props, Policies=[{'PolicyName': 'logs2', 'PolicyDocument': READ_LOGS}],
               ManagedPolicyArns=[], Description='task role')
    drive(emu, 'update', 'AWS::IAM::Role', name, props, new)
    assert iam.list_role_policies(RoleName=name)['PolicyNames'] == ['logs2']
    assert iam.list_attached_role_policies(RoleName=name)['AttachedPolicies'] == []
    assert iam.get_role(RoleName=name)['Role']['Description'] == 'task role'

    # delete detaches and deletes what is attached first
    iam.attach_role_policy(RoleName=name, PolicyArn=EXEC_POLICY)
    drive(emu, 'delete', 'AWS::IAM::Role', name, new)
    gone(lambda: iam.get_role(RoleName=name), 'NoSuchEntity')


def test_iam_managed_policy_versions_and_policies(emu):
    iam = emu.client('iam')
    role = drive(emu, 'create', 'AWS::IAM::Role', {'AssumeRolePolicyDocument': ASSUME},
                 lid='R')['physical_id']
    doc = lambda i: {'Version': '2012-10-17', 'Statement': [  # noqa: E731
        {'Effect': 'Allow', 'Action': f's3:GetObject{i}', 'Resource': '*'}]}
    props = {'PolicyDocument': doc(0), 'Roles': [role]}
    r = drive(emu, 'create', 'AWS::IAM::ManagedPolicy', props, lid='Mp')
    arn = r['physical_id']
    assert r['attrs']['Ref'] == arn
    assert [p['PolicyArn'] for p in iam.list_attached_role_policies(
        RoleName=role)['AttachedPolicies']] == [arn]
    old = props
    for i in range(1, 7):
        new = dict(props, PolicyDocument=doc(i))
        drive(emu, 'update', 'AWS::IAM::ManagedPolicy', arn, old, new)
        old = new
    versions = iam.list_policy_versions(PolicyArn=arn)['Versions']
    assert len(versions) <= 5
    default = [v for v in versions if v['IsDefaultVersion']][0]
    d = iam.get_policy_version(PolicyArn=arn, VersionId=default['VersionId'])
    assert d['PolicyVersion']['Document'] == doc(6)
    assert drive(emu, 'read', 'AWS::IAM::ManagedPolicy', arn)['props'][
        'PolicyDocument'] == doc(6)

    # AWS::IAM::Policy on the role, and AWS::IAM::RolePolicy
    pol_p = {'PolicyName': 'extra', 'PolicyDocument': READ_LOGS, 'Roles': [role]}
    pol = drive(emu, 'create', 'AWS::IAM::Policy', pol_p)
    assert iam.get_role_policy(RoleName=role, PolicyName='extra')['PolicyDocument'] \
        == READ_LOGS
    assert drive(emu, 'read', 'AWS::IAM::Policy', pol['physical_id'],
                 pol['attrs'])['props']['PolicyDocument'] == READ_LOGS
    rp_p = {'PolicyName': 'inline2', 'RoleName': role, 'PolicyDocument': doc(9)}
    rp = drive(emu, 'create', 'AWS::IAM::RolePolicy', rp_p)['physical_id']
    assert rp == f'inline2|{role}'
    drive(emu, 'update', 'AWS::IAM::RolePolicy', rp, rp_p, dict(rp_p, PolicyDocument=doc(8)))
    assert iam.get_role_policy(RoleName=role, PolicyName='inline2')['PolicyDocument'] \
        == doc(8)
    drive(emu, 'delete', 'AWS::IAM::RolePolicy', rp, rp_p)
    drive(emu, 'delete', 'AWS::IAM::Policy', pol['physical_id'], pol_p, pol['attrs'])
    assert iam.list_role_policies(RoleName=role)['PolicyNames'] == []

    drive(emu, 'delete', 'AWS::IAM::ManagedPolicy', arn, old)
    gone(lambda: iam.get_policy(PolicyArn=arn), 'NoSuchEntity')
    drive(emu, 'delete', 'AWS::IAM::Role', role, {})


# ------------------------------------------------------- ECS, ECR, Logs

def test_ecs_cluster_taskdef_service(emu):
    ecs = emu.client('ecs')
    ec2 = emu.client('ec2')
    emu.control('config', {'iam_propagation_seconds': 2})
    role = drive(emu, 'create', 'AWS::IAM::Role',
                 {'AssumeRolePolicyDocument': ASSUME, 'ManagedPolicyArns': [EXEC_POLICY]},
                 lid='ExecRole')
    role_arn = role['attrs']['Arn']
    cl = drive(emu, 'create', 'AWS::ECS::Cluster',
               {'ClusterSettings': [{'Name': 'containerInsights', 'Value': 'enabled'}],
                'Tags': [{'Key': 'Env', 'Value': 'dev'}]}, lid='Cluster')
    cname = cl['physical_id']
    c = ecs.describe_clusters(clusters=[cname], include=['TAGS'])['clusters'][0]
    assert c['status'] == 'ACTIVE' and cl['attrs']['Arn'] == c['clusterArn']
    assert tags_of(c['tags'], 'key', 'value') == {'Env': 'dev', 'cairn:stack': 'teststack',
                                                  'cairn:logical-id': 'Cluster'}
    log = drive(emu, 'create', 'AWS::Logs::LogGroup', {'RetentionInDays': 7},
                lid='Logs')['physical_id']
    td_p = {'Family': 'web', 'Cpu': 256, 'Memory': '512', 'NetworkMode': 'awsvpc',
            'RequiresCompatibilities': ['FARGATE'], 'ExecutionRoleArn': role_arn,
            'ContainerDefinitions': [{
                'Name': 'web', 'Image': 'nginx:1', 'Essential': True,
                'PortMappings': [{'ContainerPort': '80'}],
                'LogConfiguration': {'LogDriver': 'awslogs', 'Options': {
                    'awslogs-group': log, 'awslogs-region': 'us-east-1',
                    'awslogs-stream-prefix': 'web'}}}]}
    # the role is 0 s old and the emulator's propagation window is 2 s:
    # RegisterTaskDefinition fails at first and the provider retries
    before = emu.control('calls').get('ecs:RegisterTaskDefinition', 0)
    td = drive(emu, 'create', 'AWS::ECS::TaskDefinition', td_p, lid='Td')
    assert emu.control('calls').get('ecs:RegisterTaskDefinition', 0) - before >= 2
    td_arn = td['physical_id']
    d = ecs.describe_task_definition(taskDefinition=td_arn)['taskDefinition']
    assert d['cpu'] == '256' and d['containerDefinitions'][0]['portMappings'][0][
        'containerPort'] == 80
    assert d['containerDefinitions'][0]['logConfiguration']['options'][
        'awslogs-group'] == log
    got = drive(emu, 'read', 'AWS::ECS::TaskDefinition', td_arn)['props']
    assert got['Family'] == 'web' and got['ExecutionRoleArn'] == role_arn
    # free-form maps keep their keys as written
    assert got['ContainerDefinitions'][0]['LogConfiguration']['Options'] == \
        td_p['ContainerDefinitions'][0]['LogConfiguration']['Options']

    vid = make_vpc(emu, '10.60.0.0/16')
    sid = drive(emu, 'create', 'AWS::EC2::Subnet',
                {'VpcId': vid, 'CidrBlock': '10.60.1.0/24'})['physical_id']
    gid = drive(emu, 'create', 'AWS::EC2::SecurityGroup',
                {'GroupDescription': 'svc', 'VpcId': vid}, lid='SvcSg')['physical_id']
    svc_p = {'Cluster': cname, 'TaskDefinition': td_arn, 'DesiredCount': 1,
             'LaunchType': 'FARGATE', 'NetworkConfiguration': {'AwsvpcConfiguration': {
                 'Subnets': [sid], 'SecurityGroups': [gid], 'AssignPublicIp': 'DISABLED'}}}
    svc = drive(emu, 'create', 'AWS::ECS::Service', svc_p, lid='Web')
    sarn = svc['physical_id']
    s = ecs.describe_services(cluster=cname, services=[sarn])['services'][0]
    assert s['status'] == 'ACTIVE' and s['desiredCount'] == 1
    assert s['serviceName'] == svc['attrs']['Name']
    assert s['networkConfiguration']['awsvpcConfiguration']['subnets'] == [sid]

    # a new revision, then the service moves to it with two tasks
    td_p2 = dict(td_p, Memory='1024')
    td2 = drive(emu, 'update', 'AWS::ECS::TaskDefinition', td_arn, td_p, td_p2)['physical_id']
    assert td2 != td_arn and td2.endswith(':2')
    assert ecs.describe_task_definition(taskDefinition=td_arn)['taskDefinition'][
        'status'] == 'INACTIVE'
    svc_p2 = dict(svc_p, TaskDefinition=td2, DesiredCount=2)
    drive(emu, 'update', 'AWS::ECS::Service', sarn, svc_p, svc_p2)
    s = ecs.describe_services(cluster=cname, services=[sarn])['services'][0]
    assert s['desiredCount'] == 2 and s['taskDefinition'] == td2

    drive(emu, 'delete', 'AWS::ECS::Service', sarn, svc_p2, timeout=180)
    s = ecs.describe_services(cluster=cname, services=[sarn])['services']
    assert not s or s[0]['status'] == 'INACTIVE'
    drive(emu, 'delete', 'AWS::ECS::TaskDefinition', td2, td_p2)
    drive(emu, 'delete', 'AWS::ECS::Cluster', cname, {})
    c = ecs.describe_clusters(clusters=[cname])
    assert not c['clusters'] or c['clusters'][0]['status'] == 'INACTIVE'
    assert drive(emu, 'read', 'AWS::ECS::Cluster', cname, check=False).returncode == 4
    # task ENIs linger a moment after the service: the SG/subnet deletes
    # retry DependencyViolation
    drive(emu, 'delete', 'AWS::EC2::SecurityGroup', gid, {})
    drive(emu, 'delete', 'AWS::EC2::Subnet', sid, {})
    drive(emu, 'delete', 'AWS::EC2::VPC', vid, {})
    assert not ec2.describe_vpcs(Filters=[{'Name': 'vpc-id', 'Values': [vid]}])['Vpcs']
    drive(emu, 'delete', 'AWS::Logs::LogGroup', log, {})
    drive(emu, 'delete', 'AWS::IAM::Role', role['physical_id'], {})


LIFECYCLE = {'rules': [{'rulePriority': 1, 'description': 'keep 10',
                        'selection': {'tagStatus': 'any', 'countType': 'imageCountMoreThan',
                                      'countNumber': 10},
                        'action': {'type': 'expire'}}]}


def test_ecr_repository(emu):
    ecr = emu.client('ecr')
    props = {'ImageTagMutability': 'IMMUTABLE', 'EmptyOnDelete': True,
             'LifecyclePolicy': {'LifecyclePolicyText': json.dumps(LIFECYCLE)},
             'Tags': [{'Key': 'Env', 'Value': 'dev'}]}
    r = drive(emu, 'create', 'AWS::ECR::Repository', props, lid='AppRepo')
    name = r['physical_id']
    # generated repository names are lowercase
    assert name == name.lower() and name.startswith('teststack-apprepo-')
    repo = ecr.describe_repositories(repositoryNames=[name])['repositories'][0]
    assert r['attrs']['Arn'] == repo['repositoryArn']
    assert r['attrs']['RepositoryUri'] == repo['repositoryUri']
    assert repo['imageTagMutability'] == 'IMMUTABLE'
    assert json.loads(ecr.get_lifecycle_policy(repositoryName=name)[
        'lifecyclePolicyText']) == LIFECYCLE
    tags = ecr.list_tags_for_resource(resourceArn=repo['repositoryArn'])['tags']
    assert tags_of(tags) == {'Env': 'dev', 'cairn:stack': 'teststack',
                             'cairn:logical-id': 'AppRepo'}
    new = dict(props, ImageTagMutability='MUTABLE', Tags=[])
    drive(emu, 'update', 'AWS::ECR::Repository', name, props, new)
    assert ecr.describe_repositories(repositoryNames=[name])['repositories'][0][
        'imageTagMutability'] == 'MUTABLE'
    assert 'Env' not in tags_of(ecr.list_tags_for_resource(
        resourceArn=repo['repositoryArn'])['tags'])
    # an image in it: EmptyOnDelete deletes with force
    ecr.put_image(repositoryName=name, imageManifest='{"schemaVersion":2}', imageTag='v1')
    drive(emu, 'delete', 'AWS::ECR::Repository', name, new)
    gone(lambda: ecr.describe_repositories(repositoryNames=[name]), 'RepositoryNotFound')


def test_log_group(emu):
    logs = emu.client('logs')
    props = {'RetentionInDays': 14, 'Tags': [{'Key': 'Env', 'Value': 'dev'}]}
    r = drive(emu, 'create', 'AWS::Logs::LogGroup', props, lid='AppLogs')
    name = r['physical_id']
    g = [x for x in logs.describe_log_groups(logGroupNamePrefix=name)['logGroups']
         if x['logGroupName'] == name][0]
    assert g['retentionInDays'] == 14 and r['attrs']['Arn'] == g['arn']
    assert tags_of([{'Key': k, 'Value': v} for k, v in logs.list_tags_for_resource(
        resourceArn=g['arn'].rstrip('*').rstrip(':'))['tags'].items()]) == {
        'Env': 'dev', 'cairn:stack': 'teststack', 'cairn:logical-id': 'AppLogs'}
    got = drive(emu, 'read', 'AWS::Logs::LogGroup', name)['props']
    assert str(got['RetentionInDays']) == '14' and got['Tags'] == props['Tags']
    new = {'Tags': [{'Key': 'Env', 'Value': 'prod'}]}
    drive(emu, 'update', 'AWS::Logs::LogGroup', name, props, new)
    g = [x for x in logs.describe_log_groups(logGroupNamePrefix=name)['logGroups']
         if x['logGroupName'] == name][0]
    assert 'retentionInDays' not in g
    drive(emu, 'delete', 'AWS::Logs::LogGroup', name, new)
    assert not logs.describe_log_groups(logGroupNamePrefix=name)['logGroups']


# ------------------------------------------------------ Secrets Manager

def test_secret_generated_never_printed(emu):
    sm = emu.client('secretsmanager')
    props = {'Description': 'db',
             'GenerateSecretString': {'SecretStringTemplate': '{"username":"app"}',
                                      'GenerateStringKey': 'password',
                                      'PasswordLength': 24, 'ExcludePunctuation': True}}
    env = dict(os.environ, CAIRN_LOG='debug')
    r = drive(emu, 'create', 'AWS::SecretsManager::Secret', props, lid='DbSecret')
    arn = r['physical_id']
    assert r['attrs']['Ref'] == arn and arn.startswith('arn:aws:secretsmanager:')
    value = json.loads(sm.get_secret_value(SecretId=arn)['SecretString'])
    assert value['username'] == 'app' and len(value['password']) == 24
    assert value['password'].isalnum()
    got = drive(emu, 'read', 'AWS::SecretsManager::Secret', arn)
    assert 'SecretString' not in got['props'] and got['props']['Description'] == 'db'
    assert value['password'] not in json.dumps(got)
    del env

    # a given SecretString; an update puts a new value
    p2 = {'SecretString': 's3cr3t-value-1', 'Name': 'app/api-key'}
    arn2 = drive(emu, 'create', 'AWS::SecretsManager::Secret', p2)['physical_id']
    p3 = dict(p2, SecretString='s3cr3t-value-2')
    out = subprocess.run([DRIVER, '--endpoint-url', emu.url, 'update',
                          'AWS::SecretsManager::Secret', arn2, json.dumps(p2),
                          json.dumps(p3)], capture_output=True, text=True,
                         env=dict(os.environ, AWS_ACCESS_KEY_ID='test',
                                  AWS_SECRET_ACCESS_KEY='test', AWS_REGION='us-east-1',
                                  CAIRN_LOG='debug'))
    assert out.returncode == 0, out.stderr
    assert 's3cr3t' not in out.stdout + out.stderr
    assert sm.get_secret_value(SecretId=arn2)['SecretString'] == 's3cr3t-value-2'

    for a in (arn, arn2):
        drive(emu, 'delete', 'AWS::SecretsManager::Secret', a, {})
        gone(lambda: sm.describe_secret(SecretId=a), 'ResourceNotFound')
    # the name is free again at once (ForceDeleteWithoutRecovery)
    arn3 = drive(emu, 'create', 'AWS::SecretsManager::Secret', p2)['physical_id']
    drive(emu, 'delete', 'AWS::SecretsManager::Secret', arn3, {})


# ------------------------------------------------- faults and retries

def test_throttling_is_retried(emu):
    """With a third of all calls throttled, every operation still ends
    where it should (the client retries throttling; providers retry their
    own consistency classes)."""
    ec2 = emu.client('ec2')
    logs = emu.client('logs')
    emu.control('config', {'throttle_rate': 0.3, 'seed': 7})
    vid = make_vpc(emu, '10.70.0.0/16', lid='ThrottledVpc')
    sid = drive(emu, 'create', 'AWS::EC2::Subnet',
                {'VpcId': vid, 'CidrBlock': '10.70.1.0/24'})['physical_id']
    name = drive(emu, 'create', 'AWS::Logs::LogGroup', {'RetentionInDays': 3},
                 lid='TLogs')['physical_id']
    drive(emu, 'delete', 'AWS::EC2::Subnet', sid, {})
    drive(emu, 'delete', 'AWS::EC2::VPC', vid, {})
    drive(emu, 'delete', 'AWS::Logs::LogGroup', name, {})
    emu.control('config', {'throttle_rate': 0})
    gone(lambda: ec2.describe_vpcs(VpcIds=[vid]))
    assert not logs.describe_log_groups(logGroupNamePrefix=name)['logGroups']


def test_errors_name_the_resource(emu):
    p = drive(emu, 'create', 'AWS::EC2::Subnet',
              {'VpcId': 'vpc-0000000000000dead', 'CidrBlock': '10.0.0.0/24'},
              lid='Broken', timeout=3, check=False)
    assert p.returncode in (1, 4)
    assert 'AWS::EC2::Subnet Broken' in p.stderr and 'InvalidVpcID.NotFound' in p.stderr
    p = drive(emu, 'create', 'AWS::EC2::Route',
              {'RouteTableId': 'rtb-1', 'DestinationCidrBlock': '0.0.0.0/0'},
              lid='R', check=False)
    assert p.returncode == 1 and 'exactly one route target' in p.stderr


def test_find_adopts_what_a_crashed_run_made(emu):
    """Types whose create has no idempotency token are found again by
    their cairn tags (EC2) or their generated name (named types)."""
    vid = make_vpc(emu, '10.80.0.0/16', lid='FindVpc')
    made = {}
    for rtype, props in (
            ('AWS::EC2::Subnet', {'VpcId': vid, 'CidrBlock': '10.80.1.0/24'}),
            ('AWS::EC2::InternetGateway', {}),
            ('AWS::EC2::RouteTable', {'VpcId': vid}),
            ('AWS::EC2::SecurityGroup', {'GroupDescription': 'f', 'VpcId': vid}),
            ('AWS::EC2::EIP', {}),
            ('AWS::ECR::Repository', {}),
            ('AWS::Logs::LogGroup', {}),
            ('AWS::ECS::Cluster', {})):
        lid = 'Find' + rtype.split('::')[-1]
        tok = next(TOKEN)
        made[rtype] = (drive(emu, 'create', rtype, props, lid=lid, token=tok)['physical_id'],
                       props, lid)
        assert drive(emu, 'find', rtype, props, lid=lid, token=tok)['physical_id'] == \
            made[rtype][0], rtype
        # nothing for a logical id that made nothing
        assert drive(emu, 'find', rtype, props, lid=lid + 'X',
                     check=False).returncode == 4, rtype
    for rtype, (pid, props, lid) in reversed(list(made.items())):
        drive(emu, 'delete', rtype, pid, props)
        assert drive(emu, 'read', rtype, pid, check=False).returncode == 4, rtype
    drive(emu, 'delete', 'AWS::EC2::VPC', vid, {})


def test_vpc_read_many_batches(emu):
    """The drift check's batched read: each VPC gets its own default group
    and ACL, a gone one is null, and the Describe calls do not grow with
    the number of VPCs beyond the per-VPC attribute reads."""
    ec2 = emu.client('ec2')
    vids = [make_vpc(emu, f'10.9{i}.0.0/16', lid=f'Many{i}') for i in range(3)]
    before = emu.control('calls')
    got = drive(emu, 'read-many', 'AWS::EC2::VPC', *vids, 'vpc-0000000000000beef')
    after = emu.control('calls')
    assert got[3] is None
    for vid, r in zip(vids, got):
        sg = ec2.describe_security_groups(Filters=[
            {'Name': 'vpc-id', 'Values': [vid]},
            {'Name': 'group-name', 'Values': ['default']}])['SecurityGroups'][0]
        assert r['physical_id'] == vid and r['attrs']['DefaultSecurityGroup'] == sg['GroupId']
    assert after.get('ec2:DescribeSecurityGroups', 0) - \
        before.get('ec2:DescribeSecurityGroups', 0) == 1
    for vid in vids:
        drive(emu, 'delete', 'AWS::EC2::VPC', vid, {})


def test_more_updates_in_place(emu):
    """Updates of the types the other tests only create: tags on EC2
    types, a VPC endpoint's groups and subnets, a route table association
    moved to another table, cluster settings and tags, an IAM::Policy
    moved between roles."""
    ec2 = emu.client('ec2')
    vid = make_vpc(emu, '10.99.0.0/16', lid='UpdVpc')
    eip_p = {'Tags': [{'Key': 'a', 'Value': '1'}]}
    eip = drive(emu, 'create', 'AWS::EC2::EIP', eip_p)['physical_id']
    eip_p2 = {'Tags': [{'Key': 'b', 'Value': '2'}]}
    drive(emu, 'update', 'AWS::EC2::EIP', eip, eip_p, eip_p2, lid='Res')
    t = tags_of(ec2.describe_addresses(AllocationIds=[eip])['Addresses'][0]['Tags'])
    assert t.get('b') == '2' and 'a' not in t and t['cairn:logical-id'] == 'Res'

    s1 = drive(emu, 'create', 'AWS::EC2::Subnet',
               {'VpcId': vid, 'CidrBlock': '10.99.1.0/24'})['physical_id']
    s2 = drive(emu, 'create', 'AWS::EC2::Subnet',
               {'VpcId': vid, 'CidrBlock': '10.99.2.0/24',
                'AvailabilityZone': 'us-east-1b'})['physical_id']
    g1 = drive(emu, 'create', 'AWS::EC2::SecurityGroup',
               {'GroupDescription': 'a', 'VpcId': vid}, lid='G1')['physical_id']
    g2 = drive(emu, 'create', 'AWS::EC2::SecurityGroup',
               {'GroupDescription': 'b', 'VpcId': vid}, lid='G2')['physical_id']
    ep_p = {'VpcId': vid, 'ServiceName': 'com.amazonaws.us-east-1.ecr.api',
            'VpcEndpointType': 'Interface', 'SubnetIds': [s1], 'SecurityGroupIds': [g1]}
    ep = drive(emu, 'create', 'AWS::EC2::VPCEndpoint', ep_p)['physical_id']
    ep_p2 = dict(ep_p, SubnetIds=[s1, s2], SecurityGroupIds=[g2])
    drive(emu, 'update', 'AWS::EC2::VPCEndpoint', ep, ep_p, ep_p2)
    e = ec2.describe_vpc_endpoints(VpcEndpointIds=[ep])['VpcEndpoints'][0]
    assert sorted(e['SubnetIds']) == sorted([s1, s2])
    assert [g['GroupId'] for g in e['Groups']] == [g2]
    drive(emu, 'delete', 'AWS::EC2::VPCEndpoint', ep, ep_p2)

    r1 = drive(emu, 'create', 'AWS::EC2::RouteTable', {'VpcId': vid}, lid='R1')['physical_id']
    r2 = drive(emu, 'create', 'AWS::EC2::RouteTable', {'VpcId': vid}, lid='R2')['physical_id']
    a_p = {'SubnetId': s1, 'RouteTableId': r1}
    a1 = drive(emu, 'create', 'AWS::EC2::SubnetRouteTableAssociation', a_p)['physical_id']
    a_p2 = dict(a_p, RouteTableId=r2)
    a2 = drive(emu, 'update', 'AWS::EC2::SubnetRouteTableAssociation', a1, a_p,
               a_p2)['physical_id']
    assert a2 != a1  # ReplaceRouteTableAssociation makes a new association id
    assocs = ec2.describe_route_tables(RouteTableIds=[r2])['RouteTables'][0]['Associations']
    assert [a['RouteTableAssociationId'] for a in assocs if a.get('SubnetId') == s1] == [a2]
    assert drive(emu, 'read', 'AWS::EC2::SubnetRouteTableAssociation', a2)['props'] == a_p2
    drive(emu, 'delete', 'AWS::EC2::SubnetRouteTableAssociation', a2, a_p2)

    ecs = emu.client('ecs')
    c_p = {'Tags': [{'Key': 'x', 'Value': '1'}]}
    c = drive(emu, 'create', 'AWS::ECS::Cluster', c_p, lid='UpdCluster')
    c_p2 = {'ClusterSettings': [{'Name': 'containerInsights', 'Value': 'enabled'}],
            'Tags': [{'Key': 'y', 'Value': '2'}]}
    drive(emu, 'update', 'AWS::ECS::Cluster', c['physical_id'], c_p, c_p2, c['attrs'],
          lid='UpdCluster')
    cl = ecs.describe_clusters(clusters=[c['physical_id']], include=['SETTINGS', 'TAGS'])[
        'clusters'][0]
    assert cl['settings'] == [{'name': 'containerInsights', 'value': 'enabled'}]
    t = tags_of(cl['tags'], 'key', 'value')
    assert t.get('y') == '2' and 'x' not in t
    drive(emu, 'delete', 'AWS::ECS::Cluster', c['physical_id'], c_p2)

    iam = emu.client('iam')
    roles = [drive(emu, 'create', 'AWS::IAM::Role', {'AssumeRolePolicyDocument': ASSUME},
                   lid=f'PRole{i}')['physical_id'] for i in range(2)]
    p_p = {'PolicyName': 'moving', 'PolicyDocument': READ_LOGS, 'Roles': [roles[0]]}
    pol = drive(emu, 'create', 'AWS::IAM::Policy', p_p)
    p_p2 = dict(p_p, Roles=[roles[1]])
    pol2 = drive(emu, 'update', 'AWS::IAM::Policy', pol['physical_id'], p_p, p_p2,
                 pol['attrs'])
    assert iam.list_role_policies(RoleName=roles[0])['PolicyNames'] == []
    assert iam.list_role_policies(RoleName=roles[1])['PolicyNames'] == ['moving']
    assert pol2['attrs']['Roles'] == [roles[1]]
    drive(emu, 'delete', 'AWS::IAM::Policy', pol['physical_id'], p_p2, pol2['attrs'])
    for r in roles:
        drive(emu, 'delete', 'AWS::IAM::Role', r, {})

    for rt in (r1, r2):
        drive(emu, 'delete', 'AWS::EC2::RouteTable', rt, {})
    for g in (g1, g2):
        drive(emu, 'delete', 'AWS::EC2::SecurityGroup', g, {})
    for s in (s1, s2):
        drive(emu, 'delete', 'AWS::EC2::Subnet', s, {})
    drive(emu, 'delete', 'AWS::EC2::EIP', eip, eip_p2)
    drive(emu, 'delete', 'AWS::EC2::VPC', vid, {})
    assert not live(emu, vid)


def test_secret_restored_and_tokens(emu):
    """A named secret deleted outside cairn with a recovery window is
    restored by create; updates never reuse a token for another value."""
    sm = emu.client('secretsmanager')
    p1 = {'Name': 'svc/restored', 'SecretString': 'first-value'}
    tok = next(TOKEN)
    arn = drive(emu, 'create', 'AWS::SecretsManager::Secret', p1, token=tok)['physical_id']
    # the executor hands the same token to the next operations: values differ
    p2 = dict(p1, SecretString='second-value')
    drive(emu, 'update', 'AWS::SecretsManager::Secret', arn, p1, p2, token=tok)
    p3 = dict(p1, SecretString='third-value')
    drive(emu, 'update', 'AWS::SecretsManager::Secret', arn, p2, p3, token=tok)
    assert sm.get_secret_value(SecretId=arn)['SecretString'] == 'third-value'
    sm.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    assert 'DeletedDate' in sm.describe_secret(SecretId=arn)
    p4 = dict(p1, SecretString='fourth-value', Description='back')
    arn2 = drive(emu, 'create', 'AWS::SecretsManager::Secret', p4)['physical_id']
    d = sm.describe_secret(SecretId=arn2)
    assert 'DeletedDate' not in d and d['Description'] == 'back'
    assert tags_of(d['Tags'])['cairn:stack'] == 'teststack'
    assert sm.get_secret_value(SecretId=arn2)['SecretString'] == 'fourth-value'
    drive(emu, 'delete', 'AWS::SecretsManager::Secret', arn2, p4)
