"""Runs first inside a grading sandbox: become the student's unprivileged uid, set limits, start the kernel.

    python -m gan_lab.grading.launch --uid U --memory BYTES --processes N --cpu SECONDS \
        --file-size BYTES -- python -m ipykernel_launcher -f kernel.json

bwrap starts it as root when the grader runs as root (a user namespace would leave the kernel root
outside the sandbox, where the process limit does not apply), so it drops to the given uid itself
before anything of the student's runs. Under an unprivileged grader bwrap has already mapped the
kernel to an unprivileged uid, and only the limits are set.
"""

import argparse
import os
import resource
import shutil
import sys


def set_limits(memory, processes, cpu, file_size):
    """Cap address space, processes (per uid), CPU seconds and the size of any file written."""
    for limit, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_NPROC, processes),
                         (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, file_size),
                         (resource.RLIMIT_CORE, 0)):
        hard = resource.getrlimit(limit)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(limit, (value, value))


def make_home(uid):
    """Copy the grader's seed files (matplotlib's font cache) into the empty home and give it to `uid`."""
    home, seed = os.environ["HOME"], os.environ.get("GAN_LAB_HOME_SEED", "")
    if os.path.isdir(seed):
        shutil.copytree(seed, home, dirs_exist_ok=True)
    if os.geteuid() == 0:
        for folder, names, files in os.walk(home):
            for name in [folder, *(os.path.join(folder, entry) for entry in names + files)]:
                os.chown(name, uid, uid)


def drop_to(uid):
    """Become `uid` (and the same gid) with no supplementary groups; root's capabilities go with it."""
    if os.geteuid() != 0:
        return
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() == 0 or os.getuid() == 0:
        raise SystemExit("gan-lab grade: the kernel could not leave root; refusing to run it")


def main(argv=None):
    """Parse the arguments, drop privileges, set the limits and exec the kernel command."""
    parser = argparse.ArgumentParser(prog="gan_lab.grading.launch")
    for name in ("--uid", "--memory", "--processes", "--cpu", "--file-size"):
        parser.add_argument(name, type=int, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    make_home(args.uid)
    drop_to(args.uid)
    set_limits(args.memory, args.processes, args.cpu, args.file_size)
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
