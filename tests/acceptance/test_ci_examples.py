"""The CI examples of examples/ci/ run for real: each workflow's YAML is
parsed and its `run:` steps (GitHub Actions), job scripts (GitLab CI) and
ExecStart (systemd) are executed with bash against the emulator, with the
CI platform around them faked just enough: the OIDC token endpoint, the
GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, `gh` (a stub that
keeps comments and issues in a JSON file) and GitLab's notes API. No AWS
keys are given: credentials come from the OIDC token through cairn's own
AssumeRoleWithWebIdentity. Outcomes are checked in the emulator (inventory,
S3 state object) and in what the fakes received."""
import base64
import configparser
import http.server
import json
import os
import re
import subprocess
import threading

import pytest
import yaml

from accept_util import TOP
from test_apply_stacks import live_inventory

CI = os.path.join(TOP, 'examples', 'ci')
BUCKET = 'acme-cairn-state'
TEMPLATE = """\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.42.0.0/16}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 7}
"""
ROLE = 'arn:aws:iam::123456789012:role/cairn-ci'


def fake_jwt(sub):
    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip('=')
    return f"{b64({'alg': 'RS256'})}.{b64({'sub': sub, 'aud': 'sts.amazonaws.com', 'iss': 'https://token.actions.githubusercontent.com'})}.c2ln"


class Fakes(http.server.BaseHTTPRequestHandler):
    """The OIDC token endpoint and GitLab's merge request notes API."""
    notes = []
    requests = []

    def log_message(self, *a):
        pass

    def _send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        Fakes.requests.append(('GET', self.path))
        if self.path.startswith('/oidc'):
            assert self.headers['Authorization'] == 'bearer request-token'
            assert 'audience=sts.amazonaws.com' in self.path
            return self._send(200, {'value': fake_jwt('repo:acme/infra:pull_request')})
        if '/notes' in self.path:
            assert self.headers['PRIVATE-TOKEN'] == 'glpat-test'
            return self._send(200, Fakes.notes)
        self._send(404, {})

    def _body(self):
        return json.loads(self.rfile.read(int(self.headers['Content-Length'])))

    def do_POST(self):
        Fakes.requests.append(('POST', self.path))
        note = {'id': 100 + len(Fakes.notes), 'body': self._body()['body']}
        Fakes.notes.append(note)
        self._send(201, note)

    def do_PUT(self):
        Fakes.requests.append(('PUT', self.path))
        nid = int(self.path.rsplit('/', 1)[1])
        for n in Fakes.notes:
            if n['id'] == nid:
                n['body'] = self._body()['body']
                return self._send(200, n)
        self._send(404, {})


GH_STUB = r'''#!/usr/bin/python3
"""gh stub: issue comments and issues kept in $GH_STUB_DB."""
import json, os, re, sys
db_path = os.environ['GH_STUB_DB']
db = json.load(open(db_path)) if os.path.exists(db_path) else {'comments': [], 'issues': [], 'calls': []}
args = sys.argv[1:]
db['calls'].append(args)
assert os.environ.get('GH_TOKEN'), 'no GH_TOKEN'
def opt(name, default=None):
    return args[args.index(name) + 1] if name in args else default
if args[0] == 'api':
    method = opt('-X', 'GET')
    path = [a for a in args[1:] if a.startswith('repos/')][0]
    if method == 'GET':
        m = re.search(r'startswith\("(.*?)"\)', opt('--jq', ''))
        for c in db['comments']:
            if m and c['body'].startswith(m.group(1)):
                print(c['id'])
    else:
        body = open(opt('-F')[len('body=@'):]).read()
        if method == 'POST':
            db['comments'].append({'id': 500 + len(db['comments']), 'body': body})
        else:
            cid = int(path.rsplit('/', 1)[1])
            [c for c in db['comments'] if c['id'] == cid][0]['body'] = body
elif args[:2] == ['issue', 'list']:
    open_ = [i for i in db['issues'] if i['state'] == 'open']
    if open_:
        print(open_[0]['number'])
elif args[:2] == ['issue', 'create']:
    db['issues'].append({'number': 1 + len(db['issues']), 'state': 'open',
                         'title': opt('--title'), 'body': open(opt('--body-file')).read(),
                         'comments': []})
elif args[:2] == ['issue', 'comment']:
    [i for i in db['issues'] if i['number'] == int(args[2])][0]['comments'].append(
        open(opt('--body-file')).read())
else:
    sys.exit('gh stub: unsupported ' + ' '.join(args))
json.dump(db, open(db_path, 'w'))
'''


