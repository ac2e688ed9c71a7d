"""Wire protocols, driven by botocore's service models.

parse_*  turn a received request into (operation name, params keyed by model
         member names), rejecting unknown / missing / mistyped parameters;
render_* turn a handler's result dict (or an AwsError) into HTTP bytes.

Protocols: 'ec2' (EC2 Query), 'query' (IAM, STS), 'json' (1.1), 'rest-xml' (S3).
"""
import base64
import calendar
import datetime
import email.utils
import json
import os
import re
import threading
from urllib.parse import parse_qsl, unquote
from xml.sax.saxutils import escape as _sax_escape

# characters XML 1.0 cannot carry at all (even as references)
_XML_BAD = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


def escape(text):
    """XML text: markup escaped, characters XML cannot hold shown as U+FFFD."""
    return _sax_escape(_XML_BAD.sub('\ufffd', text))

import botocore.loaders
import botocore.model

from .core import AwsError, iso8601

# SigV4 signing name -> botocore model name (identical for the services here)
SERVICES = ('ec2', 'ecs', 'ecr', 'iam', 'sts', 'logs', 'secretsmanager', 's3')
SERVICES += ('ssm',)   # Parameter Store (h9)
TARGET_PREFIX = {
    'AmazonEC2ContainerServiceV20141113': 'ecs',
    'AmazonEC2ContainerRegistry_V20150921': 'ecr',
    'Logs_20140328': 'logs',
    'secretsmanager': 'secretsmanager',
    'CloudApiService': 'cloudcontrol',   # signing name cloudcontrolapi
    'ResourceGroupsTaggingAPI_20170126': 'resourcegroupstaggingapi',   # signing name tagging
    'AmazonSSM': 'ssm',
}
QUERY_VERSION = {'2016-11-15': 'ec2', '2010-05-08': 'iam', '2011-06-15': 'sts'}
QUERY_VERSION['2010-05-15'] = 'cloudformation'   # DescribeType (cairn schema update)

# The vendored, current models (tests/emulator/models, see models/VERSION and
# models/refresh-models) come first; Debian's botocore models are the fallback.
MODELS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          'models')
_loader = botocore.loaders.create_loader()
_loader.search_paths.insert(0, MODELS_DIR)
_models = {}
_models_lock = threading.Lock()


def service_model(name):
    m = _models.get(name)
    if m is None:
        with _models_lock:
            m = _models.get(name)
            if m is None:
                data = _loader.load_service_model(name, 'service-2')
                m = botocore.model.ServiceModel(data, service_name=name)
                _models[name] = m
    return m


def protocol_of(service):
    return service_model(service).metadata['protocol']


class ParamError(Exception):
    """A request parameter problem; the protocol decides the AWS code."""

    def __init__(self, kind, path, message):
        super().__init__(message)
        self.kind = kind        # unknown | missing | type | constraint
        self.path = path
        self.message = message


# JSON services that answer their own code for a pattern violation (CloudWatch
# Logs and ECR: InvalidParameterException "1 validation error detected: ...
# must satisfy regular expression pattern"; ECS: InvalidParameterException).
_PATTERN_CODE = {'logs': 'InvalidParameterException', 'ecr': 'InvalidParameterException',
                 'ecs': 'InvalidParameterException'}


def param_error_to_aws(protocol, e, service=None):
    if protocol == 'json' and e.kind == 'constraint' and 'regular expression' in e.message \
            and service in _PATTERN_CODE:
        return AwsError(_PATTERN_CODE[service], e.message)
    if protocol == 'ec2':
        code = {'unknown': 'UnknownParameter', 'missing': 'MissingParameter'}.get(
            e.kind, 'InvalidParameterValue')
        return AwsError(code, e.message)
    if protocol == 'query':
        return AwsError('ValidationError', e.message)
    if protocol == 'json':
        if e.kind in ('unknown', 'type'):
            return AwsError('SerializationException', e.message)
        return AwsError('ValidationException', e.message)
    # rest-xml (S3)
    if e.kind == 'missing':
        return AwsError('InvalidRequest', e.message)
    return AwsError('InvalidArgument', e.message)


