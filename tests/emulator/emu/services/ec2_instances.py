"""EC2 instances, key pairs and the public images, kept apart from ec2.py
(which merges EXTRA_HANDLERS into its HANDLERS and lists these in its
inventory). Records live in ec2's per-region store: r['instances'],
r['keypairs'].

AWS behaviour followed (EC2 API reference and user guide, "Instance
lifecycle"):
- RunInstances is idempotent per ClientToken: the same token answers the same
  reservation; other parameters with a used token are IdempotentParameterMismatch;
- an instance is pending, then running; StopInstances: stopping then stopped;
  StartInstances: pending then running; TerminateInstances: shutting-down then
  terminated, and a terminated instance stays visible to DescribeInstances for
  a while (config async.deleted_visible);
- its primary network interface lives in its subnet until it is terminated, so
  the subnet and the security groups cannot be deleted before
  (DependencyViolation, ec2.py's checks see the ENI);
- ModifyInstanceAttribute changes one attribute per call (a second one is
  InvalidParameterCombination "Fields for multiple attribute types specified");
  InstanceType, UserData, EbsOptimized, Kernel, Ramdisk need a stopped instance
  (IncorrectInstanceState); BlockDeviceMapping changes only DeleteOnTermination
  of a mapped device (else InvalidInstanceAttributeValue);
- ModifyInstancePlacement: Tenancy dedicated|host and HostId only while stopped;
  Monitor/UnmonitorInstances; ModifyInstanceCreditSpecification answers refused
  instances in its Unsuccessful list; DescribeInstanceCreditSpecifications;
- instance profile associations (Associate/Replace/Disassociate,
  DescribeIamInstanceProfileAssociations): one per instance (IncorrectState),
  unknown ids InvalidAssociationID.NotFound, the propagation rule below;
- DescribeInstances pages by MaxResults (5..1000)/NextToken, refuses
  MaxResults with InstanceIds (InvalidParameterCombination) and names every
  unknown id in one InvalidInstanceID.NotFound; DescribeVolumes / ModifyVolume
  for the instances' volumes (size only grows);
- an instance profile can be named in RunInstances only once IAM has
  propagated it: before config['iam_propagation_seconds'] have passed since
  it was created, InvalidParameterValue "Invalid IAM Instance Profile name";
- key pairs: CreateKeyPair answers the private key once; names are unique
  (InvalidKeyPair.Duplicate); RunInstances with an unknown key is
  InvalidKeyPair.NotFound.
Durations: config async.instance_start, instance_stop, instance_terminate
(seconds, default 0.5).
"""
import base64
import hashlib

from emu.core import AwsError

from . import ec2 as E

STATE_CODES = {'pending': 0, 'running': 16, 'shutting-down': 32, 'terminated': 48,
               'stopping': 64, 'stopped': 80}
DURATIONS = {'instance_start': 0.5, 'instance_stop': 0.5, 'instance_terminate': 0.5}
INSTANCE_TYPES = ('t2.nano', 't2.micro', 't2.small', 't2.medium', 't2.large', 't3.nano',
                  't3.micro', 't3.small', 't3.medium', 't3.large', 't3.xlarge', 't3a.small',
                  't3a.medium', 'm5.large', 'm5.xlarge', 'm6i.large', 'c5.large', 't4g.small',
                  't4g.medium')


def _images():
    from .ssm import PUBLIC_AMIS
    out = {}
    for name, ami in PUBLIC_AMIS.items():
        out[ami] = {'ImageId': ami, 'Name': name.rsplit('/', 2)[-2] if name.endswith(
            '/image_id') or name.endswith('/ami-id') else name.rsplit('/', 1)[-1],
            'State': 'available', 'OwnerId': '137112412989', 'Public': True,
            'Architecture': 'arm64' if 'arm64' in name else 'x86_64',
            'RootDeviceName': '/dev/xvda', 'RootDeviceType': 'ebs',
            'VirtualizationType': 'hvm', 'ImageType': 'machine',
            'CreationDate': '2026-01-01T00:00:00.000Z'}
    return out


def _dur(ctx, key):
    cfg = ctx.config.get('async', {}) if isinstance(ctx.config, dict) else {}
    try:
        return float(cfg.get(key, DURATIONS[key]))
    except (TypeError, ValueError):
        return DURATIONS[key]


def _reg(ctx):
    r = E._region(ctx)
    r.setdefault('instances', {})
    r.setdefault('keypairs', {})
    return r


def _state(now, inst):
    """The instance's state now: each transition has a time it completes."""
    st, until = inst['state'], inst.get('until', 0)
    if now >= until:
        nxt = {'pending': 'running', 'stopping': 'stopped',
               'shutting-down': 'terminated'}.get(st)
        if nxt:
            return nxt
    return st


def _settle(ctx, inst):
    inst['state'] = _state(ctx.now(), inst)
    return inst['state']


def eni_live(now, r, iid):
    """For ec2._eni_live: an instance's ENI lives until it is terminated."""
    inst = (r.get('instances') or {}).get(iid)
    return inst is not None and _state(now, inst) != 'terminated'


def _visible(ctx, inst):
    if _state(ctx.now(), inst) != 'terminated':
        return True
    keep = float((ctx.config.get('async') or {}).get('deleted_visible', 60.0))
    return ctx.now() < inst.get('until', 0) + keep


def _get(ctx, iid):
    E._check_id(iid, 'i', 'InvalidInstanceID')
    r = _reg(ctx)
    inst = r['instances'].get(iid)
    if inst is None or not _visible(ctx, inst) or E._too_new(ctx, inst, 'instances'):
        raise AwsError('InvalidInstanceID.NotFound',
                       f"The instance ID '{iid}' does not exist")
    return inst