@pytest.fixture
def fakes():
    Fakes.notes = []
    Fakes.requests = []
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Fakes)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown()


@pytest.fixture
def repo(emu, cairn, tmp_path):
    """A checkout of the infrastructure repository, a bin/ with cairn and
    the gh stub, and the state bucket in a fresh emulator."""
    emu.reset()
    emu.client('s3').create_bucket(Bucket=BUCKET)
    # the role the CI assumes with its OIDC token
    emu.client('iam').create_role(RoleName='cairn-ci', AssumeRolePolicyDocument=json.dumps({
        'Version': '2012-10-17', 'Statement': [{
            'Effect': 'Allow', 'Action': 'sts:AssumeRoleWithWebIdentity',
            'Principal': {'Federated': 'arn:aws:iam::123456789012:oidc-provider/'
                                       'token.actions.githubusercontent.com'}}]}))
    r = tmp_path / 'repo'
    (r / 'infra').mkdir(parents=True)
    (r / 'infra' / 'web.yaml').write_text(TEMPLATE)
    (r / 'cairn.yaml').write_text(f'state: s3://{BUCKET}/{{stack}}.db\n')
    b = tmp_path / 'bin'
    b.mkdir()
    os.symlink(cairn.path, b / 'cairn')
    (b / 'gh').write_text(GH_STUB)
    (b / 'gh').chmod(0o755)
    return r


def base_env(emu, tmp_path):
    home = tmp_path / 'home'
    home.mkdir(exist_ok=True)
    return {
        'PATH': f"{tmp_path / 'bin'}:/usr/bin:/bin",
        'HOME': str(home),
        'AWS_ENDPOINT_URL': emu.url,          # the only substitution: where AWS is
        'AWS_EC2_METADATA_DISABLED': 'true',
        'NO_COLOR': '1',
        'CAIRN_POLL_MIN_MS': '100',
        'CAIRN_POLL_MAX_MS': '300',
        'ASAN_OPTIONS': os.environ.get('ASAN_OPTIONS', 'detect_leaks=1'),
    }


# ---- GitHub Actions -------------------------------------------------------------

CONTEXT = {
    'vars.CAIRN_PLAN_ROLE_ARN': ROLE, 'vars.CAIRN_APPLY_ROLE_ARN': ROLE,
    'github.token': 'ghs_test', 'github.event.pull_request.number': '7',
    'github.sha': '0123456789abcdef0123456789abcdef01234567',
}


def expr(text):
    def one(m):
        key = m.group(1).strip()
        assert key in CONTEXT, f'expression not faked: {key}'
        return CONTEXT[key]
    return re.sub(r'\$\{\{(.*?)\}\}', one, str(text))


def condition(cond, steps, failed):
    """The `if:` forms the examples use: always(), failure(), success() and
    steps.ID.outputs.NAME == 'v', joined by &&."""
    if cond is None:
        return not failed
    ok = True
    saw_status = False
    for term in [t.strip() for t in str(cond).split('&&')]:
        if term == 'always()':
            saw_status = True
        elif term == 'failure()':
            saw_status = True
            ok = ok and failed
        elif term == 'success()':
            saw_status = True
            ok = ok and not failed
        else:
            m = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+) == '(.*)'", term)
            assert m, f'condition not understood: {term}'
            ok = ok and steps.get(m.group(1), {}).get(m.group(2)) == m.group(3)
    return ok and (saw_status or not failed)


