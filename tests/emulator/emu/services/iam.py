"""IAM: roles, inline role policies, customer managed policies with versions,
attachments, instance profiles, tags. Global service: ARNs have no region.

Store layout (read by other services, e.g. ECS for role propagation):
  roles[name]    = {RoleName, RoleId, Arn, Path, CreateDate (epoch), Description,
                    MaxSessionDuration, AssumeRolePolicyDocument (JSON text, decoded),
                    Tags [{Key, Value}], InlinePolicies {name: doc}, AttachedPolicies [arn],
                    PermissionsBoundary arn|None}
  policies[arn]  = customer managed policies (AWS managed ones live in AWS_MANAGED)
  profiles[name] = instance profiles
"""
import base64
import calendar
import json
import os
import re
import string
import time
from urllib.parse import quote

from .. import policy
from ..core import AwsError

_NAME_RE = re.compile(r'^[\w+=,.@-]+$')
_PATH_RE = re.compile(r'^/$|^/[\u0021-\u007E]+/$')
_ID_CHARS = string.ascii_uppercase + string.digits
MAX_POLICY_VERSIONS = 5
MAX_ATTACHED_PER_ROLE = 10
MAX_TAGS = 50

_EXEC_DOC = json.dumps({
    'Version': '2012-10-17',
    'Statement': [{'Effect': 'Allow',
                   'Action': ['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability',
                              'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage',
                              'logs:CreateLogStream', 'logs:PutLogEvents'],
                   'Resource': '*'}]})
_EC2_ROLE_DOC = json.dumps({
    'Version': '2012-10-17',
    'Statement': [{'Effect': 'Allow',
                   'Action': ['ec2:DescribeTags', 'ecs:CreateCluster',
                              'ecs:DeregisterContainerInstance', 'ecs:DiscoverPollEndpoint',
                              'ecs:Poll', 'ecs:RegisterContainerInstance',
                              'ecs:StartTelemetrySession', 'ecs:UpdateContainerInstancesState',
                              'ecs:Submit*', 'ecr:GetAuthorizationToken',
                              'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer',
                              'ecr:BatchGetImage', 'logs:CreateLogStream',
                              'logs:PutLogEvents'],
                   'Resource': '*'}]})
_READONLY_DOC = json.dumps({'Version': '2012-10-17',
                            'Statement': [{'Effect': 'Allow', 'Action': ['*:Describe*',
                                                                          '*:Get*', '*:List*'],
                                           'Resource': '*'}]})
_SM_RW_DOC = json.dumps({'Version': '2012-10-17',
                         'Statement': [{'Effect': 'Allow', 'Action': ['secretsmanager:*'],
                                        'Resource': '*'}]})
_CREATED_2015 = 1431636000.0   # 2015-05-14T20:40:00Z: AWS managed policies predate users


def _aws_managed(path, name, pid, doc, version='v1'):
    arn = f'arn:aws:iam::aws:policy{path}{name}'
    return arn, {'PolicyName': name, 'PolicyId': pid, 'Arn': arn, 'Path': path,
                 'DefaultVersionId': version, 'IsAttachable': True,
                 'CreateDate': _CREATED_2015, 'UpdateDate': _CREATED_2015,
                 'Description': '', 'Tags': [],
                 'Versions': {version: {'Document': doc, 'CreateDate': _CREATED_2015}},
                 'AwsManaged': True}


# Documents for the few AWS managed policies whose content tests look at;
# every other AWS managed policy serves _PLACEHOLDER_DOC (a divergence: the
# real documents are not vendored).
_KNOWN_DOCS = {
    'AmazonECSTaskExecutionRolePolicy': _EXEC_DOC,
    'AmazonEC2ContainerServiceforEC2Role': _EC2_ROLE_DOC,
    'ReadOnlyAccess': _READONLY_DOC,
    'SecretsManagerReadWrite': _SM_RW_DOC,
    'AdministratorAccess': json.dumps({'Version': '2012-10-17', 'Statement': [
        {'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}),
}
_PLACEHOLDER_DOC = json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Sid': 'EmulatorPlaceholder', 'Effect': 'Allow', 'Action': 'iam:GetAccountSummary',
     'Resource': '*'}]})


def _iso(s):
    return calendar.timegm(time.strptime(s, '%Y-%m-%dT%H:%M:%SZ'))


def _load_managed():
    """Every AWS managed policy (data/aws-managed-policies.json: the names,
    paths, ids, versions and dates ListPolicies --scope AWS answers)."""
    path = os.path.join(os.path.dirname(__file__), '..', '..', 'data',
                        'aws-managed-policies.json')
    with open(path) as f:
        rows = json.load(f)['policies']
    out = {}
    for ppath, name, pid, version, created, updated in rows:
        arn, pol = _aws_managed(ppath, name, pid, _KNOWN_DOCS.get(name, _PLACEHOLDER_DOC),
                                version)
        pol['CreateDate'] = _iso(created)
        pol['UpdateDate'] = _iso(updated)
        pol['Versions'][version]['CreateDate'] = pol['UpdateDate']
        out[arn] = pol
    return out


AWS_MANAGED = _load_managed()


def _st(ctx):
    s = ctx.store('iam')
    for k in ('roles', 'policies', 'profiles', 'users', 'groups'):
        s.setdefault(k, {})
    return s


def _new_uid(ctx, prefix):
    rng = ctx._state.rng
    return prefix + ''.join(rng.choice(_ID_CHARS) for _ in range(17))


def _check_name(kind, name):
    if not _NAME_RE.match(name):
        raise AwsError('ValidationError',
                       f"1 validation error detected: Value '{name}' at '{kind}' failed to "
                       f"satisfy constraint: Member must satisfy regular expression pattern: "
                       f"[\\w+=,.@-]+")