def _out(ctx, r, inst):
    st = _settle(ctx, inst)
    out = {k: inst[k] for k in ('InstanceId', 'ImageId', 'InstanceType', 'LaunchTime',
                                'AmiLaunchIndex', 'Architecture', 'RootDeviceName',
                                'RootDeviceType', 'VirtualizationType', 'Hypervisor',
                                'ClientToken', 'EbsOptimized', 'EnaSupport',
                                'SourceDestCheck')}
    out['State'] = {'Code': STATE_CODES[st], 'Name': st}
    out['Placement'] = {'AvailabilityZone': inst['AvailabilityZone'],
                        'Tenancy': inst.get('Tenancy', 'default'), 'GroupName': ''}
    if inst.get('Affinity'):
        out['Placement']['Affinity'] = inst['Affinity']
    if inst.get('HostId'):
        out['Placement']['HostId'] = inst['HostId']
    out['Monitoring'] = {'State': inst.get('Monitoring', 'disabled')}
    out['Tags'] = E._tags_out(inst['Tags'])
    out['MetadataOptions'] = dict(inst['MetadataOptions'], State='applied')
    if inst.get('KeyName'):
        out['KeyName'] = inst['KeyName']
    if inst.get('IamInstanceProfile'):
        out['IamInstanceProfile'] = dict(inst['IamInstanceProfile'])
    out['BlockDeviceMappings'] = [
        {'DeviceName': b['DeviceName'],
         'Ebs': {'VolumeId': b['VolumeId'], 'Status': 'attached', 'AttachTime': inst['LaunchTime'],
                 'DeleteOnTermination': b['DeleteOnTermination']}}
        for b in inst['Blocks']] if st != 'terminated' else []
    if st != 'terminated':
        out['SubnetId'] = inst['SubnetId']
        out['VpcId'] = inst['VpcId']
        out['PrivateIpAddress'] = inst['PrivateIpAddress']
        out['PrivateDnsName'] = 'ip-' + inst['PrivateIpAddress'].replace('.', '-') + \
            ('.ec2.internal' if ctx.region == 'us-east-1' else f'.{ctx.region}.compute.internal')
        out['SecurityGroups'] = [{'GroupId': g, 'GroupName': r['sgs'].get(g, {}).get(
            'GroupName', '')} for g in inst['Groups']]
        out['NetworkInterfaces'] = [{
            'NetworkInterfaceId': inst['EniId'], 'SubnetId': inst['SubnetId'],
            'VpcId': inst['VpcId'], 'PrivateIpAddress': inst['PrivateIpAddress'],
            'Status': 'in-use', 'OwnerId': ctx.account, 'InterfaceType': 'interface',
            'Attachment': {'DeviceIndex': 0, 'Status': 'attached',
                           'DeleteOnTermination': True},
            'Groups': out['SecurityGroups']}]
        if inst.get('PublicIp') and st in ('pending', 'running'):
            out['PublicIpAddress'] = inst['PublicIp']
            out['PublicDnsName'] = 'ec2-' + inst['PublicIp'].replace('.', '-') + \
                ('.compute-1.amazonaws.com' if ctx.region == 'us-east-1'
                 else f'.{ctx.region}.compute.amazonaws.com')
    else:
        out['StateReason'] = {'Code': 'Client.UserInitiatedShutdown',
                              'Message': 'Client.UserInitiatedShutdown: User initiated '
                                         'shutdown'}
    if st == 'stopped':
        out['StateReason'] = {'Code': 'Client.UserInitiatedShutdown',
                              'Message': 'Client.UserInitiatedShutdown: User initiated '
                                         'shutdown'}
    return out


def _default_subnet(ctx, r):
    for s in sorted(r['subnets'].values(), key=lambda s: s['AvailabilityZone']):
        v = r['vpcs'].get(s['VpcId'])
        if v is not None and v.get('IsDefault') and s.get('DefaultForAz'):
            return s
    raise AwsError('VPCIdNotSpecified', 'No default VPC for this user. GroupName is only '
                                        'supported for EC2-Classic and default VPC.')


def _profile(ctx, spec):
    """The IAM instance profile named by {Arn} or {Name}: it must exist and
    be propagated (iam_propagation_seconds after its creation)."""
    if not spec:
        return None
    iam = ctx.store('iam').get('profiles') or {}
    name = spec.get('Name')
    arn = spec.get('Arn')
    pr = None
    for p in iam.values():
        if (name and p['InstanceProfileName'] == name) or (arn and p['Arn'] == arn):
            pr = p
    label = name or arn
    window = float(ctx.config.get('iam_propagation_seconds') or 0)
    if pr is None or (window > 0 and ctx.now() < pr['CreateDate'] + window):
        what = 'name' if name else 'arn'
        raise AwsError('InvalidParameterValue',
                       f'Value ({label}) for parameter iamInstanceProfile.{what} is invalid. '
                       f'Invalid IAM Instance Profile {what}')
    return {'Arn': pr['Arn'], 'Id': pr['InstanceProfileId']}


def _fingerprint(params):
    keep = {k: v for k, v in params.items() if k not in ('ClientToken', 'DryRun')}
    return hashlib.sha256(repr(sorted(keep.items(), key=lambda kv: kv[0])).encode()).hexdigest()


