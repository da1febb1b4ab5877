import Foundation
import ObjectStorage

/// An S3 `<Error>` document: the code decides the mapping, the message is for people.
public struct S3ErrorResponse: Error, Sendable, Hashable {
    public var code: String
    public var message: String
    public var key: String?
    public var requestID: String?
    /// Set by `InvalidObjectState` (the archive tier of the object).
    public var storageClass: String?

    public init(
        code: String, message: String, key: String? = nil, requestID: String? = nil, storageClass: String? = nil
    ) {
        self.code = code
        self.message = message
        self.key = key
        self.requestID = requestID
        self.storageClass = storageClass
    }
}

/// One page of ListMultipartUploads.
public struct MultipartUploadPage: Sendable, Hashable {
    public var uploads: [MultipartUploadSummary]
    /// Both set when another page follows.
    public var nextKeyMarker: String?
    public var nextUploadIDMarker: String?
    public var isTruncated: Bool
}

extension S3XML {
    /// The `<Error>` document in `data`, or nil when `data` is empty or another document.
    public static func error(from data: Data) -> S3ErrorResponse? {
        guard !data.isEmpty, let root = try? parse(data), root.name == "Error" else { return nil }
        return S3ErrorResponse(
            code: root.string("Code") ?? "", message: root.string("Message") ?? "", key: root.string("Key"),
            requestID: root.string("RequestId"), storageClass: root.string("StorageClass"))
    }

    /// A ListObjectsV2 (`ListBucketResult`) page. With `<EncodingType>url</EncodingType>` in the response, keys,
    /// prefixes, `StartAfter` and `Delimiter` are percent-decoded (`+` is a space there).
    public static func listPage(from data: Data) throws(ParseError) -> ListPage {
        let root = try parse(data)
        guard root.name == "ListBucketResult" else { throw .missingElement("ListBucketResult") }
        let decode = root.string("EncodingType") == "url"
        func value(_ text: String) -> String { decode ? PercentEncoding.decode(text, plusIsSpace: true) : text }
        var objects: [ObjectSummary] = []
        objects.reserveCapacity(root.children.count)
        for contents in root.children(named: "Contents") {
            guard let rawKey = contents.string("Key"), let key = ObjectKey(value(rawKey)) else {
                throw .missingElement("Contents/Key")
            }
            objects.append(
                ObjectSummary(
                    key: key, size: UInt64(contents.string("Size") ?? "") ?? 0, etag: contents.string("ETag") ?? "",
                    lastModified: contents.string("LastModified").flatMap(UTCTimestamp.parseISO8601)
                        ?? Date(timeIntervalSince1970: 0),
                    storageClass: contents.string("StorageClass") ?? "STANDARD"))
        }
        let prefixes = root.children(named: "CommonPrefixes").compactMap { $0.string("Prefix").map(value) }
        let truncated = root.string("IsTruncated") == "true"
        let token = root.string("NextContinuationToken").flatMap { $0.isEmpty ? nil : $0 }
        if truncated, token == nil { throw .missingElement("NextContinuationToken") }
        return ListPage(objects: objects, commonPrefixes: prefixes, continuationToken: truncated ? token : nil)
    }

    /// The `UploadId` of an `InitiateMultipartUploadResult`.
    public static func uploadID(from data: Data) throws(ParseError) -> String {
        let root = try parse(data)
        guard root.name == "InitiateMultipartUploadResult", let id = root.string("UploadId"), !id.isEmpty else {
            throw .missingElement("InitiateMultipartUploadResult/UploadId")
        }
        return id
    }

    /// The ETag of a `CompleteMultipartUploadResult`, `CopyObjectResult` or `CopyPartResult`, or the `<Error>`
    /// that S3 may send inside a 200 response once the work has failed.
    public static func etagResult(from data: Data, rootName: String) throws(ParseError) -> Result<
        String, S3ErrorResponse
    > {
        let root = try parse(data)
        if root.name == "Error" {
            return .failure(S3ErrorResponse(code: root.string("Code") ?? "", message: root.string("Message") ?? ""))
        }
        guard root.name == rootName, let etag = root.string("ETag") else { throw .missingElement("\(rootName)/ETag") }
        return .success(etag)
    }

    /// A `ListMultipartUploadsResult` page (with `encoding-type=url` decoding of keys and markers).
    public static func multipartUploadPage(from data: Data) throws(ParseError) -> MultipartUploadPage {
        let root = try parse(data)
        guard root.name == "ListMultipartUploadsResult" else { throw .missingElement("ListMultipartUploadsResult") }
        let decode = root.string("EncodingType") == "url"
        func value(_ text: String) -> String { decode ? PercentEncoding.decode(text, plusIsSpace: true) : text }
        var uploads: [MultipartUploadSummary] = []
        for upload in root.children(named: "Upload") {
            guard let rawKey = upload.string("Key"), let key = ObjectKey(value(rawKey)),
                let id = upload.string("UploadId")
            else { throw .missingElement("Upload/Key") }
            let initiated =
                upload.string("Initiated").flatMap(UTCTimestamp.parseISO8601) ?? Date(timeIntervalSince1970: 0)
            uploads.append(MultipartUploadSummary(key: key, uploadID: id, initiated: initiated))
        }
        let truncated = root.string("IsTruncated") == "true"
        return MultipartUploadPage(
            uploads: uploads, nextKeyMarker: root.string("NextKeyMarker").map(value),
            nextUploadIDMarker: root.string("NextUploadIdMarker"), isTruncated: truncated)
    }

    /// The body of CompleteMultipartUpload, parts in the order given (S3 requires ascending part numbers).
    public static func completeMultipartUploadBody(_ parts: [CompletedPart]) -> Data {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            xml += "<Part><PartNumber>\(part.partNumber)</PartNumber><ETag>\(escape(part.etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        return Data(xml.utf8)
    }
}
