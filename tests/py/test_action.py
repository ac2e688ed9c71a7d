"""action.yml, the composite GitHub Action, run here as a runner would run it.

A small runner reads action.yml (YAML), evaluates each step's `if:` and the
`${{ ... }}` expressions the action uses, and runs the bash steps with
GitHub's invocation (bash --noprofile --norc -eo pipefail), applying
GITHUB_ENV / GITHUB_PATH / GITHUB_OUTPUT between steps. Both install paths
run for real: the build from the checkout (a release build in a temporary
directory), and the release tarball (made from this build's `meson install`,
served as a file:// URL with its SHA256SUMS).
"""
import hashlib
import os
import platform
import re
import subprocess
import tarfile

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
ACTION = os.path.join(TOP, "action.yml")


def build_dir():
    cairn = os.environ.get("CAIRN", os.path.join(TOP, "build", "cairn"))
    return os.path.dirname(os.path.abspath(cairn))


def load():
    with open(ACTION) as f:
        return yaml.safe_load(f)


def expr(text, ctx):
    """${{ a.b }} and ${{ a.b != '' }} / == '' as the runner evaluates them."""
    def value(path):
        cur = ctx
        for part in path.split("."):
            cur = cur.get(part, "") if isinstance(cur, dict) else ""
        return cur

    def one(e):
        e = e.strip()
        m = re.fullmatch(r"([\w.-]+)\s*(==|!=)\s*''", e)
        if m:
            empty = value(m.group(1)) == ""
            return empty if m.group(2) == "==" else not empty
        assert re.fullmatch(r"[\w.-]+", e), f"expression the test runner cannot evaluate: {e}"
        return value(e)

    if isinstance(text, str) and "${{" not in text and text.strip() and \
            re.fullmatch(r"[\w.-]+\s*(==|!=)\s*''", text.strip()):
        return one(text)  # a bare `if:` condition
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: str(one(m.group(1))), str(text))


def read_kv(path):
    out = {}
    if os.path.exists(path):
        for line in open(path).read().splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
    return out


def run_action(inputs, tmp, cwd=TOP):
    action = load()
    defaults = {k: v.get("default", "") for k, v in action["inputs"].items()}
    ctx = {"inputs": {**defaults, **inputs},
           "github": {"action_path": TOP, "action_repository": ""},
           "steps": {}}
    env = dict(os.environ, RUNNER_TEMP=str(tmp), ASAN_OPTIONS="detect_leaks=0")
    files = {k: os.path.join(tmp, k.lower()) for k in ("GITHUB_ENV", "GITHUB_PATH")}
    results = []
    for i, step in enumerate(action["runs"]["steps"]):
        cond = step.get("if")
        if cond is not None and not expr(cond, ctx):
            results.append(None)
            continue
        assert step["shell"] == "bash"
        out = os.path.join(tmp, f"out{i}")
        open(out, "w").close()
        senv = dict(env, GITHUB_OUTPUT=out, **files)
        senv.update({k: expr(v, ctx) for k, v in step.get("env", {}).items()})
        script = os.path.join(tmp, f"step{i}.sh")
        with open(script, "w") as f:
            f.write(expr(step["run"], ctx))
        wd = os.path.join(cwd, expr(step.get("working-directory", "."), ctx))
        p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
                           cwd=wd, env=senv, capture_output=True, text=True, timeout=1800)
        results.append(p)
        if "id" in step:
            ctx["steps"][step["id"]] = {"outputs": read_kv(out)}
        if p.returncode != 0:
            return results, ctx
        env.update(read_kv(files["GITHUB_ENV"]))
        if os.path.exists(files["GITHUB_PATH"]):
            for d in open(files["GITHUB_PATH"]).read().split():
                env["PATH"] = d + os.pathsep + env["PATH"]
    return results, ctx


def test_action_shape():
    a = load()
    assert a["runs"]["using"] == "composite"
    assert {"version", "command"} <= set(a["inputs"])
    assert {"version", "exit-code"} <= set(a["outputs"])
    for s in a["runs"]["steps"]:
        assert s["shell"] == "bash" and s["run"].strip()


