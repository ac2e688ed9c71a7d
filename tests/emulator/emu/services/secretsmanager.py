"""Secrets Manager: secrets, versions with staging labels, scheduled deletion.

Store: regions[region][name] = {Name, ARN, Description, KmsKeyId, Tags [...], CreatedDate,
                        LastChangedDate, LastAccessedDate, DeletedDate|None,
                        DeletionDate|None, Versions {id: {SecretString|SecretBinary (base64),
                        Stages [...], CreatedDate}}}
A secret scheduled for deletion keeps its name until DeletionDate; it is purged
lazily when that date has passed.
"""
import base64
import re
import string

from .. import tags
from ..core import KMS_KEY_REF_RE, AwsError

_NAME_RE = re.compile(r'^[A-Za-z0-9/_+=.@-]+$')
_SUFFIX = string.ascii_letters + string.digits
MAX_VERSIONS = 100


def _st(ctx):
    # secret names are unique per Region
    s = ctx.store('secretsmanager').setdefault('regions', {}).setdefault(ctx.region, {})
    now = ctx.now()
    for name in [n for n, x in s.items() if x.get('DeletionDate') and x['DeletionDate'] <= now]:
        del s[name]
    return s


def _find(ctx, secret_id, allow_deleted=True):
    st = _st(ctx)
    sec = st.get(secret_id)
    if sec is None and secret_id.startswith('arn:'):
        for x in st.values():
            # full ARN, or partial ARN without the random 6-character suffix
            if x['ARN'] == secret_id or x['ARN'][:-7] == secret_id:
                sec = x
                break
    if sec is None or sec.get('purging') or \
            (ctx.reading() and ctx.too_new(sec['CreatedDate'], 'secret')):
        raise AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified "
                                                    "secret.")
    if not allow_deleted and sec.get('DeletedDate'):
        raise AwsError('InvalidRequestException',
                       "You can't perform this operation on the secret because it was marked "
                       "for deletion.")
    return sec


def _check_kms(ref):
    """KmsKeyId: "the ARN, key ID, or alias of the KMS key" (CreateSecret). The
    emulator has no KMS: anything that is not one of those forms is refused as
    AWS refuses a key it cannot find."""
    if ref is not None and not KMS_KEY_REF_RE.match(ref):
        raise AwsError('InvalidParameterException', f'Could not find KMS key: {ref}')


def _value(p):
    if 'SecretString' in p and 'SecretBinary' in p:
        raise AwsError('InvalidParameterException', 'You must provide either SecretString or '
                                                    'SecretBinary, but not both.')
    if 'SecretString' in p:
        return {'SecretString': p['SecretString']}
    if 'SecretBinary' in p:
        return {'SecretBinary': base64.b64encode(p['SecretBinary']).decode()}
    return None


def _same_value(v, val):
    return v.get('SecretString') == val.get('SecretString') and \
        v.get('SecretBinary') == val.get('SecretBinary')


def _add_version(ctx, sec, token, val, stages=None):
    """Adds a version (idempotent per token). Returns the version id."""
    if token in sec['Versions']:
        if _same_value(sec['Versions'][token], val):
            return token
        raise AwsError('ResourceExistsException', "You can't modify an existing version, you "
                                                  "can only create new versions.")
    stages = list(stages or ['AWSCURRENT'])
    now = ctx.now()
    for vid, v in sec['Versions'].items():
        if 'AWSCURRENT' in stages and 'AWSCURRENT' in v['Stages']:
            v['Stages'].remove('AWSCURRENT')
            for other in sec['Versions'].values():
                if 'AWSPREVIOUS' in other['Stages']:
                    other['Stages'].remove('AWSPREVIOUS')
            v['Stages'].append('AWSPREVIOUS')
        for label in stages:
            if label not in ('AWSCURRENT',) and label in v['Stages']:
                v['Stages'].remove(label)
    entry = dict(val)
    entry['Stages'] = stages
    entry['CreatedDate'] = now
    sec['Versions'][token] = entry
    # deprecated versions (no label) beyond the quota are dropped, oldest first
    idle = sorted((v['CreatedDate'], k) for k, v in sec['Versions'].items() if not v['Stages'])
    while len(sec['Versions']) > MAX_VERSIONS and idle:
        del sec['Versions'][idle.pop(0)[1]]
    sec['LastChangedDate'] = now
    return token


