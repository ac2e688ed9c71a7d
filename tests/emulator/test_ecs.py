"""ECS (clusters, task definitions, services) through botocore and the aws CLI.

Expected codes and shapes follow the ECS API reference and the model's
documentation (e.g. DeleteCluster's ClusterContainsServicesException, the
MISSING failure reason, INACTIVE after DeregisterTaskDefinition)."""
import json
import time

import pytest
from botocore.exceptions import ClientError

ACCOUNT = '123456789012'
FAST = {'async': {'ecs_service_drain': 0.3, 'ecs_tasks_start': 0.2}}
TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]})


@pytest.fixture
def ecs(emulator):
    emulator.control('config', FAST)
    return emulator.client('ecs')


def err(fn, *a, **kw):
    with pytest.raises(ClientError) as e:
        fn(*a, **kw)
    return e.value.response['Error']['Code'], e.value.response['Error']['Message']


def wait_for(fn, timeout=5.0):
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > end:
            raise AssertionError('timed out')
        time.sleep(0.05)


def container(name='app', image='nginx:1.25', **kw):
    return dict(name=name, image=image, **kw)


def fargate_td(ecs, family='web', **kw):
    args = dict(family=family, networkMode='awsvpc', requiresCompatibilities=['FARGATE'],
                cpu='256', memory='512',
                containerDefinitions=[container(portMappings=[{'containerPort': 80}])])
    args.update(kw)
    return ecs.register_task_definition(**args)['taskDefinition']


def network(emulator):
    ec2 = emulator.client('ec2')
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    sid = ec2.create_subnet(VpcId=vid, CidrBlock='10.0.1.0/24')['Subnet']['SubnetId']
    sg = ec2.create_security_group(GroupName='svc', Description='svc', VpcId=vid)['GroupId']
    return {'awsvpcConfiguration': {'subnets': [sid], 'securityGroups': [sg],
                                    'assignPublicIp': 'DISABLED'}}


def svc(ecs, cluster, name):
    return ecs.describe_services(cluster=cluster, services=[name])['services'][0]


# ---------------------------------------------------------------------------
# clusters

def test_cluster_life_cycle(ecs):
    out = ecs.create_cluster(clusterName='c1', tags=[{'key': 'team', 'value': 'a'}],
                             settings=[{'name': 'containerInsights', 'value': 'enabled'}])
    c = out['cluster']
    assert c['clusterArn'] == f'arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/c1'
    assert c['status'] == 'ACTIVE' and c['activeServicesCount'] == 0
    d = ecs.describe_clusters(clusters=['c1', 'nope'], include=['TAGS', 'SETTINGS'])
    assert d['clusters'][0]['tags'] == [{'key': 'team', 'value': 'a'}]
    assert d['clusters'][0]['settings'] == [{'name': 'containerInsights', 'value': 'enabled'}]
    assert d['failures'] == [{'arn': f'arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/nope',
                              'reason': 'MISSING'}]
    ecs.update_cluster(cluster='c1', settings=[{'name': 'containerInsights', 'value': 'disabled'}])
    d = ecs.describe_clusters(clusters=[c['clusterArn']], include=['SETTINGS'])['clusters'][0]
    assert d['settings'] == [{'name': 'containerInsights', 'value': 'disabled'}]
    assert ecs.list_clusters()['clusterArns'] == [c['clusterArn']]
    out = ecs.update_cluster_settings(cluster='c1', settings=[
        {'name': 'containerInsights', 'value': 'enabled'}])['cluster']
    assert out['settings'] == [{'name': 'containerInsights', 'value': 'enabled'}]
    out = ecs.put_cluster_capacity_providers(
        cluster='c1', capacityProviders=['FARGATE', 'FARGATE_SPOT'],
        defaultCapacityProviderStrategy=[{'capacityProvider': 'FARGATE', 'weight': 1}])['cluster']
    assert out['capacityProviders'] == ['FARGATE', 'FARGATE_SPOT']
    assert err(ecs.put_cluster_capacity_providers, cluster='c1', capacityProviders=['MINE'],
               defaultCapacityProviderStrategy=[])[0] == 'InvalidParameterException'
    # CreateCluster is idempotent on the name
    assert ecs.create_cluster(clusterName='c1')['cluster']['clusterArn'] == c['clusterArn']
    assert ecs.delete_cluster(cluster='c1')['cluster']['status'] == 'INACTIVE'
    # a deleted cluster is still described, as INACTIVE
    d = ecs.describe_clusters(clusters=['c1'])
    assert d['clusters'][0]['status'] == 'INACTIVE' and d['failures'] == []
    assert ecs.list_clusters()['clusterArns'] == []
    assert err(ecs.delete_cluster, cluster='c1')[0] == 'ClusterNotFoundException'
    assert err(ecs.update_cluster, cluster='zz', settings=[])[0] == 'ClusterNotFoundException'
    assert err(ecs.create_cluster, clusterName='bad name!')[0] == 'InvalidParameterException'


