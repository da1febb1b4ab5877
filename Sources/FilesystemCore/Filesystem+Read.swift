import Synchronization
import Foundation
import ObjectStorage

/// What open(2) gives the bridge.
public struct OpenedFile: Sendable {
    public var handle: FileHandleID
    /// Whether the kernel may keep its page cache: the object version is the one it cached before.
    public var keepCache: Bool
}

extension Filesystem {
    /// FUSE open. A read-only open of a clean file reads the object version current at open; an open for writing
    /// (or of a file with pending writes) goes through the file's spool.
    /// - Throws: `NamespaceError.readOnly`, `.isADirectory`, `.noEntry`.
    public func open(_ ino: InodeNumber, writable: Bool, truncate: Bool = false) async throws -> OpenedFile {
        let (path, kind) = try inodes.node(ino)
        guard kind != .directory else { throw NamespaceError.isADirectory(path: path) }
        if writable || truncate {
            return try await openForWriting(ino, path: path, truncate: truncate)
        }
        if let file = pending.file(at: path) {
            let record = file.record()
            let version = ObjectVersion(key: record.key, etag: record.etag, size: record.size)
            let handle = OpenFile(inode: ino, path: path, version: version, readAhead: readAhead(), writable: file)
            inodes.handleOpened(ino)
            return OpenedFile(handle: handles.insert(.file(handle)), keepCache: false)
        }
        guard case .file(let record) = try await resolve(path) else { throw NamespaceError.noEntry(path: path) }
        let version = ObjectVersion(key: record.key, etag: record.etag, size: record.size)
        let file = OpenFile(inode: ino, path: path, version: version, readAhead: readAhead())
        let keep = lastOpenedVersions.withLock { seen -> Bool in
            defer { seen[ino] = version }
            return seen[ino] == version
        }
        inodes.handleOpened(ino)
        return OpenedFile(handle: handles.insert(.file(file)), keepCache: keep)
    }

    func readAhead() -> ReadAhead {
        let window = min(configuration.maximumReadahead, UInt64(configuration.cacheMemoryBytes / 4))
        return ReadAhead(
            initialWindow: min(1 << 20, window), maximumWindow: window, alignment: UInt64(blocks.maximumFetchSize))
    }

    /// FUSE read: up to `count` bytes at `offset` (fewer at the end of the file).
    /// - Throws: `NamespaceError.changedRemotely` (ESTALE) when the object was replaced since open.
    public func read(_ handle: FileHandleID, offset: UInt64, count: Int) async throws -> Data {
        Data(joining: try await readParts(handle, offset: offset, count: count))
    }

    /// `read` as consecutive pieces (block-cache slices), for a reply that gathers them without a copy.
    public func readParts(_ handle: FileHandleID, offset: UInt64, count: Int) async throws -> [Data] {
        let file = try handles.file(handle)
        if let writable = file.writable {
            let data = try await writable.read(offset..<(offset + UInt64(count))) { base, range in
                try await blocks.read(base, range: ByteRange(range), fetch: fetcher(for: base, path: file.path))
            }
            return [data]
        }
        let version = file.version
        guard offset < version.size, count > 0 else { return [] }
        let fetch = fetcher(for: version, path: file.path)
        if let ahead = file.readAhead.withLock({ $0.read(offset: offset, count: UInt64(count), size: version.size) }) {
            blocks.prefetch(version, range: ByteRange(ahead), fetch: fetch)
        }
        return try await blocks.readParts(version, range: ByteRange(offset: offset, count: UInt64(count)), fetch: fetch)
    }

    /// A ranged GET of the handle's object version; If-Match keeps versions apart.
    func fetcher(for version: ObjectVersion, path: String) -> BlockCache.Fetch {
        let store = self.store
        let cache = self.cache
        return { [self] range in
            do {
                return try await store.get(version.key, range: range, ifMatch: version.etag).data
            } catch ObjectStoreError.notFound {
                // Renamed (with its directory, or alone) while this handle was open: read it where it is now.
                guard let moved = relocations.withLock({ $0[version] }) else { throw ObjectStoreError.notFound(key: version.key.rawValue) }
                return try await store.get(moved.key, range: range, ifMatch: moved.etag).data
            } catch ObjectStoreError.preconditionFailed {
                cache.invalidate(path)
                throw NamespaceError.changedRemotely(key: version.key.rawValue)
            }
        }
    }


    /// FUSE readlink: the target stored as the symlink object's body.
    public func readLink(_ ino: InodeNumber) async throws -> String {
        let (path, kind) = try inodes.node(ino)
        guard kind == .symlink else { throw NamespaceError.invalidArgument(detail: "not a symlink: \(path)") }
        let key = try configuration.mapping.fileKey(path)
        // PATH_MAX: a longer body is not a target any kernel call accepts.
        let body = try await store.get(key, range: ByteRange(offset: 0, count: 4096), ifMatch: nil)
        guard body.info.size <= 4095, let target = String(data: body.data, encoding: .utf8) else {
            throw NamespaceError.symlinkTooLong(path: path)
        }
        return target
    }

    /// access(2): checks `mask` (R_OK 4, W_OK 2, X_OK 1) against the node's mode for the caller.
    public func checkAccess(_ ino: InodeNumber, mask: Int32, uid: UInt32, gid: UInt32) async throws {
        let attributes = try await attributes(of: ino)
        if mask & 2 != 0, configuration.readOnly { throw NamespaceError.readOnly }
        if uid == 0 { return }
        let shift: UInt32 = attributes.uid == uid ? 6 : (attributes.gid == gid ? 3 : 0)
        let granted = (attributes.permissions >> shift) & 7
        if UInt32(mask) & 7 & ~granted != 0 { throw NamespaceError.permissionDenied(path: "\(ino)") }
    }
}