def _token(ctx, p):
    return p.get('ClientRequestToken') or ctx.uuid()


def create_secret(ctx, p):
    st = _st(ctx)
    name = p['Name']
    if not _NAME_RE.match(name):
        raise AwsError('InvalidParameterException', 'Invalid name. Must be a valid name '
                                                    'containing alphanumeric characters, or '
                                                    'any of the following: -/_+=.@!')
    tags.check([(t.get('Key'), t.get('Value')) for t in p.get('Tags', [])])
    _check_kms(p.get('KmsKeyId'))
    val = _value(p)
    token = _token(ctx, p)
    sec = st.get(name)
    if sec is not None:
        if sec.get('DeletedDate'):
            raise AwsError('InvalidRequestException',
                           "You can't create this secret because a secret with this name is "
                           "already scheduled for deletion.")
        if token in sec['Versions'] and val is not None and \
                _same_value(sec['Versions'][token], val):
            return {'ARN': sec['ARN'], 'Name': name, 'VersionId': token}
        raise AwsError('ResourceExistsException', f'The operation failed because the secret '
                                                  f'{name} already exists.')
    now = ctx.now()
    suffix = ''.join(ctx._state.rng.choice(_SUFFIX) for _ in range(6))
    sec = {'Name': name, 'ARN': ctx.arn('secretsmanager', f'secret:{name}-{suffix}'),
           'Description': p.get('Description'), 'KmsKeyId': p.get('KmsKeyId'),
           'Tags': list(p.get('Tags', [])), 'CreatedDate': now, 'LastChangedDate': now,
           'LastAccessedDate': None, 'DeletedDate': None, 'DeletionDate': None,
           'Versions': {}}
    out = {'ARN': sec['ARN'], 'Name': name}
    if val is not None:
        out['VersionId'] = _add_version(ctx, sec, token, val)
    st[name] = sec
    return out


def _stages_map(sec):
    return {k: list(v['Stages']) for k, v in sec['Versions'].items() if v['Stages']}


def _describe(sec, list_entry=False):
    out = {'ARN': sec['ARN'], 'Name': sec['Name'], 'LastChangedDate': sec['LastChangedDate'],
           'CreatedDate': sec['CreatedDate']}
    for k in ('Description', 'KmsKeyId', 'DeletedDate'):
        if sec.get(k) is not None:
            out[k] = sec[k]
    if sec.get('LastAccessedDate'):
        out['LastAccessedDate'] = sec['LastAccessedDate']
    if sec['Tags']:
        out['Tags'] = sec['Tags']
    out['SecretVersionsToStages' if list_entry else 'VersionIdsToStages'] = _stages_map(sec)
    return out


def describe_secret(ctx, p):
    return _describe(_find(ctx, p['SecretId']))