def run_instances(ctx, params):
    r = E._gc(ctx)
    r = _reg(ctx)
    token = params.get('ClientToken')
    if token:
        same = [i for i in r['instances'].values() if i['ClientToken'] == token]
        if same:
            if same[0]['fingerprint'] != _fingerprint(params):
                raise AwsError('IdempotentParameterMismatch',
                               'Arguments on this idempotent request are inconsistent with '
                               'arguments used in previous request(s).')
            return {'ReservationId': same[0]['ReservationId'], 'OwnerId': ctx.account,
                    'Groups': [], 'Instances': [_out(ctx, r, i) for i in same]}
    n_min, n_max = int(params.get('MinCount', 1)), int(params.get('MaxCount', 1))
    if n_min < 1 or n_max < n_min:
        raise AwsError('InvalidParameterValue', 'MinCount and MaxCount must be at least 1 and '
                                                'MinCount <= MaxCount')
    ami = params.get('ImageId')
    if not ami:
        raise AwsError('MissingParameter', 'The request must contain the parameter ImageId')
    if ami not in _images():
        raise AwsError('InvalidAMIID.NotFound', f"The image id '[{ami}]' does not exist")
    itype = params.get('InstanceType', 'm1.small')
    if itype not in INSTANCE_TYPES:
        raise AwsError('InvalidParameterValue', f"Invalid value '{itype}' for InstanceType.")
    key = params.get('KeyName')
    if key and not any(k['KeyName'] == key for k in r['keypairs'].values()):
        raise AwsError('InvalidKeyPair.NotFound', f"The key pair '{key}' does not exist")
    nis = params.get('NetworkInterfaces') or []
    ni0 = nis[0] if nis else {}
    sid = params.get('SubnetId') or ni0.get('SubnetId')
    subnet = E._get(ctx, 'subnets', sid) if sid else _default_subnet(ctx, r)
    groups = list(params.get('SecurityGroupIds') or ni0.get('Groups') or [])
    for g in groups:
        rec = E._get(ctx, 'sgs', g)
        if rec['VpcId'] != subnet['VpcId']:
            raise AwsError('InvalidParameter', f'Security group {g} and subnet '
                                               f'{subnet["SubnetId"]} belong to different '
                                               f'networks.')
    if not groups:
        groups = [g['GroupId'] for g in r['sgs'].values()
                  if g.get('default') and g['VpcId'] == subnet['VpcId']][:1]
    profile = _profile(ctx, params.get('IamInstanceProfile'))
    mo = params.get('MetadataOptions') or {}
    if mo.get('HttpTokens') not in (None, 'optional', 'required'):
        raise AwsError('InvalidParameterValue', 'HttpTokens must be optional or required')
    metadata = {'HttpTokens': mo.get('HttpTokens', 'optional'),
                'HttpPutResponseHopLimit': int(mo.get('HttpPutResponseHopLimit', 1)),
                'HttpEndpoint': mo.get('HttpEndpoint', 'enabled'),
                'InstanceMetadataTags': mo.get('InstanceMetadataTags', 'disabled')}
    tags = E._merge_tags([], [])
    for spec in params.get('TagSpecifications') or []:
        if spec.get('ResourceType') not in ('instance', 'volume', 'network-interface'):
            raise AwsError('InvalidParameterValue',
                           f"'{spec.get('ResourceType')}' is not a valid taggable resource "
                           f"type for this operation.")
        if spec.get('ResourceType') == 'instance':
            tags = E._merge_tags(tags, spec.get('Tags') or [])
    ud = params.get('UserData')
    if isinstance(ud, (bytes, bytearray)):
        ud = base64.b64encode(ud).decode()
    if ud is not None:
        try:
            raw = base64.b64decode(ud, validate=True)
        except ValueError:
            raise AwsError('InvalidParameterValue', 'Invalid BASE64 encoding of user data.')
        if len(raw) > 16384:
            raise AwsError('InvalidParameterValue', 'User data is limited to 16384 bytes')
    placement = params.get('Placement') or {}
    tenancy = placement.get('Tenancy') or 'default'
    if tenancy not in ('default', 'dedicated', 'host'):
        raise AwsError('InvalidParameterValue', f"Value ({tenancy}) for parameter tenancy is "
                                                f"invalid.")
    shutdown = params.get('InstanceInitiatedShutdownBehavior') or 'stop'
    if shutdown not in ('stop', 'terminate'):
        raise AwsError('InvalidParameterValue',
                       f"Value ({shutdown}) for parameter instanceInitiatedShutdownBehavior "
                       f"is invalid.")
    credits = (params.get('CreditSpecification') or {}).get('CpuCredits')
    if credits is not None and credits not in ('standard', 'unlimited'):
        raise AwsError('InvalidParameterValue', f"Value ({credits}) for parameter "
                                                f"cpuCredits is invalid.")
    if credits is None:
        credits = 'standard' if itype.startswith('t2.') else 'unlimited'
    public = ni0.get('AssociatePublicIpAddress')
    if public is None:
        public = bool(subnet.get('MapPublicIpOnLaunch'))
    now = ctx.now()
    rid = E._new_id(ctx, 'r')
    out = []
    for idx in range(n_max):
        iid = E._new_id(ctx, 'i')
        eni = E._new_eni(ctx, r, subnet, ('instance', iid), 'interface',
                         'Primary network interface', groups)
        blocks = []
        for b in params.get('BlockDeviceMappings') or [{'DeviceName': '/dev/xvda', 'Ebs': {}}]:
            ebs = b.get('Ebs') or {}
            blocks.append({'DeviceName': b.get('DeviceName', '/dev/xvda'),
                           'VolumeId': E._new_id(ctx, 'vol'),
                           'DeleteOnTermination': ebs.get('DeleteOnTermination', True),
                           'VolumeSize': ebs.get('VolumeSize', 8),
                           'VolumeType': ebs.get('VolumeType', 'gp3'),
                           'Encrypted': ebs.get('Encrypted', False),
                           '_iops': ebs.get('Iops')})
        inst = {'InstanceId': iid, 'ReservationId': rid, 'ImageId': ami, 'InstanceType': itype,
                'LaunchTime': now, 'created': now, 'AmiLaunchIndex': idx,
                'Architecture': _images()[ami]['Architecture'], 'RootDeviceName': '/dev/xvda',
                'RootDeviceType': 'ebs', 'VirtualizationType': 'hvm', 'Hypervisor': 'xen',
                'ClientToken': token or '', 'EbsOptimized': False, 'EnaSupport': True,
                'SourceDestCheck': True, 'state': 'pending',
                'until': now + _dur(ctx, 'instance_start'),
                'AvailabilityZone': subnet['AvailabilityZone'], 'SubnetId': subnet['SubnetId'],
                'VpcId': subnet['VpcId'], 'PrivateIpAddress': eni['PrivateIpAddress'],
                'EniId': eni['NetworkInterfaceId'], 'Groups': groups, 'KeyName': key,
                'IamInstanceProfile': profile, 'MetadataOptions': metadata, 'Tags': tags,
                'UserData': ud, 'Blocks': blocks, 'fingerprint': _fingerprint(params),
                'PublicIp': f'54.{(idx + 3) % 250}.{int(iid[-4:], 16) % 250}.'
                            f'{int(iid[-2:], 16) % 250 + 1}' if public else None,
                'DisableApiTermination': bool(params.get('DisableApiTermination', False)),
                'Tenancy': tenancy, 'InstanceInitiatedShutdownBehavior': shutdown,
                'Monitoring': 'enabled' if (params.get('Monitoring') or {}).get('Enabled')
                else 'disabled', 'CpuCredits': credits}
        inst['EbsOptimized'] = bool(params.get('EbsOptimized', False))
        for b in blocks:
            b['CreateTime'] = now
            b['Iops'] = (b.pop('_iops', None) or (3000 if b['VolumeType'] == 'gp3' else
                                                   max(100, 3 * int(b['VolumeSize']))))
        r['instances'][iid] = inst
        if profile:
            _associate(ctx, r, inst, profile)
        out.append(_out(ctx, r, inst))
    return {'ReservationId': rid, 'OwnerId': ctx.account, 'Groups': [], 'Instances': out}


INSTANCE_FILTERS = {
    'instance-id': lambda i: [i['InstanceId']],
    'instance-state-name': lambda i: [i['state']],
    'instance-type': lambda i: [i['InstanceType']],
    'image-id': lambda i: [i['ImageId']],
    'vpc-id': lambda i: [i['VpcId']],
    'subnet-id': lambda i: [i['SubnetId']],
    'client-token': lambda i: [i['ClientToken']],
    'key-name': lambda i: [i.get('KeyName')],
    'reservation-id': lambda i: [i['ReservationId']],
    'availability-zone': lambda i: [i['AvailabilityZone']],
}


