"""examples/event-pipeline.yaml end to end: Cloud Control types (SNS, SQS,
KMS, DynamoDB, CloudWatch, EventBridge) and a native one (a log group) in
one graph. Applies, re-plans clean, updates in place and by replacement,
detects a change made behind cairn's back through Cloud Control itself,
destroys to an empty inventory, and converges after a kill -9 during a
Cloud Control create. Outcomes are read from the emulator's inventory and
with botocore, not from cairn's output."""
import json
import os
import signal
import subprocess
import time

import pytest

from accept_util import TOP, template_types
from test_apply_stacks import live_inventory

TPL = os.path.join(TOP, 'examples', 'event-pipeline.yaml')
STACK = 'event-pipeline'


def common(cairn, state='state.db'):
    return [*cairn.endpoint, '--state', str(cairn.tmp / state)]


def expected(path=TPL):
    """{(service, type): n} the emulator must hold for the template."""
    want = {}
    for t, n in template_types(path).items():
        k = ('logs', 'log-group') if t == 'AWS::Logs::LogGroup' else ('cloudcontrol', t)
        want[k] = want.get(k, 0) + n
    return want


def inventory(emu):
    """{(service, type): n} of what the emulator holds beyond its seeded
    account (a default VPC, a log group...)."""
    counts = {}
    for r in live_inventory(emu):
        k = (r['service'], r['type'])
        counts[k] = counts.get(k, 0) + 1
    return counts


def props(emu, type_name, ident):
    cc = emu.client('cloudcontrol')
    return json.loads(cc.get_resource(TypeName=type_name, Identifier=ident)
                      ['ResourceDescription']['Properties'])


def outputs(cairn, state='state.db'):
    r = cairn('output', '--state', str(cairn.tmp / state), '--json')
    assert r.rc == 0, r
    return {k: v['value'] for k, v in json.loads(r.out).items()}


@pytest.fixture
def fast(emu):
    emu.reset()
    emu.control('config', {'async': {'cloudcontrol': 0.3}})
    return emu


def test_pipeline_life_cycle(fast, cairn):
    emu = fast
    r = cairn('apply', TPL, '--auto-approve', *common(cairn))
    assert r.rc == 0, r
    assert inventory(emu) == expected()
    out = outputs(cairn)
    q = props(emu, 'AWS::SQS::Queue', out['OrderQueueUrl'])
    assert q['VisibilityTimeout'] == 60
    assert q['RedrivePolicy']['deadLetterTargetArn'] == out['DeadLetterQueueArn']
    assert q['KmsMasterKeyId'] == out['KeyArn']
    dlq_url = q['RedrivePolicy']['deadLetterTargetArn']
    dlq = [d for d in _list(emu, 'AWS::SQS::Queue') if d['Arn'] == dlq_url][0]
    # "1209600" in the template, an integer for Cloud Control (the schema's type)
    assert dlq['MessageRetentionPeriod'] == 1209600
    tags = {t['Key']: t['Value'] for t in
            props(emu, 'AWS::DynamoDB::Table', out['OrderTableName'])['Tags']}
    assert tags == {'app': 'orders', 'cairn:stack': STACK, 'cairn:logical-id': 'OrderTable'}
    rule = props(emu, 'AWS::Events::Rule', out['RuleArn'])
    assert rule['Targets'][0]['Arn'] == q['Arn']

    # a write-only property is never read back...
    key = props(emu, 'AWS::KMS::Key', out['KeyArn'].rsplit('/', 1)[1])
    assert 'PendingWindowInDays' not in key and key['EnableKeyRotation'] is True
    # ...so it is never compared: re-plan, nothing to do
    r = cairn('plan', TPL, '--detailed-exitcode', *common(cairn))
    assert r.rc == 0, r

    # in place (queue, alarm) and by replacement (the alias' create-only name)
    before = {a['AliasName'] for a in _list(emu, 'AWS::KMS::Alias')}
    assert before == {f'alias/{STACK}-orders'}
    upd = ['--param', 'VisibilityTimeout=90', '--param', 'AlarmThreshold=3',
           '--param', 'KeyAliasName=orders2']
    r = cairn('plan', TPL, '--detailed-exitcode', *common(cairn), *upd)
    assert r.rc == 2, r
    assert 'forces replacement: AliasName' in r.out, r
    r = cairn('apply', TPL, '--auto-approve', *common(cairn), *upd)
    assert r.rc == 0, r
    assert props(emu, 'AWS::SQS::Queue', out['OrderQueueUrl'])['VisibilityTimeout'] == 90
    assert outputs(cairn)['OrderQueueUrl'] == out['OrderQueueUrl']   # same queue
    alarms = _list(emu, 'AWS::CloudWatch::Alarm')
    assert [a['Threshold'] for a in alarms] == [3]
    assert {a['AliasName'] for a in _list(emu, 'AWS::KMS::Alias')} == \
        {f'alias/{STACK}-orders2'}
    assert inventory(emu) == expected()
    r = cairn('plan', TPL, '--detailed-exitcode', *common(cairn), *upd)
    assert r.rc == 0, r

    # drift: a change made through Cloud Control behind cairn's back
    cc = emu.client('cloudcontrol')
    ev = cc.update_resource(TypeName='AWS::SQS::Queue', Identifier=out['OrderQueueUrl'],
                            PatchDocument=json.dumps([{'op': 'replace',
                                                       'path': '/VisibilityTimeout',
                                                       'value': 5}]))['ProgressEvent']
    _wait(cc, ev)
    r = cairn('drift', TPL, '--json', *common(cairn), *upd)
    assert r.rc == 2, r
    doc = json.loads(r.out)
    moved = {(x['logical_id'], c['path'], str(c['live']))
             for x in doc['resources'] for c in x.get('changes', [])}
    assert ('OrderQueue', 'VisibilityTimeout', '5') in moved, doc
    # apply repairs it
    r = cairn('apply', TPL, '--auto-approve', *common(cairn), *upd)
    assert r.rc == 0, r
    assert props(emu, 'AWS::SQS::Queue', out['OrderQueueUrl'])['VisibilityTimeout'] == 90

    r = cairn('destroy', TPL, '--auto-approve', *common(cairn), *upd)
    assert r.rc == 0, r
    assert inventory(emu) == {}, emu.control('inventory')


