"""`cairn apply PLANFILE` through the real binary against the emulator: a
saved plan applies when nothing moved, and is refused when AWS moved so
that the same actions would now write from other values (plan_same_work),
nothing changed in AWS. Checked through botocore."""

GROUP = 'saved-plan-logs'


def template(days):
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: {GROUP}
      RetentionInDays: {days}
"""


def retention(emu):
    groups = emu.client('logs').describe_log_groups(logGroupNamePrefix=GROUP)['logGroups']
    return [g.get('retentionInDays') for g in groups if g['logGroupName'] == GROUP]


def test_saved_plan_applies_then_refused_when_aws_moved(emu, cairn):
    tpl = cairn.tmp / 'saved.yaml'
    state = str(cairn.tmp / 'saved.db')
    common = [*cairn.endpoint, '--state', state]
    plan = str(cairn.tmp / 'p.json')

    # nothing moved: the saved plan is applied as it is
    tpl.write_text(template(7))
    r = cairn('plan', str(tpl), '--out', plan, *common)
    assert r.rc == 0, r
    r = cairn('apply', plan, '--auto-approve', *common)
    assert r.rc == 0, r
    assert retention(emu) == [7]

    # planned: retention 7 -> 14; then someone sets 30 behind cairn's back:
    # still an update of RetentionInDays, but no longer from 7
    tpl.write_text(template(14))
    r = cairn('plan', str(tpl), '--out', plan, '--refresh=false', *common)
    assert r.rc == 0, r
    emu.client('logs').put_retention_policy(logGroupName=GROUP, retentionInDays=30)
    r = cairn('apply', plan, '--auto-approve', *common)
    assert r.rc == 1, r
    assert 'no longer matches what AWS has' in r.err, r
    assert '"Logs": the change to RetentionInDays differs' in r.err, r
    assert retention(emu) == [30]  # AWS untouched

    # a new plan sees 30 -> 14 and applies
    r = cairn('plan', str(tpl), '--out', plan, *common)
    assert r.rc == 0, r
    r = cairn('apply', plan, '--auto-approve', *common)
    assert r.rc == 0, r
    assert retention(emu) == [14]
    r = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert r.rc == 0, r
