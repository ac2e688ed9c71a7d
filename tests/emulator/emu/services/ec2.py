"""EC2 (VPC networking) for the emulator: VPCs, subnets, internet gateways,
elastic IPs, NAT gateways, route tables, routes and associations, security
groups and their rules, VPC endpoints, tags, availability zones and the
network interfaces that NAT gateways and interface endpoints own.

State lives in ctx.store('ec2')['regions'][<region>] as plain JSON data, one
dict per collection keyed by resource id. Asynchronous life cycles are not
driven by threads: each record stores absolute timestamps (``ready_at``,
``delete_at``, ``gone_at``) computed from config['async'] when the call that
starts the transition is served, and the state is derived from them when read.

Choices where AWS is unclear or the brief left it open:
* inventory() lists only what a user creates (VPCs, subnets, IGWs, EIPs, NAT
  gateways, non-main route tables, non-default security groups, standalone
  security group rules are not listed separately: they die with their group,
  VPC endpoints). The default SG, main route table and default network ACL
  that come with a VPC are not listed: they go away with the VPC. A NAT
  gateway or endpoint is live until it reaches ``deleted`` (``deleting`` is
  still live: it still holds its ENI and EIP); ``failed`` NAT gateways are
  not live (AWS cleans them up by itself).
* A NAT gateway created in a VPC without an attached IGW stays ``pending`` for
  the create duration, then reports ``failed`` / Gateway.NotAttached; it never
  holds its EIP or an ENI.
* ReleaseAddress of an EIP held by a NAT gateway in ``deleting`` answers
  AuthFailure (what AWS says in that window); held otherwise: InvalidIPAddress.InUse.
* VPC endpoint states are lower camel case on the wire (AWS's real values),
  though the model enum is capitalised.
* DeleteNatGateway on a failed, deleting or deleted gateway succeeds and
  changes nothing. DryRun=true answers DryRunOperation (HTTP 412) for every
  operation, as AWS does for a caller with permission.
* Deleted NAT gateways and endpoints stay visible for
  config['async']['deleted_visible'] seconds, then are dropped.
* The VPC's own state is ``pending`` in the CreateVpc answer and ``available``
  afterwards; subnets likewise.
* Network interfaces: NAT gateways and interface endpoints own stored ENIs;
  the ENIs of running ECS awsvpc tasks are computed by emu.services.ecs
  (task_enis) and count everywhere ENIs count (DeleteSubnet,
  DeleteSecurityGroup, DeleteVpc, DetachInternetGateway for their public IPs,
  availableIpAddressCount, DescribeNetworkInterfaces).
* Eventual consistency on demand: with config['ec2_visibility_delay'] = N, a
  new VPC, subnet, IGW, EIP, NAT gateway, route table, security group or
  endpoint answers its NotFound code for N seconds to calls naming its id
  (Describe by id, references such as CreateRoute NatGatewayId), as AWS
  sometimes does right after creation. Default 0 (off).
* Only what cairn's resource types need is modelled: routes to IGWs, NAT
  gateways, Gateway Load Balancer endpoints and ENIs; IPv4 destinations; subnet
  route table associations (not gateway associations); the default network ACL
  is read-only.
"""
import base64
import fnmatch
import ipaddress
import json
import re
import time

from emu.core import AwsError

SERVICE = 'ec2'

COLLECTIONS = ('vpcs', 'subnets', 'igws', 'addresses', 'nats', 'rtbs', 'sgs',
               'sgrules', 'vpces', 'enis', 'nacls')

DEFAULTS = {
    'nat_gateway_create': 1.0,
    'nat_gateway_delete': 1.0,
    'vpc_endpoint_create': 1.0,
    'vpc_endpoint_delete': 1.0,
    'deleted_visible': 60.0,
}

# Services a VPC endpoint may name: com.amazonaws.<region>.<name>
ENDPOINT_SERVICES = {
    's3': ('Gateway', 'Interface'), 'dynamodb': ('Gateway',),
    'secretsmanager': ('Interface',), 'ecr.api': ('Interface',),
    'ecr.dkr': ('Interface',), 'logs': ('Interface',), 'sts': ('Interface',),
    'ecs': ('Interface',), 'ecs-agent': ('Interface',),
    'ecs-telemetry': ('Interface',), 'ssm': ('Interface',),
    'ssmmessages': ('Interface',), 'ec2messages': ('Interface',),
    'kms': ('Interface',), 'ec2': ('Interface',), 'monitoring': ('Interface',),
    'elasticloadbalancing': ('Interface',), 'sqs': ('Interface',),
    'sns': ('Interface',),
}

ID_PREFIX = {
    'vpc': 'vpc', 'subnet': 'subnet', 'igw': 'igw', 'eipalloc': 'eipalloc',
    'nat': 'nat', 'rtb': 'rtb', 'sg': 'sg', 'sgr': 'sgr', 'vpce': 'vpce',
    'eni': 'eni', 'acl': 'acl',
}


# --------------------------------------------------------------------------
# small helpers

def _dur(ctx, key):
    cfg = ctx.config.get('async', {}) if isinstance(ctx.config, dict) else {}
    try:
        return float(cfg.get(key, DEFAULTS[key]))
    except (TypeError, ValueError):
        return DEFAULTS[key]


def _region(ctx):
    st = ctx.store(SERVICE)
    regions = st.setdefault('regions', {})
    r = regions.get(ctx.region)
    if r is None:
        r = {k: {} for k in COLLECTIONS}
        r['seq'] = {'ip': 0}
        regions[ctx.region] = r
        if ctx.config.get('seed_account'):
            from emu import seed
            seed.seed_ec2_region(ctx, r)
    return r


def _new_id(ctx, prefix):
    # AWS's long ids: prefix-0 + 16 hex digits (17 after the dash)
    if hasattr(ctx, 'rand_hex'):
        return f'{prefix}-0{ctx.rand_hex(16)}'
    raw = ctx.new_id(prefix)
    return f'{prefix}-0{raw.split("-", 1)[1][-16:]}'


# Account quotas (VPC User Guide, "Amazon VPC quotas"; EC2 "Elastic IP address
# limit"): AWS's defaults, configurable with config['quotas'] (0 = unlimited).
QUOTAS = {'vpcs_per_region': 5, 'elastic_ips_per_region': 5, 'rules_per_security_group': 60,
          'nat_gateways_per_az': 5, 'security_groups_per_vpc': 2500,
          'internet_gateways_per_region': 5}


def quota(ctx, name):
    q = ctx.config.get('quotas') or {}
    try:
        return int(q.get(name, QUOTAS[name]))
    except (TypeError, ValueError):
        return QUOTAS[name]


def _tags_out(tags):
    return [{'Key': t['Key'], 'Value': t.get('Value', '')} for t in tags]


def _bool_str(b):
    return 'true' if b else 'false'


def _err_notfound(code, kind, ids):
    if len(ids) == 1:
        return AwsError(code, f"The {kind} ID '{ids[0]}' does not exist")
    return AwsError(code, f"The {kind} IDs '{', '.join(ids)}' do not exist")


def _check_id(value, prefix, code_prefix):
    """Malformed ids are refused with <Prefix>.Malformed, as EC2 does."""
    ok = isinstance(value, str) and value.startswith(prefix + '-')
    if ok:
        rest = value[len(prefix) + 1:]
        ok = len(rest) in (8, 17) and all(c in '0123456789abcdef' for c in rest)
    if not ok:
        raise AwsError(f'{code_prefix}.Malformed', f'Invalid id: "{value}"')


NOTFOUND = {
    'vpcs': ('vpc', 'InvalidVpcID', 'vpc'),
    'subnets': ('subnet', 'InvalidSubnetID', 'subnet'),
    'igws': ('igw', 'InvalidInternetGatewayID', 'internet gateway'),
    'addresses': ('eipalloc', 'InvalidAllocationID', 'allocation'),
    'nats': ('nat', 'InvalidNatGatewayID', 'NAT gateway'),
    'rtbs': ('rtb', 'InvalidRouteTableID', 'route table'),
    'sgs': ('sg', 'InvalidGroup', 'security group'),
    'sgrules': ('sgr', 'InvalidSecurityGroupRuleId', 'security group rule'),
    'vpces': ('vpce', 'InvalidVpcEndpointId', 'VPC endpoint'),
    'enis': ('eni', 'InvalidNetworkInterfaceID', 'network interface'),
}


def _too_new(ctx, rec, coll=None):
    """Eventual consistency: config['visibility_delay'] (key 'ec2' or
    'ec2:<collection>', e.g. 'ec2:vpcs'; or the older ec2_visibility_delay)
    seconds after its creation an id is still unknown to calls that name it."""
    born = rec.get('created') or rec.get('CreateTime') or rec.get('CreationTimestamp')
    return ctx.too_new(born, coll)


def _get(ctx, coll, rid, visible=None):
    """The record `rid` of `coll`, or the collection's NotFound error."""
    prefix, code, kind = NOTFOUND[coll]
    _check_id(rid, prefix, code)
    r = _region(ctx)
    rec = r[coll].get(rid)
    if rec is None or (visible is not None and not visible(ctx, rec)) or _too_new(ctx, rec, coll):
        if coll == 'sgs':
            raise AwsError('InvalidGroup.NotFound',
                           f"The security group '{rid}' does not exist")
        raise _err_notfound(f'{code}.NotFound', kind, [rid])
    return rec


def _tag_specs(ctx, params, rtype):
    """Tags from TagSpecifications for resource type `rtype`."""
    tags = []
    for spec in params.get('TagSpecifications') or []:
        if spec.get('ResourceType') != rtype:
            raise AwsError('InvalidParameterValue',
                           f"'{spec.get('ResourceType')}' is not a valid taggable "
                           f"resource type for this operation.")
        tags = _merge_tags(tags, spec.get('Tags') or [])
    return tags


def _merge_tags(old, new):
    out = [dict(t) for t in old]
    for t in new:
        key = t.get('Key')
        if key is None or key == '':
            raise AwsError('InvalidParameterValue', 'Tag keys must not be empty')
        if key.lower().startswith('aws:'):
            raise AwsError('InvalidParameterValue',
                           'Tag keys starting with \'aws:\' are reserved for internal use')
        if len(key) > 128 or len(t.get('Value') or '') > 256:
            raise AwsError('InvalidParameterValue', f"Tag '{key}' is too long")
        for o in out:
            if o['Key'] == key:
                o['Value'] = t.get('Value') or ''
                break
        else:
            out.append({'Key': key, 'Value': t.get('Value') or ''})
    if len(out) > 50:
        raise AwsError('TagLimitExceeded',
                       'The maximum number of tags (50) for a resource was exceeded')
    return out


def _cidr(value, param):
    try:
        net = ipaddress.ip_network(value, strict=True)
    except (ValueError, TypeError):
        raise AwsError('InvalidParameterValue',
                       f"Value ({value}) for parameter {param} is invalid. "
                       f"This is not a valid CIDR block.")
    if net.version != 4:
        raise AwsError('InvalidParameterValue',
                       f"Value ({value}) for parameter {param} is invalid. "
                       f"This is not a valid IPv4 CIDR block.")
    return net


# ---- filters ----------------------------------------------------------------

def _match(pattern, value):
    pattern = pattern.replace('[', '[[]')
    return fnmatch.fnmatchcase(value, pattern)


def _filter(items, filters, fields, tags_of=lambda x: x.get('Tags', [])):
    """Keeps the items matching every filter (OR within a filter's values).

    fields: {filter-name: fn(item) -> list of str}. tag:K, tag-key and
    tag-value are handled for every type. Unknown names are refused."""
    flist = []
    for f in filters or []:
        name = f.get('Name')
        vals = f.get('Values') or []
        if not name:
            raise AwsError('InvalidParameterValue', 'The filter name must not be empty')
        if not (name.startswith('tag:') or name in ('tag-key', 'tag-value')
                or name in fields):
            raise AwsError('InvalidParameterValue', f"The filter '{name}' is invalid")
        flist.append((name, vals))
    if not flist:
        return list(items)
    out = []
    for it in items:
        ok = True
        for name, vals in flist:
            if name.startswith('tag:'):
                have = [t.get('Value', '') for t in tags_of(it) if t['Key'] == name[4:]]
            elif name == 'tag-key':
                have = [t['Key'] for t in tags_of(it)]
            elif name == 'tag-value':
                have = [t.get('Value', '') for t in tags_of(it)]
            else:
                have = [str(h) for h in fields[name](it) if h is not None]
            if not any(_match(v, h) for v in vals for h in have):
                ok = False
                break
        if ok:
            out.append(it)
    return out


def _page(ctx, items, params, key, lo=5, hi=1000, ids_member=None):
    """Slices `items` per MaxResults/NextToken; returns (page, next_token)."""
    mr = params.get('MaxResults')
    tok = params.get('NextToken')
    if mr is not None:
        if ids_member and params.get(ids_member):
            raise AwsError('InvalidParameterCombination',
                           f'The parameter {ids_member} cannot be used with the '
                           f'parameter maxResults')
        if mr < lo or mr > hi:
            raise AwsError('InvalidParameterValue',
                           f'Value ( {mr} ) for parameter maxResults is invalid. '
                           f'Expecting a value between {lo} and {hi}.')
    start = 0
    if tok:
        try:
            k, s = base64.urlsafe_b64decode(tok.encode()).decode().rsplit(':', 1)
            start = int(s)
            if k != key or start < 0:
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            raise AwsError('InvalidPaginationToken',
                           f'Invalid pagination token: {tok}')
    if ids_member and params.get(ids_member):
        # with explicit ids EC2 answers them all (MaxResults cannot be given)
        return items[start:], None
    n = ctx.page_size(mr, None)     # no MaxResults: everything, unless short pages
    if n is None:
        return items[start:], None
    page = items[start:start + n]
    if start + n < len(items):
        return page, base64.urlsafe_b64encode(f'{key}:{start + n}'.encode()).decode()
    return page, None


def _by_ids(ctx, coll, ids, visible=None):
    """Records for explicit ids (all must exist), else all in the region."""
    r = _region(ctx)
    if not ids:
        return [v for v in r[coll].values() if visible is None or visible(ctx, v)]
    prefix, code, kind = NOTFOUND[coll]
    missing = []
    out = []
    for i in ids:
        _check_id(i, prefix, code)
        rec = r[coll].get(i)
        if rec is None or (visible is not None and not visible(ctx, rec)) or _too_new(ctx, rec, coll):
            missing.append(i)
        elif rec not in out:
            out.append(rec)
    if missing:
        if coll == 'sgs':
            raise AwsError('InvalidGroup.NotFound',
                           f"The security group '{missing[0]}' does not exist")
        if coll == 'nats':
            raise AwsError('NatGatewayNotFound',
                           f"NAT gateway {missing[0]} was not found")
        raise _err_notfound(f'{code}.NotFound', kind, missing)
    return out


# --------------------------------------------------------------------------
# async state derivation

def _nat_state(now, n):
    if n.get('delete_at') is not None:
        return 'deleted' if now >= n['gone_at'] else 'deleting'
    if now < n['ready_at']:
        return 'pending'
    return 'failed' if n.get('failure') else 'available'


def _nat_holds(now, n):
    """True while the NAT gateway holds its ENI and EIP."""
    if n.get('failure'):
        return False
    return _nat_state(now, n) in ('pending', 'available', 'deleting')


def _vpce_state(now, e):
    if e.get('delete_at') is not None:
        return 'deleted' if now >= e['gone_at'] else 'deleting'
    return 'pending' if now < e['ready_at'] else 'available'


def _nat_visible(ctx, n):
    now = ctx.now()
    if n.get('delete_at') is not None and now >= n['gone_at'] + n['visible_for']:
        return False
    if n.get('failure') and now >= n['ready_at'] + n['visible_for']:
        return False
    return True


