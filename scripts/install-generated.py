#!/usr/bin/python3
"""meson install step: the man pages, made by the cairn just built.

cairn(1) is `cairn help --man`, cairn-CMD(1) is `cairn help --man CMD` for
every command `cairn help --commands` lists: the same text as --help, so the
two cannot disagree, and a new command gets its page without a list to
update here. Usage (from meson.add_install_script):
    install-generated.py CAIRN MANDIR
MANDIR as meson's mandir option (relative to the prefix, or absolute).
"""
import os
import subprocess
import sys


def dest_dir(mandir):
    if os.path.isabs(mandir):
        return os.environ.get("DESTDIR", "") + mandir
    return os.path.join(os.environ["MESON_INSTALL_DESTDIR_PREFIX"], mandir)


def run(cairn, *args):
    # ASan builds must not fail the install on a leak report of their own
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    return subprocess.run([cairn, *args], check=True, capture_output=True,
                          env=env).stdout


def main():
    cairn, mandir = sys.argv[1], sys.argv[2]
    if not os.path.isabs(cairn):  # meson passes a built target relative
        cairn = os.path.join(os.environ.get("MESON_BUILD_ROOT", "."), cairn)
    man1 = os.path.join(dest_dir(mandir), "man1")
    os.makedirs(man1, exist_ok=True)
    pages = {"cairn.1": run(cairn, "help", "--man")}
    for cmd in run(cairn, "help", "--commands").decode().split():
        pages[f"cairn-{cmd}.1"] = run(cairn, "help", "--man", cmd)
    for name, text in pages.items():
        path = os.path.join(man1, name)
        with open(path, "wb") as f:
            f.write(text)
        os.chmod(path, 0o644)
        if not os.environ.get("MESON_INSTALL_QUIET"):
            print(f"Installing generated {name} to {man1}")


if __name__ == "__main__":
    main()
