"""The emulator refuses what AWS refuses (issue 16). Each test cites where AWS
documents the behaviour."""
import json
import time

import botocore.exceptions
import pytest


def code(e):
    return e.value.response['Error']['Code']


def doc(*stmts, **top):
    return json.dumps(dict({'Version': '2012-10-17', 'Statement': list(stmts)}, **top))


ALLOW = {'Effect': 'Allow', 'Action': 's3:GetObject', 'Resource': '*'}
TRUST_STMT = {'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
              'Action': 'sts:AssumeRole'}


# ------------------------------------------------- 1. IAM policy grammar
# IAM User Guide, "IAM JSON policy element reference" and "Condition operators";
# "AWS JSON policy elements: Principal"; "IAM and AWS STS quotas".

@pytest.mark.parametrize('stmt,why', [
    (dict(ALLOW, Resource='my-bucket'), 'Resource must be an ARN or *'),
    (dict(ALLOW, Action='GetObject'), 'Action needs a service prefix'),
    (dict(ALLOW, Actoin='s3:GetObject'), 'unknown statement key'),
    (dict(ALLOW, NotAction='s3:PutObject'), 'Action with NotAction'),
    (dict(ALLOW, Condition={'StringEqualz': {'aws:username': 'x'}}), 'unknown operator'),
    (dict(ALLOW, Sid='has space'), 'Sid must be alphanumeric'),
    (dict(ALLOW, Effect='NotAllow'), 'Effect'),
])
def test_identity_policy_grammar(emulator, stmt, why):
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName='p', PolicyDocument=doc(stmt))
    assert code(e) == 'MalformedPolicyDocument', why


def test_duplicate_sids_and_good_conditions(emulator):
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName='p', PolicyDocument=doc(dict(ALLOW, Sid='A'),
                                                             dict(ALLOW, Sid='A')))
    assert code(e) == 'MalformedPolicyDocument'
    # prefixes and IfExists are part of the grammar
    iam.create_policy(PolicyName='ok', PolicyDocument=doc(dict(ALLOW, Sid='A1', Condition={
        'ForAnyValue:StringLikeIfExists': {'aws:TagKeys': ['a*']},
        'Bool': {'aws:SecureTransport': 'true'}})))


@pytest.mark.parametrize('principal_or_action', [
    {'Action': 's3:GetObject'},
    {'Principal': {'AWS': 'arn:aws:iam::123456789012:role/ghost'}},
    {'Principal': {'AWS': 'not-an-arn'}},
    {'Principal': {'Servce': 'ecs-tasks.amazonaws.com'}},
])
def test_trust_policy_grammar(emulator, principal_or_action):
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName='r', AssumeRolePolicyDocument=doc(
            dict(TRUST_STMT, **principal_or_action)))
    assert code(e) == 'MalformedPolicyDocument'
    # a role that exists may be trusted, and so may another account
    iam.create_role(RoleName='real', AssumeRolePolicyDocument=doc(TRUST_STMT))
    iam.create_role(RoleName='r', AssumeRolePolicyDocument=doc(dict(
        TRUST_STMT, Principal={'AWS': ['arn:aws:iam::123456789012:role/real',
                                       '210987654321']})))


def test_policy_size_quotas(emulator):
    iam = emulator.client('iam')
    many = [f's3:GetObject{"x" * 40}{i}' for i in range(200)]     # ~10,000 chars
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName='big', PolicyDocument=doc(dict(ALLOW, Action=many)))
    assert code(e) == 'LimitExceeded'                 # managed: 6,144
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName='r', AssumeRolePolicyDocument=doc(
            dict(TRUST_STMT, Principal={'AWS': [f'arn:aws:iam::{100000000000 + i}:root'
                                                for i in range(80)]})))
    assert code(e) == 'LimitExceeded'                 # trust: 2,048
    iam.create_role(RoleName='r', AssumeRolePolicyDocument=doc(TRUST_STMT))
    half = [f's3:GetObject{"x" * 40}{i}' for i in range(100)]      # ~5,500 chars
    iam.put_role_policy(RoleName='r', PolicyName='a', PolicyDocument=doc(
        dict(ALLOW, Action=half)))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.put_role_policy(RoleName='r', PolicyName='b', PolicyDocument=doc(
            dict(ALLOW, Action=half)))
    assert code(e) == 'LimitExceeded'                 # inline, per role: 10,240
    # white space is not counted
    iam.create_policy(PolicyName='spaced', PolicyDocument=json.dumps(
        json.loads(doc(ALLOW)), indent=2000))


