"""Dynamic references {{resolve:ssm:...}}, {{resolve:ssm-secure:...}} and
{{resolve:secretsmanager:...}} in resource properties, through the real binary
against the emulator, with CloudFormation's semantics
(docs/cloudformation-compat.md):

- the plan never reads the values: it shows and compares the literal
  reference (a secret that changed behind an unchanged template is no
  change; an update of the resource for another reason sends the new value);
- apply reads each value just before the create/update call that needs it;
  the resource gets it (checked through botocore), while cairn's state, plan
  (text, JSON, saved file), logs and errors never hold it;
- a saved plan resolves at apply, so a value changed between plan and apply
  is applied as it is then (as a change set reads them at execution);
- ssm-secure only where CloudFormation accepts it; version and stage
  selectors; a missing reference fails the resource naming the property,
  the reference, the AWS error code and the request id."""
import glob
import json
import os
import sys

import pytest

PASSWORD = 'pw-Vq8x-not-a-real-password-31'
PASSWORD2 = 'pw-Zk3m-second-password-58'
TOKEN = 'tok-Rr5y-not-a-real-token-77'
PLAIN = 'plain-Hh2w-value-19'

TPL = """Resources:
  Dsn:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /cairn/dyn/dsn{sfx}
      Type: String
      Description: {desc}
      Value: "postgresql://app:{{{{resolve:secretsmanager:cairn/dyn/db:SecretString:password}}}}@db:5432/app"
  Copy:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: cairn/dyn/copy{sfx}
      SecretString: "{{{{resolve:ssm:/cairn/dyn/plain}}}}|{{{{resolve:secretsmanager:cairn/dyn/db}}}}"
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: cairn-dyn{sfx}
      RequiresCompatibilities: [FARGATE]
      NetworkMode: awsvpc
      Cpu: "256"
      Memory: "512"
      ContainerDefinitions:
        - Name: app
          Image: busybox
          Environment:
            - Name: DB_PASSWORD
              Value: "{{{{resolve:secretsmanager:cairn/dyn/db:SecretString:password}}}}"
"""


def tpl_text(desc='first', sfx=''):
    return TPL.format(desc=desc, sfx=sfx)


def secrets_in(text):
    return [s for s in (PASSWORD, PASSWORD2, TOKEN, PLAIN) if s in text]


def state_bytes(db):
    """The state database and its WAL/journal files, as bytes."""
    out = b''
    for f in glob.glob(str(db) + '*'):
        with open(f, 'rb') as fh:
            out += fh.read()
    return out


def secrets_in_state(db):
    raw = state_bytes(db)
    return [s for s in (PASSWORD, PASSWORD2, TOKEN, PLAIN) if s.encode() in raw]


def dsn(ssm, sfx=''):
    return ssm.get_parameter(Name='/cairn/dyn/dsn' + sfx)['Parameter']['Value']


def task_env(ecs, sfx=''):
    td = ecs.describe_task_definition(taskDefinition='cairn-dyn' + sfx)['taskDefinition']
    return {e['name']: e['value'] for e in td['containerDefinitions'][0]['environment']}


def reads(emu):
    calls = emu.control('calls')
    return {k: v for k, v in calls.items()
            if k in ('secretsmanager:GetSecretValue', 'ssm:GetParameter')}


@pytest.fixture(scope='module')
def made(emu):
    ssm, sm = emu.client('ssm'), emu.client('secretsmanager')
    sm.create_secret(Name='cairn/dyn/db', SecretString=json.dumps({'password': PASSWORD}))
    ssm.put_parameter(Name='/cairn/dyn/token', Value=TOKEN, Type='SecureString')
    ssm.put_parameter(Name='/cairn/dyn/plain', Value=PLAIN, Type='String')
    emu.settle()
    return ssm, sm


@pytest.fixture
def refs(made):
    ssm, sm = made
    # each test starts from the first password (AWSCURRENT)
    sm.put_secret_value(SecretId='cairn/dyn/db', SecretString=json.dumps({'password': PASSWORD}))
    return ssm, sm


