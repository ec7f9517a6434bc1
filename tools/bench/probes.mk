# Health-probe throughput of one gateway's klbd, in the guest (see
# tools/bench/probes.sh).
BENCHES += tools/bench/probes-vm.sh
