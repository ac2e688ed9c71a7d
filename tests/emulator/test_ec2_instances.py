"""EC2 instances, key pairs and images through botocore: life cycle, ClientToken
idempotency, stop/modify/start, the ENI that holds the subnet, instance profile
propagation."""
import time

import botocore.exceptions
import pytest


@pytest.fixture
def env(emulator):
    emulator.reset()
    emulator.control('config', {'async': {'instance_start': 0.2, 'instance_stop': 0.2,
                                          'instance_terminate': 0.2},
                                'iam_propagation_seconds': 0})
    ec2 = emulator.client('ec2')
    vpc = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock='10.0.1.0/24')['Subnet']['SubnetId']
    sg = ec2.create_security_group(GroupName='g', Description='d', VpcId=vpc)['GroupId']
    ami = ec2.describe_images()['Images'][0]['ImageId']
    return emulator, ec2, vpc, sub, sg, ami


def code(e):
    return e.value.response['Error']['Code']


def state(ec2, iid):
    return ec2.describe_instances(InstanceIds=[iid])['Reservations'][0]['Instances'][0]


def wait(ec2, iid, want):
    for _ in range(50):
        if state(ec2, iid)['State']['Name'] == want:
            return
        time.sleep(0.05)
    raise AssertionError(f'{iid} never {want}')


def test_run_idempotent_lifecycle_and_eni(env):
    emulator, ec2, vpc, sub, sg, ami = env
    ec2.create_key_pair(KeyName='k')
    args = dict(ImageId=ami, InstanceType='t3.micro', MinCount=1, MaxCount=1, SubnetId=sub,
                SecurityGroupIds=[sg], KeyName='k', ClientToken='tok-1', UserData='echo hi',
                MetadataOptions={'HttpTokens': 'required'},
                TagSpecifications=[{'ResourceType': 'instance',
                                    'Tags': [{'Key': 'Name', 'Value': 'x'}]}])
    a = ec2.run_instances(**args)['Instances'][0]
    b = ec2.run_instances(**args)['Instances'][0]
    assert a['InstanceId'] == b['InstanceId']
    assert a['State']['Name'] == 'pending'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.run_instances(**dict(args, InstanceType='t3.small'))
    assert code(e) == 'IdempotentParameterMismatch'
    iid = a['InstanceId']
    wait(ec2, iid, 'running')
    got = state(ec2, iid)
    assert got['MetadataOptions']['HttpTokens'] == 'required'
    assert got['Tags'] == [{'Key': 'Name', 'Value': 'x'}] and got['KeyName'] == 'k'
    filt = ec2.describe_instances(Filters=[{'Name': 'tag:Name', 'Values': ['x']},
                                           {'Name': 'instance-state-name',
                                            'Values': ['running']}])
    assert [i['InstanceId'] for r in filt['Reservations'] for i in r['Instances']] == [iid]
    # type and user data change only while stopped
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.modify_instance_attribute(InstanceId=iid, InstanceType={'Value': 't3.small'})
    assert code(e) == 'IncorrectInstanceState'
    ec2.stop_instances(InstanceIds=[iid])
    wait(ec2, iid, 'stopped')
    ec2.modify_instance_attribute(InstanceId=iid, InstanceType={'Value': 't3.small'})
    ec2.modify_instance_attribute(InstanceId=iid, UserData={'Value': b'echo bye'})
    ud = ec2.describe_instance_attribute(InstanceId=iid, Attribute='userData')
    assert ud['UserData']['Value']
    ec2.start_instances(InstanceIds=[iid])
    wait(ec2, iid, 'running')
    assert state(ec2, iid)['InstanceType'] == 't3.small'
    # the ENI holds the subnet and the group until the instance is gone
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.delete_subnet(SubnetId=sub)
    assert code(e) == 'DependencyViolation'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.delete_security_group(GroupId=sg)
    assert code(e) == 'DependencyViolation'
    inv = [(x['type'], x['id']) for x in emulator.control('inventory')]
    assert ('instance', iid) in inv
    ec2.terminate_instances(InstanceIds=[iid])
    wait(ec2, iid, 'terminated')
    ec2.delete_security_group(GroupId=sg)
    ec2.delete_subnet(SubnetId=sub)
    inv = [(x['type'], x['id']) for x in emulator.control('inventory')]
    assert ('instance', iid) not in inv


