import Foundation
import ObjectStorage
import Synchronization

/// The in-memory store, except that PUTs of keys under `prefix` fail with AccessDenied (as with read-only
/// credentials) while `refusing` is set; `refused` counts them.
final class RefusingStore: ObjectStore {
    let inner: InMemoryObjectStore
    let prefix: String
    let refusing = Mutex(true)
    let refused = Mutex(0)

    init(inner: InMemoryObjectStore = InMemoryObjectStore(), refusingUnder prefix: String = "") {
        self.inner = inner
        self.prefix = prefix
    }

    func head(_ key: ObjectKey) async throws -> ObjectInfo { try await inner.head(key) }
    func get(_ key: ObjectKey, range: ByteRange?, ifMatch: String?) async throws -> ObjectBody {
        try await inner.get(key, range: range, ifMatch: ifMatch)
    }
    func list(prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws -> ListPage {
        try await inner.list(
            prefix: prefix, delimiter: delimiter, continuationToken: continuationToken, maxKeys: maxKeys)
    }
    func put(_ key: ObjectKey, body: Data, attributes: ObjectAttributes, ifNoneMatch: Bool) async throws -> String {
        if key.rawValue.hasPrefix(prefix), refusing.withLock({ $0 }) {
            refused.withLock { $0 += 1 }
            throw ObjectStoreError.accessDenied(code: "AccessDenied", message: "refused")
        }
        return try await inner.put(key, body: body, attributes: attributes, ifNoneMatch: ifNoneMatch)
    }
    func copy(from source: ObjectKey, to destination: ObjectKey, attributes: ObjectAttributes?, ifMatch: String?)
        async throws -> String
    {
        try await inner.copy(from: source, to: destination, attributes: attributes, ifMatch: ifMatch)
    }
    func delete(_ key: ObjectKey) async throws { try await inner.delete(key) }
    func createMultipartUpload(_ key: ObjectKey, attributes: ObjectAttributes) async throws -> String {
        try await inner.createMultipartUpload(key, attributes: attributes)
    }
    func uploadPart(_ key: ObjectKey, uploadID: String, partNumber: Int, body: Data) async throws -> String {
        try await inner.uploadPart(key, uploadID: uploadID, partNumber: partNumber, body: body)
    }
    func uploadPartCopy(
        _ key: ObjectKey, uploadID: String, partNumber: Int, source: ObjectKey, range: ByteRange, ifMatch: String?
    ) async throws -> String {
        try await inner.uploadPartCopy(
            key, uploadID: uploadID, partNumber: partNumber, source: source, range: range, ifMatch: ifMatch)
    }
    func completeMultipartUpload(_ key: ObjectKey, uploadID: String, parts: [CompletedPart]) async throws -> String {
        try await inner.completeMultipartUpload(key, uploadID: uploadID, parts: parts)
    }
    func abortMultipartUpload(_ key: ObjectKey, uploadID: String) async throws {
        try await inner.abortMultipartUpload(key, uploadID: uploadID)
    }
    func listMultipartUploads(prefix: String) async throws -> [MultipartUploadSummary] {
        try await inner.listMultipartUploads(prefix: prefix)
    }
}
