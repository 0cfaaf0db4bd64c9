#!/usr/bin/env bash
# Bring up a single-node SLURM cluster on this Debian machine, from Debian's packages:
# munged, slurmctld and slurmd on localhost, one partition `debug` with this machine's CPUs.
# Used by the `slurm` tests (pytest -m slurm). Idempotent: re-running restarts the daemons.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
HOST=$(hostname -s)
CPUS=$(nproc)
MEM=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))

# munge: a key and the daemon
$SUDO mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  $SUDO dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
$SUDO chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
$SUDO chmod 400 /etc/munge/munge.key
$SUDO pkill -x munged 2>/dev/null || true
if [ -z "$SUDO" ]; then runuser -u munge -- /usr/sbin/munged --force; else sudo -u munge /usr/sbin/munged --force; fi

# slurm.conf: no cgroups (works in containers), no accounting, cores as consumable resources
$SUDO mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
$SUDO tee /etc/slurm/slurm.conf >/dev/null <<CONF
ClusterName=rst
SlurmctldHost=${HOST}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
KillWait=5
MinJobAge=300
NodeName=${HOST} CPUs=${CPUS} RealMemory=${MEM} State=UNKNOWN
PartitionName=debug Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF

$SUDO pkill -x slurmctld 2>/dev/null || true
$SUDO pkill -x slurmd 2>/dev/null || true
sleep 1
$SUDO slurmctld
$SUDO slurmd
for _ in $(seq 1 30); do
  if sinfo -h -o "%T" 2>/dev/null | grep -qE "idle|mixed|alloc"; then
    sinfo
    exit 0
  fi
  $SUDO scontrol update nodename="${HOST}" state=resume 2>/dev/null || true
  sleep 1
done
echo "SLURM did not come up; see /var/log/slurm/" >&2
exit 1
