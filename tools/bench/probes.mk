# klbd's health probes per second on one gateway, in the guest (see
# tools/bench/probes.sh).
BENCHES += tools/bench/probes-vm.sh