def _get_all(ctx, ids):
    """The instances ids, all of which must exist: AWS names every missing
    one in a single InvalidInstanceID.NotFound ("The instance IDs 'a, b' do
    not exist")."""
    r = _reg(ctx)
    missing, out = [], []
    for iid in ids:
        try:
            out.append(_get(ctx, iid))
        except AwsError as e:
            if e.code != 'InvalidInstanceID.NotFound':
                raise
            missing.append(iid)
    del r
    if len(missing) == 1:
        raise AwsError('InvalidInstanceID.NotFound',
                       f"The instance ID '{missing[0]}' does not exist")
    if missing:
        raise AwsError('InvalidInstanceID.NotFound',
                       f"The instance IDs '{', '.join(missing)}' do not exist")
    return out


def describe_instances(ctx, params):
    """Paged by instance (MaxResults 5..1000 and NextToken); MaxResults with
    InstanceIds is InvalidParameterCombination, as in AWS ("You cannot
    specify this parameter and the instance IDs parameter in the same
    request"), and explicit ids are answered in one page."""
    r = _reg(ctx)
    ids = params.get('InstanceIds') or []
    if params.get('MaxResults') is not None and ids:
        raise AwsError('InvalidParameterCombination',
                       'The parameter instancesSet cannot be used with the parameter '
                       'maxResults')
    if ids:
        items = _get_all(ctx, ids)
    else:
        items = [i for i in r['instances'].values()
                 if _visible(ctx, i) and not E._too_new(ctx, i, 'instances')]
    for i in items:
        _settle(ctx, i)
    items = E._filter(items, params.get('Filters'), INSTANCE_FILTERS)
    page, tok = E._page(ctx, items, params, 'instances', 5, 1000, 'InstanceIds')
    res = {}
    for i in page:
        res.setdefault(i['ReservationId'], []).append(_out(ctx, r, i))
    out = {'Reservations': [{'ReservationId': k, 'OwnerId': ctx.account, 'Groups': [],
                             'Instances': v} for k, v in res.items()]}
    if tok:
        out['NextToken'] = tok
    return out


def _change(ctx, params, key, allowed, new_state, dur_key, verb):
    r = _reg(ctx)
    insts = [_get(ctx, i) for i in params.get('InstanceIds') or []]
    out = []
    for inst in insts:
        prev = _settle(ctx, inst)
        if prev not in allowed:
            if prev == new_state or (new_state == 'stopping' and prev == 'stopped') or \
                    (new_state == 'pending' and prev == 'running') or \
                    (new_state == 'shutting-down' and prev == 'terminated'):
                out.append({'InstanceId': inst['InstanceId'],
                            'CurrentState': {'Code': STATE_CODES[prev], 'Name': prev},
                            'PreviousState': {'Code': STATE_CODES[prev], 'Name': prev}})
                continue
            raise AwsError('IncorrectInstanceState',
                           f"The instance '{inst['InstanceId']}' is not in a state from which "
                           f"it can be {verb}.")
        if new_state == 'shutting-down' and inst.get('DisableApiTermination'):
            raise AwsError('OperationNotPermitted',
                           f"The instance '{inst['InstanceId']}' may not be terminated. Modify "
                           f"its 'disableApiTermination' instance attribute and try again.")
        inst['state'] = new_state
        inst['until'] = ctx.now() + _dur(ctx, dur_key)
        if new_state == 'pending' and inst.get('PublicIp'):
            # a restarted instance gets a new public address (without an EIP)
            a, b, c, d = inst['PublicIp'].split('.')
            inst['PublicIp'] = f'{a}.{b}.{c}.{(int(d) % 250) + 1}'
        out.append({'InstanceId': inst['InstanceId'],
                    'CurrentState': {'Code': STATE_CODES[new_state], 'Name': new_state},
                    'PreviousState': {'Code': STATE_CODES[prev], 'Name': prev}})
    del r
    return {key: out}


def terminate_instances(ctx, params):
    out = _change(ctx, params, 'TerminatingInstances',
                  ('pending', 'running', 'stopping', 'stopped'), 'shutting-down',
                  'instance_terminate', 'terminated')
    gone = {x['InstanceId'] for x in out['TerminatingInstances']}
    for a in _assocs(_reg(ctx)).values():
        if a['InstanceId'] in gone:
            a['State'] = 'disassociated'
    return out


def stop_instances(ctx, params):
    return _change(ctx, params, 'StoppingInstances', ('running',), 'stopping',
                   'instance_stop', 'stopped')


def start_instances(ctx, params):
    return _change(ctx, params, 'StartingInstances', ('stopped',), 'pending',
                   'instance_start', 'started')


def _blob_text(v):
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    return v


# ModifyInstanceAttribute's attributes: the request member, the attribute
# name AWS uses in its errors, whether the instance must be stopped.
MODIFY_ATTRS = (('InstanceType', 'instanceType', True), ('UserData', 'userData', True),
                ('EbsOptimized', 'ebsOptimized', True), ('Kernel', 'kernel', True),
                ('Ramdisk', 'ramdisk', True), ('DisableApiTermination',
                                                'disableApiTermination', False),
                ('DisableApiStop', 'disableApiStop', False),
                ('SourceDestCheck', 'sourceDestCheck', False),
                ('InstanceInitiatedShutdownBehavior', 'instanceInitiatedShutdownBehavior',
                 False), ('Groups', 'groupSet', False),
                ('BlockDeviceMappings', 'blockDeviceMapping', False),
                ('EnaSupport', 'enaSupport', True), ('SriovNetSupport', 'sriovNetSupport', True))
ATTR_OF = {a: m for m, a, _ in MODIFY_ATTRS}