def _vpce_visible(ctx, e):
    return not (e.get('delete_at') is not None
                and ctx.now() >= e['gone_at'] + e['visible_for'])


def _eni_live(now, r, eni):
    kind, oid = eni['owner']
    if kind == 'nat':
        n = r['nats'].get(oid)
        return n is not None and _nat_holds(now, n)
    if kind == 'vpce':
        e = r['vpces'].get(oid)
        return (e is not None and _vpce_state(now, e) != 'deleted'
                and eni['SubnetId'] in e['SubnetIds'])
    if kind == 'instance':   # ec2_instances.py
        from emu.services import ec2_instances
        return ec2_instances.eni_live(now, r, oid)
    return True


def _gc(ctx):
    """Drops records whose visibility window ended and dead ENIs."""
    r = _region(ctx)
    now = ctx.now()
    for nid in [k for k, n in r['nats'].items() if not _nat_visible(ctx, n)]:
        del r['nats'][nid]
    for eid in [k for k, e in r['vpces'].items() if not _vpce_visible(ctx, e)]:
        del r['vpces'][eid]
    for eid in [k for k, e in r['enis'].items() if not _eni_live(now, r, e)]:
        del r['enis'][eid]
    return r


def _new_eni(ctx, r, subnet, owner, itype, description, groups):
    eid = _new_id(ctx, 'eni')
    eni = {
        'NetworkInterfaceId': eid, 'SubnetId': subnet['SubnetId'],
        'VpcId': subnet['VpcId'], 'AvailabilityZone': subnet['AvailabilityZone'],
        'PrivateIpAddress': _next_private_ip(subnet), 'InterfaceType': itype,
        'Description': description, 'Groups': list(groups), 'owner': list(owner),
        'MacAddress': '02:' + ':'.join(eid[-10:][i:i + 2] for i in range(0, 10, 2)),
        'OwnerId': ctx.account,
    }
    r['enis'][eid] = eni
    return eni


def _next_private_ip(subnet):
    net = ipaddress.ip_network(subnet['CidrBlock'])
    subnet['ip_seq'] = subnet.get('ip_seq', 0) + 1
    # AWS reserves the first four and the last address of a subnet
    offset = 3 + subnet['ip_seq']
    if offset >= net.num_addresses - 1:
        raise AwsError('InsufficientFreeAddressesInSubnet',
                       f"The specified subnet {subnet['SubnetId']} does not have "
                       f"enough free addresses to satisfy the request.")
    return str(net.network_address + offset)