def test_key_pairs(env):
    emulator, ec2, *_ = env
    k = ec2.create_key_pair(KeyName='deploy', TagSpecifications=[
        {'ResourceType': 'key-pair', 'Tags': [{'Key': 'a', 'Value': 'b'}]}])
    assert k['KeyMaterial'].startswith('-----BEGIN RSA PRIVATE KEY-----')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.create_key_pair(KeyName='deploy')
    assert code(e) == 'InvalidKeyPair.Duplicate'
    got = ec2.describe_key_pairs(KeyNames=['deploy'])['KeyPairs'][0]
    assert got['KeyPairId'] == k['KeyPairId'] and 'KeyMaterial' not in got
    assert got['Tags'] == [{'Key': 'a', 'Value': 'b'}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.describe_key_pairs(KeyNames=['nope'])
    assert code(e) == 'InvalidKeyPair.NotFound'
    ec2.delete_key_pair(KeyName='deploy')
    assert ec2.describe_key_pairs()['KeyPairs'] == []


def test_instance_profile_propagation(env):
    emulator, ec2, vpc, sub, sg, ami = env
    iam = emulator.client('iam')
    emulator.control('config', {'iam_propagation_seconds': 0.5})
    iam.create_instance_profile(InstanceProfileName='prof')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=sub,
                          InstanceType='t3.micro', IamInstanceProfile={'Name': 'prof'})
    assert code(e) == 'InvalidParameterValue'
    assert 'Invalid IAM Instance Profile name' in str(e.value)
    time.sleep(0.6)
    i = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=sub,
                          InstanceType='t3.micro', IamInstanceProfile={'Name': 'prof'})
    assert i['Instances'][0]['IamInstanceProfile']['Arn'].endswith(':instance-profile/prof')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.run_instances(ImageId='ami-0123456789abcdef0', MinCount=1, MaxCount=1,
                          SubnetId=sub)
    assert code(e) == 'InvalidAMIID.NotFound'


def launch(ec2, sub, ami, **kw):
    iid = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SubnetId=sub,
                            InstanceType=kw.pop('InstanceType', 't3.micro'),
                            **kw)['Instances'][0]['InstanceId']
    wait(ec2, iid, 'running')
    return iid


def test_describe_instances_paging_and_missing_ids(env):
    emulator, ec2, vpc, sub, sg, ami = env
    ids = [launch(ec2, sub, ami) for _ in range(6)]
    # MaxResults with InstanceIds: refused, as AWS refuses it
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.describe_instances(InstanceIds=ids[:2], MaxResults=5)
    assert code(e) == 'InvalidParameterCombination'
    # explicit ids: every one in one answer
    got = ec2.describe_instances(InstanceIds=ids)
    assert sorted(i['InstanceId'] for r in got['Reservations'] for i in r['Instances']) == \
        sorted(ids)
    assert 'NextToken' not in got
    # pages of 5 by MaxResults
    p1 = ec2.describe_instances(MaxResults=5)
    n1 = sum(len(r['Instances']) for r in p1['Reservations'])
    assert n1 == 5 and p1['NextToken']
    p2 = ec2.describe_instances(MaxResults=5, NextToken=p1['NextToken'])
    assert sum(len(r['Instances']) for r in p2['Reservations']) == 1
    # every unknown id named in one error
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.describe_instances(InstanceIds=[ids[0], 'i-0aaaaaaaaaaaaaaaa',
                                            'i-0bbbbbbbbbbbbbbbb'])
    assert code(e) == 'InvalidInstanceID.NotFound'
    assert 'i-0aaaaaaaaaaaaaaaa, i-0bbbbbbbbbbbbbbbb' in str(e.value)


def test_modify_attribute_rules(env):
    emulator, ec2, vpc, sub, sg, ami = env
    iid = launch(ec2, sub, ami, BlockDeviceMappings=[
        {'DeviceName': '/dev/xvda', 'Ebs': {'VolumeSize': 20, 'DeleteOnTermination': True}}])
    # one attribute per call
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.modify_instance_attribute(InstanceId=iid, SourceDestCheck={'Value': False},
                                      DisableApiTermination={'Value': True})
    assert code(e) == 'InvalidParameterCombination'
    # EbsOptimized needs a stopped instance; SourceDestCheck and DeleteOnTermination do not
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.modify_instance_attribute(InstanceId=iid, EbsOptimized={'Value': True})
    assert code(e) == 'IncorrectInstanceState'
    ec2.modify_instance_attribute(InstanceId=iid, SourceDestCheck={'Value': False})
    ec2.modify_instance_attribute(InstanceId=iid, BlockDeviceMappings=[
        {'DeviceName': '/dev/xvda', 'Ebs': {'DeleteOnTermination': False}}])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.modify_instance_attribute(InstanceId=iid, BlockDeviceMappings=[
            {'DeviceName': '/dev/sdz', 'Ebs': {'DeleteOnTermination': False}}])
    assert code(e) == 'InvalidInstanceAttributeValue'
    got = state(ec2, iid)
    assert got['SourceDestCheck'] is False
    assert got['BlockDeviceMappings'][0]['Ebs']['DeleteOnTermination'] is False
    # placement: tenancy only while stopped, only dedicated|host
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.modify_instance_placement(InstanceId=iid, Tenancy='dedicated')
    assert code(e) == 'IncorrectInstanceState'
    ec2.stop_instances(InstanceIds=[iid])
    wait(ec2, iid, 'stopped')
    ec2.modify_instance_attribute(InstanceId=iid, EbsOptimized={'Value': True})
    ec2.modify_instance_placement(InstanceId=iid, Tenancy='dedicated')
    got = state(ec2, iid)
    assert got['EbsOptimized'] is True and got['Placement']['Tenancy'] == 'dedicated'
    # monitoring and credits
    ec2.monitor_instances(InstanceIds=[iid])
    assert state(ec2, iid)['Monitoring']['State'] == 'enabled'
    ec2.unmonitor_instances(InstanceIds=[iid])
    assert state(ec2, iid)['Monitoring']['State'] == 'disabled'
    r = ec2.modify_instance_credit_specification(InstanceCreditSpecifications=[
        {'InstanceId': iid, 'CpuCredits': 'standard'},
        {'InstanceId': 'i-0aaaaaaaaaaaaaaaa', 'CpuCredits': 'standard'}])
    assert [x['InstanceId'] for x in r['SuccessfulInstanceCreditSpecifications']] == [iid]
    assert r['UnsuccessfulInstanceCreditSpecifications'][0]['Error']['Code'] == \
        'InvalidInstanceID.NotFound'
    c = ec2.describe_instance_credit_specifications(InstanceIds=[iid])
    assert c['InstanceCreditSpecifications'] == [{'InstanceId': iid, 'CpuCredits': 'standard'}]


