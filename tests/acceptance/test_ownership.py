"""Relationships with one owner (issue 9, items 2 and 3), through the real
binary against the emulator.

A relationship that can be declared from either side (a role's
ManagedPolicyArns or a ManagedPolicy's Roles, a role's inline Policies or an
AWS::IAM::Policy / RolePolicy, a security group's inline rules or a
standalone SecurityGroupIngress/Egress, a route table's routes and subnet
associations, a VPC's internet gateway) is declared here from both sides at
once. After apply: `plan --detailed-exitcode` exits 0, a second apply makes
no mutating call (the emulator's per-operation counters), `drift` is clean.
Then one relationship per pair is added with botocore by nobody in the
stack: `drift` reports each (resource and property), `plan` shows the
repair, apply makes it, and what the stack declares is still there (checked
with botocore, not through cairn's output)."""
import json

import pytest

STACK = 'owners'

ASSUME = {'Version': '2012-10-17', 'Statement': [
    {'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
     'Action': 'sts:AssumeRole'}]}
DOC = {'Version': '2012-10-17', 'Statement': [
    {'Effect': 'Allow', 'Action': 'logs:PutLogEvents', 'Resource': '*'}]}
EXEC_POLICY = 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy'

TEMPLATE = f"""
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {{CidrBlock: 10.20.0.0/16}}
  BareVpc:
    Type: AWS::EC2::VPC
    Properties: {{CidrBlock: 10.30.0.0/16}}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {{VpcId: !Ref Vpc, CidrBlock: 10.20.1.0/24}}
  Igw:
    Type: AWS::EC2::InternetGateway
  IgwAttach:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties: {{VpcId: !Ref Vpc, InternetGatewayId: !Ref Igw}}
  Rtb:
    Type: AWS::EC2::RouteTable
    Properties: {{VpcId: !Ref Vpc}}
  DefaultRoute:
    Type: AWS::EC2::Route
    DependsOn: IgwAttach
    Properties: {{RouteTableId: !Ref Rtb, DestinationCidrBlock: 0.0.0.0/0, GatewayId: !Ref Igw}}
  Assoc:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {{RouteTableId: !Ref Rtb, SubnetId: !Ref Subnet}}
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: inline and standalone rules, no egress of its own
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.0.0/8}}
  SgIngress:
    Type: AWS::EC2::SecurityGroupIngress
    Properties: {{GroupId: !Ref Sg, IpProtocol: tcp, FromPort: 8080, ToPort: 8080, CidrIp: 10.1.0.0/16}}
  SgEgress:
    Type: AWS::EC2::SecurityGroupEgress
    Properties: {{GroupId: !Ref Sg, IpProtocol: tcp, FromPort: 5432, ToPort: 5432, CidrIp: 10.2.0.0/16}}
  SgDefaultEgress:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: lists exactly the default egress
      VpcId: !Ref Vpc
      SecurityGroupEgress:
        - {{IpProtocol: "-1", CidrIp: 0.0.0.0/0}}
  SgOtherEgress:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: lists other egress
      VpcId: !Ref Vpc
      SecurityGroupEgress:
        - {{IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}}
  SgCdkEgress:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: the default egress as the CDK writes it, described
      VpcId: !Ref Vpc
      SecurityGroupEgress:
        - {{CidrIp: 0.0.0.0/0, Description: Allow all outbound traffic by default, IpProtocol: "-1"}}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {json.dumps(ASSUME)}
      ManagedPolicyArns: [{EXEC_POLICY}]
      Policies:
        - PolicyName: own-inline
          PolicyDocument: {json.dumps(DOC)}
  RoleB:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {json.dumps(ASSUME)}
      ManagedPolicyArns: [!Ref Managed]
  Managed:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument: {json.dumps(DOC)}
      Roles: [!Ref Role]
  FromPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: from-policy
      PolicyDocument: {json.dumps(DOC)}
      Roles: [!Ref Role]
  FromRolePolicy:
    Type: AWS::IAM::RolePolicy
    Properties:
      PolicyName: from-role-policy
      PolicyDocument: {json.dumps(DOC)}
      RoleName: !Ref Role
"""