def test_policy_characters_outside_the_model_set(emulator):
    # the model's policyDocumentType pattern: [\u0009\u000A\u000D\u0020-\u00FF]+
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_policy(PolicyName='p', PolicyDocument=doc(dict(ALLOW, Sid='\u2603')))
    assert code(e) in ('ValidationError', 'MalformedPolicyDocument')


# ---------------------------------- 3. ECS RegisterTaskDefinition on Fargate
# ECS Developer Guide: "Amazon ECS task execution IAM role" (required on Fargate
# for private ECR images, awslogs and secrets), "Fargate task definition
# considerations" (log drivers awslogs, splunk, awsfirelens; no privileged).

EXEC = 'arn:aws:iam::123456789012:role/exec'


def _fargate_td(ecs, exec_role=None, **container):
    cd = dict({'name': 'app', 'image': 'busybox:1.36'}, **container)
    kw = dict(family='f', requiresCompatibilities=['FARGATE'], networkMode='awsvpc',
              cpu='256', memory='512', containerDefinitions=[cd])
    if exec_role:
        kw['executionRoleArn'] = exec_role
    return ecs.register_task_definition(**kw)


@pytest.mark.parametrize('container', [
    {'logConfiguration': {'logDriver': 'awslogs', 'options': {
        'awslogs-group': '/ecs/x', 'awslogs-region': 'us-east-1',
        'awslogs-stream-prefix': 'x'}}},
    {'secrets': [{'name': 'S', 'valueFrom': 'arn:aws:secretsmanager:us-east-1:'
                                             '123456789012:secret:s-AbCdEf'}]},
    {'image': '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1'},
])
def test_fargate_needs_an_execution_role(emulator, container):
    ecs = emulator.client('ecs')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        _fargate_td(ecs, **container)
    assert code(e) == 'ClientException'
    emulator.client('iam').create_role(RoleName='exec', AssumeRolePolicyDocument=doc(
        TRUST_STMT))
    _fargate_td(ecs, exec_role=EXEC, **container)


@pytest.mark.parametrize('container', [
    {'logConfiguration': {'logDriver': 'json-file'}},
    {'privileged': True},
    {'memory': 1024},                      # above the task's 512
    {'image': 'Not A Valid/Image'},
])
def test_fargate_container_rules(emulator, container):
    ecs = emulator.client('ecs')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        _fargate_td(ecs, **container)
    assert code(e) == 'ClientException'


# ------------------------------------------------- 10. account quotas
# VPC User Guide, "Amazon VPC quotas" (5 VPCs, 5 internet gateways per Region,
# 60 inbound or outbound rules per security group, 5 NAT gateways per AZ);
# EC2 User Guide, "Elastic IP address quota" (5 per Region); IAM quotas
# (10 managed policies per role). Configurable: config['quotas'].

def test_vpc_eip_and_rule_quotas(emulator):
    ec2 = emulator.client('ec2')
    vids = [ec2.create_vpc(CidrBlock=f'10.{i}.0.0/16')['Vpc']['VpcId'] for i in range(5)]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.create_vpc(CidrBlock='10.9.0.0/16')
    assert code(e) == 'VpcLimitExceeded'
    for _ in range(5):
        ec2.allocate_address(Domain='vpc')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.allocate_address(Domain='vpc')
    assert code(e) == 'AddressLimitExceeded'
    gid = ec2.create_security_group(GroupName='g', Description='d', VpcId=vids[0])['GroupId']
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 1000 + i, 'ToPort': 1000 + i,
         'IpRanges': [{'CidrIp': '10.0.0.0/8'}]} for i in range(60)])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {'IpProtocol': 'tcp', 'FromPort': 80, 'ToPort': 80,
             'IpRanges': [{'CidrIp': '10.0.0.0/8'}]}])
    assert code(e) == 'RulesPerSecurityGroupLimitExceeded'
    # raised by configuration, as a quota increase would
    emulator.control('config', {'quotas': {'vpcs_per_region': 6}})
    ec2.create_vpc(CidrBlock='10.9.0.0/16')


