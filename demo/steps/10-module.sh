# shellcheck shell=bash
# The module and the command: the kernel side answers through the Java library.

demo_section "The blksnap kernel module" \
	"vm/run loaded blksnap.ko into this guest's stock Debian kernel; it registers /dev/blksnap-control."
demo_step "blksnap.ko is loaded" -- grep -w '^blksnap' /proc/modules
demo_check "the control device exists" -- test -c /dev/blksnap-control

demo_section "The blksnap command" \
	"blksnap (Java, FFM - no JNI) asks the module for its version with the upstream ioctl."
demo_step "blksnap version answers from the kernel" -- blksnap version
version_matches_sysfs() { [[ $last_output == "$(cat /sys/module/blksnap/version)" ]]; }
demo_check "it matches what the module reports in sysfs" -- version_matches_sysfs