def _task_enis(ctx, r):
    """The ENIs of ECS awsvpc tasks (computed by the ECS module)."""
    try:
        from emu.services import ecs
    except ImportError:
        return []
    out = []
    for t in ecs.task_enis(ctx):
        s = r['subnets'].get(t['SubnetId'])
        if s is None:
            continue
        net = ipaddress.ip_network(s['CidrBlock'])
        h = int(t['NetworkInterfaceId'][-8:], 16)
        ip = net.network_address + net.num_addresses - 2 - h % max(1, net.num_addresses // 2)
        eid = t['NetworkInterfaceId']
        out.append({
            'NetworkInterfaceId': eid, 'SubnetId': s['SubnetId'], 'VpcId': s['VpcId'],
            'AvailabilityZone': s['AvailabilityZone'], 'PrivateIpAddress': str(ip),
            'InterfaceType': 'interface', 'Groups': t['Groups'],
            'Description': f"arn:aws:ecs:{ctx.region}:{ctx.account}:attachment/"
                           f"{t['attachment']}",
            'owner': ['ecs', t['service']], 'PublicIp': t['PublicIp'],
            'MacAddress': '02:' + ':'.join(eid[-10:][i:i + 2] for i in range(0, 10, 2)),
            'OwnerId': ctx.account})
    return out


def _live_enis(ctx, r):
    now = ctx.now()
    return [e for e in r['enis'].values() if _eni_live(now, r, e)] + _task_enis(ctx, r)


# --------------------------------------------------------------------------
# availability zones

_DIRS = {'east': 'e', 'west': 'w', 'north': 'n', 'south': 's', 'central': 'c',
         'northeast': 'ne', 'northwest': 'nw', 'southeast': 'se',
         'southwest': 'sw'}


# Zone letters and AZ ids per region as DescribeAvailabilityZones lists them
# for an account (letter-to-id mapping is per account in the older regions;
# these are one real account's). Sources: AWS "AZ IDs" and EFS "Supported
# Availability Zones" pages (docs.aws.amazon.com/global-infrastructure/latest/
# regions/az-ids.html, efs/latest/ug/OneZoneAZs.html); regions not listed get
# a, b, c.
ZONES = {
    'us-east-1': [('a', 1), ('b', 2), ('c', 4), ('d', 6), ('e', 3), ('f', 5)],
    'us-east-2': [('a', 1), ('b', 2), ('c', 3)],
    'us-west-1': [('a', 1), ('c', 3)],
    'us-west-2': [('a', 1), ('b', 2), ('c', 3), ('d', 4)],
    'ap-northeast-1': [('a', 4), ('c', 1), ('d', 2)],
    'ap-northeast-2': [('a', 1), ('b', 2), ('c', 3), ('d', 4)],
    'ca-central-1': [('a', 1), ('b', 2), ('d', 4)],
    'ap-south-1': [('a', 1), ('b', 3), ('c', 2)],
    'ap-southeast-1': [('a', 2), ('b', 1), ('c', 3)],
    'ap-southeast-2': [('a', 1), ('b', 3), ('c', 2)],
    'eu-west-1': [('a', 1), ('b', 2), ('c', 3)],
    'eu-central-1': [('a', 1), ('b', 2), ('c', 3)],
}


def _zone_list(region, ctx=None):
    """[{name, id, type, state}] of a region: the ZONES table (else a, b, c),
    or the config's `availability_zones` {region: [name | {name, id, type,
    state}]} (local zones with type "local-zone"; an "impaired" zone)."""
    parts = region.split('-')
    short = region.replace('-', '')
    if len(parts) == 3:
        short = parts[0] + _DIRS.get(parts[1], parts[1][:1]) + parts[2]
    conf = ((ctx.config.get('availability_zones') if ctx is not None else None)
            or {}).get(region)
    if not conf:
        table = ZONES.get(region) or [(s, i + 1) for i, s in enumerate('abc')]
        conf = [{'name': f'{region}{s}', 'id': f'{short}-az{i}'} for s, i in table]
    out = []
    for i, z in enumerate(conf):
        z = {'name': z} if isinstance(z, str) else dict(z)
        z.setdefault('id', f'{short}-az{i + 1}')
        z.setdefault('type', 'availability-zone')
        z.setdefault('state', 'available')
        out.append(z)
    return out


def _zones(region, ctx=None):
    return [(z['name'], z['id']) for z in _zone_list(region, ctx)
            if z['type'] == 'availability-zone' and z['state'] == 'available']


def describe_availability_zones(ctx, params):
    zones = [{'State': z['state'], 'OptInStatus': 'opt-in-not-required',
              'Messages': [], 'RegionName': ctx.region, 'ZoneName': z['name'],
              'ZoneId': z['id'], 'GroupName': ctx.region, 'NetworkBorderGroup': ctx.region,
              'ZoneType': z['type']} for z in _zone_list(ctx.region, ctx)]
    names = params.get('ZoneNames') or []
    zids = params.get('ZoneIds') or []
    for n in names:
        if n not in [z['ZoneName'] for z in zones]:
            raise AwsError('InvalidParameterValue',
                           f"The zone '{n}' does not exist in region {ctx.region}")
    for n in zids:
        if n not in [z['ZoneId'] for z in zones]:
            raise AwsError('InvalidParameterValue',
                           f"The zone ID '{n}' does not exist in region {ctx.region}")
    if names or zids:
        zones = [z for z in zones if z['ZoneName'] in names or z['ZoneId'] in zids]
    fields = {
        'group-name': lambda z: [z['GroupName']], 'message': lambda z: [],
        'opt-in-status': lambda z: [z['OptInStatus']],
        'region-name': lambda z: [z['RegionName']], 'state': lambda z: [z['State']],
        'zone-id': lambda z: [z['ZoneId']], 'zone-name': lambda z: [z['ZoneName']],
        'zone-type': lambda z: [z['ZoneType']],
    }
    zones = _filter(zones, params.get('Filters'), fields, tags_of=lambda z: [])
    return {'AvailabilityZones': zones}


# --------------------------------------------------------------------------
# VPCs

def _vpc_out(v, state=None):
    return {
        'CidrBlock': v['CidrBlock'], 'DhcpOptionsId': v['DhcpOptionsId'],
        'State': state or 'available', 'VpcId': v['VpcId'], 'OwnerId': v['OwnerId'],
        'InstanceTenancy': v['InstanceTenancy'],
        'CidrBlockAssociationSet': [{
            'AssociationId': v['CidrAssociationId'], 'CidrBlock': v['CidrBlock'],
            'CidrBlockState': {'State': 'associated'}}],
        'IsDefault': bool(v.get('IsDefault')), 'Tags': _tags_out(v['Tags']),
    }


def create_vpc(ctx, params):
    r = _region(ctx)
    if not params.get('CidrBlock'):
        raise AwsError('MissingParameter',
                       'The request must contain the parameter cidrBlock')
    net = _cidr(params['CidrBlock'], 'cidrBlock')
    if not 16 <= net.prefixlen <= 28:
        raise AwsError('InvalidVpc.Range',
                       f"The CIDR '{params['CidrBlock']}' is invalid.")
    tenancy = params.get('InstanceTenancy') or 'default'
    if tenancy == 'host':
        raise AwsError('InvalidParameterValue',
                       'Value (host) for parameter instanceTenancy is invalid.')
    tags = _tag_specs(ctx, params, 'vpc')
    limit = quota(ctx, 'vpcs_per_region')
    if limit and len(r['vpcs']) >= limit:
        raise AwsError('VpcLimitExceeded', 'The maximum number of VPCs has been reached.')
    vid = _new_id(ctx, 'vpc')
    v = {
        'VpcId': vid, 'CidrBlock': str(net), 'InstanceTenancy': tenancy,
        'DhcpOptionsId': 'dopt-0' + vid[-16:], 'OwnerId': ctx.account,
        'CidrAssociationId': _new_id(ctx, 'vpc-cidr-assoc'), 'Tags': tags,
        'EnableDnsSupport': True, 'EnableDnsHostnames': False,
        'EnableNetworkAddressUsageMetrics': False, 'created': ctx.now(),
    }
    r['vpcs'][vid] = v
    # the default security group, with self-referencing ingress and allow-all egress
    sg = _new_sg(ctx, r, 'default', 'default VPC security group', vid, [], default=True)
    _add_rule(ctx, r, sg, False, {'IpProtocol': '-1', 'ReferencedGroupId': sg['GroupId']})
    _add_rule(ctx, r, sg, True, {'IpProtocol': '-1', 'CidrIpv4': '0.0.0.0/0'})
    v['DefaultSecurityGroupId'] = sg['GroupId']
    # the main route table with the local route
    rt = _new_rtb(ctx, r, vid, [])
    rt['Main'] = True
    rt['Associations'].append({
        'Main': True, 'RouteTableAssociationId': _new_id(ctx, 'rtbassoc'),
        'RouteTableId': rt['RouteTableId'], 'AssociationState': {'State': 'associated'}})
    v['MainRouteTableId'] = rt['RouteTableId']
    # the default network ACL
    aid = _new_id(ctx, 'acl')
    r['nacls'][aid] = {'NetworkAclId': aid, 'VpcId': vid, 'IsDefault': True,
                       'Tags': [], 'OwnerId': ctx.account}
    v['DefaultNetworkAclId'] = aid
    return {'Vpc': _vpc_out(v, 'pending')}


VPC_FILTERS = {
    'cidr': lambda v: [v['CidrBlock']],
    'cidr-block-association.cidr-block': lambda v: [v['CidrBlock']],
    'cidr-block-association.association-id': lambda v: [v['CidrAssociationId']],
    'cidr-block-association.state': lambda v: ['associated'],
    'dhcp-options-id': lambda v: [v['DhcpOptionsId']],
    'is-default': lambda v: [_bool_str(v.get('IsDefault'))],
    'owner-id': lambda v: [v['OwnerId']],
    'state': lambda v: ['available'],
    'vpc-id': lambda v: [v['VpcId']],
    'instance-tenancy': lambda v: [v['InstanceTenancy']],
}


def describe_vpcs(ctx, params):
    items = _by_ids(ctx, 'vpcs', params.get('VpcIds'))
    items = _filter(items, params.get('Filters'), VPC_FILTERS)
    page, tok = _page(ctx, items, params, 'vpcs', ids_member='VpcIds')
    out = {'Vpcs': [_vpc_out(v) for v in page]}
    if tok:
        out['NextToken'] = tok
    return out


def _one_attribute(params, names):
    given = [n for n in names if params.get(n) is not None]
    if len(given) != 1:
        raise AwsError('InvalidParameterCombination',
                       'Exactly one attribute must be specified per request'
                       if given else 'The request must contain exactly one attribute')
    val = params[given[0]]
    if isinstance(val, dict):
        val = val.get('Value')
    if val is None:
        raise AwsError('MissingParameter',
                       f'The request must contain the parameter {given[0]}.Value')
    return given[0], bool(val)


def modify_vpc_attribute(ctx, params):
    r = _region(ctx)
    v = _get(ctx, 'vpcs', params.get('VpcId'))
    name, val = _one_attribute(params, ('EnableDnsSupport', 'EnableDnsHostnames',
                                        'EnableNetworkAddressUsageMetrics'))
    if name == 'EnableDnsHostnames' and val and not v['EnableDnsSupport']:
        raise AwsError('InvalidParameterValue',
                       'DNS hostnames can only be enabled when DNS support is enabled '
                       f"for vpc {v['VpcId']}")
    v[name] = val
    del r
    return {}


def describe_vpc_attribute(ctx, params):
    v = _get(ctx, 'vpcs', params.get('VpcId'))
    attr = params.get('Attribute')
    member = {'enableDnsSupport': 'EnableDnsSupport',
              'enableDnsHostnames': 'EnableDnsHostnames',
              'enableNetworkAddressUsageMetrics': 'EnableNetworkAddressUsageMetrics'
              }.get(attr)
    if member is None:
        raise AwsError('InvalidParameterValue',
                       f'Value ({attr}) for parameter attribute is invalid.')
    return {'VpcId': v['VpcId'], member: {'Value': v[member]}}


def delete_vpc(ctx, params):
    r = _gc(ctx)
    v = _get(ctx, 'vpcs', params.get('VpcId'))
    vid = v['VpcId']
    now = ctx.now()
    blockers = (
        any(s['VpcId'] == vid for s in r['subnets'].values())
        or any(a['VpcId'] == vid for g in r['igws'].values() for a in g['Attachments'])
        or any(g['VpcId'] == vid and not g.get('default') for g in r['sgs'].values())
        or any(t['VpcId'] == vid and not t.get('Main') for t in r['rtbs'].values())
        or any(e['VpcId'] == vid and _vpce_state(now, e) != 'deleted'
               for e in r['vpces'].values())
        or any(e['VpcId'] == vid for e in _live_enis(ctx, r)))
    if blockers:
        raise AwsError('DependencyViolation',
                       f"The vpc '{vid}' has dependencies and cannot be deleted.")
    for coll in ('sgs', 'rtbs', 'nacls'):
        for k in [k for k, x in r[coll].items() if x['VpcId'] == vid]:
            del r[coll][k]
    for k in [k for k, x in r['sgrules'].items() if x['GroupId'] not in r['sgs']]:
        del r['sgrules'][k]
    # deleted NAT gateways and endpoints of the VPC stay visible for a while
    del r['vpcs'][vid]
    return {}


# --------------------------------------------------------------------------
# subnets

def _subnet_out(ctx, r, s, state=None, counts=None):
    net = ipaddress.ip_network(s['CidrBlock'])
    if counts is None:
        counts = _eni_counts(ctx, r)
    used = counts.get(s['SubnetId'], 0)
    return {
        'AvailabilityZone': s['AvailabilityZone'],
        'AvailabilityZoneId': s['AvailabilityZoneId'],
        'AvailableIpAddressCount': net.num_addresses - 5 - used,
        'CidrBlock': s['CidrBlock'], 'DefaultForAz': bool(s.get('DefaultForAz')),
        'MapPublicIpOnLaunch': s['MapPublicIpOnLaunch'],
        'MapCustomerOwnedIpOnLaunch': False,
        'State': state or 'available', 'SubnetId': s['SubnetId'], 'VpcId': s['VpcId'],
        'OwnerId': s['OwnerId'], 'AssignIpv6AddressOnCreation': False,
        'Ipv6CidrBlockAssociationSet': [], 'Tags': _tags_out(s['Tags']),
        'SubnetArn': s['SubnetArn'], 'EnableDns64': False, 'Ipv6Native': False,
        'PrivateDnsNameOptionsOnLaunch': {
            'HostnameType': 'ip-name', 'EnableResourceNameDnsARecord': False,
            'EnableResourceNameDnsAAAARecord': False},
    }


def create_subnet(ctx, params):
    r = _region(ctx)
    v = _get(ctx, 'vpcs', params.get('VpcId'))
    if not params.get('CidrBlock'):
        raise AwsError('MissingParameter',
                       'The request must contain the parameter cidrBlock')
    net = _cidr(params['CidrBlock'], 'cidrBlock')
    vnet = ipaddress.ip_network(v['CidrBlock'])
    if not net.subnet_of(vnet) or not 16 <= net.prefixlen <= 28:
        raise AwsError('InvalidSubnet.Range',
                       f"The CIDR '{params['CidrBlock']}' is invalid.")
    for s in r['subnets'].values():
        if s['VpcId'] == v['VpcId'] and net.overlaps(ipaddress.ip_network(s['CidrBlock'])):
            raise AwsError('InvalidSubnet.Conflict',
                           f"The CIDR '{params['CidrBlock']}' conflicts with another subnet")
    zones = _zones(ctx.region, ctx)
    az, azid = params.get('AvailabilityZone'), params.get('AvailabilityZoneId')
    if az and azid:
        raise AwsError('InvalidParameterCombination',
                       'Only one of availabilityZone and availabilityZoneId may be given')
    if az or azid:
        zone = [z for z in zones if z[0] == az or z[1] == azid]
        if not zone:
            raise AwsError('InvalidParameterValue',
                           f"Value ({az or azid}) for parameter availabilityZone is "
                           f"invalid. Subnets can currently only be created in the "
                           f"following availability zones: "
                           f"{', '.join(z[0] for z in zones)}.")
        zone = zone[0]
    else:
        zone = zones[len(r['subnets']) % len(zones)]
    tags = _tag_specs(ctx, params, 'subnet')
    sid = _new_id(ctx, 'subnet')
    s = {'SubnetId': sid, 'VpcId': v['VpcId'], 'CidrBlock': str(net),
         'AvailabilityZone': zone[0], 'AvailabilityZoneId': zone[1],
         'MapPublicIpOnLaunch': False, 'OwnerId': ctx.account, 'Tags': tags,
         'SubnetArn': ctx.arn('ec2', f'subnet/{sid}'), 'ip_seq': 0, 'created': ctx.now()}
    r['subnets'][sid] = s
    return {'Subnet': _subnet_out(ctx, r, s, 'pending')}


def _eni_counts(ctx, r):
    counts = {}
    for e in _live_enis(ctx, r):
        counts[e['SubnetId']] = counts.get(e['SubnetId'], 0) + 1
    return counts


def describe_subnets(ctx, params):
    r = _gc(ctx)
    items = _by_ids(ctx, 'subnets', params.get('SubnetIds'))
    counts = _eni_counts(ctx, r)
    out_all = {s['SubnetId']: _subnet_out(ctx, r, s, counts=counts) for s in items}
    fields = {
        'availability-zone': lambda s: [s['AvailabilityZone']],
        'availability-zone-id': lambda s: [s['AvailabilityZoneId']],
        'available-ip-address-count':
            lambda s: [out_all[s['SubnetId']]['AvailableIpAddressCount']],
        'cidr-block': lambda s: [s['CidrBlock']], 'cidr': lambda s: [s['CidrBlock']],
        'cidrBlock': lambda s: [s['CidrBlock']],
        'default-for-az': lambda s: ['false'], 'defaultForAz': lambda s: ['false'],
        'map-public-ip-on-launch': lambda s: [_bool_str(s['MapPublicIpOnLaunch'])],
        'default-for-az': lambda s: [_bool_str(s.get('DefaultForAz'))],
        'owner-id': lambda s: [s['OwnerId']], 'state': lambda s: ['available'],
        'subnet-arn': lambda s: [s['SubnetArn']], 'subnet-id': lambda s: [s['SubnetId']],
        'vpc-id': lambda s: [s['VpcId']],
    }
    items = _filter(items, params.get('Filters'), fields)
    page, tok = _page(ctx, items, params, 'subnets', ids_member='SubnetIds')
    out = {'Subnets': [out_all[s['SubnetId']] for s in page]}
    if tok:
        out['NextToken'] = tok
    return out


def modify_subnet_attribute(ctx, params):
    s = _get(ctx, 'subnets', params.get('SubnetId'))
    supported = ('MapPublicIpOnLaunch',)
    others = [k for k in params if k not in ('SubnetId', 'DryRun') + supported
              and params[k] is not None]
    if others:
        raise AwsError('InvalidParameterValue',
                       f'The emulator does not support modifying {others[0]}')
    name, val = _one_attribute(params, supported)
    s[name] = val
    return {}


def delete_subnet(ctx, params):
    r = _gc(ctx)
    s = _get(ctx, 'subnets', params.get('SubnetId'))
    sid = s['SubnetId']
    if any(e['SubnetId'] == sid for e in _live_enis(ctx, r)):
        raise AwsError('DependencyViolation',
                       f"The subnet '{sid}' has dependencies and cannot be deleted.")
    for t in r['rtbs'].values():
        t['Associations'] = [a for a in t['Associations'] if a.get('SubnetId') != sid]
    for e in r['vpces'].values():
        if sid in e['SubnetIds']:
            e['SubnetIds'].remove(sid)
    del r['subnets'][sid]
    return {}


# --------------------------------------------------------------------------
# internet gateways

def _igw_out(g):
    return {'Attachments': [{'State': 'available', 'VpcId': a['VpcId']}
                            for a in g['Attachments']],
            'InternetGatewayId': g['InternetGatewayId'], 'OwnerId': g['OwnerId'],
            'Tags': _tags_out(g['Tags'])}


def create_internet_gateway(ctx, params):
    r = _region(ctx)
    tags = _tag_specs(ctx, params, 'internet-gateway')
    limit = quota(ctx, 'internet_gateways_per_region')
    if limit and len(r['igws']) >= limit:
        raise AwsError('InternetGatewayLimitExceeded',
                       'The maximum number of internet gateways has been reached.')
    gid = _new_id(ctx, 'igw')
    g = {'InternetGatewayId': gid, 'Attachments': [], 'OwnerId': ctx.account,
         'Tags': tags, 'created': ctx.now()}
    r['igws'][gid] = g
    return {'InternetGateway': _igw_out(g)}


def describe_internet_gateways(ctx, params):
    items = _by_ids(ctx, 'igws', params.get('InternetGatewayIds'))
    fields = {
        'attachment.state': lambda g: ['available' for _ in g['Attachments']],
        'attachment.vpc-id': lambda g: [a['VpcId'] for a in g['Attachments']],
        'internet-gateway-id': lambda g: [g['InternetGatewayId']],
        'owner-id': lambda g: [g['OwnerId']],
    }
    items = _filter(items, params.get('Filters'), fields)
    page, tok = _page(ctx, items, params, 'igws', ids_member='InternetGatewayIds')
    out = {'InternetGateways': [_igw_out(g) for g in page]}
    if tok:
        out['NextToken'] = tok
    return out


def attach_internet_gateway(ctx, params):
    r = _region(ctx)
    g = _get(ctx, 'igws', params.get('InternetGatewayId'))
    v = _get(ctx, 'vpcs', params.get('VpcId'))
    if g['Attachments']:
        raise AwsError('Resource.AlreadyAssociated',
                       f"resource {g['InternetGatewayId']} is already attached to "
                       f"network {g['Attachments'][0]['VpcId']}")
    for other in r['igws'].values():
        if any(a['VpcId'] == v['VpcId'] for a in other['Attachments']):
            raise AwsError('Resource.AlreadyAssociated',
                           f"Network {v['VpcId']} already has an internet gateway "
                           f"attached")
    g['Attachments'].append({'VpcId': v['VpcId']})
    return {}


def _mapped_addresses(ctx, r, vid):
    now = ctx.now()
    out = []
    for a in r['addresses'].values():
        nid = a.get('NatGatewayId')
        n = r['nats'].get(nid) if nid else None
        if n is not None and n['VpcId'] == vid and _nat_holds(now, n):
            out.append(a['PublicIp'])
        inst = _addr_instance(ctx, r, a)
        if inst is not None and inst['VpcId'] == vid:
            out.append(a['PublicIp'])
    out += [e['PublicIp'] for e in _task_enis(ctx, r) if e['VpcId'] == vid and e['PublicIp']]
    return out


def detach_internet_gateway(ctx, params):
    r = _gc(ctx)
    g = _get(ctx, 'igws', params.get('InternetGatewayId'))
    v = _get(ctx, 'vpcs', params.get('VpcId'))
    if not any(a['VpcId'] == v['VpcId'] for a in g['Attachments']):
        raise AwsError('Gateway.NotAttached',
                       f"resource {g['InternetGatewayId']} is not attached to network "
                       f"{v['VpcId']}")
    if _mapped_addresses(ctx, r, v['VpcId']):
        raise AwsError('DependencyViolation',
                       f"Network {v['VpcId']} has some mapped public address(es). "
                       f"Please unmap those public address(es) before detaching the "
                       f"gateway.")
    g['Attachments'] = [a for a in g['Attachments'] if a['VpcId'] != v['VpcId']]
    return {}


def delete_internet_gateway(ctx, params):
    r = _region(ctx)
    g = _get(ctx, 'igws', params.get('InternetGatewayId'))
    if g['Attachments']:
        raise AwsError('DependencyViolation',
                       f"The internetGateway '{g['InternetGatewayId']}' has "
                       f"dependencies and cannot be deleted.")
    del r['igws'][g['InternetGatewayId']]
    return {}


# --------------------------------------------------------------------------
# elastic IPs

def _addr_instance(ctx, r, a):
    """The instance address `a` is associated with, or None: EC2 drops the
    association when the instance is terminated."""
    iid = a.get('InstanceId')
    inst = (r.get('instances') or {}).get(iid) if iid else None
    if inst is None:
        return None
    from emu.services import ec2_instances
    if ec2_instances._state(ctx.now(), inst) in ('shutting-down', 'terminated'):
        a['InstanceId'] = a['InstanceAssociationId'] = None
        return None
    return inst


def _addr_out(ctx, r, a):
    out = {'PublicIp': a['PublicIp'], 'AllocationId': a['AllocationId'],
           'Domain': 'vpc', 'PublicIpv4Pool': 'amazon',
           'NetworkBorderGroup': a['NetworkBorderGroup'], 'Tags': _tags_out(a['Tags'])}
    inst = _addr_instance(ctx, r, a)
    if inst is not None:
        out.update({'AssociationId': a['InstanceAssociationId'],
                    'InstanceId': inst['InstanceId'], 'NetworkInterfaceId': inst['EniId'],
                    'NetworkInterfaceOwnerId': ctx.account,
                    'PrivateIpAddress': inst['PrivateIpAddress']})
    nid = a.get('NatGatewayId')
    n = r['nats'].get(nid) if nid else None
    if n is not None and _nat_holds(ctx.now(), n):
        eni = r['enis'].get(n['NetworkInterfaceId'])
        out.update({'AssociationId': n['AssociationId'],
                    'NetworkInterfaceId': n['NetworkInterfaceId'],
                    'NetworkInterfaceOwnerId': ctx.account,
                    'PrivateIpAddress': eni['PrivateIpAddress'] if eni else n['PrivateIp']})
    return out


def allocate_address(ctx, params):
    r = _region(ctx)
    domain = params.get('Domain') or 'vpc'
    if domain != 'vpc':
        raise AwsError('InvalidParameterValue',
                       f'Value ({domain}) for parameter domain is invalid.')
    nbg = params.get('NetworkBorderGroup') or ctx.region
    if nbg != ctx.region:
        raise AwsError('InvalidParameterValue',
                       f'Value ({nbg}) for parameter networkBorderGroup is invalid.')
    if params.get('PublicIpv4Pool') not in (None, 'amazon'):
        raise AwsError('InvalidParameterValue',
                       f"The pool '{params['PublicIpv4Pool']}' does not exist")
    tags = _tag_specs(ctx, params, 'elastic-ip')
    limit = quota(ctx, 'elastic_ips_per_region')
    if limit and len(r['addresses']) >= limit:
        raise AwsError('AddressLimitExceeded',
                       'The maximum number of addresses has been reached.')
    r['seq']['ip'] += 1
    n = r['seq']['ip'] + 10
    ip = f'54.{160 + (n >> 16) % 64}.{(n >> 8) % 256}.{n % 256}'
    aid = _new_id(ctx, 'eipalloc')
    r['addresses'][aid] = {'AllocationId': aid, 'PublicIp': ip, 'Tags': tags,
                           'NetworkBorderGroup': nbg, 'NatGatewayId': None,
                           'created': ctx.now()}
    return {'PublicIp': ip, 'AllocationId': aid, 'PublicIpv4Pool': 'amazon',
            'NetworkBorderGroup': nbg, 'Domain': 'vpc'}


def describe_addresses(ctx, params):
    r = _gc(ctx)
    items = _by_ids(ctx, 'addresses', params.get('AllocationIds'))
    ips = params.get('PublicIps') or []
    if ips:
        known = {a['PublicIp'] for a in items}
        for ip in ips:
            if ip not in known:
                raise AwsError('InvalidAddress.NotFound',
                               f"Address '{ip}' not found.")
        items = [a for a in items if a['PublicIp'] in ips]
    outs = {a['AllocationId']: _addr_out(ctx, r, a) for a in items}
    fields = {
        'allocation-id': lambda a: [a['AllocationId']],
        'association-id': lambda a: [outs[a['AllocationId']].get('AssociationId')],
        'domain': lambda a: ['vpc'],
        'instance-id': lambda a: [outs[a['AllocationId']].get('InstanceId')],
        'network-border-group': lambda a: [a['NetworkBorderGroup']],
        'network-interface-id':
            lambda a: [outs[a['AllocationId']].get('NetworkInterfaceId')],
        'network-interface-owner-id':
            lambda a: [outs[a['AllocationId']].get('NetworkInterfaceOwnerId')],
        'private-ip-address':
            lambda a: [outs[a['AllocationId']].get('PrivateIpAddress')],
        'public-ip': lambda a: [a['PublicIp']],
    }
    items = _filter(items, params.get('Filters'), fields)
    return {'Addresses': [outs[a['AllocationId']] for a in items]}


def release_address(ctx, params):
    r = _gc(ctx)
    aid = params.get('AllocationId')
    if not aid:
        if params.get('PublicIp'):
            raise AwsError('InvalidParameterValue',
                           'You must specify an allocation id when releasing a VPC '
                           'elastic IP address')
        raise AwsError('MissingParameter',
                       'The request must contain the parameter AllocationId')
    a = _get(ctx, 'addresses', aid)
    if _addr_instance(ctx, r, a) is not None:
        # EC2 User Guide: disassociate a VPC address before releasing it
        raise AwsError('InvalidIPAddress.InUse', f"Address {a['PublicIp']} is in use.")
    nid = a.get('NatGatewayId')
    n = r['nats'].get(nid) if nid else None
    if n is not None and _nat_holds(ctx.now(), n):
        if _nat_state(ctx.now(), n) == 'deleting':
            raise AwsError('AuthFailure',
                           'You do not have permission to access the specified resource.')
        raise AwsError('InvalidIPAddress.InUse',
                       f"Address {a['PublicIp']} is in use.")
    del r['addresses'][aid]
    return {}


def associate_address(ctx, params):
    """An address to an instance (by InstanceId, or its primary
    NetworkInterfaceId). AWS refuses it while the instance's VPC has no
    internet gateway attached (Gateway.NotAttached: CloudFormation's docs
    ask for a DependsOn on the VPCGatewayAttachment), a pending instance
    (IncorrectInstanceState), and an address already associated unless
    AllowReassociation (Resource.AlreadyAssociated)."""
    r = _gc(ctx)
    aid = params.get('AllocationId')
    if not aid:
        raise AwsError('MissingParameter',
                       'The request must contain the parameter AllocationId')
    a = _get(ctx, 'addresses', aid)
    iid = params.get('InstanceId')
    if not iid and params.get('NetworkInterfaceId'):
        iid = next((i['InstanceId'] for i in (r.get('instances') or {}).values()
                    if i.get('EniId') == params['NetworkInterfaceId']), None)
        if iid is None:
            raise AwsError('InvalidNetworkInterfaceID.NotFound',
                           f"The networkInterface ID '{params['NetworkInterfaceId']}' "
                           f"does not exist")
    if not iid:
        raise AwsError('MissingParameter', 'Either instance ID or network interface ID '
                                           'must be specified')
    from emu.services import ec2_instances
    inst = ec2_instances._get(ctx, iid)
    st = ec2_instances._state(ctx.now(), inst)
    if st not in ('running', 'stopped', 'stopping'):
        raise AwsError('IncorrectInstanceState',
                       f"The instance '{iid}' is not in a valid state for this operation.")
    if not any(att['VpcId'] == inst['VpcId'] for g in r['igws'].values()
               for att in g['Attachments']):
        raise AwsError('Gateway.NotAttached',
                       f"Network {inst['VpcId']} is not attached to any internet gateway")
    held = _addr_instance(ctx, r, a)
    if (held is not None or a.get('NatGatewayId')) and \
            not params.get('AllowReassociation') and \
            (held is None or held['InstanceId'] != iid):
        raise AwsError('Resource.AlreadyAssociated',
                       f"resource {aid} is already associated with associate-id "
                       f"{a.get('InstanceAssociationId')}")
    for other in r['addresses'].values():
        if other is not a and other.get('InstanceId') == iid:
            # an instance's primary address holds one EIP: the old one goes
            other['InstanceId'] = other['InstanceAssociationId'] = None
    if held is None or held['InstanceId'] != iid:
        a['InstanceId'] = iid
        a['InstanceAssociationId'] = _new_id(ctx, 'eipassoc')
    return {'AssociationId': a['InstanceAssociationId']}


def disassociate_address(ctx, params):
    r = _gc(ctx)
    assoc = params.get('AssociationId')
    if not assoc:
        raise AwsError('MissingParameter',
                       'The request must contain the parameter AssociationId')
    for a in r['addresses'].values():
        if a.get('InstanceAssociationId') == assoc and _addr_instance(ctx, r, a):
            a['InstanceId'] = a['InstanceAssociationId'] = None
            return {}
    raise AwsError('InvalidAssociationID.NotFound',
                   f"The association ID '{assoc}' does not exist")


# --------------------------------------------------------------------------
# NAT gateways

def _nat_out(ctx, r, n):
    now = ctx.now()
    st = _nat_state(now, n)
    out = {'CreateTime': n['CreateTime'], 'NatGatewayId': n['NatGatewayId'],
           'State': st, 'SubnetId': n['SubnetId'], 'VpcId': n['VpcId'],
           'Tags': _tags_out(n['Tags']), 'ConnectivityType': n['ConnectivityType'],
           'NatGatewayAddresses': []}
    if st == 'failed':
        out['FailureCode'] = n['failure'][0]
        out['FailureMessage'] = n['failure'][1]
        out['DeleteTime'] = n['ready_at']
    else:
        addr = {'NetworkInterfaceId': n['NetworkInterfaceId'],
                'PrivateIp': n['PrivateIp']}
        a = r['addresses'].get(n.get('AllocationId') or '')
        if n.get('AllocationId'):
            addr['AllocationId'] = n['AllocationId']
            if a is not None:
                addr['PublicIp'] = a['PublicIp']
        out['NatGatewayAddresses'].append(addr)
    if st in ('deleting', 'deleted'):
        out['DeleteTime'] = n['delete_at']
    return out


def create_nat_gateway(ctx, params):
    r = _gc(ctx)
    token = params.get('ClientToken')
    if token:
        for n in r['nats'].values():
            if n.get('ClientToken') == token:
                if n['SubnetId'] != params.get('SubnetId') or \
                        n.get('AllocationId') != params.get('AllocationId'):
                    raise AwsError('IdempotentParameterMismatch',
                                   'The client token you have provided is associated '
                                   'with a resource with different parameters')
                return {'ClientToken': token, 'NatGateway': _nat_out(ctx, r, n)}
    s = _get(ctx, 'subnets', params.get('SubnetId'))
    ctype = params.get('ConnectivityType') or 'public'
    aid = params.get('AllocationId')
    a = None
    if ctype == 'public':
        if not aid:
            raise AwsError('MissingParameter',
                           'The request must contain the parameter AllocationId')
        a = _get(ctx, 'addresses', aid)
    elif aid:
        raise AwsError('InvalidParameterCombination',
                       'A private NAT gateway cannot have an allocation id')
    tags = _tag_specs(ctx, params, 'natgateway')
    limit = quota(ctx, 'nat_gateways_per_az')
    if limit and sum(1 for n in r['nats'].values()
                     if _nat_holds(ctx.now(), n) and
                     r['subnets'].get(n['SubnetId'], {}).get('AvailabilityZone') ==
                     s['AvailabilityZone']) >= limit:
        raise AwsError('NatGatewayLimitExceeded',
                       f"The maximum number of NAT gateways ({limit}) in "
                       f"{s['AvailabilityZone']} has been reached.")
    nid = _new_id(ctx, 'nat')
    now = ctx.now()
    failure = None
    # Failures come asynchronously, as AWS reports them: the gateway is created,
    # then DescribeNatGateways shows state failed with FailureCode/Message
    # (VPC User Guide, "Troubleshoot NAT gateways": Gateway.NotAttached,
    # Resource.AlreadyAssociated, InsufficientFreeAddressesInSubnet).
    if ctype == 'public' and not any(
            at['VpcId'] == s['VpcId'] for g in r['igws'].values() for at in g['Attachments']):
        failure = ['Gateway.NotAttached',
                   f"Network {s['VpcId']} has no Internet gateway attached"]
    if a is not None and failure is None:
        held = r['nats'].get(a.get('NatGatewayId') or '')
        if held is not None and _nat_holds(ctx.now(), held):
            failure = ['Resource.AlreadyAssociated',
                       f'Elastic IP address [{aid}] is already associated']
    n = {'NatGatewayId': nid, 'SubnetId': s['SubnetId'], 'VpcId': s['VpcId'],
         'AllocationId': aid, 'ConnectivityType': ctype, 'ClientToken': token,
         'Tags': tags, 'CreateTime': now, 'ready_at': now + _dur(ctx, 'nat_gateway_create'),
         'delete_at': None, 'gone_at': None, 'failure': failure,
         'visible_for': _dur(ctx, 'deleted_visible'),
         'AssociationId': _new_id(ctx, 'eipassoc') if a else None}
    r['nats'][nid] = n
    if failure is None:
        try:
            eni = _new_eni(ctx, r, s, ('nat', nid), 'natGateway',
                           f'Interface for NAT Gateway {nid}', [])
        except AwsError as e:
            if e.code != 'InsufficientFreeAddressesInSubnet':
                raise
            failure = n['failure'] = [e.code, e.message]
    if failure is None:
        n['NetworkInterfaceId'] = eni['NetworkInterfaceId']
        n['PrivateIp'] = params.get('PrivateIpAddress') or eni['PrivateIpAddress']
        eni['PrivateIpAddress'] = n['PrivateIp']
        if a is not None:
            a['NatGatewayId'] = nid
    else:
        n['NetworkInterfaceId'] = None
        n['PrivateIp'] = None
    out = {'NatGateway': _nat_out(ctx, r, n)}
    if token:
        out['ClientToken'] = token
    return out


def describe_nat_gateways(ctx, params):
    r = _gc(ctx)
    items = _by_ids(ctx, 'nats', params.get('NatGatewayIds'), visible=_nat_visible)
    outs = {n['NatGatewayId']: _nat_out(ctx, r, n) for n in items}
    fields = {
        'nat-gateway-id': lambda n: [n['NatGatewayId']],
        'state': lambda n: [outs[n['NatGatewayId']]['State']],
        'subnet-id': lambda n: [n['SubnetId']], 'vpc-id': lambda n: [n['VpcId']],
    }
    items = _filter(items, params.get('Filter'), fields)
    page, tok = _page(ctx, items, params, 'nats', ids_member='NatGatewayIds')
    out = {'NatGateways': [outs[n['NatGatewayId']] for n in page]}
    if tok:
        out['NextToken'] = tok
    return out


def delete_nat_gateway(ctx, params):
    r = _gc(ctx)
    nid = params.get('NatGatewayId')
    _check_id(nid, 'nat', 'InvalidNatGatewayID')
    n = r['nats'].get(nid)
    if n is None or not _nat_visible(ctx, n):
        raise AwsError('NatGatewayNotFound', f'The Nat Gateway {nid} was not found')
    st = _nat_state(ctx.now(), n)
    # deleting a failed, deleting or deleted gateway changes nothing and succeeds
    if st in ('pending', 'available'):
        now = ctx.now()
        n['delete_at'] = now
        n['gone_at'] = now + _dur(ctx, 'nat_gateway_delete')
        n['visible_for'] = _dur(ctx, 'deleted_visible')
    return {'NatGatewayId': nid}


# --------------------------------------------------------------------------
# route tables, routes, associations

def _new_rtb(ctx, r, vid, tags):
    tid = _new_id(ctx, 'rtb')
    v = r['vpcs'][vid]
    t = {'RouteTableId': tid, 'VpcId': vid, 'OwnerId': ctx.account, 'Tags': tags,
         'Main': False, 'Associations': [], 'created': ctx.now(),
         'Routes': [{'DestinationCidrBlock': v['CidrBlock'], 'GatewayId': 'local',
                     'Origin': 'CreateRouteTable'}]}
    r['rtbs'][tid] = t
    return t


TARGETS = ('GatewayId', 'NatGatewayId', 'VpcEndpointId', 'InstanceId',
           'NetworkInterfaceId', 'EgressOnlyInternetGatewayId', 'TransitGatewayId',
           'VpcPeeringConnectionId', 'LocalGatewayId', 'CarrierGatewayId',
           'CoreNetworkArn')


def _route_state(ctx, r, t, rt):
    if rt.get('GatewayId') == 'local':
        return 'active'
    if rt.get('NatGatewayId'):
        n = r['nats'].get(rt['NatGatewayId'])
        if n is None or _nat_state(ctx.now(), n) in ('deleted', 'deleting', 'failed'):
            return 'blackhole'
        return 'active'
    gid = rt.get('GatewayId') or ''
    if gid.startswith('igw-'):
        g = r['igws'].get(gid)
        if g is None or not any(a['VpcId'] == t['VpcId'] for a in g['Attachments']):
            return 'blackhole'
    if gid.startswith('vpce-'):
        e = r['vpces'].get(gid)
        if e is None or _vpce_state(ctx.now(), e) in ('deleted', 'deleting'):
            return 'blackhole'
    return 'active'


def _rtb_out(ctx, r, t):
    routes = []
    for rt in t['Routes']:
        o = {k: v for k, v in rt.items() if v is not None}
        o['State'] = _route_state(ctx, r, t, rt)
        routes.append(o)
    return {'Associations': [dict(a) for a in t['Associations']],
            'PropagatingVgws': [], 'RouteTableId': t['RouteTableId'],
            'Routes': routes, 'Tags': _tags_out(t['Tags']), 'VpcId': t['VpcId'],
            'OwnerId': t['OwnerId']}


def create_route_table(ctx, params):
    r = _region(ctx)
    v = _get(ctx, 'vpcs', params.get('VpcId'))
    tags = _tag_specs(ctx, params, 'route-table')
    t = _new_rtb(ctx, r, v['VpcId'], tags)
    return {'RouteTable': _rtb_out(ctx, r, t)}


def describe_route_tables(ctx, params):
    r = _gc(ctx)
    items = _by_ids(ctx, 'rtbs', params.get('RouteTableIds'))
    outs = {t['RouteTableId']: _rtb_out(ctx, r, t) for t in items}

    def rf(key):
        return lambda t: [x.get(key) for x in outs[t['RouteTableId']]['Routes']]

    fields = {
        'association.route-table-association-id':
            lambda t: [a['RouteTableAssociationId'] for a in t['Associations']],
        'association.route-table-id': lambda t: [a['RouteTableId'] for a in t['Associations']],
        'association.subnet-id': lambda t: [a.get('SubnetId') for a in t['Associations']],
        'association.gateway-id': lambda t: [a.get('GatewayId') for a in t['Associations']],
        'association.main': lambda t: [_bool_str(a['Main']) for a in t['Associations']]
                                      or ['false'],
        'owner-id': lambda t: [t['OwnerId']],
        'route-table-id': lambda t: [t['RouteTableId']],
        'route.destination-cidr-block': rf('DestinationCidrBlock'),
        'route.destination-prefix-list-id': rf('DestinationPrefixListId'),
        'route.gateway-id': rf('GatewayId'), 'route.nat-gateway-id': rf('NatGatewayId'),
        'route.instance-id': rf('InstanceId'), 'route.origin': rf('Origin'),
        'route.state': rf('State'), 'route.transit-gateway-id': rf('TransitGatewayId'),
        'route.vpc-peering-connection-id': rf('VpcPeeringConnectionId'),
        'route.egress-only-internet-gateway-id': rf('EgressOnlyInternetGatewayId'),
        'vpc-id': lambda t: [t['VpcId']],
    }
    items = _filter(items, params.get('Filters'), fields)
    page, tok = _page(ctx, items, params, 'rtbs', hi=100, ids_member='RouteTableIds')
    out = {'RouteTables': [outs[t['RouteTableId']] for t in page]}
    if tok:
        out['NextToken'] = tok
    return out


def delete_route_table(ctx, params):
    r = _region(ctx)
    t = _get(ctx, 'rtbs', params.get('RouteTableId'))
    if t['Associations'] or t.get('Main'):
        raise AwsError('DependencyViolation',
                       f"The routeTable '{t['RouteTableId']}' has dependencies and "
                       f"cannot be deleted.")
    del r['rtbs'][t['RouteTableId']]
    return {}


def _route_target(ctx, r, t, params):
    given = [k for k in TARGETS if params.get(k)]
    if not given:
        raise AwsError('MissingParameter',
                       'The request must contain exactly one of gatewayId, natGatewayId, '
                       'vpcEndpointId, instanceId, networkInterfaceId, ...')
    if len(given) > 1:
        raise AwsError('InvalidParameterCombination',
                       'The parameter ' + ' cannot be used with the parameter '.join(given[:2]))
    key = given[0]
    val = params[key]
    if key == 'GatewayId':
        if val.startswith('vpce-'):
            key = 'VpcEndpointId'
        else:
            g = _get(ctx, 'igws', val)
            if not any(a['VpcId'] == t['VpcId'] for a in g['Attachments']):
                raise AwsError('InvalidParameterValue',
                               f"route table {t['RouteTableId']} and network gateway "
                               f"{val} belong to different networks")
    if key == 'NatGatewayId':
        _check_id(val, 'nat', 'InvalidNatGatewayID')
        n = r['nats'].get(val)
        if n is None or _too_new(ctx, n) or _nat_state(ctx.now(), n) in ('deleted', 'failed'):
            raise AwsError('InvalidNatGatewayID.NotFound',
                           f"The natGateway ID '{val}' does not exist")
        if n['VpcId'] != t['VpcId']:
            raise AwsError('InvalidParameterValue',
                           f"route table {t['RouteTableId']} and NAT gateway {val} "
                           f"belong to different networks")
    if key == 'VpcEndpointId':
        e = _get(ctx, 'vpces', val)
        if e['VpcEndpointType'] != 'GatewayLoadBalancer':
            raise AwsError('InvalidParameterValue',
                           f'Route target {val} must be a Gateway Load Balancer endpoint')
    if key in ('InstanceId', 'NetworkInterfaceId', 'EgressOnlyInternetGatewayId',
               'TransitGatewayId', 'VpcPeeringConnectionId', 'LocalGatewayId',
               'CarrierGatewayId', 'CoreNetworkArn'):
        if key == 'NetworkInterfaceId':
            _get(ctx, 'enis', val)
        else:
            raise AwsError('InvalidParameterValue',
                           f'The emulator does not support route targets of type {key}')
    return key, val


def _route_dest(params):
    if params.get('DestinationIpv6CidrBlock') or params.get('DestinationPrefixListId'):
        raise AwsError('InvalidParameterValue',
                       'The emulator supports only IPv4 destination CIDR blocks')
    d = params.get('DestinationCidrBlock')
    if not d:
        raise AwsError('MissingParameter',
                       'The request must contain the parameter destinationCidrBlock')
    return str(_cidr(d, 'destinationCidrBlock'))


def _check_more_specific(r, t, dest, key, val):
    """A destination equal to or inside the VPC's CIDR may only target an
    interface, a NAT gateway or a Gateway Load Balancer endpoint (VPC User Guide,
    "Routing for a middlebox appliance"; EC2 answers InvalidParameterValue)."""
    if key != 'GatewayId' or not str(val).startswith('igw-') or not dest:
        return
    v = r['vpcs'].get(t['VpcId'])
    try:
        inside = ipaddress.ip_network(dest).subnet_of(ipaddress.ip_network(v['CidrBlock']))
    except (ValueError, TypeError, KeyError):
        return
    if inside:
        raise AwsError('InvalidParameterValue',
                       f"The destination CIDR block {dest} is equal to or more specific than "
                       f"one of this VPC's CIDR blocks. This route can target only an "
                       f"interface or an instance.")


def create_route(ctx, params):
    r = _gc(ctx)
    t = _get(ctx, 'rtbs', params.get('RouteTableId'))
    dest = _route_dest(params)
    key, val = _route_target(ctx, r, t, params)
    _check_more_specific(r, t, dest, key, val)
    for rt in t['Routes']:
        if rt.get('DestinationCidrBlock') == dest:
            raise AwsError('RouteAlreadyExists',
                           f"The route identified by {dest} already exists.")
    t['Routes'].append({'DestinationCidrBlock': dest, key: val, 'Origin': 'CreateRoute'})
    return {'Return': True}


def _find_route(t, dest):
    for rt in t['Routes']:
        if rt.get('DestinationCidrBlock') == dest:
            return rt
    raise AwsError('InvalidRoute.NotFound',
                   f"no route with destination-cidr-block {dest} in route table "
                   f"{t['RouteTableId']}")


def replace_route(ctx, params):
    r = _gc(ctx)
    t = _get(ctx, 'rtbs', params.get('RouteTableId'))
    dest = _route_dest(params)
    rt = _find_route(t, dest)
    key, val = _route_target(ctx, r, t, params)
    if rt.get('GatewayId') == 'local' and not (key == 'GatewayId' and val == 'local'):
        raise AwsError('InvalidParameterValue',
                       f"cannot replace local route {dest} in route table "
                       f"{t['RouteTableId']}")
    for k in TARGETS:
        rt.pop(k, None)
    rt[key] = val
    rt['Origin'] = 'CreateRoute'
    return {}


def delete_route(ctx, params):
    t = _get(ctx, 'rtbs', params.get('RouteTableId'))
    dest = _route_dest(params)
    rt = _find_route(t, dest)
    if rt.get('GatewayId') == 'local':
        raise AwsError('InvalidParameterValue',
                       f"cannot remove local route {dest} in route table "
                       f"{t['RouteTableId']}")
    t['Routes'].remove(rt)
    return {}


def associate_route_table(ctx, params):
    r = _region(ctx)
    t = _get(ctx, 'rtbs', params.get('RouteTableId'))
    if params.get('GatewayId'):
        raise AwsError('InvalidParameterValue',
                       'The emulator supports only subnet associations')
    if not params.get('SubnetId'):
        raise AwsError('MissingParameter',
                       'The request must contain the parameter subnetId or gatewayId')
    s = _get(ctx, 'subnets', params['SubnetId'])
    if s['VpcId'] != t['VpcId']:
        raise AwsError('InvalidParameterValue',
                       f"route table {t['RouteTableId']} and subnet {s['SubnetId']} "
                       f"belong to different networks")
    for other in r['rtbs'].values():
        for a in other['Associations']:
            if a.get('SubnetId') == s['SubnetId']:
                raise AwsError('Resource.AlreadyAssociated',
                               f"the specified association for route table "
                               f"{t['RouteTableId']} conflicts with an existing "
                               f"association")
    aid = _new_id(ctx, 'rtbassoc')
    t['Associations'].append({'Main': False, 'RouteTableAssociationId': aid,
                              'RouteTableId': t['RouteTableId'],
                              'SubnetId': s['SubnetId'],
                              'AssociationState': {'State': 'associated'}})
    return {'AssociationId': aid, 'AssociationState': {'State': 'associated'}}


def _find_assoc(ctx, r, aid):
    if not isinstance(aid, str) or not aid.startswith('rtbassoc-'):
        raise AwsError('InvalidAssociationID.Malformed', f'Invalid id: "{aid}"')
    for t in r['rtbs'].values():
        for a in t['Associations']:
            if a['RouteTableAssociationId'] == aid:
                return t, a
    raise AwsError('InvalidAssociationID.NotFound',
                   f"The association ID '{aid}' does not exist")


def disassociate_route_table(ctx, params):
    r = _region(ctx)
    t, a = _find_assoc(ctx, r, params.get('AssociationId'))
    if a['Main']:
        raise AwsError('InvalidParameterValue',
                       f"cannot disassociate the main route table association "
                       f"{a['RouteTableAssociationId']}")
    t['Associations'].remove(a)
    return {}


def replace_route_table_association(ctx, params):
    r = _region(ctx)
    t, a = _find_assoc(ctx, r, params.get('AssociationId'))
    nt = _get(ctx, 'rtbs', params.get('RouteTableId'))
    if nt['VpcId'] != t['VpcId']:
        raise AwsError('InvalidParameterValue',
                       f"route table {nt['RouteTableId']} and association "
                       f"{a['RouteTableAssociationId']} belong to different networks")
    t['Associations'].remove(a)
    na = dict(a)
    na['RouteTableAssociationId'] = _new_id(ctx, 'rtbassoc')
    na['RouteTableId'] = nt['RouteTableId']
    nt['Associations'].append(na)
    if a['Main']:
        t['Main'] = False
        nt['Main'] = True
        r['vpcs'][t['VpcId']]['MainRouteTableId'] = nt['RouteTableId']
    return {'NewAssociationId': na['RouteTableAssociationId'],
            'AssociationState': {'State': 'associated'}}


# --------------------------------------------------------------------------
# security groups and rules

PROTO_NAMES = {'6': 'tcp', '17': 'udp', '1': 'icmp', 'all': '-1', '58': 'icmpv6'}


def _new_sg(ctx, r, name, desc, vid, tags, default=False):
    gid = _new_id(ctx, 'sg')
    g = {'GroupId': gid, 'GroupName': name, 'Description': desc, 'VpcId': vid,
         'OwnerId': ctx.account, 'Tags': tags, 'default': default, 'created': ctx.now()}
    r['sgs'][gid] = g
    return g


def _norm_rule(ctx, r, g, egress, spec):
    """A rule spec {IpProtocol, FromPort, ToPort, CidrIpv4 | CidrIpv6 |
    ReferencedGroupId | PrefixListId, Description} checked and normalised."""
    proto = str(spec.get('IpProtocol') if spec.get('IpProtocol') is not None else '')
    proto = PROTO_NAMES.get(proto.lower(), proto.lower())
    if proto == '':
        raise AwsError('MissingParameter', 'The request must contain the parameter ipProtocol')
    if proto not in ('tcp', 'udp', 'icmp', 'icmpv6', '-1') and not (
            proto.isdigit() and 0 <= int(proto) <= 255):
        raise AwsError('InvalidParameterValue',
                       f"Invalid value '{spec.get('IpProtocol')}' for IP protocol. "
                       f"Unknown protocol.")
    fp, tp = spec.get('FromPort'), spec.get('ToPort')
    if proto in ('tcp', 'udp'):
        if fp is None or tp is None:
            raise AwsError('InvalidParameterValue',
                           "Invalid value 'Must specify both from and to ports with "
                           "TCP/UDP.' for portRange")
        if not (0 <= fp <= 65535 and 0 <= tp <= 65535) or fp > tp:
            raise AwsError('InvalidParameterValue',
                           f'Invalid port range ({fp}, {tp})')
    elif proto in ('icmp', 'icmpv6'):
        fp = -1 if fp is None else fp
        tp = -1 if tp is None else tp
        # FromPort is the ICMP type, ToPort the code: -1 (all) or 0..255
        # (EC2 API Reference, IpPermission)
        if not (-1 <= fp <= 255 and -1 <= tp <= 255):
            raise AwsError('InvalidParameterValue',
                           f'Invalid value for portRange. Must specify a valid ICMP type '
                           f'(-1 or 0-255) and code (-1 or 0-255): ({fp}, {tp})')
    else:
        fp, tp = -1, -1
    out = {'IpProtocol': proto, 'FromPort': fp, 'ToPort': tp}
    srcs = [k for k in ('CidrIpv4', 'CidrIpv6', 'ReferencedGroupId', 'PrefixListId')
            if spec.get(k)]
    if len(srcs) != 1:
        raise AwsError('InvalidParameterCombination' if srcs else 'MissingParameter',
                       'A rule must name exactly one of a CIDR, a group or a prefix list')
    k = srcs[0]
    v = spec[k]
    if k == 'CidrIpv4':
        try:
            v = str(ipaddress.ip_network(v, strict=False))
            if ':' in v:
                raise ValueError
        except ValueError:
            raise AwsError('InvalidParameterValue',
                           f"CIDR block {spec[k]} is malformed")
    elif k == 'CidrIpv6':
        try:
            v = str(ipaddress.IPv6Network(v, strict=False))
        except ValueError:
            raise AwsError('InvalidParameterValue', f"CIDR block {spec[k]} is malformed")
    elif k == 'ReferencedGroupId':
        ref = g if v == g['GroupId'] else _get(ctx, 'sgs', v)
        if ref['VpcId'] != g['VpcId']:
            raise AwsError('InvalidGroup.NotFound',
                           "You have specified two resources that belong to different "
                           "networks.")
    out[k] = v
    if spec.get('Description') is not None:
        d = spec['Description']
        if len(d) > 255 or not SG_TEXT_RE.match(d):
            raise AwsError('InvalidParameterValue',
                           f"Invalid rule description. Valid descriptions are strings less "
                           f"than 256 characters from the following set:  "
                           f"a-zA-Z0-9. _-:/()#,@[]+=&;{{}}!$*")
        out['Description'] = spec['Description']
    return out


def _rule_key(x):
    return (x['IpProtocol'], x['FromPort'], x['ToPort'], x.get('CidrIpv4'),
            x.get('CidrIpv6'), x.get('ReferencedGroupId'), x.get('PrefixListId'))


def _dup_message(x, egress):
    peer = (x.get('CidrIpv4') or x.get('CidrIpv6') or x.get('ReferencedGroupId')
            or x.get('PrefixListId'))
    proto = 'ALL' if x['IpProtocol'] == '-1' else x['IpProtocol'].upper()
    return (f'the specified rule "peer: {peer}, {proto}, from port: {x["FromPort"]}, '
            f'to port: {x["ToPort"]}, ALLOW" already exists')


def _rules_of(r, gid, egress=None, index=None):
    if index is not None:
        return index.get((gid, egress), [])
    return [x for x in r['sgrules'].values()
            if x['GroupId'] == gid and (egress is None or x['IsEgress'] == egress)]


def _rules_index(r):
    """{(group id, is egress): [rules]} for one request (Describe* speed)."""
    index = {}
    for x in r['sgrules'].values():
        index.setdefault((x['GroupId'], x['IsEgress']), []).append(x)
    return index


def _add_rule(ctx, r, g, egress, spec, tags=None):
    x = _norm_rule(ctx, r, g, egress, spec)
    limit = quota(ctx, 'rules_per_security_group')
    if limit and len(_rules_of(r, g['GroupId'], egress)) >= limit:
        raise AwsError('RulesPerSecurityGroupLimitExceeded',
                       'The maximum number of rules per security group has been reached.')
    rid = _new_id(ctx, 'sgr')
    x.update({'SecurityGroupRuleId': rid, 'GroupId': g['GroupId'], 'IsEgress': egress,
              'GroupOwnerId': ctx.account, 'Tags': tags or []})
    r['sgrules'][rid] = x
    return x


def _perm_specs(perms):
    """IpPermissions -> list of single-source rule specs."""
    specs = []
    for p in perms or []:
        base = {'IpProtocol': p.get('IpProtocol'), 'FromPort': p.get('FromPort'),
                'ToPort': p.get('ToPort')}
        n0 = len(specs)
        for ip in p.get('IpRanges') or []:
            specs.append(dict(base, CidrIpv4=ip.get('CidrIp'), Description=ip.get('Description')))
        for ip in p.get('Ipv6Ranges') or []:
            specs.append(dict(base, CidrIpv6=ip.get('CidrIpv6'),
                              Description=ip.get('Description')))
        for pl in p.get('PrefixListIds') or []:
            specs.append(dict(base, PrefixListId=pl.get('PrefixListId'),
                              Description=pl.get('Description')))
        for pair in p.get('UserIdGroupPairs') or []:
            if not pair.get('GroupId'):
                raise AwsError('InvalidParameterValue',
                               'The emulator requires GroupId in UserIdGroupPairs')
            specs.append(dict(base, ReferencedGroupId=pair['GroupId'],
                              Description=pair.get('Description')))
        if len(specs) == n0:
            raise AwsError('InvalidParameterValue',
                           'An IpPermission must name at least one source or destination')
    return specs


def _legacy_spec(params):
    if params.get('CidrIp') or params.get('IpProtocol'):
        return [{'IpProtocol': params.get('IpProtocol'), 'FromPort': params.get('FromPort'),
                 'ToPort': params.get('ToPort'), 'CidrIpv4': params.get('CidrIp')}]
    if params.get('SourceSecurityGroupName'):
        raise AwsError('InvalidParameterValue',
                       'The emulator does not support SourceSecurityGroupName')
    return []


def _group_for(ctx, r, params):
    if params.get('GroupId'):
        return _get(ctx, 'sgs', params['GroupId'])
    name = params.get('GroupName')
    if not name:
        raise AwsError('MissingParameter', 'The request must contain the parameter groupId')
    raise AwsError('VPCIdNotSpecified',
                   f"No default VPC for this user (group name '{name}'); use GroupId")


def _authorize(ctx, params, egress):
    r = _region(ctx)
    g = _group_for(ctx, r, params)
    specs = _perm_specs(params.get('IpPermissions')) + _legacy_spec(params)
    if not specs:
        raise AwsError('MissingParameter', 'The request must contain the parameter ipPermissions')
    tags = _tag_specs(ctx, params, 'security-group-rule')
    existing = {_rule_key(x) for x in _rules_of(r, g['GroupId'], egress)}
    normed = [_norm_rule(ctx, r, g, egress, s) for s in specs]
    seen = set()
    for x in normed:
        k = _rule_key(x)
        if k in existing or k in seen:
            raise AwsError('InvalidPermission.Duplicate', _dup_message(x, egress))
        seen.add(k)
    made = [_add_rule(ctx, r, g, egress, s, tags) for s in normed]
    return {'Return': True, 'SecurityGroupRules': [_rule_out(x) for x in made]}


def _revoke(ctx, params, egress):
    r = _region(ctx)
    g = _group_for(ctx, r, params)
    ids = params.get('SecurityGroupRuleIds') or []
    specs = _perm_specs(params.get('IpPermissions')) + _legacy_spec(params)
    if ids and specs:
        raise AwsError('InvalidParameterCombination',
                       'The parameter SecurityGroupRuleIds cannot be used with IpPermissions')
    doomed = []
    if ids:
        for rid in ids:
            x = r['sgrules'].get(rid)
            if x is None or x['GroupId'] != g['GroupId'] or x['IsEgress'] != egress:
                raise AwsError('InvalidSecurityGroupRuleId.NotFound',
                               f"The security group rule ID '{rid}' does not exist")
            doomed.append(x)
    else:
        if not specs:
            raise AwsError('MissingParameter',
                           'The request must contain the parameter ipPermissions')
        have = {_rule_key(x): x for x in _rules_of(r, g['GroupId'], egress)}
        for s in specs:
            k = _rule_key(_norm_rule(ctx, r, g, egress, s))
            if k not in have:
                raise AwsError('InvalidPermission.NotFound',
                               'The specified rule does not exist in this security group.')
            doomed.append(have[k])
    for x in doomed:
        r['sgrules'].pop(x['SecurityGroupRuleId'], None)
    return {'Return': True}


def authorize_security_group_ingress(ctx, params):
    return _authorize(ctx, params, False)


def authorize_security_group_egress(ctx, params):
    return _authorize(ctx, params, True)


def revoke_security_group_ingress(ctx, params):
    return _revoke(ctx, params, False)


def revoke_security_group_egress(ctx, params):
    return _revoke(ctx, params, True)


def _rule_out(x):
    o = {'SecurityGroupRuleId': x['SecurityGroupRuleId'], 'GroupId': x['GroupId'],
         'GroupOwnerId': x['GroupOwnerId'], 'IsEgress': x['IsEgress'],
         'IpProtocol': x['IpProtocol'], 'FromPort': x['FromPort'], 'ToPort': x['ToPort'],
         'Tags': _tags_out(x['Tags'])}
    for k in ('CidrIpv4', 'CidrIpv6', 'PrefixListId', 'Description'):
        if x.get(k) is not None:
            o[k] = x[k]
    if x.get('ReferencedGroupId'):
        o['ReferencedGroupInfo'] = {'GroupId': x['ReferencedGroupId'],
                                    'UserId': x['GroupOwnerId']}
    return o


def _perms_out(r, rules):
    perms = []
    index = {}
    for x in rules:
        k = (x['IpProtocol'], x['FromPort'], x['ToPort'])
        p = index.get(k)
        if p is None:
            p = {'IpProtocol': x['IpProtocol'], 'IpRanges': [], 'Ipv6Ranges': [],
                 'PrefixListIds': [], 'UserIdGroupPairs': []}
            if x['IpProtocol'] != '-1':
                p['FromPort'] = x['FromPort']
                p['ToPort'] = x['ToPort']
            index[k] = p
            perms.append(p)
        d = {'Description': x['Description']} if x.get('Description') is not None else {}
        if x.get('CidrIpv4'):
            p['IpRanges'].append(dict(CidrIp=x['CidrIpv4'], **d))
        elif x.get('CidrIpv6'):
            p['Ipv6Ranges'].append(dict(CidrIpv6=x['CidrIpv6'], **d))
        elif x.get('PrefixListId'):
            p['PrefixListIds'].append(dict(PrefixListId=x['PrefixListId'], **d))
        else:
            p['UserIdGroupPairs'].append(dict(GroupId=x['ReferencedGroupId'],
                                              UserId=x['GroupOwnerId'], **d))
    return perms


def _sg_out(r, g, index=None):
    return {'Description': g['Description'], 'GroupName': g['GroupName'],
            'IpPermissions': _perms_out(r, _rules_of(r, g['GroupId'], False, index)),
            'OwnerId': g['OwnerId'], 'GroupId': g['GroupId'],
            'IpPermissionsEgress': _perms_out(r, _rules_of(r, g['GroupId'], True, index)),
            'Tags': _tags_out(g['Tags']), 'VpcId': g['VpcId']}


# Security group names, descriptions and rule descriptions in a VPC: "a-z, A-Z,
# 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*" (EC2 API Reference,
# CreateSecurityGroup GroupName/Description; IpRange Description).
SG_TEXT_RE = re.compile(r'^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$')


def create_security_group(ctx, params):
    r = _region(ctx)
    name = params.get('GroupName')
    desc = params.get('Description')
    vpc_id = params.get('VpcId')
    if not vpc_id:
        # without VpcId EC2 puts the group in the region's default VPC
        # (EC2 API Reference, CreateSecurityGroup: "VpcId ... Required for
        # a nondefault VPC"), and refuses only when there is none
        vpc_id = next((k for k, x in r['vpcs'].items() if x.get('IsDefault')), None)
        if not vpc_id:
            raise AwsError('VPCIdNotSpecified', 'No default VPC for this user')
    v = _get(ctx, 'vpcs', vpc_id)
    if not name or not desc:
        raise AwsError('MissingParameter', 'The request must contain the parameter '
                       + ('groupName' if not name else 'groupDescription'))
    if len(name) > 255 or len(desc) > 255:
        raise AwsError('InvalidParameterValue',
                       'Group name and description are limited to 255 characters')
    for what, text in (('name', name), ('description', desc)):
        if not SG_TEXT_RE.match(text):
            raise AwsError('InvalidParameterValue',
                           f"Value ({text}) for parameter group{what.title()} is invalid. "
                           f"Character sets beyond ASCII are not supported.")
    if name == 'default':
        raise AwsError('InvalidGroup.Reserved',
                       "The security group 'default' is reserved")
    if name.lower().startswith('sg-'):
        raise AwsError('InvalidParameterValue',
                       "Group names may not be in the format sg-*")
    for g in r['sgs'].values():
        if g['VpcId'] == v['VpcId'] and g['GroupName'] == name:
            raise AwsError('InvalidGroup.Duplicate',
                           f"The security group '{name}' already exists for VPC "
                           f"'{v['VpcId']}'")
    tags = _tag_specs(ctx, params, 'security-group')
    g = _new_sg(ctx, r, name, desc, v['VpcId'], tags)
    _add_rule(ctx, r, g, True, {'IpProtocol': '-1', 'CidrIpv4': '0.0.0.0/0'})
    out = {'GroupId': g['GroupId']}
    if tags:
        out['Tags'] = _tags_out(tags)
    return out


def _sg_fields(r, index):
    def perm(egress, fn):
        return lambda g: [v for x in _rules_of(r, g['GroupId'], egress, index) for v in fn(x)]
    f = {
        'description': lambda g: [g['Description']],
        'group-id': lambda g: [g['GroupId']], 'group-name': lambda g: [g['GroupName']],
        'owner-id': lambda g: [g['OwnerId']], 'vpc-id': lambda g: [g['VpcId']],
    }
    for pre, eg in (('ip-permission.', False), ('egress.ip-permission.', True)):
        f[pre + 'cidr'] = perm(eg, lambda x: [x.get('CidrIpv4')])
        f[pre + 'ipv6-cidr'] = perm(eg, lambda x: [x.get('CidrIpv6')])
        f[pre + 'from-port'] = perm(eg, lambda x: [x['FromPort']])
        f[pre + 'to-port'] = perm(eg, lambda x: [x['ToPort']])
        f[pre + 'protocol'] = perm(eg, lambda x: [x['IpProtocol']])
        f[pre + 'group-id'] = perm(eg, lambda x: [x.get('ReferencedGroupId')])
        f[pre + 'group-name'] = perm(eg, lambda x: [
            r['sgs'].get(x.get('ReferencedGroupId') or '', {}).get('GroupName')])
        f[pre + 'prefix-list-id'] = perm(eg, lambda x: [x.get('PrefixListId')])
        f[pre + 'user-id'] = perm(eg, lambda x: [x['GroupOwnerId']
                                                 if x.get('ReferencedGroupId') else None])
    return f


def describe_security_groups(ctx, params):
    r = _region(ctx)
    items = _by_ids(ctx, 'sgs', params.get('GroupIds'))
    names = params.get('GroupNames') or []
    if names:
        for n in names:
            if not any(g['GroupName'] == n for g in items):
                raise AwsError('InvalidGroup.NotFound',
                               f"The security group '{n}' does not exist in default VPC")
        items = [g for g in items if g['GroupName'] in names]
    index = _rules_index(r)
    items = _filter(items, params.get('Filters'), _sg_fields(r, index))
    page, tok = _page(ctx, items, params, 'sgs', ids_member='GroupIds')
    out = {'SecurityGroups': [_sg_out(r, g, index) for g in page]}
    if tok:
        out['NextToken'] = tok
    return out


def describe_security_group_rules(ctx, params):
    r = _region(ctx)
    ids = params.get('SecurityGroupRuleIds') or []
    items = list(r['sgrules'].values())
    if ids:
        for i in ids:
            if i not in r['sgrules']:
                raise AwsError('InvalidSecurityGroupRuleId.NotFound',
                               f"The security group rule ID '{i}' does not exist")
        items = [r['sgrules'][i] for i in dict.fromkeys(ids)]
    fields = {'group-id': lambda x: [x['GroupId']],
              'security-group-rule-id': lambda x: [x['SecurityGroupRuleId']]}
    items = _filter(items, params.get('Filters'), fields)
    page, tok = _page(ctx, items, params, 'sgrules', ids_member='SecurityGroupRuleIds')
    out = {'SecurityGroupRules': [_rule_out(x) for x in page]}
    if tok:
        out['NextToken'] = tok
    return out


def modify_security_group_rules(ctx, params):
    r = _region(ctx)
    g = _get(ctx, 'sgs', params.get('GroupId'))
    changes = []
    for item in params.get('SecurityGroupRules') or []:
        rid = item.get('SecurityGroupRuleId')
        x = r['sgrules'].get(rid)
        if x is None or x['GroupId'] != g['GroupId']:
            raise AwsError('InvalidSecurityGroupRuleId.NotFound',
                           f"The security group rule ID '{rid}' does not exist")
        spec = item.get('SecurityGroupRule') or {}
        nx = _norm_rule(ctx, r, g, x['IsEgress'], spec)
        for other in _rules_of(r, g['GroupId'], x['IsEgress']):
            if other is not x and _rule_key(other) == _rule_key(nx):
                raise AwsError('InvalidPermission.Duplicate', _dup_message(nx, x['IsEgress']))
        changes.append((x, nx))
    for x, nx in changes:
        for k in ('CidrIpv4', 'CidrIpv6', 'ReferencedGroupId', 'PrefixListId', 'Description'):
            x.pop(k, None)
        x.update(nx)
    return {'Return': True}


def _update_descriptions(ctx, params, egress):
    r = _region(ctx)
    g = _group_for(ctx, r, params)
    for item in params.get('SecurityGroupRuleDescriptions') or []:
        x = r['sgrules'].get(item.get('SecurityGroupRuleId'))
        if x is None or x['GroupId'] != g['GroupId'] or x['IsEgress'] != egress:
            raise AwsError('InvalidSecurityGroupRuleId.NotFound',
                           f"The security group rule ID '{item.get('SecurityGroupRuleId')}' "
                           f"does not exist")
        x['Description'] = item.get('Description')
    have = {_rule_key(x): x for x in _rules_of(r, g['GroupId'], egress)}
    for s in _perm_specs(params.get('IpPermissions')):
        nx = _norm_rule(ctx, r, g, egress, s)
        x = have.get(_rule_key(nx))
        if x is None:
            raise AwsError('InvalidPermission.NotFound',
                           'The specified rule does not exist in this security group.')
        x['Description'] = nx.get('Description')
    return {'Return': True}


def update_security_group_rule_descriptions_ingress(ctx, params):
    return _update_descriptions(ctx, params, False)


def update_security_group_rule_descriptions_egress(ctx, params):
    return _update_descriptions(ctx, params, True)


def delete_security_group(ctx, params):
    r = _gc(ctx)
    g = _group_for(ctx, r, params)
    gid = g['GroupId']
    if g.get('default'):
        raise AwsError('CannotDelete',
                       f'the specified group: "{gid}" name: "default" cannot be deleted '
                       f'by a user')
    if any(x.get('ReferencedGroupId') == gid and x['GroupId'] != gid
           for x in r['sgrules'].values()):
        raise AwsError('DependencyViolation', f'resource {gid} has a dependent object')
    if any(gid in e['Groups'] for e in _live_enis(ctx, r)):
        raise AwsError('DependencyViolation', f'resource {gid} has a dependent object')
    for k in [k for k, x in r['sgrules'].items() if x['GroupId'] == gid]:
        del r['sgrules'][k]
    del r['sgs'][gid]
    return {}


# --------------------------------------------------------------------------
# VPC endpoints

def _vpce_out(ctx, r, e):
    st = _vpce_state(ctx.now(), e)
    out = {'VpcEndpointId': e['VpcEndpointId'], 'VpcEndpointType': e['VpcEndpointType'],
           'VpcId': e['VpcId'], 'ServiceName': e['ServiceName'], 'State': st,
           'PolicyDocument': e['PolicyDocument'], 'RouteTableIds': list(e['RouteTableIds']),
           'SubnetIds': list(e['SubnetIds']),
           'Groups': [{'GroupId': gid,
                       'GroupName': r['sgs'].get(gid, {}).get('GroupName', '')}
                      for gid in e['Groups']],
           'PrivateDnsEnabled': e['PrivateDnsEnabled'], 'RequesterManaged': False,
           'NetworkInterfaceIds': [k for k, x in r['enis'].items()
                                   if x['owner'] == ['vpce', e['VpcEndpointId']]
                                   and _eni_live(ctx.now(), r, x)],
           'DnsEntries': [], 'CreationTimestamp': e['CreationTimestamp'],
           'Tags': _tags_out(e['Tags']), 'OwnerId': e['OwnerId']}
    if e['VpcEndpointType'] == 'Interface':
        out['IpAddressType'] = 'ipv4'
        out['DnsOptions'] = {'DnsRecordIpType': 'ipv4'}
        svc = e['ServiceName'].split('.', 3)[-1]
        out['DnsEntries'].append({
            'DnsName': f"{e['VpcEndpointId']}-{e['VpcEndpointId'][-8:]}.{svc}."
                       f"{ctx.region}.vpce.amazonaws.com",
            'HostedZoneId': 'Z7HUB22UULQXV'})
        if e['PrivateDnsEnabled']:
            out['DnsEntries'].append({'DnsName': f'{svc}.{ctx.region}.amazonaws.com',
                                      'HostedZoneId': 'ZPRIVATEDNS0001'})
    return out


def _vpce_service(ctx, name, etype):
    pre = f'com.amazonaws.{ctx.region}.'
    svc = name[len(pre):] if isinstance(name, str) and name.startswith(pre) else None
    if svc not in ENDPOINT_SERVICES:
        raise AwsError('InvalidServiceName',
                       f"The Vpc Endpoint Service '{name}' does not exist")
    if etype not in ENDPOINT_SERVICES[svc]:
        raise AwsError('InvalidParameter',
                       f"The Vpc Endpoint Service '{name}' does not support endpoint "
                       f"type {etype}")
    return svc


def _vpce_subnets(ctx, r, e, subnet_ids, v):
    subnets = []
    for sid in subnet_ids:
        s = _get(ctx, 'subnets', sid)
        if s['VpcId'] != v['VpcId']:
            raise AwsError('InvalidParameter',
                           f"The subnet {sid} does not belong to vpc {v['VpcId']}")
        subnets.append(s)
    azs = [s['AvailabilityZone'] for s in subnets]
    if len(set(azs)) != len(azs):
        raise AwsError('DuplicateSubnetsInSameZone',
                       'Found another VPC endpoint subnet in the availability zone')
    return subnets


def _vpce_groups(ctx, ids, v):
    for gid in ids:
        g = _get(ctx, 'sgs', gid)
        if g['VpcId'] != v['VpcId']:
            raise AwsError('InvalidParameter',
                           f"The security group {gid} does not belong to vpc {v['VpcId']}")


def _vpce_rtbs(ctx, ids, v):
    for tid in ids:
        t = _get(ctx, 'rtbs', tid)
        if t['VpcId'] != v['VpcId']:
            raise AwsError('InvalidParameter',
                           f"The route table {tid} does not belong to vpc {v['VpcId']}")


def _prefix_list(region, svc):
    h = 0
    for c in f'{region}/{svc}':
        h = (h * 131 + ord(c)) & 0xffffffff
    return f'pl-{h:08x}'


def _gateway_routes(ctx, r, e, add, remove):
    pl = _prefix_list(ctx.region, e['ServiceName'].rsplit('.', 1)[-1])
    for tid in remove:
        t = r['rtbs'].get(tid)
        if t is not None:
            t['Routes'] = [x for x in t['Routes'] if x.get('GatewayId') != e['VpcEndpointId']]
    for tid in add:
        t = r['rtbs'][tid]
        t['Routes'].append({'DestinationPrefixListId': pl, 'GatewayId': e['VpcEndpointId'],
                            'Origin': 'CreateRoute'})


def create_vpc_endpoint(ctx, params):
    r = _gc(ctx)
    token = params.get('ClientToken')
    if token:
        for e in r['vpces'].values():
            if e.get('ClientToken') == token:
                if e['ServiceName'] != params.get('ServiceName') or \
                        e['VpcId'] != params.get('VpcId'):
                    raise AwsError('IdempotentParameterMismatch',
                                   'The client token you have provided is associated '
                                   'with a resource with different parameters')
                return {'VpcEndpoint': _vpce_out(ctx, r, e), 'ClientToken': token}
    v = _get(ctx, 'vpcs', params.get('VpcId'))
    etype = params.get('VpcEndpointType') or 'Gateway'
    if etype not in ('Gateway', 'Interface'):
        raise AwsError('InvalidParameter',
                       f'The emulator does not support endpoint type {etype}')
    _vpce_service(ctx, params.get('ServiceName'), etype)
    policy = params.get('PolicyDocument')
    if policy is not None:
        # endpoint policies follow the IAM grammar of resource-based policies
        # (PrivateLink Guide, "Control access to VPC endpoints using endpoint
        # policies"; EC2 answers MalformedPolicyDocument)
        from emu import policy as policy_grammar
        try:
            policy_grammar.check(policy, 'resource')
        except AwsError as e:
            if e.code == 'LimitExceeded':
                raise
            raise AwsError('MalformedPolicyDocument', f'The policy document is malformed: '
                                                      f'{e.message}')
    else:
        policy = json.dumps({'Version': '2008-10-17', 'Statement': [{
            'Effect': 'Allow', 'Principal': '*', 'Action': '*', 'Resource': '*'}]})
    subnet_ids = params.get('SubnetIds') or []
    sg_ids = params.get('SecurityGroupIds') or []
    rtb_ids = params.get('RouteTableIds') or []
    if etype == 'Gateway':
        if subnet_ids or sg_ids:
            raise AwsError('InvalidParameter',
                           'Subnets and security groups are not supported for Gateway '
                           'endpoints')
        if params.get('PrivateDnsEnabled'):
            raise AwsError('InvalidParameter',
                           'Private DNS is not supported for Gateway endpoints')
        _vpce_rtbs(ctx, rtb_ids, v)
        private_dns = False
    else:
        if rtb_ids:
            raise AwsError('InvalidParameter',
                           'Route tables are not supported for Interface endpoints')
        private_dns = params.get('PrivateDnsEnabled')
        private_dns = True if private_dns is None else private_dns
        if private_dns and not (v['EnableDnsSupport'] and v['EnableDnsHostnames']):
            raise AwsError('InvalidParameter',
                           'Enabling private DNS requires both enableDnsSupport and '
                           f"enableDnsHostnames VPC attributes set to true for {v['VpcId']}")
        if private_dns:
            # one private hosted zone per service name and VPC: "private-dns-enabled
            # cannot be set because there is already a conflicting DNS domain for
            # <service> in the VPC" (PrivateLink Guide, "DNS hostnames")
            for other in r['vpces'].values():
                if other['VpcId'] == v['VpcId'] and other['ServiceName'] == \
                        params['ServiceName'] and other.get('PrivateDnsEnabled') and \
                        _vpce_state(ctx.now(), other) != 'deleted' and \
                        other.get('delete_at') is None:
                    raise AwsError('InvalidParameter',
                                   f"private-dns-enabled cannot be set because there is "
                                   f"already a conflicting DNS domain for "
                                   f"{params['ServiceName']} in the VPC {v['VpcId']}")
        if not sg_ids:
            sg_ids = [v['DefaultSecurityGroupId']]
        _vpce_groups(ctx, sg_ids, v)
    tags = _tag_specs(ctx, params, 'vpc-endpoint')
    eid = _new_id(ctx, 'vpce')
    now = ctx.now()
    e = {'VpcEndpointId': eid, 'VpcEndpointType': etype, 'VpcId': v['VpcId'],
         'ServiceName': params['ServiceName'], 'PolicyDocument': policy,
         'RouteTableIds': list(dict.fromkeys(rtb_ids)), 'SubnetIds': [],
         'Groups': list(dict.fromkeys(sg_ids)), 'PrivateDnsEnabled': private_dns,
         'CreationTimestamp': now, 'Tags': tags, 'OwnerId': ctx.account,
         'ClientToken': token, 'ready_at': now + _dur(ctx, 'vpc_endpoint_create'),
         'delete_at': None, 'gone_at': None, 'visible_for': _dur(ctx, 'deleted_visible')}
    subnets = _vpce_subnets(ctx, r, e, subnet_ids, v) if etype == 'Interface' else []
    r['vpces'][eid] = e
    for s in subnets:
        e['SubnetIds'].append(s['SubnetId'])
        _new_eni(ctx, r, s, ('vpce', eid), 'vpc_endpoint',
                 f'VPC Endpoint Interface {eid}', e['Groups'])
    if etype == 'Gateway':
        _gateway_routes(ctx, r, e, e['RouteTableIds'], [])
    out = {'VpcEndpoint': _vpce_out(ctx, r, e)}
    if token:
        out['ClientToken'] = token
    return out


VPCE_FILTERS = {
    'ip-address-type': lambda e: ['ipv4'] if e['VpcEndpointType'] == 'Interface' else [],
    'service-name': lambda e: [e['ServiceName']], 'vpc-id': lambda e: [e['VpcId']],
    'vpc-endpoint-id': lambda e: [e['VpcEndpointId']],
    'vpc-endpoint-type': lambda e: [e['VpcEndpointType']],
}


def describe_vpc_endpoints(ctx, params):
    r = _gc(ctx)
    items = _by_ids(ctx, 'vpces', params.get('VpcEndpointIds'), visible=_vpce_visible)
    now = ctx.now()
    fields = dict(VPCE_FILTERS)
    fields['vpc-endpoint-state'] = lambda e: [_vpce_state(now, e)]
    items = _filter(items, params.get('Filters'), fields)
    page, tok = _page(ctx, items, params, 'vpces', lo=1, ids_member='VpcEndpointIds')
    out = {'VpcEndpoints': [_vpce_out(ctx, r, e) for e in page]}
    if tok:
        out['NextToken'] = tok
    return out


def modify_vpc_endpoint(ctx, params):
    r = _gc(ctx)
    e = _get(ctx, 'vpces', params.get('VpcEndpointId'), visible=_vpce_visible)
    if _vpce_state(ctx.now(), e) in ('deleting', 'deleted'):
        raise AwsError('IncorrectState',
                       f"The VPC endpoint {e['VpcEndpointId']} is being deleted")
    v = r['vpcs'][e['VpcId']]
    iface = e['VpcEndpointType'] == 'Interface'
    if not iface and (params.get('AddSubnetIds') or params.get('AddSecurityGroupIds')
                      or params.get('PrivateDnsEnabled')):
        raise AwsError('InvalidParameter',
                       'Subnets, security groups and private DNS are for Interface endpoints')
    if iface and (params.get('AddRouteTableIds') or params.get('RemoveRouteTableIds')):
        raise AwsError('InvalidParameter', 'Route tables are for Gateway endpoints')
    if params.get('ResetPolicy') and params.get('PolicyDocument'):
        raise AwsError('InvalidParameterCombination',
                       'ResetPolicy cannot be used with PolicyDocument')
    if params.get('PolicyDocument') is not None:
        try:
            json.loads(params['PolicyDocument'])
        except ValueError:
            raise AwsError('MalformedPolicyDocument', 'The policy document is malformed')
    add_s = [s for s in params.get('AddSubnetIds') or [] if s not in e['SubnetIds']]
    rem_s = params.get('RemoveSubnetIds') or []
    for sid in rem_s:
        if sid not in e['SubnetIds']:
            raise AwsError('InvalidSubnetID.NotFound',
                           f"The subnet ID '{sid}' is not part of the endpoint")
    remaining = [s for s in e['SubnetIds'] if s not in rem_s]
    new_subnets = _vpce_subnets(ctx, r, e, remaining + add_s, v)[len(remaining):]
    add_g = params.get('AddSecurityGroupIds') or []
    _vpce_groups(ctx, add_g, v)
    rem_g = params.get('RemoveSecurityGroupIds') or []
    for gid in rem_g:
        if gid not in e['Groups']:
            raise AwsError('InvalidGroup.NotFound',
                           f"The security group '{gid}' is not part of the endpoint")
    add_t = params.get('AddRouteTableIds') or []
    _vpce_rtbs(ctx, add_t, v)
    rem_t = params.get('RemoveRouteTableIds') or []
    if params.get('PrivateDnsEnabled') and not (v['EnableDnsSupport']
                                                and v['EnableDnsHostnames']):
        raise AwsError('InvalidParameter',
                       'Enabling private DNS requires both enableDnsSupport and '
                       f"enableDnsHostnames VPC attributes set to true for {v['VpcId']}")
    # all checked: apply
    e['SubnetIds'] = remaining
    for s in new_subnets:
        e['SubnetIds'].append(s['SubnetId'])
        _new_eni(ctx, r, s, ('vpce', e['VpcEndpointId']), 'vpc_endpoint',
                 f"VPC Endpoint Interface {e['VpcEndpointId']}", e['Groups'])
    groups = [g for g in e['Groups'] if g not in rem_g] + \
        [g for g in add_g if g not in e['Groups']]
    if iface and not groups:
        raise AwsError('InvalidParameter', 'An Interface endpoint needs a security group')
    e['Groups'] = groups
    for eni in r['enis'].values():
        if eni['owner'] == ['vpce', e['VpcEndpointId']]:
            eni['Groups'] = list(groups)
    add_t = [t for t in add_t if t not in e['RouteTableIds']]
    rem_t = [t for t in rem_t if t in e['RouteTableIds']]
    e['RouteTableIds'] = [t for t in e['RouteTableIds'] if t not in rem_t] + add_t
    if not iface:
        _gateway_routes(ctx, r, e, add_t, rem_t)
    if params.get('PolicyDocument') is not None:
        e['PolicyDocument'] = params['PolicyDocument']
    if params.get('ResetPolicy'):
        e['PolicyDocument'] = json.dumps({'Version': '2008-10-17', 'Statement': [{
            'Effect': 'Allow', 'Principal': '*', 'Action': '*', 'Resource': '*'}]})
    if params.get('PrivateDnsEnabled') is not None and iface:
        e['PrivateDnsEnabled'] = params['PrivateDnsEnabled']
    _gc(ctx)
    return {'Return': True}


def delete_vpc_endpoints(ctx, params):
    r = _gc(ctx)
    now = ctx.now()
    bad = []
    for eid in params.get('VpcEndpointIds') or []:
        e = r['vpces'].get(eid)
        if e is None or not _vpce_visible(ctx, e) or _vpce_state(now, e) == 'deleted':
            bad.append({'Error': {'Code': 'InvalidVpcEndpoint.NotFound',
                                  'Message': f"The VPC endpoint ID '{eid}' does not exist"},
                        'ResourceId': eid})
            continue
        if e['delete_at'] is None:
            e['delete_at'] = now
            e['gone_at'] = now + _dur(ctx, 'vpc_endpoint_delete')
            e['visible_for'] = _dur(ctx, 'deleted_visible')
            if e['VpcEndpointType'] == 'Gateway':
                _gateway_routes(ctx, r, e, [], e['RouteTableIds'])
    return {'Unsuccessful': bad}


def describe_vpc_endpoint_services(ctx, params):
    names = [f'com.amazonaws.{ctx.region}.{s}' for s in sorted(ENDPOINT_SERVICES)]
    want = params.get('ServiceNames') or []
    for w in want:
        if w not in names:
            raise AwsError('InvalidServiceName',
                           f"The Vpc Endpoint Service '{w}' does not exist")
    if want:
        names = [n for n in names if n in want]
    details = []
    for n in names:
        svc = n.rsplit('.', 1)[-1] if n.count('.') == 3 else n.split('.', 3)[-1]
        svc = n.split('.', 3)[-1]
        for t in ENDPOINT_SERVICES[svc]:
            details.append({
                'ServiceName': n, 'ServiceId': 'vpce-svc-0' + f'{abs(hash(n)) % 16**16:016x}',
                'ServiceType': [{'ServiceType': t}],
                'AvailabilityZones': [z for z, _ in _zones(ctx.region, ctx)],
                'Owner': 'amazon', 'BaseEndpointDnsNames': [f'{svc}.{ctx.region}.vpce.amazonaws.com'],
                'PrivateDnsName': f'{svc}.{ctx.region}.amazonaws.com' if t == 'Interface' else None,
                'VpcEndpointPolicySupported': True, 'AcceptanceRequired': False,
                'ManagesVpcEndpoints': False, 'Tags': [],
                'SupportedIpAddressTypes': ['ipv4']})
    for d in details:
        if d['PrivateDnsName'] is None:
            del d['PrivateDnsName']
    return {'ServiceNames': names, 'ServiceDetails': details}


# --------------------------------------------------------------------------
# network interfaces (read-only: the ENIs of NAT gateways and endpoints)

def _eni_out(ctx, r, e):
    out = {'AvailabilityZone': e['AvailabilityZone'], 'Description': e['Description'],
           'Groups': [{'GroupId': g, 'GroupName': r['sgs'].get(g, {}).get('GroupName', '')}
                      for g in e['Groups']],
           'InterfaceType': e['InterfaceType'], 'MacAddress': e['MacAddress'],
           'NetworkInterfaceId': e['NetworkInterfaceId'], 'OwnerId': e['OwnerId'],
           'PrivateIpAddress': e['PrivateIpAddress'],
           'PrivateIpAddresses': [{'Primary': True,
                                   'PrivateIpAddress': e['PrivateIpAddress']}],
           'RequesterManaged': True, 'SourceDestCheck': False, 'Status': 'in-use',
           'SubnetId': e['SubnetId'], 'TagSet': [], 'VpcId': e['VpcId'],
           'RequesterId': 'amazon-elb' if e['owner'][0] == 'vpce' else 'AIDAEMULATOR'}
    if e['owner'][0] == 'nat':
        n = r['nats'].get(e['owner'][1])
        a = r['addresses'].get((n or {}).get('AllocationId') or '')
        if a is not None:
            assoc = {'AllocationId': a['AllocationId'], 'AssociationId': n['AssociationId'],
                     'IpOwnerId': ctx.account, 'PublicIp': a['PublicIp'],
                     'PublicDnsName': ''}
            out['Association'] = assoc
            out['PrivateIpAddresses'][0]['Association'] = assoc
    if e['owner'][0] == 'ecs':
        out['RequesterId'] = 'AROAECSTASKS:ecs-tasks'
        if e.get('PublicIp'):
            assoc = {'IpOwnerId': 'amazon', 'PublicIp': e['PublicIp'], 'PublicDnsName': ''}
            out['Association'] = assoc
            out['PrivateIpAddresses'][0]['Association'] = assoc
    return out


def describe_network_interfaces(ctx, params):
    r = _gc(ctx)
    live = {e['NetworkInterfaceId']: e for e in _live_enis(ctx, r)}
    ids = params.get('NetworkInterfaceIds') or []
    for i in ids:
        _check_id(i, 'eni', 'InvalidNetworkInterfaceID')
    missing = [i for i in ids if i not in live]
    if missing:
        raise AwsError('InvalidNetworkInterfaceID.NotFound',
                       f"The networkInterface ID '{missing[0]}' does not exist")
    items = [live[i] for i in dict.fromkeys(ids)] if ids else list(live.values())
    outs = {e['NetworkInterfaceId']: _eni_out(ctx, r, e) for e in items}

    def o(e):
        return outs[e['NetworkInterfaceId']]
    fields = {
        'addresses.private-ip-address': lambda e: [e['PrivateIpAddress']],
        'addresses.primary': lambda e: ['true'],
        'association.allocation-id': lambda e: [o(e).get('Association', {}).get('AllocationId')],
        'association.association-id':
            lambda e: [o(e).get('Association', {}).get('AssociationId')],
        'association.public-ip': lambda e: [o(e).get('Association', {}).get('PublicIp')],
        'availability-zone': lambda e: [e['AvailabilityZone']],
        'description': lambda e: [e['Description']],
        'group-id': lambda e: e['Groups'],
        'group-name': lambda e: [g['GroupName'] for g in o(e)['Groups']],
        'interface-type': lambda e: [e['InterfaceType']],
        'mac-address': lambda e: [e['MacAddress']],
        'network-interface-id': lambda e: [e['NetworkInterfaceId']],
        'owner-id': lambda e: [e['OwnerId']],
        'private-ip-address': lambda e: [e['PrivateIpAddress']],
        'requester-managed': lambda e: ['true'], 'status': lambda e: ['in-use'],
        'source-dest-check': lambda e: ['false'],
        'subnet-id': lambda e: [e['SubnetId']], 'vpc-id': lambda e: [e['VpcId']],
    }
    items = _filter(items, params.get('Filters'), fields, tags_of=lambda e: [])
    page, tok = _page(ctx, items, params, 'enis', ids_member='NetworkInterfaceIds')
    out = {'NetworkInterfaces': [outs[e['NetworkInterfaceId']] for e in page]}
    if tok:
        out['NextToken'] = tok
    return out


def delete_network_interface(ctx, params):
    r = _gc(ctx)
    eid = params.get('NetworkInterfaceId')
    _check_id(eid, 'eni', 'InvalidNetworkInterfaceID')
    live = {e['NetworkInterfaceId'] for e in _live_enis(ctx, r)}
    if eid not in live:
        raise AwsError('InvalidNetworkInterfaceID.NotFound',
                       f"The networkInterface ID '{eid}' does not exist")
    # every ENI the emulator knows is requester-managed and attached
    raise AwsError('InvalidNetworkInterface.InUse',
                   f"The network interface '{eid}' is currently in use.")


# --------------------------------------------------------------------------
# tags

TAG_TYPES = {  # id prefix -> (collection, resource type)
    'vpc': ('vpcs', 'vpc'), 'subnet': ('subnets', 'subnet'),
    'igw': ('igws', 'internet-gateway'), 'eipalloc': ('addresses', 'elastic-ip'),
    'nat': ('nats', 'natgateway'), 'rtb': ('rtbs', 'route-table'),
    'sg': ('sgs', 'security-group'), 'sgr': ('sgrules', 'security-group-rule'),
    'vpce': ('vpces', 'vpc-endpoint'), 'acl': ('nacls', 'network-acl'),
}


def _tag_target(ctx, r, rid):
    prefix = rid.split('-', 1)[0] if isinstance(rid, str) and '-' in rid else None
    if prefix not in TAG_TYPES:
        raise AwsError('InvalidID', f'The ID \'{rid}\' is not valid')
    coll = TAG_TYPES[prefix][0]
    if coll == 'nacls':
        rec = r['nacls'].get(rid)
        if rec is None:
            raise AwsError('InvalidNetworkAclID.NotFound',
                           f"The networkAcl ID '{rid}' does not exist")
        return rec
    vis = {'nats': _nat_visible, 'vpces': _vpce_visible}.get(coll)
    return _get(ctx, coll, rid, visible=vis)


def create_tags(ctx, params):
    r = _gc(ctx)
    recs = [_tag_target(ctx, r, rid) for rid in params.get('Resources') or []]
    new = params.get('Tags') or []
    merged = [_merge_tags(rec['Tags'], new) for rec in recs]
    for rec, tags in zip(recs, merged):
        rec['Tags'] = tags
    return {}


def delete_tags(ctx, params):
    r = _gc(ctx)
    recs = [_tag_target(ctx, r, rid) for rid in params.get('Resources') or []]
    spec = params.get('Tags')
    for rec in recs:
        if spec is None:
            rec['Tags'] = []
            continue
        keep = []
        for t in rec['Tags']:
            drop = any(s.get('Key') == t['Key'] and
                       (s.get('Value') is None or s.get('Value') == t['Value'])
                       for s in spec)
            if not drop:
                keep.append(t)
        rec['Tags'] = keep
    return {}


def describe_tags(ctx, params):
    r = _gc(ctx)
    rows = []
    for prefix, (coll, rtype) in TAG_TYPES.items():
        for rid, rec in r[coll].items():
            if coll == 'nats' and not _nat_visible(ctx, rec):
                continue
            if coll == 'vpces' and not _vpce_visible(ctx, rec):
                continue
            for t in rec.get('Tags', []):
                rows.append({'Key': t['Key'], 'ResourceId': rid, 'ResourceType': rtype,
                             'Value': t['Value']})
    fields = {'key': lambda x: [x['Key']], 'resource-id': lambda x: [x['ResourceId']],
              'resource-type': lambda x: [x['ResourceType']],
              'value': lambda x: [x['Value']]}
    rows = _filter(rows, params.get('Filters'), fields,
                   tags_of=lambda x: [{'Key': x['Key'], 'Value': x['Value']}])
    page, tok = _page(ctx, rows, params, 'tags')
    out = {'Tags': page}
    if tok:
        out['NextToken'] = tok
    return out


# --------------------------------------------------------------------------
# network ACLs (read-only view of the default ACL of each VPC)

def describe_network_acls(ctx, params):
    r = _region(ctx)
    ids = params.get('NetworkAclIds') or []
    items = list(r['nacls'].values())
    if ids:
        for i in ids:
            if i not in r['nacls']:
                raise AwsError('InvalidNetworkAclID.NotFound',
                               f"The networkAcl ID '{i}' does not exist")
        items = [r['nacls'][i] for i in ids]
    fields = {'default': lambda a: [_bool_str(a['IsDefault'])],
              'network-acl-id': lambda a: [a['NetworkAclId']],
              'vpc-id': lambda a: [a['VpcId']], 'owner-id': lambda a: [a['OwnerId']]}
    items = _filter(items, params.get('Filters'), fields)
    page, tok = _page(ctx, items, params, 'nacls', ids_member='NetworkAclIds')
    outs = []
    for a in page:
        entries = []
        for egress in (False, True):
            entries.append({'CidrBlock': '0.0.0.0/0', 'Egress': egress, 'Protocol': '-1',
                            'RuleAction': 'allow', 'RuleNumber': 100})
            entries.append({'CidrBlock': '0.0.0.0/0', 'Egress': egress, 'Protocol': '-1',
                            'RuleAction': 'deny', 'RuleNumber': 32767})
        assocs = [{'NetworkAclAssociationId': 'aclassoc-0' + s['SubnetId'][-16:],
                   'NetworkAclId': a['NetworkAclId'], 'SubnetId': s['SubnetId']}
                  for s in r['subnets'].values() if s['VpcId'] == a['VpcId']]
        outs.append({'Associations': assocs, 'Entries': entries, 'IsDefault': a['IsDefault'],
                     'NetworkAclId': a['NetworkAclId'], 'Tags': _tags_out(a['Tags']),
                     'VpcId': a['VpcId'], 'OwnerId': a['OwnerId']})
    out = {'NetworkAcls': outs}
    if tok:
        out['NextToken'] = tok
    return out


# --------------------------------------------------------------------------

HANDLERS = {
    'DescribeAvailabilityZones': describe_availability_zones,
    'CreateVpc': create_vpc, 'DescribeVpcs': describe_vpcs, 'DeleteVpc': delete_vpc,
    'ModifyVpcAttribute': modify_vpc_attribute,
    'DescribeVpcAttribute': describe_vpc_attribute,
    'CreateSubnet': create_subnet, 'DescribeSubnets': describe_subnets,
    'ModifySubnetAttribute': modify_subnet_attribute, 'DeleteSubnet': delete_subnet,
    'CreateInternetGateway': create_internet_gateway,
    'DescribeInternetGateways': describe_internet_gateways,
    'AttachInternetGateway': attach_internet_gateway,
    'DetachInternetGateway': detach_internet_gateway,
    'DeleteInternetGateway': delete_internet_gateway,
    'AllocateAddress': allocate_address, 'DescribeAddresses': describe_addresses,
    'ReleaseAddress': release_address, 'AssociateAddress': associate_address,
    'DisassociateAddress': disassociate_address,
    'CreateNatGateway': create_nat_gateway, 'DescribeNatGateways': describe_nat_gateways,
    'DeleteNatGateway': delete_nat_gateway,
    'CreateRouteTable': create_route_table, 'DescribeRouteTables': describe_route_tables,
    'DeleteRouteTable': delete_route_table,
    'CreateRoute': create_route, 'ReplaceRoute': replace_route, 'DeleteRoute': delete_route,
    'AssociateRouteTable': associate_route_table,
    'DisassociateRouteTable': disassociate_route_table,
    'ReplaceRouteTableAssociation': replace_route_table_association,
    'CreateSecurityGroup': create_security_group,
    'DescribeSecurityGroups': describe_security_groups,
    'DeleteSecurityGroup': delete_security_group,
    'AuthorizeSecurityGroupIngress': authorize_security_group_ingress,
    'AuthorizeSecurityGroupEgress': authorize_security_group_egress,
    'RevokeSecurityGroupIngress': revoke_security_group_ingress,
    'RevokeSecurityGroupEgress': revoke_security_group_egress,
    'DescribeSecurityGroupRules': describe_security_group_rules,
    'ModifySecurityGroupRules': modify_security_group_rules,
    'UpdateSecurityGroupRuleDescriptionsIngress':
        update_security_group_rule_descriptions_ingress,
    'UpdateSecurityGroupRuleDescriptionsEgress':
        update_security_group_rule_descriptions_egress,
    'CreateVpcEndpoint': create_vpc_endpoint,
    'DescribeVpcEndpoints': describe_vpc_endpoints,
    'ModifyVpcEndpoint': modify_vpc_endpoint,
    'DeleteVpcEndpoints': delete_vpc_endpoints,
    'DescribeVpcEndpointServices': describe_vpc_endpoint_services,
    'DescribeNetworkInterfaces': describe_network_interfaces,
    'DeleteNetworkInterface': delete_network_interface,
    'DescribeNetworkAcls': describe_network_acls,
    'CreateTags': create_tags, 'DeleteTags': delete_tags, 'DescribeTags': describe_tags,
}


def _dry_run(fn):
    def handler(ctx, params):
        if params.get('DryRun'):
            raise AwsError('DryRunOperation',
                           'Request would have succeeded, but DryRun flag is set.', status=412)
        return fn(ctx, params)
    handler.__name__ = fn.__name__
    return handler


# --------------------------------------------------------------------------
# instances, key pairs, images: emu/services/ec2_instances.py

COLLECTIONS = COLLECTIONS + ('instances', 'keypairs')
TAG_TYPES['i'] = ('instances', 'instance')
TAG_TYPES['key'] = ('keypairs', 'key-pair')
NOTFOUND['instances'] = ('i', 'InvalidInstanceID', 'instance')
NOTFOUND['keypairs'] = ('key', 'InvalidKeyPair', 'key pair')
from emu.services import ec2_instances as _instances  # noqa: E402
HANDLERS.update(_instances.EXTRA_HANDLERS)

HANDLERS = {op: _dry_run(fn) for op, fn in HANDLERS.items()}


def inventory(store):
    """Live resources a user created (see the module docstring for the choice)."""
    now = time.time()
    out = []
    for region, r in sorted((store.get('regions') or {}).items()):
        def add(rtype, rid):
            out.append({'service': SERVICE, 'type': rtype, 'id': rid, 'region': region})
        for k in r['vpcs']:
            add('vpc', k)
        for k in r['subnets']:
            add('subnet', k)
        for k in r['igws']:
            add('internet-gateway', k)
        for k in r['addresses']:
            add('elastic-ip', k)
        for k, n in r['nats'].items():
            if not n.get('failure') and _nat_state(now, n) != 'deleted':
                add('natgateway', k)
        for k, t in r['rtbs'].items():
            if not t.get('Main'):
                add('route-table', k)
        for k, g in r['sgs'].items():
            if not g.get('default'):
                add('security-group', k)
        for k, e in r['vpces'].items():
            if _vpce_state(now, e) != 'deleted':
                add('vpc-endpoint', k)
        _instances.inventory_of(now, region, r, add)
    return out
