import Foundation

/// Signs HTTP requests with AWS Signature Version 4 (`AWS4-HMAC-SHA256`, `Authorization` header form).
///
/// S3 rules are followed: the canonical URI is the request path exactly as sent (S3 does not encode it a second
/// time, and neither resolves dot segments), query parameters are decoded, re-encoded with RFC 3986 and sorted,
/// and, for service `s3`, every request carries `x-amz-content-sha256` (SeaweedFS refuses requests without it).
public struct SigV4Signer: Sendable {
    /// How the body enters the signature.
    public enum Payload: Sendable, Hashable {
        /// The SHA-256 of the body is signed (and sent as `x-amz-content-sha256` for S3).
        case signed
        /// The literal `UNSIGNED-PAYLOAD` is signed instead; S3 accepts this over any transport.
        case unsigned
        /// A hash computed elsewhere (lower-case hex).
        case precomputed(String)
    }

    /// The SHA-256 of no bytes.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    /// - Parameter service: `s3` for S3; another name (such as the test suite's `service`) signs without adding
    ///   `x-amz-content-sha256`, which only S3 defines.
    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// `request` with `host`, `x-amz-date`, `x-amz-content-sha256` (S3), `x-amz-security-token` (temporary
    /// credentials) and `Authorization` set, signed as of `date`. Headers already present with those names are
    /// replaced.
    public func sign(_ request: HTTPRequest, date: Date = Date(), payload: Payload = .signed) -> HTTPRequest {
        var signed = request
        let amzDate = UTCTimestamp.amzDate(date)
        let parts = RequestTarget(url: request.url)
        let payloadHash: String =
            switch payload {
            case .signed: SHA256.hexHash(request.body)
            case .unsigned: "UNSIGNED-PAYLOAD"
            case .precomputed(let hash): hash
            }
        var owned: Set<String> = ["authorization", "x-amz-date"]
        if !request.headers.contains(where: { $0.name.lowercased() == "host" }) {
            signed.headers.insert(("host", parts.authority), at: 0)
        }
        var additions: [(name: String, value: String)] = [("x-amz-date", amzDate)]
        if service == "s3" {
            owned.insert("x-amz-content-sha256")
            additions.append(("x-amz-content-sha256", payloadHash))
        }
        if let token = credentials.sessionToken {
            owned.insert("x-amz-security-token")
            additions.append(("x-amz-security-token", token))
        }
        signed.headers.removeAll { owned.contains($0.name.lowercased()) }
        signed.headers += additions

        let canonical = canonicalRequest(
            method: request.method, target: parts, headers: signed.headers, payloadHash: payloadHash)
        let scope = "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(SHA256.hexHash(Array(canonical.request.utf8)))"
        let signature = SHA256.hex(SHA256.hmac(key: signingKey(day: String(amzDate.prefix(8))), stringToSign))
        signed.headers.append(
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
                    + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
            ))
        return signed
    }

    /// The key derived from the secret for one day, region and service.
    func signingKey(day: String) -> [UInt8] {
        let dateKey = SHA256.hmac(key: Array("AWS4\(credentials.secretAccessKey)".utf8), day)
        let regionKey = SHA256.hmac(key: dateKey, region)
        let serviceKey = SHA256.hmac(key: regionKey, service)
        return SHA256.hmac(key: serviceKey, "aws4_request")
    }

    // Headers a proxy or the HTTP client may add, drop or rewrite; signing them would break the signature.
    private static let unsignedHeaders: Set<String> = [
        "authorization", "user-agent", "expect", "connection", "transfer-encoding", "accept-encoding",
    ]

    /// The canonical request and its signed-header list (internal so tests can pin the intermediate text).
    func canonicalRequest(
        method: String, target: RequestTarget, headers: [(name: String, value: String)], payloadHash: String
    ) -> (request: String, signedHeaders: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            guard !Self.unsignedHeaders.contains(lower) else { continue }
            merged[lower, default: []].append(Self.normalizeHeaderValue(value))
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let uri = target.path.isEmpty ? "/" : target.path
        let request = [
            method.uppercased(), uri, Self.canonicalQuery(target.query), canonicalHeaders, signedHeaders, payloadHash,
        ].joined(separator: "\n")
        return (request, signedHeaders)
    }

    /// Trims a header value and folds runs of spaces into one, as SigV4 requires.
    static func normalizeHeaderValue(_ value: String) -> String {
        // On UTF-8 bytes: only ASCII space and tab are folded, and multi-byte sequences never contain either.
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == 0x20 || byte == 0x09 {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The query with each name and value decoded, re-encoded (RFC 3986, `%20` for space) and sorted.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { item -> (String, String) in
            let halves = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.encode(PercentEncoding.decode(halves[0]))
            let value = halves.count > 1 ? PercentEncoding.encode(PercentEncoding.decode(halves[1])) : ""
            return (name, value)
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }
}

/// The parts of an absolute URL that signing needs.
struct RequestTarget: Equatable {
    /// `host` or `host:port`, as the `Host` header carries it (default ports omitted).
    var authority: String
    /// The encoded path, `/` first, or empty.
    var path: String
    /// The encoded query, without `?`.
    var query: String

    init(url: String) {
        var rest = Substring(url)
        var scheme = "https"
        if let marker = rest.range(of: "://") {
            scheme = rest[..<marker.lowerBound].lowercased()
            rest = rest[marker.upperBound...]
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = String(rest[..<authorityEnd])
        if scheme == "https", authority.hasSuffix(":443") { authority.removeLast(4) }
        if scheme == "http", authority.hasSuffix(":80") { authority.removeLast(3) }
        self.authority = authority.lowercased()
        rest = rest[authorityEnd...]
        if let mark = rest.firstIndex(of: "?") {
            path = String(rest[..<mark])
            query = String(rest[rest.index(after: mark)...])
        } else {
            path = String(rest)
            query = ""
        }
    }
}
