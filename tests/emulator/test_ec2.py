"""EC2 (VPC networking) through botocore and Debian's aws CLI.

Expected values come from AWS's documented behaviour (ids, default resources,
error codes of docs.aws.amazon.com "Error codes for the Amazon EC2 API"), not
from the emulator's own output."""
import re
import time

import pytest
from botocore.exceptions import ClientError

FAST = {'async': {'nat_gateway_create': 0.3, 'nat_gateway_delete': 0.3,
                  'vpc_endpoint_create': 0.3, 'vpc_endpoint_delete': 0.3,
                  'deleted_visible': 60},
        'ec2_visibility_delay': 0}


@pytest.fixture
def ec2(emulator):
    emulator.control('config', FAST)
    return emulator.client('ec2')


def code_of(excinfo):
    return excinfo.value.response['Error']['Code']


def err(fn, *a, **kw):
    with pytest.raises(ClientError) as e:
        fn(*a, **kw)
    return code_of(e), e.value.response['Error']['Message']


def wait_for(fn, timeout=5.0):
    end = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > end:
            raise AssertionError('timed out')
        time.sleep(0.05)


def tagspec(rtype, **tags):
    return [{'ResourceType': rtype, 'Tags': [{'Key': k, 'Value': v} for k, v in tags.items()]}]


def vpc(ec2, cidr='10.0.0.0/16', **tags):
    kw = {'TagSpecifications': tagspec('vpc', **tags)} if tags else {}
    return ec2.create_vpc(CidrBlock=cidr, **kw)['Vpc']['VpcId']


def subnet(ec2, vid, cidr='10.0.1.0/24', az='us-east-1a'):
    return ec2.create_subnet(VpcId=vid, CidrBlock=cidr, AvailabilityZone=az)['Subnet']['SubnetId']


def attached_igw(ec2, vid):
    gid = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
    ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
    return gid


def nat_state(ec2, nid):
    return ec2.describe_nat_gateways(NatGatewayIds=[nid])['NatGateways'][0]['State']


# ---------------------------------------------------------------------------
# VPCs

def test_vpc_ids_defaults_and_tags(ec2):
    out = ec2.create_vpc(CidrBlock='10.1.0.0/16',
                         TagSpecifications=tagspec('vpc', Name='main', env='t'))['Vpc']
    vid = out['VpcId']
    assert re.fullmatch(r'vpc-0[0-9a-f]{16}', vid)
    assert out['CidrBlock'] == '10.1.0.0/16' and out['InstanceTenancy'] == 'default'
    assert out['State'] in ('pending', 'available')
    d = ec2.describe_vpcs(VpcIds=[vid])['Vpcs'][0]
    assert d['State'] == 'available' and d['IsDefault'] is False
    assert {t['Key']: t['Value'] for t in d['Tags']} == {'Name': 'main', 'env': 't'}
    # the default security group: self-referencing ingress, allow-all egress
    sgs = ec2.describe_security_groups(Filters=[{'Name': 'vpc-id', 'Values': [vid]}])
    [sg] = sgs['SecurityGroups']
    assert sg['GroupName'] == 'default' and re.fullmatch(r'sg-0[0-9a-f]{16}', sg['GroupId'])
    assert sg['IpPermissionsEgress'] == [{'IpProtocol': '-1', 'IpRanges': [{'CidrIp': '0.0.0.0/0'}],
                                          'Ipv6Ranges': [], 'PrefixListIds': [],
                                          'UserIdGroupPairs': []}]
    assert sg['IpPermissions'][0]['UserIdGroupPairs'][0]['GroupId'] == sg['GroupId']
    # the main route table with its local route
    [rt] = ec2.describe_route_tables(Filters=[{'Name': 'vpc-id', 'Values': [vid]}])['RouteTables']
    assert rt['Associations'][0]['Main'] is True
    assert rt['Routes'] == [{'DestinationCidrBlock': '10.1.0.0/16', 'GatewayId': 'local',
                             'Origin': 'CreateRouteTable', 'State': 'active'}]
    # the default network ACL
    acls = ec2.describe_network_acls(Filters=[{'Name': 'vpc-id', 'Values': [vid]}])['NetworkAcls']
    assert len(acls) == 1 and acls[0]['IsDefault'] is True


def test_vpc_cidr_validation(ec2):
    assert err(ec2.create_vpc, CidrBlock='10.0.0.0/8')[0] == 'InvalidVpc.Range'
    assert err(ec2.create_vpc, CidrBlock='10.0.0.0/29')[0] == 'InvalidVpc.Range'
    assert err(ec2.create_vpc, CidrBlock='nonsense')[0] == 'InvalidParameterValue'
    assert err(ec2.create_vpc, CidrBlock='10.0.0.0/16',
               TagSpecifications=tagspec('subnet', a='b'))[0] == 'InvalidParameterValue'


def test_vpc_attributes_one_per_call(ec2):
    vid = vpc(ec2)
    a = ec2.describe_vpc_attribute(VpcId=vid, Attribute='enableDnsSupport')
    assert a['EnableDnsSupport'] == {'Value': True}
    a = ec2.describe_vpc_attribute(VpcId=vid, Attribute='enableDnsHostnames')
    assert a['EnableDnsHostnames'] == {'Value': False}
    code, _ = err(ec2.modify_vpc_attribute, VpcId=vid, EnableDnsSupport={'Value': True},
                  EnableDnsHostnames={'Value': True})
    assert code == 'InvalidParameterCombination'
    ec2.modify_vpc_attribute(VpcId=vid, EnableDnsSupport={'Value': False})
    # hostnames need DNS support
    assert err(ec2.modify_vpc_attribute, VpcId=vid,
               EnableDnsHostnames={'Value': True})[0] == 'InvalidParameterValue'
    ec2.modify_vpc_attribute(VpcId=vid, EnableDnsSupport={'Value': True})
    ec2.modify_vpc_attribute(VpcId=vid, EnableDnsHostnames={'Value': True})
    a = ec2.describe_vpc_attribute(VpcId=vid, Attribute='enableDnsHostnames')
    assert a['EnableDnsHostnames'] == {'Value': True}