def modify_instance_attribute(ctx, params):
    """One attribute per call, as AWS: "You can specify only one attribute
    at a time" (a second one is InvalidParameterCombination); InstanceType,
    UserData, EbsOptimized, Kernel, Ramdisk need a stopped instance
    (IncorrectInstanceState); BlockDeviceMapping changes only
    DeleteOnTermination of attached volumes."""
    r = _reg(ctx)
    inst = _get(ctx, params.get('InstanceId'))
    st = _settle(ctx, inst)
    attr = params.get('Attribute')
    given = [m for m, _, _ in MODIFY_ATTRS if m in params]
    if attr:
        if attr not in ATTR_OF:
            raise AwsError('InvalidParameterValue', f"Value ({attr}) for parameter attribute "
                                                    f"is invalid. Unknown attribute.")
        given.append(ATTR_OF[attr])
    if not given:
        raise AwsError('MissingParameter', 'No attributes specified.')
    if len(set(given)) > 1:
        names = ', '.join(a for m, a, _ in MODIFY_ATTRS if m in set(given))
        raise AwsError('InvalidParameterCombination',
                       f'Fields for multiple attribute types specified: {names}')
    member = given[0]
    stopped_only = {m: s for m, _, s in MODIFY_ATTRS}[member]
    if member in params:
        raw = params[member]
        value = raw.get('Value') if isinstance(raw, dict) else raw
    else:
        value = params.get('Value')
    if stopped_only and st != 'stopped':
        raise AwsError('IncorrectInstanceState',
                       f"The instance '{inst['InstanceId']}' is not in the 'stopped' state.")
    if member == 'InstanceType':
        if value not in INSTANCE_TYPES:
            raise AwsError('InvalidParameterValue', f"Invalid value '{value}' for "
                                                    f"InstanceType.")
        inst['InstanceType'] = value
    elif member == 'UserData':
        inst['UserData'] = _blob_text(value)
    elif member in ('EbsOptimized', 'DisableApiTermination', 'SourceDestCheck',
                    'DisableApiStop', 'EnaSupport'):
        inst[member] = value in (True, 'true', 'True')
    elif member == 'InstanceInitiatedShutdownBehavior':
        if value not in ('stop', 'terminate'):
            raise AwsError('InvalidParameterValue',
                           f"Value ({value}) for parameter instanceInitiatedShutdownBehavior "
                           f"is invalid.")
        inst[member] = value
    elif member in ('Kernel', 'Ramdisk'):
        inst[member + 'Id'] = value
    elif member == 'Groups':
        groups = list(params['Groups'])
        for g in groups:
            E._get(ctx, 'sgs', g)
        inst['Groups'] = groups
        eni = r['enis'].get(inst['EniId'])
        if eni is not None:
            eni['Groups'] = list(groups)
    elif member == 'BlockDeviceMappings':
        for m in params['BlockDeviceMappings']:
            dev = m.get('DeviceName')
            ebs = m.get('Ebs') or {}
            blk = [b for b in inst['Blocks'] if b['DeviceName'] == dev]
            if not blk:
                raise AwsError('InvalidInstanceAttributeValue',
                               f'No device is currently mapped at {dev}')
            if ebs.get('VolumeId') and ebs['VolumeId'] != blk[0]['VolumeId']:
                raise AwsError('InvalidInstanceAttributeValue',
                               f"The volume '{ebs['VolumeId']}' is not attached at {dev}")
            if 'DeleteOnTermination' in ebs:
                blk[0]['DeleteOnTermination'] = bool(ebs['DeleteOnTermination'])
    return {}


def describe_instance_attribute(ctx, params):
    _reg(ctx)
    inst = _get(ctx, params.get('InstanceId'))
    attr = params.get('Attribute')
    out = {'InstanceId': inst['InstanceId']}
    if attr == 'userData':
        out['UserData'] = {'Value': inst['UserData']} if inst.get('UserData') else {}
    elif attr == 'instanceType':
        out['InstanceType'] = {'Value': inst['InstanceType']}
    elif attr in ('disableApiTermination', 'ebsOptimized', 'sourceDestCheck',
                  'disableApiStop', 'enaSupport'):
        m = ATTR_OF[attr]
        out[m] = {'Value': bool(inst.get(m, False))}
    elif attr == 'instanceInitiatedShutdownBehavior':
        out['InstanceInitiatedShutdownBehavior'] = {
            'Value': inst.get('InstanceInitiatedShutdownBehavior', 'stop')}
    elif attr in ('kernel', 'ramdisk'):
        v = inst.get(ATTR_OF[attr] + 'Id')
        out['KernelId' if attr == 'kernel' else 'RamdiskId'] = {'Value': v} if v else {}
    elif attr == 'groupSet':
        out['Groups'] = [{'GroupId': g} for g in inst['Groups']]
    elif attr == 'blockDeviceMapping':
        out['BlockDeviceMappings'] = [
            {'DeviceName': b['DeviceName'],
             'Ebs': {'VolumeId': b['VolumeId'], 'Status': 'attached',
                     'DeleteOnTermination': b['DeleteOnTermination']}}
            for b in inst['Blocks']]
    else:
        raise AwsError('InvalidParameterValue', f"Value ({attr}) for parameter attribute is "
                                                f"invalid. Unknown attribute.")
    return out


def modify_instance_metadata_options(ctx, params):
    inst = _get(ctx, params.get('InstanceId'))
    for k in ('HttpTokens', 'HttpPutResponseHopLimit', 'HttpEndpoint', 'InstanceMetadataTags'):
        if params.get(k) is not None:
            inst['MetadataOptions'][k] = params[k]
    return {'InstanceId': inst['InstanceId'],
            'InstanceMetadataOptions': dict(inst['MetadataOptions'], State='pending')}


# ------------------------------------------------- instance profile associations
#
# AWS (AssociateIamInstanceProfile, ReplaceIamInstanceProfileAssociation,
# DisassociateIamInstanceProfile, DescribeIamInstanceProfileAssociations):
# an instance has at most one association (a second Associate is
# IncorrectState "There is an existing association for instance i-...");
# an association id unknown to the account is InvalidAssociationID.NotFound;
# the profile named must be propagated (the same rule as RunInstances);
# an instance launched with a profile has an association too. States:
# associating -> associated, disassociating -> disassociated (immediate here).

def _assocs(r):
    return r.setdefault('profile_assocs', {})


def _assoc_out(a):
    return {'AssociationId': a['AssociationId'], 'InstanceId': a['InstanceId'],
            'IamInstanceProfile': dict(a['IamInstanceProfile']), 'State': a['State']}


def _associate(ctx, r, inst, profile):
    aid = E._new_id(ctx, 'iip-assoc')
    a = {'AssociationId': aid, 'InstanceId': inst['InstanceId'],
         'IamInstanceProfile': dict(profile), 'State': 'associated'}
    _assocs(r)[aid] = a
    inst['IamInstanceProfile'] = dict(profile)
    return a


def _assoc_get(r, aid):
    a = _assocs(r).get(aid)
    if a is None or a['State'] != 'associated':
        raise AwsError('InvalidAssociationID.NotFound',
                       f"The association ID '{aid}' does not exist")
    return a


