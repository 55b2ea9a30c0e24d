/**
 * Java API of blksnap: point-in-time snapshots and change-block tracking
 * of Linux block devices, through the blksnap kernel module.
 *
 * <ul>
 * <li>{@link org.blksnap.api.BlkSnap}: the control device — module version,
 *     creating, taking, listing and destroying snapshots, events;</li>
 * <li>{@link org.blksnap.api.Filter}: the filter on one block device —
 *     attach, detach, change-block tracking, adding it to a snapshot;</li>
 * <li>errors are {@link org.blksnap.api.BlkSnapException}s carrying the
 *     errno and a one-line message saying what to do.</li>
 * </ul>
 *
 * <p>Calls go through the Foreign Function and Memory API; run with
 * {@code --enable-native-access=ALL-UNNAMED}. The raw layer is
 * {@link org.blksnap.api.sys}.
 */
package org.blksnap.api;
