import Foundation
import Glibc
import Logging
import ObjectStorage
import Synchronization

extension Filesystem {
    /// FUSE unlink. The name is gone from this mount at once. A file no handle holds is deleted now; one still open
    /// keeps its data readable (and writable) through those handles, as on a local disk, and its DeleteObject waits
    /// for the last close (`release`), or for unmount. Its writes never reach the bucket.
    /// - Throws: `NamespaceError.noEntry`, `.isADirectory`, `.readOnly`; store errors of an immediate delete.
    public func unlink(_ name: String, in parent: InodeNumber) async throws {
        try checkWritable()
        let parentPath = try directoryPath(parent)
        let path = configuration.mapping.path(of: name, in: parentPath)
        let entry = try await resolve(path)
        guard case .file(let record) = entry else {
            if entry == .directory { throw NamespaceError.isADirectory(path: path) }
            throw NamespaceError.noEntry(path: path)
        }
        var target: UnlinkedFiles.DeleteTarget? = UnlinkedFiles.DeleteTarget(key: record.key, etag: record.etag)
        let file = pending.file(at: path)
        if let file {
            file.state.withLock { $0.deleted = true }
            abandonStream(of: file)
            // An upload under way finishes first, so the delete is the last word.
            while file.state.withLock({ $0.uploading }) { try await Task.sleep(for: .milliseconds(10)) }
            // A killed daemon must not upload an unlinked file at the next mount.
            _ = Glibc.unlink(file.journalPath)
            target = file.state.withLock { s in
                (s.base?.etag ?? s.replacedETag).map { UnlinkedFiles.DeleteTarget(key: s.key, etag: $0) }
            }
            retireIfClean(file)
            pending.remove(file, at: path)
        }
        let ino = inodes.existingInode(for: path)
        forgetPath(path, parent: parentPath, name: name)
        guard let ino, handles.hasOpenFile(on: ino) else {
            if let target { try await store.delete(target.key) }
            return
        }
        // Journaled before it is registered, so a last close that finishes it also removes the journal.
        if let target { await journalDeferredDelete(target, of: ino) }
        unlinked.unlinked(ino, record: record, writable: file, target: target)
        // A release that ran between the check above and the registration found nothing to do: finish for it.
        await finishUnlink(ifLastHandleOn: ino)
    }

    /// Performs the deferred delete of `ino` once no handle holds it. Called by `release` and by `unlink` itself.
    func finishUnlink(ifLastHandleOn ino: InodeNumber) async {
        guard unlinked.contains(ino), !handles.hasOpenFile(on: ino),
            let target = unlinked.lastHandleClosed(ino)
        else { return }
        await deleteUnlinked(target)
        removeDeferredDeleteJournal(of: ino)
    }

    /// Deletes `target` if the bucket still holds that version (HEAD, then DELETE): another client's newer object at
    /// the key is left alone.
    func deleteUnlinked(_ target: UnlinkedFiles.DeleteTarget) async {
        do {
            let current = try await store.head(target.key)
            guard current.etag == target.etag else {
                logger.info(
                    "unlinked object replaced by another client; not deleted", metadata: ["s3.key": "\(target.key)"])
                return
            }
            try await store.delete(target.key)
            logger.debug("deferred delete done", metadata: ["s3.key": "\(target.key)"])
        } catch ObjectStoreError.notFound {
            return
        } catch {
            logger.error(
                "deferred delete failed; the object stays in the bucket",
                metadata: ["s3.key": "\(target.key)", "error": "\(error)"])
        }
    }

    /// Unmount: the kernel sends no more releases, so every delete still waiting for a last close happens now.
    public func finishDeferredDeletes() async {
        for target in unlinked.drain() { await deleteUnlinked(target) }
        removeAllDeferredDeleteJournals()
    }

    /// getattr of an unlinked file whose handles are still open (fstat(2) on them), or nil for any other inode.
    func unlinkedAttributes(_ ino: InodeNumber) -> NodeAttributes? {
        guard !inodes.isAttached(ino), let record = unlinked.record(ino) else { return nil }
        return fileAttributes(ino, record)
    }

    /// setattr of an unlinked file whose handles are still open (ftruncate, fchmod, futimens on them): the change is
    /// the open file's alone, since nothing of it will reach the bucket. Nil for any other inode.
    func setUnlinkedAttributes(_ ino: InodeNumber, _ changes: AttributeChanges) async throws -> NodeAttributes? {
        guard !inodes.isAttached(ino), unlinked.contains(ino) else { return nil }
        let (path, kind) = try inodes.node(ino)
        if let file = unlinked.writable(ino) {
            if let size = changes.size { try await resize(file, to: size) }
            if changes.touchesMetadata { file.state.withLock { changes.apply(to: &$0.posix, kind: kind) } }
        } else {
            // ftruncate(2) needs a descriptor open for writing, and those have local content.
            if changes.size != nil { throw NamespaceError.invalidArgument(detail: "truncate of unlinked \(path)") }
            unlinked.updateRecord(ino) { changes.apply(to: &$0.posix, kind: kind) }
        }
        return unlinkedAttributes(ino)
    }

    /// The journal path of the deferred delete of `ino` in this daemon, or nil without a spool folder.
    private func deferredDeleteJournalPath(of ino: InodeNumber) -> String? {
        configuration.spoolDirectory.map { "\($0)/\(instanceID)-\(ino.rawValue)\(DeferredDeleteJournal.suffix)" }
    }

    private func journalDeferredDelete(_ target: UnlinkedFiles.DeleteTarget, of ino: InodeNumber) async {
        guard let path = deferredDeleteJournalPath(of: ino) else { return }
        let journal = DeferredDeleteJournal(bucket: configuration.bucket, key: target.key.rawValue, etag: target.etag)
        do {
            try await LocalIO.run { try journal.save(to: path) }
        } catch {
            logger.warning(
                "deferred delete not journaled; a killed daemon leaves the object",
                metadata: ["s3.key": "\(target.key)", "error": "\(error)"])
        }
    }

    private func removeDeferredDeleteJournal(of ino: InodeNumber) {
        if let path = deferredDeleteJournalPath(of: ino) { _ = Glibc.unlink(path) }
    }

    private func removeAllDeferredDeleteJournals() {
        guard let directory = configuration.spoolDirectory,
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
        else { return }
        for name in names where name.hasPrefix("\(instanceID)-") && name.hasSuffix(DeferredDeleteJournal.suffix) {
            _ = Glibc.unlink("\(directory)/\(name)")
        }
    }

    /// Finishes the deferred deletes a previous daemon journaled but did not perform (it was killed while an unlinked
    /// file was open): each object whose HEAD still shows the unlinked ETag is deleted. Runs in the background.
    public func recoverDeferredDeletes() {
        guard let directory = configuration.spoolDirectory,
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
        else { return }
        var targets: [(UnlinkedFiles.DeleteTarget, String)] = []
        for name in names where name.hasSuffix(DeferredDeleteJournal.suffix) {
            let path = "\(directory)/\(name)"
            guard let journal = DeferredDeleteJournal.load(from: path), journal.bucket == configuration.bucket else {
                continue
            }
            guard let key = ObjectKey(journal.key) else {
                _ = Glibc.unlink(path)
                continue
            }
            targets.append((UnlinkedFiles.DeleteTarget(key: key, etag: journal.etag), path))
        }
        guard !targets.isEmpty else { return }
        logger.info("finishing deferred deletes of a previous daemon", metadata: ["objects": "\(targets.count)"])
        Task {
            for (target, path) in targets {
                await self.deleteUnlinked(target)
                _ = Glibc.unlink(path)
            }
        }
    }
}
