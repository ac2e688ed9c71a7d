"""Systems Manager Parameter Store: String, StringList and SecureString
parameters with versions, tags, and the public /aws/service/... parameters.

Store: regions[region][name] = {Name, Type, Value, Version, Description, KeyId,
                        Tier, DataType, LastModifiedDate, Tags [...]}

AWS behaviour followed (PutParameter / GetParameters / DescribeParameters API
references, "Working with parameter hierarchies"):
- a name starting with "aws" or "ssm" (any case, with or without a leading
  slash) is refused; a hierarchical name starts with "/"; at most 15 levels;
- PutParameter of an existing name without Overwrite is ParameterAlreadyExists;
  Tags together with Overwrite is a ValidationException; every write bumps
  Version;
- GetParameters takes at most 10 names and answers the unknown ones in
  InvalidParameters; a SecureString without WithDecryption answers ciphertext;
- the public parameters under /aws/service/ belong to no account, exist in
  every region, and cannot be written.
"""
import base64
import re

from .. import tags
from ..core import AwsError

# The AMI ids answered by the public "latest AMI" parameters. Deterministic so
# that tests can compare; EC2's DescribeImages in this emulator knows them.
PUBLIC_AMIS = {
    '/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id':
        'ami-0ec2a11ec5023a001',
    '/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id':
        'ami-0ec2a11ec5002a002',
    '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64':
        'ami-0a12023de7a000003',
    '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64':
        'ami-0a12023de7a000004',
    '/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2':
        'ami-0a1200002a0000005',
    '/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id':
        'ami-0ub2204a0000000006',
}

_NAME_RE = re.compile(r'^[a-zA-Z0-9_.\-/]+$')
_TYPES = ('String', 'StringList', 'SecureString')


def _st(ctx):
    return ctx.store('ssm').setdefault('regions', {}).setdefault(ctx.region, {})


def _arn(ctx, name):
    return ctx.arn('ssm', 'parameter' + (name if name.startswith('/') else '/' + name))


def _check_name(name):
    if not name or len(name) > 1011 or not _NAME_RE.match(name):
        raise AwsError('ValidationException',
                       f'Parameter name: {name!r} is not valid. It can contain only '
                       f'a-zA-Z0-9_.-/ characters.')
    bare = name.lstrip('/').lower()
    if bare.startswith('aws') or bare.startswith('ssm'):
        raise AwsError('ValidationException',
                       'Parameter name: can\'t be prefixed with "aws" or "ssm" '
                       '(case-insensitive).')
    if '/' in name and not name.startswith('/'):
        raise AwsError('ValidationException',
                       'Parameter name must be a fully qualified name: a hierarchical '
                       'name begins with a forward slash (/).')
    if name.count('/') > 15:
        raise AwsError('HierarchyLevelLimitExceededException',
                       'A hierarchy can have a maximum of 15 levels.')


def _public(name):
    if name in PUBLIC_AMIS:
        return {'Name': name, 'Type': 'String', 'Value': PUBLIC_AMIS[name], 'Version': 1,
                'DataType': 'aws:ec2:image', 'LastModifiedDate': 1700000000.0, 'Tier': 'Standard',
                'Tags': [], 'public': True}
    return None


def _find(ctx, name):
    if name.startswith('arn:'):
        # arn:aws:ssm:region:account:parameter/name (a hierarchical name keeps its slash)
        rest = name.split(':parameter', 1)[-1]
        name = rest if rest.count('/') > 1 else rest.lstrip('/')
    # name:version selects an earlier value (kept in 'Older'); a label
    # selector reads the latest version here
    name, _, sel = name.partition(':')
    par = _public(name) or _st(ctx).get(name)
    if par is None or (ctx.reading() and not par.get('public') and
                       ctx.too_new(par['Created'], 'parameter')):
        return None
    if sel.isdigit() and int(sel) != par['Version']:
        old = par.get('Older', {}).get(sel)
        if old is None:
            raise AwsError('ParameterVersionNotFound',
                           f'Systems Manager could not find version {sel} of {name}. '
                           'Verify the version and try again.')
        return dict(par, Value=old, Version=int(sel))
    return par


def _cipher(ctx, par):
    # what AWS answers for a SecureString read without decryption: the
    # ciphertext blob, base64; here an opaque stand-in that is not the value
    return base64.b64encode(b'cairn-emu-kms:' + par['Name'].encode() + b':' +
                            str(par['Version']).encode()).decode()


def _out(ctx, par, decrypt):
    v = par['Value']
    if par['Type'] == 'SecureString' and not decrypt:
        v = _cipher(ctx, par)
    return {'Name': par['Name'], 'Type': par['Type'], 'Value': v, 'Version': par['Version'],
            'LastModifiedDate': par['LastModifiedDate'], 'ARN': _arn(ctx, par['Name']),
            'DataType': par.get('DataType', 'text')}


