"""The grading sandbox (gan_lab.grading.sandbox and .launch) with the real bubblewrap: what a kernel sees.

Each test starts real sandboxes; CI installs bubblewrap, so none of these may be skipped there.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gan_lab.grading.sandbox import (
    HOME, UID_BASE, Limits, Sandbox, SandboxError, check_sandbox, exposed, python_roots, start_kernel,
)

KIT = Path(__file__).resolve().parent.parent
PROBE = r"""
import errno, json, os, resource, socket, sys
udp_port, tcp_port, grader, secret = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
seen = {"uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(), "root": sorted(os.listdir("/")),
        "pids": sorted(int(name) for name in os.listdir("/proc") if name.isdigit())}
def attempt(name, action):
    try:
        seen[name] = ["allowed", action()]
    except BaseException as error:
        seen[name] = ["refused", type(error).__name__]
attempt("read_secret", lambda: open(secret).read())
package = os.path.dirname(os.path.abspath(__import__("gan_lab").__file__))
attempt("list_kit_root", lambda: os.listdir(os.path.dirname(package)))
attempt("write_kit", lambda: open(os.path.join(package, "x.py"), "w").write("x"))
attempt("write_home", lambda: open("mine.txt", "w").write("ok"))
attempt("write_tmp", lambda: open("/tmp/mine.txt", "w").write("ok"))
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", udp_port)))
attempt("tcp", lambda: socket.create_connection(("127.0.0.1", tcp_port), timeout=2).close())
attempt("kill_grader", lambda: os.kill(grader, 0))
attempt("big_file", lambda: open("big.bin", "wb").write(b"x" * (8 * 2**20)))
attempt("memory", lambda: len(bytearray(600 * 2**20)))
def spawn_many():
    children = []
    for _ in range(40):
        pid = os.fork()
        if pid == 0:
            import time; time.sleep(3); os._exit(0)
        children.append(pid)
    return len(children)
attempt("fork_many", spawn_many)
seen["limits"] = [resource.getrlimit(limit)[0] for limit in
                  (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_CPU, resource.RLIMIT_FSIZE)]