def test_resolved_at_apply_never_stored(emu, cairn, refs):
    ssm, sm = refs
    ecs = emu.client('ecs')
    tpl = cairn.tmp / 'dyn.yaml'
    tpl.write_text(tpl_text())
    db = cairn.tmp / 's.db'
    common = [*cairn.endpoint, '--state', str(db)]

    # the plan reads no value: no GetSecretValue / GetParameter at all
    emu.control('calls', method='DELETE')
    p = cairn('plan', str(tpl), *common)
    assert p.rc == 0, p
    assert reads(emu) == {}, reads(emu)
    assert not secrets_in(p.out + p.err), p
    assert '{{resolve:secretsmanager:cairn/dyn/db:SecretString:password}}' in p.out, p.out
    pj = cairn('plan', str(tpl), '--json', *common)
    assert pj.rc == 0, pj
    changes = [c for r in json.loads(pj.out)['resources'] if r['logical_id'] == 'Dsn'
               for c in r['changes'] if c['path'] == 'Value']
    assert changes and changes[0]['dynamic_references'] == [
        '{{resolve:secretsmanager:cairn/dyn/db:SecretString:password}}'], changes
    assert not secrets_in(pj.out + pj.err), pj.out
    pm = cairn('plan', str(tpl), '--format', 'markdown', *common)
    assert pm.rc == 0, pm
    assert '{{resolve:ssm:/cairn/dyn/plain}}' in pm.out, pm.out
    assert not secrets_in(pm.out + pm.err), pm.out

    # the trace log holds every request body: none of them shows a value
    r = cairn('apply', str(tpl), '--auto-approve', *common,
              extra_env={'CAIRN_LOG': 'trace'})
    assert r.rc == 0, r
    assert 'ssm:PutParameter request' in r.err and 'GetSecretValue' in r.err, r
    assert not secrets_in(r.out + r.err), secrets_in(r.out + r.err)
    # AWS got the values
    assert dsn(ssm) == f'postgresql://app:{PASSWORD}@db:5432/app'
    assert sm.get_secret_value(SecretId='cairn/dyn/copy')['SecretString'] == \
        PLAIN + '|' + json.dumps({'password': PASSWORD})
    assert task_env(ecs) == {'DB_PASSWORD': PASSWORD}
    # cairn's state never held them
    assert secrets_in_state(db) == []

    # unchanged: clean re-plan and drift, which read no value either
    emu.control('calls', method='DELETE')
    p = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert p.rc == 0, p
    d = cairn('drift', str(tpl), *common)
    assert d.rc == 0, d
    assert reads(emu).get('secretsmanager:GetSecretValue') is None, reads(emu)

    # the secret changes behind an unchanged template: as CloudFormation,
    # no change (only the literal reference is compared) ...
    sm.put_secret_value(SecretId='cairn/dyn/db',
                        SecretString=json.dumps({'password': PASSWORD2}))
    p = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert p.rc == 0, p
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    assert dsn(ssm) == f'postgresql://app:{PASSWORD}@db:5432/app'
    # ... until the resource is updated for another reason: then the update
    # reads the reference again and sends the current value
    tpl.write_text(tpl_text('second'))
    p = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert p.rc == 2 and 'Dsn' in p.out, p
    r = cairn('apply', str(tpl), '--auto-approve', '--debug', *common)
    assert r.rc == 0, r
    assert not secrets_in(r.out + r.err), r
    assert dsn(ssm) == f'postgresql://app:{PASSWORD2}@db:5432/app'
    assert task_env(ecs) == {'DB_PASSWORD': PASSWORD}  # Task was not updated
    assert secrets_in_state(db) == []

    # a changed reference (another key) is a change, shown as references
    tpl.write_text(tpl_text('second').replace(':SecretString:password}}@db',
                                              ':SecretString:password:AWSPREVIOUS}}@db'))
    p = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert p.rc == 2 and 'AWSPREVIOUS' in p.out, p
    assert not secrets_in(p.out), p
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    # the stage selector: AWSPREVIOUS is the first password again
    assert dsn(ssm) == f'postgresql://app:{PASSWORD}@db:5432/app'

    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    assert secrets_in_state(db) == []