def _check_path(path):
    if not _PATH_RE.match(path) or len(path) > 512:
        raise AwsError('ValidationError',
                       f"1 validation error detected: Value '{path}' at 'path' failed to "
                       f"satisfy constraint: Member must satisfy regular expression pattern: "
                       f"(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)")


def _check_doc(doc, trust=False, ctx=None, managed=False):
    """IAM's policy grammar (emu/policy.py): MalformedPolicyDocument / LimitExceeded."""
    kind = 'trust' if trust else ('identity-managed' if managed else 'identity')
    roles = _st(ctx)['roles'] if ctx is not None else None
    return policy.check(doc, kind, ctx, roles)


def _enc(doc):
    """IAM returns policy documents URL-encoded (RFC 3986)."""
    return quote(doc, safe="-_.~!*'()")


def _check_tags(tags):
    for t in tags:
        if t['Key'].lower().startswith('aws:'):
            raise AwsError('InvalidInput', f"User-defined tag keys can't start with 'aws:'. "
                                           f"This prefix is reserved for AWS tags: {t['Key']}")
    if len(tags) > MAX_TAGS:
        raise AwsError('LimitExceeded', f'Cannot exceed quota for TagsPerRole: {MAX_TAGS}.')
    keys = [t['Key'] for t in tags]
    if len(set(k.lower() for k in keys)) != len(keys):
        raise AwsError('InvalidInput', 'Duplicate tag keys found. Please note that Tag keys '
                                       'are case insensitive.')


def _merge_tags(old, new):
    by = {t['Key']: t['Value'] for t in old}
    for t in new:
        by[t['Key']] = t.get('Value', '')
    out = [{'Key': k, 'Value': v} for k, v in by.items()]
    _check_tags(out)
    return out


# --- pagination (Marker / MaxItems / IsTruncated) ------------------------

def _page(ctx, items, params, key):
    """items: sorted list; key(item) -> str. Returns (page, {IsTruncated, Marker})."""
    max_items = ctx.page_size(params.get('MaxItems'), 100)
    start = 0
    marker = params.get('Marker')
    if marker:
        try:
            after = base64.urlsafe_b64decode(marker.encode()).decode()
        except ValueError:
            raise AwsError('ValidationError', 'Invalid Marker')
        start = next((i for i, it in enumerate(items) if key(it) > after), len(items))
    page = items[start:start + max_items]
    more = start + max_items < len(items)
    extra = {'IsTruncated': more}
    if more:
        extra['Marker'] = base64.urlsafe_b64encode(key(page[-1]).encode()).decode()
    return page, extra


# --- roles --------------------------------------------------------------

def _role(ctx, name):
    r = _st(ctx)['roles'].get(name)
    if r is None or (ctx.reading() and ctx.too_new(r['CreateDate'], 'role')):
        raise AwsError('NoSuchEntity', f'The role with name {name} cannot be found.')
    return r


def _role_out(r, full=True):
    out = {k: r[k] for k in ('Path', 'RoleName', 'RoleId', 'Arn', 'CreateDate')}
    out['AssumeRolePolicyDocument'] = _enc(r['AssumeRolePolicyDocument'])
    if r.get('Description') is not None:
        out['Description'] = r['Description']
    out['MaxSessionDuration'] = r['MaxSessionDuration']
    if full:
        if r.get('PermissionsBoundary'):
            out['PermissionsBoundary'] = {'PermissionsBoundaryType': 'Policy',
                                          'PermissionsBoundaryArn': r['PermissionsBoundary']}
        if r['Tags']:
            out['Tags'] = r['Tags']
        out['RoleLastUsed'] = {}
    return out


def create_role(ctx, p):
    st = _st(ctx)
    name = p['RoleName']
    _check_name('roleName', name)
    path = p.get('Path', '/')
    _check_path(path)
    if name.lower() in (n.lower() for n in st['roles']):
        raise AwsError('EntityAlreadyExists', f'Role with name {name} already exists.')
    doc = _check_doc(p['AssumeRolePolicyDocument'], trust=True, ctx=ctx)
    msd = p.get('MaxSessionDuration', 3600)
    if not 3600 <= msd <= 43200:
        raise AwsError('ValidationError', f"1 validation error detected: Value '{msd}' at "
                                          f"'maxSessionDuration' failed to satisfy "
                                          f"constraint: Member must have value less than or "
                                          f"equal to 43200")
    tags = p.get('Tags', [])
    _check_tags(tags)
    if p.get('PermissionsBoundary'):
        _policy(ctx, p['PermissionsBoundary'])
    r = {'RoleName': name, 'RoleId': _new_uid(ctx, 'AROA'), 'Path': path,
         'Arn': f'arn:aws:iam::{ctx.account}:role{path}{name}', 'CreateDate': ctx.now(),
         'AssumeRolePolicyDocument': doc, 'Description': p.get('Description'),
         'MaxSessionDuration': msd, 'Tags': tags, 'InlinePolicies': {},
         'AttachedPolicies': [], 'PermissionsBoundary': p.get('PermissionsBoundary')}
    st['roles'][name] = r
    return {'Role': _role_out(r)}