def _list(emu, type_name):
    cc = emu.client('cloudcontrol')
    return [json.loads(d['Properties'])
            for d in cc.list_resources(TypeName=type_name)['ResourceDescriptions']]


def _wait(cc, ev):
    end = time.time() + 10
    while ev['OperationStatus'] in ('PENDING', 'IN_PROGRESS'):
        assert time.time() < end
        time.sleep(0.05)
        ev = cc.get_resource_request_status(RequestToken=ev['RequestToken'])['ProgressEvent']
    assert ev['OperationStatus'] == 'SUCCESS', ev
    return ev


def converge(emu, cairn, state):
    r = cairn('apply', TPL, '--auto-approve', *common(cairn, state))
    assert r.rc == 0, r
    assert inventory(emu) == expected(), emu.control('inventory')
    r = cairn('plan', TPL, '--detailed-exitcode', *common(cairn, state))
    assert r.rc == 0, r
    r = cairn('destroy', TPL, '--auto-approve', *common(cairn, state))
    assert r.rc == 0, r
    assert inventory(emu) == {}, emu.control('inventory')


@pytest.mark.parametrize('victim', ['OrderQueue', 'OrderTable', 'KeyAlias'])
def test_kill_after_create_before_record(fast, cairn, victim):
    """AWS finished the create; cairn died before recording it."""
    state = 'crash.db'
    r = cairn('apply', TPL, '--auto-approve', *common(cairn, state),
              extra_env={'CAIRN_TEST_CRASH_AFTER': victim})
    assert r.rc == -signal.SIGKILL, r
    converge(fast, cairn, state)