def _lc_path(path):
    # AWS's validation messages name members lower-camel ('roleName').
    return '.'.join(p[:1].lower() + p[1:] for p in path.split('.')) if path else path


# ---------------------------------------------------------------- scalars

def _parse_timestamp(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    s = str(v).strip()
    try:
        return float(s)
    except ValueError:
        pass
    try:
        d = datetime.datetime.fromisoformat(s.replace('Z', '+00:00'))
        if d.tzinfo is None:
            d = d.replace(tzinfo=datetime.timezone.utc)
        return d.timestamp()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(s).timestamp()
    except (TypeError, ValueError):
        raise ValueError(s)


# Unicode property classes of the models' (Java) patterns, for Python's re:
# \p{L} and \p{N} are within \w (which adds only '_', already in every class
# that uses them); \p{Z} is the space separators.
_UNICODE_CLASSES = {r'\p{L}': r'\w', r'\p{N}': r'\w',
                    r'\p{Z}': '\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f'
                              '\u205f\u3000'}
_pattern_cache = {}


def _pattern(p):
    rx = _pattern_cache.get(p)
    if rx is None:
        src = p
        for k, v in _UNICODE_CLASSES.items():
            src = src.replace(k, v)
        src = src.replace(r'[\w-_]', r'[\w\-_]')
        try:
            rx = re.compile(src, re.DOTALL)
        except re.error:
            rx = False          # a pattern Python cannot read is not enforced
        _pattern_cache[p] = rx
    return rx


def _check_constraints(protocol, shape, value, path):
    """min/max/enum/pattern from the model; raises ParamError('constraint')."""
    if value is None:
        return
    meta = shape.metadata
    t = shape.type_name
    shown = _lc_path(path) if protocol != 'ec2' else path
    if t == 'string' and meta.get('pattern') and isinstance(value, str):
        rx = _pattern(meta['pattern'])
        if rx and not rx.fullmatch(value):
            shown_value = '' if meta.get('sensitive') else f" '{value}'"
            if protocol == 'ec2':
                raise ParamError('constraint', path,
                                 f'Value ({value}) for parameter {path} is invalid.')
            raise ParamError('constraint', path,
                             f"1 validation error detected: Value{shown_value} at "
                             f"'{shown}' failed to satisfy constraint: Member must satisfy "
                             f"regular expression pattern: {meta['pattern']}")
    if t == 'string':
        enum = meta.get('enum')
        if enum and value not in enum:
            if protocol == 'ec2':
                raise ParamError('constraint', path,
                                 f"Value ({value}) for parameter {path} is invalid. "
                                 f"Valid values are: {', '.join(enum)}")
            raise ParamError('constraint', path,
                             f"1 validation error detected: Value '{value}' at '{shown}' "
                             f"failed to satisfy constraint: Member must satisfy enum "
                             f"value set: [{', '.join(enum)}]")
    if protocol == 'ec2':
        return
    if t in ('string', 'list', 'map', 'blob'):
        n = len(value)
        if 'min' in meta and n < meta['min']:
            raise ParamError('constraint', path,
                             f"1 validation error detected: Value at '{shown}' failed to "
                             f"satisfy constraint: Member must have length greater than "
                             f"or equal to {meta['min']}")
        if 'max' in meta and n > meta['max']:
            raise ParamError('constraint', path,
                             f"1 validation error detected: Value at '{shown}' failed to "
                             f"satisfy constraint: Member must have length less than or "
                             f"equal to {meta['max']}")
    elif t in ('integer', 'long'):
        if 'min' in meta and value < meta['min']:
            raise ParamError('constraint', path,
                             f"1 validation error detected: Value '{value}' at '{shown}' "
                             f"failed to satisfy constraint: Member must have value "
                             f"greater than or equal to {meta['min']}")
        if 'max' in meta and value > meta['max']:
            raise ParamError('constraint', path,
                             f"1 validation error detected: Value '{value}' at '{shown}' "
                             f"failed to satisfy constraint: Member must have value less "
                             f"than or equal to {meta['max']}")


def _missing(protocol, path):
    if protocol == 'ec2':
        return ParamError('missing', path,
                          f'The request must contain the parameter {path}')
    if protocol == 'rest-xml':
        return ParamError('missing', path, f'Missing required parameter {path}')
    return ParamError('missing', path,
                      f"1 validation error detected: Value null at '{_lc_path(path)}' "
                      f"failed to satisfy constraint: Member must not be null")


# ---------------------------------------------------- query / ec2 parsing

def _wire_name(protocol, mname, mshape):
    ser = mshape.serialization
    if protocol == 'ec2':
        if 'queryName' in ser:
            return ser['queryName']
        if 'name' in ser:
            n = ser['name']
            return n[:1].upper() + n[1:]
        return mname
    if mshape.type_name == 'list' and ser.get('flattened') and \
            mshape.member.serialization.get('name'):
        return mshape.member.serialization['name']
    return ser.get('name', mname)


_wire_cache = {}


def _wire_map(protocol, shape):
    key = (protocol, id(shape))
    m = _wire_cache.get(key)
    if m is None:
        m = {}
        for mname, mshape in shape.members.items():
            m[_wire_name(protocol, mname, mshape)] = (mname, mshape)
        _wire_cache[key] = (shape, m)   # keep shape alive so id() stays unique
        return m
    return m[1]


def _trie(flat):
    root = [None, {}]
    for k, v in flat.items():
        node = root
        for part in k.split('.'):
            node = node[1].setdefault(part, [None, {}])
        node[0] = v
    return root


def parse_query_params(protocol, shape, flat):
    """flat: {wire key: str} without Action/Version -> params."""
    if shape is None:
        if flat:
            k = next(iter(flat))
            raise _unknown(protocol, k)
        return {}
    return _q_struct(protocol, _trie(flat), shape, '')


def _unknown(protocol, path):
    if protocol == 'ec2':
        return ParamError('unknown', path, f'The parameter {path} is not recognized')
    return ParamError('unknown', path,
                      f'The parameter {path} is not recognized by this operation')


def _bad_type(protocol, path, value, shape):
    if protocol == 'ec2':
        return ParamError('type', path, f"Invalid value '{value}' for {path}")
    return ParamError('type', path,
                      f"1 validation error detected: Value '{value}' at '{_lc_path(path)}' "
                      f"failed to satisfy constraint: Member must be of type "
                      f"{shape.type_name}")


def _q_struct(protocol, node, shape, path):
    if node[0] not in (None, '') and not node[1]:
        raise _bad_type(protocol, path.rstrip('.'), node[0], shape)
    out = {}
    wm = _wire_map(protocol, shape)
    for key, child in node[1].items():
        hit = wm.get(key)
        if hit is None:
            raise _unknown(protocol, path + key)
        mname, mshape = hit
        v = _q_value(protocol, child, mshape, path + key)
        if v is not None:
            out[mname] = v
    for r in shape.required_members:
        if r not in out:
            mshape = shape.members[r]
            raise _missing(protocol, path + _wire_name(protocol, r, mshape))
    return out


def _indexed(protocol, node, path):
    items = []
    for k, child in node[1].items():
        if not k.isdigit() or int(k) < 1:
            raise _unknown(protocol, f'{path}.{k}')
        items.append((int(k), child, f'{path}.{k}'))
    items.sort(key=lambda x: x[0])
    return items


def _q_value(protocol, node, shape, path):
    t = shape.type_name
    if t == 'structure':
        return _q_struct(protocol, node, shape, path + '.')
    if t == 'list':
        if not node[1]:
            if node[0] in (None, ''):
                return []
            raise _bad_type(protocol, path, node[0], shape)
        if protocol == 'ec2' or shape.serialization.get('flattened'):
            inner = node
            ipath = path
        else:
            mname = shape.member.serialization.get('name', 'member')
            if set(node[1]) != {mname}:
                bad = next(k for k in node[1] if k != mname)
                raise _unknown(protocol, f'{path}.{bad}')
            inner = node[1][mname]
            ipath = f'{path}.{mname}'
        out = [_q_value(protocol, c, shape.member, p)
               for _, c, p in _indexed(protocol, inner, ipath)]
        _check_constraints(protocol, shape, out, path)
        return out
    if t == 'map':
        inner, ipath = node, path
        if not shape.serialization.get('flattened'):
            if not node[1]:
                return {}
            if set(node[1]) != {'entry'}:
                raise _unknown(protocol, f'{path}.{next(iter(node[1]))}')
            inner, ipath = node[1]['entry'], f'{path}.entry'
        kname = shape.key.serialization.get('name', 'key')
        vname = shape.value.serialization.get('name', 'value')
        out = {}
        for _, c, p in _indexed(protocol, inner, ipath):
            if kname not in c[1]:
                raise _missing(protocol, f'{p}.{kname}')
            k = _q_value(protocol, c[1][kname], shape.key, f'{p}.{kname}')
            out[k] = _q_value(protocol, c[1][vname], shape.value, f'{p}.{vname}') \
                if vname in c[1] else None
        return out
    # scalars
    if node[1]:
        raise _unknown(protocol, f'{path}.{next(iter(node[1]))}')
    raw = node[0] if node[0] is not None else ''
    try:
        if t == 'string':
            v = raw
        elif t in ('integer', 'long'):
            v = int(raw)
        elif t == 'boolean':
            low = raw.lower()
            if low not in ('true', 'false'):
                raise ValueError(raw)
            v = low == 'true'
        elif t in ('double', 'float'):
            v = float(raw)
        elif t == 'timestamp':
            v = _parse_timestamp(raw)
        elif t == 'blob':
            v = base64.b64decode(raw, validate=True)
        else:
            v = raw
    except (ValueError, TypeError):
        raise _bad_type(protocol, path, raw, shape)
    _check_constraints(protocol, shape, v, path)
    return v


# ---------------------------------------------------------- JSON parsing

_JSON_TYPE_NAMES = {'string': 'STRING_VALUE', 'integer': 'Integer', 'long': 'Long',
                    'boolean': 'Boolean', 'double': 'Double', 'float': 'Float',
                    'timestamp': 'Timestamp', 'blob': 'Blob', 'list': 'List',
                    'map': 'Map', 'structure': 'Structure'}


def _json_kind(v):
    if v is None:
        return 'null'
    if isinstance(v, bool):
        return 'BOOLEAN_VALUE'
    if isinstance(v, (int, float)):
        return 'NUMBER_VALUE'
    if isinstance(v, str):
        return 'STRING_VALUE'
    if isinstance(v, list):
        return 'Start of list'
    return 'Start of structure or map'


def _json_type_error(path, v, shape):
    kind = _json_kind(v)
    target = _JSON_TYPE_NAMES.get(shape.type_name, shape.type_name)
    if kind.startswith('Start of'):
        msg = f'{kind} found where not expected'
    else:
        msg = f'{kind} can not be converted to {target}'
    return ParamError('type', path, msg)


def parse_json_params(shape, body):
    try:
        data = json.loads(body.decode('utf-8') or '{}') if body else {}
    except (ValueError, UnicodeDecodeError):
        raise ParamError('type', '', 'Unable to parse the request body as JSON')
    if shape is None:
        if not isinstance(data, dict):
            raise _json_type_error('', data, None)
        if data:
            raise ParamError('unknown', next(iter(data)),
                             f'Unrecognized field "{next(iter(data))}"')
        return {}
    return _j_value(shape, data, '')


def _j_value(shape, v, path):
    t = shape.type_name
    if t == 'structure':
        if not isinstance(v, dict):
            raise _json_type_error(path, v, shape)
        out = {}
        names = {m.serialization.get('name', n): (n, m) for n, m in shape.members.items()}
        for k, val in v.items():
            hit = names.get(k)
            sub = f'{path}.{k}' if path else k
            if hit is None:
                raise ParamError('unknown', sub, f'Unrecognized field "{k}"')
            if val is None:
                continue
            out[hit[0]] = _j_value(hit[1], val, sub)
        for r in shape.required_members:
            if r not in out:
                raise _missing('json', f'{path}.{r}' if path else r)
        return out
    if t == 'list':
        if not isinstance(v, list):
            raise _json_type_error(path, v, shape)
        out = [_j_value(shape.member, x, f'{path}.{i + 1}.member') for i, x in enumerate(v)
               if x is not None]
        _check_constraints('json', shape, out, path)
        return out
    if t == 'map':
        if not isinstance(v, dict):
            raise _json_type_error(path, v, shape)
        out = {}
        for k, x in v.items():
            _check_constraints('json', shape.key, k, f'{path}.key')
            out[k] = _j_value(shape.value, x, f'{path}.{k}')
        _check_constraints('json', shape, out, path)
        return out
    if t == 'string':
        if not isinstance(v, str):
            raise _json_type_error(path, v, shape)
    elif t in ('integer', 'long'):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                (isinstance(v, float) and not v.is_integer()):
            raise _json_type_error(path, v, shape)
        v = int(v)
    elif t == 'boolean':
        if not isinstance(v, bool):
            raise _json_type_error(path, v, shape)
    elif t in ('double', 'float'):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _json_type_error(path, v, shape)
        v = float(v)
    elif t == 'timestamp':
        if isinstance(v, bool):
            raise _json_type_error(path, v, shape)
        try:
            v = _parse_timestamp(v)
        except ValueError:
            raise _json_type_error(path, v, shape)
    elif t == 'blob':
        if not isinstance(v, str):
            raise _json_type_error(path, v, shape)
        try:
            v = base64.b64decode(v, validate=True)
        except ValueError:
            raise ParamError('type', path, 'Unable to decode base64 blob')
    _check_constraints('json', shape, v, path)
    return v


# ---------------------------------------------------------- XML output

def _xml_scalar(shape, v):
    t = shape.type_name
    if t == 'boolean':
        return 'true' if v else 'false'
    if t == 'timestamp':
        fmt = shape.serialization.get('timestampFormat', 'iso8601')
        if isinstance(v, str):
            return escape(v)
        if fmt == 'unixTimestamp':
            return str(int(v))
        if fmt == 'rfc822':
            return email.utils.formatdate(v, usegmt=True)
        return iso8601(v)
    if t == 'blob':
        if isinstance(v, str):
            v = v.encode()
        return base64.b64encode(v).decode()
    if t in ('double', 'float'):
        return repr(float(v))
    return escape(str(v))


def xml_value(out, shape, v, tag):
    """Appends <tag>v</tag> to the list of strings out."""
    if v is None:
        return
    t = shape.type_name
    if t == 'structure':
        out.append(f'<{tag}>')
        xml_members(out, shape, v)
        out.append(f'</{tag}>')
    elif t == 'list':
        mshape = shape.member
        if shape.serialization.get('flattened'):
            itag = mshape.serialization.get('name', tag)
            for x in v:
                xml_value(out, mshape, x, itag)
        else:
            itag = mshape.serialization.get('name', 'member')
            out.append(f'<{tag}>')
            for x in v:
                xml_value(out, mshape, x, itag)
            out.append(f'</{tag}>')
    elif t == 'map':
        kt = shape.key.serialization.get('name', 'key')
        vt = shape.value.serialization.get('name', 'value')
        out.append(f'<{tag}>')
        for k, x in v.items():
            out.append('<entry>')
            xml_value(out, shape.key, k, kt)
            xml_value(out, shape.value, x, vt)
            out.append('</entry>')
        out.append(f'</{tag}>')
    else:
        out.append(f'<{tag}>{_xml_scalar(shape, v)}</{tag}>')


def xml_members(out, shape, v, skip_located=False):
    for mname, mshape in shape.members.items():
        if mname not in v:
            continue
        if skip_located and mshape.serialization.get('location'):
            continue
        xml_value(out, mshape, v[mname], mshape.serialization.get('name', mname))


XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


def render_ec2(op, result, request_id):
    ns = 'http://ec2.amazonaws.com/doc/2016-11-15/'
    out = [XML_DECL, f'<{op.name}Response xmlns="{ns}">',
           f'<requestId>{request_id}</requestId>']
    if op.output_shape is not None and result:
        xml_members(out, op.output_shape, result)
    out.append(f'</{op.name}Response>')
    return 200, {'Content-Type': 'text/xml;charset=UTF-8'}, ''.join(out).encode()


def render_query(op, result, request_id):
    ns = op.service_model.metadata.get('xmlNamespace', '')
    out = [XML_DECL, f'<{op.name}Response xmlns="{ns}">']
    shape = op.output_shape
    if shape is not None:
        wrapper = shape.serialization.get('resultWrapper', f'{op.name}Result')
        out.append(f'<{wrapper}>')
        xml_members(out, shape, result or {})
        out.append(f'</{wrapper}>')
    out.append(f'<ResponseMetadata><RequestId>{request_id}</RequestId>'
               f'</ResponseMetadata></{op.name}Response>')
    return 200, {'Content-Type': 'text/xml'}, ''.join(out).encode()


def _json_default(o):
    if isinstance(o, (bytes, bytearray)):
        return base64.b64encode(o).decode()
    raise TypeError(type(o).__name__)


def render_json(op, result, request_id):
    body = json.dumps(result or {}, default=_json_default, separators=(',', ':'))
    return 200, {'Content-Type': 'application/x-amz-json-1.1',
                 'x-amzn-RequestId': request_id}, body.encode()


# ---------------------------------------------------------- errors

_error_info = {}


def _error_table(service):
    """{code: (HTTP status, message member name)} from the model's error shapes."""
    table = _error_info.get(service)
    if table is None:
        table = {}
        model = service_model(service)
        for name in model.shape_names:
            sh = model.shape_for(name)
            err = sh.metadata.get('error') if sh.type_name == 'structure' else None
            if sh.metadata.get('exception') or err:
                st = (err or {}).get('httpStatusCode', 400)
                key = 'Message' if 'Message' in sh.members else 'message'
                table[name] = (st, key)
                if err and err.get('code'):
                    table[err['code']] = (st, key)
        _error_info[service] = table
    return table


def error_status(service, code):
    """The HTTP status the model gives an error code (400 when it does not say)."""
    return _error_table(service).get(code, (400, None))[0]


def render_error(protocol, err, request_id, service=None, head=False):
    if err.status is None:
        err.status = error_status(service, err.code) if service else 400
    code = escape(err.code)
    msg = escape(err.message)
    headers = dict(err.headers)
    if protocol == 'ec2':
        body = (f'{XML_DECL}<Response><Errors><Error><Code>{code}</Code>'
                f'<Message>{msg}</Message></Error></Errors>'
                f'<RequestID>{request_id}</RequestID></Response>')
        headers['Content-Type'] = 'text/xml;charset=UTF-8'
    elif protocol == 'query':
        ns = service_model(service).metadata.get('xmlNamespace', '') if service else ''
        kind = 'Sender' if err.sender else 'Receiver'
        body = (f'{XML_DECL}<ErrorResponse xmlns="{ns}"><Error><Type>{kind}</Type>'
                f'<Code>{code}</Code><Message>{msg}</Message></Error>'
                f'<RequestId>{request_id}</RequestId></ErrorResponse>')
        headers['Content-Type'] = 'text/xml'
        headers['x-amzn-RequestId'] = request_id
    elif protocol == 'json':
        # the member name the model's error shape uses ('Message' in Secrets Manager)
        key = (_error_table(service).get(err.code, (400, None))[1] if service else None) \
            or 'message'
        body = json.dumps({'__type': err.code, key: err.message})
        headers['Content-Type'] = 'application/x-amz-json-1.1'
        headers['x-amzn-RequestId'] = request_id
    else:   # rest-xml (S3)
        extra = ''.join(f'<{k}>{escape(str(v))}</{k}>'
                        for k, v in getattr(err, 'extra', {}).items())
        body = (f'{XML_DECL}<Error><Code>{code}</Code><Message>{msg}</Message>{extra}'
                f'<RequestId>{request_id}</RequestId><HostId>emulator</HostId></Error>')
        headers['Content-Type'] = 'application/xml'
        headers['x-amz-request-id'] = request_id
        headers['x-amz-id-2'] = 'emulator'
        if head or err.status == 304:
            body = ''
    return err.status, headers, body.encode()


# ---------------------------------------------------------- rest-xml (S3)

_routes = {}


def _compile_routes(service):
    routes = []
    sm = service_model(service)
    for name in sm.operation_names:
        op = sm.operation_model(name)
        uri = op.http['requestUri']
        path, _, q = uri.partition('?')
        required_q = dict(parse_qsl(q, keep_blank_values=True)) if q else {}
        labels = []
        pattern = ''
        for part in re.split(r'(\{[^}]+\})', path):
            if part.startswith('{'):
                label = part[1:-1]
                greedy = label.endswith('+')
                label = label.rstrip('+')
                labels.append(label)
                pattern += '(.+)' if greedy else '([^/]+)'
            else:
                pattern += re.escape(part)
        if pattern.endswith('/') and pattern != '/':
            pattern = pattern + '?'
        routes.append((op.http['method'], re.compile('^' + pattern + '$'), required_q,
                       labels, op))
    # most specific first: more required query keys, longer literal URIs; of
    # two operations on one URI the deprecated one last (PutBucketLifecycle
    # vs PutBucketLifecycleConfiguration: the current shapes win)
    routes.sort(key=lambda r: (-len(r[2]), -len(r[1].pattern), bool(r[4].deprecated)))
    return routes


def _required_located(op):
    """Required header / querystring wire names of an operation's input."""
    out = []
    shape = op.input_shape
    if shape is None:
        return out
    for r in shape.required_members:
        ser = shape.members[r].serialization
        if ser.get('location') in ('header', 'querystring'):
            out.append((ser['location'], ser.get('name', r)))
    return out


def match_rest(service, method, path, query, headers=None):
    """-> (OperationModel, {label: value}) or (None, None).

    Operations sharing a URI (PutObject / CopyObject / UploadPart) are told
    apart by their required headers and query parameters."""
    routes = _routes.get(service)
    if routes is None:
        routes = _routes[service] = _compile_routes(service)
    best = None
    for m, rx, req_q, labels, op in routes:
        if m != method:
            continue
        mo = rx.match(path)
        if not mo:
            continue
        if any(k not in query or (v and query[k] != v) for k, v in req_q.items()):
            continue
        need = _required_located(op)
        have = all((query if loc == 'querystring' else (headers or {})).get(name) is not None
                   for loc, name in need)
        score = (have, len(need) if have else -len(need))
        if best is None or score > best[0]:
            best = (score, op, {lab: unquote(val) for lab, val in zip(labels, mo.groups())})
    if best is None:
        return None, None
    return best[1], best[2]


def parse_rest_params(op, labels, query, headers, body):
    shape = op.input_shape
    out = {}
    if shape is None:
        return out
    for mname, mshape in shape.members.items():
        ser = mshape.serialization
        loc = ser.get('location')
        wire = ser.get('name', mname)
        if loc == 'uri':
            if wire in labels:
                out[mname] = labels[wire]
        elif loc == 'querystring':
            if wire in query:
                out[mname] = _rest_scalar(mshape, query[wire], mname)
        elif loc == 'headers':
            prefix = wire.lower()
            m = {k[len(prefix):].lower(): v for k, v in headers.items()
                 if k.lower().startswith(prefix)}
            if m:
                out[mname] = m
        elif loc == 'header':
            if headers.get(wire) is not None:
                out[mname] = _rest_scalar(mshape, headers.get(wire), mname)
        elif ser.get('eventpayload') or mname == shape.serialization.get('payload'):
            if mshape.type_name in ('blob', 'string'):
                out[mname] = body
            elif body:
                out[mname] = _xml_parse(mshape, body, mname)
    for r in shape.required_members:
        if r not in out:
            raise _missing('rest-xml', r)
    return out


def _rest_scalar(shape, raw, name):
    t = shape.type_name
    try:
        if t in ('integer', 'long'):
            return int(raw)
        if t == 'boolean':
            return raw.lower() == 'true'
        if t == 'timestamp':
            return _parse_timestamp(raw)
        if t == 'list':
            return [x.strip() for x in raw.split(',')]
    except ValueError:
        raise ParamError('type', name, f"Invalid value '{raw}' for {name}")
    return raw


def _xml_parse(shape, body, name):
    import xml.etree.ElementTree as ET
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise AwsError('MalformedXML', 'The XML you provided was not well-formed or did '
                       'not validate against our published schema')
    return _xml_node(shape, root)


def _strip_ns(tag):
    return tag.rsplit('}', 1)[-1]


def _xml_node(shape, el):
    t = shape.type_name
    if t == 'structure':
        out = {}
        byname = {m.serialization.get('name', n): (n, m) for n, m in shape.members.items()}
        for child in el:
            hit = byname.get(_strip_ns(child.tag))
            if hit is None:
                continue
            n, m = hit
            if m.type_name == 'list' and m.serialization.get('flattened'):
                out.setdefault(n, []).append(_xml_node(m.member, child))
            else:
                out[n] = _xml_node(m, child)
        return out
    if t == 'list':
        return [_xml_node(shape.member, c) for c in el]
    text = el.text or ''
    return _rest_scalar(shape, text, _strip_ns(el.tag)) if t != 'string' else text


def render_rest_xml(op, result, request_id, head=False):
    headers = {'x-amz-request-id': request_id, 'x-amz-id-2': 'emulator'}
    shape = op.output_shape
    result = result or {}
    body = b''
    status = result.pop('__status__', 200)
    root = result.pop('__root__', None)
    raw = result.pop('__body__', None)    # a handler's own XML (GetBucketLocation)
    if raw is not None:
        headers['Content-Type'] = 'application/xml'
        return status, headers, raw
    if shape is None:
        return status, headers, body
    payload = shape.serialization.get('payload')
    for mname, mshape in shape.members.items():
        if mname not in result or result[mname] is None:
            continue
        ser = mshape.serialization
        loc = ser.get('location')
        v = result[mname]
        if loc == 'headers':
            for k, x in v.items():
                headers[ser.get('name', '') + k] = str(x)
        elif loc == 'header':
            if mshape.type_name == 'timestamp':
                headers[ser['name']] = email.utils.formatdate(v, usegmt=True) \
                    if not isinstance(v, str) else v
            elif mshape.type_name == 'boolean':
                headers[ser['name']] = 'true' if v else 'false'
            else:
                headers[ser['name']] = str(v)
        elif loc == 'statusCode':
            status = int(result[mname])
    if payload:
        pshape = shape.members[payload]
        v = result.get(payload)
        if v is not None:
            if pshape.type_name in ('blob', 'string'):
                body = v if isinstance(v, bytes) else str(v).encode()
            else:
                tag = pshape.serialization.get('name', payload)
                out = [XML_DECL]
                _xml_root(out, pshape, v, tag)
                body = ''.join(out).encode()
                headers['Content-Type'] = 'application/xml'
    elif any(not m.serialization.get('location') for m in shape.members.values()):
        tag = root or shape.serialization.get('name', op.name + 'Result')
        out = [XML_DECL]
        _xml_root(out, shape, result, tag)
        body = ''.join(out).encode()
        headers['Content-Type'] = 'application/xml'
    return status, headers, body


def _xml_root(out, shape, v, tag):
    ns = shape.serialization.get('xmlNamespace', {}).get('uri') \
        if isinstance(shape.serialization.get('xmlNamespace'), dict) else None
    ns = ns or 'http://s3.amazonaws.com/doc/2006-03-01/'
    out.append(f'<{tag} xmlns="{ns}">')
    xml_members(out, shape, v, skip_located=True)
    out.append(f'</{tag}>')


def epoch(ts):
    """Accepts an epoch float or a datetime; returns an epoch float."""
    if isinstance(ts, datetime.datetime):
        return calendar.timegm(ts.utctimetuple()) + ts.microsecond / 1e6
    return float(ts)