def test_not_found_and_malformed_codes(ec2):
    missing = {
        'InvalidVpcID.NotFound': lambda: ec2.describe_vpcs(VpcIds=['vpc-0123456789abcdef0']),
        'InvalidSubnetID.NotFound':
            lambda: ec2.describe_subnets(SubnetIds=['subnet-0123456789abcdef0']),
        'InvalidGroup.NotFound':
            lambda: ec2.describe_security_groups(GroupIds=['sg-0123456789abcdef0']),
        'InvalidRouteTableID.NotFound':
            lambda: ec2.describe_route_tables(RouteTableIds=['rtb-0123456789abcdef0']),
        'NatGatewayNotFound':
            lambda: ec2.describe_nat_gateways(NatGatewayIds=['nat-0123456789abcdef0']),
        'InvalidAllocationID.NotFound':
            lambda: ec2.describe_addresses(AllocationIds=['eipalloc-0123456789abcdef0']),
        'InvalidInternetGatewayID.NotFound':
            lambda: ec2.describe_internet_gateways(InternetGatewayIds=['igw-0123456789abcdef0']),
        'InvalidVpcEndpointId.NotFound':
            lambda: ec2.describe_vpc_endpoints(VpcEndpointIds=['vpce-0123456789abcdef0']),
    }
    for code, call in missing.items():
        with pytest.raises(ClientError) as e:
            call()
        assert code_of(e) == code, code
        assert e.value.response['ResponseMetadata']['HTTPStatusCode'] == 400
    assert err(ec2.delete_vpc, VpcId='vpc-nothex')[0] == 'InvalidVpcID.Malformed'
    assert err(ec2.delete_nat_gateway,
               NatGatewayId='nat-0123456789abcdef0')[0] == 'NatGatewayNotFound'
    assert err(ec2.release_address,
               AllocationId='eipalloc-0123456789abcdef0')[0] == 'InvalidAllocationID.NotFound'


# ---------------------------------------------------------------------------
# subnets

def test_subnets(ec2):
    vid = vpc(ec2)
    out = ec2.create_subnet(VpcId=vid, CidrBlock='10.0.1.0/24', AvailabilityZone='us-east-1b',
                            TagSpecifications=tagspec('subnet', Name='pub'))['Subnet']
    sid = out['SubnetId']
    assert re.fullmatch(r'subnet-0[0-9a-f]{16}', sid)
    d = ec2.describe_subnets(SubnetIds=[sid])['Subnets'][0]
    # a /24 has 256 addresses, AWS reserves 5
    assert d['AvailableIpAddressCount'] == 251
    assert d['AvailabilityZone'] == 'us-east-1b' and d['MapPublicIpOnLaunch'] is False
    assert d['SubnetArn'] == f'arn:aws:ec2:us-east-1:123456789012:subnet/{sid}'
    ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={'Value': True})
    assert ec2.describe_subnets(SubnetIds=[sid])['Subnets'][0]['MapPublicIpOnLaunch'] is True
    f = ec2.describe_subnets(Filters=[{'Name': 'tag:Name', 'Values': ['pub']},
                                      {'Name': 'vpc-id', 'Values': [vid]}])['Subnets']
    assert [s['SubnetId'] for s in f] == [sid]
    assert ec2.describe_subnets(Filters=[{'Name': 'tag:Name', 'Values': ['priv']}])['Subnets'] == []
    assert err(ec2.create_subnet, VpcId=vid, CidrBlock='10.0.1.128/25')[0] == 'InvalidSubnet.Conflict'
    assert err(ec2.create_subnet, VpcId=vid, CidrBlock='10.9.0.0/24')[0] == 'InvalidSubnet.Range'
    assert err(ec2.create_subnet, VpcId=vid, CidrBlock='10.0.2.0/24',
               AvailabilityZone='us-east-1z')[0] == 'InvalidParameterValue'
    assert err(ec2.describe_subnets,
               Filters=[{'Name': 'no-such-filter', 'Values': ['x']}])[0] == 'InvalidParameterValue'
    ec2.delete_subnet(SubnetId=sid)
    assert err(ec2.describe_subnets, SubnetIds=[sid])[0] == 'InvalidSubnetID.NotFound'


def test_availability_zones(ec2):
    zones = ec2.describe_availability_zones()['AvailabilityZones']
    # us-east-1 has six zones (AWS "AZ IDs" page: use1-az1 ... use1-az6)
    assert [z['ZoneName'] for z in zones] == [f'us-east-1{c}' for c in 'abcdef']
    assert sorted(z['ZoneId'] for z in zones) == [f'use1-az{i}' for i in range(1, 7)]
    assert all(z['State'] == 'available' and z['RegionName'] == 'us-east-1' for z in zones)


def test_availability_zones_tokyo_has_no_b(emulator):
    # ap-northeast-1 lists a, c and d (apne1-az4, az1, az2): there is no 1b for
    # accounts created since 2014 (AWS "Regions and Zones" / AZ IDs pages)
    c = emulator.client('ec2', region='ap-northeast-1')
    zones = c.describe_availability_zones()['AvailabilityZones']
    assert [(z['ZoneName'], z['ZoneId']) for z in zones] == [
        ('ap-northeast-1a', 'apne1-az4'), ('ap-northeast-1c', 'apne1-az1'),
        ('ap-northeast-1d', 'apne1-az2')]


def test_availability_zones_other_region(emulator):
    c = emulator.client('ec2', region='eu-west-1')
    zones = c.describe_availability_zones()['AvailabilityZones']
    assert [z['ZoneName'] for z in zones] == ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']


# ---------------------------------------------------------------------------
# internet gateways

def test_internet_gateway_attach_detach(ec2):
    vid = vpc(ec2)
    out = ec2.create_internet_gateway(TagSpecifications=tagspec('internet-gateway', Name='gw'))
    gid = out['InternetGateway']['InternetGatewayId']
    assert re.fullmatch(r'igw-0[0-9a-f]{16}', gid)
    assert out['InternetGateway']['Attachments'] == []
    ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
    g = ec2.describe_internet_gateways(InternetGatewayIds=[gid])['InternetGateways'][0]
    # AWS reports an attached gateway as "available", not "attached"
    assert g['Attachments'] == [{'State': 'available', 'VpcId': vid}]
    f = ec2.describe_internet_gateways(Filters=[{'Name': 'attachment.vpc-id', 'Values': [vid]}])
    assert [x['InternetGatewayId'] for x in f['InternetGateways']] == [gid]
    assert err(ec2.attach_internet_gateway, InternetGatewayId=gid,
               VpcId=vid)[0] == 'Resource.AlreadyAssociated'
    assert err(ec2.delete_internet_gateway, InternetGatewayId=gid)[0] == 'DependencyViolation'
    ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
    assert err(ec2.detach_internet_gateway, InternetGatewayId=gid,
               VpcId=vid)[0] == 'Gateway.NotAttached'
    ec2.delete_internet_gateway(InternetGatewayId=gid)
    assert err(ec2.describe_internet_gateways,
               InternetGatewayIds=[gid])[0] == 'InvalidInternetGatewayID.NotFound'