def run_github(path, repo, env0, tmp_path):
    """Runs every job of the workflow; returns (job failed, outputs, summary,
    artifacts)."""
    wf = yaml.safe_load(open(path))
    results = {}
    for name, job in wf['jobs'].items():
        runner_temp = tmp_path / f'runner-{name}'
        runner_temp.mkdir(exist_ok=True)
        files = {k: runner_temp / k.lower() for k in
                 ('GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY')}
        for f in files.values():
            f.write_text('')
        env = dict(env0)
        env.update({k: expr(v) for k, v in (wf.get('env') or {}).items()})
        env.update({k: expr(v) for k, v in (job.get('env') or {}).items()})
        env.update({k: str(v) for k, v in files.items()})
        env.update({'RUNNER_TEMP': str(runner_temp), 'GITHUB_RUN_ID': '4242',
                    'GITHUB_SHA': CONTEXT['github.sha'], 'GITHUB_REPOSITORY': 'acme/infra',
                    'GITHUB_SERVER_URL': 'https://github.com', 'CI': 'true',
                    'ACTIONS_ID_TOKEN_REQUEST_TOKEN': 'request-token',
                    'ACTIONS_ID_TOKEN_REQUEST_URL': env0['FAKES'] + '/oidc?api-version=2.0',
                    'GH_STUB_DB': str(tmp_path / 'gh.json')})
        steps, failed, artifacts, ran = {}, False, [], []
        for step in job['steps']:
            if 'uses' in step:
                if step['uses'].startswith('actions/upload-artifact') and \
                        condition(step.get('if'), steps, failed):
                    artifacts.append(repo / step['with']['path'])
                continue
            if not condition(step.get('if'), steps, failed):
                continue
            senv = dict(env)
            senv.update({k: expr(v) for k, v in (step.get('env') or {}).items()})
            files['GITHUB_OUTPUT'].write_text('')
            p = subprocess.run(['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c',
                                step['run']], cwd=str(repo), env=senv, text=True,
                               capture_output=True, timeout=300)
            ran.append((step.get('name'), p.returncode, p.stdout[-3000:], p.stderr[-3000:]))
            for line in files['GITHUB_ENV'].read_text().splitlines():
                k, _, v = line.partition('=')
                env[k] = v
            outs = dict(line.split('=', 1) for line in
                        files['GITHUB_OUTPUT'].read_text().splitlines() if '=' in line)
            if step.get('id'):
                steps[step['id']] = outs
            if p.returncode != 0:
                failed = True
        results[name] = {'failed': failed, 'steps': steps, 'ran': ran,
                         'summary': files['GITHUB_STEP_SUMMARY'].read_text(),
                         'artifacts': artifacts}
    return results


def gh_db(tmp_path):
    return json.load(open(tmp_path / 'gh.json'))


def inventory(emu):
    return sorted((r['service'], r['type']) for r in live_inventory(emu)
                  if r['service'] != 's3' and r['id'] != 'cairn-ci')


