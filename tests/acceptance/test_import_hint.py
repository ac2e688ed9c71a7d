"""The `cairn import` command that apply prints for a resource it refuses to
take over (issue 15 item 1) works when pasted as printed: it names the stack,
the state and the region the failed apply used, so the import lands in that
apply's state and the next plan of that stack sees the resource. Found by QA:
the hint used to carry only --template, so with --stack/--state the printed
command imported into another stack's default state (state/<file>.db)."""
import json
import shlex

TEMPLATE = """\
Resources:
  ExecRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: hint-existing-role
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: ecs-tasks.amazonaws.com}, Action: "sts:AssumeRole"}
"""
TRUST = json.dumps({'Version': '2012-10-17', 'Statement': [{
    'Effect': 'Allow', 'Principal': {'Service': 'ecs-tasks.amazonaws.com'},
    'Action': 'sts:AssumeRole'}]})


def test_printed_import_command_runs_as_printed(emu, cairn):
    emu.client('iam').create_role(RoleName='hint-existing-role',
                                  AssumeRolePolicyDocument=TRUST)
    emu.settle()
    (cairn.tmp / 'my template.yaml').write_text(TEMPLATE)
    state = cairn.tmp / 'states' / 'team one.db'
    state.parent.mkdir()
    common = [*cairn.endpoint, '--stack', 'hint-stack', '--state', str(state)]
    r = cairn('apply', 'my template.yaml', '--auto-approve', *common)
    assert r.rc == 1, r
    text = r.out + r.err
    start = text.index('cairn import ExecRole')
    printed = text[start:text.index(' (then plan shows', start)]
    words = shlex.split(printed)
    assert words[:4] == ['cairn', 'import', 'ExecRole', 'hint-existing-role'], printed
    # pasted as printed (the endpoint is the test's, not the user's)
    i = cairn(*words[1:], *cairn.endpoint)
    assert i.rc == 0, (printed, i)
    # import says which plan to run next; pasted as printed, it plans the
    # same state (the stack and state named)
    nxt = shlex.split(i.out.split('differs from the template: ', 1)[1].splitlines()[0])
    assert nxt[:3] == ['cairn', 'plan', 'my template.yaml'], i.out
    assert cairn(*nxt[1:], *cairn.endpoint).rc == 0
    # it went into the state the apply used: the plan there records the role
    p = cairn(*nxt[1:], *cairn.endpoint, '--json')
    assert p.rc == 0, p
    plan = json.loads(p.out)
    acts = {c['logical_id']: c['action'] for c in plan['resources']}
    assert acts.get('ExecRole') != 'create', (printed, p.out[:2000])
    assert not (cairn.tmp / 'state').exists(), 'imported into a default state'
    # and the role is still the one that existed (imported, not recreated)
    roles = [x['RoleName'] for x in emu.client('iam').list_roles()['Roles']]
    assert roles.count('hint-existing-role') == 1