# ---------------------------------------------------------------------------
# addresses and NAT gateways

def test_nat_gateway_life_cycle_and_rules(ec2, emulator):
    vid = vpc(ec2)
    sid = subnet(ec2, vid)
    gid = attached_igw(ec2, vid)
    alloc = ec2.allocate_address(Domain='vpc', TagSpecifications=tagspec('elastic-ip', Name='e'))
    aid = alloc['AllocationId']
    assert re.fullmatch(r'eipalloc-0[0-9a-f]{16}', aid) and alloc['Domain'] == 'vpc'
    out = ec2.create_nat_gateway(SubnetId=sid, AllocationId=aid, ClientToken='tok-1',
                                 TagSpecifications=tagspec('natgateway', Name='n'))
    nat = out['NatGateway']
    nid = nat['NatGatewayId']
    assert re.fullmatch(r'nat-0[0-9a-f]{16}', nid) and nat['State'] == 'pending'
    assert nat['VpcId'] == vid and nat['SubnetId'] == sid
    # same ClientToken: the same gateway, not a second one
    again = ec2.create_nat_gateway(SubnetId=sid, AllocationId=aid, ClientToken='tok-1')
    assert again['NatGateway']['NatGatewayId'] == nid
    assert len(ec2.describe_nat_gateways()['NatGateways']) == 1
    # the EIP is associated with the NAT's ENI; the ENI is in the subnet
    a = ec2.describe_addresses(AllocationIds=[aid])['Addresses'][0]
    assert a['NetworkInterfaceId'].startswith('eni-') and a['AssociationId'].startswith('eipassoc-')
    enis = ec2.describe_network_interfaces(
        Filters=[{'Name': 'subnet-id', 'Values': [sid]}])['NetworkInterfaces']
    assert [e['NetworkInterfaceId'] for e in enis] == [a['NetworkInterfaceId']]
    assert enis[0]['InterfaceType'] == 'natGateway'
    assert ec2.describe_subnets(SubnetIds=[sid])['Subnets'][0]['AvailableIpAddressCount'] == 250
    assert err(ec2.delete_network_interface, NetworkInterfaceId=enis[0]['NetworkInterfaceId'])[0] \
        == 'InvalidNetworkInterface.InUse'
    assert err(ec2.delete_network_interface, NetworkInterfaceId='eni-0123456789abcdef0')[0] \
        == 'InvalidNetworkInterfaceID.NotFound'
    # a second NAT on the same EIP is created, then fails (asynchronously, as
    # AWS reports it: VPC User Guide, "Troubleshoot NAT gateways")
    second = ec2.create_nat_gateway(SubnetId=sid, AllocationId=aid)['NatGateway']['NatGatewayId']
    wait_for(lambda: nat_state(ec2, nid) == 'available')
    wait_for(lambda: nat_state(ec2, second) == 'failed')
    failed = ec2.describe_nat_gateways(NatGatewayIds=[second])['NatGateways'][0]
    assert failed['FailureCode'] == 'Resource.AlreadyAssociated'
    assert aid in failed['FailureMessage']
    # rules while the NAT holds its EIP and ENI
    assert err(ec2.release_address, AllocationId=aid)[0] in ('InvalidIPAddress.InUse', 'AuthFailure')
    code, msg = err(ec2.detach_internet_gateway, InternetGatewayId=gid, VpcId=vid)
    assert code == 'DependencyViolation' and 'mapped public address' in msg
    assert err(ec2.delete_subnet, SubnetId=sid)[0] == 'DependencyViolation'
    # a route through it, blackholed once it is deleted
    rtb = ec2.create_route_table(VpcId=vid)['RouteTable']['RouteTableId']
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock='0.0.0.0/0', NatGatewayId=nid)
    ec2.delete_nat_gateway(NatGatewayId=nid)
    assert nat_state(ec2, nid) == 'deleting'
    assert err(ec2.release_address, AllocationId=aid)[0] in ('InvalidIPAddress.InUse', 'AuthFailure')
    wait_for(lambda: nat_state(ec2, nid) == 'deleted')
    # deleted gateways stay visible
    d = ec2.describe_nat_gateways(Filter=[{'Name': 'state', 'Values': ['deleted']}])['NatGateways']
    assert [n['NatGatewayId'] for n in d] == [nid]
    routes = ec2.describe_route_tables(RouteTableIds=[rtb])['RouteTables'][0]['Routes']
    assert [r['State'] for r in routes if r.get('NatGatewayId') == nid] == ['blackhole']
    a = ec2.describe_addresses(AllocationIds=[aid])['Addresses'][0]
    assert 'AssociationId' not in a
    assert ec2.describe_network_interfaces(
        Filters=[{'Name': 'subnet-id', 'Values': [sid]}])['NetworkInterfaces'] == []
    ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
    ec2.release_address(AllocationId=aid)
    ec2.delete_subnet(SubnetId=sid)
    assert not [x for x in emulator.control('inventory') if x['type'] == 'natgateway']


def test_nat_gateway_fails_without_attached_igw(ec2):
    vid = vpc(ec2)
    sid = subnet(ec2, vid)
    aid = ec2.allocate_address(Domain='vpc')['AllocationId']
    nid = ec2.create_nat_gateway(SubnetId=sid, AllocationId=aid)['NatGateway']['NatGatewayId']
    assert nat_state(ec2, nid) == 'pending'
    wait_for(lambda: nat_state(ec2, nid) == 'failed')
    n = ec2.describe_nat_gateways(NatGatewayIds=[nid])['NatGateways'][0]
    assert n['FailureCode'] == 'Gateway.NotAttached'
    # a failed gateway holds nothing
    ec2.release_address(AllocationId=aid)
    ec2.delete_subnet(SubnetId=sid)


