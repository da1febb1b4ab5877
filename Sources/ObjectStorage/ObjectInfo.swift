import Foundation

/// What a HEAD (or the headers of a GET) says of one object.
public struct ObjectInfo: Sendable, Hashable {
    public var key: ObjectKey
    public var size: UInt64
    /// The entity tag as the store gives it, quotes included (`"d41d8cd9..."`).
    public var etag: String
    public var lastModified: Date
    /// User metadata, names lower-cased and without the `x-amz-meta-` prefix (`mode`, `mtime`, `xattr`).
    public var metadata: [String: String]
    public var contentType: String?
    public var storageClass: String?

    public init(
        key: ObjectKey, size: UInt64, etag: String, lastModified: Date, metadata: [String: String] = [:],
        contentType: String? = nil, storageClass: String? = nil
    ) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.metadata = metadata
        self.contentType = contentType
        self.storageClass = storageClass
    }
}

/// One object as a listing describes it: no user metadata (S3 listings never carry it).
public struct ObjectSummary: Sendable, Hashable {
    public var key: ObjectKey
    public var size: UInt64
    public var etag: String
    public var lastModified: Date
    public var storageClass: String?

    public init(key: ObjectKey, size: UInt64, etag: String, lastModified: Date, storageClass: String? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
        self.storageClass = storageClass
    }
}

/// One page of a delimited listing.
public struct ListPage: Sendable, Hashable {
    /// Objects directly under the prefix (or all below it when no delimiter was given), in key order.
    public var objects: [ObjectSummary]
    /// Common prefixes, each ending with the delimiter (`photos/2024/`), in key order.
    public var commonPrefixes: [String]
    /// Pass to the next `list` call to continue; nil on the last page.
    public var continuationToken: String?

    public init(objects: [ObjectSummary], commonPrefixes: [String], continuationToken: String?) {
        self.objects = objects
        self.commonPrefixes = commonPrefixes
        self.continuationToken = continuationToken
    }
}

/// The body and description of a (possibly ranged) GET.
public struct ObjectBody: Sendable {
    public var info: ObjectInfo
    /// The bytes of the requested range (the whole object when no range was asked).
    public var data: Data

    public init(info: ObjectInfo, data: Data) {
        self.info = info
        self.data = data
    }
}

/// What a new object (PUT, multipart start, copy with REPLACE) is written with.
public struct ObjectAttributes: Sendable, Hashable {
    /// User metadata, names without the `x-amz-meta-` prefix.
    public var metadata: [String: String]
    public var contentType: String?

    public init(metadata: [String: String] = [:], contentType: String? = nil) {
        self.metadata = metadata
        self.contentType = contentType
    }
}

/// A part of a multipart upload, as CompleteMultipartUpload needs it.
public struct CompletedPart: Sendable, Hashable {
    public var partNumber: Int
    public var etag: String

    public init(partNumber: Int, etag: String) {
        self.partNumber = partNumber
        self.etag = etag
    }
}

/// An incomplete multipart upload, as ListMultipartUploads describes it.
public struct MultipartUploadSummary: Sendable, Hashable {
    public var key: ObjectKey
    public var uploadID: String
    public var initiated: Date

    public init(key: ObjectKey, uploadID: String, initiated: Date) {
        self.key = key
        self.uploadID = uploadID
        self.initiated = initiated
    }
}