# Service-linked roles: name, managed policy, description per service principal
# (IAM "AWS services that work with IAM" / each service's "Using service-linked
# roles" page).
SERVICE_LINKED = {
    'ecs.amazonaws.com': ('AWSServiceRoleForECS', 'AmazonECSServiceRolePolicy',
                          'Role to enable Amazon ECS to manage your cluster.'),
    'support.amazonaws.com': ('AWSServiceRoleForSupport', 'AWSSupportServiceRolePolicy',
                              'Enables resource access for AWS to provide billing, '
                              'administrative and support services'),
    'trustedadvisor.amazonaws.com': ('AWSServiceRoleForTrustedAdvisor',
                                     'AWSTrustedAdvisorServiceRolePolicy',
                                     'Access for the AWS Trusted Advisor Service to help '
                                     'reduce cost, increase performance, and improve '
                                     'security of your AWS environment.'),
    'elasticloadbalancing.amazonaws.com': ('AWSServiceRoleForElasticLoadBalancing',
                                           'AWSElasticLoadBalancingServiceRolePolicy',
                                           'Allows ELB to call AWS services on your '
                                           'behalf.'),
}


def ensure_role(ctx, name, path, trust_doc, description=None, policy_arns=(),
                created=None):
    """Creates role `name` unless it exists (used by the seed and by services
    whose first use creates a service-linked role). Returns the record."""
    st = _st(ctx)
    r = st['roles'].get(name)
    if r is not None:
        return r
    r = {'RoleName': name, 'RoleId': _new_uid(ctx, 'AROA'), 'Path': path,
         'Arn': f'arn:aws:iam::{ctx.account}:role{path}{name}',
         'CreateDate': ctx.now() if created is None else created,
         'AssumeRolePolicyDocument': trust_doc, 'Description': description,
         'MaxSessionDuration': 3600, 'Tags': [], 'InlinePolicies': {},
         'AttachedPolicies': list(policy_arns), 'PermissionsBoundary': None}
    st['roles'][name] = r
    return r


def service_linked_role(ctx, principal, created=None):
    """The service-linked role of `principal`, created on first use."""
    name, policy, desc = SERVICE_LINKED[principal]
    trust = json.dumps({'Version': '2012-10-17', 'Statement': [
        {'Effect': 'Allow', 'Principal': {'Service': principal},
         'Action': 'sts:AssumeRole'}]})
    return ensure_role(ctx, name, f'/aws-service-role/{principal}/', trust, desc,
                       [f'arn:aws:iam::aws:policy/aws-service-role/{policy}'], created)


def create_service_linked_role(ctx, p):
    principal = p['AWSServiceName']
    if principal not in SERVICE_LINKED:
        raise AwsError('InvalidInput', f'Service role name for {principal} has not been '
                                       f'set up, or it is not a supported service.')
    name = SERVICE_LINKED[principal][0]
    if name in _st(ctx)['roles']:
        raise AwsError('InvalidInput', f'Service role name {name} has been taken in this '
                                       f'account, please try a different suffix.')
    r = service_linked_role(ctx, principal)
    if p.get('Description') is not None:
        r['Description'] = p['Description']
    return {'Role': _role_out(r)}


def delete_service_linked_role(ctx, p):
    """Deletes at once; AWS runs a deletion task (status SUCCEEDED here)."""
    r = _role(ctx, p['RoleName'])
    if not r['Path'].startswith('/aws-service-role/'):
        raise AwsError('InvalidInput', f"Role {r['RoleName']} is not a service-linked role.")
    del _st(ctx)['roles'][r['RoleName']]
    principal = r['Path'].split('/')[2]
    return {'DeletionTaskId': f"task/aws-service-role/{principal}/{r['RoleName']}/"
                              f"{ctx.uuid()}"}


def get_service_linked_role_deletion_status(ctx, p):
    if not p['DeletionTaskId'].startswith('task/aws-service-role/'):
        raise AwsError('InvalidInput', 'Invalid deletion task id.')
    return {'Status': 'SUCCEEDED'}


def get_role(ctx, p):
    return {'Role': _role_out(_role(ctx, p['RoleName']))}


def list_roles(ctx, p):
    prefix = p.get('PathPrefix', '/')
    roles = sorted((r for r in _st(ctx)['roles'].values() if r['Path'].startswith(prefix)),
                   key=lambda r: r['RoleName'].lower())
    page, extra = _page(ctx, roles, p, lambda r: r['RoleName'].lower())
    return dict(Roles=[_role_out(r, full=False) for r in page], **extra)


def delete_role(ctx, p):
    st = _st(ctx)
    r = _role(ctx, p['RoleName'])
    if r['Path'].startswith('/aws-service-role/'):
        # service-linked roles go only through DeleteServiceLinkedRole
        raise AwsError('UnmodifiableEntity', f"Cannot perform the operation on the protected "
                                             f"role '{r['RoleName']}' - this role is only "
                                             f"modifiable by AWS")
    if r['AttachedPolicies']:
        raise AwsError('DeleteConflict', 'Cannot delete entity, must detach all policies '
                                         'first.')
    if r['InlinePolicies']:
        raise AwsError('DeleteConflict', 'Cannot delete entity, must delete policies first.')
    if any(pr['Roles'] and pr['Roles'][0] == r['RoleName'] for pr in st['profiles'].values()):
        raise AwsError('DeleteConflict', 'Cannot delete entity, must remove roles from '
                                         'instance profile first.')
    del st['roles'][r['RoleName']]
    return {}


def update_role(ctx, p):
    r = _role(ctx, p['RoleName'])
    if 'Description' in p:
        r['Description'] = p['Description']
    if 'MaxSessionDuration' in p:
        if not 3600 <= p['MaxSessionDuration'] <= 43200:
            raise AwsError('ValidationError', 'The requested MaxSessionDuration is out of '
                                              'range (3600-43200 seconds).')
        r['MaxSessionDuration'] = p['MaxSessionDuration']
    return {}


def update_role_description(ctx, p):
    r = _role(ctx, p['RoleName'])
    r['Description'] = p['Description']
    return {'Role': _role_out(r)}


