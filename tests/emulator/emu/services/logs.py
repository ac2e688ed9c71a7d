"""CloudWatch Logs: log groups (retention, tags), log streams and events.

Store: regions[region][name] = {logGroupName, creationTime (ms), retentionInDays|None, kmsKeyId,
                       tags {k: v}, streams {name: {creationTime, events [...]}}}
"""
import base64
import re

from .. import tags as emu_tags
from ..core import KMS_KEY_ARN_RE, AwsError
from ..protocols import service_model

_NAME_RE = re.compile(r'^[\.\-_/#A-Za-z0-9]+$')
MAX_TAGS = 50


# PutRetentionPolicy, retentionInDays: "Possible values are: 1, 3, 5, 7, 14,
# 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
# 3288, and 3653." (CloudWatch Logs API Reference). The vendored models carry no
# documentation; the list is taken from the model's text when it has one.
DOCUMENTED_RETENTION = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                        1096, 1827, 2192, 2557, 2922, 3288, 3653]


def _allowed_retention():
    """The values the model's documentation of shape Days lists."""
    doc = service_model('logs').shape_for('Days').documentation or ''
    if 'Possible values are:' not in doc:
        return DOCUMENTED_RETENTION
    text = doc.split('Possible values are:', 1)[-1].split('.', 1)[0]
    return sorted({int(x) for x in re.findall(r'\d+', text)})


RETENTION_DAYS = _allowed_retention()


def _st(ctx):
    # log group names are unique per Region (each Region has its own groups)
    return ctx.store('logs').setdefault('regions', {}).setdefault(ctx.region, {})


def _too_new(ctx, g):
    return ctx.too_new(g['creationTime'] / 1000.0, 'log-group')


def _group(ctx, name):
    g = _st(ctx).get(name)
    if g is None or (ctx.reading() and _too_new(ctx, g)):
        raise AwsError('ResourceNotFoundException', 'The specified log group does not exist.')
    return g


def _arn(ctx, name):
    return ctx.arn('logs', f'log-group:{name}')


def _check_name(name):
    if not _NAME_RE.match(name):
        raise AwsError('InvalidParameterException',
                       f"1 validation error detected: Value '{name}' at 'logGroupName' failed "
                       f"to satisfy constraint: Member must satisfy regular expression "
                       f"pattern: [\\.\\-_/#A-Za-z0-9]+")


def _check_tags(tags):
    if len(tags) > MAX_TAGS:
        raise AwsError('InvalidParameterException', f'Too many tags: at most {MAX_TAGS}')
    emu_tags.check(list(tags.items()))
    for k in tags:
        if k.startswith('aws:'):
            raise AwsError('InvalidParameterException', 'Tag keys cannot start with aws:')


def create_log_group(ctx, p):
    name = p['logGroupName']
    _check_name(name)
    st = _st(ctx)
    if name in st:
        raise AwsError('ResourceAlreadyExistsException', 'The specified log group already '
                                                         'exists')
    tags = p.get('tags', {})
    _check_tags(tags)
    # "kmsKeyId: The Amazon Resource Name (ARN) of the KMS key" (CreateLogGroup)
    if p.get('kmsKeyId') is not None and not KMS_KEY_ARN_RE.match(p['kmsKeyId']):
        raise AwsError('InvalidParameterException',
                       f"Specified KMS key ARN is not valid: {p['kmsKeyId']}")
    st[name] = {'logGroupName': name, 'creationTime': int(ctx.now() * 1000),
                'retentionInDays': None, 'kmsKeyId': p.get('kmsKeyId'), 'tags': dict(tags),
                'streams': {}, 'region': ctx.region, 'account': ctx.account}
    return {}


def _group_out(ctx, g):
    out = {'logGroupName': g['logGroupName'], 'creationTime': g['creationTime'],
           'metricFilterCount': 0, 'arn': _arn(ctx, g['logGroupName']) + ':*',
           'storedBytes': sum(len(e['message']) for s in g['streams'].values()
                              for e in s['events'])}
    if g.get('retentionInDays'):
        out['retentionInDays'] = g['retentionInDays']
    if g.get('kmsKeyId'):
        out['kmsKeyId'] = g['kmsKeyId']
    return out


def _token(name):
    return base64.urlsafe_b64encode(name.encode()).decode()


