import Foundation
import Logging
import ObjectStorage
import Synchronization

/// A multipart upload fed while the application is still writing: each whole part of the file's contiguous prefix
/// goes up as soon as it is written (in parallel, part sizes growing with `UploadPlan.streamingPartSize`), and the
/// upload that follows the last close sends only the tail and completes.
///
/// Only a new (or truncated) file written front to back streams. A write or truncate below `streamedTo` breaks the
/// stream: its parts are abandoned (aborted) and the file is uploaded whole after close, as if it had never
/// streamed. Nothing becomes visible before CompleteMultipartUpload, which only the final upload sends.
struct StreamingUpload: Sendable {
    /// CreateMultipartUpload, started with the first part; parts await it.
    var creation: Task<String, any Error>
    /// The key the upload was created for (a rename of the pending file afterwards makes the stream unusable).
    var key: ObjectKey
    /// Known once `creation` finished (for the journal, and to abort).
    var uploadID: String?
    /// The object attributes the upload was created with; if the file's differ at completion, a self-copy fixes them.
    var attributes: ObjectAttributes
    var parts: [Int: String] = [:]
    /// Bytes below this are in parts sent or being sent.
    var streamedTo: UInt64 = 0
    var nextPart = 1
    var inFlight = 0
    var broken = false
    /// Set by the final upload: no part is claimed after it.
    var sealed = false
}

extension Filesystem {
    /// Most stream parts of one file in flight at once (each holds its part's bytes in memory while it is sent).
    static let streamPartsInFlight = 8

    /// Claims and starts the parts of `file` that are ready to stream: whole parts of the written prefix, beyond
    /// what is sent already. Called after every write.
    func streamIfReady(_ file: WritableFile) {
        let store = self.store
        let claims = file.state.withLock { s -> [(number: Int, range: Range<UInt64>, stream: StreamingUpload)] in
            guard s.base == nil, !s.exclusive, !s.deleted, !s.held, s.writers > 0 else { return [] }
            if s.streaming == nil {
                // Not worth a multipart upload before two parts are written: most files are small.
                guard s.dirty.contains(0..<(2 * UploadPlan.streamingPartSize(1))) else { return [] }
                let key = s.key
                let attributes = ObjectAttributes(
                    metadata: s.otherMetadata.merging(s.posix.metadata) { $1 }, contentType: s.contentType)
                s.streaming = StreamingUpload(
                    creation: Task { try await store.createMultipartUpload(key, attributes: attributes) }, key: key,
                    attributes: attributes)
            }
            guard var stream = s.streaming, !stream.broken, !stream.sealed else { return [] }
            var claims: [(Int, Range<UInt64>, StreamingUpload)] = []
            while stream.inFlight < Self.streamPartsInFlight, stream.nextPart < UploadPlan.maximumPartCount {
                let range = stream.streamedTo..<(stream.streamedTo + UploadPlan.streamingPartSize(stream.nextPart))
                guard s.dirty.contains(range) else { break }
                claims.append((stream.nextPart, range, stream))
                stream.nextPart += 1
                stream.streamedTo = range.upperBound
                stream.inFlight += 1
            }
            s.streaming = stream
            return claims
        }
        for claim in claims {
            Task { await self.streamPart(file, number: claim.number, range: claim.range, stream: claim.stream) }
        }
    }

    private func streamPart(_ file: WritableFile, number: Int, range: Range<UInt64>, stream: StreamingUpload) async {
        let key = stream.key
        var failure: (any Error)?
        do {
            let uploadID = try await stream.creation.value
            let journal = file.state.withLock { s -> Bool in
                guard s.streaming != nil, s.streaming?.uploadID == nil else { return false }
                s.streaming?.uploadID = uploadID
                return true
            }
            if journal { try? await LocalIO.run { try file.saveJournal() } }
            let body = try await file.spool.read(range)
            let etag = try await uploader.partLimit.run {
                try await store.uploadPart(key, uploadID: uploadID, partNumber: number, body: body)
            }
            file.state.withLock { $0.streaming?.parts[number] = etag }
        } catch {
            failure = error
        }
        file.state.withLock { s in
            s.streaming?.inFlight -= 1
            if failure != nil { s.streaming?.broken = true }
        }
        if let failure {
            // The file uploads whole after close instead; the stream's parts are aborted then.
            logger.info(
                "streaming part failed; the file will upload after close",
                metadata: ["s3.key": "\(key)", "part": "\(number)", "error": "\(failure)"])
        } else {
            streamIfReady(file)
        }
    }