def put_parameter(ctx, p):
    name = p['Name']
    if name.startswith('/aws/') or name in PUBLIC_AMIS:
        raise AwsError('AccessDeniedException', 'No access to reserved parameter name: '
                                                f'{name}.')
    _check_name(name)
    st = _st(ctx)
    typ = p.get('Type')
    if typ is not None and typ not in _TYPES:
        raise AwsError('ValidationException', f"1 validation error detected: Value '{typ}' at "
                                              "'type' failed to satisfy constraint: Member must "
                                              "satisfy enum value set: [SecureString, "
                                              "StringList, String]")
    if p.get('Tags') and p.get('Overwrite'):
        raise AwsError('ValidationException', 'Invalid request: tags and overwrite can\'t be '
                                              'used together. To create a parameter with tags, '
                                              'please remove overwrite flag. To update tags on '
                                              'an existing parameter, please use '
                                              'AddTagsToResource or RemoveTagsFromResource.')
    if len(p['Value']) > (8192 if p.get('Tier') == 'Advanced' else 4096):
        raise AwsError('ValidationException',
                       'Standard tier parameters support a maximum parameter value of 4096 '
                       'characters. To create a larger parameter value, upgrade the parameter '
                       'to use the advanced-parameter tier.')
    dtype = p.get('DataType', 'text')
    if dtype not in ('text', 'aws:ec2:image', 'aws:ssm:integration'):
        raise AwsError('ValidationException', f'The following data type is not supported: '
                                              f'{dtype} (Data type names are all lowercase.)')
    if dtype == 'aws:ec2:image' and not re.match(r'^ami-[0-9a-z]{8,17}$', p['Value']):
        raise AwsError('ValidationException', f'Parameter value, {p["Value"]}, is not a valid '
                                              f'AMI ID.')
    tags.check([(t.get('Key'), t.get('Value')) for t in p.get('Tags', [])],
               code='ValidationException')
    old = st.get(name)
    now = ctx.now()
    if old is not None:
        if not p.get('Overwrite'):
            raise AwsError('ParameterAlreadyExists', 'The parameter already exists. To overwrite '
                                                     'this value, set the overwrite option in '
                                                     'the request to true.')
        if typ is not None and typ != old['Type'] and 'SecureString' in (typ, old['Type']):
            raise AwsError('ValidationException', 'You can\'t change the parameter type of a '
                                                  'SecureString parameter.'
                                                  if old['Type'] == 'SecureString' else
                                                  'You can\'t change a parameter type to '
                                                  'SecureString.')
        old.setdefault('Older', {})[str(old['Version'])] = old['Value']
        old.update({'Value': p['Value'], 'Version': old['Version'] + 1, 'LastModifiedDate': now,
                    'DataType': dtype})
        if typ:
            old['Type'] = typ
        for k in ('Description', 'KeyId', 'AllowedPattern'):
            if k in p:
                old[k] = p[k]
        if p.get('Tier'):
            old['Tier'] = p['Tier']
        return {'Version': old['Version'], 'Tier': old['Tier']}
    if typ is None:
        raise AwsError('ValidationException', 'A parameter type is required when you create a '
                                              'parameter.')
    pat = p.get('AllowedPattern')
    if pat and not re.fullmatch(pat, p['Value']):
        raise AwsError('ParameterPatternMismatchException',
                       f'Parameter value, {p["Value"]!r}, failed to satisfy constraint specified '
                       f'by the AllowedPattern, {pat}.')
    st[name] = {'Name': name, 'Type': typ, 'Value': p['Value'], 'Version': 1,
                'Description': p.get('Description'), 'KeyId': p.get('KeyId') or
                ('alias/aws/ssm' if typ == 'SecureString' else None),
                'Tier': p.get('Tier') if p.get('Tier') in ('Advanced', 'Intelligent-Tiering')
                else 'Standard', 'DataType': dtype, 'AllowedPattern': pat,
                'LastModifiedDate': now, 'Created': now, 'Tags': list(p.get('Tags', []))}
    return {'Version': 1, 'Tier': st[name]['Tier']}


def _not_found(name=None):
    return AwsError('ParameterNotFound', f'Parameter {name} not found.' if name else '')


def get_parameter(ctx, p):
    par = _find(ctx, p['Name'])
    if par is None:
        raise _not_found(p['Name'])
    return {'Parameter': _out(ctx, par, p.get('WithDecryption'))}


def get_parameters(ctx, p):
    names = p['Names']
    if len(names) > 10:
        raise AwsError('ValidationException', "1 validation error detected: Value at 'names' "
                                              "failed to satisfy constraint: Member must have "
                                              "length less than or equal to 10")
    found, invalid = [], []
    for n in names:
        par = _find(ctx, n)
        if par is None:
            invalid.append(n)
        else:
            found.append(_out(ctx, par, p.get('WithDecryption')))
    return {'Parameters': found, 'InvalidParameters': invalid}


