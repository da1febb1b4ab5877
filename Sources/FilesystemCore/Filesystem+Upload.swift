import Glibc
import Logging
import Synchronization
import Foundation
import ObjectStorage

extension Filesystem {
    /// Starts uploading `file` after `delay` (the quiet time after a close, during which a chmod or utimens rides
    /// along with the data), unless an upload loop for it runs already; that loop picks up every newer generation.
    func scheduleUpload(_ file: WritableFile, after delay: Duration) {
        let start = file.state.withLock { s -> Bool in
            if s.scheduled || s.uploading { return false }
            s.scheduled = true
            return true
        }
        guard start else { return }
        Task { await self.uploadLoop(file, delay: delay) }
    }

    private enum UploadStep {
        case upload(UploadSnapshot)
        case finished
        case waitForClose
    }

    private func uploadLoop(_ file: WritableFile, delay: Duration) async {
        var wait = delay
        while true {
            if wait > .zero {
                // An fsync or unmount cuts the quiet time short; one whose waiter already got this failure does not,
                // or a failing upload would be retried without backoff.
                let until = ContinuousClock.now + wait
                while ContinuousClock.now < until {
                    let cut = file.state.withLock { s in
                        // The quiet time (no failure yet) ends for any urgency, a full spool's included; a retry
                        // back-off only for a waiter that has not been told of the failure.
                        s.deleted
                            || (s.urgentGeneration > s.uploadedGeneration && (s.attempts == 0 || !s.waiters.isEmpty))
                    }
                    if cut { break }
                    try? await Task.sleep(for: min(.milliseconds(50), until - ContinuousClock.now))
                }
            }
            let step = file.state.withLock { s -> UploadStep in
                if s.deleted || s.isClean {
                    s.scheduled = false
                    return .finished
                }
                if s.held {
                    s.scheduled = false  // the directory rename schedules again
                    return .waitForClose
                }
                if s.writers > 0, s.urgentGeneration <= s.uploadedGeneration {
                    s.scheduled = false  // release() schedules again
                    return .waitForClose
                }
                s.uploading = true
                s.scheduled = false
                return .upload(UploadSnapshot(s))
            }
            guard case .upload(let snapshot) = step else {
                if case .finished = step { retireIfClean(file) }
                return
            }
            // The new object replaces one unlinked here while open: that one's deferred delete must not follow it.
            unlinked.keyReused(snapshot.key)
            do {
                let etag = try await uploadLimit.run { try await uploader.upload(file, snapshot) }
                uploaded(file, snapshot, etag: etag)
                wait = .zero
            } catch {
                let attempts = file.state.withLock { s -> Int in
                    s.uploading = false
                    s.scheduled = true
                    s.failure = "\(error)"
                    s.attempts += 1
                    // fsync(2) reports the failure; the upload itself is retried, never dropped.
                    let failed = s.waiters.filter { $0.generation <= s.urgentGeneration }
                    s.waiters.removeAll { $0.generation <= s.urgentGeneration }
                    for waiter in failed { waiter.continuation.resume(throwing: error) }
                    return s.attempts
                }
                logger.error(
                    "upload failed, will retry",
                    metadata: ["s3.key": "\(snapshot.key)", "attempt": "\(attempts)", "error": "\(error)"])
                wait = .milliseconds(min(60_000, 500 << min(attempts, 7)))
            }
        }
    }

    /// Records a finished upload: the new object is the base from now on, and waiters up to its generation resume.
    private func uploaded(_ file: WritableFile, _ snapshot: UploadSnapshot, etag: String) {
        let (path, record, done) = file.state.withLock { s in
            s.uploading = false
            s.uploadedGeneration = max(s.uploadedGeneration, snapshot.generation)
            s.failure = nil
            s.attempts = 0
            s.lastETag = etag
            s.exclusive = false
            s.base = ObjectVersion(key: snapshot.key, etag: etag, size: snapshot.size)
            s.baseLimit = min(snapshot.size, s.size)
            if s.generation == snapshot.generation { s.dirty = ByteRangeSet() }
            let done = s.waiters.filter { $0.generation <= s.uploadedGeneration }
            s.waiters.removeAll { $0.generation <= s.uploadedGeneration }
            let record = FileRecord(
                key: s.key, kind: .file, size: snapshot.size, etag: etag, lastModified: s.posix.mtime?.seconds ?? 0,
                posix: s.posix, other: s.otherMetadata, contentType: s.contentType)
            return (s.path, record, done)
        }
        // Waiters (fsync, sync, unmount) resume only once the cache and the index know the upload.
        defer { for waiter in done { waiter.continuation.resume() } }
        logger.debug("uploaded", metadata: ["s3.key": "\(snapshot.key)", "bytes": "\(snapshot.size)"])
        if !file.state.withLock({ $0.isClean }) { return }
        cache.store(.file(record), for: path)
        noteWritten(path, etag: etag)
        let (parent, name) = Self.split(path)
        cache.updateListing(parent) { $0.upsert(ListedEntry(name: name, kind: .object(record.summary))) }
        retireIfClean(file)
    }

    /// Drops a file from the pending set once it is clean and no writer holds it; its spool goes with it.
    func retireIfClean(_ file: WritableFile) {
        let retire = file.state.withLock { s -> String? in
            guard (s.isClean || s.deleted), s.writers == 0, !s.uploading else { return nil }
            return s.path
        }
        guard let path = retire else { return }
        pending.remove(file, at: path)
        _ = Glibc.unlink(file.journalPath)
        file.spool.remove()
        refundSpool(of: file)
    }

    /// Waits until `file` is in the bucket as of now (fsync(2)).
    /// - Throws: the upload's error if an attempt failed; the upload is retried in the background regardless.
    func waitUntilUploaded(_ file: WritableFile) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let ready = file.state.withLock { s -> Bool in
                if s.isClean || s.deleted { return true }
                s.urgentGeneration = s.generation
                s.waiters.append((s.generation, continuation))
                return false
            }
            // Scheduled after the waiter is registered, so the loop sees it as urgent; inside the closure, since the
            // await below ends only when the upload does.
            if ready { continuation.resume() } else { scheduleUpload(file, after: .zero) }
        }
    }

    /// Waits until every pending file below the directory at `path` (all, for "") is in the bucket: fsync of a
    /// directory, `bucketfs sync`, unmount.
    public func syncAll(under path: String = "") async throws {
        let prefix = path.isEmpty ? "" : path + "/"
        var firstError: (any Error)?
        for file in pending.all {
            let filePath = file.state.withLock { $0.path }
            guard path.isEmpty || filePath.hasPrefix(prefix) else { continue }
            do { try await waitUntilUploaded(file) } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    /// Pending uploads now: files, bytes, and the failures being retried (for `bucketfs status`).
    public func pendingUploads() -> (files: Int, bytes: UInt64, failures: [(path: String, reason: String)]) {
        var bytes: UInt64 = 0
        var failures: [(String, String)] = []
        let files = pending.all
        for file in files {
            file.state.withLock { s in
                bytes += s.base == nil ? s.size : s.dirty.count
                if let reason = s.failure { failures.append((s.path, reason)) }
            }
        }
        return (files.count, bytes, failures)
    }
}
