"""AWS Cloud Control API: any resource type, driven by its registry schema.

The schemas come from the same bundle cairn ships (schemas/registry/
all-types.bundle, or $CAIRN_SCHEMA_BUNDLE): a type the bundle marks
non-provisionable, or does not know, is refused as AWS refuses it.

What a request does, from the schema alone:
- CreateResource validates DesiredState (required properties, JSON types of
  the top-level properties, unknown properties when additionalProperties is
  false, no read-only property given), fills in what AWS would generate (a
  name for a `<Type>Name` / `Name` property left out, every read-only
  property: ARNs in the service's format where it is well known, URLs, ids),
  and enforces references: an ARN (or SQS queue URL) in the desired state
  naming a resource of a service only Cloud Control serves here must exist,
  else the request FAILS with NotFound (a queue whose RedrivePolicy points
  at a missing dead-letter queue, an alarm action on a deleted topic).
- UpdateResource applies an RFC 6902 patch; a patch touching a create-only
  property FAILS with NotUpdatable, a read-only one with InvalidRequest.
- Every mutating request runs asynchronously: PENDING for the first tenth
  of its duration, IN_PROGRESS until the end, then SUCCESS or FAILED
  (config async.cloudcontrol seconds, or async["cloudcontrol:TYPE"]);
  RetryAfter tells the client when to ask again. The same ClientToken
  returns the same request (idempotency of CreateResource and friends).
- GetResource leaves write-only properties out and returns Properties as a
  JSON string, as AWS does; ListResources pages (MaxResults, NextToken).

Store: resources[type][identifier] = {props, ready_at, gone_at};
requests[request_token] = {...ProgressEvent fields, start, end, final, ...};
tokens[client_token] = request_token.
"""
import json
import os
import re
import threading
import uuid
import zlib

from ..core import AwsError

_HERE = os.path.dirname(os.path.abspath(__file__))
_DEFAULT_BUNDLE = os.path.normpath(os.path.join(
    _HERE, '..', '..', '..', '..', 'schemas', 'registry', 'all-types.bundle'))

# services the emulator serves natively: their ARNs are not checked here
_NATIVE_SERVICES = {'iam', 'logs', 'ec2', 'ecs', 'ecr', 'secretsmanager', 's3', 'sts',
                    'elasticloadbalancing'}
PAGE = 50


class Bundle:
    """The schema bundle: index read at once, schemas inflated on demand."""

    def __init__(self, path):
        self.path = path
        self.index = {}
        self.cache = {}
        self.lock = threading.Lock()
        with open(path, 'rb') as f:
            self.data = f.read()
        pos, blank = 0, 0
        header, index = [], []
        while blank < 2:
            nl = self.data.index(b'\n', pos)
            line = self.data[pos:nl].decode()
            pos = nl + 1
            if not line:
                blank += 1
            elif blank == 0:
                header.append(line)
            else:
                index.append(line)
        if not header or header[0] != 'cairn-schema-bundle 1':
            raise ValueError(f'{path}: not a version 1 schema bundle')
        self.base = pos
        for ln in index:
            name, prov, off, clen, ulen = ln.split('\t')
            self.index[name] = (prov == 'P', int(off), int(clen), int(ulen))

    def provisionable(self, name):
        return self.index[name][0]

    def schema(self, name):
        with self.lock:
            s = self.cache.get(name)
            if s is None:
                _, off, clen, _ = self.index[name]
                raw = zlib.decompress(self.data[self.base + off:self.base + off + clen])
                s = self.cache[name] = json.loads(raw)
            return s


_bundle = None
_bundle_lock = threading.Lock()


def bundle():
    global _bundle
    with _bundle_lock:
        if _bundle is None:
            _bundle = Bundle(os.environ.get('CAIRN_SCHEMA_BUNDLE') or _DEFAULT_BUNDLE)
        return _bundle


def _props_of(paths):
    """'/properties/A/B' -> 'A' (top level only)."""
    return {p.split('/')[2] for p in paths or [] if p.startswith('/properties/')}


