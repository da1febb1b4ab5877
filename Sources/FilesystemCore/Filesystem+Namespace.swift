import Foundation
import ObjectStorage
import Synchronization

extension Filesystem {
    /// FUSE setattr: truncate, chmod, chown, utimens. A pending file takes the change into its next upload; a clean
    /// file's metadata change is one CopyObject onto itself with new metadata (REPLACE).
    public func setAttributes(_ ino: InodeNumber, _ changes: AttributeChanges) async throws -> NodeAttributes {
        let (path, kind) = try inodes.node(ino)
        try checkWritable()
        if let unlinked = try await setUnlinkedAttributes(ino, changes) { return unlinked }
        if kind == .directory {
            if changes.touchesMetadata { try await updateDirectory(path, changes) }
            return try await attributes(of: ino)
        }
        if changes.size != nil, kind != .file { throw NamespaceError.invalidArgument(detail: "truncate of a symlink") }
        if let file = pending.file(at: path) {
            if let size = changes.size { try await resize(file, to: size) }
            if changes.touchesMetadata {
                file.state.withLock { s in
                    changes.apply(to: &s.posix, kind: kind)
                    s.touch()
                }
            }
            if file.state.withLock({ $0.writers == 0 }) { scheduleUpload(file, after: configuration.uploadDelay) }
            return fileAttributes(ino, file.record())
        }
        guard case .file(let record) = try await resolve(path) else { throw NamespaceError.noEntry(path: path) }
        if let size = changes.size {
            // truncate(2) without an open file: a pending file just for this change.
            let base = ObjectVersion(key: record.key, etag: record.etag, size: record.size)
            let file = try makeWritableFile(
                path: path, key: record.key, base: base, size: record.size, posix: record.posix,
                other: record.otherMetadata, contentType: record.contentType)
            let target = pending.insertIfAbsent(file, at: path) ?? file
            if target !== file { file.spool.remove() }
            try await resize(target, to: size)
            if changes.touchesMetadata {
                target.state.withLock { s in
                    changes.apply(to: &s.posix, kind: kind)
                    s.touch()
                }
            }
            try? await LocalIO.run { try target.saveJournal() }
            scheduleUpload(target, after: configuration.uploadDelay)
            return fileAttributes(ino, target.record())
        }
        guard changes.touchesMetadata else { return fileAttributes(ino, record) }
        var posix = record.posix
        changes.apply(to: &posix, kind: kind)
        let attributes = ObjectAttributes(
            metadata: record.otherMetadata.merging(posix.metadata) { $1 }, contentType: record.contentType)
        let etag = try await copyObject(record, to: record.key, attributes: attributes)
        var updated = record
        updated.etag = etag
        updated.posix = posix
        updated.metadata = attributes.metadata
        cache.store(.file(updated), for: path)
        noteWritten(path, etag: etag)
        return fileAttributes(ino, updated)
    }

    /// CopyObject, or for sources over 5 GiB a multipart copy (S3's limit for a single copy).
    func copyObject(_ source: FileRecord, to destination: ObjectKey, attributes: ObjectAttributes?) async throws -> String {
        unlinked.keyReused(destination)
        return try await uploader.copy(source, to: destination, attributes: attributes)
    }

    /// chmod/chown/utimens of a directory: its marker object carries the metadata (created if the directory was
    /// implicit), extended attributes kept. Servers that drop metadata on markers (SeaweedFS) keep it for this mount
    /// only.
    func updateDirectory(_ path: String, _ changes: AttributeChanges) async throws {
        guard !path.isEmpty else { return }
        var (posix, attributes) = try await directoryMarkerState(path)
        changes.apply(to: &posix, kind: .directory)
        try await putDirectoryMarker(path, metadata: attributes.applied(to: posix.metadata))
        directoryMetadata.withLock { $0[path] = posix }
        directoryAttributeValues.withLock { $0[path] = attributes }
    }

    /// FUSE mkdir: a zero-byte `name/` marker with the directory's metadata.
    public func makeDirectory(_ name: String, in parent: InodeNumber, mode: UInt32, caller: Caller) async throws
        -> NodeAttributes
    {
        try checkWritable()
        try KeyMapping.validateNewName(name)
        let parentPath = try directoryPath(parent)
        let path = configuration.mapping.path(of: name, in: parentPath)
        if pending.file(at: path) != nil { throw NamespaceError.exists(path: path) }
        let marker = try configuration.mapping.markerKey(path)
        let posix = newPosix(mode: mode, kind: .directory, caller: caller)
        _ = try await store.put(
            marker, body: Data(),
            attributes: ObjectAttributes(metadata: posix.metadata, contentType: "application/x-directory"),
            ifNoneMatch: false)
        directoryMetadata.withLock { $0[path] = posix }
        directoryAttributeValues.withLock { $0[path] = ExtendedAttributes() }
        cache.store(.directory, for: path)
        cache.updateListing(parentPath) { $0.upsert(ListedEntry(name: name, kind: .directory)) }
        let ino = inodes.lookedUp(path, kind: .directory)
        return directoryAttributes(ino, path: path)
    }

    /// FUSE rmdir. - Throws: `NamespaceError.notEmpty` when anything lies below, implicit children included.
    public func removeDirectory(_ name: String, in parent: InodeNumber) async throws {
        try checkWritable()
        let parentPath = try directoryPath(parent)
        let path = configuration.mapping.path(of: name, in: parentPath)
        guard case .directory = try await resolve(path) else { throw NamespaceError.notADirectory(path: path) }
        if try await hasChildren(path) { throw NamespaceError.notEmpty(path: path) }
        try await store.delete(try configuration.mapping.markerKey(path))
        await deleteIndex(path)
        forgetPath(path, parent: parentPath, name: name)
    }

