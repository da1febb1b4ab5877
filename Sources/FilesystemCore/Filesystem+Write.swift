import Foundation
import ObjectStorage
import Synchronization

/// Who asks: the caller's credentials, for the owner of what it creates.
public struct Caller: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }
}

/// The attribute changes of one setattr(2)-family call; nil fields stay as they are.
public struct AttributeChanges: Sendable, Hashable {
    public var size: UInt64?
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    public var atime: Timestamp?
    public var mtime: Timestamp?
    public init(
        size: UInt64? = nil, mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil, atime: Timestamp? = nil,
        mtime: Timestamp? = nil
    ) {
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.atime = atime
        self.mtime = mtime
    }

    var touchesMetadata: Bool { mode != nil || uid != nil || gid != nil || atime != nil || mtime != nil }

    func apply(to posix: inout POSIXMetadata, kind: NodeKind) {
        let now = Timestamp.now()
        if let mode { posix.mode = kind.modeBits | (mode & 0o7777) }
        if let uid { posix.uid = uid }
        if let gid { posix.gid = gid }
        if let atime { posix.atime = atime }
        if let mtime { posix.mtime = mtime }
        posix.ctime = now
    }
}

/// S3's largest object: 5 TiB.
let maximumObjectSize: UInt64 = 5 << 40

extension Filesystem {
    func checkWritable() throws(NamespaceError) {
        if configuration.readOnly || configuration.spoolDirectory == nil { throw .readOnly }
    }

    func directoryPath(_ ino: InodeNumber) throws -> String {
        let (path, kind) = try inodes.node(ino)
        guard kind == .directory else { throw NamespaceError.notADirectory(path: path) }
        return path
    }

    func newPosix(mode: UInt32, kind: NodeKind, caller: Caller) -> POSIXMetadata {
        let now = Timestamp.now()
        return POSIXMetadata(
            mode: kind.modeBits | (mode & 0o7777), uid: caller.uid, gid: caller.gid, mtime: now, atime: now, ctime: now)
    }

    /// A pending file with a new, empty spool.
    func makeWritableFile(
        path: String, key: ObjectKey, base: ObjectVersion?, size: UInt64, posix: POSIXMetadata,
        other: [String: String], contentType: String?
    ) throws -> WritableFile {
        guard let directory = configuration.spoolDirectory else { throw NamespaceError.readOnly }
        let id = UUID().uuidString.lowercased()
        let spool = try SpoolFile(path: "\(directory)/\(id).data", create: true)
        if size > 0, base == nil { try? ftruncateSync(spool, size) }
        let file = WritableFile(
            id: id, spool: spool, journalPath: "\(directory)/\(id).json", bucket: configuration.bucket, path: path,
            key: key, base: base, size: size, posix: posix, contentType: contentType)
        file.state.withLock { $0.otherMetadata = other }
        return file
    }

    private func ftruncateSync(_ spool: SpoolFile, _ size: UInt64) throws {
        guard ftruncate(spool.fd, off_t(size)) == 0 else { throw TransferError.localIO(path: spool.path, errno: errno) }
    }

    /// FUSE create: a new, empty file open for writing. With `exclusive` (O_EXCL), the upload is conditional
    /// (If-None-Match: *), so a file created meanwhile by another client is not overwritten.
    public func create(_ name: String, in parent: InodeNumber, mode: UInt32, exclusive: Bool, caller: Caller)
        async throws -> (NodeAttributes, OpenedFile)
    {
        try checkWritable()
        try KeyMapping.validateNewName(name)
        let parentPath = try directoryPath(parent)
        let path = configuration.mapping.path(of: name, in: parentPath)
        let key = try configuration.mapping.fileKey(path)
        if let old = pending.file(at: path) { markDeleted(old) }
        let file = try makeWritableFile(
            path: path, key: key, base: nil, size: 0, posix: newPosix(mode: mode, kind: .file, caller: caller),
            other: [:], contentType: nil)
        file.state.withLock {
            $0.exclusive = exclusive
            $0.writers = 1
        }
        pending.insert(file, at: path)
        cache.invalidate(path)
        let ino = inodes.lookedUp(path, kind: .file)
        inodes.handleOpened(ino)
        let handle = handles.insert(
            .file(OpenFile(inode: ino, path: path, version: version(of: file), readAhead: readAhead(), writable: file, isWriter: true)))
        return (fileAttributes(ino, file.record()), OpenedFile(handle: handle, keepCache: false))
    }

    func version(of file: WritableFile) -> ObjectVersion {
        let record = file.record()
        return ObjectVersion(key: record.key, etag: record.etag, size: record.size)
    }

