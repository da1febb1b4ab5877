import Synchronization
import Foundation
import Logging
import ObjectStorage

/// What one upload carries: the file's state at one generation.
struct UploadSnapshot: Sendable {
    var generation: UInt64
    var key: ObjectKey
    var size: UInt64
    var dirty: ByteRangeSet
    var base: ObjectVersion?
    var baseLimit: UInt64
    var attributes: ObjectAttributes
    var exclusive: Bool

    init(_ s: WritableFile.State) {
        generation = s.generation
        key = s.key
        size = s.size
        base = s.base
        baseLimit = s.baseLimit
        // Without a base, the spool holds every byte.
        dirty = s.base == nil ? ByteRangeSet([0..<s.size]) : s.dirty
        attributes = ObjectAttributes(
            metadata: s.otherMetadata.merging(s.posix.metadata) { $1 }, contentType: s.contentType)
        exclusive = s.exclusive && s.base == nil && s.uploadedGeneration == 0
    }
}

/// Uploads pending files: one PUT for small files, parallel multipart uploads (with server-side copies of unchanged
/// ranges) for large ones; retries failed uploads with backoff, never dropping them.
struct Uploader: Sendable {
    let store: any ObjectStore
    let partLimit: ConcurrencyLimit
    let logger: Logger

    /// Uploads `snapshot` of `file` and returns the new object's ETag.
    func upload(_ file: WritableFile, _ snapshot: UploadSnapshot) async throws -> String {
        if let etag = try await finishStream(file, snapshot) { return etag }
        let plan = UploadPlan.make(
            size: snapshot.size, dirty: snapshot.dirty, baseSize: snapshot.base == nil ? 0 : snapshot.baseLimit)
        switch plan {
        case .single:
            let body = try await bytes(of: file, snapshot, 0..<snapshot.size)
            do {
                return try await store.put(
                    snapshot.key, body: body, attributes: snapshot.attributes, ifNoneMatch: snapshot.exclusive)
            } catch ObjectStoreError.preconditionFailed where snapshot.exclusive {
                throw NamespaceError.exists(path: snapshot.key.rawValue)
            }
        case .multipart(let parts):
            return try await multipart(file, snapshot, parts)
        }
    }

    private func multipart(_ file: WritableFile, _ snapshot: UploadSnapshot, _ parts: [UploadPlan.Part]) async throws
        -> String
    {
        let key = snapshot.key
        let uploadID = try await store.createMultipartUpload(key, attributes: snapshot.attributes)
        file.state.withLock { $0.multipartID = uploadID }
        try? file.saveJournal()
        do {
            let etags = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (index, part) in parts.enumerated() {
                    group.addTask {
                        try await partLimit.run {
                            let number = index + 1
                            switch part {
                            case .upload(let range):
                                let body = try await bytes(of: file, snapshot, range)
                                return (number, try await store.uploadPart(key, uploadID: uploadID, partNumber: number, body: body))
                            case .copy(let range):
                                let base = snapshot.base!
                                let etag = try await store.uploadPartCopy(
                                    key, uploadID: uploadID, partNumber: number, source: base.key,
                                    range: ByteRange(range), ifMatch: base.etag)
                                return (number, etag)
                            }
                        }
                    }
                }
                var etags: [Int: String] = [:]
                for try await (number, etag) in group { etags[number] = etag }
                return etags
            }
            let completed = etags.sorted { $0.key < $1.key }.map { CompletedPart(partNumber: $0.key, etag: $0.value) }
            let etag = try await store.completeMultipartUpload(key, uploadID: uploadID, parts: completed)
            file.state.withLock { $0.multipartID = nil }
            return etag
        } catch {
            // No partial object is ever visible: an upload that cannot complete is aborted.
            try? await store.abortMultipartUpload(key, uploadID: uploadID)
            file.state.withLock { $0.multipartID = nil }
            throw error
        }
    }

    /// CopyObject, or for sources over 5 GiB a multipart copy (S3's limit for a single copy).
    func copy(_ source: FileRecord, to destination: ObjectKey, attributes: ObjectAttributes?) async throws -> String {
        guard source.size > UploadPlan.maximumPartSize else {
            return try await store.copy(from: source.key, to: destination, attributes: attributes, ifMatch: source.etag)
        }
        let attributes = attributes ?? ObjectAttributes(metadata: source.metadata, contentType: source.contentType)
        let id = try await store.createMultipartUpload(destination, attributes: attributes)
        do {
            var parts: [CompletedPart] = []
            var offset: UInt64 = 0
            while offset < source.size {
                let end = min(source.size, offset + UploadPlan.maximumPartSize)
                let etag = try await store.uploadPartCopy(
                    destination, uploadID: id, partNumber: parts.count + 1, source: source.key,
                    range: ByteRange(offset..<end), ifMatch: source.etag)
                parts.append(CompletedPart(partNumber: parts.count + 1, etag: etag))
                offset = end
            }
            return try await store.completeMultipartUpload(destination, uploadID: id, parts: parts)
        } catch {
            try? await store.abortMultipartUpload(destination, uploadID: id)
            throw error
        }
    }

    /// The bytes of `range` as the snapshot defines them; clean bytes come from the base version by ranged GET.
    func bytes(of file: WritableFile, _ snapshot: UploadSnapshot, _ range: Range<UInt64>) async throws -> Data {
        let store = self.store
        return try await file.assemble(range, dirty: snapshot.dirty, base: snapshot.base, baseLimit: snapshot.baseLimit) {
            base, clean in
            try await store.get(base.key, range: ByteRange(clean), ifMatch: base.etag).data
        }
    }
}
