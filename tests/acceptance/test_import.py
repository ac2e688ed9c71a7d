"""`cairn import`: adopt resources made outside cairn (with botocore here),
then plan and apply converge them to the template without duplicates.
Checked through botocore and state.db, not only cairn's output."""
import json
import sqlite3

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Adopted:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /cairn-test/adopted
      RetentionInDays: 14
  Fresh:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /cairn-test/fresh
  Net:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.9.0.0/16
"""


def _setup(cairn):
    tpl = cairn.tmp / 'adopt.yaml'
    tpl.write_text(TEMPLATE)
    return str(tpl), [*cairn.endpoint, '--state', str(cairn.tmp / 'adopt.db')]


def _record(cairn, logical_id):
    db = sqlite3.connect(str(cairn.tmp / 'adopt.db'))
    try:
        row = db.execute('SELECT type, physical_id, properties, status FROM resources '
                         'WHERE logical_id = ?', (logical_id,)).fetchone()
    finally:
        db.close()
    return row and (row[0], row[1], json.loads(row[2]), row[3])


def test_import_log_group_then_converge(emu, cairn):
    emu.reset()
    tpl, common = _setup(cairn)
    logs = emu.client('logs')
    logs.create_log_group(logGroupName='/cairn-test/adopted')
    logs.put_retention_policy(logGroupName='/cairn-test/adopted', retentionInDays=30)
    before = {r['id'] for r in emu.control('inventory')}

    r = cairn('import', 'Adopted', '/cairn-test/adopted', '--template', tpl, *common)
    assert r.rc == 0, r
    typ, phys, props, status = _record(cairn, 'Adopted')
    assert (typ, phys, status) == ('AWS::Logs::LogGroup', '/cairn-test/adopted', 'created')
    # recorded as AWS has it, not as the template says
    assert int(props['RetentionInDays']) == 30
    # import changes nothing in AWS
    assert {r['id'] for r in emu.control('inventory')} == before

    # the plan updates the adopted group in place and creates the others
    p = cairn('plan', tpl, *common, '--detailed-exitcode')
    assert p.rc == 2, p
    assert 'RetentionInDays' in p.out and '30' in p.out and '14' in p.out, p
    assert '+ Fresh' in p.out, p
    assert '+ Adopted' not in p.out, p

    a = cairn('apply', tpl, '--auto-approve', *common)
    assert a.rc == 0, a
    groups = logs.describe_log_groups(logGroupNamePrefix='/cairn-test/')['logGroups']
    assert sorted(g['logGroupName'] for g in groups) == ['/cairn-test/adopted', '/cairn-test/fresh']
    assert [g['retentionInDays'] for g in groups if g['logGroupName'] == '/cairn-test/adopted'] == [14]
    assert cairn('plan', tpl, *common, '--detailed-exitcode').rc == 0


def test_import_refusals(emu, cairn):
    emu.reset()
    tpl, common = _setup(cairn)
    logs = emu.client('logs')
    logs.create_log_group(logGroupName='/cairn-test/adopted')
    assert cairn('import', 'Adopted', '/cairn-test/adopted', '--template', tpl, *common).rc == 0

    # a logical id already in the state
    r = cairn('import', 'Adopted', '/cairn-test/adopted', '--template', tpl, *common)
    assert r.rc == 1 and 'already in the state' in r.err, r
    # a logical id the template does not have
    r = cairn('import', 'Nope', '/cairn-test/adopted', '--template', tpl, *common)
    assert r.rc == 1 and 'no resource "Nope"' in r.err, r
    # nothing with that id
    r = cairn('import', 'Fresh', '/cairn-test/missing', '--template', tpl, *common)
    assert r.rc == 1 and 'no AWS::Logs::LogGroup' in r.err, r
    assert _record(cairn, 'Fresh') is None
    # an id of another type
    vpc = emu.client('ec2').create_vpc(CidrBlock='10.9.0.0/16')['Vpc']['VpcId']
    subnet = emu.client('ec2').create_subnet(VpcId=vpc, CidrBlock='10.9.1.0/24')['Subnet']['SubnetId']
    r = cairn('import', 'Net', subnet, '--template', tpl, *common)
    assert r.rc == 1 and 'AWS::EC2::VPC' in r.err, r
    r = cairn('import', 'Fresh', vpc, '--template', tpl, *common)
    assert r.rc == 1, r
    assert _record(cairn, 'Net') is None and _record(cairn, 'Fresh') is None
    # an EC2 id of the right type is adopted
    r = cairn('import', 'Net', vpc, '--template', tpl, *common)
    assert r.rc == 0, r
    assert _record(cairn, 'Net')[1] == vpc
    # usage
    assert cairn('import', 'Adopted').rc == 2
    assert cairn('import', 'Adopted', 'x').rc == 2