def _st(ctx):
    s = ctx.store('cloudcontrol')
    s.setdefault('resources', {})
    s.setdefault('requests', {})
    s.setdefault('tokens', {})
    return s


def _schema(type_name):
    b = bundle()
    if type_name not in b.index:
        raise AwsError('TypeNotFoundException',
                       f'The type {type_name} cannot be found.')
    if not b.provisionable(type_name):
        raise AwsError('UnsupportedActionException',
                       f'Resource type {type_name} does not support Cloud Control API '
                       f'(provisioning type NON_PROVISIONABLE).')
    return b.schema(type_name)


def _durations(ctx, type_name):
    cfg = ctx.config.get('async', {}) if isinstance(ctx.config, dict) else {}
    return float(cfg.get(f'cloudcontrol:{type_name}', cfg.get('cloudcontrol', 0.5)))


# ------------------------------------------------------------ validation

def _resolve(schema, node):
    seen = 0
    while isinstance(node, dict) and '$ref' in node and seen < 10:
        ref = node['$ref']
        seen += 1
        if ref.startswith('#/definitions/'):
            node = schema.get('definitions', {}).get(ref[len('#/definitions/'):], {})
        elif ref.startswith('#/properties/'):
            node = schema.get('properties', {}).get(ref[len('#/properties/'):], {})
        else:
            break
    return node if isinstance(node, dict) else {}


_PY = {'string': str, 'integer': int, 'number': (int, float), 'boolean': bool,
       'array': list, 'object': dict}


def _type_ok(value, types):
    if isinstance(types, str):
        types = [types]
    for t in types:
        if t == 'integer' and isinstance(value, bool):
            continue
        if t in ('integer', 'number') and isinstance(value, bool):
            continue
        if isinstance(value, _PY.get(t, object)):
            return True
    return False


def _validate(schema, model, ro):
    """Problems of a desired state, as CloudFormation's handlers word them."""
    props = schema.get('properties', {})
    problems = []
    if not isinstance(model, dict):
        return ['DesiredState must be a JSON object']
    for r in schema.get('required', []):
        if r not in model:
            problems.append(f'#: required key [{r}] not found')
    for k, v in model.items():
        if k not in props:
            if schema.get('additionalProperties') is False:
                problems.append(f'#: extraneous key [{k}] is not permitted')
            continue
        if k in ro:
            problems.append(f'#: read-only property [{k}] cannot be set')
            continue
        node = _resolve(schema, props[k])
        t = node.get('type')
        if t and not _type_ok(v, t):
            problems.append(f'#/{k}: expected type: {t}, found: {type(v).__name__}')
        enum = node.get('enum')
        if enum and isinstance(v, (str, int)) and v not in enum:
            problems.append(f'#/{k}: {v} is not a valid enum value')
    return problems


# ------------------------------------------------------------ generation

def _service(type_name):
    return type_name.split('::')[1].lower()


def _name_prop(schema, type_name):
    """The property AWS generates a name for when it is left out."""
    props = schema.get('properties', {})
    short = type_name.split('::')[2]
    for cand in (f'{short}Name', 'Name'):
        node = _resolve(schema, props.get(cand, {}))
        if cand in props and node.get('type', 'string') == 'string':
            return cand
    return None


