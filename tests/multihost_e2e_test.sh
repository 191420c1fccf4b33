#!/bin/bash
# Training across two hosts: two network namespaces ("host A" and "host B", each with only `lo`
# and its end of a veth pair) with rank 0 in A and rank 1 in B, started by hand with --rank
# --world_size --dist_addr --dist_port as on two machines.
#  - 2 ranks x batch 1 across the hosts equal --nproc=2 on one host bit for bit (fp64 and fp32:
#    the arithmetic does not depend on the transport) and 1 process x batch 2 to 1e-10 (fp64);
#    the interface is found from the route to --dist_addr, or named by GLOO_SOCKET_IFNAME or
#    --dist_iface, and each rank says which in one info line;
#  - the link cut during training: both ranks end within --dist_timeout + a few seconds, each
#    with one line naming the peer rank and the last good checkpoint; resumed once the link is
#    back, the run ends bit-identical to an uninterrupted one;
#  - an unreachable master, a rank that never joins, an unknown interface: one line each.
# A 5 ms delay is added with `tc netem` where the kernel has it (else the link is rate-limited
# with tbf, and the test says so). The namespaces (and with them the veth pair) are removed
# whatever happens; where namespaces cannot be created the test says why and skips.
set -u
source "${TEST_SRCDIR}/${TEST_WORKSPACE}/tests/lib.sh" multihost
TRAIN="$ROOT/tools/ann_train"
export PATH="$PATH:/usr/sbin:/sbin"  # tc
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }  # START
within() { awk -v t="$1" -v limit="$2" 'BEGIN { exit !(t <= limit) }'; }  # SECONDS LIMIT
# The promise is "within the timeout plus a few seconds"; a loaded machine (2 busy cores) needs
# room for process start-up and LibTorch's load: bounds are the timeout + SLACK.
SLACK=10