@pytest.mark.parametrize('victim', ['DeadLetterQueue', 'AlertTopic', 'OrderTable'])
def test_kill_while_create_in_progress(emu, cairn, victim):
    """kill -9 while Cloud Control still works on the create (the request is
    IN_PROGRESS): the next apply asks again with the same ClientToken and
    gets the same request, so nothing is created twice."""
    emu.reset()
    emu.control('config', {'async': {'cloudcontrol': 0.3,
                                     'cloudcontrol:' + _type_of(victim): 3.0}})
    state = 'crash.db'
    p = subprocess.Popen([cairn.path, 'apply', TPL, '--auto-approve', *common(cairn, state)],
                         cwd=str(cairn.tmp), env=cairn.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        end = time.time() + 30
        while not _creating(emu, _type_of(victim)):
            assert time.time() < end, 'the create never started'
            time.sleep(0.05)
        time.sleep(0.4)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    # the request is still running when cairn comes back
    emu.control('config', {'async': {'cloudcontrol:' + _type_of(victim): 0.3}})
    converge(emu, cairn, state)


@pytest.mark.parametrize('victim', ['KeyAlias', 'AlertTopic'])
def test_destroy_after_kill_while_create_in_progress(emu, cairn, victim):
    """kill -9 while a create is still running, then destroy (not apply):
    the resource the stopped run asked for is found (by its tags, or by its
    ClientToken for a type without tags: an alias) and deleted too."""
    emu.reset()
    emu.control('config', {'async': {'cloudcontrol': 0.3,
                                     'cloudcontrol:' + _type_of(victim): 3.0}})
    state = 'crash.db'
    p = subprocess.Popen([cairn.path, 'apply', TPL, '--auto-approve', *common(cairn, state)],
                         cwd=str(cairn.tmp), env=cairn.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        end = time.time() + 30
        while not _creating(emu, _type_of(victim)):
            assert time.time() < end, 'the create never started'
            time.sleep(0.05)
        time.sleep(0.4)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    emu.control('config', {'async': {'cloudcontrol:' + _type_of(victim): 0.3}})
    r = cairn('destroy', TPL, '--auto-approve', *common(cairn, state))
    assert r.rc == 0, r
    assert inventory(emu) == {}, emu.control('inventory')


def _type_of(logical_id):
    return {'DeadLetterQueue': 'AWS::SQS::Queue', 'AlertTopic': 'AWS::SNS::Topic',
            'OrderTable': 'AWS::DynamoDB::Table', 'KeyAlias': 'AWS::KMS::Alias'}[logical_id]


def _creating(emu, type_name):
    cc = emu.client('cloudcontrol')
    reqs = cc.list_resource_requests()['ResourceRequestStatusSummaries']
    return any(r['TypeName'] == type_name and r['Operation'] == 'CREATE' for r in reqs)


def test_types_lists_every_type(cairn):
    r = cairn('types', '--json')
    assert r.rc == 0, r
    doc = json.loads(r.out)
    how = {t['type']: t['handling'] for t in doc['types']}
    # every type the template uses, handled as this issue says
    for t in template_types(TPL):
        assert how[t] == ('native' if t == 'AWS::Logs::LogGroup' else 'cloudcontrol'), t
    assert how['AWS::EC2::VPC'] == 'native'
    assert how['AWS::OpsWorks::Stack'] == 'not supported'
    assert doc['native'] == 30 and doc['cloudcontrol'] > 1000
    # no shipped stack's type moved to Cloud Control
    for stack in os.listdir(os.path.join(TOP, 'stacks')):
        if stack.endswith('.yaml'):
            for t in template_types(os.path.join(TOP, 'stacks', stack)):
                assert how[t] == 'native', (stack, t)


def test_schema_update_caches_describe_type(emu, cairn):
    """A newer schema published in the registry (DescribeType) replaces the
    bundle's copy once fetched: here it drops VisibilityTimeout, so the
    template's queue no longer validates."""
    emu.reset()
    schema = {'typeName': 'AWS::SQS::Queue', 'additionalProperties': False,
              'properties': {'QueueName': {'type': 'string'}, 'Arn': {'type': 'string'},
                             'QueueUrl': {'type': 'string'}},
              'primaryIdentifier': ['/properties/QueueUrl'],
              'readOnlyProperties': ['/properties/QueueUrl', '/properties/Arn']}
    emu.control('config', {'registry_overrides': {'AWS::SQS::Queue': {
        'Schema': json.dumps(schema), 'ProvisioningType': 'FULLY_MUTABLE'}}})
    cache = cairn.tmp / 'schemas'
    env = {'CAIRN_SCHEMA_CACHE': str(cache)}
    try:
        r = cairn('validate', TPL, extra_env=env)
        assert r.rc == 0, r
        r = cairn('schema', 'update', '--template', TPL, *cairn.endpoint, extra_env=env)
        assert r.rc == 0, r
        assert (cache / 'AWS-SQS-Queue.json').exists()
        assert json.loads((cache / 'AWS-SQS-Queue.json').read_text())['Schema'] == \
            json.dumps(schema)
        r = cairn('validate', TPL, extra_env=env)
        assert r.rc == 1, r
        assert 'Resources.OrderQueue.Properties.VisibilityTimeout: unknown property' in r.out + r.err
    finally:
        emu.control('config', {'registry_overrides': {'AWS::SQS::Queue': None}})


def test_kill_at_random_moments(emu, cairn):
    """kill -9 at random instants of an apply of the pipeline, then apply
    again: exactly the template's resources, nothing duplicated."""
    import random
    rng = random.Random(int(os.environ.get('CAIRN_CRASH_SEED', '13')))
    for t in range(int(os.environ.get('CAIRN_CC_CRASH_TRIALS', '5'))):
        emu.reset()
        emu.control('config', {'async': {'cloudcontrol': 0.3}})
        state = f'rand-{t}.db'
        p = subprocess.Popen([cairn.path, 'apply', TPL, '--auto-approve',
                              *common(cairn, state)], cwd=str(cairn.tmp), env=cairn.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 2.0))
        p.send_signal(signal.SIGKILL)
        p.wait()
        converge(emu, cairn, state)


def test_gone_and_import(fast, cairn):
    """A Cloud Control resource deleted behind cairn's back is reported gone
    by drift; `cairn import` adopts an existing one by its identifier."""
    emu = fast
    r = cairn('apply', TPL, '--auto-approve', *common(cairn))
    assert r.rc == 0, r
    table = outputs(cairn)['OrderTableName']
    cc = emu.client('cloudcontrol')
    _wait(cc, cc.delete_resource(TypeName='AWS::DynamoDB::Table',
                                 Identifier=table)['ProgressEvent'])
    r = cairn('drift', TPL, '--json', *common(cairn))
    assert r.rc == 2, r
    status = {x['logical_id']: x['status'] for x in json.loads(r.out)['resources']}
    assert status['OrderTable'] == 'gone', status
    # a table made outside cairn, adopted under the template's logical id
    ev = cc.create_resource(TypeName='AWS::DynamoDB::Table', DesiredState=json.dumps({
        'TableName': 'orders-by-hand', 'BillingMode': 'PAY_PER_REQUEST',
        'SSESpecification': {'SSEEnabled': True},
        'AttributeDefinitions': [{'AttributeName': 'orderId', 'AttributeType': 'S'}],
        'KeySchema': [{'AttributeName': 'orderId', 'KeyType': 'HASH'}]}))['ProgressEvent']
    _wait(cc, ev)
    assert cairn('state', 'rm', 'OrderTable', '--state', str(cairn.tmp / 'state.db')).rc == 0
    r = cairn('import', 'OrderTable', 'orders-by-hand', '--template', TPL, *common(cairn))
    assert r.rc == 0, r
    r = cairn('apply', TPL, '--auto-approve', *common(cairn))
    assert r.rc == 0, r
    assert outputs(cairn)['OrderTableName'] == 'orders-by-hand'
    tags = {t['Key']: t['Value'] for t in props(emu, 'AWS::DynamoDB::Table',
                                                'orders-by-hand').get('Tags', [])}
    assert tags.get('app') == 'orders', tags
    r = cairn('destroy', TPL, '--auto-approve', *common(cairn))
    assert r.rc == 0, r
    assert inventory(emu) == {}, emu.control('inventory')


NAMED_TPL = """Parameters:
  DocType: {Type: String, Default: Command}
Resources:
  Doc:
    Type: AWS::SSM::Document
    Properties:
      Name: cairn-cc-named-doc
      DocumentType: !Ref DocType
      Content: {schemaVersion: "2.2", mainSteps: []}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: /cairn/cc-filter}
  Filter:
    Type: AWS::Logs::MetricFilter
    Properties:
      LogGroupName: !Ref Logs
      FilterName: errors
      FilterPattern: ERROR
      MetricTransformations:
        - {MetricName: Errors, MetricNamespace: cairn, MetricValue: "1"}
  Param:
    Type: AWS::Batch::SchedulingPolicy
    Properties: {}
Outputs:
  FilterRef: {Value: !Ref Filter}
  ParamRef: {Value: !Ref Param}
"""

SECRET_TPL = """Parameters:
  Display: {Type: String, NoEcho: true}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Ref Display
"""


def test_replacement_keeping_a_name_deletes_first(fast, cairn):
    """A create-only change (DocumentType) on a resource whose name the
    template fixes: the new one cannot exist beside the old one, so the old
    goes first (create-first fails with AlreadyExists). Also: a composite
    primary identifier (a metric filter: LogGroupName|FilterName) is the
    Ref, as Cloud Control's identifier."""
    tpl = cairn.tmp / 'named.yaml'
    tpl.write_text(NAMED_TPL)
    r = cairn('apply', str(tpl), '--auto-approve', *common(cairn, 'b.db'))
    assert r.rc == 0, r
    assert outputs(cairn, 'b.db')['FilterRef'] == '/cairn/cc-filter|errors'
    assert props(fast, 'AWS::Logs::MetricFilter',
                 '/cairn/cc-filter|errors')['FilterPattern'] == 'ERROR'
    # Tags in the schema's shape: a map for Batch scheduling policies (SSM
    # parameters have a native provider now)
    param = props(fast, 'AWS::Batch::SchedulingPolicy', outputs(cairn, 'b.db')['ParamRef'])
    assert param["Tags"] == {"cairn:stack": "named",
                             'cairn:logical-id': 'Param'}, param
    r = cairn('plan', str(tpl), '--detailed-exitcode', *common(cairn, 'b.db'))
    assert r.rc == 0, r
    r = cairn('plan', str(tpl), *common(cairn, 'b.db'), '--param', 'DocType=Automation')
    assert r.rc == 0, r
    assert 'forces replacement: DocumentType' in r.out, r
    assert 'delete before create (Name unchanged)' in r.out, r
    r = cairn('apply', str(tpl), '--auto-approve', *common(cairn, 'b.db'),
              '--param', 'DocType=Automation')
    assert r.rc == 0, r
    docs = _list(fast, 'AWS::SSM::Document')
    assert [(d['Name'], d['DocumentType']) for d in docs] == \
        [('cairn-cc-named-doc', 'Automation')]
    r = cairn('destroy', str(tpl), '--auto-approve', *common(cairn, 'b.db'),
              '--param', 'DocType=Automation')
    assert r.rc == 0, r
    assert inventory(fast) == {}, fast.control('inventory')


def test_secret_never_in_state_or_logs(fast, cairn):
    """A NoEcho value in a Cloud Control resource's properties: AWS gets it,
    the state, the plan and the debug log never hold it."""
    secret = 'cc-Zq8vN3-not-a-real-secret-77'
    tpl = cairn.tmp / 'secret.yaml'
    tpl.write_text(SECRET_TPL)
    r = cairn('apply', str(tpl), '--auto-approve', '--debug', *common(cairn, 's.db'),
              '--param', 'Display=' + secret)
    assert r.rc == 0, r
    assert secret not in r.out and secret not in r.err
    topics = _list(fast, 'AWS::SNS::Topic')
    assert [t['DisplayName'] for t in topics] == [secret]
    for f in os.listdir(cairn.tmp):
        if f.startswith('s.db'):
            assert secret.encode() not in (cairn.tmp / f).read_bytes(), f
    r = cairn('plan', str(tpl), '--detailed-exitcode', *common(cairn, 's.db'),
              '--param', 'Display=' + secret)
    assert r.rc == 0, r
    r = cairn('destroy', str(tpl), '--auto-approve', *common(cairn, 's.db'),
              '--param', 'Display=' + secret)
    assert r.rc == 0, r


def test_lost_answers_converge(fast, cairn):
    """Every CreateResource is applied but its answer lost (the connection
    drops after the work): the retried or next call with the same
    ClientToken joins the request already made, so nothing is doubled."""
    emu = fast
    emu.control('config', {'drop_after_rate': {'cloudcontrol:CreateResource': 1.0}})
    try:
        r = cairn('apply', TPL, '--auto-approve', *common(cairn, 'lost.db'))
    finally:
        emu.control('config', {'drop_after_rate': {'cloudcontrol:CreateResource': 0.0}})
    # whatever the first run managed, the second finishes without duplicates
    converge(emu, cairn, 'lost.db')
