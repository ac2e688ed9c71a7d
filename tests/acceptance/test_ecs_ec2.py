"""ECS services on the EC2 launch type, through the real binary: apply waits
for a service's tasks to be placed on the cluster's container instances (as
CloudFormation waits for a service to be stable); a task that fits on no
instance fails the service with ECS's own event and rolls it back; a DAEMON
service in a cluster no instance joins is a warning, not a hang; DeleteCluster
names an instance outside the stack that keeps the cluster busy."""
import time

from test_apply_stacks import live_inventory

FAST = {'CAIRN_IAM_PROPAGATION_SECONDS': '0', 'CAIRN_ECS_PLACEMENT_SECONDS': '3'}

HOST = """
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: ec2.amazonaws.com}, Action: sts:AssumeRole}
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role
  Profile:
    Type: AWS::IAM::InstanceProfile
    Properties:
      Roles: [!Ref Role]
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref Ami
      InstanceType: t3.micro
      IamInstanceProfile: !Ref Profile
      UserData:
        Fn::Base64: !Sub |
          #!/bin/bash
          echo ECS_CLUSTER=${Cluster} >> /etc/ecs/ecs.config
"""


def template(memory, strategy='REPLICA', host=True):
    svc_extra = 'DesiredCount: 1' if strategy == 'REPLICA' else ''
    return f"""
Parameters:
  Ami:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id
Resources:
  Cluster:
    Type: AWS::ECS::Cluster
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      RequiresCompatibilities: [EC2]
      NetworkMode: bridge
      ContainerDefinitions:
        - {{Name: app, Image: nginx, Memory: {memory}}}
  Service:
    Type: AWS::ECS::Service
    {'DependsOn: Host' if host else ''}
    Properties:
      Cluster: !Ref Cluster
      TaskDefinition: !Ref Task
      LaunchType: EC2
      SchedulingStrategy: {strategy}
      {svc_extra}
{HOST if host else ''}
"""


def fast(emu):
    emu.control('config', {'async': {'instance_start': 0.2, 'instance_stop': 0.2,
                                     'instance_terminate': 0.2, 'ecs_agent_register': 1.0,
                                     'ecs_instance_deregister': 0.5}})


def run(cairn, tpl, *args):
    cmd = [args[0], str(tpl)] + (['--auto-approve'] if args[0] in ('apply', 'destroy')
                                 else []) + cairn.endpoint + \
        ['--state', str(cairn.tmp / 'state.db')] + list(args[1:])
    return cairn(*cmd, extra_env=FAST)


def services(emu):
    ecs = emu.client('ecs')
    out = []
    for c in ecs.list_clusters()['clusterArns']:
        arns = ecs.list_services(cluster=c)['serviceArns']
        if arns:
            out += ecs.describe_services(cluster=c, services=arns)['services']
    return out


def test_replica_waits_for_placement_and_rolls_back_what_never_fits(emu, cairn):
    fast(emu)
    tpl = cairn.tmp / 'svc.yaml'
    # fits on a t3.micro (1 GiB): apply ends with the task running
    tpl.write_text(template(256))
    r = run(cairn, tpl, 'apply')
    assert r.rc == 0, r
    [s] = services(emu)
    assert (s['desiredCount'], s['runningCount']) == (1, 1), s
    r = run(cairn, tpl, 'plan', '--detailed-exitcode')
    assert r.rc == 0, r
    # 4 GiB fits nowhere: the new service revision is refused with ECS's
    # event, and the service keeps running the old task definition
    tpl.write_text(template(4096))
    r = run(cairn, tpl, 'apply')
    assert r.rc != 0, r
    assert 'was unable to place a task because no container instance met all of its ' \
           'requirements' in r.out + r.err, r
    assert 'insufficient memory available' in r.out + r.err, r
    tpl.write_text(template(256))
    r = run(cairn, tpl, 'destroy')
    assert r.rc == 0, r
    assert live_inventory(emu) == []


