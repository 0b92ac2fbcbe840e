"""JupyterHub for one course on one machine (``make hub``; see docs/JUPYTERHUB.md).

* listens on 127.0.0.1 only; configurable-http-proxy from hub/node_modules;
* PAM logins of the demo Unix accounts that ``hub/setup_users.py`` made, and nobody else;
* every user's server is a LocalProcessSpawner process running as that user, from
  hub/.venv (JupyterLab, nbgrader and the course packages come from the project's .venv);
* JupyterHub groups as nbgrader's JupyterHub guide names them: ``students``,
  ``nbgrader-<course>`` and ``formgrade-<course>``;
* formgrader is a hub-managed service run as the instructor in the shared course folder,
  and only the formgrade group may open it;
* students get the Assignment List; formgrader, create-assignment and course-list are
  switched off in their servers (hub/jupyter/student).
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course_hub as hub  # noqa: E402

c = get_config()  # noqa: F821

# --- network: loopback only ---------------------------------------------------------------
c.JupyterHub.ip = hub.IP
c.JupyterHub.port = hub.PORT
c.JupyterHub.hub_ip = hub.IP
c.JupyterHub.hub_port = hub.HUB_API_PORT
c.ConfigurableHTTPProxy.api_url = f"http://{hub.IP}:{hub.PROXY_API_PORT}"
c.ConfigurableHTTPProxy.command = [str(hub.HUB_DIR / "node_modules" / ".bin" /
                                       "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(hub.STATE / "jupyterhub-proxy.pid")

# --- state --------------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{hub.STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hub.STATE / "jupyterhub_cookie_secret")

# --- who may log in -----------------------------------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False     # no login session bookkeeping for notebooks
c.Authenticator.allowed_users = set(hub.USERS)
c.Authenticator.admin_users = {hub.INSTRUCTOR}
c.JupyterHub.load_groups = {name: {"users": list(members)}
                            for name, members in hub.HUB_GROUPS.items()}

# --- servers ------------------------------------------------------------------------------
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(hub.HUB_VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120


def role_of(user):
    groups = {group.name for group in user.groups}
    return "staff" if hub.FORMGRADE_GROUP in groups else "student"


def pre_spawn_hook(spawner):
    """Students and staff differ only in which configuration folder comes first."""
    role = role_of(spawner.user)
    spawner.environment.update(hub.user_environment(role))
    if role == "staff":
        spawner.cmd = [str(hub.HUB_DIR / "staff-singleuser.sh")]


c.Spawner.pre_spawn_hook = pre_spawn_hook

# --- formgrader: a service run as the instructor, open to the formgrade group only ----------
# hub/run_hub.py starts it (JupyterHub's ten-second limit for managed services is too short
# for JupyterLab on a busy machine) and passes its token in NNFS_HUB_FORMGRADER_TOKEN.
formgrader = {
    "name": hub.FORMGRADER_SERVICE,
    "url": f"http://{hub.IP}:{hub.FORMGRADER_PORT}",
    "oauth_no_confirm": True,
    "oauth_client_id": f"service-{hub.FORMGRADER_SERVICE}",
    "oauth_redirect_uri": f"/services/{hub.FORMGRADER_SERVICE}/oauth_callback",
    "display": True,
}
if os.environ.get("NNFS_HUB_FORMGRADER_TOKEN"):
    formgrader["api_token"] = os.environ["NNFS_HUB_FORMGRADER_TOKEN"]
c.JupyterHub.services = [formgrader]
c.JupyterHub.load_roles = [
    {
        "name": f"formgrade-{hub.COURSE}",
        "description": f"open the formgrader of {hub.COURSE}",
        "scopes": [f"access:services!service={hub.FORMGRADER_SERVICE}"],
        "groups": [hub.FORMGRADE_GROUP],
    },
]