def _arn(ctx, type_name, model, ident):
    svc, short = _service(type_name), type_name.split('::')[2]
    r, a = ctx.region, ctx.account
    known = {
        'AWS::SQS::Queue': lambda: f'arn:aws:sqs:{r}:{a}:{model.get("QueueName")}',
        'AWS::SNS::Topic': lambda: f'arn:aws:sns:{r}:{a}:{model.get("TopicName")}',
        'AWS::DynamoDB::Table': lambda: f'arn:aws:dynamodb:{r}:{a}:table/{model.get("TableName")}',
        'AWS::KMS::Key': lambda: f'arn:aws:kms:{r}:{a}:key/{model.get("KeyId")}',
        'AWS::CloudWatch::Alarm': lambda: f'arn:aws:cloudwatch:{r}:{a}:alarm:{model.get("AlarmName")}',
        'AWS::Events::Rule': lambda: f'arn:aws:events:{r}:{a}:rule/{model.get("Name")}',
        'AWS::Lambda::Function': lambda: f'arn:aws:lambda:{r}:{a}:function:{model.get("FunctionName")}',
        'AWS::StepFunctions::StateMachine': lambda: f'arn:aws:states:{r}:{a}:stateMachine:{model.get("StateMachineName")}',
    }
    if type_name in known:
        return known[type_name]()
    return f'arn:aws:{svc}:{r}:{a}:{short.lower()}/{ident}'


def _generate(ctx, type_name, schema, model, ro):
    """Fills in generated names and read-only properties."""
    props = schema.get('properties', {})
    short = type_name.split('::')[2]
    name = _name_prop(schema, type_name)
    rid = ctx.rand_hex(12).upper()
    if name and name not in model and name not in ro:
        gen = f'{short}-{rid}'
        if type_name == 'AWS::SQS::Queue' and model.get('FifoQueue'):
            gen += '.fifo'
        model[name] = gen
    # ids first (ARNs may embed them), then ARNs, then the rest
    order = sorted(ro, key=lambda k: (k.endswith('Arn') or k == 'Arn', k))
    for k in order:
        if k in model:
            continue
        node = _resolve(schema, props.get(k, {}))
        t = node.get('type', 'string')
        if t not in ('string', ['string']):
            continue
        if k == 'Arn' or k.endswith('Arn'):
            model[k] = _arn(ctx, type_name, model, model.get(name) if name else rid)
        elif k == 'QueueUrl':
            model[k] = (f'https://sqs.{ctx.region}.amazonaws.com/{ctx.account}/'
                        f'{model.get("QueueName")}')
        elif k == 'KeyId':
            model[k] = ctx.uuid()
        elif k.endswith('Id') or k == 'Id':
            model[k] = ctx.uuid() if type_name.startswith('AWS::KMS') else f'{short.lower()}-{rid}'
        elif k.endswith('Name'):
            model[k] = model.get(name) if name else f'{short}-{rid}'
        else:
            model[k] = f'{k.lower()}-{rid}'


def _identifier(schema, model):
    ids = _props_of(schema.get('primaryIdentifier'))
    order = [p.split('/')[2] for p in schema.get('primaryIdentifier', [])]
    missing = [p for p in order if p not in model]
    if missing or not ids:
        return None
    return '|'.join(str(model[p]) for p in order)


# ------------------------------------------------------------ references

def _visible(res, now):
    return res.get('ready_at', 0) <= now and not (res.get('gone_at') and res['gone_at'] <= now)


def _known_refs(st, now):
    """Every ARN and URL value the live resources hold."""
    out = set()
    for by_id in st['resources'].values():
        for res in by_id.values():
            if not _visible(res, now):
                continue
            for v in res['props'].values():
                if isinstance(v, str) and (v.startswith('arn:') or v.startswith('https://')):
                    out.add(v)
    return out


def _refs_in(v):
    if isinstance(v, str):
        s = v.strip()
        if s.startswith('{'):
            try:
                yield from _refs_in(json.loads(s))
            except ValueError:
                pass
        elif s.startswith('arn:aws:') or re.match(r'^https://sqs\.[^/]+\.amazonaws\.com/', s):
            yield s
    elif isinstance(v, dict):
        for x in v.values():
            yield from _refs_in(x)
    elif isinstance(v, list):
        for x in v:
            yield from _refs_in(x)


def _missing_ref(ctx, st, model):
    known = _known_refs(st, ctx.now())
    for ref in _refs_in(model):
        if ref.startswith('arn:aws:'):
            parts = ref.split(':')
            if len(parts) < 6 or parts[2] in _NATIVE_SERVICES or not parts[4]:
                continue
            if parts[4] == 'aws':
                continue   # AWS managed (arn:aws:kms:...:aws:...)
        if ref not in known:
            return ref
    return None


