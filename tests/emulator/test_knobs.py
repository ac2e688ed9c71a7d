"""The knobs cairn's tests turn to make the emulator behave like a real account:
short pages, the ECS service-linked-role error, visibility delays, per-operation
lost answers, and the seed (a non-empty account)."""
import json
import time

import botocore.exceptions
import pytest

TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]})
POLICY = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Action': 's3:GetObject', 'Resource': '*'}]})


def code(e):
    return e.value.response['Error']['Code']


# ---------------------------------------------------------------- short pages

def _pages(call, result_key, token_in, token_out, **kw):
    pages, tok = [], None
    while True:
        args = dict(kw)
        if tok:
            args[token_in] = tok
        out = call(**args)
        pages.append(out[result_key])
        tok = out.get(token_out)
        if out.get('IsTruncated') is False or not tok:
            return pages


def test_page_size_shortens_every_paged_call(emulator):
    iam = emulator.client('iam')
    ec2 = emulator.client('ec2')
    logs = emulator.client('logs')
    sm = emulator.client('secretsmanager')
    ecs = emulator.client('ecs')
    ecr = emulator.client('ecr')
    for i in range(5):
        iam.create_role(RoleName=f'r{i}', AssumeRolePolicyDocument=TRUST)
        ec2.create_vpc(CidrBlock=f'10.{i}.0.0/16')
        logs.create_log_group(logGroupName=f'/g/{i}')
        sm.create_secret(Name=f's{i}', SecretString='x')
        ecs.create_cluster(clusterName=f'c{i}')
        ecr.create_repository(repositoryName=f'repo{i}')
    emulator.control('config', {'page_size': 2})
    # no MaxItems/MaxResults asked: the service still answers 2 at a time
    roles = _pages(iam.list_roles, 'Roles', 'Marker', 'Marker')
    assert [len(p) for p in roles] == [2, 2, 1]
    vpcs = _pages(ec2.describe_vpcs, 'Vpcs', 'NextToken', 'NextToken')
    assert [len(p) for p in vpcs] == [2, 2, 1]
    groups = _pages(logs.describe_log_groups, 'logGroups', 'nextToken', 'nextToken')
    assert [len(p) for p in groups] == [2, 2, 1]
    secrets = _pages(sm.list_secrets, 'SecretList', 'NextToken', 'NextToken')
    assert [len(p) for p in secrets] == [2, 2, 1]
    clusters = _pages(ecs.list_clusters, 'clusterArns', 'nextToken', 'nextToken')
    assert [len(p) for p in clusters] == [2, 2, 1]
    repos = _pages(ecr.describe_repositories, 'repositories', 'nextToken', 'nextToken')
    assert [len(p) for p in repos] == [2, 2, 1]
    # a larger page asked for is still capped; a smaller one is honoured
    assert len(iam.list_roles(MaxItems=100)['Roles']) == 2
    assert len(ec2.describe_vpcs(MaxResults=5)['Vpcs']) == 2
    # per operation: only DescribeVpcs is short
    emulator.control('config', {'page_size': {'ec2:DescribeVpcs': 1}})
    assert len(ec2.describe_vpcs()['Vpcs']) == 1
    assert len(iam.list_roles()['Roles']) == 5


# ------------------------------------------- the ECS service-linked-role error

def test_ecs_service_linked_role_error_on_fresh_account(emulator):
    emulator.control('config', {'ecs_slr_error_seconds': 0.6})
    ecs = emulator.client('ecs')
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ecs.create_cluster(clusterName='first')
    assert code(e) == 'InvalidParameterException'
    assert 'Unable to assume the service linked role' in str(e.value)
    # the first use created the role, as on AWS
    role = iam.get_role(RoleName='AWSServiceRoleForECS')['Role']
    assert role['Path'] == '/aws-service-role/ecs.amazonaws.com/'
    assert [p['PolicyName'] for p in iam.list_attached_role_policies(
        RoleName='AWSServiceRoleForECS')['AttachedPolicies']] == ['AmazonECSServiceRolePolicy']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ecs.create_service(cluster='default', serviceName='s', desiredCount=0,
                           taskDefinition='nope')
    assert code(e) in ('InvalidParameterException', 'ClusterNotFoundException')
    time.sleep(0.7)
    ecs.create_cluster(clusterName='first')
    # a service-linked role cannot be deleted with DeleteRole
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.delete_role(RoleName='AWSServiceRoleForECS')
    assert code(e) == 'UnmodifiableEntity'