def test_github_actions_workflows(emu, repo, fakes, tmp_path):
    env = dict(base_env(emu, tmp_path), FAKES=fakes)
    gh = os.path.join(CI, 'github')

    # a pull request: the plan shows what will be created; one comment
    r = run_github(os.path.join(gh, 'cairn-plan.yml'), repo, env, tmp_path)['plan']
    assert not r['failed'], r['ran']
    assert r['steps']['plan']['exitcode'] == '2'
    assert '2 to add' in r['summary'] and '```mermaid' in r['summary']
    assert [a.name for a in r['artifacts']] == ['plan.json'] and r['artifacts'][0].exists()
    assert json.load(open(r['artifacts'][0]))['format_version']
    db = gh_db(tmp_path)
    assert len(db['comments']) == 1 and '2 to add' in db['comments'][0]['body']
    assert ('GET', '/oidc?api-version=2.0&audience=sts.amazonaws.com') in Fakes.requests
    assert inventory(emu) == []                  # a plan changes nothing

    # another push to the pull request: the same comment is edited
    r = run_github(os.path.join(gh, 'cairn-plan.yml'), repo, env, tmp_path)['plan']
    assert not r['failed'], r['ran']
    db = gh_db(tmp_path)
    assert len(db['comments']) == 1
    assert any(c[:3] == ['api', '-X', 'PATCH'] for c in db['calls'])

    # merged: apply on main
    r = run_github(os.path.join(gh, 'cairn-apply.yml'), repo, env, tmp_path)['apply']
    assert not r['failed'], r['ran']
    assert r['steps']['plan']['changes'] == 'true'
    assert 'Apply exactly the saved plan' in [x[0] for x in r['ran']]
    assert inventory(emu) == [('ec2', 'vpc'), ('logs', 'log-group')]
    s3 = emu.client('s3')
    assert s3.head_object(Bucket=BUCKET, Key='web.db')['ContentLength'] > 0
    # applied again: nothing to do, the apply step is skipped
    r = run_github(os.path.join(gh, 'cairn-apply.yml'), repo, env, tmp_path)['apply']
    assert not r['failed'] and r['steps']['plan']['changes'] == 'false', r['ran']
    assert 'Apply exactly the saved plan' not in [x[0] for x in r['ran']]

    # the plan comment now says so, still one comment
    r = run_github(os.path.join(gh, 'cairn-plan.yml'), repo, env, tmp_path)['plan']
    assert r['steps']['plan']['exitcode'] == '0', r['ran']
    db = gh_db(tmp_path)
    assert len(db['comments']) == 1 and 'No changes' in db['comments'][0]['body']

    # the scheduled drift check: clean, then someone changes the log group
    r = run_github(os.path.join(gh, 'cairn-drift.yml'), repo, env, tmp_path)['drift']
    assert not r['failed'] and r['steps']['drift']['exitcode'] == '0', r['ran']
    assert gh_db(tmp_path)['issues'] == []
    logs = emu.client('logs')
    group = [g['logGroupName'] for g in logs.describe_log_groups()['logGroups']
             if g['logGroupName'].startswith('web-')][0]
    logs.put_retention_policy(logGroupName=group, retentionInDays=30)
    r = run_github(os.path.join(gh, 'cairn-drift.yml'), repo, env, tmp_path)['drift']
    assert r['failed'] and r['steps']['drift']['exitcode'] == '2', r['ran']
    issues = gh_db(tmp_path)['issues']
    assert len(issues) == 1 and 'RetentionInDays' in issues[0]['body']
    assert 'RetentionInDays' in r['summary']
    # next day, still drifted: a comment on the same issue
    run_github(os.path.join(gh, 'cairn-drift.yml'), repo, env, tmp_path)
    issues = gh_db(tmp_path)['issues']
    assert len(issues) == 1 and len(issues[0]['comments']) == 1


# ---- GitLab CI --------------------------------------------------------------------

def run_gitlab(ci, job, repo, env0, tmp_path):
    spec = ci[job]
    lines = list(ci['default'].get('before_script', [])) + list(spec['script'])
    env = dict(env0)
    env.update({k: str(v) for k, v in ci.get('variables', {}).items()})
    env.update({'CI_PROJECT_DIR': str(repo), 'CI_JOB_ID': '99', 'CI_PROJECT_ID': '1',
                'CI_MERGE_REQUEST_IID': '7', 'CI_API_V4_URL': env0['FAKES'] + '/api/v4',
                'CI_PIPELINE_SOURCE': 'merge_request_event', 'CI_DEFAULT_BRANCH': 'main',
                'CAIRN_ROLE_ARN': ROLE, 'CAIRN_GITLAB_TOKEN': 'glpat-test',
                'CAIRN_OIDC_TOKEN': fake_jwt('project_path:acme/infra:ref_type:branch:ref:main')})
    # GitLab runs the lines in one shell and stops at the first that fails
    script = 'set -eo pipefail\n' + '\n'.join(lines) + '\n'
    p = subprocess.run(['bash', '--noprofile', '--norc', '-c', script], cwd=str(repo),
                       env=env, text=True, capture_output=True, timeout=300)
    return p