def tarball(tmp):
    """A release tarball and SHA256SUMS, as scripts/release lays them out,
    from this build's install tree."""
    dest = tmp / "dest"
    subprocess.run(["meson", "install", "-C", build_dir(), "--no-rebuild", "--quiet",
                    "--destdir", str(dest)], check=True, capture_output=True)
    prefix = subprocess.run(["meson", "introspect", "--buildoptions", build_dir()],
                            check=True, capture_output=True, text=True).stdout
    prefix = [o for o in yaml.safe_load(prefix) if o["name"] == "prefix"][0]["value"]
    arch = {"x86_64": "amd64", "aarch64": "arm64"}[platform.machine()]
    name = f"cairn-9.9.9-linux-{arch}"
    rel = tmp / "rel"
    rel.mkdir()
    with tarfile.open(rel / f"{name}.tar.gz", "w:gz") as t:
        t.add(str(dest) + prefix, arcname=name)
    digest = hashlib.sha256((rel / f"{name}.tar.gz").read_bytes()).hexdigest()
    (rel / "SHA256SUMS").write_text(f"{digest}  {name}.tar.gz\n")
    return rel, name


def test_release_path(tmp_path):
    rel, name = tarball(tmp_path)
    res, ctx = run_action({"version": "9.9.9",
                           "release-url": f"file://{rel}/cairn-{{version}}-linux-{{arch}}.tar.gz",
                           "command": "validate examples/vpc.yaml"}, tmp_path)
    assert res[1] is None  # the build step did not run
    for r in res:
        assert r is None or r.returncode == 0, (r.stdout, r.stderr)
    assert os.path.exists(tmp_path / "cairn" / "bin" / "cairn")
    assert os.path.exists(tmp_path / "cairn" / "share" / "man" / "man1" / "cairn-plan.1")
    assert ctx["steps"]["done"]["outputs"]["version"].startswith("cairn ")
    assert "vpc.yaml: valid" in res[3].stdout
    assert ctx["steps"]["run"]["outputs"]["exit-code"] == "0"


def test_release_checksum_mismatch(tmp_path):
    rel, name = tarball(tmp_path)
    (rel / "SHA256SUMS").write_text(f"{'0' * 64}  {name}.tar.gz\n")
    res, _ = run_action({"version": "9.9.9",
                         "release-url": f"file://{rel}/cairn-{{version}}-linux-{{arch}}.tar.gz"},
                        tmp_path)
    assert res[0].returncode != 0
    assert not os.path.exists(tmp_path / "cairn" / "bin" / "cairn")


def test_command_failure_is_the_step_failure(tmp_path):
    rel, _ = tarball(tmp_path)
    res, ctx = run_action({"version": "9.9.9",
                           "release-url": f"file://{rel}/cairn-{{version}}-linux-{{arch}}.tar.gz",
                           "command": "validate 'no such.yaml'"}, tmp_path)
    assert res[3].returncode == 1
    assert "no such.yaml" in res[3].stderr  # one argument, quotes honoured
    assert ctx["steps"]["run"]["outputs"]["exit-code"] == "1"


@pytest.mark.skipif(os.environ.get("CAIRN_SKIP_SLOW") == "1", reason="CAIRN_SKIP_SLOW=1")
def test_build_path(tmp_path):
    """No version: builds cairn from the checkout (a release build), installs
    it under RUNNER_TEMP and runs the command with it."""
    res, ctx = run_action({"command": "validate stacks/prefect-ecs-worker.yaml"}, tmp_path)
    assert res[0] is None  # no download
    for r in res:
        assert r is None or r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    installed = tmp_path / "cairn" / "bin" / "cairn"
    assert installed.exists()
    v = subprocess.run([str(installed), "--version"], capture_output=True, text=True).stdout
    assert v == ctx["steps"]["done"]["outputs"]["version"] + "\n"
    assert "prefect-ecs-worker.yaml: valid" in res[3].stdout


def test_ci_examples_use_the_action():
    """The GitHub workflows of examples/ci install cairn with this action,
    and give it only inputs it has."""
    inputs = set(load()["inputs"])
    folder = os.path.join(TOP, "examples", "ci", "github")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".yml"):
            continue
        wf = yaml.safe_load(open(os.path.join(folder, name)))
        steps = [s for job in wf["jobs"].values() for s in job["steps"]
                 if re.fullmatch(r"[\w.-]+/cairn@[\w.-]+", s.get("uses", ""))]
        assert steps, f"{name} does not install cairn with the action"
        for s in steps:
            assert set(s.get("with", {})) <= inputs, (name, s)