def test_saved_plan_resolves_at_apply(emu, cairn, refs):
    """`cairn plan --out FILE` holds no value; `cairn apply FILE` reads the
    references when it runs, so a secret changed between plan and apply is
    applied as it is then (CloudFormation change sets read them at
    execution too); the saved plan is not refused for it."""
    ssm, sm = refs
    ecs = emu.client('ecs')
    tpl = cairn.tmp / 'dyn.yaml'
    tpl.write_text(tpl_text(sfx='-saved'))
    db = cairn.tmp / 's.db'
    plan = cairn.tmp / 'plan.json'
    common = [*cairn.endpoint, '--state', str(db)]
    emu.control('calls', method='DELETE')
    r = cairn('plan', str(tpl), '--out', str(plan), *common)
    assert r.rc == 0, r
    assert reads(emu) == {}, reads(emu)
    assert not secrets_in(plan.read_text()), plan.read_text()
    assert '{{resolve:secretsmanager:cairn/dyn/db}}' in plan.read_text()
    sm.put_secret_value(SecretId='cairn/dyn/db',
                        SecretString=json.dumps({'password': PASSWORD2}))
    r = cairn('apply', str(plan), *common)
    assert r.rc == 0, r
    assert not secrets_in(r.out + r.err), r
    assert dsn(ssm, '-saved') == f'postgresql://app:{PASSWORD2}@db:5432/app'
    assert task_env(ecs, '-saved') == {'DB_PASSWORD': PASSWORD2}
    assert secrets_in_state(db) == []
    assert not secrets_in(plan.read_text())
    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r


def test_missing_reference_fails_the_plan(emu, cairn, refs):
    """The plan checks, from metadata only (DescribeSecret,
    DescribeParameters: no value is read), that each reference names
    something that exists: an error at the string naming the resource,
    the property, the reference, AWS's error code and request id."""
    tpl = cairn.tmp / 'dyn.yaml'
    db = cairn.tmp / 's.db'
    common = [*cairn.endpoint, '--state', str(db)]
    cases = [
        ('cairn/dyn/db:SecretString:password}}@db', 'cairn/dyn/nope:SecretString:password}}@db',
         '{{resolve:secretsmanager:cairn/dyn/nope:SecretString:password}}',
         'ResourceNotFoundException'),
        ('cairn/dyn/db:SecretString:password}}@db', 'cairn/dyn/db:SecretString:password:AWSPENDING}}@db',
         'AWSPENDING', 'no version labelled'),
        ('{{resolve:ssm:/cairn/dyn/plain}}', '{{resolve:ssm:/cairn/dyn/missing}}',
         '{{resolve:ssm:/cairn/dyn/missing}}', 'does not exist'),
        ('{{resolve:ssm:/cairn/dyn/plain}}', '{{resolve:ssm:/cairn/dyn/token}}',
         '{{resolve:ssm:/cairn/dyn/token}}', 'is a SecureString: use {{resolve:ssm-secure:'),
    ]
    for old, new, ref, why in cases:
        text = tpl_text(sfx='-missing')
        assert old in text
        tpl.write_text(text.replace(old, new))
        emu.control('calls', method='DELETE')
        r = cairn('plan', str(tpl), *common)
        assert r.rc == 1, r
        assert reads(emu) == {}, reads(emu)
        assert not secrets_in(r.out + r.err), r
        line = next(l for l in r.err.splitlines() if ref in l)
        assert 'dyn.yaml:' in line and why in line, line
        assert ('Resources.Dsn.Properties.Value' in line or
                'Resources.Copy.Properties.SecretString' in line), line
        if 'Exception' in why:
            assert 'request id' in line, line


def test_read_failing_at_apply_fails_the_resource(emu, cairn, refs):
    """A reference that exists at plan but cannot be read at apply fails
    its resource only: the summary names the property, the reference, the
    AWS error code and the request id, never a value."""
    tpl = cairn.tmp / 'dyn.yaml'
    tpl.write_text(tpl_text(sfx='-fault'))
    db = cairn.tmp / 's.db'
    common = [*cairn.endpoint, '--state', str(db), '--max-attempts', '1']
    emu.control('config', {'error_rate': {'secretsmanager:GetSecretValue': 1.0}})
    try:
        r = cairn('apply', str(tpl), '--auto-approve', *common)
    finally:
        emu.control('config', {'error_rate': 0})
    assert r.rc == 1, r
    assert not secrets_in(r.out + r.err), r
    line = next(l for l in r.out.splitlines() if l.strip().startswith('- Dsn'))
    assert 'property Value' in line, line
    assert '{{resolve:secretsmanager:cairn/dyn/db:SecretString:password}}' in line, line
    assert 'secretsmanager:GetSecretValue' in line and 'request id' in line, line
    assert secrets_in_state(db) == []
    # the next apply, the fault gone, finishes the job
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    assert dsn(emu.client('ssm'), '-fault') == f'postgresql://app:{PASSWORD}@db:5432/app'
    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r


