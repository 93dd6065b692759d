#!/usr/bin/env bash
# The container action as the runner runs it: build the image from this checkout's Dockerfile and
# `docker run` it with the runner's mounts and variables, then check what a workflow relies on.
#
#   baseline   a first run of a small benchmark, recorded          exit 0, verdict=pass
#   over       an absolute budget of 1e-9 kWh, which any run beats exit 1, verdict=fail
#   bad        repeats: 0                                         exit 2, the summary says why
# and for each: the `verdict=` line in GITHUB_OUTPUT, a non-empty step summary, a planted token
# never in the log in clear, and every file in the workspace still owned by the workspace's owner.
#
# Needs root, Debian's docker.io (installed when missing) and a dockerd this script starts itself:
# no bridge, no iptables, its own data root (on a tmpfs where memory allows) and socket in a temp dir,
# stopped on exit. No image registry is assumed: the base image is a python:3.11-slim stand-in made
# with debootstrap, cached under ~/.cache/green-gate/ between runs. Where any of that is impossible
# it says why and exits 0 (a skip); a failed check exits 1.
#
# usage: bash scripts/container-test.sh     (.ci/run runs it last)
#   GREEN_GATE_CONTAINER_CACHE   where the stand-in base is kept (default ~/.cache/green-gate/container)
#   GREEN_GATE_CONTAINER_TMPFS   0: keep dockerd's data root on disk even where memory would hold it
#   KEEP=1                       keep the temp dir (logs, workspace) and say where
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

say() { printf 'container-test: %s\n' "$*" >&2; }
skip() { say "SKIP: $*"; exit 0; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)

[ "$(id -u)" = 0 ] || skip "not root (apt-get, dockerd and debootstrap need it)"
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || skip "no apt-get to install ${need[*]}"
    say "installing ${need[*]} (Debian packages)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${need[@]}"; } >/dev/null 2>&1 || skip "apt-get could not install ${need[*]}"
