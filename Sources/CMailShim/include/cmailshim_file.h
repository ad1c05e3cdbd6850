// CMailShim, file part: what glibc has but Swift's Glibc module does not show (it needs
// _GNU_SOURCE), and an output BIO that uses it.
#ifndef CMAILSHIM_FILE_H
#define CMAILSHIM_FILE_H
#include <openssl/bio.h>

/// Asks the kernel to start writing [offset, offset+length) of `fd` to disk, without waiting
/// (sync_file_range SYNC_FILE_RANGE_WRITE). A hint that makes nothing durable: an fsync is
/// still needed. Returns 0 on success, -1 with errno set on failure.
int sm_file_start_writeback(int fd, long long offset, long long length);

/// Moves `oldname` (relative to `olddirfd`) to `newname` (relative to `newdirfd`) like
/// renameat, but fails with EEXIST instead of replacing an existing `newname`
/// (renameat2 RENAME_NOREPLACE, Linux 3.15; EINVAL where the filesystem lacks it). Neither
/// name is followed if it is a symbolic link. Returns 0, or -1 with errno set.
int sm_file_rename_noreplace(int olddirfd, const char *oldname, int newdirfd, const char *newname);

/// New source/sink BIO that writes to `fd` (which it does not close), looping over short writes
/// and EINTR. When `writeback_step` > 0, writeback of what it wrote is started every
/// `writeback_step` bytes (sm_file_start_writeback), so that a final fsync has little left to
/// do. Free with BIO_free. NULL on failure.
BIO *sm_bio_fd_sink(int fd, long long writeback_step);

/// The errno of the first write that failed in the sm_bio_fd_sink BIO of `chain` (found by
/// following BIO_next from `chain`), so that a failure reported higher up (by a CMS or base64
/// BIO) keeps its cause, a full disk for one; 0 when no write failed or there is no such BIO.
int sm_bio_fd_sink_error(BIO *chain);
#endif
