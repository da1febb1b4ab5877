import Foundation
import Synchronization

/// An `ObjectStore` in memory with S3's semantics (flat keys, delimited listings in UTF-8 order, multipart uploads,
/// ETags that change on every write), plus request counting and an optional delay for tests and benchmarks.
public final class InMemoryObjectStore: ObjectStore {
    /// The kinds of request the store counts, named as S3 metrics name them.
    public enum RequestKind: String, Sendable, CaseIterable {
        case head = "HEAD", get = "GET", list = "LIST", put = "PUT", copy = "COPY", delete = "DELETE"
        case createMultipart = "CREATE_MULTIPART", uploadPart = "UPLOAD_PART", uploadPartCopy = "UPLOAD_PART_COPY"
        case completeMultipart = "COMPLETE_MULTIPART", abortMultipart = "ABORT_MULTIPART"
        case listMultipart = "LIST_MULTIPART"
    }

    struct StoredObject {
        var data: Data
        var etag: String
        var lastModified: Date
        var attributes: ObjectAttributes
    }

    struct Upload {
        var key: ObjectKey
        var attributes: ObjectAttributes
        var parts: [Int: (etag: String, data: Data)]
        var initiated: Date
    }

    struct State {
        var objects: [ObjectKey: StoredObject] = [:]
        var uploads: [String: Upload] = [:]
        var counts: [RequestKind: Int] = [:]
        var bytesUploaded: UInt64 = 0
        var nextETag = 1
        mutating func newETag() -> String {
            defer { nextETag += 1 }
            return "\"etag-\(nextETag)\""
        }
    }

    // Guards every object, upload and counter; never held across a suspension.
    private let state = Mutex(State())
    private let delay: Duration?

    /// - Parameter delay: added to every request (a slowed store for benchmarks and race tests).
    public init(delay: Duration? = nil) {
        self.delay = delay
    }

    // MARK: Test helpers

    /// How many requests of `kind` the store has answered.
    public func count(_ kind: RequestKind) -> Int { state.withLock { $0.counts[kind, default: 0] } }

    /// All requests answered, by kind.
    public var counts: [RequestKind: Int] { state.withLock { $0.counts } }

    /// Total payload bytes received by PUT and UploadPart (not by copies).
    public var bytesUploaded: UInt64 { state.withLock { $0.bytesUploaded } }

    /// Forgets the counters.
    public func resetCounts() { state.withLock { $0.counts = [:]; $0.bytesUploaded = 0 } }

    /// The stored bytes of `key`, or nil (without counting a request).
    public func contents(of key: String) -> Data? {
        guard let key = ObjectKey(key) else { return nil }
        return state.withLock { $0.objects[key]?.data }
    }

    /// The stored user metadata of `key`, or nil (without counting a request).
    public func metadata(of key: String) -> [String: String]? {
        guard let key = ObjectKey(key) else { return nil }
        return state.withLock { $0.objects[key]?.attributes.metadata }
    }

    /// Every key, in S3 order.
    public var keys: [String] { state.withLock { $0.objects.keys.sorted().map(\.rawValue) } }

    /// Ids of the multipart uploads not yet completed or aborted.
    public var openUploadIDs: [String] { state.withLock { Array($0.uploads.keys) } }

    /// Writes an object as another client would (uncounted).
    @discardableResult
    public func seed(_ key: String, _ data: Data, metadata: [String: String] = [:], contentType: String? = nil)
        -> String
    {
        let key = ObjectKey(key)!
        return state.withLock { s in
            let etag = s.newETag()
            s.objects[key] = StoredObject(
                data: data, etag: etag, lastModified: Date(),
                attributes: ObjectAttributes(metadata: metadata, contentType: contentType))
            return etag
        }
    }

    /// Deletes an object as another client would (uncounted).
    public func remove(_ key: String) {
        guard let key = ObjectKey(key) else { return }
        _ = state.withLock { $0.objects.removeValue(forKey: key) }
    }

    // MARK: ObjectStore

    private func begin(_ kind: RequestKind) async throws {
        if let delay { try await Task.sleep(for: delay) }
        state.withLock { $0.counts[kind, default: 0] += 1 }
    }