def test_no_service_linked_role_error_when_the_role_is_old(emulator):
    emulator.control('config', {'ecs_slr_error_seconds': 0.3})
    emulator.client('iam').create_service_linked_role(AWSServiceName='ecs.amazonaws.com')
    time.sleep(0.4)
    emulator.client('ecs').create_cluster(clusterName='c')


# ----------------------------------------------------------- visibility delays

def test_visibility_delay_per_service(emulator):
    emulator.control('config', {'visibility_delay': {
        'iam': 0.5, 'secretsmanager': 0.5, 'logs': 0.5, 'ecr': 0.5, 'ecs': 0.5,
        'ec2': 0.5}})
    iam = emulator.client('iam')
    sm = emulator.client('secretsmanager')
    logs = emulator.client('logs')
    ecr = emulator.client('ecr')
    ecs = emulator.client('ecs')
    ec2 = emulator.client('ec2')
    iam.create_role(RoleName='fresh', AssumeRolePolicyDocument=TRUST)
    parn = iam.create_policy(PolicyName='fresh', PolicyDocument=POLICY)['Policy']['Arn']
    sm.create_secret(Name='fresh', SecretString='x')
    logs.create_log_group(logGroupName='/fresh')
    ecr.create_repository(repositoryName='fresh')
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_role(RoleName='fresh')
    assert code(e) == 'NoSuchEntity'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_policy(PolicyArn=parn)
    assert code(e) == 'NoSuchEntity'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.describe_secret(SecretId='fresh')
    assert code(e) == 'ResourceNotFoundException'
    assert logs.describe_log_groups(logGroupNamePrefix='/fresh')['logGroups'] == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ecr.describe_repositories(repositoryNames=['fresh'])
    assert code(e) == 'RepositoryNotFoundException'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.describe_vpcs(VpcIds=[vid])
    assert code(e) == 'InvalidVpcID.NotFound'
    # writes naming a fresh IAM role are not delayed (only reads)
    iam.attach_role_policy(RoleName='fresh', PolicyArn=parn)
    time.sleep(0.6)
    assert iam.get_role(RoleName='fresh')['Role']['RoleName'] == 'fresh'
    assert sm.describe_secret(SecretId='fresh')['Name'] == 'fresh'
    assert len(logs.describe_log_groups(logGroupNamePrefix='/fresh')['logGroups']) == 1
    assert ec2.describe_vpcs(VpcIds=[vid])['Vpcs'][0]['VpcId'] == vid


def test_visibility_exempt_user_agents(emulator):
    emulator.control('config', {'visibility_delay': 5,
                                'visibility_exempt_user_agents': ['Botocore/']})
    iam = emulator.client('iam')
    iam.create_role(RoleName='fresh', AssumeRolePolicyDocument=TRUST)
    assert iam.get_role(RoleName='fresh')['Role']['RoleName'] == 'fresh'
    status, _, body = emulator.raw('iam', params={'Action': 'GetRole', 'RoleName': 'fresh',
                                                  'Version': '2010-05-08'},
                                   headers={'User-Agent': 'cairn/0.1'})
    assert status == 404 and b'NoSuchEntity' in body
    emulator.control('config', {'visibility_exempt_user_agents': []})


def test_visibility_delay_ecs_service(emulator):
    ecs = emulator.client('ecs')
    ecs.create_cluster(clusterName='c')
    ecs.register_task_definition(family='f', containerDefinitions=[
        {'name': 'a', 'image': 'busybox', 'memory': 128}])
    emulator.control('config', {'visibility_delay': {'ecs:service': 0.5}})
    ecs.create_service(cluster='c', serviceName='svc', taskDefinition='f', desiredCount=0)
    out = ecs.describe_services(cluster='c', services=['svc'])
    assert out['services'] == [] and out['failures'][0]['reason'] == 'MISSING'
    time.sleep(0.6)
    assert ecs.describe_services(cluster='c', services=['svc'])['services'][0][
        'serviceName'] == 'svc'


# ------------------------------------------------- lost answers per operation

def test_drop_after_rate_per_operation(emulator):
    emulator.control('config', {'drop_after_rate': {'iam:CreateRole': 1.0}})
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.HTTPClientError):
        iam.create_role(RoleName='lost', AssumeRolePolicyDocument=TRUST)
    # applied all the same, and other operations answer
    assert iam.get_role(RoleName='lost')['Role']['RoleName'] == 'lost'