def get_secret_value(ctx, p):
    sec = _find(ctx, p['SecretId'], allow_deleted=False)
    vid = p.get('VersionId')
    stage = p.get('VersionStage')
    if vid is not None:
        v = sec['Versions'].get(vid)
        if v is None or (stage and stage not in v['Stages']):
            raise AwsError('ResourceNotFoundException', "Secrets Manager can't find the "
                                                        f"specified secret value for VersionId: "
                                                        f"{vid}")
    else:
        stage = stage or 'AWSCURRENT'
        hit = [(k, v) for k, v in sec['Versions'].items() if stage in v['Stages']]
        if not hit:
            raise AwsError('ResourceNotFoundException', "Secrets Manager can't find the "
                                                        f"specified secret value for staging "
                                                        f"label: {stage}")
        vid, v = hit[0]
    # AWS records access by day
    sec['LastAccessedDate'] = float(int(ctx.now() // 86400) * 86400)
    out = {'ARN': sec['ARN'], 'Name': sec['Name'], 'VersionId': vid,
           'VersionStages': list(v['Stages']), 'CreatedDate': v['CreatedDate']}
    if 'SecretString' in v:
        out['SecretString'] = v['SecretString']
    if 'SecretBinary' in v:
        out['SecretBinary'] = base64.b64decode(v['SecretBinary'])
    return out


def put_secret_value(ctx, p):
    sec = _find(ctx, p['SecretId'], allow_deleted=False)
    val = _value(p)
    if val is None:
        raise AwsError('InvalidRequestException', 'You must provide either SecretString or '
                                                  'SecretBinary.')
    vid = _add_version(ctx, sec, _token(ctx, p), val, p.get('VersionStages'))
    return {'ARN': sec['ARN'], 'Name': sec['Name'], 'VersionId': vid,
            'VersionStages': list(sec['Versions'][vid]['Stages'])}


def update_secret(ctx, p):
    sec = _find(ctx, p['SecretId'], allow_deleted=False)
    if 'Description' in p:
        sec['Description'] = p['Description']
    if 'KmsKeyId' in p:
        _check_kms(p['KmsKeyId'])
        sec['KmsKeyId'] = p['KmsKeyId']
    sec['LastChangedDate'] = ctx.now()
    out = {'ARN': sec['ARN'], 'Name': sec['Name']}
    val = _value(p)
    if val is not None:
        out['VersionId'] = _add_version(ctx, sec, _token(ctx, p), val)
    return out


def delete_secret(ctx, p):
    force = p.get('ForceDeleteWithoutRecovery', False)
    try:
        sec = _find(ctx, p['SecretId'])
    except AwsError:
        if not force:
            raise
        # "If you forcibly delete an already deleted or nonexistent secret, the
        # operation does not return ResourceNotFoundException" (DeleteSecret,
        # Secrets Manager API Reference)
        sid = p['SecretId']
        out = {'Name': sid.split(':secret:', 1)[-1] if sid.startswith('arn:') else sid,
               'DeletionDate': ctx.now()}
        if sid.startswith('arn:'):
            out['ARN'] = sid
        return out
    if force and 'RecoveryWindowInDays' in p:
        raise AwsError('InvalidParameterException', "You can't use ForceDeleteWithoutRecovery "
                                                    "in conjunction with RecoveryWindowInDays.")
    days = p.get('RecoveryWindowInDays', 30)
    if not 7 <= days <= 30:
        raise AwsError('InvalidParameterException', 'The RecoveryWindowInDays value must be '
                                                    'between 7 and 30 days (inclusive).')
    now = ctx.now()
    if force:
        # "Secrets Manager performs the actual deletion with an asynchronous
        # background process, so there might be a short delay before the secret
        # is permanently deleted. If you delete a secret and then immediately
        # create a secret with the same name, use appropriate back off and retry
        # logic." (DeleteSecret): the name stays taken config['async']
        # ['secret_purge'] seconds; CreateSecret answers InvalidRequestException.
        purge = float((ctx.config.get('async') or {}).get('secret_purge', 0.5))
        if purge <= 0:
            del _st(ctx)[sec['Name']]
        else:
            sec['purging'] = True
            sec['DeletedDate'] = now
            sec['DeletionDate'] = now + purge
        return {'ARN': sec['ARN'], 'Name': sec['Name'], 'DeletionDate': now}
    if sec.get('DeletedDate'):
        raise AwsError('InvalidRequestException',
                       "You can't perform this operation on the secret because it was already "
                       "scheduled for deletion.")
    sec['DeletedDate'] = now
    sec['DeletionDate'] = now + days * 86400
    return {'ARN': sec['ARN'], 'Name': sec['Name'], 'DeletionDate': sec['DeletionDate']}


def restore_secret(ctx, p):
    sec = _find(ctx, p['SecretId'])
    sec['DeletedDate'] = None
    sec['DeletionDate'] = None
    return {'ARN': sec['ARN'], 'Name': sec['Name']}


def tag_resource(ctx, p):
    sec = _find(ctx, p['SecretId'], allow_deleted=False)
    tags.check([(t.get('Key'), t.get('Value')) for t in p['Tags']])
    by = {t['Key']: t['Value'] for t in sec['Tags']}
    for t in p['Tags']:
        by[t['Key']] = t.get('Value', '')
    if len(by) > 50:
        raise AwsError('InvalidParameterException', 'The maximum number of tags (50) has been '
                                                    'exceeded.')
    sec['Tags'] = [{'Key': k, 'Value': v} for k, v in by.items()]
    return {}


def untag_resource(ctx, p):
    sec = _find(ctx, p['SecretId'], allow_deleted=False)
    sec['Tags'] = [t for t in sec['Tags'] if t['Key'] not in p['TagKeys']]
    return {}


def _matches(sec, filters):
    for f in filters:
        key, values = f['Key'], f.get('Values', [])
        ok = False
        for v in values:
            neg = v.startswith('!')
            v = v[1:] if neg else v
            if key == 'name':
                hit = sec['Name'].startswith(v)
            elif key == 'description':
                hit = (sec.get('Description') or '').startswith(v)
            elif key == 'tag-key':
                hit = any(t['Key'].startswith(v) for t in sec['Tags'])
            elif key == 'tag-value':
                hit = any(t['Value'].startswith(v) for t in sec['Tags'])
            elif key == 'all':
                hit = any(x.startswith(v) for x in
                          [sec['Name'], sec.get('Description') or ''] +
                          [t['Key'] for t in sec['Tags']] + [t['Value'] for t in sec['Tags']])
            else:
                hit = False
            if hit != neg:
                ok = True
        if not ok:
            return False
    return True


def list_secrets(ctx, p):
    secs = [s for s in _st(ctx).values() if _matches(s, p.get('Filters', []))
            and (p.get('IncludePlannedDeletion') or not s.get('DeletedDate'))
            and not s.get('purging')
            and not ctx.too_new(s['CreatedDate'], 'secret')]
    secs.sort(key=lambda s: (s['CreatedDate'], s['Name']))
    if p.get('SortOrder') == 'desc':
        secs.reverse()
    start = 0
    if 'NextToken' in p:
        try:
            start = int(base64.urlsafe_b64decode(p['NextToken'].encode()).decode())
        except ValueError:
            raise AwsError('InvalidNextTokenException', 'The NextToken value is invalid.')
    limit = ctx.page_size(p.get('MaxResults'), 100)
    page = secs[start:start + limit]
    out = {'SecretList': [_describe(s, list_entry=True) for s in page]}
    if start + limit < len(secs):
        out['NextToken'] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    return out


def list_secret_version_ids(ctx, p):
    sec = _find(ctx, p['SecretId'])
    vs = sorted(sec['Versions'].items(), key=lambda kv: kv[1]['CreatedDate'])
    if not p.get('IncludeDeprecated'):
        vs = [kv for kv in vs if kv[1]['Stages']]
    return {'ARN': sec['ARN'], 'Name': sec['Name'],
            'Versions': [{'VersionId': k, 'VersionStages': list(v['Stages']),
                          'CreatedDate': v['CreatedDate']} for k, v in vs]}


def get_random_password(ctx, p):
    n = p.get('PasswordLength', 32)
    alphabet = ''
    if not p.get('ExcludeLowercase'):
        alphabet += string.ascii_lowercase
    if not p.get('ExcludeUppercase'):
        alphabet += string.ascii_uppercase
    if not p.get('ExcludeNumbers'):
        alphabet += string.digits
    if not p.get('ExcludePunctuation'):
        alphabet += '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'
    if p.get('IncludeSpace'):
        alphabet += ' '
    alphabet = ''.join(c for c in alphabet if c not in p.get('ExcludeCharacters', ''))
    if not alphabet:
        raise AwsError('InvalidParameterException', 'No characters left to choose from.')
    rng = ctx._state.rng
    return {'RandomPassword': ''.join(rng.choice(alphabet) for _ in range(n))}


HANDLERS = {
    'CreateSecret': create_secret, 'DescribeSecret': describe_secret,
    'GetSecretValue': get_secret_value, 'PutSecretValue': put_secret_value,
    'UpdateSecret': update_secret, 'DeleteSecret': delete_secret,
    'RestoreSecret': restore_secret, 'TagResource': tag_resource,
    'UntagResource': untag_resource, 'ListSecrets': list_secrets,
    'ListSecretVersionIds': list_secret_version_ids, 'GetRandomPassword': get_random_password,
}


def inventory(store):
    # a secret scheduled for deletion is not live, but it still holds its name
    return [{'service': 'secretsmanager', 'type': 'secret', 'id': n, 'region': region}
            for region, secrets in sorted((store.get('regions') or {}).items())
            for n, s in sorted(secrets.items()) if not s.get('DeletedDate')]
