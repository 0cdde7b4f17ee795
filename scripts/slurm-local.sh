#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, to try and test the cluster path of `bmru sweep`
# (docs/cluster.md): installs Debian's slurm-wlm and munge when missing, writes a slurm.conf for the
# local host (its CPUs and memory as `slurmd -C` reports them), starts munged, slurmctld and slurmd,
# and waits until the node is idle. Needs root.
#   bash scripts/slurm-local.sh start    # idempotent: does nothing when the node is already up
#   bash scripts/slurm-local.sh start --clean   # forget jobs saved by an earlier slurmctld (CI)
#   bash scripts/slurm-local.sh stop
#   bash scripts/slurm-local.sh status
set -euo pipefail
action="${1:-start}"
clean="${2:-}"
conf=/etc/slurm/slurm.conf

is_up() { command -v sinfo >/dev/null 2>&1 && sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; }

start() {
    if is_up; then echo "slurm-local: already up"; return 0; fi
    [ "$(id -u)" -eq 0 ] || { echo "slurm-local: needs root (apt-get, daemons)" >&2; exit 1; }
    need=()
    for package in slurm-wlm munge; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || need+=("$package")
    done
    if [ "${#need[@]}" -gt 0 ]; then
        echo "slurm-local: installing ${need[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
    # munge: a key, its folders owned by the munge user, the daemon.
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
    chmod 0700 /etc/munge /var/log/munge /var/lib/munge
    chmod 0400 /etc/munge/munge.key
    chmod 0755 /run/munge
    pgrep -x munged >/dev/null || su -s /bin/sh munge -c munged
    # slurm.conf for this host.
    host="$(hostname -s)"
    node="$(slurmd -C | head -1)"
    mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
    cat > "$conf" <<CONF
# Written by BMRUKit's scripts/slurm-local.sh: one node, this host.
ClusterName=bmrukit
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
MaxArraySize=100001
MaxJobCount=200000
$node State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    # -c: start without the jobs an earlier controller saved in StateSaveLocation.
    pgrep -x slurmctld >/dev/null || slurmctld ${clean:+-c}
    pgrep -x slurmd >/dev/null || slurmd
    for _ in $(seq 1 60); do
        if is_up; then echo "slurm-local: node $host idle"; return 0; fi
        scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
        sleep 1
    done
    echo "slurm-local: the node did not come up; see /var/log/slurm/" >&2
    sinfo >&2 || true
    exit 1
}

stop() {
    pkill -x slurmd 2>/dev/null || true
    pkill -x slurmctld 2>/dev/null || true
    echo "slurm-local: stopped (munged left running)"
}

case "$action" in
    start) start ;;
    stop) stop ;;
    status) if is_up; then sinfo; else echo "slurm-local: down"; exit 1; fi ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 1 ;;
esac
