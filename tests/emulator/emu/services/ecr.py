"""ECR for the emulator: repositories, images (PutImage is the test-only way
to push one: no layers are stored, the manifest is), lifecycle policies,
repository policies, tag mutability, scanning configuration and tags.

State: ctx.store('ecr')['regions'][<region>]['repos'][name] (plain JSON).

Choices:
* Lifecycle policies are validated as ECR does (rules, unique rulePriority,
  selection.tagStatus / tagPrefixList / tagPatternList / countType /
  countUnit / countNumber, action.type expire, tagStatus any must have the
  highest rulePriority) and stored normalised as ECR does: compact JSON,
  rules sorted by rulePriority, keys in ECR's order. Put and Get answer the
  normalised text, so a client must compare canonical JSON, not its own text.
* The image digest is sha256 of the manifest bytes, as in a real registry.
* inventory(): every repository (lifecycle and repository policies live and
  die with their repository and are not listed).
"""
import base64
import hashlib
import json
import re

from emu import tags
from emu.core import AwsError

SERVICE = 'ecr'
NAME_RE = re.compile(r'^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$')
TAG_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')


def _region(ctx):
    st = ctx.store(SERVICE)
    regions = st.setdefault('regions', {})
    r = regions.get(ctx.region)
    if r is None:
        r = regions[ctx.region] = {'repos': {}}
    return r


def _invalid(msg):
    return AwsError('InvalidParameterException', msg)


def _registry(ctx, params):
    rid = params.get('registryId')
    if rid is not None and rid != ctx.account:
        raise _invalid(f"Invalid parameter at 'registryId' failed to satisfy constraint: "
                       f"'the registry {rid} is not the caller's registry'")
    return ctx.account


def _not_found(ctx, name):
    return AwsError('RepositoryNotFoundException',
                    f"The repository with name '{name}' does not exist in the registry "
                    f"with id '{ctx.account}'")


def _repo(ctx, params):
    _registry(ctx, params)
    name = params.get('repositoryName')
    rec = _region(ctx)['repos'].get(name)
    if rec is None or (ctx.reading() and ctx.too_new(rec['createdAt'], 'repository')):
        raise _not_found(ctx, name)
    return rec


def _repo_out(rec):
    return {k: rec[k] for k in ('repositoryArn', 'registryId', 'repositoryName',
                                'repositoryUri', 'createdAt', 'imageTagMutability',
                                'imageScanningConfiguration', 'encryptionConfiguration')}


def _tags(old, new):
    out = [dict(t) for t in old]
    tags.check([(t.get('Key'), t.get('Value')) for t in new or []],
               'InvalidTagParameterException')
    for t in new or []:
        k, v = t.get('Key'), t.get('Value')
        if not k or len(k) > 128 or (v is not None and len(v) > 256):
            raise AwsError('InvalidTagParameterException',
                           'Tag keys must be 1-128 and values 0-256 characters')
        if k.lower().startswith('aws:'):
            raise AwsError('InvalidTagParameterException',
                           "Tag keys starting with 'aws:' are reserved")
        out = [o for o in out if o['Key'] != k] + [{'Key': k, 'Value': v or ''}]
    if len(out) > 50:
        raise AwsError('TooManyTagsException', 'A repository can have at most 50 tags')
    return out


