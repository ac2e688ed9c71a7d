"""ECS container instances through botocore: an EC2 instance whose user data
names the cluster and whose role may register joins it some time after it
runs; DAEMON services run one task on each, REPLICA EC2 services only where
resources remain; termination deregisters it; DeleteCluster waits for that."""
import base64
import gzip
import json
import time

import botocore.exceptions
import pytest

ECS_AMI = 'ami-0ec2a11ec5023a001'     # /aws/service/ecs/optimized-ami/amazon-linux-2023
PLAIN_AMI = 'ami-0a12023de7a000003'   # al2023, no ECS agent
TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ec2.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]})
EC2_ROLE_POLICY = 'arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role'


@pytest.fixture
def env(emulator):
    emulator.reset()
    emulator.control('config', {'async': {'instance_start': 0.1, 'instance_stop': 0.1,
                                          'instance_terminate': 0.1, 'ecs_tasks_start': 0.1,
                                          'ecs_agent_register': 0.3,
                                          'ecs_instance_deregister': 0.3,
                                          'ecs_service_drain': 0.1},
                                'iam_propagation_seconds': 0})
    ec2, ecs, iam = (emulator.client(s) for s in ('ec2', 'ecs', 'iam'))
    vpc = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock='10.0.1.0/24')['Subnet']['SubnetId']
    ecs.create_cluster(clusterName='c1')

    def profile(name, managed=(EC2_ROLE_POLICY,), inline=None):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
        for arn in managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        if inline:
            iam.put_role_policy(RoleName=name, PolicyName='p', PolicyDocument=json.dumps(inline))
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        return name

    def run(user_data, prof='', itype='t3.medium', ami=ECS_AMI):
        kw = dict(ImageId=ami, InstanceType=itype, MinCount=1, MaxCount=1, SubnetId=sub,
                  UserData=user_data)
        if prof:
            kw['IamInstanceProfile'] = {'Name': prof}
        return ec2.run_instances(**kw)['Instances'][0]['InstanceId']
    return emulator, ec2, ecs, profile, run


def code(e):
    return e.value.response['Error']['Code']


def until(fn, timeout=5.0):
    end = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > end:
            return v
        time.sleep(0.05)


def arns(ecs, cluster='c1'):
    return ecs.list_container_instances(cluster=cluster)['containerInstanceArns']


def svc(ecs, name, cluster='c1'):
    return ecs.describe_services(cluster=cluster, services=[name])['services'][0]


def td(ecs, family, mem=512, cpu=256, mode='bridge', ports=()):
    cd = {'name': 'app', 'image': 'nginx', 'memory': mem, 'cpu': cpu}
    if ports:
        cd['portMappings'] = [{'containerPort': p, 'hostPort': p} for p in ports]
    return ecs.register_task_definition(family=family, networkMode=mode,
                                        requiresCompatibilities=['EC2'],
                                        containerDefinitions=[cd])['taskDefinition'][
        'taskDefinitionArn']