    private static func info(_ key: ObjectKey, _ object: StoredObject) -> ObjectInfo {
        ObjectInfo(
            key: key, size: UInt64(object.data.count), etag: object.etag, lastModified: object.lastModified,
            metadata: object.attributes.metadata, contentType: object.attributes.contentType,
            storageClass: "STANDARD")
    }

    public func head(_ key: ObjectKey) async throws -> ObjectInfo {
        try await begin(.head)
        return try state.withLock { s in
            guard let object = s.objects[key] else { throw ObjectStoreError.notFound(key: key.rawValue) }
            return Self.info(key, object)
        }
    }

    public func get(_ key: ObjectKey, range: ByteRange?, ifMatch: String?) async throws -> ObjectBody {
        try await begin(.get)
        return try state.withLock { s in
            guard let object = s.objects[key] else { throw ObjectStoreError.notFound(key: key.rawValue) }
            if let ifMatch, ifMatch != object.etag { throw ObjectStoreError.preconditionFailed(key: key.rawValue) }
            let size = UInt64(object.data.count)
            guard let range else { return ObjectBody(info: Self.info(key, object), data: object.data) }
            guard range.lowerBound < size || (size == 0 && range.lowerBound == 0) else {
                throw ObjectStoreError.invalidRange(key: key.rawValue)
            }
            let upper = min(range.upperBound, size)
            let slice = object.data[Int(range.lowerBound)..<Int(upper)]
            return ObjectBody(info: Self.info(key, object), data: Data(slice))
        }
    }