def test_nat_gateways_per_az_and_policies_per_role(emulator):
    emulator.control('config', {'quotas': {'nat_gateways_per_az': 1,
                                           'managed_policies_per_role': 1},
                                'async': {'nat_gateway_create': 0.1}})
    ec2 = emulator.client('ec2')
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    igw = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vid)
    sid = ec2.create_subnet(VpcId=vid, CidrBlock='10.0.0.0/24',
                            AvailabilityZone='us-east-1a')['Subnet']['SubnetId']
    a1 = ec2.allocate_address(Domain='vpc')['AllocationId']
    a2 = ec2.allocate_address(Domain='vpc')['AllocationId']
    ec2.create_nat_gateway(SubnetId=sid, AllocationId=a1)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.create_nat_gateway(SubnetId=sid, AllocationId=a2)
    assert code(e) == 'NatGatewayLimitExceeded'
    iam = emulator.client('iam')
    iam.create_role(RoleName='r', AssumeRolePolicyDocument=doc(TRUST_STMT))
    iam.attach_role_policy(RoleName='r', PolicyArn='arn:aws:iam::aws:policy/ReadOnlyAccess')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.attach_role_policy(RoleName='r',
                               PolicyArn='arn:aws:iam::aws:policy/AdministratorAccess')
    assert code(e) == 'LimitExceeded'


# ------------------------------------------------- 5. NAT gateway failures
# VPC User Guide, "Troubleshoot NAT gateways": creation fails asynchronously; the
# gateway shows state failed with FailureCode InsufficientFreeAddressesInSubnet,
# Gateway.NotAttached or Resource.AlreadyAssociated.

def test_nat_gateway_failures_are_asynchronous(emulator):
    emulator.control('config', {'async': {'nat_gateway_create': 0.1},
                                'quotas': {'nat_gateways_per_az': 0}})
    ec2 = emulator.client('ec2')
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    igw = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vid)
    # a /28 has 11 usable addresses (AWS reserves five): the 12th gateway fails
    tiny = ec2.create_subnet(VpcId=vid, CidrBlock='10.0.9.0/28')['Subnet']['SubnetId']
    nats = [ec2.create_nat_gateway(SubnetId=tiny, ConnectivityType='private')['NatGateway']
            for _ in range(12)]
    assert all(n['State'] == 'pending' for n in nats)     # no synchronous error
    time.sleep(0.2)
    last = ec2.describe_nat_gateways(NatGatewayIds=[nats[-1]['NatGatewayId']])[
        'NatGateways'][0]
    assert last['State'] == 'failed'
    assert last['FailureCode'] == 'InsufficientFreeAddressesInSubnet'
    first = ec2.describe_nat_gateways(NatGatewayIds=[nats[0]['NatGatewayId']])[
        'NatGateways'][0]
    assert first['State'] == 'available'


# ------------------------------------- 4. patterns, tags, EC2 character sets
# The models' `pattern`s; "Tagging AWS resources" (letters, numbers, spaces,
# _ . : / = + - @; no aws: prefix); EC2 API Reference CreateSecurityGroup
# ("a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*").

def test_model_patterns_are_enforced(emulator):
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName='bad name!', AssumeRolePolicyDocument=doc(TRUST_STMT))
    assert code(e) == 'ValidationError' and 'regular expression' in str(e.value)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emulator.client('logs').create_log_group(logGroupName='has space')
    assert code(e) == 'InvalidParameterException'


@pytest.mark.parametrize('key,value', [('aws:owner', 'x'), ('ok', 'bad\u0001value'),
                                       ('semi;colon', 'x')])
