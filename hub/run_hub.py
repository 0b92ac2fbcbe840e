"""Start the course hub and its formgrader service; stop both on Ctrl-C or SIGTERM.

    hub/.venv/bin/python hub/run_hub.py        (what `make hub` runs, as root)

Why not let JupyterHub start formgrader itself (a "managed" service)? JupyterHub gives a
managed service about ten seconds to answer, and stops with "Cannot connect to ... service"
when it does not; a JupyterLab server with nbgrader's extensions takes longer than that on
a busy two-core machine. So formgrader is registered as an *external* service (same name,
URL, OAuth client and access role: see jupyterhub_config.py) and this launcher starts it as
the instructor, with the environment JupyterHub would give a managed service.
"""
import grp
import json
import os
import pwd
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_hub as hub  # noqa: E402

TOKEN_FILE = "formgrader-api-token"


def service_token():
    """The formgrader service's API token, made once and kept in the state folder (0600)."""
    path = hub.STATE / TOKEN_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def formgrader_environment(token):
    """Environment of the formgrader server, as for a hub-managed service."""
    user = pwd.getpwnam(hub.INSTRUCTOR)
    prefix = f"/services/{hub.FORMGRADER_SERVICE}/"
    scopes = json.dumps([f"access:services!service={hub.FORMGRADER_SERVICE}"])
    env = hub.user_environment("staff")
    env.update({
        "HOME": user.pw_dir,
        "USER": user.pw_name,
        "LOGNAME": user.pw_name,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "JUPYTERHUB_SERVICE_NAME": hub.FORMGRADER_SERVICE,
        "JUPYTERHUB_SERVICE_URL": f"http://{hub.IP}:{hub.FORMGRADER_PORT}{prefix}",
        "JUPYTERHUB_SERVICE_PREFIX": prefix,
        "JUPYTERHUB_API_TOKEN": token,
        "JUPYTERHUB_CLIENT_ID": f"service-{hub.FORMGRADER_SERVICE}",
        "JUPYTERHUB_HOST": "",
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_API_URL": f"http://{hub.IP}:{hub.HUB_API_PORT}/hub/api",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": prefix + "oauth_callback",
        "JUPYTERHUB_OAUTH_SCOPES": scopes,
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": scopes,
        "JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES": "[]",
        "JUPYTERHUB_USER": hub.INSTRUCTOR,
        "JUPYTERHUB_DEFAULT_URL": "/lab",
    })
    return env


def start_formgrader(token, log):
    user = pwd.getpwnam(hub.INSTRUCTOR)
    groups = [g.gr_gid for g in grp.getgrall() if user.pw_name in g.gr_mem]
    return subprocess.Popen(
        [str(hub.HUB_DIR / "staff-singleuser.sh"), f"--port={hub.FORMGRADER_PORT}",
         f"--ip={hub.IP}"],
        cwd=hub.NBGRADER_ROOT, env=formgrader_environment(token), user=user.pw_uid,
        group=user.pw_gid, extra_groups=groups, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)


def start_hub(token):
    env = dict(os.environ, NNFS_HUB_FORMGRADER_TOKEN=token, NNFS_HUB_STATE=str(hub.STATE))
    return subprocess.Popen(
        [str(hub.HUB_VENV / "bin" / "jupyterhub"), "-f", str(hub.HUB_DIR / "jupyterhub_config.py")],
        cwd=hub.STATE, env=env, start_new_session=True)


def stop(proc, name, grace=20):
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)   # the process group this launcher made
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        print(f"run_hub: {name} did not stop; killing it", file=sys.stderr)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main():
    if os.geteuid() != 0:
        sys.exit("run_hub.py: run as root (JupyterHub starts servers as the users' accounts)")
    hub.STATE.mkdir(parents=True, exist_ok=True)
    # The hub's database and the service's log are root's alone (SQLite keeps the mode of a
    # file that exists, even an empty one).
    for name in ("jupyterhub.sqlite", "formgrader.log"):
        os.close(os.open(hub.STATE / name, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(hub.STATE / name, 0o600)
    token = service_token()
    log_path = hub.STATE / "formgrader.log"
    with open(log_path, "ab") as log:
        formgrader = start_formgrader(token, log)
    print(f"run_hub: formgrader service (pid {formgrader.pid}) as {hub.INSTRUCTOR}, log {log_path}")
    jhub = start_hub(token)
    print(f"run_hub: JupyterHub (pid {jhub.pid}) at http://{hub.IP}:{hub.PORT}/", flush=True)

    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    status = 0
    try:
        while not stopping:
            if jhub.poll() is not None:
                status = jhub.returncode or 1
                print(f"run_hub: JupyterHub exited with status {jhub.returncode}", file=sys.stderr)
                break
            if formgrader.poll() is not None:
                print(f"run_hub: formgrader exited ({formgrader.returncode}); restarting it, "
                      f"see {log_path}", file=sys.stderr)
                time.sleep(2)
                with open(log_path, "ab") as log:
                    formgrader = start_formgrader(token, log)
            time.sleep(0.5)
    finally:
        # The hub stops the user servers it started (LocalProcessSpawner) on its way out.
        stop(jhub, "JupyterHub", grace=60)
        stop(formgrader, "formgrader")
    sys.exit(status)


if __name__ == "__main__":
    main()
