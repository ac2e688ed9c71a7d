"""Template scalars take the type the resource schema declares, as
CloudFormation converts them (issue 9 item 1): a task definition written
the way people write them, `Value: 10` in an environment entry and
`Cpu: "256"` on a container, is applied against the emulator, AWS (checked
through botocore) holds the string "10" and the integer 256, and the next
plan finds nothing to change: the plan, the state and the live read all
see the converted value."""
import json
import sqlite3

from test_apply_stacks import inventory_counts

TEMPLATE = """\
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: "7"
  ExecRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: ecs-tasks.amazonaws.com}
            Action: sts:AssumeRole
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ExecutionRoleArn: !GetAtt ExecRole.Arn
      Cpu: 256
      Memory: 512
      NetworkMode: awsvpc
      RequiresCompatibilities: [FARGATE]
      ContainerDefinitions:
        - Name: app
          Image: public.ecr.aws/docker/library/busybox:latest
          Cpu: "256"
          Essential: "true"
          Environment:
            - Name: AWS_MAX_ATTEMPTS
              Value: 10
            - Name: DEBUG
              Value: false
            - Name: RATIO
              Value: 0.5
          PortMappings:
            - ContainerPort: "8080"
          LogConfiguration:
            LogDriver: awslogs
            Options:
              awslogs-group: !Ref Logs
              awslogs-region: !Ref AWS::Region
              awslogs-stream-prefix: app
"""


def test_scalars_converted_end_to_end(emu, cairn):
    emu.reset()
    tpl = cairn.tmp / 'scalars.yaml'
    tpl.write_text(TEMPLATE)
    state = str(cairn.tmp / 'scalars.db')
    common = [*cairn.endpoint, '--state', state]

    v = cairn('validate', str(tpl))
    assert v.rc == 0, v
    a = cairn('apply', str(tpl), '--auto-approve', *common)
    assert a.rc == 0, a

    ecs = emu.client('ecs')
    # the emulator's account holds resources of its own: only the stack's
    arns = [a for a in ecs.list_task_definitions()['taskDefinitionArns']
            if ':task-definition/scalars-Task-' in a]
    assert len(arns) == 1, arns
    td = ecs.describe_task_definition(taskDefinition=arns[0])['taskDefinition']
    assert td['cpu'] == '256' and td['memory'] == '512', td
    c = td['containerDefinitions'][0]
    assert c['cpu'] == 256 and c['essential'] is True, c
    assert c['portMappings'][0]['containerPort'] == 8080, c
    env = {e['name']: e['value'] for e in c['environment']}
    assert env == {'AWS_MAX_ATTEMPTS': '10', 'DEBUG': 'false', 'RATIO': '0.5'}, env
    groups = emu.client('logs').describe_log_groups(
        logGroupNamePrefix='scalars-Logs-')['logGroups']
    assert [g.get('retentionInDays') for g in groups] == [7], groups

    # the state records the converted values, not the template's text
    db = sqlite3.connect(state)
    try:
        (props,) = db.execute("select properties from resources "
                              "where logical_id = 'Task'").fetchone()
    finally:
        db.close()
    rec = json.loads(props)['ContainerDefinitions'][0]
    assert rec['Environment'][0] == {'Name': 'AWS_MAX_ATTEMPTS', 'Value': '10'}, rec
    assert rec['Cpu'] == 256, rec

    p = cairn('plan', str(tpl), '--detailed-exitcode', *common)
    assert p.rc == 0, p
    d = cairn('drift', str(tpl), *common)
    assert d.rc == 0, d

    x = cairn('destroy', str(tpl), '--auto-approve', *common)
    assert x.rc == 0, x
    assert inventory_counts(emu) == {}, emu.control('inventory')
