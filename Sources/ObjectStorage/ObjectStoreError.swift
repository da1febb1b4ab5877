/// Why a store operation failed, in storage terms. The filesystem core gives these a POSIX meaning.
public enum ObjectStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The object (or, with `bucket`, the bucket) does not exist.
    case notFound(key: String)
    case noSuchBucket(bucket: String)
    /// If-Match, If-None-Match or another precondition did not hold (HTTP 412, or 409 on a conditional write).
    case preconditionFailed(key: String)
    /// The credentials were refused or lack a permission (HTTP 403).
    case accessDenied(code: String, message: String)
    /// The store asked us to slow down and retries ran out (HTTP 503 SlowDown, 429).
    case throttled
    /// The request was malformed or not supported (HTTP 400, 405, 501), with the S3 error code.
    case invalidRequest(code: String, message: String)
    /// The range asked lies beyond the object's end (HTTP 416).
    case invalidRange(key: String)
    /// The object is archived (GLACIER, DEEP_ARCHIVE) and must be restored before it can be read.
    case archived(key: String, storageClass: String)
    /// The server failed (HTTP 5xx) and retries ran out.
    case server(status: Int, code: String)
    /// No usable HTTP response: connection refused or reset, DNS, TLS, a timeout. `detail` never holds secrets.
    case transport(detail: String)
    /// A response could not be understood.
    case malformedResponse(detail: String)

    public var description: String {
        switch self {
        case .notFound(let key): "no such object: \(key)"
        case .noSuchBucket(let bucket): "no such bucket: \(bucket)"
        case .preconditionFailed(let key): "precondition failed: \(key)"
        case .accessDenied(let code, let message): "access denied (\(code)): \(message)"
        case .throttled: "the server kept asking to slow down"
        case .invalidRequest(let code, let message): "request refused (\(code)): \(message)"
        case .invalidRange(let key): "range not satisfiable: \(key)"
        case .archived(let key, let storageClass): "object \(key) is archived in \(storageClass)"
        case .server(let status, let code): "server error \(status) \(code)"
        case .transport(let detail): "transport: \(detail)"
        case .malformedResponse(let detail): "malformed response: \(detail)"
        }
    }
}