def test_create_that_never_fits_is_rolled_back(emu, cairn):
    fast(emu)
    tpl = cairn.tmp / 'big.yaml'
    tpl.write_text(template(4096))
    r = run(cairn, tpl, 'apply')
    assert r.rc != 0, r
    assert 'insufficient memory available' in r.out + r.err, r
    # the service was deleted again (CloudFormation's rollback of a create)
    assert [s['status'] for s in services(emu)] in ([], ['DRAINING'], ['INACTIVE']), \
        services(emu)
    assert not [x for x in live_inventory(emu) if x['type'] == 'service'], live_inventory(emu)
    r = run(cairn, tpl, 'destroy')
    assert r.rc == 0, r
    assert live_inventory(emu) == []


def test_daemon_without_hosts_warns_and_goes_on(emu, cairn):
    fast(emu)
    tpl = cairn.tmp / 'daemon.yaml'
    tpl.write_text(template(256, 'DAEMON', host=False))
    r = run(cairn, tpl, 'apply')
    assert r.rc == 0, r
    assert 'no container instance joined ECS cluster' in r.err, r
    [s] = services(emu)
    assert (s['desiredCount'], s['runningCount']) == (0, 0)
    r = run(cairn, tpl, 'destroy')
    assert r.rc == 0, r
    assert live_inventory(emu) == []


def test_cluster_delete_names_a_foreign_host(emu, cairn):
    fast(emu)
    ec2, ecs, iam = (emu.client(s) for s in ('ec2', 'ecs', 'iam'))
    tpl = cairn.tmp / 'daemon.yaml'
    tpl.write_text(template(256, 'DAEMON', host=True))
    r = run(cairn, tpl, 'apply')
    assert r.rc == 0, r
    [s] = services(emu)
    assert (s['desiredCount'], s['runningCount']) == (1, 1), s
    # an instance started by hand joins the stack's cluster
    cluster = ecs.list_clusters()['clusterArns'][0].rsplit('/', 1)[1]
    prof = iam.list_instance_profiles()['InstanceProfiles']
    prof = [p for p in prof if p['InstanceProfileName'].startswith('daemon-Profile')][0]
    ami = emu.client('ssm').get_parameter(
        Name='/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id')
    foreign = ec2.run_instances(
        ImageId=ami['Parameter']['Value'], InstanceType='t3.micro', MinCount=1, MaxCount=1,
        IamInstanceProfile={'Name': prof['InstanceProfileName']},
        UserData=f'#!/bin/bash\necho ECS_CLUSTER={cluster} >> /etc/ecs/ecs.config\n'
    )['Instances'][0]['InstanceId']
    for _ in range(100):
        if len(ecs.list_container_instances(cluster=cluster)['containerInstanceArns']) == 2:
            break
        time.sleep(0.1)
    r = run(cairn, tpl, 'destroy')
    assert r.rc != 0, r
    assert foreign in r.out + r.err and 'deregister-container-instance' in r.out + r.err, r
    ec2.terminate_instances(InstanceIds=[foreign])
    r = run(cairn, tpl, 'destroy')
    assert r.rc == 0, r
    left = [x for x in live_inventory(emu) if x['type'] != 'instance-profile']
    assert not [x for x in left if x['service'] == 'ecs'], left


def test_cluster_named_literally_in_user_data(emu, cairn):
    # no reference from the host to the cluster: nothing orders them, so
    # destroy deletes both at once and DeleteCluster is retried until ECS
    # has deregistered the terminated host
    fast(emu)
    tpl = cairn.tmp / 'literal.yaml'
    text = template(256, 'DAEMON', host=True)
    text = text.replace('  Cluster:\n    Type: AWS::ECS::Cluster\n',
                        '  Cluster:\n    Type: AWS::ECS::Cluster\n'
                        '    Properties: {ClusterName: literal-pool}\n')
    text = text.replace('ECS_CLUSTER=${Cluster}', 'ECS_CLUSTER=literal-pool')
    assert 'literal-pool' in text and '${Cluster}' not in text
    tpl.write_text(text)
    r = run(cairn, tpl, 'apply')
    assert r.rc == 0, r
    [s] = services(emu)
    assert (s['desiredCount'], s['runningCount']) == (1, 1), s
    r = run(cairn, tpl, 'destroy')
    assert r.rc == 0, r
    assert live_inventory(emu) == []
