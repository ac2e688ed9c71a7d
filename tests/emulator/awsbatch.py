#!/usr/bin/python3
"""Runs many Debian aws CLI command lines in one Python process: /usr/bin/aws
costs ~1 s of start-up per process and the suite must stay fast.

stdin: JSON {"endpoint": URL, "commands": [[arg, ...], ...]}
stdout: JSON [{"rc": int, "stdout": str, "stderr": str}, ...]

Each command line goes through the same entry point as /usr/bin/aws
(awscli.clidriver, Debian's package), with one driver reused for all
commands (a fresh driver per command costs ~0.15 s more each).
"""
import contextlib
import io
import json
import os
import sys


def main():
    req = json.load(sys.stdin)
    if os.environ.get('LC_CTYPE', '') == 'UTF-8':       # as /usr/bin/aws does
        os.environ['LC_CTYPE'] = 'en_US.UTF-8'
    import awscli.clidriver
    real_stdout = sys.stdout
    driver = awscli.clidriver.create_clidriver()
    results = []
    for args in req['commands']:
        out, err = io.StringIO(), io.StringIO()
        argv = ['--endpoint-url', req['endpoint'], '--output', 'json', *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = driver.main(argv)
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except Exception as e:   # the CLI itself crashed: report, keep going
                rc = 255
                err.write(f'{type(e).__name__}: {e}')
        results.append({'rc': rc, 'stdout': out.getvalue(), 'stderr': err.getvalue()})
    real_stdout.write(json.dumps(results))


if __name__ == '__main__':
    main()
