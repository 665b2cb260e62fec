# shellcheck shell=bash
# What the scripts share: where things are cached and which kernels to use.
# Sourced, never run.

KSYNC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KSYNC_CACHE=${KSYNC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ksync}
mkdir -p "$KSYNC_CACHE"

die() { echo "ksync: $*" >&2; exit 1; }
say() { echo "ksync: $*" >&2; }

# Debian's current kernel ABI behind a meta package, e.g. 6.1.0-56-amd64.
debian_kernel() {
	apt-cache depends "$1" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(.*\)$/\1/p' | head -n 1
}

# The kernels the suite runs on: Debian's stock 6.1 and 6.12, and two of
# our own from Debian's 6.1 source, "debug" and "kcsan" (scripts/*.config).
stock_kernel() { debian_kernel linux-image-amd64; }
newer_kernel() { debian_kernel linux-image-6.12-amd64; }

# True for the kernels we build ourselves (scripts/kernel-debug-build).
own_kernel() { [ "$1" = debug ] || [ "$1" = kcsan ]; }

# The build tree that modules for kernel $1 are built against: the
# installed headers, or those scripts/headers-fetch unpacked into the cache.
kernel_build_dir() {
	local cached=$KSYNC_CACHE/headers/$1/usr/src/linux-headers-$1
	if own_kernel "$1"; then
		cat "$KSYNC_CACHE/$1/current" 2>/dev/null
	elif [ -d "/lib/modules/$1/build" ]; then
		echo "/lib/modules/$1/build"
	elif [ ! -d "/usr/src/linux-headers-$1" ] && [ -f "$cached/.ksync-complete" ]; then
		echo "$cached"
	else
		echo "/usr/src/linux-headers-$1"
	fi
}

# Run "$@" holding the cache's lock NAME: whoever comes second waits, then
# finds the work done (make check prepares kernels in the background while
# its foreground may ask for the same ones).
with_lock() {
	local name=$1
	shift
	(
		flock 9
		"$@"
	) 9>"$KSYNC_CACHE/.lock-$name"
}

# Debian's linux-source-6.1, extracted once into the cache; prints its path.
kernel_source() {
	local ver dir
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
		die "need Debian's linux-source-6.1: apt-get install linux-source-6.1 (make check does it)"
	dir=$KSYNC_CACHE/src/$ver/linux-source-6.1
	[ -f "$dir/.ksync-complete" ] || with_lock src extract_source "$ver" >&2 || die "extracting linux-source-6.1 failed"
	echo "$dir"
}

# (kernel_source's, under its lock.)  Into a scratch directory first: an
# interrupted extraction must not pass for a whole tree.  (Leaving out
# what no build reads, Documentation and drivers/gpu, halves what is
# written but not the time: the xz stream is read whole either way.)
extract_source() {
	local ver=$1 top=$KSYNC_CACHE/src/$1
	[ ! -f "$top/linux-source-6.1/.ksync-complete" ] || return 0
	say "extracting linux-source-6.1 $ver"
	rm -rf "$top" "$top.part"
	mkdir -p "$top.part"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$top.part" &&
		touch "$top.part/linux-source-6.1/.ksync-complete" &&
		mv "$top.part" "$top"
}

# What an initramfs is made of.  A cached one is rebuilt when this changes:
# by content, since a fresh checkout gives every script a new mtime.
initrd_key() {
	cat "$KSYNC_TOP/scripts/guest-init" "$KSYNC_TOP/scripts/make-initrd" \
		/bin/busybox | sha256sum | cut -c1-16
}
initrd_current() { [ -f "$1" ] && [ "$(cat "$1.key" 2>/dev/null)" = "$(initrd_key)" ]; }
