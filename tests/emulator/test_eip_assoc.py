"""Elastic IP association with an instance through botocore: AssociateAddress
needs the VPC's internet gateway and a started instance, answers an
association id the address then reports, refuses a held address without
AllowReassociation; an associated address cannot be released; terminating
the instance drops the association."""
import time

import botocore.exceptions
import pytest


@pytest.fixture
def env(emulator):
    emulator.reset()
    emulator.control('config', {'async': {'instance_start': 0.1, 'instance_terminate': 0.1}})
    ec2 = emulator.client('ec2')
    vpc = ec2.create_vpc(CidrBlock='10.0.0.0/16')['Vpc']['VpcId']
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock='10.0.1.0/24')['Subnet']['SubnetId']
    ami = ec2.describe_images()['Images'][0]['ImageId']

    def run():
        iid = ec2.run_instances(ImageId=ami, InstanceType='t3.micro', MinCount=1, MaxCount=1,
                                SubnetId=sub)['Instances'][0]['InstanceId']
        time.sleep(0.2)
        return iid
    return ec2, vpc, run


def code(e):
    return e.value.response['Error']['Code']


def addr(ec2, aid):
    return ec2.describe_addresses(AllocationIds=[aid])['Addresses'][0]


def test_associate_rules(env):
    ec2, vpc, run = env
    aid = ec2.allocate_address(Domain='vpc')['AllocationId']
    i1 = run()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.associate_address(AllocationId=aid, InstanceId=i1)
    assert code(e) == 'Gateway.NotAttached'
    igw = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    assoc = ec2.associate_address(AllocationId=aid, InstanceId=i1)['AssociationId']
    a = addr(ec2, aid)
    assert a['AssociationId'] == assoc and a['InstanceId'] == i1
    got = ec2.describe_addresses(Filters=[{'Name': 'instance-id', 'Values': [i1]}])
    assert [x['AllocationId'] for x in got['Addresses']] == [aid]
    i2 = run()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.associate_address(AllocationId=aid, InstanceId=i2)
    assert code(e) == 'Resource.AlreadyAssociated'
    assoc2 = ec2.associate_address(AllocationId=aid, InstanceId=i2,
                                   AllowReassociation=True)['AssociationId']
    assert addr(ec2, aid)['InstanceId'] == i2 and assoc2 != assoc
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.release_address(AllocationId=aid)
    assert code(e) == 'InvalidIPAddress.InUse'
    # a mapped public address keeps the gateway attached
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    assert code(e) == 'DependencyViolation'
    ec2.disassociate_address(AssociationId=assoc2)
    assert 'InstanceId' not in addr(ec2, aid)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.disassociate_address(AssociationId=assoc2)
    assert code(e) == 'InvalidAssociationID.NotFound'
    # terminating the instance drops the association
    ec2.associate_address(AllocationId=aid, InstanceId=i1)
    ec2.terminate_instances(InstanceIds=[i1])
    time.sleep(0.2)
    assert 'InstanceId' not in addr(ec2, aid)
    ec2.release_address(AllocationId=aid)