MUTATING_PREFIXES = ('Describe', 'Get', 'List')


def _common(cairn):
    return [*cairn.endpoint, '--state', str(cairn.tmp / 'state.db'), '--stack', STACK]


def _delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def _state(cairn):
    import sqlite3
    db = sqlite3.connect(str(cairn.tmp / 'state.db'))
    try:
        return {r[0]: r[1] for r in db.execute('SELECT logical_id, physical_id FROM resources')}
    finally:
        db.close()


def _rules(perms):
    """{(proto, from, to, cidr)} of a group's IpPermissions(Egress)."""
    out = set()
    for p in perms:
        for r in p.get('IpRanges', []):
            out.add((p['IpProtocol'], p.get('FromPort'), p.get('ToPort'), r['CidrIp']))
    return out


def _sg(emu, gid):
    return emu.client('ec2').describe_security_groups(GroupIds=[gid])['SecurityGroups'][0]


@pytest.fixture
def owners(emu, cairn):
    emu.reset()
    tpl = cairn.tmp / 'owners.yaml'
    tpl.write_text(TEMPLATE)
    r = cairn('apply', str(tpl), '--auto-approve', *_common(cairn))
    assert r.rc == 0, r
    return cairn, str(tpl)


def test_both_sides_converge(emu, owners):
    cairn, tpl = owners
    common = _common(cairn)
    p = cairn('plan', tpl, '--detailed-exitcode', *common)
    assert p.rc == 0, p

    # a second apply reads, and changes nothing
    before = emu.control('calls')
    a = cairn('apply', tpl, '--auto-approve', *common)
    assert a.rc == 0, a
    delta = _delta(before, emu.control('calls'))
    mutating = {k: v for k, v in delta.items()
                if not k.split(':', 1)[1].startswith(MUTATING_PREFIXES)}
    assert delta and mutating == {}, delta

    d = cairn('drift', tpl, *common)
    assert d.rc == 0, d
    assert 'No drift' in d.out, d

    # both sides are really there in AWS
    ids = _state(cairn)
    iam = emu.client('iam')
    role, role_b, managed = ids['Role'], ids['RoleB'], ids['Managed']
    attached = {p['PolicyArn'] for p in
                iam.list_attached_role_policies(RoleName=role)['AttachedPolicies']}
    assert attached == {EXEC_POLICY, managed}, attached
    assert {p['PolicyArn'] for p in
            iam.list_attached_role_policies(RoleName=role_b)['AttachedPolicies']} == {managed}
    assert set(iam.list_role_policies(RoleName=role)['PolicyNames']) == {
        'own-inline', 'from-policy', 'from-role-policy'}
    sg = _sg(emu, ids['Sg'])
    assert _rules(sg['IpPermissions']) == {('tcp', 443, 443, '10.0.0.0/8'),
                                           ('tcp', 8080, 8080, '10.1.0.0/16')}
    # no egress of its own: AWS's default stays beside the standalone rule
    assert _rules(sg['IpPermissionsEgress']) == {('-1', None, None, '0.0.0.0/0'),
                                                 ('tcp', 5432, 5432, '10.2.0.0/16')}


