"""Dynamic references {{resolve:ssm:...}}, {{resolve:ssm-secure:...}} and
{{resolve:secretsmanager:...}} in resource properties, through the real binary
against the emulator: the resource gets the value, cairn's state, plan and
output never hold it (fingerprints only), a re-plan is clean, and a changed
secret shows as a (sensitive) change."""
import json
import time

PASSWORD = 'pw-Vq8x-not-a-real-password-31'
TOKEN = 'tok-Rr5y-not-a-real-token-77'

TPL = """Resources:
  Dsn:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /cairn/dyn/dsn
      Type: String
      Value: "postgresql://app:{{resolve:secretsmanager:cairn/dyn/db:SecretString:password}}@db:5432/app"
  Copy:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /cairn/dyn/copy
      Type: String
      Value: "{{resolve:ssm-secure:/cairn/dyn/token}}|{{resolve:ssm:/cairn/dyn/plain}}"
"""


def test_dynamic_references(emu, cairn):
    ssm, sm = emu.client('ssm'), emu.client('secretsmanager')
    sm.create_secret(Name='cairn/dyn/db', SecretString=json.dumps({'password': PASSWORD}))
    ssm.put_parameter(Name='/cairn/dyn/token', Value=TOKEN, Type='SecureString')
    ssm.put_parameter(Name='/cairn/dyn/plain', Value='plain-value', Type='String')
    time.sleep(0.3)   # the emulator's visibility delay for new secrets (conftest)
    tpl = cairn.tmp / 'dyn.yaml'
    tpl.write_text(TPL)
    db = cairn.tmp / 's.db'
    common = [*cairn.endpoint, '--state', str(db)]
    p = cairn('plan', str(tpl), *common)
    assert p.rc == 0, p
    assert PASSWORD not in p.out + p.err and TOKEN not in p.out + p.err
    r = cairn('apply', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    assert ssm.get_parameter(Name='/cairn/dyn/dsn')['Parameter']['Value'] == \
        f'postgresql://app:{PASSWORD}@db:5432/app'
    assert ssm.get_parameter(Name='/cairn/dyn/copy')['Parameter']['Value'] == \
        f'{TOKEN}|plain-value'
    raw = open(db, 'rb').read()
    assert PASSWORD.encode() not in raw and TOKEN.encode() not in raw
    assert PASSWORD not in r.out + r.err
    p = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert p.rc == 0, p.out
    d = cairn('drift', str(tpl), *common)
    assert d.rc == 0, d.out
    # the secret moves on: the next plan changes the parameter, showing no value
    sm.put_secret_value(SecretId='cairn/dyn/db', SecretString=json.dumps({'password': 'x2'}))
    p = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert p.rc == 2, p
    assert 'Dsn' in p.out and 'x2' not in p.out and PASSWORD not in p.out, p.out
    # a reference to nothing fails the plan, naming it
    tpl.write_text(TPL.replace('/cairn/dyn/plain', '/cairn/dyn/missing'))
    p = cairn('plan', str(tpl), *common)
    assert p.rc != 0 and '/cairn/dyn/missing' in p.err, p
    tpl.write_text(TPL)
    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
    sm.delete_secret(SecretId='cairn/dyn/db', ForceDeleteWithoutRecovery=True)
    ssm.delete_parameter(Name='/cairn/dyn/token')
    ssm.delete_parameter(Name='/cairn/dyn/plain')
