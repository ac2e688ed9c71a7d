"""Resource Groups Tagging API (tagging.<region>.amazonaws.com, JSON 1.1,
target ResourceGroupsTaggingAPI_20170126): GetResources over every taggable
resource the other emulated services hold in the caller's Region.

What AWS documents (GetResources API reference):
* only resources that carry (or carried) tags are returned;
* TagFilters: up to 50 {Key, Values}; a resource matches when it has every
  filter's key, with one of its Values when Values is given (OR within a
  filter, AND between filters);
* ResourceTypeFilters: "service" or "service:resourceType" (ec2:vpc,
  logs:log-group, ecr:repository, secretsmanager:secret, ecs:cluster,
  ecs:service);
* ResourcesPerPage: 1-100, default 100; PaginationToken is "" on the last
  page;
* ARNs in each service's own format; a log group's without the ":*" that
  DescribeLogGroups appends.

The resources are read straight from the other services' stores (their
layouts are documented in their modules), so nothing has to register here.
IAM is global and not listed (as with AWS's Region-scoped listing of this
emulator's types, roles are read through IAM itself).
"""
import base64
import json

from ..core import AwsError

SERVICE = 'resourcegroupstaggingapi'

# EC2 store collection -> the resource type of its ARN
_EC2_TYPES = {'vpcs': 'vpc', 'subnets': 'subnet', 'igws': 'internet-gateway',
              'addresses': 'elastic-ip', 'nats': 'natgateway', 'rtbs': 'route-table',
              'sgs': 'security-group', 'vpces': 'vpc-endpoint',
              'enis': 'network-interface', 'nacls': 'network-acl',
              'sgrules': 'security-group-rule'}


def _pairs(tags):
    """[(key, value)] from a dict, [{Key, Value}] or [{key, value}]."""
    if isinstance(tags, dict):
        return list(tags.items())
    out = []
    for t in tags or []:
        k = t.get('Key', t.get('key'))
        v = t.get('Value', t.get('value', ''))
        if k is not None:
            out.append((k, v or ''))
    return out


def _ec2(ctx):
    r = (ctx.store('ec2').get('regions') or {}).get(ctx.region) or {}
    for coll, rtype in _EC2_TYPES.items():
        for rid, rec in (r.get(coll) or {}).items():
            if not isinstance(rec, dict) or rec.get('Main') or rec.get('default'):
                continue
            if rec.get('State') in ('deleted', 'failed'):
                continue
            yield f'ec2:{rtype}', ctx.arn('ec2', f'{rtype}/{rid}'), rec.get('Tags')


def _logs(ctx):
    groups = (ctx.store('logs').get('regions') or {}).get(ctx.region) or {}
    for name, g in groups.items():
        yield 'logs:log-group', ctx.arn('logs', f'log-group:{name}'), g.get('tags')


def _ecr(ctx):
    r = (ctx.store('ecr').get('regions') or {}).get(ctx.region) or {}
    for rec in (r.get('repos') or {}).values():
        yield 'ecr:repository', rec['repositoryArn'], rec.get('tags')


def _secrets(ctx):
    s = (ctx.store('secretsmanager').get('regions') or {}).get(ctx.region) or {}
    for sec in s.values():
        if sec.get('DeletedDate'):
            continue
        yield 'secretsmanager:secret', sec['ARN'], sec.get('Tags')


def _ecs(ctx):
    r = (ctx.store('ecs').get('regions') or {}).get(ctx.region) or {}
    for c in (r.get('clusters') or {}).values():
        if c.get('status') == 'ACTIVE':
            yield 'ecs:cluster', c['clusterArn'], c.get('tags')
    for svcs in (r.get('services') or {}).values():
        for s in svcs:
            if s.get('status') != 'INACTIVE':
                yield 'ecs:service', s['serviceArn'], s.get('tags')


_SOURCES = (_ec2, _logs, _ecr, _secrets, _ecs)


def _type_ok(rtype, filters):
    if not filters:
        return True
    svc = rtype.split(':', 1)[0]
    return any(f == rtype or f == svc for f in filters)


def _tags_ok(pairs, filters):
    have = {}
    for k, v in pairs:
        have[k] = v
    for f in filters:
        if f['Key'] not in have:
            return False
        vals = f.get('Values') or []
        if vals and have[f['Key']] not in vals:
            return False
    return True


def _token(n):
    return base64.urlsafe_b64encode(json.dumps({'offset': n}).encode()).decode()


def _untoken(tok):
    try:
        return int(json.loads(base64.urlsafe_b64decode(tok.encode()))['offset'])
    except Exception:
        raise AwsError('PaginationTokenExpiredException',
                       'The pagination token is not valid or has expired.')


def get_resources(ctx, p):
    # knob (benchmarks: the figures without this API): as for a caller
    # whose policy lacks tag:GetResources
    if ctx.config.get('tagging_denied'):
        raise AwsError('AccessDeniedException', 'User is not authorized to perform: '
                                                'tag:GetResources', status=400)
    tag_filters = p.get('TagFilters') or []
    if len(tag_filters) > 50:
        raise AwsError('InvalidParameterException',
                       'TagFilters: at most 50 filters are allowed.')
    per_page = p.get('ResourcesPerPage')
    if per_page is not None and not 1 <= per_page <= 100:
        raise AwsError('InvalidParameterException',
                       'ResourcesPerPage must be between 1 and 100.')
    if p.get('ResourceARNList') and (tag_filters or p.get('ResourceTypeFilters')):
        raise AwsError('InvalidParameterException',
                       'ResourceARNList cannot be combined with TagFilters or '
                       'ResourceTypeFilters.')
    arns = set(p.get('ResourceARNList') or [])
    types = p.get('ResourceTypeFilters') or []
    rows = []
    for src in _SOURCES:
        for rtype, arn, tags in src(ctx):
            pairs = _pairs(tags)
            if not pairs or not _type_ok(rtype, types):
                continue
            if arns and arn not in arns:
                continue
            if not _tags_ok(pairs, tag_filters):
                continue
            rows.append((arn, pairs))
    rows.sort()
    start = _untoken(p['PaginationToken']) if p.get('PaginationToken') else 0
    limit = ctx.page_size(per_page, 100)
    page = rows[start:start + limit]
    nxt = start + len(page)
    return {'PaginationToken': _token(nxt) if nxt < len(rows) else '',
            'ResourceTagMappingList': [
                {'ResourceARN': arn, 'Tags': [{'Key': k, 'Value': v} for k, v in pairs]}
                for arn, pairs in page]}


def get_tag_keys(ctx, p):
    keys = set()
    for src in _SOURCES:
        for _rtype, _arn, tags in src(ctx):
            keys.update(k for k, _v in _pairs(tags))
    return {'PaginationToken': '', 'TagKeys': sorted(keys)}


HANDLERS = {
    'GetResources': get_resources,
    'GetTagKeys': get_tag_keys,
}