def get_parameters_by_path(ctx, p):
    path = p['Path'].rstrip('/') + '/'
    rec = p.get('Recursive', False)
    pool = [par for par in list(_st(ctx).values()) + [_public(n) for n in PUBLIC_AMIS]
            if par['Name'].startswith(path) and (rec or '/' not in par['Name'][len(path):])]
    pool.sort(key=lambda x: x['Name'])
    start = int(p.get('NextToken') or 0)
    n = ctx.page_size(p.get('MaxResults'), 10)
    out = {'Parameters': [_out(ctx, x, p.get('WithDecryption')) for x in pool[start:start + n]]}
    if start + n < len(pool):
        out['NextToken'] = str(start + n)
    return out


def delete_parameter(ctx, p):
    st = _st(ctx)
    if p['Name'] not in st:
        raise _not_found(p['Name'])
    del st[p['Name']]
    return {}


def delete_parameters(ctx, p):
    st = _st(ctx)
    gone, bad = [], []
    for n in p['Names']:
        if st.pop(n, None) is not None:
            gone.append(n)
        else:
            bad.append(n)
    return {'DeletedParameters': gone, 'InvalidParameters': bad}


def _match(par, f):
    key, opt, vals = f['Key'], f.get('Option', 'Equals'), f.get('Values', [])
    if key.startswith('tag:'):
        tv = {t['Key']: t.get('Value', '') for t in par['Tags']}
        return key[4:] in tv and (not vals or tv[key[4:]] in vals)
    if key == 'Name':
        name = par['Name']
        if opt == 'BeginsWith':
            return any(name.startswith(v) for v in vals)
        if opt == 'Contains':
            return any(v in name for v in vals)
        return name in vals or any(name == '/' + v.lstrip('/') for v in vals)
    if key in ('Type', 'KeyId', 'Tier', 'DataType'):
        return par.get(key) in vals
    if key == 'Path':
        path = vals[0].rstrip('/') + '/' if vals else '/'
        rest = par['Name'][len(path):]
        return par['Name'].startswith(path) and (opt == 'Recursive' or '/' not in rest)
    raise AwsError('InvalidFilterKey', f'The following filter key is not valid: {key}.')


def describe_parameters(ctx, p):
    pool = sorted(_st(ctx).values(), key=lambda x: x['Name'])
    for f in p.get('ParameterFilters', []):
        pool = [x for x in pool if _match(x, f)]
    for f in p.get('Filters', []):
        pool = [x for x in pool if _match(x, {'Key': f['Key'], 'Values': f['Values'],
                                              'Option': 'BeginsWith' if f['Key'] == 'Name'
                                              else 'Equals'})]
    start = int(p.get('NextToken') or 0)
    n = ctx.page_size(p.get('MaxResults'), 50)
    items = []
    for x in pool[start:start + n]:
        d = {'Name': x['Name'], 'ARN': _arn(ctx, x['Name']), 'Type': x['Type'],
             'Version': x['Version'], 'LastModifiedDate': x['LastModifiedDate'],
             'Tier': x['Tier'], 'DataType': x['DataType'], 'Policies': []}
        for k in ('Description', 'KeyId', 'AllowedPattern'):
            if x.get(k):
                d[k] = x[k]
        items.append(d)
    out = {'Parameters': items}
    if start + n < len(pool):
        out['NextToken'] = str(start + n)
    return out


def _tagged(ctx, p):
    if p['ResourceType'] != 'Parameter':
        raise AwsError('InvalidResourceType', 'The resource type is not valid.')
    par = _st(ctx).get(p['ResourceId'])
    if par is None:
        raise AwsError('InvalidResourceId', 'The resource ID is not valid. Verify that the '
                                            'resource ID is correct and try again.')
    return par


def add_tags_to_resource(ctx, p):
    par = _tagged(ctx, p)
    tags.check([(t.get('Key'), t.get('Value')) for t in p['Tags']], code='ValidationException')
    cur = {t['Key']: t.get('Value', '') for t in par['Tags']}
    cur.update({t['Key']: t.get('Value', '') for t in p['Tags']})
    if len(cur) > 50:
        raise AwsError('TooManyTagsError', 'The Tags parameter contains more than 50 tags.')
    par['Tags'] = [{'Key': k, 'Value': v} for k, v in cur.items()]
    return {}


def remove_tags_from_resource(ctx, p):
    par = _tagged(ctx, p)
    par['Tags'] = [t for t in par['Tags'] if t['Key'] not in p['TagKeys']]
    return {}


def list_tags_for_resource(ctx, p):
    return {'TagList': list(_tagged(ctx, p)['Tags'])}


HANDLERS = {
    'PutParameter': put_parameter, 'GetParameter': get_parameter,
    'GetParameters': get_parameters, 'GetParametersByPath': get_parameters_by_path,
    'DeleteParameter': delete_parameter, 'DeleteParameters': delete_parameters,
    'DescribeParameters': describe_parameters, 'AddTagsToResource': add_tags_to_resource,
    'RemoveTagsFromResource': remove_tags_from_resource,
    'ListTagsForResource': list_tags_for_resource,
}


def inventory(store):
    return [{'service': 'ssm', 'type': 'parameter', 'id': n, 'region': region}
            for region, pars in sorted((store.get('regions') or {}).items())
            for n in sorted(pars)]