def test_user_data_shapes_and_role_decide_registration(env):
    emulator, ec2, ecs, profile, run = env
    good = profile('good')
    inline = profile('inline', managed=(), inline={'Version': '2012-10-17', 'Statement': [
        {'Effect': 'Allow', 'Action': ['ecs:Register*', 'ecs:Poll'], 'Resource': '*'}]})
    weak = profile('weak', managed=(), inline={'Version': '2012-10-17', 'Statement': [
        {'Effect': 'Allow', 'Action': 's3:GetObject', 'Resource': '*'}]})
    joined = [
        run('#!/bin/bash\necho ECS_CLUSTER=c1 >> /etc/ecs/ecs.config\n', good),
        run('#!/bin/bash\ncat >>/etc/ecs/ecs.config <<EOF\nECS_CLUSTER=c1\n'
            'ECS_ENABLE_TASK_IAM_ROLE=true\nEOF\n', inline),
        run("#!/bin/bash\necho 'ECS_CLUSTER=c1' | tee -a /etc/ecs/ecs.config\n", good),
        # gzip-compressed user data, as cloud-init takes it
        run(gzip.compress(b'#cloud-config\nwrite_files:\n  - path: /etc/ecs/ecs.config\n'
                          b'    content: ECS_CLUSTER=c1\n'), good),
    ]
    not_joined = [
        run('#!/bin/bash\necho ECS_CLUSTER=c1 >> /etc/ecs/ecs.config\n', weak),  # no permission
        run('#!/bin/bash\necho ECS_CLUSTER=c1 >> /etc/ecs/ecs.config\n'),       # no profile
        run('#!/bin/bash\necho ECS_CLUSTER=nope >> /etc/ecs/ecs.config\n', good),  # no cluster
        run('#!/bin/bash\n# echo ECS_CLUSTER=c1 >> /etc/ecs/ecs.config\n', good),  # comment
        run('#!/bin/bash\necho ECS_CLUSTER=c1 >> /etc/ecs/ecs.config\n', good,
            ami=PLAIN_AMI),                                                       # no agent
    ]
    # not at once: only once the agent has come up
    assert arns(ecs) == []
    got = until(lambda: len(arns(ecs)) == 4 and arns(ecs))
    assert got, arns(ecs)
    time.sleep(0.5)
    d = ecs.describe_container_instances(cluster='c1', containerInstances=arns(ecs))
    assert sorted(ci['ec2InstanceId'] for ci in d['containerInstances']) == sorted(joined)
    assert not set(not_joined) & {ci['ec2InstanceId'] for ci in d['containerInstances']}
    ci = d['containerInstances'][0]
    assert ci['status'] == 'ACTIVE' and ci['agentConnected'] is True
    reg = {r['name']: r for r in ci['registeredResources']}
    assert reg['CPU']['integerValue'] == 2048                 # t3.medium: 2 vCPU
    assert 3500 < reg['MEMORY']['integerValue'] < 4096        # 4 GiB less what the OS keeps
    assert '22' in reg['PORTS']['stringSetValue']
    assert ci['remainingResources'] == ci['registeredResources']
    c = ecs.describe_clusters(clusters=['c1'])['clusters'][0]
    assert c['registeredContainerInstancesCount'] == 4
    assert ci['containerInstanceArn'].startswith('arn:aws:ecs:us-east-1:123456789012:'
                                                 'container-instance/c1/')


def test_daemon_one_task_per_instance_and_deregistration(env):
    emulator, ec2, ecs, profile, run = env
    prof = profile('p')
    ud = '#!/bin/bash\necho ECS_CLUSTER=c1 >> /etc/ecs/ecs.config\n'
    i1 = run(ud, prof)
    tdarn = td(ecs, 'd', mem=512, cpu=256)
    ecs.create_service(cluster='c1', serviceName='daemon', taskDefinition=tdarn,
                       launchType='EC2', schedulingStrategy='DAEMON')
    s = svc(ecs, 'daemon')
    assert s['desiredCount'] == 0 and s['runningCount'] == 0    # nothing registered yet
    assert until(lambda: svc(ecs, 'daemon')['runningCount'] == 1)
    i2 = run(ud, prof)
    assert until(lambda: svc(ecs, 'daemon')['runningCount'] == 2)
    s = svc(ecs, 'daemon')
    assert s['desiredCount'] == 2 and len(s['deployments']) == 1
    d = ecs.describe_container_instances(cluster='c1', containerInstances=arns(ecs))
    for ci in d['containerInstances']:
        assert ci['runningTasksCount'] == 1
        rem = {r['name']: r.get('integerValue') for r in ci['remainingResources']}
        reg = {r['name']: r.get('integerValue') for r in ci['registeredResources']}
        assert rem['CPU'] == reg['CPU'] - 256 and rem['MEMORY'] == reg['MEMORY'] - 512
    # deregistering by hand needs force while tasks run, and is final
    first = [ci for ci in d['containerInstances'] if ci['ec2InstanceId'] == i2][0]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ecs.deregister_container_instance(cluster='c1',
                                          containerInstance=first['containerInstanceArn'])
    assert code(e) == 'InvalidParameterException'
    out = ecs.deregister_container_instance(cluster='c1', force=True,
                                            containerInstance=first['containerInstanceArn'])
    assert out['containerInstance']['status'] == 'INACTIVE'
    assert until(lambda: svc(ecs, 'daemon')['runningCount'] == 1)
    time.sleep(0.5)
    assert len(arns(ecs)) == 1
    # a terminated instance is deregistered; until then the cluster cannot go
    ecs.delete_service(cluster='c1', service='daemon')
    assert until(lambda: svc(ecs, 'daemon')['status'] == 'INACTIVE')
    ec2.terminate_instances(InstanceIds=[i1, i2])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ecs.delete_cluster(cluster='c1')
    assert code(e) == 'ClusterContainsContainerInstancesException'
    assert until(lambda: not arns(ecs))
    gone = ecs.describe_container_instances(cluster='c1', containerInstances=[
        first['containerInstanceArn']])['containerInstances'][0]
    assert gone['status'] == 'INACTIVE'
    assert until(lambda: _deleted(ecs))


