import Foundation
import Logging
import Synchronization

@testable import S3

/// An `HTTPTransport` that records every request and answers from a script, one step per request; the last step
/// repeats once the script runs out.
final class ScriptedTransport: HTTPTransport {
    enum Step: Sendable {
        case respond(HTTPResponse)
        case fail(HTTPTransportError)
    }

    // Guards the script and the recorded requests.
    private let state: Mutex<(steps: [Step], requests: [HTTPRequest])>

    init(_ steps: [Step]) { state = Mutex((steps, [])) }

    convenience init(status: Int, headers: [String: String] = [:], body: String = "") {
        self.init([.respond(HTTPResponse(status: status, headers: headers, body: Data(body.utf8)))])
    }

    var requests: [HTTPRequest] { state.withLock { $0.requests } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let step = state.withLock { s -> Step in
            s.requests.append(request)
            return s.steps.count > 1 ? s.steps.removeFirst() : s.steps[0]
        }
        switch step {
        case .respond(let response): return response
        case .fail(let error): throw error
        }
    }
}

extension HTTPRequest {
    /// The value of the first header called `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// The lines a `CapturingLogHandler` captured.
final class CapturedLines: Sendable {
    // Guards the lines.
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

/// A `LogHandler` that keeps every line with its metadata rendered, at trace level.
struct CapturingLogHandler: LogHandler {
    let captured: CapturedLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = merged.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        captured.append("\(event.level) \(event.message) \(rendered)")
    }

    /// A trace-level logger writing into `captured`.
    static func logger(into captured: CapturedLines) -> Logger {
        var logger = Logger(label: "test") { _ in CapturingLogHandler(captured: captured) }
        logger.logLevel = .trace
        return logger
    }
}

/// A store on `transport` with fast retries and a fixed signing clock.
func makeStore(
    _ transport: ScriptedTransport, endpoint: String? = "http://127.0.0.1:8333", bucket: String = "bucket",
    credentials: AWSCredentials? = AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "s3cr3t-never-logged"),
    addressing: S3Configuration.Addressing = .automatic, maxAttempts: Int = 6, logger: Logger = Logger(label: "test")
) -> S3ObjectStore {
    let configuration = S3Configuration(
        endpoint: endpoint, bucket: bucket, region: "us-east-1", credentials: credentials, addressing: addressing,
        maxAttempts: maxAttempts, retryBaseDelay: .milliseconds(1), retryMaxDelay: .milliseconds(2))
    return S3ObjectStore(
        configuration: configuration, transport: transport, logger: logger,
        now: { Date(timeIntervalSince1970: 1_369_353_600) })
}