def _live_for_assoc(ctx, iid):
    inst = _get(ctx, iid)
    if _settle(ctx, inst) not in ('pending', 'running', 'stopping', 'stopped'):
        raise AwsError('IncorrectInstanceState',
                       f"The instance '{iid}' is not in a valid state for this operation.")
    return inst


def associate_iam_instance_profile(ctx, params):
    r = _reg(ctx)
    inst = _live_for_assoc(ctx, params.get('InstanceId'))
    if any(a['InstanceId'] == inst['InstanceId'] and a['State'] == 'associated'
           for a in _assocs(r).values()):
        raise AwsError('IncorrectState', f"There is an existing association for instance "
                                         f"{inst['InstanceId']}")
    profile = _profile(ctx, params.get('IamInstanceProfile'))
    a = _associate(ctx, r, inst, profile)
    return {'IamInstanceProfileAssociation': dict(_assoc_out(a), State='associating')}


def replace_iam_instance_profile_association(ctx, params):
    """For a running instance only (the API reference: "Replaces an IAM
    instance profile for the specified running instance"); on a stopped one
    AWS answers IncorrectState "The association ... is not the active
    association" (disassociate, then associate, instead)."""
    r = _reg(ctx)
    a = _assoc_get(r, params.get('AssociationId'))
    inst = r['instances'].get(a['InstanceId'])
    if inst is None or _settle(ctx, inst) not in ('pending', 'running'):
        raise AwsError('IncorrectState', f"The association {a['AssociationId']} is not the "
                                         f"active association")
    profile = _profile(ctx, params.get('IamInstanceProfile'))
    a['State'] = 'disassociated'
    b = _associate(ctx, r, inst, profile)
    return {'IamInstanceProfileAssociation': dict(_assoc_out(b), State='associating')}


def disassociate_iam_instance_profile(ctx, params):
    r = _reg(ctx)
    a = _assoc_get(r, params.get('AssociationId'))
    a['State'] = 'disassociated'
    inst = r['instances'].get(a['InstanceId'])
    if inst is not None:
        inst['IamInstanceProfile'] = None
    return {'IamInstanceProfileAssociation': dict(_assoc_out(a), State='disassociating')}


ASSOC_FILTERS = {'instance-id': lambda a: [a['InstanceId']], 'state': lambda a: [a['State']]}


def describe_iam_instance_profile_associations(ctx, params):
    r = _reg(ctx)
    ids = params.get('AssociationIds') or []
    if ids:
        items = [_assoc_get(r, i) for i in ids]
    else:
        items = [a for a in _assocs(r).values() if a['State'] == 'associated']
    items = E._filter(items, params.get('Filters'), ASSOC_FILTERS, tags_of=lambda a: [])
    page, tok = E._page(ctx, items, params, 'assocs', 5, 1000, 'AssociationIds')
    out = {'IamInstanceProfileAssociations': [_assoc_out(a) for a in page]}
    if tok:
        out['NextToken'] = tok
    return out


# ------------------------------------------------------- monitoring, credits

def _monitor(ctx, params, state, shown):
    insts = _get_all(ctx, params.get('InstanceIds') or [])
    out = []
    for inst in insts:
        if _settle(ctx, inst) in ('shutting-down', 'terminated'):
            raise AwsError('IncorrectInstanceState',
                           f"The instance '{inst['InstanceId']}' is not in a state from which "
                           f"monitoring can be changed.")
        inst['Monitoring'] = state
        out.append({'InstanceId': inst['InstanceId'], 'Monitoring': {'State': shown}})
    return {'InstanceMonitorings': out}


def monitor_instances(ctx, params):
    return _monitor(ctx, params, 'enabled', 'pending')


def unmonitor_instances(ctx, params):
    return _monitor(ctx, params, 'disabled', 'disabling')


def _burstable(itype):
    return itype.split('.')[0] in ('t2', 't3', 't3a', 't4g')


def modify_instance_credit_specification(ctx, params):
    """Per-instance outcome lists, as AWS: an unknown instance (or one that
    is not a burstable type) lands in UnsuccessfulInstanceCreditSpecifications
    with its error, the call itself succeeds."""
    r = _reg(ctx)
    ok, bad = [], []
    for spec in params.get('InstanceCreditSpecifications') or []:
        iid, credits = spec.get('InstanceId'), spec.get('CpuCredits')
        inst = r['instances'].get(iid)
        if inst is None or not _visible(ctx, inst):
            bad.append({'InstanceId': iid, 'Error': {
                'Code': 'InvalidInstanceID.NotFound',
                'Message': f"The instance ID '{iid}' does not exist"}})
        elif credits not in ('standard', 'unlimited'):
            raise AwsError('InvalidParameterValue',
                           f"Value ({credits}) for parameter cpuCredits is invalid.")
        elif not _burstable(inst['InstanceType']):
            # the model's UnsuccessfulInstanceCreditSpecificationErrorCode
            bad.append({'InstanceId': iid, 'Error': {
                'Code': 'InstanceCreditSpecification.NotSupported',
                'Message': f"The instance type {inst['InstanceType']} does not support "
                           f"credit specifications."}})
        else:
            inst['CpuCredits'] = credits
            ok.append({'InstanceId': iid})
    return {'SuccessfulInstanceCreditSpecifications': ok,
            'UnsuccessfulInstanceCreditSpecifications': bad}


def describe_instance_credit_specifications(ctx, params):
    r = _reg(ctx)
    ids = params.get('InstanceIds') or []
    if params.get('MaxResults') is not None and ids:
        raise AwsError('InvalidParameterCombination',
                       'The parameter instanceIds cannot be used with the parameter '
                       'maxResults')
    items = _get_all(ctx, ids) if ids else [
        i for i in r['instances'].values() if _visible(ctx, i)]
    items = [i for i in items if _burstable(i['InstanceType'])]
    page, tok = E._page(ctx, items, params, 'credits', 5, 1000, 'InstanceIds')
    out = {'InstanceCreditSpecifications': [
        {'InstanceId': i['InstanceId'], 'CpuCredits': i.get('CpuCredits', 'standard')}
        for i in page]}
    if tok:
        out['NextToken'] = tok
    return out