def test_aws_error_quoting_the_value_is_scrubbed(emu, cairn, refs):
    """SSM's AllowedPattern error quotes the value it was sent; cairn's
    output and state show "(sensitive)" instead."""
    tpl = cairn.tmp / 'pat.yaml'
    tpl.write_text("""Resources:
  P:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /cairn/dyn/pattern
      Type: String
      AllowedPattern: "^[0-9]+$"
      Value: "{{resolve:ssm:/cairn/dyn/plain}}"
""")
    db = cairn.tmp / 's.db'
    common = [*cairn.endpoint, '--state', str(db)]
    r = cairn('apply', str(tpl), '--auto-approve', '--debug', *common)
    assert r.rc == 1, r
    assert not secrets_in(r.out + r.err), r
    assert 'ParameterPatternMismatchException' in r.out, r
    assert '(sensitive)' in r.out, r
    assert secrets_in_state(db) == []
    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r


def test_ssm_secure_only_where_cloudformation_accepts_it(emu, cairn, refs):
    bad = cairn.tmp / 'bad.yaml'
    bad.write_text("""Resources:
  P:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: "{{resolve:ssm-secure:/cairn/dyn/token}}"
""")
    r = cairn('validate', str(bad))
    assert r.rc == 1, r
    assert 'bad.yaml:6:14' in r.err and 'ssm-secure' in r.err, r.err
    # malformed references are template errors too
    bad.write_text("""Resources:
  P:
    Type: AWS::SSM::Parameter
    Properties:
      Type: String
      Value: "{{resolve:vault:x}} {{resolve:secretsmanager:s:SecretBinary}}"
""")
    r = cairn('validate', str(bad))
    assert r.rc == 1 and 'unknown service' in r.err and 'SecretString' in r.err, r.err
    # an ssm reference to a SecureString is refused, as CloudFormation does
    bad.write_text("""Resources:
  P:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /cairn/dyn/wrongkind
      Type: String
      Value: "{{resolve:ssm:/cairn/dyn/token}}"
""")
    db = cairn.tmp / 's.db'
    r = cairn('apply', str(bad), '--auto-approve', *cairn.endpoint, '--state', str(db))
    assert r.rc == 1 and 'is a SecureString: use {{resolve:ssm-secure:' in r.err, r
    assert not secrets_in(r.out + r.err)
    r = cairn('destroy', str(bad), '--auto-approve', *cairn.endpoint, '--state', str(db))
    assert r.rc == 0, r


def test_ssm_secure_and_versions_delivered(tmp_path, cairn):
    """An ssm-secure reference where CloudFormation accepts it (an RDS
    instance's MasterUserPassword, through Cloud Control) and an ssm
    reference with a version: the emulator's saved state shows what AWS
    was sent (the password is write-only, never read back)."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'emulator'))
    from conftest import Emulator as Emu
    e = Emu(['--state-dir', str(tmp_path / 'emu')])
    try:
        ssm = e.client('ssm')
        ssm.put_parameter(Name='/cairn/dyn/token', Value=TOKEN, Type='SecureString')
        ssm.put_parameter(Name='/cairn/dyn/plain', Value=PLAIN, Type='String')
        ssm.put_parameter(Name='/cairn/dyn/plain', Value='second-version', Type='String',
                          Overwrite=True)
        tpl = cairn.tmp / 'rds.yaml'
        tpl.write_text("""Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      DBInstanceIdentifier: cairn-dyn-db
      DBInstanceClass: db.t3.micro
      Engine: postgres
      AllocatedStorage: "20"
      MasterUsername: app
      MasterUserPassword: "{{resolve:ssm-secure:/cairn/dyn/token}}"
  V1:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /cairn/dyn/v1
      Type: String
      Value: "{{resolve:ssm:/cairn/dyn/plain:1}}"
