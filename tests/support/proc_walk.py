"""A benchmark that looks for the gate's credentials where a pull request's code could: every
ancestor's /proc/<pid>/environ, cmdline and open files (fd/), and every file in the workspace (the
files the gate wrote among them). It writes what it could read, one entry per place, to
`proc-walk.json` in its working directory, and reports 1000 predictions. Standard library only:
scripts/container-test.sh runs it in the container too."""

import json
import os
import stat

LIMIT = 4 * 1024 * 1024
found: dict[str, str] = {}
unreadable: list[str] = []


def read(path: str, label: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        unreadable.append(f"{label}: {exc.strerror}")
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode) and not path.startswith("/proc/"):
            return
        found[label] = os.read(fd, LIMIT).decode("utf-8", "replace")
    except OSError as exc:
        unreadable.append(f"{label}: {exc.strerror}")
    finally:
        os.close(fd)


pid = os.getppid()
while pid > 0:  # the gate may be pid 1 (a container's entrypoint)
    for name in ("environ", "cmdline"):
        read(f"/proc/{pid}/{name}", f"{pid}/{name}")
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError as exc:
        unreadable.append(f"{pid}/fd: {exc.strerror}")
        fds = []
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/") and os.path.isfile(f"/proc/{pid}/fd/{fd}"):
            read(f"/proc/{pid}/fd/{fd}", f"{pid}/fd/{fd} -> {target}")
    try:
        with open(f"/proc/{pid}/stat") as handle:
            pid = int(handle.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        break

for folder, _dirs, files in os.walk("."):
    for name in files:
        if name != "proc-walk.json":
            read(os.path.join(folder, name), os.path.join(folder, name))

with open("proc-walk.json", "w") as handle:
    json.dump({"read": found, "unreadable": unreadable}, handle)
with open(os.environ["GREEN_GATE_METRICS"], "w") as handle:
    json.dump({"predictions": 1000}, handle)
