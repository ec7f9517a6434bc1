# SPDX-License-Identifier: GPL-2.0
# The failover benchmark's plots (tools/bench/failover.sh runs it):
#   gnuplot -e "dir='build/bench/failover'" tools/bench/failover.gp
# failover-timeline.svg: one klb failover (the median trial with the TCP
# check), each gateway's own verdict and its kernel's switch, in ms since
# the backend died. failover-cdf.svg: the distribution over all trials of
# "down in all three kernels" (klb) and "real server removed" (keepalived).
if (!exists("dir")) dir = "build/bench/failover"
set terminal svg size 800,360 dynamic font "sans,12" background "white"
set datafile missing "-"

# One line: trial backend detect1 detect2 detect3 kern1 kern2 kern3
# first_detect majority_detect first_kern all_kern restore
trial = dir . "/klb-tcp-median.dat"
klb = dir . "/klb-tcp.dat"
ka = dir . "/keepalived.dat"
# (Counted before any range is set: stats honours the ranges.)
stats klb using 12 nooutput
nk = STATS_records
have_ka = system("test -s " . ka . " && echo 1 || echo 0") + 0
if (have_ka) {
	stats ka using 4 nooutput
	na = STATS_records
}
set output dir . "/failover-timeline.svg"
set title "The median klb failover: check tcp interval 200 timeout 100 fall 2, three gateways"
set xlabel "ms since the backend's host died"
set ytics ("gw1" 1, "gw2" 2, "gw3" 3)
set yrange [0.4:3.6]
set xrange [0:*]
set grid xtics
set key inside left top opaque box samplen 2
# Each event at its gateway's row; the majority line is where the second
# gateway's own verdict puts a proposal to the cluster (then Raft commit,
# apply, and the push to each kernel).
plot \
	trial using 3:(1) with points pt 7 ps 1.2 lc rgb "#d95f02" title "probe verdict: failing from here", \
	'' using 4:(2) with points pt 7 ps 1.2 lc rgb "#d95f02" notitle, \
	'' using 5:(3) with points pt 7 ps 1.2 lc rgb "#d95f02" notitle, \
	'' using 6:(1) with points pt 5 ps 1.2 lc rgb "#1b9e77" title "kernel has it down", \
	'' using 7:(2) with points pt 5 ps 1.2 lc rgb "#1b9e77" notitle, \
	'' using 8:(3) with points pt 5 ps 1.2 lc rgb "#1b9e77" notitle, \
	'' using 10:(0.4):(0):(3.2) with vectors nohead dt 2 lc rgb "#7570b3" \
		title "majority failing: proposal, commit, push"

set output dir . "/failover-cdf.svg"
set title "Backend death to kernel updated, all trials"
set xlabel "ms since the backend's host died"
set ylabel "fraction of trials"
unset ytics
set ytics 0.25
set yrange [0:1.02]
set xrange [0:*]
set key outside bottom center horizontal maxrows 1 nobox noopaque samplen 2
# The goal: every kernel within 1 s at p99.
set arrow 1 from 1000, graph 0 to 1000, graph 1 nohead dt 3 lc rgb "black"
set label 1 "1 s" at 1000, graph 0.06 offset 0.5, 0
if (have_ka) {
	plot klb using 12:(1.0 / nk) smooth cumulative with steps lw 2 lc rgb "#1b9e77" \
		title "klb: down in all three kernels (majority of 3)", \
	     ka using 4:(1.0 / na) smooth cumulative with steps lw 2 lc rgb "#d95f02" \
		title "keepalived: real server removed (one host)"
} else {
	plot klb using 12:(1.0 / nk) smooth cumulative with steps lw 2 lc rgb "#1b9e77" \
		title "klb: down in all three kernels (majority of 3)"
}