def _deleted(ecs):
    try:
        ecs.delete_cluster(cluster='c1')
        return True
    except botocore.exceptions.ClientError:
        return False


def test_replica_placement_by_resources_and_stop_start(env):
    emulator, ec2, ecs, profile, run = env
    prof = profile('p')
    ud = base64.b64encode(b'#!/bin/bash\necho ECS_CLUSTER=c1 >> /etc/ecs/ecs.config\n').decode()
    iid = run(base64.b64decode(ud).decode(), prof, itype='t3.small')  # 2 vCPU, ~1.9 GiB
    assert until(lambda: arns(ecs))
    big = td(ecs, 'big', mem=800, cpu=512)
    ecs.create_service(cluster='c1', serviceName='web', taskDefinition=big, launchType='EC2',
                       desiredCount=3)
    assert until(lambda: svc(ecs, 'web')['runningCount'] == 2)
    time.sleep(0.3)
    s = svc(ecs, 'web')
    assert s['runningCount'] == 2 and s['desiredCount'] == 3
    msg = s['events'][0]['message']
    assert msg.startswith('(service web) was unable to place a task because no container '
                          'instance met all of its requirements. The closest matching '
                          '(container-instance ')
    assert 'has insufficient memory available' in msg
    # host ports: two tasks cannot both take port 80 on one instance
    web80 = td(ecs, 'p80', mem=64, cpu=64, mode='host', ports=(80,))
    ecs.create_service(cluster='c1', serviceName='p80', taskDefinition=web80,
                       launchType='EC2', desiredCount=2)
    assert until(lambda: svc(ecs, 'p80')['runningCount'] == 1)
    time.sleep(0.3)
    assert 'port required by your task' in svc(ecs, 'p80')['events'][0]['message']
    ecs.update_service(cluster='c1', service='web', desiredCount=1)
    ecs.update_service(cluster='c1', service='p80', desiredCount=1)
    assert until(lambda: not svc(ecs, 'web')['events'] or
                 'unable to place' not in svc(ecs, 'web')['events'][0]['message'])
    # a stopped instance's agent is disconnected; it comes back with the same ARN
    before = arns(ecs)
    ec2.stop_instances(InstanceIds=[iid])
    assert until(lambda: svc(ecs, 'web')['runningCount'] == 0)
    ci = ecs.describe_container_instances(cluster='c1', containerInstances=before)[
        'containerInstances'][0]
    assert ci['agentConnected'] is False and ci['status'] == 'ACTIVE'
    assert until(lambda: ec2.describe_instances(InstanceIds=[iid])['Reservations'][0][
        'Instances'][0]['State']['Name'] == 'stopped')
    ec2.modify_instance_attribute(InstanceId=iid, InstanceType={'Value': 't3.large'})
    ec2.start_instances(InstanceIds=[iid])
    assert until(lambda: svc(ecs, 'web')['runningCount'] == 1)
    assert arns(ecs) == before
    ci = ecs.describe_container_instances(cluster='c1', containerInstances=before)[
        'containerInstances'][0]
    assert {r['name']: r.get('integerValue') for r in ci['registeredResources']}['MEMORY'] > 7000


def test_api_shapes_and_errors(env):
    emulator, ec2, ecs, profile, run = env
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ecs.list_container_instances(cluster='nope')
    assert code(e) == 'ClusterNotFoundException'
    d = ecs.describe_container_instances(cluster='c1', containerInstances=['0' * 32])
    assert d['containerInstances'] == [] and d['failures'][0]['reason'] == 'MISSING'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ecs.deregister_container_instance(cluster='c1', containerInstance='0' * 32)
    assert code(e) == 'InvalidParameterException'
    prof = profile('p')
    iid = run('#!/bin/bash\necho "ECS_CLUSTER=c1" >> /etc/ecs/ecs.config\n', prof,
              itype='t2.micro')
    assert until(lambda: arns(ecs))
    got = ecs.list_container_instances(cluster='c1',
                                       filter='attribute:ecs.instance-type == t2.micro')
    assert len(got['containerInstanceArns']) == 1
    got = ecs.list_container_instances(cluster='c1',
                                       filter='attribute:ecs.instance-type == t3.large')
    assert got['containerInstanceArns'] == []
    ci = ecs.describe_container_instances(cluster='c1', containerInstances=arns(ecs),
                                          include=['TAGS'])['containerInstances'][0]
    assert ci['ec2InstanceId'] == iid and ci['tags'] == []
    assert ci['versionInfo']['agentVersion']
    assert {'name': 'ecs.instance-type', 'value': 't2.micro'} in ci['attributes']