def test_cluster_tags_api(ecs):
    arn = ecs.create_cluster(clusterName='t')['cluster']['clusterArn']
    ecs.tag_resource(resourceArn=arn, tags=[{'key': 'a', 'value': '1'}, {'key': 'b', 'value': '2'}])
    ecs.untag_resource(resourceArn=arn, tagKeys=['a'])
    assert ecs.list_tags_for_resource(resourceArn=arn)['tags'] == [{'key': 'b', 'value': '2'}]
    assert err(ecs.tag_resource, resourceArn=arn,
               tags=[{'key': 'aws:x', 'value': '1'}])[0] == 'InvalidParameterException'


# ---------------------------------------------------------------------------
# task definitions

def test_task_definition_revisions(ecs):
    td1 = fargate_td(ecs, tags=[{'key': 'k', 'value': 'v'}])
    assert td1['taskDefinitionArn'] == f'arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:1'
    assert td1['revision'] == 1 and td1['status'] == 'ACTIVE'
    assert td1['cpu'] == '256' and td1['memory'] == '512'
    assert td1['containerDefinitions'][0]['essential'] is True
    # awsvpc: hostPort mirrors containerPort
    assert td1['containerDefinitions'][0]['portMappings'] == [
        {'containerPort': 80, 'hostPort': 80, 'protocol': 'tcp'}]
    td2 = fargate_td(ecs, cpu='0.5 vCPU', memory='1 GB')
    assert td2['revision'] == 2 and (td2['cpu'], td2['memory']) == ('512', '1024')
    d = ecs.describe_task_definition(taskDefinition='web', include=['TAGS'])
    assert d['taskDefinition']['revision'] == 2 and d['tags'] == []
    d = ecs.describe_task_definition(taskDefinition='web:1', include=['TAGS'])
    assert d['tags'] == [{'key': 'k', 'value': 'v'}]
    assert 'tags' not in ecs.describe_task_definition(taskDefinition='web:1')
    out = ecs.deregister_task_definition(taskDefinition=td1['taskDefinitionArn'])
    assert out['taskDefinition']['status'] == 'INACTIVE'
    # INACTIVE revisions stay describable
    assert ecs.describe_task_definition(taskDefinition='web:1')['taskDefinition']['status'] == 'INACTIVE'
    assert ecs.list_task_definitions(familyPrefix='web')['taskDefinitionArns'] == [
        td2['taskDefinitionArn']]
    assert ecs.list_task_definitions(status='INACTIVE')['taskDefinitionArns'] == [
        td1['taskDefinitionArn']]
    assert ecs.list_task_definition_families()['families'] == ['web']
    ecs.deregister_task_definition(taskDefinition='web:2')
    assert ecs.list_task_definition_families()['families'] == []
    assert ecs.list_task_definition_families(status='INACTIVE')['families'] == ['web']
    # a new registration continues the numbering
    assert fargate_td(ecs)['revision'] == 3
    assert err(ecs.describe_task_definition, taskDefinition='nope')[0] == 'ClientException'