""")
        db = cairn.tmp / 'rds.db'
        common = ['--endpoint-url', e.url, '--state', str(db)]
        r = cairn('apply', str(tpl), '--auto-approve', *common)
        assert r.rc == 0, r
        assert not secrets_in(r.out + r.err), r
        assert ssm.get_parameter(Name='/cairn/dyn/v1')['Parameter']['Value'] == PLAIN
        e.control('save', {})
        saved = json.load(open(tmp_path / 'emu' / 'state.json'))
        assert TOKEN in json.dumps(saved['stores']['cloudcontrol']), 'password not delivered'
        assert secrets_in_state(db) == []
        r = cairn('plan', str(tpl), '--detailed-exitcode', *common)
        assert r.rc == 0, r
        # a version that does not exist: the plan says so
        tpl.write_text(tpl.read_text().replace('/cairn/dyn/plain:1', '/cairn/dyn/plain:9'))
        r = cairn('plan', str(tpl), *common)
        assert r.rc == 1 and 'has no version 9 (the latest is 2)' in r.err, r
        assert '{{resolve:ssm:/cairn/dyn/plain:9}}' in r.err, r
        tpl.write_text(tpl.read_text().replace('/cairn/dyn/plain:9', '/cairn/dyn/plain:1'))
        r = cairn('destroy', str(tpl), '--auto-approve', *common)
        assert r.rc == 0, r
    finally:
        e.stop()


def test_value_takes_the_property_type(emu, cairn, refs):
    """A reference in an integer property: the template's text is no
    integer (validation waits for apply), the value read is sent as one."""
    ssm, _ = refs
    ssm.put_parameter(Name='/cairn/dyn/days', Value='14', Type='String', Overwrite=True)
    tpl = cairn.tmp / 'days.yaml'
    tpl.write_text("""Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: cairn-dyn-days
      RetentionInDays: "{{resolve:ssm:/cairn/dyn/days}}"
""")
    db = cairn.tmp / 's.db'
    common = [*cairn.endpoint, '--state', str(db)]
    r = cairn('validate', str(tpl))
    assert r.rc == 0, r
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    groups = emu.client('logs').describe_log_groups(
        logGroupNamePrefix='cairn-dyn-days')['logGroups']
    assert [g.get('retentionInDays') for g in groups] == [14]
    r = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert r.rc == 0, r
    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r


def test_reference_to_a_secret_the_stack_creates(emu, cairn, refs):
    """CDK's shape: a secret of the stack and a reference to it built with
    !Sub from its ARN. Unknown at plan (no check, nothing read), read at
    apply once the secret exists, though AWS shows a new secret only after
    a moment (the emulator's visibility delay): the read waits for it."""
    ssm, _ = refs
    tpl = cairn.tmp / 'own.yaml'
    tpl.write_text("""Resources:
  Secret:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: cairn/dyn/own
      SecretString: '{"password": "%s"}'
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /cairn/dyn/own
      Type: String
      Value: !Sub "pw={{resolve:secretsmanager:${Secret}:SecretString:password}}"
""" % PASSWORD2)
    db = cairn.tmp / 's.db'
    common = [*cairn.endpoint, '--state', str(db)]
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    assert ssm.get_parameter(Name='/cairn/dyn/own')['Parameter']['Value'] == f'pw={PASSWORD2}'
    assert f'pw={PASSWORD2}'.encode() not in state_bytes(db)
    r = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert r.rc == 0, r
    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r


def test_stage_and_version_id_selectors(emu, cairn, refs):
    """`:json-key:AWSCURRENT` and `:json-key::version-id` pick those
    versions; a version id the secret does not have fails the plan."""
    ssm, sm = refs
    first = sm.describe_secret(SecretId='cairn/dyn/db')['VersionIdsToStages']
    vid1 = next(v for v, st in first.items() if 'AWSCURRENT' in st)
    sm.put_secret_value(SecretId='cairn/dyn/db',
                        SecretString=json.dumps({'password': PASSWORD2}))
    tpl = cairn.tmp / 'sel.yaml'
    text = """Resources:
  P:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /cairn/dyn/sel
      Type: String
      Value: "{{resolve:secretsmanager:cairn/dyn/db:SecretString:password:AWSCURRENT}}/{{resolve:secretsmanager:cairn/dyn/db:SecretString:password::VID}}"
"""
    tpl.write_text(text.replace('VID', 'no-such-version'))
    db = cairn.tmp / 's.db'
    common = [*cairn.endpoint, '--state', str(db)]
    r = cairn('plan', str(tpl), *common)
    assert r.rc == 1 and 'has no version "no-such-version"' in r.err, r
    tpl.write_text(text.replace('VID', vid1))
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    assert ssm.get_parameter(Name='/cairn/dyn/sel')['Parameter']['Value'] == \
        f'{PASSWORD2}/{PASSWORD}'
    assert not secrets_in(r.out + r.err) and secrets_in_state(db) == []
    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
