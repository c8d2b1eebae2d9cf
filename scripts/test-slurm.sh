#!/usr/bin/env bash
# Runs the Slurm recipe of docs/distributed.md for real, on a single-node Slurm started here, and
# checks that the merged shards equal an unsharded scan.
#
#   sudo scripts/test-slurm.sh          # as root, on Debian 12 with Rust; from the repository root
#
# Installs slurm-wlm (slurmctld, slurmd), munge and jq with apt-get if missing. Everything else
# lives in a temporary directory: a private munge key and munged, a slurm.conf for this host
# (ports 16817/16818, so a Slurm already on the machine is left alone), the state and spool
# directories, the index, a copy of testdata/dump and the results. On exit the daemons it started
# are stopped and the directory is removed. EARMARK=<binary> skips the release build;
# TIMEOUT=<seconds> bounds the wait for the jobs (default 600); KEEP=1 keeps the directory.
#
# The job script is the `bash` block under "## Slurm job array" in docs/distributed.md, with its
# paths pointed into the temporary directory and N=4; the command line sets --array=1-4 and a
# --cpus-per-task and --mem that fit this host. The merge is the page's dependent job.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
t_script=$(date +%s.%N)
shards=4
timeout=${TIMEOUT:-600}

log() { printf '== %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" -eq 0 ] || die "run as root: it installs packages and starts slurmctld, slurmd and munged"

# --- packages ---------------------------------------------------------------------------------
need=()
for pair in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client munged:munge jq:jq; do
  command -v "${pair%%:*}" > /dev/null || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install slurm-wlm munge jq (missing: ${need[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q > /dev/null
  apt-get install -y -q --no-install-recommends slurm-wlm munge jq > /dev/null
fi

# --- temporary directory and cleanup ----------------------------------------------------------
tmp=$(mktemp -d /tmp/earmark-slurm.XXXXXX)
chmod 711 "$tmp" # munged wants every directory above its socket searchable by all
stop() { # the daemons named, by the pids they wrote; TERM together, KILL after 10 s
  local f pid live=() alive
  for f in "$@"; do
    [ -s "$tmp/$f.pid" ] && pid=$(cat "$tmp/$f.pid") && kill "$pid" 2> /dev/null && live+=("$pid")
  done
  for _ in $(seq 40); do
    alive=()
    for pid in "${live[@]}"; do kill -0 "$pid" 2> /dev/null && alive+=("$pid"); done
    [ ${#alive[@]} -gt 0 ] || return 0
    sleep 0.25
  done
  kill -9 "${alive[@]}" 2> /dev/null
}
cleanup() {
  local rc=$?
  set +e
  if [ -n "${SLURM_CONF:-}" ] && [ -f "$tmp/slurmctld.pid" ]; then
    scancel --quiet --user=root 2> /dev/null # nothing may outlive the daemons
    for _ in $(seq 20); do [ -z "$(squeue -h 2> /dev/null)" ] && break; sleep 0.5; done
  fi
  stop slurmd slurmctld
  stop munged # last: the others need it
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
  echo "daemons stopped: whole script $(elapsed "$t_script") s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- munge: a private key, socket and daemon ---------------------------------------------------
mkdir -m 700 "$tmp/munge-key"
mkdir -m 755 "$tmp/munge"
mungekey --create --keyfile="$tmp/munge-key/munge.key"
munged --key-file="$tmp/munge-key/munge.key" --socket="$tmp/munge/munge.socket" \
  --pid-file="$tmp/munged.pid" --log-file="$tmp/munged.log" --seed-file="$tmp/munge-key/seed"
munge -S "$tmp/munge/munge.socket" -n | unmunge -S "$tmp/munge/munge.socket" > /dev/null \
  || die "munged does not answer (see $tmp/munged.log)"

# --- slurm.conf for this host -------------------------------------------------------------------
# `slurmd -C` prints this host's node line: NodeName=<host> CPUs=.. Boards=.. ... RealMemory=..
node_line=$(slurmd -C | head -1)
node=$(sed -E 's/^NodeName=([^ ]+).*/\1/' <<< "$node_line")
cpus=$(sed -E 's/.* CPUs=([0-9]+).*/\1/' <<< "$node_line")
mem_mb=$(sed -E 's/.* RealMemory=([0-9]+).*/\1/' <<< "$node_line")
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/logs" "$tmp/results"
export SLURM_CONF=$tmp/slurm.conf
cat > "$SLURM_CONF" << EOF
ClusterName=earmark-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DependencyParameters=kill_invalid_depend
ReturnToService=2
MinJobAge=3600
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
log "single-node Slurm on $node: $cpus CPUs, $mem_mb MB ($(slurmctld -V))"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for i in $(seq 60); do
  state=$(sinfo -h -n "$node" -o %T 2> /dev/null || true)
  [ "$state" = idle ] && break
  [ "$i" -lt 60 ] || die "node $node is '${state:-unreachable}', not idle, after 30 s (see $tmp/slurmctld.log, $tmp/slurmd.log)"
  sleep 0.5
done
log "node $node idle"

# --- earmark, index and dump ---------------------------------------------------------------------
if [ -n "${EARMARK:-}" ]; then
  earmark=$(realpath "$EARMARK")
else
  log "cargo build --release"
  cargo build --release -q
  earmark=$(realpath "${CARGO_TARGET_DIR:-target}/release/earmark")
fi
[ -x "$earmark" ] || die "no earmark binary at $earmark"
mkdir "$tmp/bin"
ln -s "$earmark" "$tmp/bin/earmark" # the job script calls `earmark`; sbatch passes on PATH
export PATH=$tmp/bin:$PATH
"$earmark" index "$repo/testdata/catalogue" -o "$tmp/catalogue.earmark" > "$tmp/index.log" 2>&1 \
  || { cat "$tmp/index.log" >&2; die "earmark index failed"; }
cp -r "$repo/testdata/dump" "$tmp/dump"

# --- the page's job script and merge ------------------------------------------------------------
# The first ```bash block after "## Slurm job array", and the merge's --wrap '...' command, with
# the cluster paths moved into $tmp.
section=$(awk '/^## / { s = /^## Slurm job array/ } s' "$repo/docs/distributed.md")
awk '/^```bash$/ { b = 1; next } b && /^```$/ { exit } b' <<< "$section" > "$tmp/page.sbatch"
[ -s "$tmp/page.sbatch" ] || die "no \`\`\`bash block under '## Slurm job array' in docs/distributed.md"
for s in '/data/dump' '/shared/catalogue.earmark' '/results/' '^N=[0-9]+'; do
  grep -Eq "$s" "$tmp/page.sbatch" || die "the page's job script no longer has '$s'; update this script"
done
sed -E -e "s|/data/dump|$tmp/dump|g" -e "s|/shared/catalogue.earmark|$tmp/catalogue.earmark|g" \
  -e "s|/results/|$tmp/results/|g" -e "s|^N=[0-9]+|N=$shards|" "$tmp/page.sbatch" > "$tmp/scan.sbatch"
wrap=$(grep -o -- "--wrap '[^']*'" <<< "$section" | head -1 | sed -E "s/^--wrap '(.*)'$/\1/")
grep -q '^earmark merge /results/' <<< "$wrap" \
  || die "no --wrap 'earmark merge /results/...' under '## Slurm job array' in docs/distributed.md"
wrap=${wrap//\/results\//$tmp/results/}

# Four shards on this host: a quarter of the CPUs each (at least one), memory to match.
cpt=$((cpus / shards)); [ "$cpt" -ge 1 ] || cpt=1
mem=$((mem_mb / (cpus / cpt + 1))); [ "$mem" -le 4096 ] || mem=4096

cd "$tmp"
t_jobs=$(date +%s.%N)
array=$(sbatch --parsable --array=1-$shards --cpus-per-task=$cpt --mem=${mem}M --time=00:30:00 \
  --output="$tmp/logs/%x-%A_%a.out" "$tmp/scan.sbatch")
merge=$(sbatch --parsable --dependency=afterok:"$array" --job-name=earmark-merge \
  --output="$tmp/logs/%x-%j.out" --wrap "$wrap")
log "submitted array $array (--array=1-$shards --cpus-per-task=$cpt --mem=${mem}M), merge $merge (afterok:$array)"
log "merge: $wrap"

# Wait until neither job is queued or running.
while [ -n "$(squeue -h -j "$array,$merge" -o %i 2> /dev/null)" ]; do
  awk -v a="$t_jobs" -v b="$(date +%s.%N)" -v t="$timeout" 'BEGIN { exit !(b - a > t) }' \
    && { squeue -j "$array,$merge"; die "jobs not done after $timeout s"; }
  sleep 0.5
done
t_jobs_done=$(elapsed "$t_jobs")

# Every array task and the merge must have COMPLETED with exit code 0:0.
states=$(scontrol -o show job "$array" | sed -E 's/^JobId=([0-9]+) .*ArrayTaskId=([0-9]+) .*JobState=([A-Z_]+) .*ExitCode=([0-9:]+) .*/\2 \3 \4/' | sort -n)
merge_state=$(scontrol -o show job "$merge" | sed -E 's/.*JobState=([A-Z_]+) .*ExitCode=([0-9:]+) .*/\1 \2/')
printf '  array task %s: %s, exit %s\n' $states
printf '  merge: %s\n' "$merge_state"
ok=1
[ "$(grep -c ' COMPLETED 0:0$' <<< "$states")" -eq "$shards" ] || ok=0
[ "$merge_state" = "COMPLETED 0:0" ] || ok=0
if [ "$ok" = 0 ]; then
  tail -n 20 "$tmp"/logs/*.out >&2 || true
  die "a job did not complete"
fi
log "array + merge: ${t_jobs_done} s from the first sbatch to the merge's end"

# --- the unsharded scan, and the comparison ------------------------------------------------------
set +e
earmark scan "$tmp/dump" --index "$tmp/catalogue.earmark" --jobs "$cpus" --quiet -o "$tmp/whole.jsonl" \
  2> "$tmp/whole.log"
code=$?
set -e
[ "$code" -eq 0 ] || [ "$code" -eq 1 ] || { cat "$tmp/whole.log" >&2; die "unsharded scan exited $code"; }

fail=0
# merge writes each record re-serialised with its keys in alphabetical order, so records are
# compared as JSON (keys sorted), one per line, the lines sorted.
records() { { grep -v '^{"summary":' "$1" || true; } | jq -S -c . | LC_ALL=C sort; }
if ! diff <(records "$tmp/whole.jsonl") <(records "$tmp/results/matches.jsonl") > "$tmp/records.diff"; then
  echo "records differ (< unsharded, > merged):" >&2; head -n 40 "$tmp/records.diff" >&2; fail=1
fi
n_records=$(records "$tmp/whole.jsonl" | wc -l)
for f in whole results/matches; do
  [ "$(grep -c '^{"summary":' "$tmp/$f.jsonl")" -eq 1 ] && tail -n 1 "$tmp/$f.jsonl" | grep -q '^{"summary":' \
    || { echo "$f.jsonl does not end in exactly one summary" >&2; fail=1; }
done
# Counts must be equal (`shard` too: null for both); timings are not compared, audio seconds
# within 0.01 s (each shard rounds its own sum).
counts() { grep '^{"summary":' "$1" | jq -S -c '.summary | del(.wall_seconds, .hours, .audio_seconds)'; }
if [ "$(counts "$tmp/whole.jsonl")" != "$(counts "$tmp/results/matches.jsonl")" ]; then
  printf 'summaries differ:\n  unsharded %s\n  merged    %s\n' "$(counts "$tmp/whole.jsonl")" \
    "$(counts "$tmp/results/matches.jsonl")" >&2
  fail=1
fi
audio() { grep '^{"summary":' "$1" | jq '.summary.audio_seconds'; }
a1=$(audio "$tmp/whole.jsonl") a2=$(audio "$tmp/results/matches.jsonl")
awk -v a="$a1" -v b="$a2" 'BEGIN { d = a - b; exit !(d <= 0.01 && d >= -0.01) }' \
  || { echo "audio seconds differ: unsharded $a1, merged $a2" >&2; fail=1; }
echo "  unsharded: $(grep '^{"summary":' "$tmp/whole.jsonl")"
echo "  merged:    $(grep '^{"summary":' "$tmp/results/matches.jsonl")"
echo "  shard records: $(for k in $(seq $shards); do printf '%s ' "$(grep -vc '^{"summary":' "$tmp/results/shard-$(printf %03d "$k").jsonl")"; done)"

if [ "$fail" = 0 ]; then
  echo "PASS: $shards-shard Slurm array + merge equals the unsharded scan ($n_records records);" \
    "array + merge ${t_jobs_done} s, whole script so far $(elapsed "$t_script") s"
else
  echo "FAIL: array + merge ${t_jobs_done} s, whole script so far $(elapsed "$t_script") s"
  exit 1
fi