def _untoken(tok, what='nextToken'):
    try:
        return base64.urlsafe_b64decode(tok.encode()).decode()
    except ValueError:
        raise AwsError('InvalidParameterException', f'The specified {what} is invalid.')


def describe_log_groups(ctx, p):
    if 'logGroupNamePrefix' in p and 'logGroupNamePattern' in p:
        raise AwsError('InvalidParameterException', 'LogGroup name prefix and LogGroup name '
                                                    'pattern are mutually exclusive parameters.')
    if 'logGroupIdentifiers' in p:
        # names or ARNs (with or without ":*"), 1-50; no other filter with
        # them (DescribeLogGroups API reference); unknown ones are left out
        if 'logGroupNamePrefix' in p or 'logGroupNamePattern' in p:
            raise AwsError('InvalidParameterException', 'logGroupIdentifiers and '
                           'logGroupNamePrefix/logGroupNamePattern are mutually exclusive '
                           'parameters.')
        want = set()
        for ident in p['logGroupIdentifiers']:
            if ident.startswith('arn:'):
                ident = ident[:-2] if ident.endswith(':*') else ident
                ident = ident.split(':log-group:', 1)[-1]
            want.add(ident)
        names = sorted(n for n, g in _st(ctx).items() if n in want and not _too_new(ctx, g))
        return {'logGroups': [_group_out(ctx, _st(ctx)[n]) for n in names]}
    prefix = p.get('logGroupNamePrefix', '')
    pattern = p.get('logGroupNamePattern')
    names = sorted(n for n, g in _st(ctx).items() if n.startswith(prefix) and
                   (pattern is None or pattern.lower() in n.lower()) and not _too_new(ctx, g))
    limit = ctx.page_size(p.get('limit'), 50)
    if 'nextToken' in p:
        after = _untoken(p['nextToken'])
        names = [n for n in names if n > after]
    page = names[:limit]
    out = {'logGroups': [_group_out(ctx, _st(ctx)[n]) for n in page]}
    if len(names) > limit:
        out['nextToken'] = _token(page[-1])
    return out


def delete_log_group(ctx, p):
    _group(ctx, p['logGroupName'])
    del _st(ctx)[p['logGroupName']]
    return {}


def put_retention_policy(ctx, p):
    g = _group(ctx, p['logGroupName'])
    days = p['retentionInDays']
    if days not in RETENTION_DAYS:
        raise AwsError('InvalidParameterException',
                       f"1 validation error detected: Value '{days}' at 'retentionInDays' "
                       f"failed to satisfy constraint: Member must satisfy enum value set: "
                       f"[{', '.join(str(d) for d in RETENTION_DAYS)}]")
    g['retentionInDays'] = days
    return {}


def delete_retention_policy(ctx, p):
    g = _group(ctx, p['logGroupName'])
    g['retentionInDays'] = None
    return {}


def _group_by_arn(ctx, arn):
    m = re.match(r'^arn:aws:logs:([^:]+):(\d{12}):log-group:([^:]+)(:\*)?$', arn)
    if not m:
        raise AwsError('InvalidParameterException', f'Invalid resource ARN: {arn}')
    g = _st(ctx).get(m.group(3))
    if g is None or m.group(1) != g.get('region', ctx.region) or \
            m.group(2) != g.get('account', ctx.account):
        raise AwsError('ResourceNotFoundException', 'The specified resource does not exist.')
    return g


def tag_resource(ctx, p):
    g = _group_by_arn(ctx, p['resourceArn'])
    merged = dict(g['tags'])
    merged.update(p['tags'])
    _check_tags(merged)
    g['tags'] = merged
    return {}


def untag_resource(ctx, p):
    g = _group_by_arn(ctx, p['resourceArn'])
    for k in p['tagKeys']:
        g['tags'].pop(k, None)
    return {}


def list_tags_for_resource(ctx, p):
    return {'tags': dict(_group_by_arn(ctx, p['resourceArn'])['tags'])}


def tag_log_group(ctx, p):
    g = _group(ctx, p['logGroupName'])
    merged = dict(g['tags'])
    merged.update(p['tags'])
    _check_tags(merged)
    g['tags'] = merged
    return {}


def untag_log_group(ctx, p):
    g = _group(ctx, p['logGroupName'])
    for k in p['tags']:
        g['tags'].pop(k, None)
    return {}