def test_default_egress_three_cases(emu, owners):
    """Item 3: exactly the default listed, none listed, others listed."""
    cairn, tpl = owners
    common = _common(cairn)
    ids = _state(cairn)
    default = ('-1', None, None, '0.0.0.0/0')
    assert _rules(_sg(emu, ids['SgDefaultEgress'])['IpPermissionsEgress']) == {default}
    assert _rules(_sg(emu, ids['SgOtherEgress'])['IpPermissionsEgress']) == {
        ('tcp', 443, 443, '0.0.0.0/0')}
    assert default in _rules(_sg(emu, ids['Sg'])['IpPermissionsEgress'])
    cdk = _sg(emu, ids['SgCdkEgress'])['IpPermissionsEgress']
    assert _rules(cdk) == {default}
    assert cdk[0]['IpRanges'][0].get('Description') == 'Allow all outbound traffic by default'
    for _ in range(2):  # converged, and stays so
        p = cairn('plan', tpl, '--detailed-exitcode', *common)
        assert p.rc == 0 and 'SecurityGroupEgress' not in p.out, p

    # the default put back where the template lists other rules, taken away
    # where the template lists exactly it: both are drift, both repaired
    ec2 = emu.client('ec2')
    perm = [{'IpProtocol': '-1', 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}]
    ec2.authorize_security_group_egress(GroupId=ids['SgOtherEgress'], IpPermissions=perm)
    ec2.revoke_security_group_egress(GroupId=ids['SgDefaultEgress'], IpPermissions=perm)
    d = cairn('drift', tpl, *common)
    assert d.rc == 2, d
    assert 'SgOtherEgress' in d.out and 'SgDefaultEgress' in d.out, d
    p = cairn('plan', tpl, '--detailed-exitcode', *common)
    assert p.rc == 2 and 'SgOtherEgress' in p.out and 'SgDefaultEgress' in p.out, p
    a = cairn('apply', tpl, '--auto-approve', *common)
    assert a.rc == 0, a
    assert _rules(_sg(emu, ids['SgDefaultEgress'])['IpPermissionsEgress']) == {default}
    assert _rules(_sg(emu, ids['SgOtherEgress'])['IpPermissionsEgress']) == {
        ('tcp', 443, 443, '0.0.0.0/0')}
    assert cairn('plan', tpl, '--detailed-exitcode', *common).rc == 0