# -------------------------------------------------------------------- the seed

def test_seed_populates_a_real_looking_account(emulator):
    assert emulator.control('inventory') == []
    emulator.control('seed', {})
    ec2 = emulator.client('ec2')
    vpcs = ec2.describe_vpcs(Filters=[{'Name': 'is-default', 'Values': ['true']}])['Vpcs']
    assert len(vpcs) == 1 and vpcs[0]['CidrBlock'] == '172.31.0.0/16'
    vid = vpcs[0]['VpcId']
    subnets = ec2.describe_subnets(Filters=[{'Name': 'vpc-id', 'Values': [vid]}])['Subnets']
    zones = [z['ZoneName'] for z in ec2.describe_availability_zones()['AvailabilityZones']]
    assert sorted(s['AvailabilityZone'] for s in subnets) == sorted(zones)
    assert all(s['DefaultForAz'] and s['MapPublicIpOnLaunch'] for s in subnets)
    assert all(s['CidrBlock'].endswith('/20') for s in subnets)
    igws = ec2.describe_internet_gateways(
        Filters=[{'Name': 'attachment.vpc-id', 'Values': [vid]}])['InternetGateways']
    assert len(igws) == 1
    main = ec2.describe_route_tables(Filters=[{'Name': 'vpc-id', 'Values': [vid]},
                                              {'Name': 'association.main',
                                               'Values': ['true']}])['RouteTables'][0]
    assert {'0.0.0.0/0': igws[0]['InternetGatewayId']}.items() <= {
        r['DestinationCidrBlock']: r.get('GatewayId') for r in main['Routes']}.items()
    sgs = ec2.describe_security_groups(Filters=[{'Name': 'vpc-id', 'Values': [vid]}])
    assert [g['GroupName'] for g in sgs['SecurityGroups']] == ['default']
    iam = emulator.client('iam')
    names = {r['RoleName'] for r in iam.list_roles()['Roles']}
    assert {'ecsTaskExecutionRole', 'AWSServiceRoleForSupport',
            'AWSServiceRoleForTrustedAdvisor'} <= names
    logs = emulator.client('logs')
    assert [g['logGroupName'] for g in logs.describe_log_groups(
        logGroupNamePrefix='/ecs/')['logGroups']] == ['/ecs/first-run-task-definition']
    # a common name is taken, as in a real account
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName='ecsTaskExecutionRole', AssumeRolePolicyDocument=TRUST)
    assert code(e) == 'EntityAlreadyExists'
    # the seed is back after a reset, and other regions get their default VPC
    before = emulator.control('inventory')
    assert before
    emulator.reset()
    assert emulator.control('inventory') == before
    west = emulator.client('ec2', region='us-west-2')
    assert len(west.describe_subnets(
        Filters=[{'Name': 'default-for-az', 'Values': ['true']}])['Subnets']) == 4
    # ECS's service-linked role appears on first use
    emulator.client('ecs').create_cluster(clusterName='c')
    assert iam.get_role(RoleName='AWSServiceRoleForECS')['Role']['Arn'].endswith(
        'role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS')


def test_run_seed_flag():
    from conftest import Emulator
    emu = Emulator(['--seed'])
    try:
        vpcs = emu.client('ec2').describe_vpcs()['Vpcs']
        assert [v['IsDefault'] for v in vpcs] == [True]
    finally:
        emu.stop()


def test_every_aws_managed_policy_exists(emulator):
    iam = emulator.client('iam')
    pol = iam.get_policy(PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')['Policy']
    assert pol['PolicyName'] == 'AdministratorAccess' and pol['PolicyId'].startswith('ANPA')
    iam.get_policy(PolicyArn='arn:aws:iam::aws:policy/aws-service-role/'
                             'AmazonECSServiceRolePolicy')
    iam.get_policy(PolicyArn='arn:aws:iam::aws:policy/job-function/ViewOnlyAccess')
    n = sum(len(p['Policies']) for p in iam.get_paginator('list_policies').paginate(
        Scope='AWS'))
    assert n > 1000
    v = iam.get_policy_version(PolicyArn=pol['Arn'], VersionId=pol['DefaultVersionId'])
    doc = v['PolicyVersion']['Document']
    assert doc['Statement'][0]['Action'] == '*'
