import Foundation

/// An S3-like object store: flat keys, whole-object writes, ranged reads, delimited listings, multipart uploads.
///
/// Every method may suspend on the network; none blocks a thread. Errors are `ObjectStoreError`.
public protocol ObjectStore: Sendable {
    /// HeadObject. - Throws: `.notFound` when there is no such key.
    func head(_ key: ObjectKey) async throws -> ObjectInfo

    /// GetObject, optionally ranged. With `ifMatch`, fails with `.preconditionFailed` if the ETag differs.
    /// A range reaching past the end is cut at the end; a range starting at or past it throws `.invalidRange`.
    func get(_ key: ObjectKey, range: ByteRange?, ifMatch: String?) async throws -> ObjectBody

    /// ListObjectsV2 of one page (at most `maxKeys` entries, objects and prefixes together).
    func list(prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws -> ListPage

    /// PutObject; returns the new ETag. With `ifNoneMatch`, fails with `.preconditionFailed` if the key exists.
    func put(_ key: ObjectKey, body: Data, attributes: ObjectAttributes, ifNoneMatch: Bool) async throws -> String

    /// CopyObject. `attributes` nil copies the source's metadata; non-nil replaces it (REPLACE directive).
    /// With `ifMatch`, the copy happens only if the source still has that ETag. Returns the new ETag.
    func copy(from source: ObjectKey, to destination: ObjectKey, attributes: ObjectAttributes?, ifMatch: String?)
        async throws -> String

    /// DeleteObject. Deleting a missing key succeeds, as in S3.
    func delete(_ key: ObjectKey) async throws

    /// CreateMultipartUpload; returns the upload id.
    func createMultipartUpload(_ key: ObjectKey, attributes: ObjectAttributes) async throws -> String

    /// UploadPart (numbers 1...10,000); returns the part's ETag.
    func uploadPart(_ key: ObjectKey, uploadID: String, partNumber: Int, body: Data) async throws -> String

    /// UploadPartCopy of `range` of `source` (with `ifMatch` on the source's ETag); returns the part's ETag.
    func uploadPartCopy(
        _ key: ObjectKey, uploadID: String, partNumber: Int, source: ObjectKey, range: ByteRange, ifMatch: String?
    ) async throws -> String

    /// CompleteMultipartUpload; returns the object's ETag.
    func completeMultipartUpload(_ key: ObjectKey, uploadID: String, parts: [CompletedPart]) async throws -> String

    /// AbortMultipartUpload. Aborting an unknown upload succeeds.
    func abortMultipartUpload(_ key: ObjectKey, uploadID: String) async throws

    /// ListMultipartUploads under `prefix` (all pages).
    func listMultipartUploads(prefix: String) async throws -> [MultipartUploadSummary]
}

extension ObjectStore {
    /// Every entry of a delimited listing, all pages followed.
    public func listAll(prefix: String, delimiter: String?, pageSize: Int = 1000) async throws -> ListPage {
        var objects: [ObjectSummary] = []
        var prefixes: [String] = []
        var token: String? = nil
        repeat {
            let page = try await list(
                prefix: prefix, delimiter: delimiter, continuationToken: token, maxKeys: pageSize)
            objects += page.objects
            prefixes += page.commonPrefixes
            token = page.continuationToken
        } while token != nil
        return ListPage(objects: objects, commonPrefixes: prefixes, continuationToken: nil)
    }
}