def update_assume_role_policy(ctx, p):
    r = _role(ctx, p['RoleName'])
    r['AssumeRolePolicyDocument'] = _check_doc(p['PolicyDocument'], trust=True, ctx=ctx)
    return {}


def put_role_permissions_boundary(ctx, p):
    r = _role(ctx, p['RoleName'])
    _policy(ctx, p['PermissionsBoundary'])
    r['PermissionsBoundary'] = p['PermissionsBoundary']
    return {}


def delete_role_permissions_boundary(ctx, p):
    r = _role(ctx, p['RoleName'])
    r['PermissionsBoundary'] = None
    return {}


def tag_role(ctx, p):
    r = _role(ctx, p['RoleName'])
    r['Tags'] = _merge_tags(r['Tags'], p['Tags'])
    return {}


def untag_role(ctx, p):
    r = _role(ctx, p['RoleName'])
    r['Tags'] = [t for t in r['Tags'] if t['Key'] not in p['TagKeys']]
    return {}


def list_role_tags(ctx, p):
    r = _role(ctx, p['RoleName'])
    page, extra = _page(ctx, sorted(r['Tags'], key=lambda t: t['Key']), p, lambda t: t['Key'])
    return dict(Tags=page, **extra)


# --- inline role policies -------------------------------------------------

def put_role_policy(ctx, p):
    r = _role(ctx, p['RoleName'])
    _check_name('policyName', p['PolicyName'])
    doc = _check_doc(p['PolicyDocument'])
    total = sum(policy.size(d) for n, d in r['InlinePolicies'].items()
                if n != p['PolicyName']) + policy.size(doc)
    if total > policy.INLINE_ROLE_MAX:
        raise AwsError('LimitExceeded', f"Maximum policy size of {policy.INLINE_ROLE_MAX} "
                                        f"bytes exceeded for role {r['RoleName']}")
    r['InlinePolicies'][p['PolicyName']] = doc
    return {}


def get_role_policy(ctx, p):
    r = _role(ctx, p['RoleName'])
    doc = r['InlinePolicies'].get(p['PolicyName'])
    if doc is None:
        raise AwsError('NoSuchEntity', f'The role policy with name {p["PolicyName"]} cannot '
                                       f'be found.')
    return {'RoleName': r['RoleName'], 'PolicyName': p['PolicyName'],
            'PolicyDocument': _enc(doc)}


def delete_role_policy(ctx, p):
    r = _role(ctx, p['RoleName'])
    if p['PolicyName'] not in r['InlinePolicies']:
        raise AwsError('NoSuchEntity', f'The role policy with name {p["PolicyName"]} cannot '
                                       f'be found.')
    del r['InlinePolicies'][p['PolicyName']]
    return {}


def list_role_policies(ctx, p):
    r = _role(ctx, p['RoleName'])
    names = sorted(r['InlinePolicies'])
    page, extra = _page(ctx, names, p, lambda n: n)
    return dict(PolicyNames=page, **extra)


# --- managed policies -----------------------------------------------------

def _policy(ctx, arn):
    pol = AWS_MANAGED.get(arn) or _st(ctx)['policies'].get(arn)
    if pol is None or (ctx.reading() and not pol.get('AwsManaged')
                       and ctx.too_new(pol['CreateDate'], 'policy')):
        raise AwsError('NoSuchEntity', f'Policy {arn} does not exist or is not attachable.')
    return pol


def _attached_roles(ctx, arn):
    return [r for r in _st(ctx)['roles'].values() if arn in r['AttachedPolicies']]


def _attached_anywhere(ctx, arn):
    return _attached_roles(ctx, arn) or any(
        arn in x['AttachedPolicies'] for kind in ('users', 'groups')
        for x in _st(ctx)[kind].values())


def _policy_out(ctx, pol, full=True):
    out = {k: pol[k] for k in ('PolicyName', 'PolicyId', 'Arn', 'Path', 'DefaultVersionId',
                               'IsAttachable', 'CreateDate', 'UpdateDate')}
    out['AttachmentCount'] = len(_attached_roles(ctx, pol['Arn']))
    out['PermissionsBoundaryUsageCount'] = sum(
        1 for r in _st(ctx)['roles'].values() if r.get('PermissionsBoundary') == pol['Arn'])
    if full and pol.get('Description'):
        out['Description'] = pol['Description']
    if full and pol.get('Tags'):
        out['Tags'] = pol['Tags']
    return out


def create_policy(ctx, p):
    st = _st(ctx)
    name = p['PolicyName']
    _check_name('policyName', name)
    path = p.get('Path', '/')
    _check_path(path)
    arn = f'arn:aws:iam::{ctx.account}:policy{path}{name}'
    if any(x['PolicyName'] == name for x in st['policies'].values()):
        raise AwsError('EntityAlreadyExists', f'A policy called {name} already exists. '
                                              f'Duplicate names are not allowed.')
    doc = _check_doc(p['PolicyDocument'], managed=True)
    tags = p.get('Tags', [])
    _check_tags(tags)
    now = ctx.now()
    pol = {'PolicyName': name, 'PolicyId': _new_uid(ctx, 'ANPA'), 'Arn': arn, 'Path': path,
           'DefaultVersionId': 'v1', 'IsAttachable': True, 'CreateDate': now,
           'UpdateDate': now, 'Description': p.get('Description'), 'Tags': tags,
           'Versions': {'v1': {'Document': doc, 'CreateDate': now}}, 'NextVersion': 2}
    st['policies'][arn] = pol
    return {'Policy': _policy_out(ctx, pol)}


def get_policy(ctx, p):
    return {'Policy': _policy_out(ctx, _policy(ctx, p['PolicyArn']))}


