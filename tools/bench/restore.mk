# klbctl restore vs ipvsadm -R, in the guest (see tools/bench/restore.sh).
# Not in make bench: tools/bench/restore-ab.sh compares two klbctl builds
# (run by hand, see its header).
BENCHES += tools/bench/restore-vm.sh
