#!/bin/sh
# Install every Debian package that building, testing and benchmarking klb
# needs. Idempotent and quiet: when everything is present it does nothing.
set -eu

packages="
	build-essential bc flex bison libelf-dev libssl-dev kmod cpio xz-utils
	linux-headers-amd64 linux-image-amd64 linux-source-6.1
	qemu-system-x86 busybox-static
	libmnl-dev libnl-3-dev libnl-genl-3-dev liburing-dev libjson-c-dev
	libinih-dev
	iproute2 ipvsadm iperf3 socat ncat valgrind python3 nftables openssl
	keepalived gnuplot-nox curl prometheus
	clang-14 libclang-rt-14-dev
	python3-yaml python3-jsonschema
	dkms dh-dkms debhelper lintian
"

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run 'make deps' as root to install them" >&2
	exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Some packages are daemons wanted only for a tool or a side-by-side test
# (prometheus for promtool, keepalived for the failover benchmark): they
# must not start on this machine. policy-rc.d refuses every start during
# the install, and they are disabled afterwards.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
for unit in prometheus keepalived; do
	case " $missing " in
	*" $unit "*) systemctl disable --now "$unit" >/dev/null 2>&1 || true ;;
	esac
done
