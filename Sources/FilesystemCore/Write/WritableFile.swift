import Foundation
import ObjectStorage
import Synchronization

/// A file whose content is (partly) local: written through the mount and not yet all in the bucket.
///
/// Bytes in `dirty` are in the spool; every other byte below `size` is the base object's (below `baseLimit`) or
/// zero. Every change bumps `generation`; an upload records the generation it carried, so a change made while an
/// upload runs is uploaded again afterwards.
final class WritableFile: Sendable {
    struct State {
        var path: String
        var key: ObjectKey
        var base: ObjectVersion?
        /// The ETag of the object at `key` when the file was opened with O_TRUNC (no base): still in the bucket until
        /// the first upload replaces it, so an unlink must delete it.
        var replacedETag: String?
        /// Base bytes at or beyond this were truncated away and read as zeros.
        var baseLimit: UInt64
        var size: UInt64
        var dirty = ByteRangeSet()
        /// Bytes written into the spool since it was created, charged to the spool's cap (`SpoolBudget`); unlike
        /// `dirty`, an upload does not clear it (the bytes stay on disk until the spool is removed), and sparse growth
        /// by truncate is not in it.
        var spooled = ByteRangeSet()
        /// Set once the spool is removed and its bytes refunded; nothing is charged after it.
        var spoolRetired = false
        var posix: POSIXMetadata
        /// User metadata bucketfs does not interpret (xattrs, other tools' keys), kept on every upload.
        var otherMetadata: [String: String] = [:]
        var contentType: String?
        var writers = 0
        var generation: UInt64 = 1
        var uploadedGeneration: UInt64 = 0
        /// Generation an fsync (or unmount, or close with --sync-on-close) waits for; uploads start at once for it.
        var urgentGeneration: UInt64 = 0
        var uploading = false
        var scheduled = false
        var deleted = false
        /// Set while a directory rename moves this file's key: no upload or stream part starts.
        var held = false
        var exclusive = false
        var failure: String?
        var attempts = 0
        var waiters: [(generation: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        /// The multipart upload of an upload in progress (journaled, so a crash leaves nothing to abort by hand).
        var multipartID: String?
        /// Parts going up while the application still writes (`Filesystem.streamIfReady`).
        var streaming: StreamingUpload?
        var lastETag: String?

        var isClean: Bool { uploadedGeneration >= generation }

        mutating func touch() {
            generation += 1
        }
    }

    let id: String
    let spool: SpoolFile
    let journalPath: String
    let bucket: String
    // Guards everything about this file's content and upload; never held across a suspension.
    let state: Mutex<State>

    init(
        id: String, spool: SpoolFile, journalPath: String, bucket: String, path: String, key: ObjectKey,
        base: ObjectVersion?, size: UInt64, posix: POSIXMetadata, contentType: String?
    ) {
        self.id = id
        self.spool = spool
        self.journalPath = journalPath
        self.bucket = bucket
        state = Mutex(
            State(
                path: path, key: key, base: base, baseLimit: base?.size ?? 0, size: size, posix: posix,
                contentType: contentType))
    }

    /// The record stat(2) and lookups see while the file is pending.
    func record() -> FileRecord {
        state.withLock { s in
            FileRecord(
                key: s.key, kind: .file, size: s.size, etag: s.lastETag ?? "\"pending-\(id)-\(s.generation)\"",
                lastModified: s.posix.mtime?.seconds ?? 0, posix: s.posix, other: s.otherMetadata,
                contentType: s.contentType)
        }
    }

    /// The state the journal must hold for recovery.
    func journal() -> SpoolJournal {
        state.withLock { s in
            SpoolJournal(
                bucket: bucket, key: s.key.rawValue, baseETag: s.base?.etag, baseSize: s.baseLimit, size: s.size,
                dirty: s.dirty, metadata: s.otherMetadata.merging(s.posix.metadata) { $1 }, contentType: s.contentType, uploadID: s.multipartID ?? s.streaming?.uploadID)
        }
    }

    /// Saves the journal; an unlinked file has none, so a killed daemon never uploads it at the next mount.
    func saveJournal() throws {
        if state.withLock({ $0.deleted }) { return }
        try journal().save(to: journalPath)
    }

    /// Reads `range` of the current content: spool bytes where written, base bytes elsewhere, zeros past both.
    func read(_ range: Range<UInt64>, base readBase: (ObjectVersion, Range<UInt64>) async throws -> Data) async throws
        -> Data
    {
        let (size, dirty, base, baseLimit) = state.withLock { ($0.size, $0.dirty, $0.base, $0.baseLimit) }
        let clipped = range.lowerBound..<min(range.upperBound, size)
        guard !clipped.isEmpty else { return Data() }
        return try await assemble(clipped, dirty: dirty, base: base, baseLimit: baseLimit, readBase: readBase)
    }

    /// The bytes of `range` as `dirty`, `base` and `baseLimit` define them: spool where dirty, base object where
    /// clean and below `baseLimit`, zeros elsewhere. Without a base the spool holds every byte. Shared by reads and
    /// by uploads (which pass the state of the generation they carry).
    func assemble(
        _ range: Range<UInt64>, dirty: ByteRangeSet, base: ObjectVersion?, baseLimit: UInt64,
        readBase: (ObjectVersion, Range<UInt64>) async throws -> Data
    ) async throws -> Data {
        guard let base else { return try await spool.read(range) }
        var out = Data(capacity: range.count)
        for segment in dirty.segments(of: range) {
            if segment.inSet {
                out.append(try await spool.read(segment.range))
                continue
            }
            let fromBase = segment.range.clamped(to: 0..<min(baseLimit, base.size))
            if !fromBase.isEmpty { out.append(try await readBase(base, fromBase)) }
            let zeros = segment.range.count - fromBase.count
            if zeros > 0 { out.append(Data(count: zeros)) }
        }
        return out
    }
}

extension FileRecord {
    init(
        key: ObjectKey, kind: NodeKind, size: UInt64, etag: String, lastModified: Int64, posix: POSIXMetadata,
        other: [String: String] = [:], contentType: String? = nil
    ) {
        self.init(
            info: ObjectInfo(
                key: key, size: size, etag: etag, lastModified: Date(timeIntervalSince1970: Double(lastModified)),
                metadata: other.merging(posix.metadata) { $1 }, contentType: contentType))
        self.kind = kind
    }

    /// What a listing shows for this record.
    var summary: ObjectSummary {
        ObjectSummary(
            key: key, size: size, etag: etag, lastModified: Date(timeIntervalSince1970: Double(lastModified)),
            storageClass: storageClass)
    }

    /// Metadata keys that are not POSIX attributes.
    var otherMetadata: [String: String] {
        metadata.filter { !POSIXMetadata.names.contains($0.key) }
    }
}