def list_tags_log_group(ctx, p):
    return {'tags': dict(_group(ctx, p['logGroupName'])['tags'])}


# --- streams and events -------------------------------------------------------

def _stream(g, name):
    s = g['streams'].get(name)
    if s is None:
        raise AwsError('ResourceNotFoundException', 'The specified log stream does not exist.')
    return s


def create_log_stream(ctx, p):
    g = _group(ctx, p['logGroupName'])
    name = p['logStreamName']
    if ':' in name or '*' in name:
        raise AwsError('InvalidParameterException', f'Invalid log stream name {name}')
    if name in g['streams']:
        raise AwsError('ResourceAlreadyExistsException', 'The specified log stream already '
                                                         'exists')
    g['streams'][name] = {'creationTime': int(ctx.now() * 1000), 'events': []}
    return {}


def delete_log_stream(ctx, p):
    g = _group(ctx, p['logGroupName'])
    _stream(g, p['logStreamName'])
    del g['streams'][p['logStreamName']]
    return {}


def describe_log_streams(ctx, p):
    g = _group(ctx, p['logGroupName'])
    prefix = p.get('logStreamNamePrefix', '')
    names = sorted(n for n in g['streams'] if n.startswith(prefix))
    if p.get('descending'):
        names.reverse()
    if 'nextToken' in p:
        after = _untoken(p['nextToken'])
        names = [n for n in names if (n < after if p.get('descending') else n > after)]
    limit = ctx.page_size(p.get('limit'), 50)
    page = names[:limit]
    out = {'logStreams': []}
    for n in page:
        s = g['streams'][n]
        item = {'logStreamName': n, 'creationTime': s['creationTime'],
                'arn': _arn(ctx, g['logGroupName']) + f':log-stream:{n}', 'storedBytes': 0}
        if s['events']:
            item['firstEventTimestamp'] = s['events'][0]['timestamp']
            item['lastEventTimestamp'] = s['events'][-1]['timestamp']
            item['lastIngestionTime'] = s['events'][-1]['ingestionTime']
        out['logStreams'].append(item)
    if len(names) > limit:
        out['nextToken'] = _token(page[-1])
    return out


def put_log_events(ctx, p):
    g = _group(ctx, p['logGroupName'])
    s = _stream(g, p['logStreamName'])
    events = p['logEvents']
    if any(events[i]['timestamp'] > events[i + 1]['timestamp']
           for i in range(len(events) - 1)):
        raise AwsError('InvalidParameterException', 'Log events in a single PutLogEvents '
                                                    'request must be in chronological order.')
    now = int(ctx.now() * 1000)
    for e in events:
        s['events'].append({'timestamp': e['timestamp'], 'message': e['message'],
                            'ingestionTime': now})
    return {'nextSequenceToken': f'{len(s["events"]):056d}'}


def get_log_events(ctx, p):
    g = _group(ctx, p['logGroupName'])
    s = _stream(g, p['logStreamName'])
    evs = [e for e in s['events']
           if p.get('startTime', 0) <= e['timestamp'] and
           ('endTime' not in p or e['timestamp'] < p['endTime'])]
    limit = p.get('limit', 10000)
    if p.get('startFromHead'):
        evs = evs[:limit]
    else:
        evs = evs[-limit:]
    return {'events': evs, 'nextForwardToken': f'f/{len(s["events"]):056d}',
            'nextBackwardToken': f'b/{0:056d}'}


HANDLERS = {
    'CreateLogGroup': create_log_group, 'DescribeLogGroups': describe_log_groups,
    'DeleteLogGroup': delete_log_group, 'PutRetentionPolicy': put_retention_policy,
    'DeleteRetentionPolicy': delete_retention_policy, 'TagResource': tag_resource,
    'UntagResource': untag_resource, 'ListTagsForResource': list_tags_for_resource,
    'TagLogGroup': tag_log_group, 'UntagLogGroup': untag_log_group,
    'ListTagsLogGroup': list_tags_log_group,
    'CreateLogStream': create_log_stream, 'DeleteLogStream': delete_log_stream,
    'DescribeLogStreams': describe_log_streams, 'PutLogEvents': put_log_events,
    'GetLogEvents': get_log_events,
}


def inventory(store):
    return [{'service': 'logs', 'type': 'log-group', 'id': n, 'region': region}
            for region, groups in sorted((store.get('regions') or {}).items())
            for n in sorted(groups)]
