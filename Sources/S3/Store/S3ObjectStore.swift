import Foundation
import Logging
import ObjectStorage

/// An `ObjectStore` over the S3 REST API, on any `HTTPTransport`.
///
/// Each operation is one S3 request (ListMultipartUploads follows pages), signed with SigV4 unless the
/// configuration has no credentials, retried on 5xx, throttling and broken connections, and mapped into
/// `ObjectStoreError`. Requests are logged at `debug` and retries at `warning`, never with their headers.
public final class S3ObjectStore: ObjectStore {
    public let configuration: S3Configuration
    /// Request counts and byte totals since creation.
    public let statistics = S3RequestStatistics()
    let transport: any HTTPTransport
    let logger: Logger
    let endpoint: S3Endpoint
    let signer: SigV4Signer?
    /// The signing clock; tests replace it.
    let now: @Sendable () -> Date

    public convenience init(configuration: S3Configuration, transport: any HTTPTransport, logger: Logger) {
        self.init(configuration: configuration, transport: transport, logger: logger, now: { Date() })
    }

    init(
        configuration: S3Configuration, transport: any HTTPTransport, logger: Logger,
        now: @escaping @Sendable () -> Date
    ) {
        self.configuration = configuration
        self.transport = transport
        self.logger = logger
        self.endpoint = S3Endpoint(configuration: configuration)
        self.signer = configuration.credentials.map { SigV4Signer(credentials: $0, region: configuration.region) }
        self.now = now
    }

    private var bucket: String { configuration.bucket }

    private func failure(_ response: HTTPResponse, key: ObjectKey?) -> ObjectStoreError {
        S3ErrorMapping.error(for: response, key: key?.rawValue, bucket: bucket)
    }

    private static func isSuccess(_ status: Int) -> Bool { (200..<300).contains(status) }

    /// Proves endpoint, credentials and bucket with ListObjectsV2 `max-keys=1`, before mounting.
    /// - Throws: `.noSuchBucket`, `.accessDenied` (bad key, bad signature, no permission), `.transport`, others.
    public func checkBucket() async throws {
        _ = try await list(prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 1)
    }

    public func head(_ key: ObjectKey) async throws -> ObjectInfo {
        let response = try await send(S3Call(operation: "HeadObject", method: "HEAD", key: key))
        guard Self.isSuccess(response.status) else { throw failure(response, key: key) }
        return Self.objectInfo(key, from: response.headers)
    }

    public func get(_ key: ObjectKey, range: ByteRange?, ifMatch: String?) async throws -> ObjectBody {
        var headers: [(name: String, value: String)] = []
        if let ifMatch { headers.append(try Self.checkedHeader("If-Match", ifMatch)) }
        guard let range else {
            let response = try await send(S3Call(operation: "GetObject", method: "GET", key: key, headers: headers))
            guard Self.isSuccess(response.status) else { throw failure(response, key: key) }
            return ObjectBody(info: Self.objectInfo(key, from: response.headers), data: response.body)
        }
        if range.isEmpty {
            // HTTP cannot ask for zero bytes; HEAD (which honours If-Match) tells whether the offset is valid.
            let call = S3Call(operation: "HeadObject", method: "HEAD", key: key, headers: headers)
            let response = try await send(call)
            guard Self.isSuccess(response.status) else { throw failure(response, key: key) }
            let info = Self.objectInfo(key, from: response.headers)
            guard range.lowerBound < info.size || range.lowerBound == 0 else { throw ObjectStoreError.invalidRange(key: key.rawValue) }
            return ObjectBody(info: info, data: Data())
        }
        headers.append(("Range", range.httpRangeHeader))
        let response = try await send(S3Call(operation: "GetObject", method: "GET", key: key, headers: headers))
        switch response.status {
        case 206:
            return ObjectBody(info: Self.objectInfo(key, from: response.headers), data: response.body)
        case 200:
            // A server that ignores Range sends the whole object: cut the range out of it.
            let data = response.body
            guard range.lowerBound < UInt64(data.count) || (data.isEmpty && range.lowerBound == 0) else {
                throw ObjectStoreError.invalidRange(key: key.rawValue)
            }
            let upper = Int(min(range.upperBound, UInt64(data.count)))
            let slice = data.subdata(in: data.startIndex + Int(range.lowerBound)..<data.startIndex + upper)
            return ObjectBody(info: Self.objectInfo(key, from: response.headers), data: slice)
        case 416 where range.lowerBound == 0:
            // An empty object has no byte 0, so S3 refuses any range; the protocol promises an empty body.
            let whole = try await get(key, range: nil, ifMatch: ifMatch)
            guard whole.data.isEmpty else { throw ObjectStoreError.invalidRange(key: key.rawValue) }
            return whole
        default:
            throw failure(response, key: key)
        }
    }