def create_repository(ctx, params):
    r = _region(ctx)
    reg = _registry(ctx, params)
    name = params.get('repositoryName') or ''
    if not 2 <= len(name) <= 256 or not NAME_RE.match(name):
        raise _invalid("Invalid parameter at 'repositoryName' failed to satisfy "
                       "constraint: 'must satisfy regular expression "
                       "'(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''")
    if name in r['repos']:
        raise AwsError('RepositoryAlreadyExistsException',
                       f"The repository with name '{name}' already exists in the registry "
                       f"with id '{reg}'")
    tags = _tags([], params.get('tags'))
    mut = params.get('imageTagMutability') or 'MUTABLE'
    scan = params.get('imageScanningConfiguration') or {}
    enc = params.get('encryptionConfiguration') or {'encryptionType': 'AES256'}
    if enc.get('encryptionType') == 'AES256' and enc.get('kmsKey'):
        raise _invalid('kmsKey can only be given with encryptionType KMS')
    if enc.get('encryptionType') == 'KMS' and not enc.get('kmsKey'):
        enc = dict(enc, kmsKey=ctx.arn('kms', 'alias/aws/ecr'))
    rec = {
        'repositoryArn': ctx.arn('ecr', f'repository/{name}'), 'registryId': reg,
        'repositoryName': name,
        'repositoryUri': f'{reg}.dkr.ecr.{ctx.region}.amazonaws.com/{name}',
        'createdAt': ctx.now(), 'imageTagMutability': mut,
        'imageScanningConfiguration': {'scanOnPush': bool(scan.get('scanOnPush'))},
        'encryptionConfiguration': enc, 'tags': tags, 'images': [],
        'lifecyclePolicy': None, 'policy': None,
    }
    r['repos'][name] = rec
    return {'repository': _repo_out(rec)}


def _page(ctx, items, params, key, hi=1000):
    mr = params.get('maxResults')
    tok = params.get('nextToken')
    start = 0
    if tok:
        try:
            k, s = base64.urlsafe_b64decode(tok.encode()).decode().rsplit(':', 1)
            start = int(s)
            if k != key or start < 0:
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            raise _invalid("Invalid parameter at 'nextToken' failed to satisfy constraint")
    if mr is not None and not 1 <= mr <= hi:
        raise _invalid(f"Invalid parameter at 'maxResults' failed to satisfy constraint: "
                       f"'must be between 1 and {hi}'")
    n = ctx.page_size(mr, 100)
    page = items[start:start + n]
    nxt = None
    if start + n < len(items):
        nxt = base64.urlsafe_b64encode(f'{key}:{start + n}'.encode()).decode()
    return page, nxt


def describe_repositories(ctx, params):
    r = _region(ctx)
    _registry(ctx, params)
    names = params.get('repositoryNames')
    if names:
        if params.get('maxResults') is not None or params.get('nextToken'):
            raise _invalid('maxResults and nextToken cannot be used with repositoryNames')
        for n in names:
            if n not in r['repos'] or ctx.too_new(r['repos'][n]['createdAt'], 'repository'):
                raise _not_found(ctx, n)
        return {'repositories': [_repo_out(r['repos'][n]) for n in dict.fromkeys(names)]}
    items = [_repo_out(x) for x in sorted(r['repos'].values(), key=lambda x: x['createdAt'])
             if not ctx.too_new(x['createdAt'], 'repository')]
    page, nxt = _page(ctx, items, params, 'repos')
    out = {'repositories': page}
    if nxt:
        out['nextToken'] = nxt
    return out


def delete_repository(ctx, params):
    rec = _repo(ctx, params)
    if rec['images'] and not params.get('force'):
        raise AwsError('RepositoryNotEmptyException',
                       f"The repository with name '{rec['repositoryName']}' in registry with "
                       f"id '{rec['registryId']}' cannot be deleted because it still "
                       f"contains images")
    del _region(ctx)['repos'][rec['repositoryName']]
    return {'repository': _repo_out(rec)}


# --------------------------------------------------------------------------
# images

