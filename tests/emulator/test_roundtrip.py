"""Protocol fidelity over every operation of every served model, in process:

* requests: botocore's own serializer encodes a sample input (every member
  filled, nested structures and lists included); the emulator's parser must give
  back exactly the same parameters;
* responses: the emulator renders a sample output; botocore's own parser must
  read back exactly the same values.

The reference is botocore (an independent implementation), never the
emulator's own output.
"""
import datetime
import json

import botocore.parsers
import botocore.serialize
import pytest

from emu import protocols
from emu.core import AwsError

SERVICES = ['ec2', 'iam', 'sts', 'logs', 'secretsmanager', 'ecs', 'ecr']
T0 = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def sample(shape, depth=0, stack=()):
    t = shape.type_name
    if t == 'structure':
        if depth > 10 or shape.name in stack:
            return None
        out = {}
        for name, m in shape.members.items():
            if m.serialization.get("location"):
                continue
            v = sample(m, depth + 1, stack + (shape.name,))
            if v is not None:
                out[name] = v
        return out
    if t == 'list':
        v = sample(shape.member, depth + 1, stack)
        if v is None:
            return None
        n = max(1, shape.metadata.get('min', 1))
        return [v] * min(n, 2)
    if t == 'map':
        k = sample(shape.key, depth + 1, stack)
        v = sample(shape.value, depth + 1, stack)
        if v is None:
            return None
        n = max(1, shape.metadata.get('min', 1))
        keys = [k] + [f'{k}{i}'[:shape.key.metadata.get('max', 99)] for i in range(1, n)]
        return {key: v for key in keys}
    if t == 'string':
        if shape.metadata.get('enum'):
            return shape.metadata['enum'][0]
        n = max(1, shape.metadata.get('min', 1))
        n = min(max(n, 3), shape.metadata.get('max', 3))
        return 'abcdefghij'[:n] if n <= 10 else 'x' * n
    if t in ('integer', 'long'):
        lo = shape.metadata.get('min', 1)
        return max(lo, 1) if shape.metadata.get('max', 10 ** 9) >= max(lo, 1) else lo
    if t == 'boolean':
        return True
    if t in ('double', 'float'):
        return 1.5
    if t == 'timestamp':
        return T0
    if t == 'blob':
        return b'\x00blob\xff'
    return None


def norm(v):
    """Comparable form: datetimes -> epoch floats."""
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return round(v.timestamp(), 3)
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items() if k != 'ResponseMetadata'}
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, float):
        return round(v, 3)
    return v


def operations():
    for svc in SERVICES:
        sm = protocols.service_model(svc)
        for op in sm.operation_names:
            yield svc, op


@pytest.fixture
def no_patterns(monkeypatch):
    # the samples are not written to the models' patterns (test_strict checks those)
    monkeypatch.setattr(protocols, '_pattern', lambda p: False)


@pytest.mark.parametrize('svc', SERVICES)
def test_request_parsing_matches_botocore_serializer(svc, no_patterns):
    sm = protocols.service_model(svc)
    proto = sm.metadata['protocol']
    ser = botocore.serialize.create_serializer(proto, include_validation=False)
    failures = []
    for name in sm.operation_names:
        op = sm.operation_model(name)
        if op.input_shape is None:
            continue
        params = sample(op.input_shape) or {}
        try:
            req = ser.serialize_to_request(params, op)
            if proto == 'json':
                got = protocols.parse_json_params(op.input_shape, req['body'])
            else:
                flat = dict(req['body'])
                flat.pop('Action')
                flat.pop('Version')
                flat = {k: str(v) for k, v in flat.items()}
                got = protocols.parse_query_params(proto, op.input_shape, flat)
        except (protocols.ParamError, AwsError) as e:
            failures.append(f'{name}: {e}')
            continue
        if norm(got) != norm(params):
            failures.append(f'{name}: {json.dumps(norm(got), default=str)[:300]} != '
                            f'{json.dumps(norm(params), default=str)[:300]}')
    assert not failures, f'{len(failures)} operations:\n' + '\n'.join(failures[:15])


