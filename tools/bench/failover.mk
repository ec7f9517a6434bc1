# The failover benchmark: a backend's death to every gateway's kernel
# updated, beside keepalived, in the guest (see tools/bench/failover.sh).
BENCHES += tools/bench/failover-vm.sh
