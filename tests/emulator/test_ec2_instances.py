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