def _customer_policy(ctx, arn):
    pol = _policy(ctx, arn)
    if pol.get('AwsManaged'):
        raise AwsError('UnmodifiableEntity', f'Cannot modify AWS managed policy {arn}.')
    return pol


def delete_policy(ctx, p):
    pol = _customer_policy(ctx, p['PolicyArn'])
    if _attached_anywhere(ctx, pol['Arn']):
        raise AwsError('DeleteConflict', 'Cannot delete a policy attached to entities.')
    if len(pol['Versions']) > 1:
        raise AwsError('DeleteConflict', "This policy has more than one version. Before you "
                                         "delete a policy, you must delete the policy's "
                                         "versions. The default version is deleted with the "
                                         "policy.")
    del _st(ctx)['policies'][pol['Arn']]
    return {}


def list_policies(ctx, p):
    scope = p.get('Scope', 'All')
    prefix = p.get('PathPrefix', '/')
    pols = []
    if scope in ('All', 'AWS'):
        pols += list(AWS_MANAGED.values())
    if scope in ('All', 'Local'):
        pols += list(_st(ctx)['policies'].values())
    pols = [x for x in pols if x['Path'].startswith(prefix)]
    if p.get('OnlyAttached'):
        pols = [x for x in pols if _attached_roles(ctx, x['Arn'])]
    pols.sort(key=lambda x: x['Arn'])
    page, extra = _page(ctx, pols, p, lambda x: x['Arn'])
    return dict(Policies=[_policy_out(ctx, x, full=False) for x in page], **extra)


def _version_out(vid, v, default, with_doc=True):
    out = {'VersionId': vid, 'IsDefaultVersion': vid == default, 'CreateDate': v['CreateDate']}
    if with_doc:
        out['Document'] = _enc(v['Document'])
    return out


def create_policy_version(ctx, p):
    pol = _customer_policy(ctx, p['PolicyArn'])
    if len(pol['Versions']) >= MAX_POLICY_VERSIONS:
        raise AwsError('LimitExceeded', 'A managed policy can have up to 5 versions. Before '
                                        'you create a new version, you must delete an '
                                        'existing version.')
    doc = _check_doc(p['PolicyDocument'], managed=True)
    vid = f'v{pol["NextVersion"]}'
    pol['NextVersion'] += 1
    now = ctx.now()
    pol['Versions'][vid] = {'Document': doc, 'CreateDate': now}
    if p.get('SetAsDefault'):
        pol['DefaultVersionId'] = vid
        pol['UpdateDate'] = now
    return {'PolicyVersion': _version_out(vid, pol['Versions'][vid], pol['DefaultVersionId'],
                                          with_doc=False)}


def _version(pol, vid):
    v = pol['Versions'].get(vid)
    if v is None:
        raise AwsError('NoSuchEntity', f'Policy {pol["Arn"]} version {vid} does not exist or '
                                       f'is not attachable.')
    return v


def get_policy_version(ctx, p):
    pol = _policy(ctx, p['PolicyArn'])
    v = _version(pol, p['VersionId'])
    return {'PolicyVersion': _version_out(p['VersionId'], v, pol['DefaultVersionId'])}


def delete_policy_version(ctx, p):
    pol = _customer_policy(ctx, p['PolicyArn'])
    _version(pol, p['VersionId'])
    if p['VersionId'] == pol['DefaultVersionId']:
        raise AwsError('DeleteConflict', 'Cannot delete the default version of a policy.')
    del pol['Versions'][p['VersionId']]
    return {}


def list_policy_versions(ctx, p):
    pol = _policy(ctx, p['PolicyArn'])
    vs = sorted(pol['Versions'].items(), key=lambda kv: -int(kv[0][1:]))
    page, extra = _page(ctx, vs, p, lambda kv: f'{10**6 - int(kv[0][1:]):07d}')
    return dict(Versions=[_version_out(k, v, pol['DefaultVersionId'], with_doc=False)
                          for k, v in page], **extra)


def set_default_policy_version(ctx, p):
    pol = _customer_policy(ctx, p['PolicyArn'])
    _version(pol, p['VersionId'])
    pol['DefaultVersionId'] = p['VersionId']
    pol['UpdateDate'] = ctx.now()
    return {}


def tag_policy(ctx, p):
    pol = _customer_policy(ctx, p['PolicyArn'])
    pol['Tags'] = _merge_tags(pol['Tags'], p['Tags'])
    return {}


def untag_policy(ctx, p):
    pol = _customer_policy(ctx, p['PolicyArn'])
    pol['Tags'] = [t for t in pol['Tags'] if t['Key'] not in p['TagKeys']]
    return {}


def list_policy_tags(ctx, p):
    pol = _policy(ctx, p['PolicyArn'])
    page, extra = _page(ctx, sorted(pol['Tags'], key=lambda t: t['Key']), p, lambda t: t['Key'])
    return dict(Tags=page, **extra)


# --- attachments ----------------------------------------------------------

def attach_role_policy(ctx, p):
    r = _role(ctx, p['RoleName'])
    pol = _policy(ctx, p['PolicyArn'])
    if pol['Arn'] in r['AttachedPolicies']:
        return {}
    limit = int((ctx.config.get('quotas') or {}).get('managed_policies_per_role',
                                                      MAX_ATTACHED_PER_ROLE))
    if limit and len(r['AttachedPolicies']) >= limit:
        raise AwsError('LimitExceeded', f'Cannot exceed quota for PoliciesPerRole: {limit}')
    r['AttachedPolicies'].append(pol['Arn'])
    return {}


def detach_role_policy(ctx, p):
    r = _role(ctx, p['RoleName'])
    if p['PolicyArn'] not in r['AttachedPolicies']:
        _policy(ctx, p['PolicyArn'])
        raise AwsError('NoSuchEntity', f'Policy {p["PolicyArn"]} was not found.')
    r['AttachedPolicies'].remove(p['PolicyArn'])
    return {}


