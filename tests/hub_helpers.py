"""A real JupyterHub for tests: throwaway Unix users, the hub process, its REST API, kernels over websockets."""

import asyncio
import json
import os
import pwd
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

NOBODY = 65534


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def runs_for_others(python):
    """True when an unprivileged user (nobody) runs `python` and gets that very interpreter.

    A venv's python is a link to its base interpreter; when that lives in a folder others cannot
    read (pyenv under /root), another user gets an error, or on some machines another Python.
    """
    probe = "import sys; print(sys.version, sys.base_prefix)"
    own = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    try:
        theirs = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd="/",
                                user=NOBODY, group=NOBODY, extra_groups=[], timeout=60)
    except OSError:
        return False
    return theirs.returncode == 0 and theirs.stdout == own.stdout


def create_user(name, home):
    """Create Unix user `name` with its home at `home`, mode 755 as `useradd -m` leaves it on Debian."""
    created = subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", name],
                             capture_output=True, text=True)
    if created.returncode != 0:
        raise HubError(f"useradd {name} failed: {created.stderr.strip()}")
    os.chmod(home, 0o755)  # whatever login.defs says, so that the spawn hook has to fix it
    return pwd.getpwnam(name)


def _processes_of(uid):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def remove_user(name):
    """Kill what user `name` still runs (by process id), then remove the user, its group and its home."""
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    for pid in _processes_of(uid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    subprocess.run(["userdel", "--remove", "--force", name], capture_output=True)


class HubError(AssertionError):
    """The hub or a server did not do what the test needed; the message ends with the hub's log."""


class Hub:
    """A JupyterHub process started from a config file, driven through its REST API."""

    def __init__(self, jupyterhub, config, state, url, env):
        self.command = [str(jupyterhub), "-f", str(config)]
        self.state, self.url, self.env = Path(state), url.rstrip("/"), env
        self.log_path = self.state / "hub.log"
        self.process = None
        self.admin_token = env["GAN_LAB_TEST_HUB_TOKEN"]

    def log_tail(self, lines=60):
        """The last lines of the hub's log (the servers' output is in it too)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no hub log)"

    def fail(self, message):
        """Raise HubError with `message` and the tail of the hub's log."""
        raise HubError(f"{message}\n--- hub log (last lines) ---\n{self.log_tail()}")

    def start(self, timeout=60):
        """Start the hub and wait until its API answers."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=self.state, env=self.env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail(f"the hub exited with code {self.process.returncode} while starting")
            try:
                if requests.get(f"{self.url}/hub/api/", timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.fail(f"the hub did not answer within {timeout} s")

    def stop(self, timeout=30):
        """Stop the hub (it stops the servers and the proxy); kill its process group if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def api(self, method, path, token=None, expect=(200, 201, 202, 204), **kwargs):
        """Call the hub's REST API (path below /hub/api) with a token (default: the test's admin service)."""
        response = requests.request(method, f"{self.url}/hub/api{path}", timeout=30,
                                    headers={"Authorization": f"token {token or self.admin_token}"}, **kwargs)
        if response.status_code not in expect:
            self.fail(f"{method} /hub/api{path} answered {response.status_code}: {response.text[:500]}")
        return response

    def log_in(self, name):
        """Create user `name` in the hub (if new) and return an API token of theirs, as a login would."""
        self.api("POST", f"/users/{name}", expect=(201, 409))  # allowed_users are created at start
        return self.api("POST", f"/users/{name}/tokens", json={"note": "gan-lab test"}).json()["token"]

    def start_servers(self, tokens, timeout=90):
        """Start each user's server with their own token ({name: token}) and wait until all are ready."""
        for name, token in tokens.items():
            self.api("POST", f"/users/{name}/server", token=token)
        waiting, deadline = set(tokens), time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            for name in sorted(waiting):
                server = self.api("GET", f"/users/{name}").json().get("servers", {}).get("")
                if not server:
                    self.fail(f"{name}'s server stopped while starting")
                if server.get("ready"):
                    waiting.discard(name)
            time.sleep(0.3)
        if waiting:
            self.fail(f"servers not ready within {timeout} s: {', '.join(sorted(waiting))}")

    def stop_servers(self, names, timeout=60):
        """Stop the users' servers and wait until the hub has none for them."""
        for name in names:
            self.api("DELETE", f"/users/{name}/server")
        waiting, deadline = set(names), time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            waiting = {name for name in waiting if self.api("GET", f"/users/{name}").json().get("servers")}
            time.sleep(0.3)
        if waiting:
            self.fail(f"servers still running after {timeout} s: {', '.join(sorted(waiting))}")

    def server(self, method, name, path, token, expect=(200, 201, 204), **kwargs):
        """Call user `name`'s single-user server (path below /user/NAME/api) through the proxy."""
        response = requests.request(method, f"{self.url}/user/{name}/api{path}", timeout=60,
                                    headers={"Authorization": f"token {token}"}, allow_redirects=False,
                                    **kwargs)
        if response.status_code not in expect:
            self.fail(f"{method} /user/{name}/api{path} answered {response.status_code}: {response.text[:500]}")
        return response

    def save_notebook(self, name, token, path, notebook):
        """Save a notebook (a dict) into the user's home through the contents API, as JupyterLab does."""
        self.server("PUT", name, f"/contents/{path}", token,
                    json={"type": "notebook", "format": "json", "content": notebook})

    def kernel(self, name, token):
        """Start a Python kernel in the user's server and return a Kernel to run code in it."""
        kernel_id = self.server("POST", name, "/kernels", token, json={"name": "python3"}).json()["id"]
        ws_url = self.url.replace("http", "ws", 1)
        return Kernel(f"{ws_url}/user/{name}/api/kernels/{kernel_id}/channels", token)


@dataclass
class Outcome:
    """What a cell did: its text output, and the error's 'Name: value' or None."""

    text: str
    error: str | None


class Kernel:
    """A kernel of a single-user server, reached over its websocket with the user's token."""

    def __init__(self, url, token):
        self.url, self.token, self.session = url, token, uuid.uuid4().hex

    def run(self, code, timeout=120):
        """Execute `code` and return its Outcome."""
        try:
            return asyncio.run(asyncio.wait_for(self._run(code), timeout))
        except asyncio.TimeoutError:
            raise HubError(f"the kernel did not finish within {timeout} s: {code[:200]}") from None

    def _message(self, code):
        header = {"msg_id": uuid.uuid4().hex, "msg_type": "execute_request", "session": self.session,
                  "username": "gan-lab-test", "date": "", "version": "5.3"}
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": True}
        return {"header": header, "parent_header": {}, "metadata": {}, "content": content,
                "channel": "shell", "buffers": []}

    async def _run(self, code):
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        request = HTTPRequest(f"{self.url}?session_id={self.session}",
                              headers={"Authorization": f"token {self.token}"})
        connection = await websocket_connect(request)
        try:
            message = self._message(code)
            await connection.write_message(json.dumps(message))
            text, error = [], None
            while True:
                raw = await connection.read_message()
                if raw is None:
                    raise HubError(f"the kernel's websocket closed while running: {code[:200]}")
                reply = json.loads(raw)
                if reply.get("parent_header", {}).get("msg_id") != message["header"]["msg_id"]:
                    continue
                kind, content = reply["msg_type"], reply["content"]
                if kind == "stream":
                    text.append(content["text"])
                elif kind in ("execute_result", "display_data"):
                    text.append(content["data"].get("text/plain", ""))
                elif kind == "error":
                    error = f"{content['ename']}: {content['evalue']}"
                elif kind == "status" and content["execution_state"] == "idle":
                    return Outcome("".join(text), error)
        finally:
            connection.close()