def test_task_definition_validation(ecs):
    cases = [
        dict(family='f', containerDefinitions=[]),
        dict(family='f', containerDefinitions=[{'name': 'x'}], memory='512'),
        dict(family='f', networkMode='bridge', requiresCompatibilities=['FARGATE'], cpu='256',
             memory='512', containerDefinitions=[container()]),
        dict(family='f', networkMode='awsvpc', requiresCompatibilities=['FARGATE'],
             memory='512', containerDefinitions=[container()]),
        dict(family='f', networkMode='awsvpc', requiresCompatibilities=['FARGATE'], cpu='256',
             memory='4096', containerDefinitions=[container()]),
        dict(family='bad family', containerDefinitions=[container(memory=128)]),
    ]
    for args in cases:
        assert err(ecs.register_task_definition, **args)[0] == 'ClientException', args
    assert ecs.list_task_definition_families(status='ALL')['families'] == []


def test_iam_propagation_window(ecs, emulator):
    iam = emulator.client('iam')
    arn = iam.create_role(RoleName='exec', AssumeRolePolicyDocument=TRUST)['Role']['Arn']
    emulator.control('config', {'iam_propagation_seconds': 0.5})
    code, msg = err(fargate_td, ecs, executionRoleArn=arn)
    assert (code, msg) == ('ClientException', 'Role is not valid')
    # a role that does not exist at all is not valid either
    code, _ = err(fargate_td, ecs, taskRoleArn=f'arn:aws:iam::{ACCOUNT}:role/ghost')
    assert code == 'ClientException'
    time.sleep(0.55)
    td = fargate_td(ecs, executionRoleArn=arn)
    assert td['executionRoleArn'] == arn
    # CreateService accepts a task definition whose role is not assumable yet, but
    # its tasks only launch once ECS can assume it (and the events say why)
    ecs.create_cluster(clusterName='c')
    iam.create_role(RoleName='task', AssumeRolePolicyDocument=TRUST)
    emulator.control('config', {'iam_propagation_seconds': 0})
    td2 = fargate_td(ecs, taskRoleArn=f'arn:aws:iam::{ACCOUNT}:role/task')
    emulator.control('config', {'iam_propagation_seconds': 1.0})
    ecs.create_service(cluster='c', serviceName='s', taskDefinition=td2['taskDefinitionArn'],
                       desiredCount=1, launchType='FARGATE',
                       networkConfiguration=network(emulator))
    time.sleep(0.3)
    s = svc(ecs, 'c', 's')
    assert s['runningCount'] == 0 and s['pendingCount'] == 1
    assert 'ECS was unable to assume the role' in s['events'][0]['message']
    wait_for(lambda: svc(ecs, 'c', 's')['runningCount'] == 1)
    # a young service role (load balancer integration) fails CreateService itself
    role = iam.create_role(RoleName='svc', AssumeRolePolicyDocument=TRUST)['Role']['Arn']
    code, msg = err(ecs.create_service, cluster='c', serviceName='s2', role=role,
                    taskDefinition=td2['taskDefinitionArn'], desiredCount=0,
                    launchType='FARGATE', networkConfiguration=network2(emulator))
    assert code == 'InvalidParameterException' and 'Unable to assume role' in msg


def network2(emulator):
    """An awsvpc configuration on the subnet network() already made."""
    sid = emulator.client('ec2').describe_subnets()['Subnets'][0]['SubnetId']
    return {'awsvpcConfiguration': {'subnets': [sid]}}


# ---------------------------------------------------------------------------
# services