def list_attached_role_policies(ctx, p):
    r = _role(ctx, p['RoleName'])
    prefix = p.get('PathPrefix', '/')
    items = []
    for arn in r['AttachedPolicies']:
        pol = AWS_MANAGED.get(arn) or _st(ctx)['policies'].get(arn)
        if pol and pol['Path'].startswith(prefix):
            items.append({'PolicyName': pol['PolicyName'], 'PolicyArn': arn})
    items.sort(key=lambda x: x['PolicyArn'])
    page, extra = _page(ctx, items, p, lambda x: x['PolicyArn'])
    return dict(AttachedPolicies=page, **extra)


def list_entities_for_policy(ctx, p):
    pol = _policy(ctx, p['PolicyArn'])
    filt = p.get('EntityFilter')
    prefix = p.get('PathPrefix', '/')
    # one listing of every kind the filter admits, paged together as IAM does
    items = []
    for kind, store, name, idk in (('Role', 'roles', 'RoleName', 'RoleId'),
                                   ('User', 'users', 'UserName', 'UserId'),
                                   ('Group', 'groups', 'GroupName', 'GroupId')):
        if filt not in (None, kind, 'LocalManagedPolicy', 'AWSManagedPolicy'):
            continue
        for x in _st(ctx)[store].values():
            if pol['Arn'] in x['AttachedPolicies'] and x['Path'].startswith(prefix):
                items.append((kind, x[name], x[idk]))
    items.sort(key=lambda it: f'{it[0]}:{it[1]}')
    page, extra = _page(ctx, items, p, lambda it: f'{it[0]}:{it[1]}')
    return dict(PolicyRoles=[{'RoleName': n, 'RoleId': i} for k, n, i in page if k == 'Role'],
                PolicyUsers=[{'UserName': n, 'UserId': i} for k, n, i in page if k == 'User'],
                PolicyGroups=[{'GroupName': n, 'GroupId': i} for k, n, i in page
                              if k == 'Group'],
                **extra)


# --- GetAccountAuthorizationDetails -------------------------------------

_GAAD_FILTERS = ('User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy')


def _attached_out(ctx, arns):
    out = []
    for arn in arns:
        pol = AWS_MANAGED.get(arn) or _st(ctx)['policies'].get(arn)
        if pol:
            out.append({'PolicyName': pol['PolicyName'], 'PolicyArn': arn})
    return out


def get_account_authorization_details(ctx, p):
    """Every user, group, role and managed policy with their inline
    policies, attachments and (policies) every version's document, paged
    together: MaxItems (1-1000, default 100) counts items of all the lists,
    Marker continues (API reference, GetAccountAuthorizationDetails). The
    RoleDetail shape has no Description or MaxSessionDuration."""
    filt = p.get('Filter') or list(_GAAD_FILTERS)
    for f in filt:
        if f not in _GAAD_FILTERS:
            raise AwsError('ValidationError', f"1 validation error detected: Value '[{f}]' at "
                                              f"'filter' failed to satisfy constraint")
    st = _st(ctx)
    items = []
    if 'Role' in filt:
        for r in st['roles'].values():
            if ctx.too_new(r['CreateDate'], 'role'):
                continue
            profiles = [_profile_out(ctx, pr) for pr in st['profiles'].values()
                        if r['RoleName'] in pr['Roles']]
            d = {k: r[k] for k in ('Path', 'RoleName', 'RoleId', 'Arn', 'CreateDate')}
            d['AssumeRolePolicyDocument'] = _enc(r['AssumeRolePolicyDocument'])
            d['InstanceProfileList'] = profiles
            d['RolePolicyList'] = [{'PolicyName': n, 'PolicyDocument': _enc(doc)}
                                   for n, doc in sorted(r['InlinePolicies'].items())]
            d['AttachedManagedPolicies'] = _attached_out(ctx, r['AttachedPolicies'])
            if r.get('PermissionsBoundary'):
                d['PermissionsBoundary'] = {'PermissionsBoundaryType': 'Policy',
                                            'PermissionsBoundaryArn': r['PermissionsBoundary']}
            if r['Tags']:
                d['Tags'] = r['Tags']
            d['RoleLastUsed'] = {}
            items.append(('Role', r['Arn'], d))
    for kind, store, name, idk in (('User', 'users', 'UserName', 'UserId'),
                                   ('Group', 'groups', 'GroupName', 'GroupId')):
        if kind not in filt:
            continue
        for x in st[store].values():
            d = {k: x[k] for k in ('Path', name, idk, 'Arn', 'CreateDate')}
            d['AttachedManagedPolicies'] = _attached_out(ctx, x['AttachedPolicies'])
            if kind == 'User' and x.get('Tags'):
                d['Tags'] = x['Tags']
            items.append((kind, x['Arn'], d))
    pols = []
    if 'LocalManagedPolicy' in filt:
        pols += [x for x in st['policies'].values()
                 if not ctx.too_new(x['CreateDate'], 'policy')]
    if 'AWSManagedPolicy' in filt:
        pols += list(AWS_MANAGED.values())
    for pol in pols:
        d = _policy_out(ctx, pol)
        d.pop('Tags', None)
        d['PolicyVersionList'] = [_version_out(vid, v, pol['DefaultVersionId'])
                                  for vid, v in sorted(pol['Versions'].items())]
        items.append(('Policy', pol['Arn'], d))
    items.sort(key=lambda it: f'{it[0]}:{it[1]}')
    mi = p.get('MaxItems')
    if mi is not None and not 1 <= mi <= 1000:
        raise AwsError('ValidationError', 'MaxItems must be between 1 and 1000.')
    page, extra = _page(ctx, items, p, lambda it: f'{it[0]}:{it[1]}')
    out = {'UserDetailList': [], 'GroupDetailList': [], 'RoleDetailList': [], 'Policies': []}
    lists = {'User': 'UserDetailList', 'Group': 'GroupDetailList', 'Role': 'RoleDetailList',
             'Policy': 'Policies'}
    for kind, _arn, d in page:
        out[lists[kind]].append(d)
    out.update(extra)
    return out


