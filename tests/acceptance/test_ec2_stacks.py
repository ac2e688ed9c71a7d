"""The two EC2 reference stacks (stacks/prefect1-agent-ec2.yaml,
stacks/prefect-server-ec2.yaml) through the real binary against the emulator:
apply, `plan --detailed-exitcode` clean, drift clean, an instance type change
done as stop/modify/start on the same instance (the emulator's call counters),
a lifecycle change done in place, destroy back to the seed baseline."""
import json
import os
import time

import pytest

from accept_util import TOP, SECRET
from test_apply_stacks import live_inventory

FAST = {'CAIRN_IAM_PROPAGATION_SECONDS': '0'}


def wait_for(fn, timeout=10.0):
    end = time.time() + timeout
    while not fn():
        if time.time() > end:
            return False
        time.sleep(0.1)
    return True


def delta(before, after):
    return {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0) > 0}


def instances(emu):
    return [r['id'] for r in emu.control('inventory') if r['type'] == 'instance']


def inventory_now(emu):
    return {(x['service'], x['type'], x['id']) for x in emu.control('inventory')}


class Stack:
    def __init__(self, emu, cairn, name, params):
        self.emu, self.cairn = emu, cairn
        self.tpl = cairn.tmp / f'{name}.yaml'
        self.tpl.write_text(open(os.path.join(TOP, 'stacks', f'{name}.yaml')).read())
        self.common = [*cairn.endpoint, '--state', str(cairn.tmp / 'state.db')]
        for k, v in params.items():
            self.common += ['--param', f'{k}={v}']

    def run(self, cmd, *extra):
        args = [cmd, str(self.tpl)] + (['--auto-approve'] if cmd in ('apply', 'destroy')
                                        else []) + self.common + list(extra)
        return self.cairn(*args, extra_env=FAST)

    def converged(self, *extra):
        p = self.run('plan', '--detailed-exitcode', *extra)
        assert p.rc == 0, p.out + p.err
        d = self.run('drift', *extra)
        assert d.rc == 0, d.out + d.err


@pytest.fixture
def fast_emu(emu):
    emu.control('config', {'async': {'instance_start': 0.2, 'instance_stop': 0.2,
                                     'instance_terminate': 0.2, 'nat_gateway_create': 0.3,
                                     'nat_gateway_delete': 0.3, 'ecs_agent_register': 1.0,
                                     'ecs_instance_deregister': 1.0}})
    return emu


def test_prefect1_agent_stack(fast_emu, cairn):
    emu = fast_emu
    ec2, s3, ssm = emu.client('ec2'), emu.client('s3'), emu.client('ssm')
    st = Stack(emu, cairn, 'prefect1-agent-ec2',
               {'SshCidr': '203.0.113.7/32', 'PrefectApiKey': SECRET})
    r = st.run('apply')
    assert r.rc == 0, r
    [iid] = instances(emu)
    inst = ec2.describe_instances(InstanceIds=[iid])['Reservations'][0]['Instances'][0]
    assert inst['InstanceType'] == 't2.micro' and inst['State']['Name'] == 'running'
    assert inst['MetadataOptions']['HttpTokens'] == 'required'
    key = ec2.describe_key_pairs()['KeyPairs']
    assert [k['KeyName'] for k in key] == ['prefect1-agent-ec2-host']
    pem = ssm.get_parameter(Name=f"/ec2/keypair/{key[0]['KeyPairId']}", WithDecryption=True)
    assert pem['Parameter']['Type'] == 'SecureString'
    raw = open(cairn.tmp / 'state.db', 'rb').read()
    assert SECRET.encode() not in raw
    assert pem['Parameter']['Value'].split('\n')[1].encode() not in raw
    sg = [g for g in ec2.describe_security_groups()['SecurityGroups']
          if g['GroupId'] in [x['GroupId'] for x in inst['SecurityGroups']]][0]
    assert sg['IpPermissions'][0]['IpRanges'][0]['CidrIp'] == '203.0.113.7/32'
    bucket = [b['Name'] for b in s3.list_buckets()['Buckets'] if 'flowbucket' in b['Name']][0]
    st.converged()

    # instance type: stop, modify, start (the same instance)
    before = emu.control('calls')
    r = st.run('apply', '--param', 'InstanceType=t3.small')
    assert r.rc == 0, r
    calls = delta(before, emu.control('calls'))
    assert calls.get('ec2:StopInstances') == 1 and calls.get('ec2:StartInstances') == 1, calls
    assert 'ec2:RunInstances' not in calls and 'ec2:TerminateInstances' not in calls, calls
    assert instances(emu) == [iid]
    st.converged('--param', 'InstanceType=t3.small')

    # lifecycle: one PUT, in place
    before = emu.control('calls')
    r = st.run('apply', '--param', 'InstanceType=t3.small',
               '--param', 'FlowResultRetentionDays=90')
    assert r.rc == 0, r
    calls = delta(before, emu.control('calls'))
    puts = calls.get('s3:PutBucketLifecycleConfiguration', 0)
    assert puts == 1 and 'ec2:StopInstances' not in calls, calls
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)['Rules']
    assert [r['Expiration'] for r in rules if r['ID'] == 'expire-flow-results'] == \
        [{'Days': 90}]
    st.converged('--param', 'InstanceType=t3.small', '--param', 'FlowResultRetentionDays=90')

    r = st.run('destroy', '--param', 'InstanceType=t3.small',
               '--param', 'FlowResultRetentionDays=90')
    assert r.rc == 0, r
    assert live_inventory(emu) == []