def test_service_life_cycle(ecs, emulator):
    ecs.create_cluster(clusterName='c')
    td = fargate_td(ecs)
    net = network(emulator)
    out = ecs.create_service(cluster='c', serviceName='api', taskDefinition='web',
                             desiredCount=2, launchType='FARGATE', networkConfiguration=net,
                             clientToken='tok-1', tags=[{'key': 'svc', 'value': 'api'}])['service']
    assert out['serviceArn'] == f'arn:aws:ecs:us-east-1:{ACCOUNT}:service/c/api'
    assert out['status'] == 'ACTIVE' and out['desiredCount'] == 2
    assert out['taskDefinition'] == td['taskDefinitionArn']
    assert out['networkConfiguration'] == net
    # same clientToken: the same service; another token: not idempotent
    again = ecs.create_service(cluster='c', serviceName='api', taskDefinition='web',
                               desiredCount=2, launchType='FARGATE', networkConfiguration=net,
                               clientToken='tok-1')['service']
    assert again['serviceArn'] == out['serviceArn'] and again['createdAt'] == out['createdAt']
    code, msg = err(ecs.create_service, cluster='c', serviceName='api', taskDefinition='web',
                    desiredCount=2, launchType='FARGATE', networkConfiguration=net)
    assert code == 'InvalidParameterException' and 'not idempotent' in msg
    # runningCount follows desiredCount after a short delay
    wait_for(lambda: svc(ecs, 'c', 'api')['runningCount'] == 2)
    ecs.get_waiter('services_stable').wait(cluster='c', services=['api'],
                                           WaiterConfig={'Delay': 0.1, 'MaxAttempts': 30})
    # a new revision rolls out
    td2 = fargate_td(ecs)
    ecs.update_service(cluster='c', service='api', taskDefinition=td2['taskDefinitionArn'],
                       desiredCount=1)
    s = svc(ecs, 'c', 'api')
    assert s['taskDefinition'] == td2['taskDefinitionArn'] and s['desiredCount'] == 1
    wait_for(lambda: svc(ecs, 'c', 'api')['runningCount'] == 1
             and len(svc(ecs, 'c', 'api')['deployments']) == 1)
    assert ecs.list_services(cluster='c')['serviceArns'] == [out['serviceArn']]
    assert ecs.describe_clusters(clusters=['c'])['clusters'][0]['activeServicesCount'] == 1
    # the cluster cannot go while the service is ACTIVE ...
    assert err(ecs.delete_cluster, cluster='c')[0] == 'ClusterContainsServicesException'
    # ... DeleteService needs desiredCount 0 (or force)
    assert err(ecs.delete_service, cluster='c', service='api')[0] == 'InvalidParameterException'
    ecs.update_service(cluster='c', service='api', desiredCount=0)
    assert ecs.delete_service(cluster='c', service='api')['service']['status'] == 'DRAINING'
    # ... nor while it is DRAINING; a same-name create is refused too
    assert err(ecs.delete_cluster, cluster='c')[0] == 'ClusterContainsServicesException'
    assert err(ecs.create_service, cluster='c', serviceName='api', taskDefinition='web',
               desiredCount=1, launchType='FARGATE',
               networkConfiguration=net)[0] == 'InvalidParameterException'
    assert err(ecs.update_service, cluster='c', service='api',
               desiredCount=1)[0] == 'ServiceNotActiveException'
    ecs.get_waiter('services_inactive').wait(cluster='c', services=['api'],
                                             WaiterConfig={'Delay': 0.1, 'MaxAttempts': 30})
    assert ecs.list_services(cluster='c')['serviceArns'] == []
    # INACTIVE: the name is free again
    new = ecs.create_service(cluster='c', serviceName='api', taskDefinition='web',
                             desiredCount=0, launchType='FARGATE',
                             networkConfiguration=net)['service']
    assert new['status'] == 'ACTIVE'
    ecs.delete_service(cluster='c', service='api', force=True)
    wait_for(lambda: svc(ecs, 'c', 'api')['status'] == 'INACTIVE')
    ecs.delete_cluster(cluster='c')