    public func list(prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws
        -> ListPage
    {
        try await begin(.list)
        return state.withLock { s in
            // Entries (objects and rolled-up prefixes) in UTF-8 order, resuming after the token.
            var entries: [(name: String, object: ObjectSummary?)] = []
            var seenPrefixes = Set<String>()
            for key in s.objects.keys.sorted() where key.rawValue.hasPrefix(prefix) {
                let rest = key.rawValue.dropFirst(prefix.count)
                if let delimiter, !delimiter.isEmpty, let cut = rest.range(of: delimiter) {
                    let common = prefix + rest[..<cut.upperBound]
                    if seenPrefixes.insert(common).inserted { entries.append((common, nil)) }
                } else {
                    let object = s.objects[key]!
                    entries.append(
                        (
                            key.rawValue,
                            ObjectSummary(
                                key: key, size: UInt64(object.data.count), etag: object.etag,
                                lastModified: object.lastModified, storageClass: "STANDARD")
                        ))
                }
            }
            if let continuationToken {
                entries.removeAll { !continuationToken.utf8.lexicographicallyPrecedes($0.name.utf8) }
            }
            let page = entries.prefix(max(1, maxKeys))
            let more = entries.count > page.count
            return ListPage(
                objects: page.compactMap(\.object),
                commonPrefixes: page.filter { $0.object == nil }.map(\.name),
                continuationToken: more ? page.last!.name : nil)
        }
    }

    public func put(_ key: ObjectKey, body: Data, attributes: ObjectAttributes, ifNoneMatch: Bool) async throws
        -> String
    {
        try await begin(.put)
        return try state.withLock { s in
            if ifNoneMatch, s.objects[key] != nil { throw ObjectStoreError.preconditionFailed(key: key.rawValue) }
            let etag = s.newETag()
            s.bytesUploaded += UInt64(body.count)
            s.objects[key] = StoredObject(data: body, etag: etag, lastModified: Date(), attributes: attributes)
            return etag
        }
    }

    public func copy(from source: ObjectKey, to destination: ObjectKey, attributes: ObjectAttributes?, ifMatch: String?)
        async throws -> String
    {
        try await begin(.copy)
        return try state.withLock { s in
            guard let object = s.objects[source] else { throw ObjectStoreError.notFound(key: source.rawValue) }
            if let ifMatch, ifMatch != object.etag { throw ObjectStoreError.preconditionFailed(key: source.rawValue) }
            let etag = s.newETag()
            s.objects[destination] = StoredObject(
                data: object.data, etag: etag, lastModified: Date(), attributes: attributes ?? object.attributes)
            return etag
        }
    }

    public func delete(_ key: ObjectKey) async throws {
        try await begin(.delete)
        _ = state.withLock { $0.objects.removeValue(forKey: key) }
    }

    public func createMultipartUpload(_ key: ObjectKey, attributes: ObjectAttributes) async throws -> String {
        try await begin(.createMultipart)
        return state.withLock { s in
            let id = "upload-\(s.nextETag)"
            s.nextETag += 1
            s.uploads[id] = Upload(key: key, attributes: attributes, parts: [:], initiated: Date())
            return id
        }
    }

    public func uploadPart(_ key: ObjectKey, uploadID: String, partNumber: Int, body: Data) async throws -> String {
        try await begin(.uploadPart)
        return try state.withLock { s in
            guard s.uploads[uploadID]?.key == key else {
                throw ObjectStoreError.invalidRequest(code: "NoSuchUpload", message: uploadID)
            }
            let etag = s.newETag()
            s.bytesUploaded += UInt64(body.count)
            s.uploads[uploadID]!.parts[partNumber] = (etag, body)
            return etag
        }
    }

    public func uploadPartCopy(
        _ key: ObjectKey, uploadID: String, partNumber: Int, source: ObjectKey, range: ByteRange, ifMatch: String?
    ) async throws -> String {
        try await begin(.uploadPartCopy)
        return try state.withLock { s in
            guard s.uploads[uploadID]?.key == key else {
                throw ObjectStoreError.invalidRequest(code: "NoSuchUpload", message: uploadID)
            }
            guard let object = s.objects[source] else { throw ObjectStoreError.notFound(key: source.rawValue) }
            if let ifMatch, ifMatch != object.etag { throw ObjectStoreError.preconditionFailed(key: source.rawValue) }
            guard range.upperBound <= UInt64(object.data.count) else {
                throw ObjectStoreError.invalidRange(key: source.rawValue)
            }
            let etag = s.newETag()
            s.uploads[uploadID]!.parts[partNumber] = (
                etag, Data(object.data[Int(range.lowerBound)..<Int(range.upperBound)])
            )
            return etag
        }
    }

    public func completeMultipartUpload(_ key: ObjectKey, uploadID: String, parts: [CompletedPart]) async throws
        -> String
    {
        try await begin(.completeMultipart)
        return try state.withLock { s in
            guard let upload = s.uploads[uploadID], upload.key == key else {
                throw ObjectStoreError.invalidRequest(code: "NoSuchUpload", message: uploadID)
            }
            var data = Data()
            for (index, part) in parts.enumerated() {
                guard let stored = upload.parts[part.partNumber], stored.etag == part.etag else {
                    throw ObjectStoreError.invalidRequest(code: "InvalidPart", message: "\(part.partNumber)")
                }
                // S3: every part but the last is at least 5 MiB.
                if index < parts.count - 1, stored.data.count < 5 << 20 {
                    throw ObjectStoreError.invalidRequest(code: "EntityTooSmall", message: "\(part.partNumber)")
                }
                data.append(stored.data)
            }
            s.uploads[uploadID] = nil
            let etag = "\"mpu-\(s.nextETag)-\(parts.count)\""
            s.nextETag += 1
            s.objects[key] = StoredObject(data: data, etag: etag, lastModified: Date(), attributes: upload.attributes)
            return etag
        }
    }

    public func abortMultipartUpload(_ key: ObjectKey, uploadID: String) async throws {
        try await begin(.abortMultipart)
        _ = state.withLock { $0.uploads.removeValue(forKey: uploadID) }
    }

    public func listMultipartUploads(prefix: String) async throws -> [MultipartUploadSummary] {
        try await begin(.listMultipart)
        return state.withLock { s in
            s.uploads.filter { $0.value.key.rawValue.hasPrefix(prefix) }
                .map { MultipartUploadSummary(key: $0.value.key, uploadID: $0.key, initiated: $0.value.initiated) }
                .sorted { $0.key < $1.key }
        }
    }
}