    /// Breaks the stream of `file` if `offset` (where a write starts, or a truncate cuts) is below what was streamed.
    func breakStream(of file: WritableFile, ifTouching offset: UInt64) {
        file.state.withLock { s in
            guard var stream = s.streaming, !stream.broken, offset < stream.streamedTo else { return }
            stream.broken = true
            s.streaming = stream
        }
    }

    /// Abandons the stream of a deleted file.
    func abandonStream(of file: WritableFile) {
        guard let stream = file.state.withLock({ s -> StreamingUpload? in
            defer { s.streaming = nil }
            return s.streaming
        }) else { return }
        let key = stream.key
        let store = self.store
        Task {
            if let id = try? await stream.creation.value { try? await store.abortMultipartUpload(key, uploadID: id) }
        }
    }
}

extension Uploader {
    /// Finishes the stream of `file` for `snapshot` if it carries it: waits for the parts in flight, sends the tail
    /// and completes. Returns nil when there is no usable stream (none, broken, or not matching the snapshot), after
    /// aborting any stream there was; the caller then uploads the file whole.
    func finishStream(_ file: WritableFile, _ snapshot: UploadSnapshot) async throws -> String? {
        guard file.state.withLock({ s -> Bool in
            guard s.streaming != nil else { return false }
            s.streaming?.sealed = true
            return true
        }) else { return nil }
        var stream: StreamingUpload
        while true {
            stream = file.state.withLock { $0.streaming! }
            if stream.inFlight == 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let key = stream.key
        // Usable only if every byte of the snapshot outside the streamed prefix is in the spool, and the prefix is
        // the snapshot's: no base, nothing streamed past its end, nothing rewritten (that would have broken it).
        let usable = !stream.broken && stream.nextPart > 1 && snapshot.base == nil && stream.streamedTo <= snapshot.size
            && stream.parts.count == stream.nextPart - 1 && key == snapshot.key
        let uploadID = try? await stream.creation.value
        guard usable, let uploadID else {
            file.state.withLock { $0.streaming = nil }
            if let uploadID { try? await store.abortMultipartUpload(key, uploadID: uploadID) }
            return nil
        }
        do {
            var parts = stream.parts
            var offset = stream.streamedTo
            var number = stream.nextPart
            // The tail: whole parts while more than a part is left, then the rest as the (short) last part.
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                while offset < snapshot.size {
                    let size = UploadPlan.streamingPartSize(number)
                    let end = snapshot.size - offset <= size + UploadPlan.minimumPartSize ? snapshot.size : offset + size
                    let range = offset..<end
                    let partNumber = number
                    group.addTask {
                        try await partLimit.run {
                            let body = try await file.spool.read(range)
                            return (partNumber, try await store.uploadPart(key, uploadID: uploadID, partNumber: partNumber, body: body))
                        }
                    }
                    offset = end
                    number += 1
                }
                for try await (n, etag) in group { parts[n] = etag }
            }
            let completed = parts.sorted { $0.key < $1.key }.map { CompletedPart(partNumber: $0.key, etag: $0.value) }
            var etag = try await store.completeMultipartUpload(key, uploadID: uploadID, parts: completed)
            file.state.withLock { $0.streaming = nil }
            if snapshot.attributes != stream.attributes {
                // Metadata is fixed at CreateMultipartUpload; mtime, mode and the like changed since: self-copy.
                let record = FileRecord(
                    info: ObjectInfo(
                        key: key, size: snapshot.size, etag: etag, lastModified: Date(),
                        metadata: stream.attributes.metadata, contentType: stream.attributes.contentType))
                etag = try await copy(record, to: key, attributes: snapshot.attributes)
            }
            return etag
        } catch {
            file.state.withLock { $0.streaming = nil }
            try? await store.abortMultipartUpload(key, uploadID: uploadID)
            throw error
        }
    }
}