def put_image(ctx, params):
    rec = _repo(ctx, params)
    manifest = params.get('imageManifest') or ''
    try:
        json.loads(manifest)
    except ValueError:
        raise _invalid("Invalid parameter at 'imageManifest' failed to satisfy constraint: "
                       "'the manifest is not valid JSON'")
    digest = 'sha256:' + hashlib.sha256(manifest.encode()).hexdigest()
    if params.get('imageDigest') and params['imageDigest'] != digest:
        raise AwsError('ImageDigestDoesNotMatchException',
                       f"The specified digest {params['imageDigest']} does not match the "
                       f"digest of the manifest {digest}")
    tag = params.get('imageTag')
    if tag is not None and not TAG_RE.match(tag):
        raise _invalid(f"Invalid parameter at 'imageTag' failed to satisfy constraint: "
                       f"'{tag}'")
    img = next((i for i in rec['images'] if i['imageDigest'] == digest), None)
    owner = next((i for i in rec['images'] if tag is not None and tag in i['imageTags']),
                 None)
    if img is not None and (tag is None or owner is img):
        raise AwsError('ImageAlreadyExistsException',
                       f"Image with digest '{digest}' and tag '{tag}' already exists in the "
                       f"repository with name '{rec['repositoryName']}' in registry with id "
                       f"'{rec['registryId']}'")
    if owner is not None and rec['imageTagMutability'] == 'IMMUTABLE':
        raise AwsError('ImageTagAlreadyExistsException',
                       f"The image tag '{tag}' already exists in the "
                       f"'{rec['repositoryName']}' repository and cannot be overwritten "
                       f"because the repository is immutable.")
    if owner is not None:
        owner['imageTags'].remove(tag)
    if img is None:
        img = {'imageDigest': digest, 'imageTags': [], 'imageManifest': manifest,
               'imageManifestMediaType': params.get('imageManifestMediaType')
               or 'application/vnd.docker.distribution.manifest.v2+json',
               'imagePushedAt': ctx.now(), 'imageSizeInBytes': len(manifest) * 1000}
        rec['images'].append(img)
    if tag is not None:
        img['imageTags'].append(tag)
    ident = {'imageDigest': digest}
    if tag is not None:
        ident['imageTag'] = tag
    return {'image': {'registryId': rec['registryId'], 'repositoryName': rec['repositoryName'],
                      'imageId': ident, 'imageManifest': manifest,
                      'imageManifestMediaType': img['imageManifestMediaType']}}


def _image_ids(img):
    if not img['imageTags']:
        return [{'imageDigest': img['imageDigest']}]
    return [{'imageDigest': img['imageDigest'], 'imageTag': t} for t in img['imageTags']]


def _tag_filter(params):
    st = (params.get('filter') or {}).get('tagStatus') or 'ANY'
    return lambda img: (st == 'ANY' or (st == 'TAGGED') == bool(img['imageTags']))


def list_images(ctx, params):
    rec = _repo(ctx, params)
    keep = _tag_filter(params)
    ids = [i for img in rec['images'] if keep(img) for i in _image_ids(img)]
    page, nxt = _page(ctx, ids, params, 'images')
    out = {'imageIds': page}
    if nxt:
        out['nextToken'] = nxt
    return out


def _find_image(rec, ident):
    for img in rec['images']:
        if ident.get('imageDigest') and ident['imageDigest'] != img['imageDigest']:
            continue
        if ident.get('imageTag') and ident['imageTag'] not in img['imageTags']:
            continue
        if ident.get('imageDigest') or ident.get('imageTag'):
            return img
    return None


def describe_images(ctx, params):
    rec = _repo(ctx, params)
    ids = params.get('imageIds')
    if ids:
        imgs = []
        for ident in ids:
            img = _find_image(rec, ident)
            if img is None:
                raise AwsError('ImageNotFoundException',
                               f"The image with imageId {ident} does not exist within the "
                               f"repository with name '{rec['repositoryName']}' in the "
                               f"registry with id '{rec['registryId']}'")
            if img not in imgs:
                imgs.append(img)
    else:
        imgs = [i for i in rec['images'] if _tag_filter(params)(i)]
    details = [{'registryId': rec['registryId'], 'repositoryName': rec['repositoryName'],
                'imageDigest': i['imageDigest'], 'imageTags': list(i['imageTags']),
                'imageSizeInBytes': i['imageSizeInBytes'], 'imagePushedAt': i['imagePushedAt'],
                'imageManifestMediaType': i['imageManifestMediaType']} for i in imgs]
    page, nxt = _page(ctx, details, params, 'details')
    out = {'imageDetails': page}
    if nxt:
        out['nextToken'] = nxt
    return out