def test_nat_gateway_waiter(ec2):
    vid = vpc(ec2)
    sid = subnet(ec2, vid)
    attached_igw(ec2, vid)
    aid = ec2.allocate_address(Domain='vpc')['AllocationId']
    nid = ec2.create_nat_gateway(SubnetId=sid, AllocationId=aid)['NatGateway']['NatGatewayId']
    ec2.get_waiter('nat_gateway_available').wait(NatGatewayIds=[nid],
                                                 WaiterConfig={'Delay': 0.1, 'MaxAttempts': 50})
    ec2.delete_nat_gateway(NatGatewayId=nid)
    ec2.get_waiter('nat_gateway_deleted').wait(NatGatewayIds=[nid],
                                               WaiterConfig={'Delay': 0.1, 'MaxAttempts': 50})


def test_release_address_rules(ec2):
    ip = ec2.allocate_address(Domain='vpc')
    assert re.fullmatch(r'\d+\.\d+\.\d+\.\d+', ip['PublicIp'])
    f = ec2.describe_addresses(Filters=[{'Name': 'public-ip', 'Values': [ip['PublicIp']]}])
    assert [a['AllocationId'] for a in f['Addresses']] == [ip['AllocationId']]
    ec2.release_address(AllocationId=ip['AllocationId'])
    assert err(ec2.release_address,
               AllocationId=ip['AllocationId'])[0] == 'InvalidAllocationID.NotFound'


# ---------------------------------------------------------------------------
# route tables

def test_routes_and_associations(ec2):
    vid = vpc(ec2)
    other = vpc(ec2, '10.5.0.0/16')
    sid = subnet(ec2, vid)
    gid = attached_igw(ec2, vid)
    out = ec2.create_route_table(VpcId=vid, TagSpecifications=tagspec('route-table', Name='pub'))
    rtb = out['RouteTable']['RouteTableId']
    assert re.fullmatch(r'rtb-0[0-9a-f]{16}', rtb)
    assert ec2.create_route(RouteTableId=rtb, DestinationCidrBlock='0.0.0.0/0',
                            GatewayId=gid)['Return'] is True
    assert err(ec2.create_route, RouteTableId=rtb, DestinationCidrBlock='0.0.0.0/0',
               GatewayId=gid)[0] == 'RouteAlreadyExists'
    # an IGW of another VPC is refused
    gid2 = attached_igw(ec2, other)
    assert err(ec2.create_route, RouteTableId=rtb, DestinationCidrBlock='1.0.0.0/8',
               GatewayId=gid2)[0] == 'InvalidParameterValue'
    assert err(ec2.create_route, RouteTableId=rtb, DestinationCidrBlock='2.0.0.0/8',
               NatGatewayId='nat-0123456789abcdef0')[0] == 'InvalidNatGatewayID.NotFound'
    assert err(ec2.delete_route, RouteTableId=rtb,
               DestinationCidrBlock='10.0.0.0/16')[0] == 'InvalidParameterValue'
    assert err(ec2.replace_route, RouteTableId=rtb, DestinationCidrBlock='9.0.0.0/8',
               GatewayId=gid)[0] == 'InvalidRoute.NotFound'
    f = ec2.describe_route_tables(Filters=[{'Name': 'route.gateway-id', 'Values': [gid]}])
    assert [t['RouteTableId'] for t in f['RouteTables']] == [rtb]
    # associate / replace / disassociate
    assoc = ec2.associate_route_table(RouteTableId=rtb, SubnetId=sid)
    assert assoc['AssociationState'] == {'State': 'associated'}
    aid = assoc['AssociationId']
    assert err(ec2.associate_route_table, RouteTableId=rtb,
               SubnetId=sid)[0] == 'Resource.AlreadyAssociated'
    f = ec2.describe_route_tables(Filters=[{'Name': 'association.subnet-id', 'Values': [sid]}])
    assert [t['RouteTableId'] for t in f['RouteTables']] == [rtb]
    assert err(ec2.delete_route_table, RouteTableId=rtb)[0] == 'DependencyViolation'
    rtb2 = ec2.create_route_table(VpcId=vid)['RouteTable']['RouteTableId']
    new = ec2.replace_route_table_association(AssociationId=aid, RouteTableId=rtb2)
    assert new['NewAssociationId'] != aid
    f = ec2.describe_route_tables(Filters=[
        {'Name': 'association.route-table-association-id', 'Values': [new['NewAssociationId']]}])
    assert [t['RouteTableId'] for t in f['RouteTables']] == [rtb2]
    ec2.disassociate_route_table(AssociationId=new['NewAssociationId'])
    assert err(ec2.disassociate_route_table,
               AssociationId=new['NewAssociationId'])[0] == 'InvalidAssociationID.NotFound'
    # the main association can be moved, not removed
    main = ec2.describe_route_tables(Filters=[{'Name': 'association.main', 'Values': ['true']},
                                              {'Name': 'vpc-id', 'Values': [vid]}])['RouteTables'][0]
    main_assoc = main['Associations'][0]['RouteTableAssociationId']
    assert err(ec2.disassociate_route_table,
               AssociationId=main_assoc)[0] == 'InvalidParameterValue'
    assert err(ec2.delete_route_table, RouteTableId=main['RouteTableId'])[0] == 'DependencyViolation'
    # ReplaceRoute switches the target; a route to a detached IGW is a blackhole
    ec2.replace_route(RouteTableId=rtb, DestinationCidrBlock='0.0.0.0/0', GatewayId=gid)
    ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
    routes = ec2.describe_route_tables(RouteTableIds=[rtb])['RouteTables'][0]['Routes']
    assert {r['DestinationCidrBlock']: r['State'] for r in routes} == {
        '10.0.0.0/16': 'active', '0.0.0.0/0': 'blackhole'}
    ec2.delete_route(RouteTableId=rtb, DestinationCidrBlock='0.0.0.0/0')
    ec2.delete_route_table(RouteTableId=rtb)
    ec2.delete_route_table(RouteTableId=rtb2)
    assert err(ec2.describe_route_tables, RouteTableIds=[rtb])[0] == 'InvalidRouteTableID.NotFound'


# ---------------------------------------------------------------------------
# security groups

