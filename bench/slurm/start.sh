#!/bin/bash
# A one-machine Slurm cluster (slurmctld + slurmd on localhost, own munge key and socket) for
# the benchmark's srun launches; nothing is written outside $BENCH_SLURM_BASE.
# Idempotent: re-running only starts what is not running. Everything lives under $BASE.
# Env knobs: BENCH_SLURM_CPUS (default 32, advertised CPUs of the node), BENCH_SLURM_CGROUP=1 (try proctrack/task cgroup).
set -euo pipefail
BASE=${BENCH_SLURM_BASE:?set BENCH_SLURM_BASE to a working directory}
RT=$BASE/rt                      # runtime dir: removed by stop.sh
H=$(hostname -s)
CPUS=${BENCH_SLURM_CPUS:-32}
export SLURM_CONF=$RT/etc/slurm.conf
MSOCK=$RT/munge/munge.socket
log() { echo "[slurm start] $*" >&2; }

mkdir -p $RT/etc $RT/state $RT/spool/slurmd-$H $RT/log $RT/run $RT/munge
chmod 755 $RT $RT/munge          # munged: "Socket is inaccessible: execute permissions for all required"

# ---- munge: own key + own socket, nothing in /etc ----
if [ ! -s $RT/munge/munge.key ]; then
  mungekey -c -k $RT/munge/munge.key -b 1024 2>/dev/null \
    || dd if=/dev/urandom of=$RT/munge/munge.key bs=128 count=1 status=none
  chmod 600 $RT/munge/munge.key
fi
if ! munge -n -S $MSOCK 2>/dev/null | unmunge -S $MSOCK >/dev/null 2>&1; then
  rm -f $MSOCK $MSOCK.lock
  munged --key-file=$RT/munge/munge.key --socket=$MSOCK --pid-file=$RT/munge/munged.pid \
         --log-file=$RT/munge/munged.log --seed-file=$RT/munge/munged.seed
  for i in $(seq 50); do munge -n -S $MSOCK 2>/dev/null | unmunge -S $MSOCK >/dev/null 2>&1 && break; sleep 0.1; done
  log "munged started"
fi

# ---- slurm.conf (rewritten only if changed) ----
if [ "${BENCH_SLURM_CGROUP:-0}" = 1 ]; then PT=proctrack/cgroup; TP=task/cgroup; else PT=proctrack/linuxproc; TP=task/none; fi
cat > $RT/etc/slurm.conf.new <<EOF
ClusterName=bench
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MSOCK
SlurmctldPort=16917
SlurmdPort=16918
StateSaveLocation=$RT/state
SlurmdSpoolDir=$RT/spool/slurmd-%n
SlurmctldPidFile=$RT/run/slurmctld.pid
SlurmdPidFile=$RT/run/slurmd.pid
SlurmctldLogFile=$RT/log/slurmctld.log
SlurmdLogFile=$RT/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=$PT
TaskPlugin=$TP
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MaxTasksPerNode=512
KillWait=5
InactiveLimit=0
MinJobAge=30
NodeName=$H NodeAddr=127.0.0.1 CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
RESTART=0
if ! cmp -s $RT/etc/slurm.conf.new $RT/etc/slurm.conf; then
  mv $RT/etc/slurm.conf.new $RT/etc/slurm.conf; RESTART=1
else rm -f $RT/etc/slurm.conf.new; fi

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if [ $RESTART = 1 ]; then   # config changed: restart running daemons
  for d in slurmd slurmctld; do
    if alive $RT/run/$d.pid; then kill "$(cat $RT/run/$d.pid)"; while alive $RT/run/$d.pid; do sleep 0.1; done; log "$d stopped (config changed)"; fi
  done
fi

# ---- daemons (they daemonize themselves; -i = ignore unreadable state files) ----
if ! alive $RT/run/slurmctld.pid; then slurmctld -i; log "slurmctld started"; fi
for i in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
if ! alive $RT/run/slurmd.pid; then slurmd; log "slurmd started"; fi

# ---- wait until the node is usable ----
st=""
for i in $(seq 300); do
  st=$(sinfo -h -n $H -o %T 2>/dev/null | tr -d '*~#' || true)
  case "$st" in
    idle|mixed|allocated|completing) break ;;
    down|drained|draining|drain) scontrol update NodeName=$H State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.1
done
case "$st" in idle|mixed|allocated|completing) ;; *) log "node not ready (state='$st'), see $RT/log"; exit 1 ;; esac
log "node $H is $st"
echo "export SLURM_CONF=$SLURM_CONF"