# --- users and groups (enough to attach managed policies to them) ---------

def _principal(ctx, store, name):
    x = _st(ctx)[store].get(name)
    if x is None:
        kind = 'user' if store == 'users' else 'group'
        raise AwsError('NoSuchEntity', f'The {kind} with name {name} cannot be found.')
    return x


def _create_principal(ctx, p, store, name_key, id_key, prefix, arn_kind):
    name = p[name_key]
    if name in _st(ctx)[store]:
        raise AwsError('EntityAlreadyExists', f'{arn_kind.capitalize()} with name {name} '
                                              f'already exists.')
    path = p.get('Path', '/')
    x = {name_key: name, id_key: _new_uid(ctx, prefix), 'Path': path,
         'Arn': f'arn:aws:iam::{ctx.account}:{arn_kind}{path}{name}',
         'CreateDate': ctx.now(), 'AttachedPolicies': [], 'Tags': list(p.get('Tags', []))}
    _st(ctx)[store][name] = x
    return {k: x[k] for k in (name_key, id_key, 'Path', 'Arn', 'CreateDate')}


def create_user(ctx, p):
    return {'User': _create_principal(ctx, p, 'users', 'UserName', 'UserId', 'AIDA', 'user')}


def create_group(ctx, p):
    return {'Group': _create_principal(ctx, p, 'groups', 'GroupName', 'GroupId', 'AGPA',
                                       'group')}


def _delete_principal(ctx, store, name):
    x = _principal(ctx, store, name)
    if x['AttachedPolicies']:
        raise AwsError('DeleteConflict', 'Cannot delete entity, must detach all policies '
                                         'first.')
    del _st(ctx)[store][name]
    return {}


def _attach(ctx, store, name, arn):
    x = _principal(ctx, store, name)
    _policy(ctx, arn)
    if arn not in x['AttachedPolicies']:
        x['AttachedPolicies'].append(arn)
    return {}


def _detach(ctx, store, name, arn):
    x = _principal(ctx, store, name)
    if arn not in x['AttachedPolicies']:
        raise AwsError('NoSuchEntity', f'Policy {arn} was not found.')
    x['AttachedPolicies'].remove(arn)
    return {}


# --- instance profiles ----------------------------------------------------

def _profile(ctx, name):
    pr = _st(ctx)['profiles'].get(name)
    if pr is None:
        raise AwsError('NoSuchEntity', f'Instance Profile {name} cannot be found.')
    return pr


def _profile_out(ctx, pr):
    roles = [_role_out(_st(ctx)['roles'][n], full=False) for n in pr['Roles']
             if n in _st(ctx)['roles']]
    out = {k: pr[k] for k in ('Path', 'InstanceProfileName', 'InstanceProfileId', 'Arn',
                              'CreateDate')}
    out['Roles'] = roles
    if pr['Tags']:
        out['Tags'] = pr['Tags']
    return out


def create_instance_profile(ctx, p):
    st = _st(ctx)
    name = p['InstanceProfileName']
    _check_name('instanceProfileName', name)
    path = p.get('Path', '/')
    _check_path(path)
    if name in st['profiles']:
        raise AwsError('EntityAlreadyExists', f'Instance Profile {name} already exists.')
    tags = p.get('Tags', [])
    _check_tags(tags)
    pr = {'InstanceProfileName': name, 'InstanceProfileId': _new_uid(ctx, 'AIPA'),
          'Path': path, 'Arn': f'arn:aws:iam::{ctx.account}:instance-profile{path}{name}',
          'CreateDate': ctx.now(), 'Roles': [], 'Tags': tags}
    st['profiles'][name] = pr
    return {'InstanceProfile': _profile_out(ctx, pr)}


def get_instance_profile(ctx, p):
    return {'InstanceProfile': _profile_out(ctx, _profile(ctx, p['InstanceProfileName']))}


def delete_instance_profile(ctx, p):
    pr = _profile(ctx, p['InstanceProfileName'])
    if pr['Roles']:
        raise AwsError('DeleteConflict', 'Cannot delete entity, must remove roles from '
                                         'instance profile first.')
    del _st(ctx)['profiles'][pr['InstanceProfileName']]
    return {}


def add_role_to_instance_profile(ctx, p):
    pr = _profile(ctx, p['InstanceProfileName'])
    _role(ctx, p['RoleName'])
    if pr['Roles']:
        raise AwsError('LimitExceeded', 'Cannot exceed quota for '
                                        'InstanceSessionsPerInstanceProfile: 1')
    pr['Roles'].append(p['RoleName'])
    return {}


def remove_role_from_instance_profile(ctx, p):
    pr = _profile(ctx, p['InstanceProfileName'])
    if p['RoleName'] not in pr['Roles']:
        _role(ctx, p['RoleName'])
        raise AwsError('NoSuchEntity', f'Role {p["RoleName"]} in Instance Profile '
                                       f'{pr["InstanceProfileName"]} cannot be found.')
    pr['Roles'].remove(p['RoleName'])
    return {}