def test_tag_rules_outside_ec2(emulator, key, value):
    sm = emulator.client('secretsmanager')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sm.create_secret(Name='s', SecretString='x', Tags=[{'Key': key, 'Value': value}])
    assert code(e) in ('InvalidParameterException', 'ValidationException')
    ecs = emulator.client('ecs')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ecs.create_cluster(clusterName='c', tags=[{'key': key, 'value': value}])
    assert code(e) == 'InvalidParameterException'
    iam = emulator.client('iam')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_role(RoleName='r', AssumeRolePolicyDocument=doc(TRUST_STMT),
                        Tags=[{'Key': key, 'Value': value}])
    assert code(e) in ('InvalidInput', 'ValidationError')
    # Unicode letters and the documented punctuation are fine
    sm.create_secret(Name='s', SecretString='x',
                     Tags=[{'Key': 'Équipe_1.a:b/c=d+e-f@g', 'Value': 'café ü'}])


def test_security_group_character_sets(emulator):
    ec2 = emulator.client('ec2')
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    for name, desc in (('caf\u00e9', 'd'), ('ok', 'line\nbreak'), ('ok', 'quote"s')):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ec2.create_security_group(GroupName=name, Description=desc, VpcId=vid)
        assert code(e) == 'InvalidParameterValue'
    gid = ec2.create_security_group(GroupName='web (prod) #1', Description='a-z {x} [y] $*!',
                                    VpcId=vid)['GroupId']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {'IpProtocol': 'tcp', 'FromPort': 80, 'ToPort': 80,
             'IpRanges': [{'CidrIp': '0.0.0.0/0', 'Description': 'caf\u00e9'}]}])
    assert code(e) == 'InvalidParameterValue'


# ------------------------------------- 6. interface endpoints, private DNS
# PrivateLink Guide, "DNS hostnames": one private hosted zone per service and
# VPC ("private-dns-enabled cannot be set because there is already a
# conflicting DNS domain"); endpoint policies follow the IAM policy grammar.

def test_second_private_dns_endpoint_for_a_service(emulator):
    ec2 = emulator.client('ec2')
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    ec2.modify_vpc_attribute(VpcId=vid, EnableDnsHostnames={'Value': True})
    s1 = ec2.create_subnet(VpcId=vid, CidrBlock='10.0.1.0/24',
                           AvailabilityZone='us-east-1a')['Subnet']['SubnetId']
    s2 = ec2.create_subnet(VpcId=vid, CidrBlock='10.0.2.0/24',
                           AvailabilityZone='us-east-1b')['Subnet']['SubnetId']
    svc = 'com.amazonaws.us-east-1.secretsmanager'
    ec2.create_vpc_endpoint(VpcId=vid, ServiceName=svc, VpcEndpointType='Interface',
                            SubnetIds=[s1], PrivateDnsEnabled=True)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.create_vpc_endpoint(VpcId=vid, ServiceName=svc, VpcEndpointType='Interface',
                                SubnetIds=[s2], PrivateDnsEnabled=True)
    assert code(e) == 'InvalidParameter' and 'conflicting DNS domain' in str(e.value)
    # without private DNS a second endpoint is fine
    ec2.create_vpc_endpoint(VpcId=vid, ServiceName=svc, VpcEndpointType='Interface',
                            SubnetIds=[s2], PrivateDnsEnabled=False)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.create_vpc_endpoint(VpcId=vid, ServiceName='com.amazonaws.us-east-1.s3',
                                VpcEndpointType='Gateway', PolicyDocument=doc(
                                    {'Effect': 'Allow', 'Principal': '*', 'Action': 'GetObject',
                                     'Resource': '*'}))
    assert code(e) == 'MalformedPolicyDocument'


# ------------------------------------- 7. ECR lifecycle policy schema
# ECR User Guide, "Lifecycle policy properties".

