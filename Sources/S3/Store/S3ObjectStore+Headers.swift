import Foundation
import ObjectStorage

extension S3ObjectStore {
    /// A header value checked for line breaks and NULs, which would let a value start a new header.
    /// - Throws: `ObjectStoreError.invalidRequest(code: "InvalidHeaderValue", ...)`.
    static func checkedHeader(_ name: String, _ value: String) throws(ObjectStoreError) -> (name: String, value: String) {
        if value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D || $0 == 0x00 }) {
            throw .invalidRequest(code: "InvalidHeaderValue", message: "header \(name) contains a line break")
        }
        return (name, value)
    }

    /// `Content-Type` and `x-amz-meta-*` headers for `attributes`.
    ///
    /// Metadata names are lower-cased and must be HTTP tokens. Values of printable ASCII are sent as they are;
    /// any other value is sent percent-encoded (UTF-8, `%XY`) as a whole, because HTTP/1.1 header values are not
    /// UTF-8. Such values come back from HEAD in their encoded form: callers that need round trips keep metadata
    /// ASCII. Line breaks are refused either way.
    static func attributeHeaders(_ attributes: ObjectAttributes) throws(ObjectStoreError) -> [(
        name: String, value: String
    )] {
        var headers: [(name: String, value: String)] = []
        if let contentType = attributes.contentType { headers.append(try checkedHeader("Content-Type", contentType)) }
        for (name, value) in attributes.metadata.sorted(by: { $0.key < $1.key }) {
            let lower = name.lowercased()
            guard !lower.isEmpty, lower.utf8.allSatisfy(isTokenByte) else {
                throw .invalidRequest(code: "InvalidMetadataName", message: "metadata name \(name) is not an HTTP token")
            }
            let headerName = "x-amz-meta-" + lower
            _ = try checkedHeader(headerName, value)
            let printable = value.utf8.allSatisfy { (0x20...0x7E).contains($0) || $0 == 0x09 }
            headers.append((headerName, printable ? value : PercentEncoding.encode(value)))
        }
        return headers
    }

    // RFC 9110 token characters.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        PercentEncoding.isUnreserved(byte) || "!#$&'*+^`|".utf8.contains(byte)
    }

    /// What the headers of a HEAD or GET say of `key`. The size comes from `Content-Range` when present (ranged GET).
    static func objectInfo(_ key: ObjectKey, from headers: [String: String]) -> ObjectInfo {
        var size = UInt64(headers["content-length"] ?? "") ?? 0
        if let range = headers["content-range"], let slash = range.lastIndex(of: "/"),
            let total = UInt64(range[range.index(after: slash)...])
        {
            size = total
        }
        var metadata: [String: String] = [:]
        for (name, value) in headers where name.hasPrefix("x-amz-meta-") {
            metadata[String(name.dropFirst("x-amz-meta-".count))] = value
        }
        return ObjectInfo(
            key: key, size: size, etag: headers["etag"] ?? "",
            lastModified: headers["last-modified"].flatMap(UTCTimestamp.parseHTTPDate) ?? Date(timeIntervalSince1970: 0),
            metadata: metadata, contentType: headers["content-type"],
            storageClass: headers["x-amz-storage-class"] ?? "STANDARD")
    }
}