def batch_delete_image(ctx, params):
    rec = _repo(ctx, params)
    deleted, failures = [], []
    for ident in params.get('imageIds') or []:
        img = _find_image(rec, ident)
        if img is None:
            failures.append({'imageId': ident, 'failureCode': 'ImageNotFound',
                             'failureReason': 'Requested image not found'})
            continue
        if ident.get('imageTag') and not ident.get('imageDigest') and len(img['imageTags']) > 1:
            img['imageTags'].remove(ident['imageTag'])
            deleted.append({'imageDigest': img['imageDigest'], 'imageTag': ident['imageTag']})
            continue
        deleted.extend(_image_ids(img))
        rec['images'].remove(img)
    return {'imageIds': deleted, 'failures': failures}


# --------------------------------------------------------------------------
# lifecycle and repository policies

def _lp_error(msg):
    return _invalid("Invalid parameter at 'LifecyclePolicyText' failed to satisfy "
                    f"constraint: 'Lifecycle policy validation failure: {msg}'")


def _validate_lifecycle(text):
    try:
        doc = json.loads(text)
    except (ValueError, TypeError):
        raise _lp_error('the policy is not valid JSON')
    if not isinstance(doc, dict) or not isinstance(doc.get('rules'), list) or not doc['rules']:
        raise _lp_error('object has missing required properties (["rules"])')
    extra = set(doc) - {'rules'}
    if extra:
        raise _lp_error(f'object instance has properties which are not allowed by the '
                        f'schema: {sorted(extra)}')
    prios = []
    any_prio = None
    for rule in doc['rules']:
        if not isinstance(rule, dict):
            raise _lp_error('each rule must be an object')
        for k in ('rulePriority', 'selection', 'action'):
            if k not in rule:
                raise _lp_error(f'object has missing required properties (["{k}"])')
        bad = set(rule) - {'rulePriority', 'description', 'selection', 'action'}
        if bad:
            raise _lp_error(f'rule has properties which are not allowed: {sorted(bad)}')
        p = rule['rulePriority']
        if not isinstance(p, int) or isinstance(p, bool) or p < 1:
            raise _lp_error('rulePriority must be an integer >= 1')
        if p in prios:
            raise _lp_error(f'rulePriority {p} is used by more than one rule')
        prios.append(p)
        sel = rule['selection']
        if not isinstance(sel, dict):
            raise _lp_error('selection must be an object')
        # the lifecycle policy schema (ECR User Guide, "Lifecycle policy
        # properties") allows no other keys: a misspelt countNumbr is refused
        bad = set(sel) - set(SELECTION_ORDER)
        if bad:
            raise _lp_error(f'object instance has properties which are not allowed by the '
                            f'schema: {sorted(bad)}')
        if 'description' in rule and not isinstance(rule['description'], str):
            raise _lp_error('description must be a string')
        status = sel.get('tagStatus')
        if status not in ('tagged', 'untagged', 'any'):
            raise _lp_error('selection.tagStatus must be tagged, untagged or any')
        if status == 'tagged':
            if not sel.get('tagPrefixList') and not sel.get('tagPatternList'):
                raise _lp_error("tagPrefixList or tagPatternList is required when "
                                "tagStatus is 'tagged'")
            if sel.get('tagPrefixList') and sel.get('tagPatternList'):
                raise _lp_error('tagPrefixList and tagPatternList cannot both be given')
        elif sel.get('tagPrefixList') or sel.get('tagPatternList'):
            raise _lp_error("tagPrefixList and tagPatternList are only allowed when "
                            "tagStatus is 'tagged'")
        ctype = sel.get('countType')
        if ctype not in ('imageCountMoreThan', 'sinceImagePushed'):
            raise _lp_error('selection.countType must be imageCountMoreThan or '
                            'sinceImagePushed')
        if ctype == 'sinceImagePushed' and sel.get('countUnit') != 'days':
            raise _lp_error("countUnit 'days' is required with countType sinceImagePushed")
        if ctype == 'imageCountMoreThan' and 'countUnit' in sel:
            raise _lp_error('countUnit is not allowed with countType imageCountMoreThan')
        n = sel.get('countNumber')
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise _lp_error('selection.countNumber must be an integer >= 1')
        act = rule['action']
        if not isinstance(act, dict) or act.get('type') != 'expire':
            raise _lp_error("action.type must be 'expire'")
        if set(act) - {'type'}:
            raise _lp_error(f'object instance has properties which are not allowed by the '
                            f'schema: {sorted(set(act) - {"type"})}')
        if status == 'any':
            any_prio = p
    if any_prio is not None and any_prio != max(prios):
        raise _lp_error("a rule with tagStatus 'any' must have the highest rulePriority")
    return doc