# ------------------------------------------------------------ requests

def _event(ctx, req):
    """The ProgressEvent of a request now."""
    now = ctx.now()
    ev = {'TypeName': req['TypeName'], 'RequestToken': req['RequestToken'],
          'Operation': req['Operation'], 'EventTime': now}
    if req.get('Identifier'):
        ev['Identifier'] = req['Identifier']
    if now < req['start'] + (req['end'] - req['start']) / 10:
        ev['OperationStatus'] = 'PENDING'
        ev['RetryAfter'] = req['start'] + (req['end'] - req['start']) / 10
    elif now < req['end']:
        ev['OperationStatus'] = 'IN_PROGRESS'
        ev['RetryAfter'] = min(req['end'], now + 1.0)
    else:
        ev['OperationStatus'] = req['final']
        if req['final'] == 'FAILED':
            ev['ErrorCode'] = req['ErrorCode']
            ev['StatusMessage'] = req['StatusMessage']
        elif req.get('model') is not None:
            ev['ResourceModel'] = json.dumps(req['model'], separators=(',', ':'))
    return ev


def _new_request(ctx, st, op, type_name, client_token, identifier=None):
    """The request for client_token when there is one (idempotency), else
    a fresh one; second value True when it already existed."""
    if client_token and client_token in st['tokens']:
        req = st['requests'][st['tokens'][client_token]]
        if req['Operation'] != op or req['TypeName'] != type_name:
            raise AwsError('ClientTokenConflictException',
                           'The specified client token has already been used in '
                           'another resource request.')
        return req, True
    d = _durations(ctx, type_name)
    now = ctx.now()
    token = ctx.uuid()
    req = {'RequestToken': token, 'TypeName': type_name, 'Operation': op,
           'Identifier': identifier, 'start': now, 'end': now + d, 'final': 'SUCCESS'}
    st['requests'][token] = req
    if client_token:
        st['tokens'][client_token] = token
    return req, False


def _fail(req, code, msg):
    req['final'] = 'FAILED'
    req['ErrorCode'] = code
    req['StatusMessage'] = msg


def _busy(st, type_name, identifier, now):
    for r in st['requests'].values():
        if r['TypeName'] == type_name and r.get('Identifier') == identifier and \
                r['end'] > now and r['Operation'] != 'CREATE':
            return True
    return False


def create_resource(ctx, p):
    type_name = p['TypeName']
    schema = _schema(type_name)
    st = _st(ctx)
    req, old = _new_request(ctx, st, 'CREATE', type_name, p.get('ClientToken'))
    if old:
        return {'ProgressEvent': _event(ctx, req)}
    try:
        model = json.loads(p['DesiredState'])
    except ValueError:
        del st['requests'][req['RequestToken']]
        st['tokens'].pop(p.get('ClientToken'), None)
        raise AwsError('ValidationException', 'DesiredState is not valid JSON')
    ro = _props_of(schema.get('readOnlyProperties'))
    problems = _validate(schema, model, ro)
    if problems:
        _fail(req, 'InvalidRequest', 'Model validation failed (' + '; '.join(problems) + ')')
        return {'ProgressEvent': _event(ctx, req)}
    missing = _missing_ref(ctx, st, model)
    if missing:
        _fail(req, 'NotFound', f'Resource {missing} referenced by the desired state does '
                               f'not exist')
        return {'ProgressEvent': _event(ctx, req)}
    _generate(ctx, type_name, schema, model, ro)
    ident = _identifier(schema, model)
    if ident is None:
        _fail(req, 'InvalidRequest', 'the primary identifier could not be determined')
        return {'ProgressEvent': _event(ctx, req)}
    by_id = st['resources'].setdefault(type_name, {})
    cur = by_id.get(ident)
    if cur and not (cur.get('gone_at') and cur['gone_at'] <= ctx.now()):
        _fail(req, 'AlreadyExists', f'{type_name} {ident} already exists')
        return {'ProgressEvent': _event(ctx, req)}
    by_id[ident] = {'props': model, 'ready_at': req['end'], 'gone_at': None}
    req['Identifier'] = ident
    req['model'] = model
    return {'ProgressEvent': _event(ctx, req)}


