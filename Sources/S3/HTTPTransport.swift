// S3: speaks the S3 REST protocol.
// Owns: SigV4 signing, credentials and region discovery, request building, XML parsing, retries, the libcurl
// transport, and `S3ObjectStore: ObjectStore`.
// Must never know: inodes, paths as a filesystem sees them, errno or FUSE.

import Foundation

/// One HTTP request, fully formed (signed headers included).
public struct HTTPRequest: Sendable {
    public var method: String
    /// Absolute URL, already percent-encoded.
    public var url: String
    /// Header names as sent; order is kept.
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// The whole exchange must finish within this, or the transport throws `.timedOut`.
    public var timeout: Duration

    public init(
        method: String, url: String, headers: [(name: String, value: String)] = [], body: Data = Data(),
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// One HTTP response. Header names are lower-cased; a repeated header keeps its last value.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Why no HTTP response arrived. Never carries credentials.
public enum HTTPTransportError: Error, Sendable, Hashable {
    /// Could not connect (refused, unreachable, DNS failure).
    case cannotConnect(detail: String)
    /// The connection broke mid-exchange (reset, body cut short).
    case connectionLost(detail: String)
    /// The request did not finish within its timeout.
    case timedOut
    /// TLS failed: certificate not trusted, handshake error.
    case tls(detail: String)
    /// Anything else libcurl reports.
    case other(detail: String)
}

/// Sends HTTP requests; implementations must be safe to call from many tasks at once and never block the caller.
public protocol HTTPTransport: Sendable {
    /// Performs `request`; a non-2xx status is a response, not an error.
    /// - Throws: `HTTPTransportError` when no complete response arrived.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}