RULE_ORDER = ('rulePriority', 'description', 'selection', 'action')
SELECTION_ORDER = ('tagStatus', 'tagPatternList', 'tagPrefixList', 'countType', 'countUnit',
                   'countNumber')


def _ordered(d, order):
    out = {k: d[k] for k in order if k in d}
    out.update({k: v for k, v in d.items() if k not in out})
    return out


def _normalise_lifecycle(doc):
    """The text ECR stores and returns: compact JSON, rules sorted by rulePriority,
    keys in ECR's order (so a client must compare canonical forms)."""
    rules = []
    for rule in sorted(doc['rules'], key=lambda x: x['rulePriority']):
        rule = dict(rule, selection=_ordered(rule['selection'], SELECTION_ORDER))
        rules.append(_ordered(rule, RULE_ORDER))
    return json.dumps({'rules': rules}, separators=(',', ':'))


def put_lifecycle_policy(ctx, params):
    rec = _repo(ctx, params)
    text = params.get('lifecyclePolicyText') or ''
    if len(text) > 30720:
        raise _lp_error('the policy text is too long')
    text = _normalise_lifecycle(_validate_lifecycle(text))
    rec['lifecyclePolicy'] = text
    rec['lifecycleSetAt'] = ctx.now()
    return {'registryId': rec['registryId'], 'repositoryName': rec['repositoryName'],
            'lifecyclePolicyText': text}


def _lp(ctx, params):
    rec = _repo(ctx, params)
    if rec.get('lifecyclePolicy') is None:
        raise AwsError('LifecyclePolicyNotFoundException',
                       f"Lifecycle policy does not exist for the repository with name "
                       f"'{rec['repositoryName']}' in the registry with id "
                       f"'{rec['registryId']}'")
    return rec


def get_lifecycle_policy(ctx, params):
    rec = _lp(ctx, params)
    return {'registryId': rec['registryId'], 'repositoryName': rec['repositoryName'],
            'lifecyclePolicyText': rec['lifecyclePolicy'],
            'lastEvaluatedAt': rec.get('lifecycleSetAt')}


def delete_lifecycle_policy(ctx, params):
    rec = _lp(ctx, params)
    out = {'registryId': rec['registryId'], 'repositoryName': rec['repositoryName'],
           'lifecyclePolicyText': rec['lifecyclePolicy'],
           'lastEvaluatedAt': rec.get('lifecycleSetAt')}
    rec['lifecyclePolicy'] = None
    return out


def set_repository_policy(ctx, params):
    rec = _repo(ctx, params)
    text = params.get('policyText')
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or 'Statement' not in doc:
            raise ValueError
    except (ValueError, TypeError):
        raise _invalid("Invalid parameter at 'PolicyText' failed to satisfy constraint: "
                       "'Invalid repository policy provided'")
    rec['policy'] = text
    return {'registryId': rec['registryId'], 'repositoryName': rec['repositoryName'],
            'policyText': text}