def test_service_validation(ecs, emulator):
    ecs.create_cluster(clusterName='c')
    fargate_td(ecs)
    net = network(emulator)
    assert err(ecs.create_service, cluster='nope', serviceName='s', taskDefinition='web',
               desiredCount=1)[0] == 'ClusterNotFoundException'
    assert err(ecs.create_service, cluster='c', serviceName='s', taskDefinition='web',
               desiredCount=1, launchType='FARGATE')[0] == 'InvalidParameterException'
    bad = {'awsvpcConfiguration': {'subnets': ['subnet-0123456789abcdef0']}}
    code, msg = err(ecs.create_service, cluster='c', serviceName='s', taskDefinition='web',
                    desiredCount=1, launchType='FARGATE', networkConfiguration=bad)
    assert code == 'InvalidParameterException' and 'subnet-0123456789abcdef0' in msg
    assert err(ecs.create_service, cluster='c', serviceName='s', taskDefinition='nope',
               desiredCount=1, launchType='FARGATE',
               networkConfiguration=net)[0] == 'ClientException'
    d = ecs.describe_services(cluster='c', services=['ghost'])
    assert d['services'] == [] and d['failures'][0]['reason'] == 'MISSING'
    assert err(ecs.update_service, cluster='c', service='ghost',
               desiredCount=1)[0] == 'ServiceNotFoundException'
    assert err(ecs.describe_services, cluster='nope',
               services=['x'])[0] == 'ClusterNotFoundException'


def test_service_tags_and_inventory(ecs, emulator):
    ecs.create_cluster(clusterName='c')
    fargate_td(ecs)
    arn = ecs.create_service(cluster='c', serviceName='s', taskDefinition='web', desiredCount=0,
                             launchType='FARGATE', networkConfiguration=network(emulator),
                             tags=[{'key': 'a', 'value': '1'}])['service']['serviceArn']
    ecs.tag_resource(resourceArn=arn, tags=[{'key': 'b', 'value': '2'}])
    assert sorted(t['key'] for t in ecs.list_tags_for_resource(resourceArn=arn)['tags']) == ['a', 'b']
    s = ecs.describe_services(cluster='c', services=[arn], include=['TAGS'])['services'][0]
    assert len(s['tags']) == 2
    inv = {(x['type'], x['id']) for x in emulator.control('inventory') if x['service'] == 'ecs'}
    assert inv == {('cluster', f'arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/c'),
                   ('task-definition', f'arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:1'),
                   ('service', arn)}
    ecs.delete_service(cluster='c', service='s')
    ecs.deregister_task_definition(taskDefinition='web:1')
    wait_for(lambda: svc(ecs, 'c', 's')['status'] == 'INACTIVE')
    ecs.delete_cluster(cluster='c')
    assert [x for x in emulator.control('inventory') if x['service'] == 'ecs'] == []


def test_list_pagination(ecs):
    arns = [ecs.create_cluster(clusterName=f'c{i}')['cluster']['clusterArn'] for i in range(7)]
    first = ecs.list_clusters(maxResults=3)
    assert len(first['clusterArns']) == 3 and first['nextToken']
    got = [a for p in ecs.get_paginator('list_clusters').paginate(
        PaginationConfig={'PageSize': 3}) for a in p['clusterArns']]
    assert got == arns


def test_aws_cli_sample(aws, emulator):
    emulator.control('config', FAST)
    out = aws('ecs', 'create-cluster', '--cluster-name', 'cli').json
    assert out['cluster']['status'] == 'ACTIVE'
    p = aws('ecs', 'describe-services', '--cluster', 'cli', '--services', 'none').json
    assert p['failures'][0]['reason'] == 'MISSING'