def test_gitlab_ci_pipeline(emu, repo, fakes, tmp_path):
    ci = yaml.safe_load(open(os.path.join(CI, 'gitlab', '.gitlab-ci.yml')))
    assert ci['default']['id_tokens']['CAIRN_OIDC_TOKEN']['aud'] == 'sts.amazonaws.com'
    env = dict(base_env(emu, tmp_path), FAKES=fakes)
    p = run_gitlab(ci, 'plan', repo, env, tmp_path)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert len(Fakes.notes) == 1 and '2 to add' in Fakes.notes[0]['body']
    for a in ci['plan']['artifacts']['paths']:
        assert (repo / a).exists(), a
    p = run_gitlab(ci, 'plan', repo, env, tmp_path)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert len(Fakes.notes) == 1 and any(m == 'PUT' for m, _ in Fakes.requests)
    assert inventory(emu) == []
    p = run_gitlab(ci, 'apply', repo, env, tmp_path)
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert inventory(emu) == [('ec2', 'vpc'), ('logs', 'log-group')]
    p = run_gitlab(ci, 'drift', repo, env, tmp_path)
    assert p.returncode == 0 and 'No drift' in (repo / 'drift.md').read_text(), p.stderr
    logs = emu.client('logs')
    group = [g['logGroupName'] for g in logs.describe_log_groups()['logGroups']
             if g['logGroupName'].startswith('web-')][0]
    logs.put_retention_policy(logGroupName=group, retentionInDays=30)
    p = run_gitlab(ci, 'drift', repo, env, tmp_path)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert 'RetentionInDays' in (repo / 'drift.md').read_text()


# ---- systemd ----------------------------------------------------------------------

def test_systemd_drift_units(emu, repo, cairn, tmp_path):
    svc = configparser.ConfigParser(strict=False, interpolation=None)
    svc.optionxform = str
    svc.read(os.path.join(CI, 'systemd', 'cairn-drift.service'))
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(os.path.join(CI, 'systemd', 'cairn-drift.timer'))
    assert timer['Timer']['OnCalendar'] and timer['Install']['WantedBy'] == 'timers.target'
    assert svc['Service']['Type'] == 'oneshot'
    exec_start = svc['Service']['ExecStart']
    argv0, _, rest = exec_start.partition(' ')
    assert argv0 == '/bin/sh' and rest.startswith('-c ')
    script = rest[3:].strip().strip("'")
    state_dir = tmp_path / 'var-lib-cairn'
    state_dir.mkdir()
    env = dict(base_env(emu, tmp_path), STATE_DIRECTORY=str(state_dir),
               AWS_ACCESS_KEY_ID='test', AWS_SECRET_ACCESS_KEY='test', AWS_REGION='us-east-1',
               CAIRN_STATE=f's3://{BUCKET}/web.db')
    r = cairn('apply', str(repo / 'infra' / 'web.yaml'), '--auto-approve', *cairn.endpoint,
              '--state', f's3://{BUCKET}/web.db')
    assert r.rc == 0, r

    def run():
        return subprocess.run(['/bin/sh', '-c', script], cwd=str(repo), env=env, text=True,
                              capture_output=True, timeout=300)
    p = run()
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert 'No drift' in (state_dir / 'drift.md').read_text()
    logs = emu.client('logs')
    group = [g['logGroupName'] for g in logs.describe_log_groups()['logGroups']
             if g['logGroupName'].startswith('web-')][0]
    logs.put_retention_policy(logGroupName=group, retentionInDays=30)
    p = run()
    assert p.returncode == 2, (p.stdout, p.stderr)
    report = (state_dir / 'drift.md').read_text()
    assert 'RetentionInDays' in report and report in p.stdout
