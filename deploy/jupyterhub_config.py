"""JupyterHub for a gan-lab course: real Unix accounts, the kit in one shared venv, the hand-out in each home.

Run as root (the hub starts each student's server as that student), from the shared venv:

    /opt/gan-lab/venv/bin/jupyterhub -f /srv/gan-lab/kit/deploy/jupyterhub_config.py

Everything site-specific is an environment variable read below; the README's "Running the course on
JupyterHub" section walks through the set-up. Students sign in with their Unix password (PAM), so
every student needs an account on this machine (useradd -m, or LDAP through SSSD on a campus server)
in the group GAN_LAB_STUDENTS_GROUP; members of GAN_LAB_INSTRUCTORS_GROUP sign in as hub admins.

Before every start of a student's server, handout_sync.py (beside this file) runs as that student:
it makes the home private (700) and copies the hand-out into ~/gan-lab, adding only files the
student does not have. The hub refuses to start when students could not run the shared venv or read
the hand-out, or when they could read the instructors' solutions folder.
"""

import asyncio
import os
import pwd
import stat
from pathlib import Path


def _setting(name, default):
    return os.environ.get(name) or default


VENV = Path(_setting("GAN_LAB_VENV", "/opt/gan-lab/venv"))              # the kit, JupyterLab, jupyterhub
HANDOUT = Path(_setting("GAN_LAB_HANDOUT", "/srv/gan-lab/handout"))     # `gan-lab release` writes it
SOLUTIONS = Path(_setting("GAN_LAB_SOLUTIONS", "/srv/gan-lab/kit/solutions"))  # checked if present
STATE = Path(_setting("GAN_LAB_HUB_STATE", "/srv/gan-lab/hub"))         # database, cookie secret
PUBLIC_URL = _setting("GAN_LAB_HUB_URL", "http://:8000")                # what browsers reach
HUB_API_URL = _setting("GAN_LAB_HUB_API_URL", "http://127.0.0.1:8081")  # the hub, for the proxy and servers
PROXY_API_URL = _setting("GAN_LAB_PROXY_API_URL", "http://127.0.0.1:8001")
PROXY = _setting("GAN_LAB_PROXY", "configurable-http-proxy")             # npm's configurable-http-proxy
SSL_CERT = _setting("GAN_LAB_SSL_CERT", "")                              # HTTPS: set both, or use a
SSL_KEY = _setting("GAN_LAB_SSL_KEY", "")                                # TLS-terminating web server
STUDENTS_GROUP = _setting("GAN_LAB_STUDENTS_GROUP", "gan-lab-students")
INSTRUCTORS_GROUP = _setting("GAN_LAB_INSTRUCTORS_GROUP", "gan-lab-instructors")
PREPARE_TIMEOUT_S = 120

SYNC_SCRIPT = Path(__file__).with_name("handout_sync.py").read_text(encoding="utf-8")


def _others_can_use(path):
    """True when a user outside the owner and group can reach `path` and read it."""
    path = Path(path)
    folders = path.parents if path.is_file() else (path, *path.parents)
    return (all(os.stat(folder).st_mode & stat.S_IXOTH for folder in folders)
            and bool(os.stat(path).st_mode & stat.S_IROTH))


def _others_shut_out(folder):
    """True when a folder on the way to `folder` (or itself) denies everyone but owner and group."""
    return any(not os.stat(step).st_mode & stat.S_IXOTH for step in (folder, *folder.parents))


def check_setup():
    """Stop the hub with one line when a student's server could not work or could read the solutions."""
    if SOLUTIONS.exists() and not _others_shut_out(SOLUTIONS):
        raise SystemExit(f"gan-lab hub: students could read the solutions in {SOLUTIONS}: "
                         f"chmod 700 (or 750 for an instructors-only group) {SOLUTIONS}")
    singleuser = VENV / "bin" / "jupyterhub-singleuser"
    python = Path(os.path.realpath(VENV / "bin" / "python"))
    if not singleuser.is_file():
        raise SystemExit(f"gan-lab hub: no {singleuser}: set GAN_LAB_VENV to the shared venv "
                         "(pip install -r requirements.txt there)")
    for path, what in ((python, "the shared venv's Python"), (singleuser, "jupyterhub-singleuser")):
        if not _others_can_use(path):
            raise SystemExit(f"gan-lab hub: students cannot run {what} ({path}): build the venv from a "
                             "Python in a folder everyone can read, e.g. /usr/bin/python3 -m venv")
    if not HANDOUT.is_dir() or not _others_can_use(HANDOUT):
        raise SystemExit(f"gan-lab hub: no hand-out that students can read at {HANDOUT}: "
                         "run `gan-lab release` into it or set GAN_LAB_HANDOUT")


async def prepare_home(spawner):
    """Before each start, as the student: home mode 700, then the hand-out's missing files into ~/gan-lab."""
    account = pwd.getpwnam(spawner.user.name)
    process = await asyncio.create_subprocess_exec(
        str(VENV / "bin" / "python"), "-I", "-c", SYNC_SCRIPT, str(HANDOUT), account.pw_dir,
        user=account.pw_uid, group=account.pw_gid, extra_groups=[], umask=0o022, cwd="/",
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), PREPARE_TIMEOUT_S)
    except asyncio.TimeoutError:
        process.kill()
        raise RuntimeError(f"preparing {account.pw_dir} took over {PREPARE_TIMEOUT_S} s") from None
    lines = output.decode("utf-8", "replace").splitlines()
    for line in lines:
        spawner.log.info("gan-lab hand-out for %s: %s", spawner.user.name, line)
    if process.returncode != 0:
        raise RuntimeError(f"could not prepare {account.pw_dir}: {' / '.join(lines[-3:])}")


check_setup()
os.makedirs(STATE, mode=0o700, exist_ok=True)
c = get_config()  # noqa: F821 (JupyterHub's config loader provides it)

c.JupyterHub.bind_url = PUBLIC_URL
c.JupyterHub.hub_bind_url = HUB_API_URL
c.ConfigurableHTTPProxy.api_url = PROXY_API_URL
c.ConfigurableHTTPProxy.command = [PROXY]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
if SSL_CERT and SSL_KEY:
    c.JupyterHub.ssl_cert = SSL_CERT
    c.JupyterHub.ssl_key = SSL_KEY

# Unix passwords through PAM; on a campus server PAM usually reaches the university's LDAP or
# Kerberos, so students use their campus login. (With a single sign-on service instead, use the
# oauthenticator package's GenericOAuthenticator and keep the local accounts.)
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {STUDENTS_GROUP, INSTRUCTORS_GROUP}
c.PAMAuthenticator.admin_groups = {INSTRUCTORS_GROUP}

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
# JupyterHub passes the hub's environment to no server: give each the venv first on PATH
# (terminals, `!pip`), the kit's Keras backend and a UTF-8 locale.
c.Spawner.environment = {
    "PATH": f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "KERAS_BACKEND": "tensorflow",
    "LANG": "C.UTF-8",
}
c.Spawner.pre_spawn_hook = prepare_home
c.Spawner.http_timeout = 60  # many students starting at once on a busy machine
