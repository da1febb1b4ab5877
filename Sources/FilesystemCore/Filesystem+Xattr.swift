import Foundation
import Logging
import ObjectStorage
import Synchronization

extension Filesystem {
    /// S3's limit on an object's user metadata: 2 KiB. Counted here as every header name with its `x-amz-meta-`
    /// prefix plus its value, the stricter reading, so that no copy or upload bucketfs sends is refused for it.
    static let userMetadataLimit = 2048

    /// The answer a getxattr needs no store request for: `security.*`, `trusted.*` and `system.*` names are never
    /// stored (the kernel asks for `security.capability` on writes, and `ls` for ACLs). Nil when the store must be
    /// asked.
    public func extendedAttributeAnsweredAtOnce(_ name: String, of ino: InodeNumber) -> ExtendedAttributeError? {
        guard ExtendedAttributeName.kind(of: name) == .unsupported else { return nil }
        return .noAttribute(name: name, path: (try? inodes.node(ino).path) ?? "")
    }

    /// FUSE getxattr: the value of `name`, or (with `size` 0) its length.
    /// - Throws: `ExtendedAttributeError.noAttribute` (ENODATA) when absent or outside `user.`; `.bufferTooSmall`
    ///   (ERANGE) when `size` is non-zero and too small.
    public func extendedAttribute(_ name: String, of ino: InodeNumber, size: Int) async throws -> ExtendedAttributeReply
    {
        let (path, kind) = try inodes.node(ino)
        let value: Data?
        switch ExtendedAttributeName.kind(of: name) {
        case .unsupported: value = nil
        case .computed:
            value = kind == .directory ? nil : try await computedAttributes(ino, path).first { $0.name == name }?.value
        case .stored: value = try await storedAttributes(ino, path, kind: kind)[name]
        }
        guard let value else { throw ExtendedAttributeError.noAttribute(name: name, path: path) }
        return try ExtendedAttributeReply.answering(value, size: size)
    }

    /// FUSE listxattr: the stored `user.*` names, NUL-terminated; or (with `size` 0) the list's length. The computed
    /// `user.bucketfs.*` attributes are readable by name but not listed, so that `cp -a`, `rsync -X` and
    /// `tar --xattrs` copying out of (or within) the mount do not turn them into real attributes, or fail on them.
    /// - Throws: `ExtendedAttributeError.bufferTooSmall` (ERANGE).
    public func extendedAttributeNames(of ino: InodeNumber, size: Int) async throws -> ExtendedAttributeReply {
        let (path, kind) = try inodes.node(ino)
        let names = try await storedAttributes(ino, path, kind: kind).userNames
            .filter { ExtendedAttributeName.kind(of: $0) == .stored }
        var list = Data()
        for name in names {
            list.append(contentsOf: name.utf8)
            list.append(0)
        }
        return try ExtendedAttributeReply.answering(list, size: size)
    }

    /// FUSE setxattr. A clean file's change is one CopyObject onto itself (REPLACE, other metadata and content type
    /// kept); a pending file's rides along with its next upload; a directory's rewrites its marker object.
    /// - Throws: `ExtendedAttributeError.readOnly` (EPERM) for `user.bucketfs.*`, `.notSupported` (ENOTSUP) outside
    ///   `user.` and on the mount's root, `.exists` (EEXIST) with XATTR_CREATE, `.noAttribute` (ENODATA) with
    ///   XATTR_REPLACE, `.metadataTooLarge` (E2BIG) past S3's 2 KiB of user metadata, `.invalidName` for a comma.
    public func setExtendedAttribute(
        _ name: String, to value: Data, flags: ExtendedAttributeFlags = [], of ino: InodeNumber
    ) async throws {
        let (path, kind) = try inodes.node(ino)
        try checkModifiable(name, path: path, kind: kind)
        // The s3fs format separates pairs with commas and does not escape them.
        guard !name.contains(",") else { throw ExtendedAttributeError.invalidName(name: name) }
        try await changeStoredAttributes(ino, path, kind: kind) { attributes throws(ExtendedAttributeError) in
            let present = attributes[name] != nil
            if flags.contains(.create), present { throw .exists(name: name, path: path) }
            if flags.contains(.replace), !present { throw .noAttribute(name: name, path: path) }
            attributes[name] = value
        }
    }