def test_task_enis_block_network_teardown(ecs, emulator):
    ec2 = emulator.client('ec2')
    emulator.control('config', {'async': {'ecs_task_eni_linger': 0.4}})
    vid = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    sid = ec2.create_subnet(VpcId=vid, CidrBlock='10.0.1.0/24')['Subnet']['SubnetId']
    sg = ec2.create_security_group(GroupName='t', Description='t', VpcId=vid)['GroupId']
    gid = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
    ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
    ecs.create_cluster(clusterName='c')
    fargate_td(ecs)
    ecs.create_service(cluster='c', serviceName='s', taskDefinition='web', desiredCount=2,
                       launchType='FARGATE', networkConfiguration={'awsvpcConfiguration': {
                           'subnets': [sid], 'securityGroups': [sg],
                           'assignPublicIp': 'ENABLED'}})
    wait_for(lambda: svc(ecs, 'c', 's')['runningCount'] == 2)
    enis = ec2.describe_network_interfaces(
        Filters=[{'Name': 'group-id', 'Values': [sg]}])['NetworkInterfaces']
    assert len(enis) == 2 and all(e['SubnetId'] == sid for e in enis)
    assert all(e['InterfaceType'] == 'interface' and e['Association']['PublicIp'] for e in enis)
    assert ec2.describe_subnets(SubnetIds=[sid])['Subnets'][0]['AvailableIpAddressCount'] == 249
    # task ENIs hold the subnet, the group and (public IPs) the IGW
    def code(fn, **kw):
        return err(fn, **kw)[0]
    assert code(ec2.delete_subnet, SubnetId=sid) == 'DependencyViolation'
    assert code(ec2.delete_security_group, GroupId=sg) == 'DependencyViolation'
    assert code(ec2.detach_internet_gateway, InternetGatewayId=gid, VpcId=vid) == \
        'DependencyViolation'
    ecs.delete_service(cluster='c', service='s', force=True)
    ecs.get_waiter('services_inactive').wait(cluster='c', services=['s'],
                                             WaiterConfig={'Delay': 0.1, 'MaxAttempts': 30})
    # ... and linger a little after the tasks stopped
    wait_for(lambda: not ec2.describe_network_interfaces(
        Filters=[{'Name': 'subnet-id', 'Values': [sid]}])['NetworkInterfaces'])
    ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
    ec2.delete_security_group(GroupId=sg)
    ec2.delete_subnet(SubnetId=sid)


def test_update_network_and_listing(ecs, emulator):
    ecs.create_cluster(clusterName='c')
    for _ in range(3):
        fargate_td(ecs)
    arns = ecs.list_task_definitions(familyPrefix='web', sort='DESC')['taskDefinitionArns']
    assert [a.rsplit(':', 1)[1] for a in arns] == ['3', '2', '1']
    page = ecs.list_task_definitions(maxResults=2)
    assert len(page['taskDefinitionArns']) == 2 and page['nextToken']
    net = network(emulator)
    for i in range(3):
        ecs.create_service(cluster='c', serviceName=f's{i}', taskDefinition='web:1',
                           desiredCount=0, launchType='FARGATE', networkConfiguration=net)
    got = [a for p in ecs.get_paginator('list_services').paginate(
        cluster='c', PaginationConfig={'PageSize': 2}) for a in p['serviceArns']]
    assert [a.rsplit('/', 1)[1] for a in got] == ['s0', 's1', 's2']
    ec2 = emulator.client('ec2')
    vid = ec2.describe_subnets(SubnetIds=net['awsvpcConfiguration']['subnets'])['Subnets'][0]['VpcId']
    s2 = ec2.create_subnet(VpcId=vid, CidrBlock='10.0.2.0/24')['Subnet']['SubnetId']
    new = {'awsvpcConfiguration': dict(net['awsvpcConfiguration'], subnets=[s2],
                                       assignPublicIp='ENABLED')}
    out = ecs.update_service(cluster='c', service='s0', networkConfiguration=new,
                             taskDefinition='web:3')['service']
    assert out['networkConfiguration'] == new
    assert out['taskDefinition'].endswith('web:3')
    # a deregistered revision cannot be deployed
    ecs.deregister_task_definition(taskDefinition='web:2')
    assert err(ecs.update_service, cluster='c', service='s1',
               taskDefinition='web:2')[0] == 'ClientException'