def test_lifecycle_policy_unknown_keys(emulator):
    ecr = emulator.client('ecr')
    ecr.create_repository(repositoryName='repo')
    rule = {'rulePriority': 1, 'selection': {'tagStatus': 'untagged',
                                             'countType': 'imageCountMoreThan',
                                             'countNumber': 5},
            'action': {'type': 'expire'}}
    ecr.put_lifecycle_policy(repositoryName='repo', lifecyclePolicyText=json.dumps(
        {'rules': [rule]}))
    bad = json.loads(json.dumps(rule))
    bad['selection']['countNumbr'] = bad['selection'].pop('countNumber')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ecr.put_lifecycle_policy(repositoryName='repo', lifecyclePolicyText=json.dumps(
            {'rules': [bad]}))
    assert code(e) == 'InvalidParameterException'


# ------------------------------------- 9. Fargate tasks: ENIs and failures
# ECS Developer Guide, "Fargate task networking" (the task's ENI is attached
# while it is provisioned) and "Stopped tasks error codes"
# (CannotPullContainerError, ResourceInitializationError).

def _fargate_service(emulator, image='busybox', log_group=None, secret=None,
                     desired=1):
    ec2 = emulator.client('ec2')
    ecs = emulator.client('ecs')
    iam = emulator.client('iam')
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    sid = ec2.create_subnet(VpcId=vid, CidrBlock='10.0.1.0/24')['Subnet']['SubnetId']
    gid = ec2.create_security_group(GroupName='t', Description='t', VpcId=vid)['GroupId']
    iam.create_role(RoleName='exec', AssumeRolePolicyDocument=doc(TRUST_STMT))
    cd = {'name': 'app', 'image': image}
    if log_group:
        cd['logConfiguration'] = {'logDriver': 'awslogs', 'options': {
            'awslogs-group': log_group, 'awslogs-region': 'us-east-1',
            'awslogs-stream-prefix': 'app'}}
    if secret:
        cd['secrets'] = [{'name': 'S', 'valueFrom': secret}]
    ecs.create_cluster(clusterName='c')
    ecs.register_task_definition(family='f', requiresCompatibilities=['FARGATE'],
                                 networkMode='awsvpc', cpu='256', memory='512',
                                 executionRoleArn=EXEC, containerDefinitions=[cd])
    ecs.create_service(cluster='c', serviceName='s', taskDefinition='f',
                       desiredCount=desired, launchType='FARGATE',
                       networkConfiguration={'awsvpcConfiguration': {
                           'subnets': [sid], 'securityGroups': [gid]}})
    return ec2, ecs, gid


def test_pending_fargate_task_holds_its_eni(emulator):
    emulator.control('config', {'async': {'ecs_tasks_start': 30}})
    ec2, ecs, gid = _fargate_service(emulator)
    svc = ecs.describe_services(cluster='c', services=['s'])['services'][0]
    assert svc['runningCount'] == 0 and svc['pendingCount'] == 1
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.delete_security_group(GroupId=gid)
    assert code(e) == 'DependencyViolation'


@pytest.mark.parametrize('what', ['image', 'log group', 'secret'])
def test_fargate_task_fails_without_what_it_needs(emulator, what):
    emulator.control('config', {'async': {'ecs_tasks_start': 0.1}})
    kw = {'image': '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1'} \
        if what == 'image' else {'log_group': '/ecs/missing'} if what == 'log group' \
        else {'secret': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf'}
    ec2, ecs, gid = _fargate_service(emulator, **kw)
    time.sleep(0.3)
    svc = ecs.describe_services(cluster='c', services=['s'])['services'][0]
    assert svc['runningCount'] == 0
    assert 'failed to launch a task' in svc['events'][0]['message']
    # once what it needs exists, the task starts
    if what == 'image':
        ecr = emulator.client('ecr')
        ecr.create_repository(repositoryName='app')
        ecr.put_image(repositoryName='app', imageTag='1', imageManifest=json.dumps(
            {'schemaVersion': 2, 'mediaType':
             'application/vnd.docker.distribution.manifest.v2+json',
             'config': {'mediaType': 'application/vnd.docker.container.image.v1+json',
                        'size': 1, 'digest': 'sha256:' + '0' * 64}, 'layers': []}))
    elif what == 'log group':
        emulator.client('logs').create_log_group(logGroupName='/ecs/missing')
    else:
        return
    assert ecs.describe_services(cluster='c', services=['s'])['services'][0][
        'runningCount'] == 1


# ------------------------------------- 11. smaller ones

def test_igw_route_inside_the_vpc_cidr(emulator):
    # VPC User Guide, "Routing for a middlebox appliance": a destination equal to
    # or more specific than the VPC CIDR cannot target an internet gateway
    ec2 = emulator.client('ec2')
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    igw = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vid)
    rtb = ec2.create_route_table(VpcId=vid)['RouteTable']['RouteTableId']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock='10.0.1.0/24', GatewayId=igw)
    assert code(e) == 'InvalidParameterValue'
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock='0.0.0.0/0', GatewayId=igw)