def test_relationship_added_by_nobody_is_drift(emu, owners):
    cairn, tpl = owners
    common = _common(cairn)
    ids = _state(cairn)
    iam, ec2 = emu.client('iam'), emu.client('ec2')
    role, managed = ids['Role'], ids['Managed']
    rtb, vpc, bare_vpc, sg = ids['Rtb'], ids['Vpc'], ids['BareVpc'], ids['Sg']

    # --- by nobody in the stack, one per pair
    stray = iam.create_policy(PolicyName='stray', PolicyDocument=json.dumps(DOC))['Policy']['Arn']
    iam.attach_role_policy(RoleName=role, PolicyArn=stray)
    iam.put_role_policy(RoleName=role, PolicyName='stray-inline', PolicyDocument=json.dumps(
        {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
    iam.create_role(RoleName='outsider', AssumeRolePolicyDocument=json.dumps(ASSUME))
    iam.attach_role_policy(RoleName='outsider', PolicyArn=managed)
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    ec2.authorize_security_group_egress(GroupId=sg, IpPermissions=[
        {'IpProtocol': 'udp', 'FromPort': 53, 'ToPort': 53, 'IpRanges': [{'CidrIp': '8.8.8.8/32'}]}])
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock='192.168.0.0/16', GatewayId=ids['Igw'])
    foreign = ec2.create_subnet(VpcId=vpc, CidrBlock='10.20.9.0/24')['Subnet']['SubnetId']
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=foreign)
    igw2 = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
    ec2.attach_internet_gateway(InternetGatewayId=igw2, VpcId=bare_vpc)

    # --- drift names each: resource, property, the item
    d = cairn('drift', tpl, '--json', *common)
    assert d.rc == 2, d
    doc = json.loads(d.out)
    by_id = {x['logical_id']: x for x in doc['resources']}

    def changed(lid, prop, needle):
        item = by_id[lid]
        assert item['status'] == 'drifted', item
        hits = [c for c in item['changes'] if c['path'].startswith(prop)
                and needle in json.dumps(c['live']) and c['unowned'] is True]
        assert hits, (lid, prop, needle, item)

    changed('Role', 'ManagedPolicyArns', stray)
    changed('Role', 'Policies', 'stray-inline')
    changed('Managed', 'Roles', 'outsider')
    changed('Sg', 'SecurityGroupIngress', '"FromPort": 22')
    changed('Sg', 'SecurityGroupEgress', '8.8.8.8/32')
    changed('Rtb', 'Routes', '192.168.0.0/16')
    changed('Rtb', 'SubnetAssociations', foreign)
    changed('BareVpc', 'InternetGateways', igw2)
    # what the stack declares from the other side is nobody's drift
    for lid in ('RoleB', 'Vpc', 'SgDefaultEgress', 'SgOtherEgress', 'SgCdkEgress', 'FromPolicy',
                'FromRolePolicy', 'SgIngress', 'SgEgress', 'DefaultRoute', 'Assoc'):
        assert by_id[lid]['status'] == 'unchanged', by_id[lid]
    for c in by_id['Role']['changes']:
        assert 'from-policy' not in json.dumps(c) and 'from-role-policy' not in json.dumps(c), c
        assert managed not in json.dumps(c['live']), c
    h = cairn("drift", tpl, *common)
    assert h.rc == 2 and 'Rtb (AWS::EC2::RouteTable)' in h.out and '192.168.0.0/16' in h.out, h
    assert h.out.count('(declared by no resource of the stack)') == 8, h

    # --- plan shows the repair, apply makes it
    p = cairn('plan', tpl, '--detailed-exitcode', *common)
    assert p.rc == 2, p
    for lid in ('Role', 'Managed', 'Sg', 'Rtb', 'BareVpc'):
        assert lid in p.out, (lid, p)
    a = cairn('apply', tpl, '--auto-approve', *common)
    assert a.rc == 0, a

    attached = {p['PolicyArn'] for p in
                iam.list_attached_role_policies(RoleName=role)['AttachedPolicies']}
    assert attached == {EXEC_POLICY, managed}, attached
    assert set(iam.list_role_policies(RoleName=role)['PolicyNames']) == {
        'own-inline', 'from-policy', 'from-role-policy'}
    assert iam.list_attached_role_policies(RoleName='outsider')['AttachedPolicies'] == []
    assert {p['PolicyArn'] for p in iam.list_attached_role_policies(
        RoleName=ids['RoleB'])['AttachedPolicies']} == {managed}
    g = _sg(emu, sg)
    assert _rules(g['IpPermissions']) == {('tcp', 443, 443, '10.0.0.0/8'),
                                          ('tcp', 8080, 8080, '10.1.0.0/16')}
    assert _rules(g['IpPermissionsEgress']) == {('-1', None, None, '0.0.0.0/0'),
                                                ('tcp', 5432, 5432, '10.2.0.0/16')}
    table = ec2.describe_route_tables(RouteTableIds=[rtb])['RouteTables'][0]
    dests = {r.get('DestinationCidrBlock') for r in table['Routes']}
    assert dests == {'10.20.0.0/16', '0.0.0.0/0'}, table['Routes']
    assert {x.get('SubnetId') for x in table['Associations']} == {ids['Subnet']}, table
    assert ec2.describe_internet_gateways(InternetGatewayIds=[igw2])[
        'InternetGateways'][0].get('Attachments', []) == []
    assert ec2.describe_internet_gateways(InternetGatewayIds=[ids['Igw']])[
        'InternetGateways'][0]['Attachments'][0]['VpcId'] == vpc

    assert cairn('drift', tpl, *common).rc == 0
    assert cairn('plan', tpl, '--detailed-exitcode', *common).rc == 0


def test_subnet_moved_to_another_table(emu, owners):
    """The association's other side: a stack subnet moved to a foreign
    table outside cairn (a new association id) reads as the association
    gone; apply moves the subnet back instead of failing on
    Resource.AlreadyAssociated."""
    cairn, tpl = owners
    common = _common(cairn)
    ids = _state(cairn)
    ec2 = emu.client('ec2')
    foreign = ec2.create_route_table(VpcId=ids['Vpc'])['RouteTable']['RouteTableId']
    ec2.replace_route_table_association(AssociationId=ids['Assoc'], RouteTableId=foreign)

    d = cairn('drift', tpl, *common)
    assert d.rc == 2 and 'Assoc' in d.out and 'gone' in d.out, d
    a = cairn('apply', tpl, '--auto-approve', *common)
    assert a.rc == 0, a
    tables = ec2.describe_route_tables(Filters=[
        {'Name': 'association.subnet-id', 'Values': [ids['Subnet']]}])['RouteTables']
    assert [t['RouteTableId'] for t in tables] == [ids['Rtb']], tables
    assert cairn('drift', tpl, *common).rc == 0
    assert cairn('plan', tpl, '--detailed-exitcode', *common).rc == 0
