# The fast path beside plain routing and IPVS, in the guest (see
# tools/bench/datapath.sh).
BENCHES += tools/bench/datapath-vm.sh
