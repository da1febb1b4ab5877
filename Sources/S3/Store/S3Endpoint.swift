import Foundation
import ObjectStorage

/// The URLs of one bucket: scheme, authority and addressing style resolved once from an `S3Configuration`.
struct S3Endpoint: Sendable, Equatable {
    var scheme: String
    /// `host[:port]` of the endpoint, without the bucket.
    var authority: String
    /// A path prefix the endpoint itself carries (`https://proxy/s3` gives `/s3`), or empty.
    var basePath: String
    var bucket: String
    var usesPathStyle: Bool

    init(configuration: S3Configuration) {
        var rest = Substring(configuration.endpoint ?? "https://s3.\(configuration.region).amazonaws.com")
        if let marker = rest.range(of: "://") {
            scheme = rest[..<marker.lowerBound].lowercased()
            rest = rest[marker.upperBound...]
        } else {
            scheme = "https"
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        authority = rest[..<slash].lowercased()
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        basePath = path
        bucket = configuration.bucket
        usesPathStyle =
            switch configuration.addressing {
            case .pathStyle: true
            case .virtualHosted: false
            case .automatic: Self.isLocalOrIP(host: Self.host(of: authority)) || !Self.isDNSCompatible(bucket)
            }
    }

    /// The URL of the bucket (`key` nil) or of one object, with `query` encoded (a nil value writes the bare name).
    func url(key: ObjectKey?, query: [(String, String?)] = []) -> String {
        var url = scheme + "://"
        if usesPathStyle {
            url += authority + basePath + "/" + PercentEncoding.encode(bucket)
            if let key { url += "/" + PercentEncoding.encodeKeyPath(key.rawValue) }
        } else {
            url += bucket + "." + authority + basePath + "/"
            if let key { url += PercentEncoding.encodeKeyPath(key.rawValue) }
        }
        if !query.isEmpty {
            url += "?"
            url += query.map { name, value in
                PercentEncoding.encode(name) + (value.map { "=" + PercentEncoding.encode($0) } ?? "")
            }.joined(separator: "&")
        }
        return url
    }

    /// The value of `x-amz-copy-source`: `/bucket/key`, URL-encoded.
    func copySource(_ key: ObjectKey) -> String {
        "/" + PercentEncoding.encode(bucket) + "/" + PercentEncoding.encodeKeyPath(key.rawValue)
    }

    static func host(of authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[...close])
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "")
    }

    static func isLocalOrIP(host: String) -> Bool {
        if host.hasPrefix("[") { return true }  // IPv6 literal
        if host == "localhost" || host.hasSuffix(".localhost") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
    }

    /// A bucket name usable as one DNS label under a TLS wildcard certificate: 3–63 of `a-z 0-9 -`, no dots,
    /// starting and ending with a letter or digit.
    static func isDNSCompatible(_ bucket: String) -> Bool {
        let bytes = Array(bucket.utf8)
        guard (3...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
        else { return false }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
    }
}