    /// FUSE removexattr, stored like setxattr.
    /// - Throws: `ExtendedAttributeError.noAttribute` (ENODATA) when absent, `.readOnly` (EPERM) for
    ///   `user.bucketfs.*`, `.notSupported` (ENOTSUP) outside `user.`.
    public func removeExtendedAttribute(_ name: String, of ino: InodeNumber) async throws {
        let (path, kind) = try inodes.node(ino)
        try checkModifiable(name, path: path, kind: kind)
        try await changeStoredAttributes(ino, path, kind: kind) { attributes throws(ExtendedAttributeError) in
            guard attributes[name] != nil else { throw .noAttribute(name: name, path: path) }
            attributes[name] = nil
        }
    }

    private func checkModifiable(_ name: String, path: String, kind: NodeKind) throws {
        switch ExtendedAttributeName.kind(of: name) {
        case .computed: throw ExtendedAttributeError.readOnly(name: name)
        case .unsupported: throw ExtendedAttributeError.notSupported(name: name, path: path)
        case .stored: break
        }
        // The root is no object (a prefix mount's root has no marker either): nothing could carry its attributes.
        if kind == .directory, path.isEmpty { throw ExtendedAttributeError.notSupported(name: name, path: "/") }
        try checkWritable()
    }

    // MARK: Reading

    /// The attributes stored for the node at `path` (every namespace, as stored).
    func storedAttributes(_ ino: InodeNumber, _ path: String, kind: NodeKind) async throws -> ExtendedAttributes {
        if kind == .directory { return try await directoryMarkerState(path).attributes }
        let record = try await attributeRecord(ino, path)
        return decodedAttributes(record.metadata, key: record.key)
    }

    /// `user.bucketfs.etag` (when the object has one) and `user.bucketfs.upload` of a file or symlink.
    func computedAttributes(_ ino: InodeNumber, _ path: String) async throws -> [(name: String, value: Data)] {
        let etag: String?
        let upload: String
        if let file = pending.file(at: path) {
            (etag, upload) = file.state.withLock { s -> (String?, String) in
                let status = s.isClean ? "uploaded" : s.failure.map { "failed: \($0)" } ?? "pending"
                return (s.lastETag ?? s.base?.etag, status)
            }
        } else {
            etag = try await attributeRecord(ino, path).etag
            upload = "uploaded"
        }
        var out: [(String, Data)] = []
        if let etag { out.append((ExtendedAttributeName.etag, Data(etag.trimmingCharacters(in: ["\""]).utf8))) }
        out.append((ExtendedAttributeName.upload, Data(upload.utf8)))
        return out
    }

    /// The record of the file at `path`: pending, cached or from a HEAD; for a file unlinked while open, its last.
    private func attributeRecord(_ ino: InodeNumber, _ path: String) async throws -> FileRecord {
        if !inodes.isAttached(ino), let record = cache.lastFileRecord(path) { return record }
        guard case .file(let record) = try await resolve(path) else { throw NamespaceError.noEntry(path: path) }
        return record
    }

    /// The attributes in `metadata`; malformed ones are logged once per key and read as none.
    func decodedAttributes(_ metadata: [String: String], key: ObjectKey) -> ExtendedAttributes {
        if let attributes = ExtendedAttributes(metadata: metadata) { return attributes }
        logMalformedAttributes(key)
        return ExtendedAttributes()
    }

    /// Logs once per key that its `x-amz-meta-xattr` is not in the s3fs format; a set replaces it.
    private func logMalformedAttributes(_ key: ObjectKey) {
        let first = hiddenKeys.withLock { $0.insert(key.rawValue + "#xattr").inserted }
        if first { logger.warning("malformed x-amz-meta-xattr read as no attributes", metadata: ["s3.key": "\(key)"]) }
    }

    /// A directory's POSIX metadata and attributes: what this mount set on it, else what its marker object carries
    /// (one HEAD), else the mount's defaults and none.
    func directoryMarkerState(_ path: String) async throws -> (posix: POSIXMetadata, attributes: ExtendedAttributes) {
        let defaults = POSIXMetadata(
            mode: NodeKind.directory.modeBits | configuration.directoryMode, uid: configuration.uid,
            gid: configuration.gid, mtime: mountTime, atime: mountTime, ctime: mountTime)
        guard !path.isEmpty else { return (defaults, ExtendedAttributes()) }
        let knownPosix = directoryMetadata.withLock { $0[path] }
        let knownAttributes = directoryAttributeValues.withLock { $0[path] }
        if let knownPosix, let knownAttributes { return (knownPosix, knownAttributes) }
        let marker = try configuration.mapping.markerKey(path)
        var stored: [String: String] = [:]
        do {
            stored = try await store.head(marker).metadata
        } catch ObjectStoreError.notFound {
            // An implicit directory: no marker, nothing stored.
        }
        let markerPosix = POSIXMetadata(metadata: stored)
        return (
            knownPosix ?? (markerPosix.mode == nil ? defaults : markerPosix),
            knownAttributes ?? decodedAttributes(stored, key: marker)
        )
    }