def _resource(ctx, st, type_name, ident):
    res = st['resources'].get(type_name, {}).get(ident)
    if res is None or not _visible(res, ctx.now()):
        raise AwsError('ResourceNotFoundException',
                       f'Resource of type \'{type_name}\' with identifier \'{ident}\' was '
                       f'not found.')
    return res


def _public(schema, props):
    wo = _props_of(schema.get('writeOnlyProperties'))
    return {k: v for k, v in props.items() if k not in wo}


def get_resource(ctx, p):
    type_name = p['TypeName']
    schema = _schema(type_name)
    res = _resource(ctx, _st(ctx), type_name, p['Identifier'])
    return {'TypeName': type_name, 'ResourceDescription': {
        'Identifier': p['Identifier'],
        'Properties': json.dumps(_public(schema, res['props']), separators=(',', ':'))}}


def list_resources(ctx, p):
    type_name = p['TypeName']
    schema = _schema(type_name)
    st = _st(ctx)
    now = ctx.now()
    ids = sorted(i for i, r in st['resources'].get(type_name, {}).items() if _visible(r, now))
    start = int(p.get('NextToken') or 0)
    size = min(int(p.get('MaxResults') or PAGE), PAGE)
    out = {'TypeName': type_name, 'ResourceDescriptions': [
        {'Identifier': i, 'Properties': json.dumps(
            _public(schema, st['resources'][type_name][i]['props']), separators=(',', ':'))}
        for i in ids[start:start + size]]}
    if start + size < len(ids):
        out['NextToken'] = str(start + size)
    return out


def _pointer(path):
    if not path.startswith('/'):
        raise ValueError(f'bad JSON pointer {path!r}')
    return [s.replace('~1', '/').replace('~0', '~') for s in path[1:].split('/')]


def _apply_patch(doc, ops):
    for op in ops:
        kind, steps = op.get('op'), _pointer(op.get('path', ''))
        parent = doc
        for s in steps[:-1]:
            parent = parent[int(s)] if isinstance(parent, list) else parent[s]
        last = steps[-1]
        if kind in ('add', 'replace'):
            if isinstance(parent, list):
                if last == '-':
                    parent.append(op['value'])
                elif kind == 'add':
                    parent.insert(int(last), op['value'])
                else:
                    parent[int(last)] = op['value']
            else:
                if kind == 'replace' and last not in parent:
                    raise KeyError(op['path'])
                parent[last] = op['value']
        elif kind == 'remove':
            if isinstance(parent, list):
                del parent[int(last)]
            else:
                del parent[last]
        elif kind == 'test':
            cur = parent[int(last)] if isinstance(parent, list) else parent[last]
            if cur != op.get('value'):
                raise ValueError(f'test failed at {op["path"]}')
        else:
            raise ValueError(f'unsupported op {kind!r}')
    return doc


