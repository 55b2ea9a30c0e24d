# shellcheck shell=bash
# The full story on a live ext4: track changes, take a snapshot while the
# filesystem is being written, read the old files from the image, and let
# CBT name the blocks that changed.

DEMO_MNT=/tmp/demo-live
DEMO_FILES=(notes.txt data.bin)

make_live_fs() {
	mkfs.ext4 -q -F /dev/vda && mkdir -p "$DEMO_MNT" && mount /dev/vda "$DEMO_MNT" &&
		echo "written before the snapshot" >"$DEMO_MNT/notes.txt" &&
		head -c 8M /dev/urandom >"$DEMO_MNT/data.bin" && sync &&
		(cd "$DEMO_MNT" && md5sum "${DEMO_FILES[@]}") | tee /tmp/demo-before.md5
}

demo_section "Change-block tracking on a live ext4" \
	"/dev/vda gets an ext4 with two files; the blksnap filter is attached while it is mounted: no reboot, no reformat, no LVM."
demo_step "an ext4 with files, mounted and in use" -- make_live_fs
demo_step "attach the filter: tracking starts" -- blksnap attach --device /dev/vda
demo_step "the tracker: block size, capacity, generation" -- blksnap cbtinfo --device /dev/vda

demo_section "A snapshot while the filesystem is written" \
	"blksnap snapshot takes /dev/vda at one point in time (storage: an unnamed file in /tmp), runs demo/in-snapshot while the image exists, and destroys it afterwards. Inside, the live files are overwritten, then the image is mounted: it must still hold the files as they were at the take."
demo_step "overwrite the live files, read the old ones from the image" -- \
	blksnap snapshot --device /dev/vda --storage /tmp --limit 256M -- "$ROOT/demo/in-snapshot" "$DEMO_MNT"
live_changed() { ! (cd "$DEMO_MNT" && md5sum --quiet -c /tmp/demo-before.md5 >/dev/null 2>&1); }
demo_check "the live filesystem does hold the new content" -- live_changed
no_snapshot_left() { [[ -z $(blksnap snapshot_collect) ]]; }
demo_check "no snapshot is left behind (snapshot_collect lists none)" -- no_snapshot_left

demo_section "What changed, by CBT" \
	"Each take closes a CBT interval. A second take (an empty snapshot run) closes the interval of the overwrites; the blocks changed after changes number 1 are exactly what an incremental backup would read."
demo_step "a second take" -- blksnap snapshot -d /dev/vda -s /tmp -l 64M -- true
demo_step "changes number is now 2" -- blksnap cbtinfo --device /dev/vda
demo_step "blocks changed between the two takes" -- blksnap readcbtmap --device /dev/vda --since 1
some_extent() { [[ -n $last_output ]]; }
demo_check "CBT lists the overwritten blocks" -- some_extent
cleanup_live_fs() { blksnap detach --device /dev/vda && umount "$DEMO_MNT"; }
demo_check "detach the filter and unmount" -- cleanup_live_fs