id=$(($$ % 100000))
A=annA$id
B=annB$id
VA=vA$id
VB=vB$id
NET=10.$((200 + RANDOM % 50)).$((RANDOM % 250))
ADDR_A=$NET.1
ADDR_B=$NET.2
cleanup() {
  for ns in $A $B; do
    for pid in $(ip netns pids $ns 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del $ns 2>/dev/null
  done
  ip link del $VA 2>/dev/null  # only if the test stopped before moving it
}
trap cleanup EXIT
if ! command -v ip >/dev/null || ! ip netns add $A 2>"$T/why" || ! ip netns add $B 2>>"$T/why"; then
  echo "skip: cannot create network namespaces here (need root and iproute2):" \
    "$(head -1 "$T/why" 2>/dev/null)"
  exit 0
fi
ip link add $VA type veth peer name $VB && ip link set $VA netns $A && ip link set $VB netns $B &&
  ip -n $A addr add $ADDR_A/24 dev $VA && ip -n $B addr add $ADDR_B/24 dev $VB &&
  ip -n $A link set lo up && ip -n $B link set lo up &&
  ip -n $A link set $VA up && ip -n $B link set $VB up || { fail "veth pair"; exit 1; }
if ip netns exec $A tc qdisc add dev $VA root netem delay 5ms 2>/dev/null &&
   ip netns exec $B tc qdisc add dev $VB root netem delay 5ms 2>/dev/null; then
  echo "info: link $ADDR_A <-> $ADDR_B with 5 ms delay each way (netem)"
else
  ip netns exec $A tc qdisc add dev $VA root tbf rate 200mbit burst 64kb latency 50ms
  ip netns exec $B tc qdisc add dev $VB root tbf rate 200mbit burst 64kb latency 50ms
  echo "info: this kernel has no netem: link $ADDR_A <-> $ADDR_B rate-limited to 200 Mbit/s" \
    "(tbf) instead of delayed"
fi
[ "$(ip netns exec $A ip -o link | wc -l)" -eq 2 ] || fail "host A should have only lo and $VA"

toy_data "$T/raw" "$T/data" 128x64 8,2,1 4
EQ=(--config=configs/toy.flags --data_root="$T/data" --crop_size=64x64 --img_scale=128x64
    --max_iters=3 --checkpoint_interval=3 --log_interval=1 --workers=1 --seed=6 --threads=1)
port() { echo $((20000 + RANDOM % 20000)); }
# two_hosts NAME HOW ENV0 ENV1 -- FLAGS...: rank 0 on host A with the environment ENV0 (a
# VAR=VALUE), rank 1 on host B with ENV1, the master at $ADDR_A, given by flags (HOW=flags:
# --rank --world_size --dist_addr --dist_port) or by torchrun's variables (HOW=env: RANK,
# WORLD_SIZE, MASTER_ADDR, MASTER_PORT); logs in $T/NAME.{0,1}.log, exit statuses in rc0, rc1.
two_hosts() {
  local name=$1 how=$2 env0=$3 env1=$4
  shift 5
  local p r
  p=$(port)
  for r in 0 1; do
    local ns=$A env=$env0
    [ $r -eq 1 ] && ns=$B env=$env1
    if [ "$how" = flags ]; then
      env $env ip netns exec $ns "$TRAIN" "$@" --rank=$r --world_size=2 --dist_addr=$ADDR_A \
        --dist_port=$p >"$T/$name.$r.log" 2>&1 &
    else
      env $env RANK=$r WORLD_SIZE=2 MASTER_ADDR=$ADDR_A MASTER_PORT=$p \
        ip netns exec $ns "$TRAIN" "$@" >"$T/$name.$r.log" 2>&1 &
    fi
    eval "pid$r=\$!"
  done
  wait $pid0
  rc0=$?
  wait $pid1
  rc1=$?
}
compare() { $PY tests/python/torch_compare.py "$@"; }
one_error_line() {  # one_error_line LOG PATTERN: exactly one error line, matching, no C++ frames
  [ "$(grep -c '^error:' "$1")" -eq 1 ] && grep -qE "$2" "$1" &&
    ! grep -qE 'frame #|Exception raised|^\[c10d\]|\[c10d\]' "$1"
}

# fp64, interfaces found from the route to --dist_addr.
two_hosts f64 flags X=0 X=0 -- "${EQ[@]}" --train_precision=fp64 --batch_size=1 --work_dir="$T/f64"
if [ $rc0 -eq 0 ] && [ $rc1 -eq 0 ]; then
  ok "fp64, 2 hosts: both ranks finished"
else
  fail "fp64 across hosts (exit $rc0 / $rc1)"; tail -3 "$T/f64.0.log" "$T/f64.1.log"
fi
grep -q "^info: rank 0: Gloo on $VA $ADDR_A (the route to $ADDR_A)" "$T/f64.0.log" &&
  grep -q "^info: rank 1: Gloo on $VB $ADDR_B (the route to $ADDR_A)" "$T/f64.1.log" &&
  ok "each rank names its interface and address, found from the route to the master" ||
  { fail "interface info lines"; grep Gloo "$T"/f64.*.log; }
"$TRAIN" "${EQ[@]}" --train_precision=fp64 --batch_size=1 --nproc=2 --work_dir="$T/f64local" \
  >"$T/f64local.log" 2>&1 || fail "fp64 --nproc=2"
"$TRAIN" "${EQ[@]}" --train_precision=fp64 --batch_size=2 --work_dir="$T/f64big" \
  >"$T/f64big.log" 2>&1 || fail "fp64 batch 2"
compare "$T/f64local/iter_3.pth" "$T/f64/iter_3.pth" --optimizer >/dev/null &&
  ok "fp64: 2 hosts x batch 1 = --nproc=2 on one host, bit for bit" ||
  fail "fp64: 2 hosts differ from --nproc=2"
out=$(compare "$T/f64big/iter_3.pth" "$T/f64/iter_3.pth" --optimizer --atol 1e-10) &&
  ok "fp64: 2 hosts x batch 1 = 1 process x batch 2: $out" || fail "fp64 vs batch 2: $out"

# fp32, started with torchrun's variables, interfaces named by GLOO_SOCKET_IFNAME (each host
# its own).
two_hosts f32 env GLOO_SOCKET_IFNAME=$VA GLOO_SOCKET_IFNAME=$VB -- "${EQ[@]}" --batch_size=1 \
  --work_dir="$T/f32"
[ $rc0 -eq 0 ] && [ $rc1 -eq 0 ] &&
  grep -q "^info: rank 1: Gloo on $VB $ADDR_B (\$GLOO_SOCKET_IFNAME)" "$T/f32.1.log" &&
  ok "torchrun's variables and GLOO_SOCKET_IFNAME: the run works on the named interface" ||
  { fail "GLOO_SOCKET_IFNAME (exit $rc0 / $rc1)"; tail -3 "$T"/f32.*.log; }
"$TRAIN" "${EQ[@]}" --batch_size=1 --nproc=2 --work_dir="$T/f32local" >/dev/null 2>&1
compare "$T/f32local/iter_3.pth" "$T/f32/iter_3.pth" --optimizer >/dev/null &&
  ok "fp32: 2 hosts x batch 1 = --nproc=2 on one host, bit for bit" ||
  fail "fp32: 2 hosts differ from --nproc=2"

# The link cut during training, then resumed once it is back: a run of 24 iterations with a
# checkpoint every 2, interfaces named by --dist_iface, rank 1 with a work dir of its own
# (nothing in it: a rank other than 0 reads no checkpoint).
RUN=(--config=configs/toy.flags --data_root="$T/data" --crop_size=64x64 --img_scale=128x64
     --batch_size=1 --max_iters=24 --checkpoint_interval=2 --log_interval=1 --workers=1 --seed=6
     --threads=1 --dist_timeout=8)
p=$(port)
ip netns exec $A "$TRAIN" "${RUN[@]}" --work_dir="$T/cut" --rank=0 --world_size=2 \
  --dist_addr=$ADDR_A --dist_port=$p --dist_iface=$VA >"$T/cut.0.log" 2>&1 &
pid0=$!
ip netns exec $B "$TRAIN" "${RUN[@]}" --work_dir="$T/cut_b" --rank=1 --world_size=2 \
  --dist_addr=$ADDR_A --dist_port=$p --dist_iface=$VB >"$T/cut.1.log" 2>&1 &
pid1=$!
for _ in $(seq 1 600); do
  [ -e "$T/cut/iter_4.pth" ] && break
  sleep 0.1
done
ip -n $B link set $VB down
cut_at=$EPOCHREALTIME
wait $pid0; rc0=$?
wait $pid1; rc1=$?
took=$(elapsed $cut_at)
if [ -e "$T/cut/iter_24.pth" ]; then
  fail "the run ended before the link was cut"
elif [ $rc0 -eq 1 ] && [ $rc1 -eq 1 ] && within $took $((8 + SLACK)); then
  ok "link cut: both ranks ended with exit 1, ${took} s after the cut (--dist_timeout=8)"
else
  fail "link cut: exit $rc0 / $rc1 after ${took} s"
fi
checkpoint="$T/cut/iter_[0-9]*.pth \(continue with --resume\)"
one_error_line "$T/cut.0.log" \
  "^error: rank 0 \($ADDR_A\): .* failed: rank 1 \($ADDR_B\) .*last good checkpoint: $checkpoint" &&
  one_error_line "$T/cut.1.log" \
  "^error: rank 1 \($ADDR_B\): .* failed: rank 0 \($ADDR_A\) .*last good checkpoint: $checkpoint" &&
  ok "link cut: one line per rank naming its peer and the last good checkpoint" ||
  { fail "link cut messages"; grep -h '^error' "$T"/cut.*.log; }
grep -h '^error' "$T"/cut.*.log | sed 's/^/info: /'
ip -n $B link set $VB up
sleep 1
two_hosts resume flags X=0 X=0 -- "${RUN[@]}" --resume --work_dir="$T/cut"
[ $rc0 -eq 0 ] && [ $rc1 -eq 0 ] || { fail "resume (exit $rc0 / $rc1)"; tail -3 "$T"/resume.*.log; }
"$TRAIN" "${RUN[@]}" --nproc=2 --work_dir="$T/whole" >"$T/whole.log" 2>&1
compare "$T/whole/iter_24.pth" "$T/cut/iter_24.pth" --optimizer >/dev/null &&
  ok "resumed after the link came back: bit-identical to an uninterrupted run" ||
  fail "resume after the cut differs from an uninterrupted run"

# Nobody listens at --dist_addr; rank 1 never comes; an interface that does not exist.
start=$EPOCHREALTIME
ip netns exec $B "$TRAIN" "${RUN[@]}" --work_dir="$T/lost" --rank=1 --world_size=2 \
  --dist_addr=$NET.9 --dist_port=$(port) --dist_timeout=5 >"$T/lost.log" 2>&1
rc=$? took=$(elapsed $start)
[ $rc -eq 1 ] && within $took $((5 + SLACK)) &&
  one_error_line "$T/lost.log" "^error: rank 1 \($ADDR_B\): cannot join the process group at $NET.9:[0-9]+: the master did not answer" &&
  ok "unreachable master: one line, exit 1, ${took} s (--dist_timeout=5)" ||
  { fail "unreachable master (exit $rc, ${took} s)"; cat "$T/lost.log"; }
start=$EPOCHREALTIME
ip netns exec $A "$TRAIN" "${RUN[@]}" --work_dir="$T/alone" --rank=0 --world_size=2 \
  --dist_addr=$ADDR_A --dist_port=$(port) --dist_timeout=5 >"$T/alone.log" 2>&1
rc=$? took=$(elapsed $start)
[ $rc -eq 1 ] && within $took $((5 + SLACK)) &&
  one_error_line "$T/alone.log" "^error: rank 0 \($ADDR_A\): cannot join the process group at $ADDR_A:[0-9]+: rank 1 did not join within --dist_timeout=5 s" &&
  ok "a rank that never joins is named: one line, exit 1, ${took} s" ||
  { fail "missing rank (exit $rc, ${took} s)"; cat "$T/alone.log"; }
ip netns exec $A "$TRAIN" "${RUN[@]}" --work_dir="$T/iface" --rank=0 --world_size=2 \
  --dist_addr=$ADDR_A --dist_port=$(port) --dist_iface=nosuch0 >"$T/iface.log" 2>&1
rc=$?
[ $rc -eq 2 ] && one_error_line "$T/iface.log" \
  "^error: --dist_iface: no network interface named 'nosuch0' \(this host has: lo, $VA\)" &&
  ok "unknown --dist_iface: one flag error, exit 2" || { fail "--dist_iface=nosuch0 (exit $rc)"; cat "$T/iface.log"; }
finish