def update_resource(ctx, p):
    type_name, ident = p['TypeName'], p['Identifier']
    schema = _schema(type_name)
    st = _st(ctx)
    res = _resource(ctx, st, type_name, ident)
    if _busy(st, type_name, ident, ctx.now()) and not (
            p.get('ClientToken') and p['ClientToken'] in st['tokens']):
        raise AwsError('ConcurrentOperationException',
                       f'Another resource request is in progress for {ident}')
    req, old = _new_request(ctx, st, 'UPDATE', type_name, p.get('ClientToken'), ident)
    if old:
        return {'ProgressEvent': _event(ctx, req)}
    try:
        ops = json.loads(p['PatchDocument'])
        if not isinstance(ops, list):
            raise ValueError('not a list')
    except ValueError:
        del st['requests'][req['RequestToken']]
        st['tokens'].pop(p.get('ClientToken'), None)
        raise AwsError('ValidationException', 'PatchDocument is not a JSON Patch list')
    co = _props_of(schema.get('createOnlyProperties'))
    ro = _props_of(schema.get('readOnlyProperties'))
    touched = set()
    for op in ops:
        try:
            touched.add(_pointer(op.get('path', ''))[0])
        except ValueError:
            _fail(req, 'InvalidRequest', f'bad path in patch: {op.get("path")!r}')
            return {'ProgressEvent': _event(ctx, req)}
    if touched & co:
        _fail(req, 'NotUpdatable', 'Resource ' + ident + ': create-only properties cannot '
              'be updated: ' + ', '.join(sorted(touched & co)))
        return {'ProgressEvent': _event(ctx, req)}
    if touched & ro:
        _fail(req, 'InvalidRequest', 'read-only properties cannot be updated: ' +
              ', '.join(sorted(touched & ro)))
        return {'ProgressEvent': _event(ctx, req)}
    try:
        model = _apply_patch(json.loads(json.dumps(res['props'])), ops)
    except (KeyError, IndexError, ValueError, TypeError) as e:
        _fail(req, 'InvalidRequest', f'the patch does not apply: {e}')
        return {'ProgressEvent': _event(ctx, req)}
    user = {k: v for k, v in model.items() if k not in ro}
    problems = _validate(schema, user, ro)
    missing = _missing_ref(ctx, st, user)
    if problems:
        _fail(req, 'InvalidRequest', 'Model validation failed (' + '; '.join(problems) + ')')
    elif missing:
        _fail(req, 'NotFound', f'Resource {missing} referenced by the desired state does '
                               f'not exist')
    else:
        res['props'] = model
        req['model'] = model
    return {'ProgressEvent': _event(ctx, req)}


def delete_resource(ctx, p):
    type_name, ident = p['TypeName'], p['Identifier']
    _schema(type_name)
    st = _st(ctx)
    if p.get('ClientToken') in st['tokens']:
        req, _ = _new_request(ctx, st, 'DELETE', type_name, p.get('ClientToken'), ident)
        return {'ProgressEvent': _event(ctx, req)}
    res = st['resources'].get(type_name, {}).get(ident)
    req, _ = _new_request(ctx, st, 'DELETE', type_name, p.get('ClientToken'), ident)
    if res is None or not _visible(res, ctx.now()) or res.get('gone_at'):
        _fail(req, 'NotFound', f'Resource of type \'{type_name}\' with identifier '
                               f'\'{ident}\' was not found.')
    else:
        res['gone_at'] = req['end']
    return {'ProgressEvent': _event(ctx, req)}


def get_resource_request_status(ctx, p):
    req = _st(ctx)['requests'].get(p['RequestToken'])
    if req is None:
        raise AwsError('RequestTokenNotFoundException',
                       f'Request with token {p["RequestToken"]} was not found')
    return {'ProgressEvent': _event(ctx, req)}


def list_resource_requests(ctx, p):
    st = _st(ctx)
    return {'ResourceRequestStatusSummaries': [
        _event(ctx, r) for r in sorted(st['requests'].values(), key=lambda r: r['start'])]}


HANDLERS = {
    'CreateResource': create_resource, 'GetResource': get_resource,
    'UpdateResource': update_resource, 'DeleteResource': delete_resource,
    'ListResources': list_resources,
    'GetResourceRequestStatus': get_resource_request_status,
    'ListResourceRequests': list_resource_requests,
}


def inventory(store):
    import time
    now = time.time()
    out = []
    for type_name, by_id in sorted(store.get('resources', {}).items()):
        for ident, res in sorted(by_id.items()):
            if res.get('gone_at') and res['gone_at'] <= now:
                continue
            out.append({'service': 'cloudcontrol', 'type': type_name, 'id': ident})
    return out