def test_icmp_type_out_of_range(emulator):
    # EC2 API Reference, IpPermission: for ICMP, FromPort is the type (-1 or 0-255)
    ec2 = emulator.client('ec2')
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    gid = ec2.create_security_group(GroupName='g', Description='d', VpcId=vid)['GroupId']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
            {'IpProtocol': 'icmp', 'FromPort': 300, 'ToPort': -1,
             'IpRanges': [{'CidrIp': '10.0.0.0/8'}]}])
    assert code(e) == 'InvalidParameterValue'
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {'IpProtocol': 'icmp', 'FromPort': 8, 'ToPort': 0,
         'IpRanges': [{'CidrIp': '10.0.0.0/8'}]}])


def test_unknown_fargate_platform_version(emulator):
    # ECS Developer Guide, "Fargate Linux platform versions"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        _fargate_service_pv(emulator, '9.9.9')
    assert code(e) == 'InvalidParameterException'


def _fargate_service_pv(emulator, pv):
    ec2 = emulator.client('ec2')
    ecs = emulator.client('ecs')
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    sid = ec2.create_subnet(VpcId=vid, CidrBlock='10.0.1.0/24')['Subnet']['SubnetId']
    ecs.create_cluster(clusterName='c')
    ecs.register_task_definition(family='f', requiresCompatibilities=['FARGATE'],
                                 networkMode='awsvpc', cpu='256', memory='512',
                                 containerDefinitions=[{'name': 'a', 'image': 'busybox'}])
    ecs.create_service(cluster='c', serviceName='s', taskDefinition='f', desiredCount=0,
                       launchType='FARGATE', platformVersion=pv,
                       networkConfiguration={'awsvpcConfiguration': {'subnets': [sid]}})


def test_bogus_kms_key_ids(emulator):
    # CreateLogGroup kmsKeyId is a key ARN; CreateSecret KmsKeyId an ARN, key id
    # or alias (CloudWatch Logs / Secrets Manager API References)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emulator.client('logs').create_log_group(logGroupName='g', kmsKeyId='not-a-key')
    assert code(e) == 'InvalidParameterException'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emulator.client('secretsmanager').create_secret(Name='s', SecretString='x',
                                                        KmsKeyId='not a key')
    assert code(e) == 'InvalidParameterException'
    emulator.client('secretsmanager').create_secret(Name='s', SecretString='x',
                                                    KmsKeyId='alias/aws/secretsmanager')


def test_names_are_per_region(emulator):
    # log groups and secrets belong to a Region: the same name can exist in two
    # (IAM roles are global and stay unique account-wide)
    for region in ('us-east-1', 'eu-west-1'):
        emulator.client('logs', region=region).create_log_group(logGroupName='/same')
        emulator.client('secretsmanager', region=region).create_secret(
            Name='same', SecretString='x')
    assert emulator.client('logs', region='eu-west-1').describe_log_groups()[
        'logGroups'][0]['arn'].startswith('arn:aws:logs:eu-west-1:')
    inv = [r for r in emulator.control('inventory') if r['id'] in ('/same', 'same')]
    assert sorted((r['id'], r['region']) for r in inv) == [
        ('/same', 'eu-west-1'), ('/same', 'us-east-1'),
        ('same', 'eu-west-1'), ('same', 'us-east-1')]