def test_security_groups_and_rules(ec2):
    vid = vpc(ec2)
    web = ec2.create_security_group(GroupName='web', Description='web tier', VpcId=vid,
                                    TagSpecifications=tagspec('security-group', Name='w'))
    wid = web['GroupId']
    assert re.fullmatch(r'sg-0[0-9a-f]{16}', wid)
    app = ec2.create_security_group(GroupName='app', Description='app tier', VpcId=vid)['GroupId']
    assert err(ec2.create_security_group, GroupName='web', Description='x',
               VpcId=vid)[0] == 'InvalidGroup.Duplicate'
    # a new group gets the allow-all egress rule
    g = ec2.describe_security_groups(GroupIds=[wid])['SecurityGroups'][0]
    assert g['IpPermissionsEgress'][0]['IpProtocol'] == '-1'
    assert g['IpPermissionsEgress'][0]['IpRanges'] == [{'CidrIp': '0.0.0.0/0'}]
    assert g['IpPermissions'] == []
    # re-authorising it is a duplicate
    assert err(ec2.authorize_security_group_egress, GroupId=wid, IpPermissions=[
        {'IpProtocol': '-1', 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])[0] == \
        'InvalidPermission.Duplicate'
    out = ec2.authorize_security_group_ingress(GroupId=wid, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443,
         'IpRanges': [{'CidrIp': '0.0.0.0/0', 'Description': 'https'}]}])
    assert out['Return'] is True and out['SecurityGroupRules'][0]['SecurityGroupRuleId'].startswith('sgr-')
    # app accepts 8080 from web (UserIdGroupPairs, wire name Groups.N)
    ref = ec2.authorize_security_group_ingress(GroupId=app, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 8080, 'ToPort': 8080,
         'UserIdGroupPairs': [{'GroupId': wid}]}])['SecurityGroupRules'][0]
    assert ref['ReferencedGroupInfo']['GroupId'] == wid
    assert err(ec2.authorize_security_group_ingress, GroupId=app, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 8080, 'ToPort': 8080,
         'UserIdGroupPairs': [{'GroupId': wid}]}])[0] == 'InvalidPermission.Duplicate'
    a = ec2.describe_security_groups(GroupIds=[app])['SecurityGroups'][0]
    assert a['IpPermissions'][0]['UserIdGroupPairs'][0]['GroupId'] == wid
    f = ec2.describe_security_groups(Filters=[{'Name': 'ip-permission.group-id', 'Values': [wid]}])
    assert [x['GroupId'] for x in f['SecurityGroups']] == [app]
    # web cannot go while app's rule references it
    assert err(ec2.delete_security_group, GroupId=wid)[0] == 'DependencyViolation'
    rules = ec2.describe_security_group_rules(
        Filters=[{'Name': 'group-id', 'Values': [app]}])['SecurityGroupRules']
    assert sorted(r['IsEgress'] for r in rules) == [False, True]
    # ModifySecurityGroupRules changes a rule in place
    ec2.modify_security_group_rules(GroupId=app, SecurityGroupRules=[{
        'SecurityGroupRuleId': ref['SecurityGroupRuleId'],
        'SecurityGroupRule': {'IpProtocol': 'tcp', 'FromPort': 9000, 'ToPort': 9000,
                              'CidrIpv4': '10.0.0.0/16', 'Description': 'moved'}}])
    r = ec2.describe_security_group_rules(
        SecurityGroupRuleIds=[ref['SecurityGroupRuleId']])['SecurityGroupRules'][0]
    assert (r['FromPort'], r['CidrIpv4'], r['Description']) == (9000, '10.0.0.0/16', 'moved')
    assert 'ReferencedGroupInfo' not in r
    # revoke: by permission (missing -> InvalidPermission.NotFound) and by id
    assert err(ec2.revoke_security_group_ingress, GroupId=wid, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22,
         'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])[0] == 'InvalidPermission.NotFound'
    ec2.revoke_security_group_ingress(GroupId=wid, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    ec2.revoke_security_group_ingress(GroupId=app, SecurityGroupRuleIds=[ref['SecurityGroupRuleId']])
    egress = [r for r in ec2.describe_security_group_rules(
        Filters=[{'Name': 'group-id', 'Values': [wid]}])['SecurityGroupRules'] if r['IsEgress']]
    ec2.revoke_security_group_egress(GroupId=wid, SecurityGroupRuleIds=[egress[0]['SecurityGroupRuleId']])
    g = ec2.describe_security_groups(GroupIds=[wid])['SecurityGroups'][0]
    assert g['IpPermissions'] == [] and g['IpPermissionsEgress'] == []
    assert err(ec2.authorize_security_group_ingress, GroupId=wid, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 5, 'ToPort': 1,
         'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])[0] == 'InvalidParameterValue'
    ec2.delete_security_group(GroupId=wid)
    ec2.delete_security_group(GroupId=app)
    assert err(ec2.describe_security_groups, GroupIds=[wid])[0] == 'InvalidGroup.NotFound'
    default = ec2.describe_security_groups(Filters=[{'Name': 'group-name', 'Values': ['default']},
                                                    {'Name': 'vpc-id', 'Values': [vid]}])
    assert err(ec2.delete_security_group,
               GroupId=default['SecurityGroups'][0]['GroupId'])[0] == 'CannotDelete'


# ---------------------------------------------------------------------------
# VPC endpoints

def vpce_state(ec2, eid):
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[eid])['VpcEndpoints'][0]['State']


def test_interface_endpoint(ec2):
    vid = vpc(ec2)
    s1 = subnet(ec2, vid, '10.0.1.0/24', 'us-east-1a')
    s2 = subnet(ec2, vid, '10.0.2.0/24', 'us-east-1b')
    sg = ec2.create_security_group(GroupName='ep', Description='ep', VpcId=vid)['GroupId']
    svc = 'com.amazonaws.us-east-1.secretsmanager'
    # private DNS needs both DNS attributes
    assert err(ec2.create_vpc_endpoint, VpcEndpointType='Interface', VpcId=vid, ServiceName=svc,
               SubnetIds=[s1], SecurityGroupIds=[sg], PrivateDnsEnabled=True)[0] == 'InvalidParameter'
    assert err(ec2.create_vpc_endpoint, VpcEndpointType='Interface', VpcId=vid,
               ServiceName='com.amazonaws.us-east-1.nope', SubnetIds=[s1])[0] == 'InvalidServiceName'
    ec2.modify_vpc_attribute(VpcId=vid, EnableDnsHostnames={'Value': True})
    out = ec2.create_vpc_endpoint(VpcEndpointType='Interface', VpcId=vid, ServiceName=svc,
                                  SubnetIds=[s1, s2], SecurityGroupIds=[sg],
                                  PrivateDnsEnabled=True, ClientToken='ep-1',
                                  TagSpecifications=tagspec('vpc-endpoint', Name='sm'))
    ep = out['VpcEndpoint']
    eid = ep['VpcEndpointId']
    assert re.fullmatch(r'vpce-0[0-9a-f]{16}', eid)
    # wire values are lower camel case
    assert ep['State'] == 'pending'
    again = ec2.create_vpc_endpoint(VpcEndpointType='Interface', VpcId=vid, ServiceName=svc,
                                    SubnetIds=[s1, s2], SecurityGroupIds=[sg],
                                    PrivateDnsEnabled=True, ClientToken='ep-1')
    assert again['VpcEndpoint']['VpcEndpointId'] == eid
    wait_for(lambda: vpce_state(ec2, eid) == 'available')
    d = ec2.describe_vpc_endpoints(VpcEndpointIds=[eid])['VpcEndpoints'][0]
    assert sorted(d['SubnetIds']) == sorted([s1, s2]) and len(d['NetworkInterfaceIds']) == 2
    assert d['Groups'][0]['GroupId'] == sg
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=d['NetworkInterfaceIds'])
    assert sorted(e['SubnetId'] for e in enis['NetworkInterfaces']) == sorted([s1, s2])
    assert all(e['Groups'][0]['GroupId'] == sg for e in enis['NetworkInterfaces'])
    # its ENIs block the subnet, the group and the VPC
    assert err(ec2.delete_subnet, SubnetId=s1)[0] == 'DependencyViolation'
    assert err(ec2.delete_security_group, GroupId=sg)[0] == 'DependencyViolation'
    assert err(ec2.delete_vpc, VpcId=vid)[0] == 'DependencyViolation'
    # ModifyVpcEndpoint: drop a subnet, its ENI goes
    ec2.modify_vpc_endpoint(VpcEndpointId=eid, RemoveSubnetIds=[s2])
    d = ec2.describe_vpc_endpoints(VpcEndpointIds=[eid])['VpcEndpoints'][0]
    assert d['SubnetIds'] == [s1] and len(d['NetworkInterfaceIds']) == 1
    ec2.delete_subnet(SubnetId=s2)
    f = ec2.describe_vpc_endpoints(Filters=[{'Name': 'vpc-endpoint-state', 'Values': ['available']},
                                            {'Name': 'tag:Name', 'Values': ['sm']}])
    assert [e['VpcEndpointId'] for e in f['VpcEndpoints']] == [eid]
    res = ec2.delete_vpc_endpoints(VpcEndpointIds=[eid, 'vpce-0123456789abcdef0'])
    assert [u['ResourceId'] for u in res['Unsuccessful']] == ['vpce-0123456789abcdef0']
    assert res['Unsuccessful'][0]['Error']['Code'].startswith('InvalidVpcEndpoint')
    assert vpce_state(ec2, eid) == 'deleting'
    assert err(ec2.delete_subnet, SubnetId=s1)[0] == 'DependencyViolation'
    wait_for(lambda: vpce_state(ec2, eid) == 'deleted')
    ec2.delete_subnet(SubnetId=s1)
    ec2.delete_security_group(GroupId=sg)
    ec2.delete_vpc(VpcId=vid)


def test_gateway_endpoint_routes(ec2):
    vid = vpc(ec2)
    rtb = ec2.create_route_table(VpcId=vid)['RouteTable']['RouteTableId']
    eid = ec2.create_vpc_endpoint(VpcEndpointType='Gateway', VpcId=vid,
                                  ServiceName='com.amazonaws.us-east-1.s3',
                                  RouteTableIds=[rtb])['VpcEndpoint']['VpcEndpointId']
    routes = ec2.describe_route_tables(RouteTableIds=[rtb])['RouteTables'][0]['Routes']
    pl = [r for r in routes if r.get('GatewayId') == eid]
    assert len(pl) == 1 and pl[0]['DestinationPrefixListId'].startswith('pl-')
    ec2.delete_vpc_endpoints(VpcEndpointIds=[eid])
    routes = ec2.describe_route_tables(RouteTableIds=[rtb])['RouteTables'][0]['Routes']
    assert not [r for r in routes if r.get('GatewayId') == eid]


# ---------------------------------------------------------------------------
# DeleteVpc dependencies

def test_delete_vpc_dependency_violations(ec2, emulator):
    vid = vpc(ec2)
    sid = subnet(ec2, vid)
    assert err(ec2.delete_vpc, VpcId=vid)[0] == 'DependencyViolation'
    ec2.delete_subnet(SubnetId=sid)
    gid = attached_igw(ec2, vid)
    assert err(ec2.delete_vpc, VpcId=vid)[0] == 'DependencyViolation'
    ec2.detach_internet_gateway(InternetGatewayId=gid, VpcId=vid)
    ec2.delete_internet_gateway(InternetGatewayId=gid)
    sg = ec2.create_security_group(GroupName='x', Description='x', VpcId=vid)['GroupId']
    assert err(ec2.delete_vpc, VpcId=vid)[0] == 'DependencyViolation'
    ec2.delete_security_group(GroupId=sg)
    rtb = ec2.create_route_table(VpcId=vid)['RouteTable']['RouteTableId']
    assert err(ec2.delete_vpc, VpcId=vid)[0] == 'DependencyViolation'
    ec2.delete_route_table(RouteTableId=rtb)
    eid = ec2.create_vpc_endpoint(VpcId=vid, ServiceName='com.amazonaws.us-east-1.s3',
                                  VpcEndpointType='Gateway')['VpcEndpoint']['VpcEndpointId']
    assert err(ec2.delete_vpc, VpcId=vid)[0] == 'DependencyViolation'
    ec2.delete_vpc_endpoints(VpcEndpointIds=[eid])
    wait_for(lambda: vpce_state(ec2, eid) == 'deleted')
    assert [x['id'] for x in emulator.control('inventory') if x['service'] == 'ec2'] == [vid]
    ec2.delete_vpc(VpcId=vid)
    assert err(ec2.describe_vpcs, VpcIds=[vid])[0] == 'InvalidVpcID.NotFound'
    # the default SG, main route table and default ACL went with it
    assert ec2.describe_security_groups()['SecurityGroups'] == []
    assert ec2.describe_route_tables()['RouteTables'] == []
    assert ec2.describe_network_acls()['NetworkAcls'] == []
    assert [x for x in emulator.control('inventory') if x['service'] == 'ec2'] == []


# ---------------------------------------------------------------------------
# tags, filters, pagination

def test_tags(ec2):
    vid = vpc(ec2, Name='a')
    sid = subnet(ec2, vid)
    ec2.create_tags(Resources=[vid, sid], Tags=[{'Key': 'team', 'Value': 'infra'},
                                                {'Key': 'Name', 'Value': 'b'}])
    d = ec2.describe_vpcs(VpcIds=[vid])['Vpcs'][0]
    assert {t['Key']: t['Value'] for t in d['Tags']} == {'Name': 'b', 'team': 'infra'}
    t = ec2.describe_tags(Filters=[{'Name': 'resource-id', 'Values': [sid]}])['Tags']
    assert sorted((x['Key'], x['Value'], x['ResourceType']) for x in t) == [
        ('Name', 'b', 'subnet'), ('team', 'infra', 'subnet')]
    assert [v['VpcId'] for v in ec2.describe_vpcs(
        Filters=[{'Name': 'tag-key', 'Values': ['team']}])['Vpcs']] == [vid]
    assert [v['VpcId'] for v in ec2.describe_vpcs(
        Filters=[{'Name': 'tag:team', 'Values': ['inf*']}])['Vpcs']] == [vid]
    # DeleteTags: a value that does not match keeps the tag
    ec2.delete_tags(Resources=[vid], Tags=[{'Key': 'team', 'Value': 'other'}, {'Key': 'Name'}])
    d = ec2.describe_vpcs(VpcIds=[vid])['Vpcs'][0]
    assert d['Tags'] == [{'Key': 'team', 'Value': 'infra'}]
    assert err(ec2.create_tags, Resources=['vpc-0123456789abcdef0'],
               Tags=[{'Key': 'a', 'Value': 'b'}])[0] == 'InvalidVpcID.NotFound'
    assert err(ec2.create_tags, Resources=[vid],
               Tags=[{'Key': 'aws:x', 'Value': 'b'}])[0] == 'InvalidParameterValue'


def test_pagination(ec2, emulator):
    emulator.control('config', {'quotas': {'vpcs_per_region': 0}})
    ids = [vpc(ec2, f'10.{i}.0.0/16') for i in range(12)]
    seen, token, pages = [], None, 0
    while True:
        kw = {'NextToken': token} if token else {}
        out = ec2.describe_vpcs(MaxResults=5, **kw)
        pages += 1
        seen += [v['VpcId'] for v in out['Vpcs']]
        token = out.get('NextToken')
        if not token:
            break
    assert pages == 3 and sorted(seen) == sorted(ids)
    paged = [v['VpcId'] for p in ec2.get_paginator('describe_vpcs').paginate(
        PaginationConfig={'PageSize': 5}) for v in p['Vpcs']]
    assert sorted(paged) == sorted(ids)
    assert err(ec2.describe_vpcs, MaxResults=5,
               NextToken='garbage')[0] == 'InvalidPaginationToken'
    assert err(ec2.describe_vpcs, MaxResults=5, VpcIds=ids[:1])[0] == 'InvalidParameterCombination'
    tags = ec2.describe_tags(MaxResults=5)
    assert 'NextToken' not in tags


def test_aws_cli_sample(aws, emulator):
    emulator.control('config', FAST)
    out = aws('ec2', 'create-vpc', '--cidr-block', '10.7.0.0/16',
              '--tag-specifications', 'ResourceType=vpc,Tags=[{Key=Name,Value=cli}]').json
    vid = out['Vpc']['VpcId']
    out = aws('ec2', 'describe-vpcs', '--filters', 'Name=tag:Name,Values=cli').json
    assert [v['VpcId'] for v in out['Vpcs']] == [vid]
    emulator.client('ec2').delete_vpc(VpcId=vid)


# ---------------------------------------------------------------------------
# more rules and operations

def test_release_address_codes_follow_nat_state(ec2):
    vid = vpc(ec2)
    sid = subnet(ec2, vid)
    attached_igw(ec2, vid)
    aid = ec2.allocate_address(Domain='vpc')['AllocationId']
    nid = ec2.create_nat_gateway(SubnetId=sid, AllocationId=aid)['NatGateway']['NatGatewayId']
    # documented choice: InUse while the NAT holds it, AuthFailure while it is deleting
    assert err(ec2.release_address, AllocationId=aid)[0] == 'InvalidIPAddress.InUse'
    ec2.delete_nat_gateway(NatGatewayId=nid)
    assert err(ec2.release_address, AllocationId=aid)[0] == 'AuthFailure'
    # deleting again is harmless
    assert ec2.delete_nat_gateway(NatGatewayId=nid)['NatGatewayId'] == nid
    wait_for(lambda: nat_state(ec2, nid) == 'deleted')
    ec2.release_address(AllocationId=aid)


def test_nat_filters_and_token_mismatch(ec2):
    vid = vpc(ec2)
    s1 = subnet(ec2, vid, '10.0.1.0/24')
    s2 = subnet(ec2, vid, '10.0.2.0/24', 'us-east-1b')
    attached_igw(ec2, vid)
    a1 = ec2.allocate_address(Domain='vpc')['AllocationId']
    a2 = ec2.allocate_address(Domain='vpc')['AllocationId']
    n1 = ec2.create_nat_gateway(SubnetId=s1, AllocationId=a1, ClientToken='t',
                                TagSpecifications=tagspec('natgateway', Name='one'))
    n1 = n1['NatGateway']['NatGatewayId']
    assert err(ec2.create_nat_gateway, SubnetId=s2, AllocationId=a2,
               ClientToken='t')[0] == 'IdempotentParameterMismatch'
    n2 = ec2.create_nat_gateway(SubnetId=s2, AllocationId=a2)['NatGateway']['NatGatewayId']
    f = ec2.describe_nat_gateways(Filter=[{'Name': 'subnet-id', 'Values': [s2]}])['NatGateways']
    assert [n['NatGatewayId'] for n in f] == [n2]
    f = ec2.describe_nat_gateways(Filter=[{'Name': 'tag:Name', 'Values': ['one']},
                                          {'Name': 'vpc-id', 'Values': [vid]}])['NatGateways']
    assert [n['NatGatewayId'] for n in f] == [n1]
    f = ec2.describe_addresses(Filters=[{'Name': 'network-interface-id', 'Values': ['eni-*']}])
    assert sorted(a['AllocationId'] for a in f['Addresses']) == sorted([a1, a2])


def test_rule_descriptions_and_rule_tags(ec2):
    vid = vpc(ec2)
    gid = ec2.create_security_group(GroupName='g', Description='g', VpcId=vid)['GroupId']
    rule = ec2.authorize_security_group_ingress(
        GroupId=gid, IpPermissions=[{'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22,
                                     'IpRanges': [{'CidrIp': '10.0.0.0/8'}]}],
        TagSpecifications=tagspec('security-group-rule', Name='ssh'))['SecurityGroupRules'][0]
    assert rule['Tags'] == [{'Key': 'Name', 'Value': 'ssh'}]
    ec2.update_security_group_rule_descriptions_ingress(GroupId=gid, IpPermissions=[
        {'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22,
         'IpRanges': [{'CidrIp': '10.0.0.0/8', 'Description': 'admins'}]}])
    g = ec2.describe_security_groups(GroupIds=[gid])['SecurityGroups'][0]
    assert g['IpPermissions'][0]['IpRanges'] == [{'CidrIp': '10.0.0.0/8', 'Description': 'admins'}]
    egress = [r for r in ec2.describe_security_group_rules(
        Filters=[{'Name': 'group-id', 'Values': [gid]}])['SecurityGroupRules'] if r['IsEgress']][0]
    ec2.update_security_group_rule_descriptions_egress(GroupId=gid, SecurityGroupRuleDescriptions=[
        {'SecurityGroupRuleId': egress['SecurityGroupRuleId'], 'Description': 'all out'}])
    g = ec2.describe_security_groups(GroupIds=[gid])['SecurityGroups'][0]
    assert g['IpPermissionsEgress'][0]['IpRanges'] == [{'CidrIp': '0.0.0.0/0',
                                                        'Description': 'all out'}]
    t = ec2.describe_tags(Filters=[{'Name': 'resource-type', 'Values': ['security-group-rule']}])
    assert [x['ResourceId'] for x in t['Tags']] == [rule['SecurityGroupRuleId']]
    # protocol numbers are normalised like AWS does (6 -> tcp)
    out = ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[
        {'IpProtocol': '6', 'FromPort': 443, 'ToPort': 443, 'IpRanges': [{'CidrIp': '1.2.3.4/32'}]}])
    assert out['SecurityGroupRules'][0]['IpProtocol'] == 'tcp'