    /// Opens an existing file for writing: its pending state if it has one, else a new pending file whose unchanged
    /// bytes stay those of the current object (or none, with O_TRUNC).
    func openForWriting(_ ino: InodeNumber, path: String, truncate: Bool) async throws -> OpenedFile {
        try checkWritable()
        let file: WritableFile
        if let existing = pending.file(at: path) {
            file = existing
        } else {
            guard case .file(let record) = try await resolve(path) else { throw NamespaceError.noEntry(path: path) }
            guard record.kind == .file else { throw NamespaceError.invalidArgument(detail: "not a regular file") }
            let base = ObjectVersion(key: record.key, etag: record.etag, size: record.size)
            file = try makeWritableFile(
                path: path, key: record.key, base: truncate ? nil : base, size: truncate ? 0 : record.size,
                posix: record.posix, other: record.otherMetadata, contentType: record.contentType)
            if truncate { file.state.withLock { $0.replacedETag = record.etag } }
            if let raced = pending.insertIfAbsent(file, at: path) {
                file.spool.remove()
                return try await openExisting(raced, ino: ino, path: path, truncate: truncate)
            }
        }
        return try await openExisting(file, ino: ino, path: path, truncate: truncate)
    }

    private func openExisting(_ file: WritableFile, ino: InodeNumber, path: String, truncate: Bool) async throws
        -> OpenedFile
    {
        file.state.withLock { $0.writers += 1 }
        if truncate { try await resize(file, to: 0) }
        inodes.handleOpened(ino)
        let handle = handles.insert(
            .file(OpenFile(inode: ino, path: path, version: version(of: file), readAhead: readAhead(), writable: file, isWriter: true)))
        return OpenedFile(handle: handle, keepCache: false)
    }

    /// FUSE write: `data` at `offset` into the file's spool. Returns the bytes written.
    /// - Throws: `NamespaceError.fileTooLarge` past S3's 5 TiB; `TransferError.localIO` if the spool fails.
    public func write(_ handle: FileHandleID, offset: UInt64, data: Data) async throws -> Int {
        let open = try handles.file(handle)
        guard let file = open.writable, open.isWriter else { throw NamespaceError.unknownHandle(handle) }
        let end = offset + UInt64(data.count)
        guard end <= maximumObjectSize else { throw NamespaceError.fileTooLarge(path: open.path) }
        breakStream(of: file, ifTouching: offset)
        let reserved = try await reserveSpool(for: file, offset..<end)
        do {
            try await file.spool.write(data, at: offset)
        } catch {
            spoolBudget.refund(reserved)
            throw error
        }
        settleSpool(file, offset..<end, reserved: reserved)
        let now = Timestamp.now()
        file.state.withLock { s in
            s.dirty.insert(offset..<end)
            s.size = max(s.size, end)
            s.posix.mtime = now
            s.posix.ctime = now
            s.touch()
        }
        streamIfReady(file)
        return data.count
    }

    /// Changes the size of a pending file: the spool follows, a shrink forgets base bytes past the new end, and
    /// growth reads as zeros.
    func resize(_ file: WritableFile, to size: UInt64) async throws {
        guard size <= maximumObjectSize else { throw NamespaceError.fileTooLarge(path: file.state.withLock { $0.path }) }
        breakStream(of: file, ifTouching: size)
        try await file.spool.truncate(to: size)
        let now = Timestamp.now()
        file.state.withLock { s in
            if size < s.size {
                s.dirty.truncate(to: size)
                s.baseLimit = min(s.baseLimit, size)
            } else if size > s.size {
                s.dirty.insert(s.size..<size)
            }
            s.size = size
            s.posix.mtime = now
            s.posix.ctime = now
            s.touch()
        }
        // Sparse growth costs no spool bytes; a shrink gives back what lies past the new end.
        refundSpool(of: file, past: size)
    }

    /// FUSE flush (every close(2)): the file's journal is saved so that a daemon killed from now on uploads it at the
    /// next mount; with `--sync-on-close`, waits until it is in the bucket.
    public func flush(_ handle: FileHandleID) async throws {
        let open = try handles.file(handle)
        guard let file = open.writable, open.isWriter else { return }
        try await LocalIO.run { try file.saveJournal() }
        if configuration.syncOnClose { try await waitUntilUploaded(file) }
    }

    /// FUSE fsync: returns once the file is in the bucket, or with the upload's error.
    public func fsync(_ handle: FileHandleID) async throws {
        let open = try handles.file(handle)
        guard let file = open.writable else { return }
        try await waitUntilUploaded(file)
    }

    /// FUSE release: the last writer's release starts the upload after the quiet time.
    public func release(_ handle: FileHandleID) async throws {
        guard case .file(let open) = handles.remove(handle) else { return }
        inodes.handleClosed(open.inode)
        if let file = open.writable, open.isWriter {
            let last = file.state.withLock { s -> Bool in
                s.writers -= 1
                return s.writers == 0
            }
            if last {
                try? await LocalIO.run { try file.saveJournal() }
                scheduleUpload(file, after: configuration.uploadDelay)
            }
        }
        await finishUnlink(ifLastHandleOn: open.inode)
    }

    func markDeleted(_ file: WritableFile) {
        file.state.withLock { $0.deleted = true }
        abandonStream(of: file)
        retireIfClean(file)
    }
}