def list_instance_profiles_for_role(ctx, p):
    _role(ctx, p['RoleName'])
    prs = sorted((pr for pr in _st(ctx)['profiles'].values() if p['RoleName'] in pr['Roles']),
                 key=lambda pr: pr['InstanceProfileName'])
    page, extra = _page(ctx, prs, p, lambda pr: pr['InstanceProfileName'])
    return dict(InstanceProfiles=[_profile_out(ctx, pr) for pr in page], **extra)


def list_instance_profiles(ctx, p):
    prefix = p.get('PathPrefix', '/')
    prs = sorted((pr for pr in _st(ctx)['profiles'].values()
                  if pr['Path'].startswith(prefix)), key=lambda pr: pr['InstanceProfileName'])
    page, extra = _page(ctx, prs, p, lambda pr: pr['InstanceProfileName'])
    return dict(InstanceProfiles=[_profile_out(ctx, pr) for pr in page], **extra)


def tag_instance_profile(ctx, p):
    pr = _profile(ctx, p['InstanceProfileName'])
    pr['Tags'] = _merge_tags(pr['Tags'], p['Tags'])
    return {}


def untag_instance_profile(ctx, p):
    pr = _profile(ctx, p['InstanceProfileName'])
    pr['Tags'] = [t for t in pr['Tags'] if t['Key'] not in p['TagKeys']]
    return {}


HANDLERS = {
    'GetAccountAuthorizationDetails': get_account_authorization_details,
    'CreateRole': create_role, 'GetRole': get_role, 'ListRoles': list_roles,
    'DeleteRole': delete_role, 'UpdateRole': update_role,
    'UpdateRoleDescription': update_role_description,
    'CreateServiceLinkedRole': create_service_linked_role,
    'DeleteServiceLinkedRole': delete_service_linked_role,
    'GetServiceLinkedRoleDeletionStatus': get_service_linked_role_deletion_status,
    'UpdateAssumeRolePolicy': update_assume_role_policy,
    'PutRolePermissionsBoundary': put_role_permissions_boundary,
    'DeleteRolePermissionsBoundary': delete_role_permissions_boundary,
    'TagRole': tag_role, 'UntagRole': untag_role, 'ListRoleTags': list_role_tags,
    'PutRolePolicy': put_role_policy, 'GetRolePolicy': get_role_policy,
    'DeleteRolePolicy': delete_role_policy, 'ListRolePolicies': list_role_policies,
    'CreatePolicy': create_policy, 'GetPolicy': get_policy, 'DeletePolicy': delete_policy,
    'ListPolicies': list_policies, 'CreatePolicyVersion': create_policy_version,
    'GetPolicyVersion': get_policy_version, 'DeletePolicyVersion': delete_policy_version,
    'ListPolicyVersions': list_policy_versions,
    'SetDefaultPolicyVersion': set_default_policy_version,
    'TagPolicy': tag_policy, 'UntagPolicy': untag_policy, 'ListPolicyTags': list_policy_tags,
    'AttachRolePolicy': attach_role_policy, 'DetachRolePolicy': detach_role_policy,
    'ListAttachedRolePolicies': list_attached_role_policies,
    'ListEntitiesForPolicy': list_entities_for_policy,
    'CreateUser': create_user, 'CreateGroup': create_group,
    'DeleteUser': lambda ctx, p: _delete_principal(ctx, 'users', p['UserName']),
    'DeleteGroup': lambda ctx, p: _delete_principal(ctx, 'groups', p['GroupName']),
    'AttachUserPolicy': lambda ctx, p: _attach(ctx, 'users', p['UserName'], p['PolicyArn']),
    'DetachUserPolicy': lambda ctx, p: _detach(ctx, 'users', p['UserName'], p['PolicyArn']),
    'AttachGroupPolicy': lambda ctx, p: _attach(ctx, 'groups', p['GroupName'],
                                                p['PolicyArn']),
    'DetachGroupPolicy': lambda ctx, p: _detach(ctx, 'groups', p['GroupName'],
                                                p['PolicyArn']),
    'CreateInstanceProfile': create_instance_profile,
    'GetInstanceProfile': get_instance_profile,
    'DeleteInstanceProfile': delete_instance_profile,
    'AddRoleToInstanceProfile': add_role_to_instance_profile,
    'RemoveRoleFromInstanceProfile': remove_role_from_instance_profile,
    'ListInstanceProfilesForRole': list_instance_profiles_for_role,
    'ListInstanceProfiles': list_instance_profiles,
    'TagInstanceProfile': tag_instance_profile, 'UntagInstanceProfile': untag_instance_profile,
}


def inventory(store):
    out = []
    for name in sorted(store.get('roles', {})):
        out.append({'service': 'iam', 'type': 'role', 'id': name})
        for pol in sorted(store['roles'][name]['InlinePolicies']):
            out.append({'service': 'iam', 'type': 'role-policy', 'id': f'{name}/{pol}'})
        for arn in store['roles'][name]['AttachedPolicies']:
            out.append({'service': 'iam', 'type': 'role-policy-attachment',
                        'id': f'{name}|{arn}'})
    for arn in sorted(store.get('policies', {})):
        out.append({'service': 'iam', 'type': 'policy', 'id': arn})
    for name in sorted(store.get('profiles', {})):
        out.append({'service': 'iam', 'type': 'instance-profile', 'id': name})
    for kind, key in (('user', 'users'), ('group', 'groups')):
        for name in sorted(store.get(key, {})):
            out.append({'service': 'iam', 'type': kind, 'id': name})
    out.extend(_oidc.inventory_of(store))   # iam_oidc.py
    return out


# OpenID Connect providers: emu/services/iam_oidc.py
from emu.services import iam_oidc as _oidc  # noqa: E402
HANDLERS.update(_oidc.EXTRA_HANDLERS)