fi
# Debian's docker.io puts its client in /usr/bin; prefer it, it matches the daemon.
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || skip "no docker client"
PY=$(command -v python3)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/green-gate-container.XXXXXX")
DOCKERD_PID=
RAM=            # the tmpfs holding dockerd's data root, when there is one
DATA_ROOT=$TMP/docker-root
cleanup() {
    local status=$?
    set +e
    if [ -n "$DOCKERD_PID" ]; then
        kill -TERM "$DOCKERD_PID" 2>/dev/null
        for _ in $(seq 1 40); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$DOCKERD_PID" 2>/dev/null && kill -KILL "$DOCKERD_PID" 2>/dev/null
        wait "$DOCKERD_PID" 2>/dev/null
    fi
    local t_clean
    t_clean=$(now)
    # Mounts the daemon may leave under its own directories, deepest first; the data root's tmpfs, if
    # any, last: unmounting it frees the image's files at once.
    awk -v p="$TMP/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
    done
    if [ "${KEEP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    say "cleaned up in $(secs "$t_clean") s"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- dockerd of our own ---------------------------------------------------------------------------
export DOCKER_HOST="unix://$TMP/docker.sock" DOCKER_BUILDKIT=0   # the classic builder: no buildx here
start_dockerd() {  # $@: extra flags; 0 once it answers
    rm -rf "$DATA_ROOT" "$TMP/docker-exec"
    dockerd --data-root "$DATA_ROOT" --exec-root "$TMP/docker-exec" --pidfile "$TMP/dockerd.pid" \
        -H "$DOCKER_HOST" --bridge=none --iptables=false --ip-masq=false "$@" >>"$TMP/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 1 60); do
        kill -0 "$DOCKERD_PID" 2>/dev/null || { wait "$DOCKERD_PID" 2>/dev/null || true; DOCKERD_PID=; return 1; }
        "$DOCKER" info >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    kill -TERM "$DOCKERD_PID" 2>/dev/null || true; wait "$DOCKERD_PID" 2>/dev/null || true; DOCKERD_PID=
    return 1
}
# The data root on a tmpfs where memory allows (GREEN_GATE_CONTAINER_TMPFS=0: never): deleting the
# image's tens of thousands of files from disk took about 1.5 min at the end, unmounting takes none.
# overlay2 only: vfs copies every layer whole, too much for memory; where overlay2 cannot run on the
# tmpfs, dockerd runs on disk as before.
TMPFS_SIZE_GB=4
start_dockerd_on_tmpfs() {
    [ "${GREEN_GATE_CONTAINER_TMPFS:-1}" != 0 ] || return 1
    local avail_kb
    avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo 2>/dev/null)
    [ "${avail_kb:-0}" -ge $((TMPFS_SIZE_GB * 2 * 1024 * 1024)) ] || return 1
    mkdir -p "$TMP/ram" && mount -t tmpfs -o "size=${TMPFS_SIZE_GB}g,mode=0711" tmpfs "$TMP/ram" 2>/dev/null || return 1
    RAM=$TMP/ram DATA_ROOT=$TMP/ram/docker-root
    start_dockerd --storage-driver overlay2 && return 0
    umount "$TMP/ram" 2>/dev/null
    RAM= DATA_ROOT=$TMP/docker-root
    return 1
}
t=$(now)
start_dockerd_on_tmpfs || start_dockerd || start_dockerd --storage-driver vfs ||
    skip "dockerd cannot start here: $(grep -E 'level=(error|fatal)|failed to start' "$TMP/dockerd.log" | tail -n 1)"
say "dockerd $(dockerd --version | awk '{print $3}' | tr -d ,) up in $(secs "$t") s, storage $("$DOCKER" info --format '{{.Driver}}')${RAM:+ on a ${TMPFS_SIZE_GB} GB tmpfs}"

# --- a python:3.11-slim stand-in, cached -----------------------------------------------------------
# What the Dockerfile needs from its base: Python 3.11 as `python`, pip that installs system-wide,
# and the host's CA certificates and package index (PyPI may be reached through a TLS proxy).
CACHE=${GREEN_GATE_CONTAINER_CACHE:-$HOME/.cache/green-gate/container}
BASE_TAR=$CACHE/python-3.11-slim-standin.tar
BASE=green-gate-test/python:3.11-slim
MIRROR=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '/^deb / { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
t=$(now)
if [ ! -s "$BASE_TAR" ]; then
    mkdir -p "$CACHE"
    rootfs=$TMP/rootfs
    say "debootstrap bookworm from ${MIRROR:-the default mirror} (cached afterwards in $CACHE)"
    debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates bookworm "$rootfs" \
        ${MIRROR:+"$MIRROR"} >"$TMP/debootstrap.log" 2>&1 || { tail -n 5 "$TMP/debootstrap.log" >&2; skip "debootstrap failed"; }
    ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
    rm -f "$rootfs"/usr/lib/python3.*/EXTERNALLY-MANAGED
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
    chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
    index=${PIP_INDEX_URL:-$(pip3 config get global.index-url 2>/dev/null || true)}
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n%s' \
        "$(case $index in http*) echo "index-url = $index" ;; esac)" >"$rootfs/etc/pip.conf"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$BASE_TAR.part" . && mv "$BASE_TAR.part" "$BASE_TAR"
    rm -rf "$rootfs"
    BASE_HOW="debootstrap, cold"
else
    BASE_HOW="cached $BASE_TAR"
fi
"$DOCKER" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' "$BASE_TAR" "$BASE" >/dev/null
say "base image $BASE in $(secs "$t") s ($BASE_HOW)"

# --- the image, from this checkout's Dockerfile ----------------------------------------------------
IMAGE=green-gate-test/action:local
grep -q '^FROM python:3.11-slim$' Dockerfile || { say "FAIL: the Dockerfile's FROM is not python:3.11-slim any more"; exit 1; }
sed "s#^FROM python:3.11-slim\$#FROM $BASE#" Dockerfile >"$TMP/Dockerfile"
t=$(now)
"$DOCKER" build --network host -f "$TMP/Dockerfile" -t "$IMAGE" . >"$TMP/build.log" 2>&1 ||
    { tail -n 30 "$TMP/build.log" >&2; say "FAIL: docker build${RAM:+ (data root on a ${TMPFS_SIZE_GB} GB tmpfs: if it ran out of space, GREEN_GATE_CONTAINER_TMPFS=0 keeps it on disk)}"; exit 1; }
BUILD_S=$(secs "$t")
size_b=$("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE")
base_b=$("$DOCKER" image inspect --format '{{.Size}}' "$BASE")
say "built $IMAGE in $BUILD_S s: $((size_b / 1000000)) MB ($((base_b / 1000000)) MB of it the base)"

# --- the runner's view: a workspace owned by the runner's user, its file-command files ---------------
OWNER=1001:1001   # the runner's user; the container runs as root
WS=$TMP/work/repo
RUNNER_TEMP=$TMP/work/_temp
mkdir -p "$WS/bench" "$RUNNER_TEMP/_github_home" "$RUNNER_TEMP/_github_workflow" "$RUNNER_TEMP/_runner_file_commands"
cat >"$WS/bench/bench.py" <<'EOF'
"""A small CPU benchmark: fixed work, a prediction count, and the planted value echoed to its log."""
import json, os, sys

print("planted:", os.environ.get("PLANTED_ECHO", "(none)"), file=sys.stderr)
total = sum(i * i % 7 for i in range(1_500_000))
with open(os.environ["GREEN_GATE_METRICS"], "w", encoding="utf-8") as handle:
    json.dump({"predictions": 1000, "checksum": total % 1000}, handle)
EOF
budget() {  # $1: the fail limit of the absolute energy budget per run, in kWh
    cat <<EOF
version: 1
benchmarks:
  - name: small-cpu
    command: python bench.py
    repeats: 2
    warmup: 0
    timeout_s: 120
limits:
  energy_per_prediction_j: {warn: +50%, fail: +100%}
budgets:
  energy_kwh: {warn: $2, fail: $1}
policy:
  missing_baseline: pass
EOF
}
budget 1 0.5 >"$WS/bench/green-budget.yml"
budget 0.000000001 0.0000000005 >"$WS/bench/green-budget.over.yml"
# The walk: a benchmark that reads every ancestor's /proc/<pid>/environ, cmdline and open files and
# every file in the workspace, looking for the planted token (tests/support/proc_walk.py).
cp "$REPO/tests/support/proc_walk.py" "$WS/bench/proc_walk.py"
budget 1 0.5 | sed 's/command: python bench.py/command: python proc_walk.py/; s/repeats: 2/repeats: 1/' \
    >"$WS/bench/green-budget.walk.yml"
chown -R "$OWNER" "$TMP/work"
SHA=0123456789abcdef0123456789abcdef01234567
printf '{"ref":"refs/heads/main","after":"%s","repository":{"full_name":"test/green-gate","default_branch":"main"}}\n' \
    "$SHA" >"$RUNNER_TEMP/_github_workflow/event.json"
TOKEN=ghs_$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')   # planted: must never show in clear

# Every input action.yml declares, as INPUT_<NAME> with its default (the runner does the same), then
# runs.env; a run's own values come after them (docker keeps the last -e of a name).
"$PY" - "$REPO/action.yml" "$TOKEN" >"$TMP/inputs.env" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
inputs = re.search(r"^inputs:\n(.*?)^\S", text, re.S | re.M).group(1)
for name, block in re.findall(r"^  (\w+):\n((?:    .*\n|\n)*)", inputs, re.M):
    default = re.search(r"^    default: (.*)$", block, re.M)
    value = default.group(1).strip() if default else ""
    value = value[1:-1] if value[:1] in "\"'" and value[-1:] == value[:1] else value
    print(f"INPUT_{name.upper()}={sys.argv[2] if value == '${{ github.token }}' else value}")
print("NVIDIA_VISIBLE_DEVICES=all")
EOF
[ "$(grep -c '^INPUT_' "$TMP/inputs.env")" -ge 20 ] || { say "FAIL: could not read the inputs of action.yml"; exit 1; }

failures=0
check() {  # $1: what, then a command that must succeed
    local what=$1; shift
    if "$@"; then say "  ok: $what"; else say "  FAIL: $what"; failures=$((failures + 1)); fi
}
run_action() {  # $1 name, $2 expected exit code, then -e NAME=VALUE overrides
    local name=$1 want=$2 rc t
    shift 2
    local fc=$RUNNER_TEMP/_runner_file_commands
    : >"$fc/set_output_$name"; : >"$fc/step_summary_$name"
    chown "$OWNER" "$fc/set_output_$name" "$fc/step_summary_$name"
    t=$(now)
    set +e
    timeout 600 "$DOCKER" run --rm --network host --workdir /github/workspace \
        -v "$WS:/github/workspace" -v "$RUNNER_TEMP/_github_home:/github/home" \
        -v "$RUNNER_TEMP/_github_workflow:/github/workflow" -v "$fc:/github/file_commands" \
        --env-file "$TMP/inputs.env" \
        -e HOME=/github/home -e CI=true -e GITHUB_ACTIONS=true -e RUNNER_OS=Linux -e RUNNER_TEMP=/home/runner/work/_temp \
        -e GITHUB_WORKSPACE=/github/workspace -e GITHUB_EVENT_NAME=push -e GITHUB_EVENT_PATH=/github/workflow/event.json \
        -e GITHUB_REF=refs/heads/main -e GITHUB_REF_NAME=main -e GITHUB_SHA=$SHA -e GITHUB_REPOSITORY=test/green-gate \
        -e GITHUB_RUN_ID=1 -e GITHUB_RUN_ATTEMPT=1 -e GITHUB_SERVER_URL=https://github.com \
        -e GITHUB_API_URL=https://api.github.com \
        -e "GITHUB_OUTPUT=/github/file_commands/set_output_$name" \
        -e "GITHUB_STEP_SUMMARY=/github/file_commands/step_summary_$name" \
        -e INPUT_WORKING_DIRECTORY=bench -e INPUT_BRANCH=main -e INPUT_COMMIT=$SHA -e "PLANTED_ECHO=${PLANTED-$TOKEN}" \
        "$@" "$IMAGE" >"$TMP/$name.log" 2>&1
    rc=$?
    set -e
    say "$name: exit $rc in $(secs "$t") s (expected $want)"
    check "$name exits $want" test "$rc" = "$want"
    check "$name: the step summary is not empty" test -s "$fc/step_summary_$name"
    # The token may appear only in the ::add-mask:: command that tells the runner to hide it.
    check "$name: the planted token is masked in the log" \
        test "$(grep -F -- "$TOKEN" "$TMP/$name.log" | grep -v -c '^::add-mask::' || true)" = 0
    check "$name: the planted token is not in the summary or outputs" \
        test "$(cat "$fc/step_summary_$name" "$fc/set_output_$name" | grep -c -F -- "$TOKEN" || true)" = 0
    check "$name: every file in the workspace belongs to its owner ($OWNER)" \
        test -z "$(find "$WS" \( ! -uid "${OWNER%%:*}" -o ! -gid "${OWNER##*:}" \) -print -quit)"
    [ "$failures" = 0 ] || { say "$name's log:"; tail -n 40 "$TMP/$name.log" >&2; }
}
# The control: a container writing as root leaves root's files, so the ownership checks below do
# test the entrypoint's hand-back and not docker.
"$DOCKER" run --rm --network host -v "$WS:/github/workspace" --entrypoint touch "$IMAGE" /github/workspace/probe
check "control: a file the container writes itself is root's" test "$(stat -c %u "$WS/probe")" = 0
rm -f "$WS/probe"
say "runs (workspace owned by $OWNER):"
run_action baseline 0 -e INPUT_GITHUB_TOKEN="$TOKEN"
check "baseline: verdict=pass in GITHUB_OUTPUT" grep -qx 'verdict=pass' "$RUNNER_TEMP/_runner_file_commands/set_output_baseline"
check "baseline: the log shows the token masked" grep -q 'planted: \*\*\*' "$TMP/baseline.log"
check "baseline: recorded in the workspace's MLflow store" test -s "$WS/bench/.green-gate/mlflow.db"
run_action over 1 -e INPUT_BUDGET=green-budget.over.yml -e INPUT_RECORD=false
check "over: verdict=fail in GITHUB_OUTPUT" grep -qx 'verdict=fail' "$RUNNER_TEMP/_runner_file_commands/set_output_over"
# No PLANTED_ECHO here: it is an ordinary variable (the benchmark is meant to see it, to test the
# log's masking); the walk looks for the credentials only.
PLANTED=none run_action walk 0 -e INPUT_BUDGET=green-budget.walk.yml -e INPUT_RECORD=false -e INPUT_GITHUB_TOKEN="$TOKEN" \
    -e MLFLOW_TRACKING_TOKEN="$TOKEN-mlflow"
check "walk: the benchmark ran as the workspace's owner" test "$(stat -c %u "$WS/bench/proc-walk.json")" = "${OWNER%%:*}"
check "walk: it could not read the root gate's environ" grep -q '/environ: Permission denied' "$WS/bench/proc-walk.json"
check "walk: no planted token in any ancestor's environ, cmdline or open files, or in the workspace" \
    test "$(grep -c -F -- "$TOKEN" "$WS/bench/proc-walk.json" || true)" = 0
run_action bad 2 -e INPUT_REPEATS=0
check "bad: the summary says why it could not start" grep -q "input 'repeats' is '0'" "$RUNNER_TEMP/_runner_file_commands/step_summary_bad"

say "figures: build ${BUILD_S} s, image $((size_b / 1000000)) MB ($size_b bytes; base $((base_b / 1000000)) MB), total $(secs "$T0") s ($BASE_HOW)"
"$DOCKER" history --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" | cut -c1-110 | head -n 8 >&2
if [ "$failures" != 0 ]; then say "$failures check(s) failed"; exit 1; fi
say "all checks passed"
