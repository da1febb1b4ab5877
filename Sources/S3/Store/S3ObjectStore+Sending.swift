import Foundation
import Logging
import ObjectStorage

/// One S3 operation before URL building and signing.
struct S3Call {
    /// The S3 API name (`GetObject`), for logs and statistics.
    var operation: String
    var method: String
    /// Nil for bucket-level calls.
    var key: ObjectKey?
    var query: [(String, String?)] = []
    var headers: [(name: String, value: String)] = []
    var body = Data()
    /// For calls that answer 200 and then report failure in the body (CompleteMultipartUpload, CopyObject,
    /// UploadPartCopy): the `<Error>` code of such a body, if any.
    var embeddedErrorCode: (@Sendable (Data) -> String?)? = nil
}

extension S3ObjectStore {
    /// Sends `call`, retrying transient failures with jittered exponential backoff and re-signing each attempt.
    /// Returns the last response, whatever its status.
    /// - Throws: `ObjectStoreError.transport` when no response arrived; `CancellationError` when cancelled.
    func send(_ call: S3Call) async throws -> HTTPResponse {
        let url = endpoint.url(key: call.key, query: call.query)
        let keyLabel = call.key?.rawValue ?? ""
        var attempt = 1
        var connectFailures = 0
        while true {
            try Task.checkCancellation()
            var request = HTTPRequest(
                method: call.method, url: url, headers: call.headers, body: call.body,
                timeout: configuration.requestTimeout)
            if let signer {
                request = signer.sign(request, date: now(), payload: configuration.signsPayload ? .signed : .unsigned)
            }
            let started = ContinuousClock.now
            var retryReason: String
            do {
                let response = try await transport.send(request)
                statistics.record(
                    operation: call.operation, status: response.status, isRetry: attempt > 1,
                    bytesSent: call.body.count, bytesReceived: response.body.count)
                logger.debug(
                    "s3 request",
                    metadata: {
                        var metadata: Logger.Metadata = [
                            "s3.op": "\(call.operation)", "s3.key": "\(keyLabel)", "http.method": "\(call.method)",
                            "http.status": "\(response.status)", "attempt": "\(attempt)",
                            "duration_ms": "\(Self.milliseconds(since: started))",
                        ]
                        // Which bytes a ranged GET asked for: how readahead's fetch pattern is seen in a log.
                        if let range = call.headers.first(where: { $0.name == "Range" }) {
                            metadata["http.range"] = "\(range.value)"
                        }
                        return metadata
                    }())
                let embedded = response.status == 200 ? call.embeddedErrorCode?(response.body) : nil
                if response.status == 200, embedded == nil { return response }
                let code = embedded ?? (response.status >= 500 ? S3XML.error(from: response.body)?.code : nil)
                guard S3ErrorMapping.isRetryable(status: response.status, code: code), attempt < configuration.maxAttempts
                else { return response }
                retryReason = "HTTP \(response.status)" + (code.map { " \($0)" } ?? "")
            } catch let error as HTTPTransportError {
                statistics.record(
                    operation: call.operation, status: nil, isRetry: attempt > 1, bytesSent: call.body.count,
                    bytesReceived: 0)
                let retryable: Bool
                switch error {
                case .timedOut, .connectionLost: retryable = true
                case .cannotConnect:
                    // A server that refuses connections is usually down, not busy: give up early.
                    connectFailures += 1
                    retryable = connectFailures < 3
                case .tls, .other: retryable = false
                }
                guard retryable, attempt < configuration.maxAttempts else {
                    logger.debug(
                        "s3 request failed",
                        metadata: [
                            "s3.op": "\(call.operation)", "s3.key": "\(keyLabel)", "attempt": "\(attempt)",
                            "error": "\(S3ErrorMapping.describe(error))",
                        ])
                    throw ObjectStoreError.transport(detail: S3ErrorMapping.describe(error))
                }
                retryReason = S3ErrorMapping.describe(error)
            }
            let delay = backoff(beforeRetry: attempt)
            logger.warning(
                "s3 request retried",
                metadata: [
                    "s3.op": "\(call.operation)", "s3.key": "\(keyLabel)", "attempt": "\(attempt)",
                    "reason": "\(retryReason)", "delay_ms": "\(Self.milliseconds(delay))",
                ])
            try await Task.sleep(for: delay)
            attempt += 1
        }
    }

    /// Full jitter: a uniform delay in `0...min(cap, base * 2^(attempt-1))`.
    func backoff(beforeRetry attempt: Int) -> Duration {
        let base = Double(configuration.retryBaseDelay.components.seconds)
            + Double(configuration.retryBaseDelay.components.attoseconds) / 1e18
        let cap = Double(configuration.retryMaxDelay.components.seconds)
            + Double(configuration.retryMaxDelay.components.attoseconds) / 1e18
        let ceiling = min(cap, base * pow(2, Double(min(attempt - 1, 30))))
        return .seconds(ceiling > 0 ? Double.random(in: 0...ceiling) : 0)
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> Int64 {
        milliseconds(ContinuousClock.now - start)
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
