"""Create (or remove) the course hub's demo accounts, groups and shared folders.

    python hub/setup_users.py create     # idempotent; needs root
    python hub/setup_users.py remove     # `make hub-clean`

Only names in ``course_hub.USERS`` (all starting with ``nnfs-``) are ever created, and an
account is changed or removed only when its comment field carries ``course_hub.MARKER``, so
an existing account of the same name is never touched: ``create`` stops with an error
instead. Unix groups (``nbgrader-<course>``, ``formgrade-<course>``) are created when
missing and removed only if this script created them (recorded in the state folder).

``create`` also prepares what the hub needs on disk:

* the state folder (root only) and, inside it, the staff's course folder
  ``course/`` (owner: the instructor, group: ``formgrade-<course>``, mode 2770): a copy of
  the checkout's ``assignments/source`` and ``nbgrader_config.py`` and of the hidden suites
  (``autograder/hidden``), which the TA's ``autograder grade --hidden`` reads;
* nbgrader's exchange (mode 1777, like /tmp: anyone creates, only owners delete);
* the checkout's instructor-only files (hidden suites, reference sources, .git, ...) lose
  their "other" permission bits, so students on the hub cannot read them through the
  world-readable checkout that provides course_lib.
"""
import argparse
import grp
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_hub as hub  # noqa: E402

CREATED_GROUPS = "created-groups.txt"


def run(*cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def account(name):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def ours(entry):
    return entry is not None and hub.MARKER in entry.pw_gecos


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def require_root():
    if os.geteuid() != 0:
        sys.exit("setup_users.py: run as root (it creates Unix accounts and folders)")


def created_groups_file():
    return hub.STATE / CREATED_GROUPS


def create_groups():
    record = created_groups_file()
    known = set(record.read_text().split()) if record.exists() else set()
    for name in hub.UNIX_GROUPS:
        if not group_exists(name):
            run("groupadd", name)
            known.add(name)
            print(f"created group {name}")
    record.write_text("".join(f"{name}\n" for name in sorted(known)))


def create_users():
    for name in hub.USERS:
        groups = [g for g, members in hub.UNIX_GROUPS.items() if name in members]
        entry = account(name)
        if entry is not None and not ours(entry):
            sys.exit(f"setup_users.py: an account {name!r} exists and is not one of the hub's "
                     f"demo accounts (no {hub.MARKER!r} in its comment); not touching it")
        if entry is None:
            run("useradd", "--create-home", "--shell", "/bin/bash", "--comment", hub.MARKER,
                "--groups", ",".join(groups), name)
            print(f"created user {name} ({', '.join(groups)})")
        else:
            run("usermod", "--append", "--groups", ",".join(groups), name)
        home = Path(pwd.getpwnam(name).pw_dir)
        os.chmod(home, 0o700)                      # nobody reads another student's work
        run("chpasswd", input=f"{name}:{hub.PASSWORD}\n".encode())


def copy_if_missing(src, dst):
    if dst.exists():
        return
    if src.is_dir():
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", ".ipynb_checkpoints", ".pytest_cache"))
    else:
        shutil.copy2(src, dst)


def prepare_folders():
    inst = pwd.getpwnam(hub.INSTRUCTOR)
    staff_gid = grp.getgrnam(hub.FORMGRADE_GROUP).gr_gid
    course = hub.COURSE_DIR
    (course / "assignments").mkdir(parents=True, exist_ok=True)
    (course / "autograder").mkdir(exist_ok=True)
    copy_if_missing(hub.PROJECT / "assignments" / "source", course / "assignments" / "source")
    copy_if_missing(hub.PROJECT / "assignments" / "nbgrader_config.py",
                    course / "assignments" / "nbgrader_config.py")
    copy_if_missing(hub.PROJECT / "autograder" / "hidden", course / "autograder" / "hidden")
    # nbgrader's gradebook: SQLite would create it 0640 (no group write), but TAs autograde
    # into it too. An empty file is a valid new SQLite database.
    (course / "assignments" / "gradebook.db").touch(exist_ok=True)
    # Owner instructor, group formgrade-<course> (setgid on folders), nothing for others.
    for root, _dirs, files in os.walk(course):
        for name in [root, *(os.path.join(root, f) for f in files)]:
            os.lchown(name, inst.pw_uid, staff_gid)
        os.chmod(root, 0o2770)
        for f in files:
            path = os.path.join(root, f)
            os.chmod(path, 0o770 if os.stat(path).st_mode & 0o100 else 0o660)
    os.chmod(hub.STATE, 0o711)  # staff pass through to the course folder (2770); no listing

    hub.EXCHANGE.mkdir(parents=True, exist_ok=True)
    os.chmod(hub.EXCHANGE, 0o1777)
    for parent in hub.EXCHANGE.parents:
        if parent == Path("/"):
            break
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            os.chmod(parent, mode | 0o005)

    # The course's folder in the exchange belongs to the staff group (setgid), so that a TA
    # can release feedback into what the instructor's release created.
    course_exchange = hub.EXCHANGE / hub.COURSE
    course_exchange.mkdir(exist_ok=True)
    os.chown(course_exchange, inst.pw_uid, staff_gid)
    os.chmod(course_exchange, 0o2775)

    sys.path.insert(0, str(hub.PROJECT))
    from autograder.course import Course
    from autograder.sandbox.workdir import protect_instructor_files
    for path in protect_instructor_files(Course(hub.PROJECT)):
        print(f"closed to other users: {path}")


def create():
    require_root()
    hub.STATE.mkdir(parents=True, exist_ok=True)
    create_groups()
    create_users()
    prepare_folders()
    print(f"hub accounts ready: {', '.join(hub.USERS)} (password: $NNFS_HUB_PASSWORD or the "
          "documented demo password); course folder " + str(hub.COURSE_DIR))


def remove():
    require_root()
    for name in hub.USERS:
        entry = account(name)
        if entry is None:
            continue
        if not ours(entry):
            print(f"not removing {name}: not a hub demo account", file=sys.stderr)
            continue
        subprocess.run(["userdel", "--remove", name], check=False,
                       stderr=subprocess.DEVNULL)
        if account(name) is None:
            print(f"removed user {name}")
        else:
            print(f"could not remove {name} (processes still running as it?)", file=sys.stderr)
    record = created_groups_file()
    if record.exists():
        for name in record.read_text().split():
            if name in hub.UNIX_GROUPS and group_exists(name) and not grp.getgrnam(name).gr_mem:
                run("groupdel", name)
                print(f"removed group {name}")
        record.unlink()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["create", "remove"])
    args = parser.parse_args(argv)
    create() if args.action == "create" else remove()


if __name__ == "__main__":
    main()