def _policy(ctx, params):
    rec = _repo(ctx, params)
    if rec.get('policy') is None:
        raise AwsError('RepositoryPolicyNotFoundException',
                       f"Repository policy does not exist for the repository with name "
                       f"'{rec['repositoryName']}' in the registry with id "
                       f"'{rec['registryId']}'")
    return rec


def get_repository_policy(ctx, params):
    rec = _policy(ctx, params)
    return {'registryId': rec['registryId'], 'repositoryName': rec['repositoryName'],
            'policyText': rec['policy']}


def delete_repository_policy(ctx, params):
    rec = _policy(ctx, params)
    out = {'registryId': rec['registryId'], 'repositoryName': rec['repositoryName'],
           'policyText': rec['policy']}
    rec['policy'] = None
    return out


# --------------------------------------------------------------------------
# settings and tags

def put_image_tag_mutability(ctx, params):
    rec = _repo(ctx, params)
    rec['imageTagMutability'] = params.get('imageTagMutability')
    return {'registryId': rec['registryId'], 'repositoryName': rec['repositoryName'],
            'imageTagMutability': rec['imageTagMutability']}


def put_image_scanning_configuration(ctx, params):
    rec = _repo(ctx, params)
    conf = params.get('imageScanningConfiguration') or {}
    rec['imageScanningConfiguration'] = {'scanOnPush': bool(conf.get('scanOnPush'))}
    return {'registryId': rec['registryId'], 'repositoryName': rec['repositoryName'],
            'imageScanningConfiguration': rec['imageScanningConfiguration']}


def _by_arn(ctx, arn):
    m = re.match(r'^arn:aws:ecr:([^:]+):(\d{12}):repository/(.+)$', arn or '')
    if not m:
        raise _invalid(f"Invalid parameter at 'resourceArn' failed to satisfy constraint: "
                       f"'Invalid ARN: {arn}'")
    rec = _region(ctx)['repos'].get(m.group(3))
    if rec is None or m.group(1) != ctx.region or m.group(2) != ctx.account:
        raise _not_found(ctx, m.group(3))
    return rec


def tag_resource(ctx, params):
    rec = _by_arn(ctx, params.get('resourceArn'))
    rec['tags'] = _tags(rec['tags'], params.get('tags'))
    return {}


def untag_resource(ctx, params):
    rec = _by_arn(ctx, params.get('resourceArn'))
    keys = set(params.get('tagKeys') or [])
    rec['tags'] = [t for t in rec['tags'] if t['Key'] not in keys]
    return {}


def list_tags_for_resource(ctx, params):
    rec = _by_arn(ctx, params.get('resourceArn'))
    return {'tags': [dict(t) for t in rec['tags']]}


HANDLERS = {
    'CreateRepository': create_repository, 'DescribeRepositories': describe_repositories,
    'DeleteRepository': delete_repository, 'PutImage': put_image,
    'ListImages': list_images, 'DescribeImages': describe_images,
    'BatchDeleteImage': batch_delete_image,
    'PutLifecyclePolicy': put_lifecycle_policy, 'GetLifecyclePolicy': get_lifecycle_policy,
    'DeleteLifecyclePolicy': delete_lifecycle_policy,
    'SetRepositoryPolicy': set_repository_policy,
    'GetRepositoryPolicy': get_repository_policy,
    'DeleteRepositoryPolicy': delete_repository_policy,
    'PutImageTagMutability': put_image_tag_mutability,
    'PutImageScanningConfiguration': put_image_scanning_configuration,
    'TagResource': tag_resource, 'UntagResource': untag_resource,
    'ListTagsForResource': list_tags_for_resource,
}


def inventory(store):
    out = []
    for region, r in sorted((store.get('regions') or {}).items()):
        for rec in r['repos'].values():
            out.append({'service': SERVICE, 'type': 'repository',
                        'id': rec['repositoryArn'], 'region': region})
    return out