def test_prefect_server_stack(fast_emu, cairn):
    emu = fast_emu
    ec2, ecs, iam, ecr = (emu.client(s) for s in ('ec2', 'ecs', 'iam', 'ecr'))
    params = {'AdminCidr': '198.51.100.0/24', 'GitHubOrg': 'example', 'GitHubRepo': 'flows'}
    st = Stack(emu, cairn, 'prefect-server-ec2', params)
    r = st.run('apply')
    assert r.rc == 0, r
    [iid] = instances(emu)
    inst = ec2.describe_instances(InstanceIds=[iid])['Reservations'][0]['Instances'][0]
    assert inst['InstanceType'] == 't3.medium'
    assert inst['MetadataOptions']['HttpPutResponseHopLimit'] == 2
    assert inst['IamInstanceProfile']['Arn']
    ud = ec2.describe_instance_attribute(InstanceId=iid, Attribute='userData')
    import base64
    assert b'ECS_CLUSTER=' in base64.b64decode(ud['UserData']['Value'])
    clusters = ecs.list_clusters()['clusterArns']
    services = ecs.describe_services(cluster=clusters[0], services=ecs.list_services(
        cluster=clusters[0])['serviceArns'])['services']
    assert sorted((s['launchType'], s['schedulingStrategy']) for s in services) == \
        [('EC2', 'DAEMON'), ('EC2', 'DAEMON')]
    tds = [ecs.describe_task_definition(taskDefinition=s['taskDefinition'])['taskDefinition']
           for s in services]
    assert sorted(t['networkMode'] for t in tds) == ['bridge', 'host']
    # the host joined the cluster through its user data, and apply waited for
    # each DAEMON service to run its task there (as CloudFormation waits for
    # a service to be stable)
    cis = ecs.list_container_instances(cluster=clusters[0])['containerInstanceArns']
    assert len(cis) == 1
    ci = ecs.describe_container_instances(cluster=clusters[0],
                                          containerInstances=cis)['containerInstances'][0]
    assert ci['ec2InstanceId'] == iid and ci['agentConnected'] and ci['runningTasksCount'] == 2
    assert [(s['desiredCount'], s['runningCount'], len(s['deployments'])) for s in services] \
        == [(1, 1, 1), (1, 1, 1)]
    oidc = iam.list_open_id_connect_providers()['OpenIDConnectProviderList']
    assert len(oidc) == 1
    st.converged()

    before = emu.control('calls')
    r = st.run('apply', '--param', 'InstanceType=t3.large')
    assert r.rc == 0, r
    calls = delta(before, emu.control('calls'))
    assert calls.get('ec2:StopInstances') == 1 and calls.get('ec2:StartInstances') == 1, calls
    assert 'ec2:RunInstances' not in calls, calls
    assert instances(emu) == [iid]
    st.converged('--param', 'InstanceType=t3.large')

    # the image retention: the repository's lifecycle policy changes in place
    r = st.run('apply', '--param', 'InstanceType=t3.large', '--param', 'FlowImageRetention=3')
    assert r.rc == 0, r
    repo = ecr.describe_repositories()['repositories'][0]['repositoryName']
    pol = json.loads(ecr.get_lifecycle_policy(repositoryName=repo)['lifecyclePolicyText'])
    assert pol['rules'][0]['selection']['countNumber'] == 3
    st.converged('--param', 'InstanceType=t3.large', '--param', 'FlowImageRetention=3')

    # the restarted host comes back as the same container instance, with the
    # larger type's memory, and the daemons run on it again
    def running():
        svcs = ecs.describe_services(cluster=clusters[0], services=[
            s['serviceArn'] for s in services])['services']
        return [s['runningCount'] for s in svcs] == [1, 1]
    assert wait_for(running)
    assert ecs.list_container_instances(cluster=clusters[0])['containerInstanceArns'] == cis
    ci = ecs.describe_container_instances(cluster=clusters[0],
                                          containerInstances=cis)['containerInstances'][0]
    assert {r['name']: r.get('integerValue') for r in ci['registeredResources']}['MEMORY'] > 7000

    # destroy: the instance is terminated first; ECS deregisters it a moment
    # later, and DeleteCluster is retried until then
    before = emu.control('calls')
    r = st.run('destroy', '--param', 'InstanceType=t3.large', '--param', 'FlowImageRetention=3')
    assert r.rc == 0, r
    assert live_inventory(emu) == []
    calls = delta(before, emu.control('calls'))
    assert calls.get('ecs:DeleteCluster', 0) >= 2, calls
