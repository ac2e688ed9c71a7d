"""CreateSecurityGroup without VpcId: EC2 uses the region's default VPC and
refuses (VPCIdNotSpecified) only when there is none. A template's
AWS::EC2::SecurityGroup without VpcId is common (and valid) on an account
that has its default VPC, like the seeded one."""
import botocore.exceptions
import pytest


def test_security_group_without_vpc_goes_to_the_default_vpc(emulator):
    ec2 = emulator.client('ec2')
    # an empty account has no default VPC: refused as on AWS
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.create_security_group(GroupName='nodefault', Description='x')
    assert e.value.response['Error']['Code'] == 'VPCIdNotSpecified'
    emulator.control('seed', {})
    emulator.reset()   # the seed fills each region on its first use
    default = ec2.describe_vpcs(
        Filters=[{'Name': 'is-default', 'Values': ['true']}])['Vpcs'][0]['VpcId']
    gid = ec2.create_security_group(GroupName='web', Description='web')['GroupId']
    g = ec2.describe_security_groups(GroupIds=[gid])['SecurityGroups'][0]
    assert g['VpcId'] == default and g['GroupName'] == 'web'
    # the name is unique within that VPC
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.create_security_group(GroupName='web', Description='again')
    assert e.value.response['Error']['Code'] == 'InvalidGroup.Duplicate'
    # other VPCs are unaffected by the default: the same name is free there
    other = ec2.create_vpc(CidrBlock='10.5.0.0/16')['Vpc']['VpcId']
    assert ec2.create_security_group(GroupName='web', Description='web',
                                     VpcId=other)['GroupId'] != gid