def modify_instance_placement(ctx, params):
    """Tenancy (dedicated|host), HostId and placement group need a stopped
    instance (IncorrectInstanceState); at least one attribute is required."""
    inst = _get(ctx, params.get('InstanceId'))
    st = _settle(ctx, inst)
    keys = [k for k in ('Affinity', 'Tenancy', 'HostId', 'GroupName', 'GroupId')
            if params.get(k) is not None]
    if not keys:
        raise AwsError('InvalidParameterCombination',
                       'At least one of affinity, host ID, tenancy or placement group must '
                       'be specified.')
    if any(k != 'Affinity' for k in keys) and st != 'stopped':
        raise AwsError('IncorrectInstanceState',
                       f"The instance '{inst['InstanceId']}' is not in the 'stopped' state.")
    t = params.get('Tenancy')
    if t is not None and t not in ('dedicated', 'host'):
        raise AwsError('InvalidParameterValue', f"Value ({t}) for parameter tenancy is "
                                                f"invalid.")
    a = params.get('Affinity')
    if a is not None and a not in ('default', 'host'):
        raise AwsError('InvalidParameterValue', f"Value ({a}) for parameter affinity is "
                                                f"invalid.")
    if t:
        inst['Tenancy'] = t
    if a:
        inst['Affinity'] = a
    if params.get('HostId') is not None:
        inst['HostId'] = params['HostId']
    return {'Return': True}


# ---------------------------------------------------------------- volumes
#
# The EBS volumes of the instances (their block device mappings): DescribeVolumes
# (VolumeIds, or Filters; MaxResults 5..500 cannot go with VolumeIds:
# InvalidParameterCombination; an unknown id is InvalidVolume.NotFound) and
# ModifyVolume (size only grows; type and iops change), what an operator does
# out of band. A volume lives while its instance does (volumes kept after
# termination with DeleteOnTermination false are not modelled).

def _volumes(ctx, r):
    out = {}
    for inst in r['instances'].values():
        if _state(ctx.now(), inst) == 'terminated':
            continue
        for b in inst['Blocks']:
            out[b['VolumeId']] = (inst, b)
    return out


def _vol_out(ctx, inst, b):
    return {'VolumeId': b['VolumeId'], 'Size': int(b['VolumeSize']),
            'VolumeType': b['VolumeType'], 'Iops': int(b.get('Iops') or 0),
            'Encrypted': bool(b['Encrypted']), 'State': 'in-use',
            'AvailabilityZone': inst['AvailabilityZone'], 'CreateTime': b.get('CreateTime',
                                                                              inst['LaunchTime']),
            'SnapshotId': '', 'MultiAttachEnabled': False,
            'Attachments': [{'VolumeId': b['VolumeId'], 'InstanceId': inst['InstanceId'],
                             'Device': b['DeviceName'], 'State': 'attached',
                             'AttachTime': inst['LaunchTime'],
                             'DeleteOnTermination': bool(b['DeleteOnTermination'])}],
            'Tags': E._tags_out(inst['Tags'])}


VOLUME_FILTERS = {
    'volume-id': lambda v: [v['VolumeId']],
    'attachment.instance-id': lambda v: [v['Attachments'][0]['InstanceId']],
    'attachment.device': lambda v: [v['Attachments'][0]['Device']],
    'status': lambda v: [v['State']],
    'volume-type': lambda v: [v['VolumeType']],
}


def describe_volumes(ctx, params):
    r = _reg(ctx)
    vols = _volumes(ctx, r)
    ids = params.get('VolumeIds') or []
    missing = [v for v in ids if v not in vols]
    if missing:
        raise AwsError('InvalidVolume.NotFound',
                       f"The volume '{missing[0]}' does not exist." if len(missing) == 1 else
                       f"The volumes '{', '.join(missing)}' do not exist.")
    items = [_vol_out(ctx, *vols[v]) for v in ids] if ids else \
        [_vol_out(ctx, *x) for x in vols.values()]
    items = E._filter(items, params.get('Filters'), VOLUME_FILTERS)
    page, tok = E._page(ctx, items, params, 'volumes', 5, 500, 'VolumeIds')
    out = {'Volumes': page}
    if tok:
        out['NextToken'] = tok
    return out


def modify_volume(ctx, params):
    r = _reg(ctx)
    vols = _volumes(ctx, r)
    vid = params.get('VolumeId')
    if vid not in vols:
        raise AwsError('InvalidVolume.NotFound', f"The volume '{vid}' does not exist.")
    inst, b = vols[vid]
    size = params.get('Size')
    if size is not None and int(size) < int(b['VolumeSize']):
        raise AwsError('InvalidParameterValue',
                       "New size cannot be smaller than existing size")
    orig = {'OriginalSize': int(b['VolumeSize']), 'OriginalVolumeType': b['VolumeType'],
            'OriginalIops': int(b.get('Iops') or 0)}
    if size is not None:
        b['VolumeSize'] = int(size)
    if params.get('VolumeType'):
        b['VolumeType'] = params['VolumeType']
    if params.get('Iops') is not None:
        b['Iops'] = int(params['Iops'])
    return {'VolumeModification': dict(orig, VolumeId=vid, ModificationState='modifying',
                                       TargetSize=int(b['VolumeSize']),
                                       TargetVolumeType=b['VolumeType'],
                                       TargetIops=int(b.get('Iops') or 0), Progress=0,
                                       StartTime=ctx.now())}


# ---------------------------------------------------------------- key pairs

def _key_out(k, material=False):
    out = {'KeyPairId': k['KeyPairId'], 'KeyName': k['KeyName'],
           'KeyFingerprint': k['KeyFingerprint'], 'KeyType': k['KeyType'],
           'Tags': E._tags_out(k['Tags']), 'CreateTime': k['CreateTime']}
    if material:
        out['KeyMaterial'] = k['material']
        del out['CreateTime']
    return out


def create_key_pair(ctx, params):
    r = _reg(ctx)
    name = params.get('KeyName')
    if not name or len(name) > 255:
        raise AwsError('InvalidParameterValue', 'Key pair name must be 1-255 characters')
    if any(k['KeyName'] == name for k in r['keypairs'].values()):
        raise AwsError('InvalidKeyPair.Duplicate', f"The keypair '{name}' already exists.")
    ktype = params.get('KeyType', 'rsa')
    tags = []
    for spec in params.get('TagSpecifications') or []:
        if spec.get('ResourceType') != 'key-pair':
            raise AwsError('InvalidParameterValue',
                           f"'{spec.get('ResourceType')}' is not a valid taggable resource "
                           f"type for this operation.")
        tags = E._merge_tags(tags, spec.get('Tags') or [])
    body = base64.encodebytes(bytes(ctx._state.rng.getrandbits(8) for _ in range(
        64 if ktype == 'ed25519' else 1190))).decode()
    kind = 'OPENSSH' if ktype == 'ed25519' else 'RSA'
    material = f'-----BEGIN {kind} PRIVATE KEY-----\n{body}-----END {kind} PRIVATE KEY-----'
    fp = hashlib.sha1(material.encode()).hexdigest()
    kid = E._new_id(ctx, 'key')
    k = {'KeyPairId': kid, 'KeyName': name, 'KeyType': ktype, 'Tags': tags,
         'KeyFingerprint': ':'.join(fp[i:i + 2] for i in range(0, 40, 2)),
         'CreateTime': ctx.now(), 'created': ctx.now(), 'material': material}
    r['keypairs'][kid] = k
    return _key_out(k, material=True)