def test_endpoint_services_and_dry_run(ec2):
    out = ec2.describe_vpc_endpoint_services(
        ServiceNames=['com.amazonaws.us-east-1.ecr.dkr'])
    assert out['ServiceNames'] == ['com.amazonaws.us-east-1.ecr.dkr']
    assert out['ServiceDetails'][0]['ServiceType'] == [{'ServiceType': 'Interface'}]
    code, _ = err(ec2.create_vpc, CidrBlock='10.0.0.0/16', DryRun=True)
    assert code == 'DryRunOperation'
    assert ec2.describe_vpcs()['Vpcs'] == []


def test_describe_tags_pagination(ec2):
    vid = vpc(ec2)
    ec2.create_tags(Resources=[vid], Tags=[{'Key': f'k{i}', 'Value': str(i)} for i in range(7)])
    first = ec2.describe_tags(MaxResults=5)
    assert len(first['Tags']) == 5 and first['NextToken']
    rest = ec2.describe_tags(MaxResults=5, NextToken=first['NextToken'])
    assert len(rest['Tags']) == 2 and 'NextToken' not in rest


def test_state_is_plain_json():
    """--state-dir persists the stores with json: everything must be plain data."""
    import json
    from emu.core import Ctx, State
    from emu.services import ec2 as mod
    st = State(config={'async': {'nat_gateway_create': 0}})
    ctx = Ctx(st, 'ec2')
    h = mod.HANDLERS
    vid = h['CreateVpc'](ctx, {'CidrBlock': '10.0.0.0/16'})['Vpc']['VpcId']
    sid = h['CreateSubnet'](ctx, {'VpcId': vid, 'CidrBlock': '10.0.1.0/24'})['Subnet']['SubnetId']
    aid = h['AllocateAddress'](ctx, {})['AllocationId']
    h['CreateNatGateway'](ctx, {'SubnetId': sid, 'AllocationId': aid})
    h['ModifyVpcAttribute'](ctx, {'VpcId': vid, 'EnableDnsHostnames': {'Value': True}})
    h['CreateVpcEndpoint'](ctx, {'VpcId': vid, 'VpcEndpointType': 'Interface', 'SubnetIds': [sid],
                                 'ServiceName': 'com.amazonaws.us-east-1.logs'})
    before = h['DescribeNetworkInterfaces'](ctx, {})
    st.stores = json.loads(json.dumps(st.stores))
    assert h['DescribeNetworkInterfaces'](ctx, {}) == before
    assert len(before['NetworkInterfaces']) == 1   # the failed NAT (no IGW) holds no ENI


def test_eventual_consistency_knob(ec2, emulator):
    emulator.control('config', {'ec2_visibility_delay': 0.4})
    vid = vpc(ec2)
    assert err(ec2.describe_vpcs, VpcIds=[vid])[0] == 'InvalidVpcID.NotFound'
    assert err(ec2.create_subnet, VpcId=vid, CidrBlock='10.0.1.0/24')[0] == 'InvalidVpcID.NotFound'
    ec2.get_waiter('vpc_exists').wait(VpcIds=[vid], WaiterConfig={'Delay': 0.1, 'MaxAttempts': 20})
    assert subnet(ec2, vid).startswith('subnet-')
