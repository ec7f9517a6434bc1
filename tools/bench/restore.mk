# klbctl restore vs ipvsadm -R, in the guest (see tools/bench/restore.sh).
BENCHES += tools/bench/restore-vm.sh
