#!/bin/bash
# Stops what start.sh started and removes the runtime dir. KEEP=1 keeps $RT (logs/state).
BASE=${BENCH_SLURM_BASE:?set BENCH_SLURM_BASE to a working directory}
RT=$BASE/rt
export SLURM_CONF=$RT/etc/slurm.conf
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if alive $RT/run/slurmctld.pid; then scancel --user="$(id -un)" 2>/dev/null; sleep 0.5; fi
for p in $RT/run/slurmd.pid $RT/run/slurmctld.pid; do
  if alive $p; then
    pid=$(cat $p); kill $pid
    for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    kill -0 $pid 2>/dev/null && kill -9 $pid
  fi
done
[ -S $RT/munge/munge.socket ] && munged -s --socket=$RT/munge/munge.socket >/dev/null 2>&1
alive $RT/munge/munged.pid && kill "$(cat $RT/munge/munged.pid)"
[ "${KEEP:-0}" = 1 ] || rm -rf "$RT"
echo "[slurm stop] stopped" >&2