@pytest.mark.parametrize('svc', SERVICES)
def test_response_rendering_matches_botocore_parser(svc):
    sm = protocols.service_model(svc)
    proto = sm.metadata['protocol']
    parser = botocore.parsers.create_parser(proto)
    render = {'ec2': protocols.render_ec2, 'query': protocols.render_query,
              'json': protocols.render_json}[proto]
    failures = []
    for name in sm.operation_names:
        op = sm.operation_model(name)
        if op.output_shape is None or op.has_event_stream_output:
            # event streams (Logs StartLiveTail, GetLogObject): the emulator serves
            # none, and this botocore's parser cannot parse them without a context
            continue
        out = sample(op.output_shape) or {}
        out = _epochs(out)                                # handlers return epoch floats
        status, headers, body = render(op, out, 'req-1')
        parsed = parser.parse({'status_code': status, 'body': body,
                               'headers': {k.lower(): v for k, v in headers.items()}},
                              op.output_shape)
        if norm(parsed) != norm(out):
            failures.append(f'{name}: {json.dumps(norm(parsed), default=str)[:300]} != '
                            f'{json.dumps(norm(out), default=str)[:300]}')
    assert not failures, f'{len(failures)} operations:\n' + '\n'.join(failures[:15])


def _epochs(v):
    if isinstance(v, datetime.datetime):
        return v.timestamp()
    if isinstance(v, dict):
        return {k: _epochs(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_epochs(x) for x in v]
    return v


@pytest.mark.parametrize('svc,code,status', [
    ('ec2', 'InvalidVpcID.NotFound', 400), ('iam', 'NoSuchEntity', 404),
    ('logs', 'ResourceNotFoundException', 400), ('sts', 'ExpiredToken', 400)])
def test_errors_parse_with_botocore(svc, code, status):
    proto = protocols.protocol_of(svc)
    st, headers, body = protocols.render_error(proto, AwsError(code, 'msg <&>'), 'rid-9', svc)
    assert st == status
    parsed = botocore.parsers.create_parser(proto).parse(
        {'status_code': st, 'headers': {k.lower(): v for k, v in headers.items()},
         'body': body}, None)
    assert parsed['Error']['Code'] == code and parsed['Error']['Message'] == 'msg <&>'
    assert parsed['ResponseMetadata']['RequestId'] == 'rid-9'


def test_xml_element_names_on_the_wire():
    """botocore ignores list element names; AWS (and cairn's parser) do not."""
    import xml.etree.ElementTree as ET
    ec2 = protocols.service_model('ec2').operation_model('DescribeVpcs')
    _, _, body = protocols.render_ec2(ec2, {'Vpcs': [{'VpcId': 'vpc-1', 'IsDefault': False,
                                                      'Tags': [{'Key': 'a', 'Value': 'b'}]}],
                                            'NextToken': 't'}, 'rid')
    ns = '{http://ec2.amazonaws.com/doc/2016-11-15/}'
    root = ET.fromstring(body)
    assert root.tag == ns + 'DescribeVpcsResponse'
    assert root.find(f'{ns}requestId').text == 'rid'
    assert root.find(f'{ns}vpcSet/{ns}item/{ns}vpcId').text == 'vpc-1'
    assert root.find(f'{ns}vpcSet/{ns}item/{ns}isDefault').text == 'false'
    assert root.find(f'{ns}vpcSet/{ns}item/{ns}tagSet/{ns}item/{ns}key').text == 'a'
    assert root.find(f'{ns}nextToken').text == 't'
    iam = protocols.service_model('iam').operation_model('ListRolePolicies')
    _, _, body = protocols.render_query(iam, {'PolicyNames': ['p1', 'p2'], 'IsTruncated': False},
                                        'rid')
    ns = '{https://iam.amazonaws.com/doc/2010-05-08/}'
    root = ET.fromstring(body)
    assert [m.text for m in root.findall(f'{ns}ListRolePoliciesResult/{ns}PolicyNames/{ns}member')] \
        == ['p1', 'p2']
    assert root.find(f'{ns}ResponseMetadata/{ns}RequestId').text == 'rid'