    public func list(prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws
        -> ListPage
    {
        var query: [(String, String?)] = [("list-type", "2"), ("encoding-type", "url")]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let delimiter, !delimiter.isEmpty { query.append(("delimiter", delimiter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        // S3 returns at most 1,000 entries per page.
        query.append(("max-keys", String(min(max(maxKeys, 1), 1000))))
        let response = try await send(S3Call(operation: "ListObjectsV2", method: "GET", key: nil, query: query))
        guard Self.isSuccess(response.status) else { throw failure(response, key: nil) }
        do {
            return try S3XML.listPage(from: response.body)
        } catch {
            throw ObjectStoreError.malformedResponse(detail: "ListObjectsV2: \(error)")
        }
    }

    public func put(_ key: ObjectKey, body: Data, attributes: ObjectAttributes, ifNoneMatch: Bool) async throws
        -> String
    {
        var headers = try Self.attributeHeaders(attributes)
        if ifNoneMatch { headers.append(("If-None-Match", "*")) }
        let response = try await send(S3Call(operation: "PutObject", method: "PUT", key: key, headers: headers, body: body))
        guard Self.isSuccess(response.status) else {
            // A conditional write that races another one answers 409 ConditionalRequestConflict.
            if ifNoneMatch, response.status == 409 { throw ObjectStoreError.preconditionFailed(key: key.rawValue) }
            throw failure(response, key: key)
        }
        return response.headers["etag"] ?? ""
    }

    public func copy(from source: ObjectKey, to destination: ObjectKey, attributes: ObjectAttributes?, ifMatch: String?)
        async throws -> String
    {
        var headers: [(name: String, value: String)] = [("x-amz-copy-source", endpoint.copySource(source))]
        if let attributes {
            headers.append(("x-amz-metadata-directive", "REPLACE"))
            headers += try Self.attributeHeaders(attributes)
        }
        if let ifMatch { headers.append(try Self.checkedHeader("x-amz-copy-source-if-match", ifMatch)) }
        let call = S3Call(
            operation: "CopyObject", method: "PUT", key: destination, headers: headers,
            embeddedErrorCode: Self.embeddedError)
        return try await etag(of: send(call), rootName: "CopyObjectResult", source: source)
    }

    public func delete(_ key: ObjectKey) async throws {
        let response = try await send(S3Call(operation: "DeleteObject", method: "DELETE", key: key))
        // Deleting a missing key succeeds in S3; some servers still answer 404.
        guard Self.isSuccess(response.status) || response.status == 404 else { throw failure(response, key: key) }
    }

    public func createMultipartUpload(_ key: ObjectKey, attributes: ObjectAttributes) async throws -> String {
        let call = S3Call(
            operation: "CreateMultipartUpload", method: "POST", key: key, query: [("uploads", nil)],
            headers: try Self.attributeHeaders(attributes))
        let response = try await send(call)
        guard Self.isSuccess(response.status) else { throw failure(response, key: key) }
        do {
            return try S3XML.uploadID(from: response.body)
        } catch {
            throw ObjectStoreError.malformedResponse(detail: "CreateMultipartUpload: \(error)")
        }
    }

    public func uploadPart(_ key: ObjectKey, uploadID: String, partNumber: Int, body: Data) async throws -> String {
        let call = S3Call(
            operation: "UploadPart", method: "PUT", key: key,
            query: [("partNumber", String(partNumber)), ("uploadId", uploadID)], body: body)
        let response = try await send(call)
        guard Self.isSuccess(response.status) else { throw failure(response, key: key) }
        guard let etag = response.headers["etag"] else {
            throw ObjectStoreError.malformedResponse(detail: "UploadPart: no ETag")
        }
        return etag
    }

    public func uploadPartCopy(
        _ key: ObjectKey, uploadID: String, partNumber: Int, source: ObjectKey, range: ByteRange, ifMatch: String?
    ) async throws -> String {
        var headers: [(name: String, value: String)] = [
            ("x-amz-copy-source", endpoint.copySource(source)), ("x-amz-copy-source-range", range.httpRangeHeader),
        ]
        if let ifMatch { headers.append(try Self.checkedHeader("x-amz-copy-source-if-match", ifMatch)) }
        let call = S3Call(
            operation: "UploadPartCopy", method: "PUT", key: key,
            query: [("partNumber", String(partNumber)), ("uploadId", uploadID)], headers: headers,
            embeddedErrorCode: Self.embeddedError)
        return try await etag(of: send(call), rootName: "CopyPartResult", source: source)
    }

    public func completeMultipartUpload(_ key: ObjectKey, uploadID: String, parts: [CompletedPart]) async throws
        -> String
    {
        let call = S3Call(
            operation: "CompleteMultipartUpload", method: "POST", key: key, query: [("uploadId", uploadID)],
            headers: [("Content-Type", "application/xml")], body: S3XML.completeMultipartUploadBody(parts),
            embeddedErrorCode: Self.embeddedError)
        return try await etag(of: send(call), rootName: "CompleteMultipartUploadResult", source: key)
    }

    public func abortMultipartUpload(_ key: ObjectKey, uploadID: String) async throws {
        let call = S3Call(operation: "AbortMultipartUpload", method: "DELETE", key: key, query: [("uploadId", uploadID)])
        let response = try await send(call)
        // Aborting an upload that is already gone (NoSuchUpload, 404) is the outcome asked for.
        guard Self.isSuccess(response.status) || response.status == 404 else { throw failure(response, key: key) }
    }

    public func listMultipartUploads(prefix: String) async throws -> [MultipartUploadSummary] {
        var uploads: [MultipartUploadSummary] = []
        var keyMarker: String? = nil
        var uploadIDMarker: String? = nil
        repeat {
            var query: [(String, String?)] = [("uploads", nil), ("encoding-type", "url")]
            if !prefix.isEmpty { query.append(("prefix", prefix)) }
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let uploadIDMarker { query.append(("upload-id-marker", uploadIDMarker)) }
            let response = try await send(S3Call(operation: "ListMultipartUploads", method: "GET", key: nil, query: query))
            guard Self.isSuccess(response.status) else { throw failure(response, key: nil) }
            let page: MultipartUploadPage
            do {
                page = try S3XML.multipartUploadPage(from: response.body)
            } catch {
                throw ObjectStoreError.malformedResponse(detail: "ListMultipartUploads: \(error)")
            }
            uploads += page.uploads
            guard page.isTruncated, let next = page.nextKeyMarker, next != keyMarker || page.nextUploadIDMarker != uploadIDMarker
            else { break }
            keyMarker = next
            uploadIDMarker = page.nextUploadIDMarker
        } while true
        return uploads
    }

    // MARK: Copy and complete results

    /// The `<Error>` code of a body that is an error document (for 200 responses that failed).
    @Sendable static func embeddedError(_ body: Data) -> String? { S3XML.error(from: body)?.code }

    /// The ETag of a copy or complete response, whose failure may come as an `<Error>` inside a 200.
    private func etag(of response: HTTPResponse, rootName: String, source: ObjectKey) throws -> String {
        guard Self.isSuccess(response.status) else { throw failure(response, key: source) }
        let result: Result<String, S3ErrorResponse>
        do {
            result = try S3XML.etagResult(from: response.body, rootName: rootName)
        } catch {
            throw ObjectStoreError.malformedResponse(detail: "\(rootName): \(error)")
        }
        switch result {
        case .success(let etag): return etag
        case .failure(let error):
            // Retries of a transient failure reported inside a 200 ran out: that is a server error.
            let transient = S3ErrorMapping.isRetryable(status: 200, code: error.code)
            throw S3ErrorMapping.error(
                status: transient ? 500 : 200, body: error, key: source.rawValue, bucket: bucket)
        }
    }
}