KEY_FILTERS = {'key-name': lambda k: [k['KeyName']], 'key-pair-id': lambda k: [k['KeyPairId']],
               'fingerprint': lambda k: [k['KeyFingerprint']]}


def import_key_pair(ctx, params):
    """A public key made elsewhere (AWS::EC2::KeyPair PublicKeyMaterial):
    the same name rule as CreateKeyPair (InvalidKeyPair.Duplicate)."""
    r = _reg(ctx)
    name = params.get('KeyName')
    if not name or len(name) > 255:
        raise AwsError('InvalidParameterValue', 'Key pair name must be 1-255 characters')
    if any(k['KeyName'] == name for k in r['keypairs'].values()):
        raise AwsError('InvalidKeyPair.Duplicate', f"The keypair '{name}' already exists.")
    pub = params.get('PublicKeyMaterial') or b''
    if isinstance(pub, str):
        pub = pub.encode()
    text = pub.decode('utf-8', 'replace').strip()
    if not text.startswith(('ssh-rsa ', 'ssh-ed25519 ', '-----BEGIN')):
        raise AwsError('InvalidKey.Format', 'Key is not in valid OpenSSH public key format')
    tags = []
    for spec in params.get('TagSpecifications') or []:
        if spec.get('ResourceType') != 'key-pair':
            raise AwsError('InvalidParameterValue',
                           f"'{spec.get('ResourceType')}' is not a valid taggable resource "
                           f"type for this operation.")
        tags = E._merge_tags(tags, spec.get('Tags') or [])
    fp = hashlib.md5(pub).hexdigest()
    k = {'KeyPairId': E._new_id(ctx, 'key'), 'KeyName': name,
         'KeyType': 'ed25519' if text.startswith('ssh-ed25519') else 'rsa', 'Tags': tags,
         'KeyFingerprint': ':'.join(fp[i:i + 2] for i in range(0, 32, 2)),
         'CreateTime': ctx.now(), 'created': ctx.now(), 'material': None}
    r['keypairs'][k['KeyPairId']] = k
    out = _key_out(k)
    del out['CreateTime'], out['KeyType']
    return out


def describe_key_pairs(ctx, params):
    r = _reg(ctx)
    keys = list(r['keypairs'].values())
    names = params.get('KeyNames') or []
    ids = params.get('KeyPairIds') or []
    for n in names:
        if not any(k['KeyName'] == n for k in keys):
            raise AwsError('InvalidKeyPair.NotFound', f"The key pair '{n}' does not exist")
    for i in ids:
        if i not in r['keypairs']:
            raise AwsError('InvalidKeyPair.NotFound', f"The key pair ID '{i}' does not exist")
    if names:
        keys = [k for k in keys if k['KeyName'] in names]
    if ids:
        keys = [k for k in keys if k['KeyPairId'] in ids]
    keys = E._filter(keys, params.get('Filters'), KEY_FILTERS)
    return {'KeyPairs': [_key_out(k) for k in keys]}


def delete_key_pair(ctx, params):
    r = _reg(ctx)
    name, kid = params.get('KeyName'), params.get('KeyPairId')
    for k in list(r['keypairs'].values()):
        if (name and k['KeyName'] == name) or (kid and k['KeyPairId'] == kid):
            del r['keypairs'][k['KeyPairId']]
            return {'Return': True, 'KeyPairId': k['KeyPairId']}
    # AWS answers success for a key that does not exist
    return {'Return': True}


# ---------------------------------------------------------------- images

def describe_images(ctx, params):
    imgs = _images()
    ids = params.get('ImageIds') or []
    for i in ids:
        if i not in imgs:
            raise AwsError('InvalidAMIID.NotFound', f"The image id '[{i}]' does not exist")
    items = [imgs[i] for i in ids] if ids else list(imgs.values())
    items = E._filter(items, params.get('Filters'),
                      {'name': lambda i: [i['Name']], 'image-id': lambda i: [i['ImageId']],
                       'state': lambda i: [i['State']],
                       'architecture': lambda i: [i['Architecture']]},
                      tags_of=lambda i: [])
    return {'Images': [dict(i) for i in items]}


EXTRA_HANDLERS = {
    'RunInstances': run_instances, 'DescribeInstances': describe_instances,
    'TerminateInstances': terminate_instances, 'StopInstances': stop_instances,
    'StartInstances': start_instances, 'ModifyInstanceAttribute': modify_instance_attribute,
    'DescribeInstanceAttribute': describe_instance_attribute,
    'ModifyInstanceMetadataOptions': modify_instance_metadata_options,
    'AssociateIamInstanceProfile': associate_iam_instance_profile,
    'ReplaceIamInstanceProfileAssociation': replace_iam_instance_profile_association,
    'DisassociateIamInstanceProfile': disassociate_iam_instance_profile,
    'DescribeIamInstanceProfileAssociations': describe_iam_instance_profile_associations,
    'MonitorInstances': monitor_instances, 'UnmonitorInstances': unmonitor_instances,
    'ModifyInstanceCreditSpecification': modify_instance_credit_specification,
    'DescribeInstanceCreditSpecifications': describe_instance_credit_specifications,
    'ModifyInstancePlacement': modify_instance_placement,
    'DescribeVolumes': describe_volumes, 'ModifyVolume': modify_volume,
    'CreateKeyPair': create_key_pair, 'ImportKeyPair': import_key_pair,
    'DescribeKeyPairs': describe_key_pairs,
    'DeleteKeyPair': delete_key_pair, 'DescribeImages': describe_images,
}


def inventory_of(now, region, r, add):
    """For ec2.inventory: instances not yet terminated, key pairs."""
    for k, i in (r.get('instances') or {}).items():
        if _state(now, i) != 'terminated':
            add('instance', k)
    for k in (r.get('keypairs') or {}):
        add('key-pair', k)