def test_volumes(env):
    emulator, ec2, vpc, sub, sg, ami = env
    iid = launch(ec2, sub, ami, BlockDeviceMappings=[
        {'DeviceName': '/dev/xvda', 'Ebs': {'VolumeSize': 20, 'VolumeType': 'gp3',
                                            'Encrypted': True}}])
    vid = state(ec2, iid)['BlockDeviceMappings'][0]['Ebs']['VolumeId']
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.describe_volumes(VolumeIds=[vid], MaxResults=5)
    assert code(e) == 'InvalidParameterCombination'
    v = ec2.describe_volumes(VolumeIds=[vid])['Volumes'][0]
    assert (v['Size'], v['VolumeType'], v['Encrypted']) == (20, 'gp3', True)
    assert v['Attachments'][0]['InstanceId'] == iid
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.modify_volume(VolumeId=vid, Size=10)
    assert code(e) == 'InvalidParameterValue'
    ec2.modify_volume(VolumeId=vid, Size=30, VolumeType='io2', Iops=500)
    v = ec2.describe_volumes(VolumeIds=[vid])['Volumes'][0]
    assert (v['Size'], v['VolumeType'], v['Iops']) == (30, 'io2', 500)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.describe_volumes(VolumeIds=['vol-0aaaaaaaaaaaaaaaa'])
    assert code(e) == 'InvalidVolume.NotFound'
    ec2.terminate_instances(InstanceIds=[iid])
    wait(ec2, iid, 'terminated')
    assert ec2.describe_volumes(Filters=[{'Name': 'attachment.instance-id',
                                          'Values': [iid]}])['Volumes'] == []


def test_instance_profile_associations(env):
    emulator, ec2, vpc, sub, sg, ami = env
    iam = emulator.client('iam')
    iam.create_instance_profile(InstanceProfileName='one')
    iam.create_instance_profile(InstanceProfileName='two')
    iid = launch(ec2, sub, ami, IamInstanceProfile={'Name': 'one'})
    [a] = ec2.describe_iam_instance_profile_associations(
        Filters=[{'Name': 'instance-id', 'Values': [iid]}])['IamInstanceProfileAssociations']
    assert a['IamInstanceProfile']['Arn'].endswith('/one') and a['State'] == 'associated'
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.associate_iam_instance_profile(InstanceId=iid, IamInstanceProfile={'Name': 'two'})
    assert code(e) == 'IncorrectState'
    b = ec2.replace_iam_instance_profile_association(
        AssociationId=a['AssociationId'],
        IamInstanceProfile={'Name': 'two'})['IamInstanceProfileAssociation']
    assert state(ec2, iid)['IamInstanceProfile']['Arn'].endswith('/two')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.disassociate_iam_instance_profile(AssociationId=a['AssociationId'])
    assert code(e) == 'InvalidAssociationID.NotFound'
    # a stopped instance's association cannot be replaced
    ec2.stop_instances(InstanceIds=[iid])
    wait(ec2, iid, 'stopped')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.replace_iam_instance_profile_association(AssociationId=b['AssociationId'],
                                                     IamInstanceProfile={'Name': 'one'})
    assert code(e) == 'IncorrectState'
    ec2.disassociate_iam_instance_profile(AssociationId=b['AssociationId'])
    assert 'IamInstanceProfile' not in state(ec2, iid)
    assert ec2.describe_iam_instance_profile_associations(
        Filters=[{'Name': 'instance-id', 'Values': [iid]}])[
        'IamInstanceProfileAssociations'] == []
    ec2.start_instances(InstanceIds=[iid])
    wait(ec2, iid, 'running')
    # the propagation rule holds for an association as for a launch
    emulator.control('config', {'iam_propagation_seconds': 5})
    iam.create_instance_profile(InstanceProfileName='three')
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.associate_iam_instance_profile(InstanceId=iid,
                                           IamInstanceProfile={'Name': 'three'})
    assert code(e) == 'InvalidParameterValue'
    assert 'Invalid IAM Instance Profile name' in str(e.value)