    func forgetPath(_ path: String, parent: String, name: String) {
        cache.store(.absent, for: path)
        cache.invalidateListing(path)
        cache.updateListing(parent) { $0.remove(name) }
        directoryMetadata.withLock { $0[path] = nil }
        directoryAttributeValues.withLock { $0[path] = nil }
        inodes.detach(path)
    }

    /// FUSE symlink: an object whose body is the target and whose mode has S_IFLNK (the s3fs format).
    public func makeSymlink(_ target: String, named name: String, in parent: InodeNumber, caller: Caller) async throws
        -> NodeAttributes
    {
        try checkWritable()
        try KeyMapping.validateNewName(name)
        guard target.utf8.count < 4096 else { throw NamespaceError.symlinkTooLong(path: name) }
        let parentPath = try directoryPath(parent)
        let path = configuration.mapping.path(of: name, in: parentPath)
        let key = try configuration.mapping.fileKey(path)
        let posix = newPosix(mode: 0o777, kind: .symlink, caller: caller)
        let body = Data(target.utf8)
        unlinked.keyReused(key)
        let etag = try await store.put(key, body: body, attributes: ObjectAttributes(metadata: posix.metadata), ifNoneMatch: false)
        let record = FileRecord(
            key: key, kind: .symlink, size: UInt64(body.count), etag: etag, lastModified: posix.mtime!.seconds,
            posix: posix)
        cache.store(.file(record), for: path)
        noteWritten(path, etag: etag)
        cache.updateListing(parentPath) { $0.upsert(ListedEntry(name: name, kind: .object(record.summary))) }
        return fileAttributes(inodes.lookedUp(path, kind: .symlink), record)
    }

    /// FUSE rename. A file or symlink: a pending file that never reached the bucket just changes its key; anything
    /// else is CopyObject then DeleteObject, metadata kept. A directory: every key below moves server-side
    /// (`renameDirectory`), crash-safe through an intent recorded in the bucket.
    public func rename(
        _ name: String, in parent: InodeNumber, to newName: String, in newParent: InodeNumber, noReplace: Bool,
        exchange: Bool
    ) async throws {
        try checkWritable()
        if exchange { throw NamespaceError.invalidArgument(detail: "RENAME_EXCHANGE") }
        try KeyMapping.validateNewName(newName)
        let fromParent = try directoryPath(parent)
        let toParent = try directoryPath(newParent)
        let from = configuration.mapping.path(of: name, in: fromParent)
        let to = configuration.mapping.path(of: newName, in: toParent)
        if from == to { return }
        let source = try await resolve(from)
        let target = try await resolve(to)
        if noReplace, target != .absent { throw NamespaceError.exists(path: to) }
        switch source {
        case .absent: throw NamespaceError.noEntry(path: from)
        case .directory:
            defer {
                // Whatever happened, nothing cached about either tree is trusted any more.
                cache.invalidateTree(from)
                cache.invalidateTree(to)
                cache.invalidateListing(fromParent)
                cache.invalidateListing(toParent)
            }
            try await renameDirectory(from: from, to: to, target: target)
            inodes.move(from, to: to)
            return
        case .file: break
        }
        if target == .directory { throw NamespaceError.isADirectory(path: to) }
        let toKey = try configuration.mapping.fileKey(to)
        if let replaced = pending.file(at: to) { markDeleted(replaced); pending.remove(replaced, at: to) }
        var record: FileRecord
        if let file = pending.file(at: from), let moved = tryMoveUnuploaded(file, to: to, key: toKey) {
            record = moved
        } else {
            if let file = pending.file(at: from) { try await waitUntilUploaded(file) }
            guard case .file(let current) = try await resolve(from) else { throw NamespaceError.noEntry(path: from) }
            let etag = try await copyObject(current, to: toKey, attributes: nil)
            try await store.delete(current.key)
            relocateOpenHandles([
                ObjectVersion(key: current.key, etag: current.etag, size: current.size):
                    ObjectVersion(key: toKey, etag: etag, size: current.size)
            ])
            record = current
            record.key = toKey
            record.etag = etag
            noteWritten(to, etag: etag)
            if let file = pending.file(at: from) {
                file.state.withLock { s in
                    s.path = to
                    s.key = toKey
                    s.base = ObjectVersion(key: toKey, etag: etag, size: current.size)
                }
                pending.move(from: from, to: to)
            }
        }
        cache.store(.absent, for: from)
        cache.updateListing(fromParent) { $0.remove(name) }
        cache.store(.file(record), for: to)
        cache.updateListing(toParent) { $0.upsert(ListedEntry(name: newName, kind: .object(record.summary))) }
        inodes.move(from, to: to)
    }

    /// Re-keys a pending file that has nothing in the bucket yet and is not uploading: the rename costs no request.
    private func tryMoveUnuploaded(_ file: WritableFile, to path: String, key: ObjectKey) -> FileRecord? {
        let moved = file.state.withLock { s -> Bool in
            guard s.base == nil, s.replacedETag == nil, s.uploadedGeneration == 0, !s.uploading else { return false }
            s.path = path
            s.key = key
            // O_EXCL held for the old name; rename(2) replaces the target (git's `HEAD.lock` -> `HEAD`).
            s.exclusive = false
            return true
        }
        guard moved else { return nil }
        pending.rename(file, to: path)
        return file.record()
    }
}
