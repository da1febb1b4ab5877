import CCurl
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An `HTTPTransport` backed by libcurl's multi interface, driven by one thread this transport owns.
///
/// `send` never blocks its caller: it hands the request to the transport's thread through a `Mutex`-protected mailbox,
/// wakes that thread with `curl_multi_wakeup`, and suspends on a continuation until the exchange finishes, fails, is
/// cancelled, or the transport shuts down. Connections are kept alive in the multi handle's connection cache and reused
/// by later requests to the same host; easy handles are pooled.
///
/// It speaks HTTP/1.1 over `http` and `https` only, follows no redirects (a 3xx is a response), sends no
/// `Accept`, `Expect` or `User-Agent` of its own and no `Content-Type` the caller did not give, and takes a proxy
/// from the environment (libcurl's default) except for loopback addresses.
public final class CurlTransport: HTTPTransport {
    /// Settings fixed for the transport's lifetime.
    public struct Configuration: Sendable {
        /// Path of a PEM file of trusted CA certificates; `nil` trusts the system's CAs.
        public var caBundle: String?
        /// Whether TLS peers must present a certificate that is trusted and matches the host name.
        public var verifyTLS: Bool
        /// Most connections open at once to one host; further requests wait for a free connection.
        public var maxConnectionsPerHost: Int
        /// Most connections open at once in total, and the most idle connections kept for reuse.
        public var maxTotalConnections: Int
        /// How long establishing a connection (TCP and TLS) may take; exceeding it fails with `.timedOut`.
        public var connectTimeout: Duration
        /// A transfer slower than this many bytes per second for `lowSpeedTime` fails with `.timedOut`.
        public var lowSpeedLimit: Int
        /// How long a transfer may stay below `lowSpeedLimit` before it fails; detects stalled bodies. Whole seconds;
        /// libcurl averages speed over the last 5 s, so a stall after data has flowed is noticed up to 5 s later.
        public var lowSpeedTime: Duration

        /// Creates a configuration; the defaults suit S3 on a LAN or the internet.
        public init(
            caBundle: String? = nil, verifyTLS: Bool = true, maxConnectionsPerHost: Int = 64,
            maxTotalConnections: Int = 128, connectTimeout: Duration = .seconds(5), lowSpeedLimit: Int = 1,
            lowSpeedTime: Duration = .seconds(30)
        ) {
            self.caBundle = caBundle
            self.verifyTLS = verifyTLS
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.maxTotalConnections = maxTotalConnections
            self.connectTimeout = connectTimeout
            self.lowSpeedLimit = lowSpeedLimit
            self.lowSpeedTime = lowSpeedTime
        }
    }

    /// The error every request still pending when `shutdown()` runs, or sent after it, fails with.
    public static let shutDownError = HTTPTransportError.other(detail: "the HTTP transport was shut down")

    private let mailbox: Mailbox
    private let logger: Logger
    /// The transport thread until `shutdown()` claims it for joining.
    private let thread: Mutex<pthread_t?>

    /// Starts the transport's thread.
    /// - Throws: `HTTPTransportError.other` when libcurl cannot be initialised or the thread cannot start.
    public init(configuration: Configuration, logger: Logger) throws {
        try CurlGlobal.ensureInitialized()
        guard let multi = curl_multi_init() else {
            throw HTTPTransportError.other(detail: "curl_multi_init failed")
        }
        _ = CCurl_multiSetoptLong(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(1, configuration.maxConnectionsPerHost))
        _ = CCurl_multiSetoptLong(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max(1, configuration.maxTotalConnections))
        // The connection cache: idle connections kept for reuse.
        _ = CCurl_multiSetoptLong(multi, CURLMOPT_MAXCONNECTS, max(1, configuration.maxTotalConnections))
        let mailbox = Mailbox(multi: multi)
        let loop = EventLoop(multi: multi, mailbox: mailbox, configuration: configuration, logger: logger)
        // SAFETY: the retained reference is the thread's argument; `EventLoop.threadMain` takes it back exactly once,
        // and if the thread does not start we take it back here.
        let argument = Unmanaged.passRetained(loop).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, EventLoop.threadMain, argument)
        guard status == 0 else {
            Unmanaged<EventLoop>.fromOpaque(argument).release()
            curl_multi_cleanup(multi)
            throw HTTPTransportError.other(detail: "cannot start the curl thread (errno \(status))")
        }
        self.mailbox = mailbox
        self.logger = logger
        self.thread = Mutex(handle)
        logger.debug("curl transport started", metadata: ["curl.version": "\(String(cString: curl_version()))"])
    }

    deinit {
        shutdown()
    }

    /// Performs `request` on the transport's thread; a non-2xx status is a response, not an error.
    ///
    /// Cancelling the calling task abandons the exchange (its connection is closed) and throws `CancellationError`.
    /// - Throws: `HTTPTransportError` when no complete response arrived (`shutDownError` once shut down), or
    ///   `CancellationError`.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let id = mailbox.allocate() else { throw Self.shutDownError }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                mailbox.submit(id, request: request, continuation: continuation)
            }
        } onCancel: {
            mailbox.cancel(id)
        }
    }

    /// Fails every pending request with `shutDownError`, stops the transport's thread and waits for it to end.
    ///
    /// Idempotent. It blocks only for as long as the thread takes to notice (it is woken at once) and close its
    /// connections; call it from lifecycle code, not from a hot path.
    public func shutdown() {
        let claimed = thread.withLock { handle -> pthread_t? in
            defer { handle = nil }
            return handle
        }
        guard let claimed else { return }
        mailbox.shutDown()
        if pthread_equal(claimed, pthread_self()) != 0 {
            // The last reference died on our own thread; it cannot join itself and exits on its own.
            pthread_detach(claimed)
        } else {
            pthread_join(claimed, nil)
        }
        logger.debug("curl transport stopped")
    }
}

/// `curl_global_init` runs once per process, before the first handle is made.
enum CurlGlobal {
    /// The result of the one `curl_global_init` call; Swift runs a global's initialiser once, thread-safely.
    private static let initResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

    /// Runs `curl_global_init` if no one has yet.
    /// - Throws: `HTTPTransportError.other` when libcurl failed to initialise.
    static func ensureInitialized() throws {
        guard initResult == CURLE_OK else {
            throw HTTPTransportError.other(
                detail: "curl_global_init failed: \(String(cString: curl_easy_strerror(initResult)))")
        }
    }
}