print(json.dumps(seen))
"""
LIMITS = Limits(memory=2 * 2**30, processes=24, cpu=60, file_size=4 * 2**20, scratch=64 * 2**20)


def _uids_running(uid):
    """Pids of processes whose real uid is `uid`."""
    found = []
    for name in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{name}/status").read_text()
        except OSError:
            continue
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        if int(uid_line.split()[1]) == uid:
            found.append(int(name))
    return found


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    root = tmp_path_factory.mktemp("sandbox")
    secret = root / "secret.txt"
    secret.write_text("the answers")
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(0.5)
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(1)
    tcp.settimeout(0.5)
    sandbox = Sandbox(str(root / "kernel"), UID_BASE + 901, LIMITS)
    sandbox.prepare()
    ports = [str(udp.getsockname()[1]), str(tcp.getsockname()[1]), str(os.getpid()), str(secret)]
    run = subprocess.run(sandbox.command([sys.executable, "-c", PROBE, *ports]), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    received = []
    for listener in (udp, tcp):
        try:
            received.append(listener.recvfrom(10) if listener is udp else listener.accept())
        except OSError:
            pass
    udp.close()
    tcp.close()
    return json.loads(run.stdout.strip().splitlines()[-1]), received, root


def test_the_kernel_runs_as_its_own_unprivileged_uid_in_a_fresh_home(probe):
    seen, _, _ = probe
    assert seen["uid"] == seen["gid"] == UID_BASE + 901
    assert seen["cwd"] == HOME and seen["write_home"] == ["allowed", 2] and seen["write_tmp"] == ["allowed", 2]


def test_only_the_system_python_and_kit_package_are_visible(probe):
    seen, _, root = probe
    assert set(seen["root"]) <= {"bin", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "opt", "proc",
                                 "root", "sbin", "tmp", "usr", "work"} | {Path(p).parts[1] for p in python_roots()}
    assert seen["read_secret"] == ["refused", "FileNotFoundError"]  # the host's /tmp is not there at all
    assert seen["list_kit_root"][0] == "allowed" and seen["list_kit_root"][1] == ["gan_lab"]  # no solutions/
    assert seen["write_kit"] == ["refused", "OSError"]  # read-only
    assert (root / "secret.txt").read_text() == "the answers"


def test_the_network_and_the_host_s_processes_are_out_of_reach(probe):
    seen, received, _ = probe
    assert received == []  # neither the UDP datagram nor the TCP connection reached the host's listeners
    assert seen["tcp"][0] == "refused"
    assert seen["kill_grader"] == ["refused", "ProcessLookupError"]
    assert max(seen["pids"]) < 100  # a pid namespace of its own: only its few processes


def test_memory_processes_cpu_and_file_sizes_are_limited(probe):
    seen, _, _ = probe
    assert seen["limits"] == [LIMITS.memory, LIMITS.processes, LIMITS.cpu, LIMITS.file_size]
    assert seen["big_file"] == ["refused", "OSError"]  # over the 4 MiB file size limit
    assert seen["fork_many"] == ["refused", "BlockingIOError"]  # 40 processes over a limit of 24
    assert seen["memory"][0] == "allowed"  # 600 MB fits under 2 GiB of address space...


def test_a_kernel_cannot_touch_more_memory_than_its_limit(tmp_path):
    sandbox = Sandbox(str(tmp_path / "kernel"), UID_BASE + 902, LIMITS)
    sandbox.prepare()
    run = subprocess.run(sandbox.command([sys.executable, "-c", "bytearray(3 * 2**30)"]), capture_output=True,
                         text=True, timeout=120)
    assert run.returncode != 0 and "MemoryError" in run.stderr  # ...3 GiB does not


def test_nothing_started_inside_outlives_the_sandbox(tmp_path):
    sandbox = Sandbox(str(tmp_path / "kernel"), UID_BASE + 903, LIMITS)
    sandbox.prepare()
    detach = ("import os, subprocess, time\n"
              "subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
              "if os.fork() == 0:\n    os.setsid()\n    time.sleep(300)\n"
              "time.sleep(300)\n")
    process = subprocess.Popen(sandbox.command([sys.executable, "-c", detach]))
    deadline = time.monotonic() + 30
    while len(_uids_running(UID_BASE + 903)) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_uids_running(UID_BASE + 903)) >= 3
    process.kill()  # what the grader does to a kernel's bwrap
    process.wait()
    deadline = time.monotonic() + 10
    while _uids_running(UID_BASE + 903) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _uids_running(UID_BASE + 903) == []


def test_a_sandboxed_kernel_runs_code_over_unix_sockets_cannot_write_beside_them_and_can_be_interrupted(tmp_path):
    sandbox = Sandbox(str(tmp_path / "kernel"), UID_BASE + 904)
    manager, client = start_kernel(sandbox, startup_timeout=60)
    try:
        printed = []
        probe = (f"import os\nprint(os.getuid(), os.getcwd())\ntry:\n    open({sandbox.folder!r} + '/fill', 'w')\n"
                 "except OSError as error:\n    print(type(error).__name__)")
        client.execute_interactive(probe, timeout=30,
                                   output_hook=lambda msg: printed.append(msg["content"].get("text", "")))
        assert "".join(printed).split() == [str(UID_BASE + 904), HOME, "PermissionError"]
        connection = json.loads(Path(manager.connection_file).read_text())
        assert manager.transport == connection["transport"] == "ipc"
        msg_id = client.execute("import time\ntime.sleep(60)")
        time.sleep(1)
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=20)
        assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["ename"] == "KeyboardInterrupt"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert _uids_running(UID_BASE + 904) == []


def test_the_bound_folders_hold_no_private_path_and_exposed_names_those_that_would():
    roots = python_roots()
    assert str(KIT / "gan_lab") in roots or any(str(KIT / "gan_lab").startswith(r + os.sep) for r in roots)
    assert not any(str(KIT / name) == r or str(KIT / name).startswith(r + os.sep) for r in roots
                   for name in ("solutions", "labs", "tests"))
    assert exposed([KIT / "solutions", KIT]) == []  # the kit root holds the package but only it is bound
    assert exposed([Path(sys.prefix) / "solutions"]) == [Path(sys.prefix) / "solutions"]


def test_the_sandbox_check_passes_here_and_fails_in_one_line_without_bwrap(tmp_path, monkeypatch):
    check_sandbox(tmp_path / "probe")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError) as caught:
        check_sandbox(tmp_path / "probe2")
    message = str(caught.value)
    assert "bwrap (bubblewrap) is not installed" in message and "apt-get install bubblewrap" in message
    assert "--no-sandbox" in message and "\n" not in message


def test_a_kernel_cannot_send_the_grader_a_message_over_the_size_limit(tmp_path):
    sandbox = Sandbox(str(tmp_path / "kernel"), UID_BASE + 905)
    manager, client = start_kernel(sandbox, startup_timeout=60)
    try:
        client.execute("print('x' * (40 * 2**20))")  # one 40 MiB stream message
        received = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                message = client.get_iopub_msg(timeout=1)
            except Exception:  # noqa: BLE001 - queue.Empty: nothing more came
                continue
            received.append(len(message["content"].get("text", "")))
        assert received and max(received) == 0  # status messages only: the big one never arrived
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