    // MARK: Writing

    private func changeStoredAttributes(
        _ ino: InodeNumber, _ path: String, kind: NodeKind,
        _ change: (inout ExtendedAttributes) throws(ExtendedAttributeError) -> Void
    ) async throws {
        if kind == .directory { return try await changeDirectoryAttributes(path, change) }
        if let file = pending.file(at: path) { return try await changePendingAttributes(file, path, change) }
        // A stale cached record or a concurrent change fails the copy's If-Match: read again and apply again.
        for attempt in 1...3 {
            let record = try await attributeRecord(ino, path)
            var attributes = decodedAttributes(record.metadata, key: record.key)
            try change(&attributes)
            var posix = record.posix
            // The copy gets a new Last-Modified; an object without mtime metadata keeps showing its old one.
            posix.mtime = posix.mtime ?? Timestamp(seconds: record.lastModified)
            posix.ctime = Timestamp.now()
            let metadata = attributes.applied(to: record.otherMetadata).merging(posix.metadata) { $1 }
            try Self.checkUserMetadataSize(metadata, path: path)
            let objectAttributes = ObjectAttributes(metadata: metadata, contentType: record.contentType)
            do {
                let etag = try await copyObject(record, to: record.key, attributes: objectAttributes)
                var updated = record
                updated.etag = etag
                updated.posix = posix
                updated.metadata = metadata
                cache.store(.file(updated), for: path)
                return
            } catch ObjectStoreError.preconditionFailed where attempt < 3 {
                cache.invalidate(path)
            }
        }
    }

    private func changePendingAttributes(
        _ file: WritableFile, _ path: String,
        _ change: (inout ExtendedAttributes) throws(ExtendedAttributeError) -> Void
    ) async throws {
        let (writers, malformedKey) = try file.state.withLock { s -> (Int, ObjectKey?) in
            let decoded = ExtendedAttributes(metadata: s.otherMetadata)
            var attributes = decoded ?? ExtendedAttributes()
            try change(&attributes)
            var posix = s.posix
            posix.ctime = Timestamp.now()
            let other = attributes.applied(to: s.otherMetadata)
            try Self.checkUserMetadataSize(other.merging(posix.metadata) { $1 }, path: path)
            s.otherMetadata = other
            s.posix = posix
            s.touch()
            return (s.writers, decoded == nil ? s.key : nil)
        }
        if let malformedKey { logMalformedAttributes(malformedKey) }
        // The journal carries the metadata, so an upload recovered after a crash carries the attributes too.
        try? await LocalIO.run { try file.saveJournal() }
        if writers == 0 { scheduleUpload(file, after: configuration.uploadDelay) }
    }

    private func changeDirectoryAttributes(
        _ path: String, _ change: (inout ExtendedAttributes) throws(ExtendedAttributeError) -> Void
    ) async throws {
        var (posix, attributes) = try await directoryMarkerState(path)
        try change(&attributes)
        posix.ctime = Timestamp.now()
        let metadata = attributes.applied(to: posix.metadata)
        try Self.checkUserMetadataSize(metadata, path: path)
        try await putDirectoryMarker(path, metadata: metadata)
        directoryMetadata.withLock { $0[path] = posix }
        directoryAttributeValues.withLock { $0[path] = attributes }
    }

    /// PUTs the `path/` marker object with `metadata`.
    func putDirectoryMarker(_ path: String, metadata: [String: String]) async throws {
        let marker = try configuration.mapping.markerKey(path)
        _ = try await store.put(
            marker, body: Data(),
            attributes: ObjectAttributes(metadata: metadata, contentType: "application/x-directory"),
            ifNoneMatch: false)
    }

    /// - Throws: `ExtendedAttributeError.metadataTooLarge` (E2BIG) when `metadata` exceeds S3's 2 KiB.
    static func checkUserMetadataSize(_ metadata: [String: String], path: String) throws(ExtendedAttributeError) {
        let bytes = metadata.reduce(0) { $0 + "x-amz-meta-".utf8.count + $1.key.utf8.count + $1.value.utf8.count }
        if bytes > userMetadataLimit { throw .metadataTooLarge(path: path, bytes: bytes) }
    }
}
