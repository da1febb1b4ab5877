import Synchronization

/// Counts of the HTTP exchanges one `S3ObjectStore` made (each attempt counts), for `bucketfs status`.
public final class S3RequestStatistics: Sendable {
    /// A consistent copy of the counters.
    public struct Snapshot: Sendable, Hashable {
        /// Attempts by S3 operation name (`GetObject`, `PutObject`, …).
        public var requestsByOperation: [String: Int] = [:]
        /// Responses by status class (`2xx`, `3xx`, `4xx`, `5xx`), and `transport` for attempts without one.
        public var responsesByStatusClass: [String: Int] = [:]
        /// Attempts that were retries.
        public var retries: Int = 0
        /// Request body bytes handed to the transport.
        public var bytesSent: UInt64 = 0
        /// Response body bytes received.
        public var bytesReceived: UInt64 = 0

        /// All attempts.
        public var totalRequests: Int { requestsByOperation.values.reduce(0, +) }
    }

    // Guards the counters; held only to add to or copy them.
    private let state = Mutex(Snapshot())

    public init() {}

    /// The counters now.
    public func snapshot() -> Snapshot { state.withLock { $0 } }

    /// Records one attempt; `status` nil means no response arrived.
    func record(operation: String, status: Int?, isRetry: Bool, bytesSent: Int, bytesReceived: Int) {
        let statusClass = status.map { "\($0 / 100)xx" } ?? "transport"
        state.withLock { s in
            s.requestsByOperation[operation, default: 0] += 1
            s.responsesByStatusClass[statusClass, default: 0] += 1
            if isRetry { s.retries += 1 }
            s.bytesSent += UInt64(bytesSent)
            s.bytesReceived += UInt64(bytesReceived)
        }
    }
}
