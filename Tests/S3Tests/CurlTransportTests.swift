import Foundation
import Logging
import S3
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("CurlTransport against a loopback HTTP/1.1 server")
struct CurlTransportTests {
    private static let logger = Logger(label: "bucketfs.test.curl")

    private func makeTransport(
        _ configuration: CurlTransport.Configuration = .init()
    ) throws -> CurlTransport {
        try CurlTransport(configuration: configuration, logger: Self.logger)
    }

    /// Polls until `condition` holds (at most 10 s); tests wait on counts, never on clocks.
    private func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<1000 where !condition() {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(condition())
    }

    private func randomData(count: Int) throws -> Data {
        let source = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? source.close() }
        let data = try #require(try source.read(upToCount: count))
        try #require(data.count == count)
        return data
    }

    @Test("a GET round-trips the body and lower-cased response headers, and sends only the caller's headers")
    func getRoundTrip() async throws {
        let server = try LoopbackHTTPServer { _ in
            .init(status: 200, headers: [("ETag", "\"abc\""), ("X-Amz-Request-Id", "R1")], body: Data("hello".utf8))
        }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        let response = try await transport.send(
            HTTPRequest(method: "GET", url: server.url("/bucket/key?x=1"), headers: [("X-Custom", "v")]))

        #expect(response.status == 200)
        #expect(response.body == Data("hello".utf8))
        #expect(response.headers["etag"] == "\"abc\"")
        #expect(response.headers["x-amz-request-id"] == "R1")
        #expect(response.headers["content-length"] == "5")
        let request = try #require(server.requests.first)
        #expect(request.method == "GET")
        #expect(request.target == "/bucket/key?x=1")
        #expect(request.headers["x-custom"] == "v")
        #expect(request.headers["accept"] == nil)
        #expect(request.headers["expect"] == nil)
        #expect(request.headers["user-agent"] == nil)
    }

    @Test("a non-2xx status is a response, not an error")
    func errorStatusIsAResponse() async throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 404, body: Data("<Error/>".utf8)) }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        let response = try await transport.send(HTTPRequest(method: "GET", url: server.url()))

        #expect(response.status == 404)
        #expect(response.body == Data("<Error/>".utf8))
    }

    @Test("a PUT body of 1 MiB arrives intact with its Content-Length and without Expect: 100-continue")
    func putBody() async throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 200) }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }
        let body = try randomData(count: 1 << 20)

        let response = try await transport.send(
            HTTPRequest(method: "PUT", url: server.url("/bucket/big"), headers: [("Content-Type", "x/y")], body: body))

        #expect(response.status == 200)
        let request = try #require(server.requests.first)
        #expect(request.method == "PUT")
        #expect(request.headers["content-length"] == "\(1 << 20)")
        #expect(request.headers["content-type"] == "x/y")
        #expect(request.headers["expect"] == nil)
        #expect(request.body == body)
    }

    @Test("a 2 MiB POST sends its body without Expect: 100-continue or a Content-Type the caller did not give")
    func postBody() async throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 200, body: Data("<Done/>".utf8)) }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }
        // Past libcurl's 1 MiB threshold for adding Expect: 100-continue to a POST.
        let body = try randomData(count: 2 << 20)

        let response = try await transport.send(HTTPRequest(method: "POST", url: server.url("/k?uploads"), body: body))

        #expect(response.body == Data("<Done/>".utf8))
        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.body == body)
        #expect(request.headers["content-length"] == "\(body.count)")
        #expect(request.headers["content-type"] == nil)
        #expect(request.headers["expect"] == nil)
    }

    @Test("a Content-Length given by the caller is sent once, not duplicated by libcurl")
    func callerContentLength() async throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 200) }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }
        let body = Data("signed".utf8)

        _ = try await transport.send(
            HTTPRequest(method: "PUT", url: server.url("/k"), headers: [("Content-Length", "6")], body: body))

        let request = try #require(server.requests.first)
        #expect(request.headerNames.filter { $0 == "content-length" }.count == 1)
        #expect(request.body == body)
    }

    @Test("8 parallel ranged GETs of 8 MiB each return exactly their ranges")
    func parallelRangedGets() async throws {
        let object = try randomData(count: 64 << 20)
        let server = try LoopbackHTTPServer { request in
            // "bytes=first-last", as S3ObjectStore sends it.
            let bounds = request.headers["range", default: ""].dropFirst("bytes=".count).split(separator: "-")
            guard bounds.count == 2, let first = Int(bounds[0]), let last = Int(bounds[1]) else {
                return .init(status: 400)
            }
            return .init(status: 206, body: object[first...last])
        }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }
        let part = 8 << 20

        let parts = try await withThrowingTaskGroup(of: (Int, HTTPResponse).self) { group in
            for index in 0..<8 {
                group.addTask {
                    let range = "bytes=\(index * part)-\((index + 1) * part - 1)"
                    let request = HTTPRequest(method: "GET", url: server.url("/o"), headers: [("Range", range)])
                    return (index, try await transport.send(request))
                }
            }
            return try await group.reduce(into: [Int: HTTPResponse]()) { $0[$1.0] = $1.1 }
        }

        #expect(parts.count == 8)
        for (index, response) in parts {
            #expect(response.status == 206)
            #expect(response.body == object[(index * part)..<((index + 1) * part)])
        }
    }

    @Test("an empty PUT sends Content-Length: 0 and DELETE uses its own verb")
    func emptyPutAndDelete() async throws {
        let server = try LoopbackHTTPServer { request in .init(status: request.method == "DELETE" ? 204 : 200) }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        let put = try await transport.send(HTTPRequest(method: "PUT", url: server.url("/dir/")))
        let delete = try await transport.send(HTTPRequest(method: "DELETE", url: server.url("/dir/")))

        #expect(put.status == 200)
        #expect(delete.status == 204)
        let requests = server.requests
        #expect(requests.map(\.method) == ["PUT", "DELETE"])
        #expect(requests.first?.headers["content-length"] == "0")
    }

    @Test("a HEAD returns the headers, including Content-Length, and no body")
    func head() async throws {
        let server = try LoopbackHTTPServer { _ in
            .init(
                status: 200, headers: [("Content-Length", "1234"), ("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT")])
        }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        let response = try await transport.send(HTTPRequest(method: "HEAD", url: server.url("/k")))

        #expect(response.status == 200)
        #expect(response.headers["content-length"] == "1234")
        #expect(response.headers["last-modified"] == "Wed, 01 Jan 2025 00:00:00 GMT")
        #expect(response.body.isEmpty)
        #expect(server.requests.first?.method == "HEAD")
    }

    @Test("headers of an interim 100 Continue response are dropped")
    func interimResponseHeadersAreDropped() async throws {
        let server = try LoopbackHTTPServer { _ in
            .init(status: 200, headers: [("X-Final", "1")], body: Data("ok".utf8), interimHeader: ("X-Interim", "1"))
        }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        let response = try await transport.send(HTTPRequest(method: "GET", url: server.url()))

        #expect(response.status == 200)
        #expect(response.headers["x-final"] == "1")
        #expect(response.headers["x-interim"] == nil)
        #expect(response.body == Data("ok".utf8))
    }

    @Test("100 concurrent requests all complete with their own bodies")
    func manyConcurrentRequests() async throws {
        let server = try LoopbackHTTPServer { request in .init(status: 200, body: Data(request.target.utf8)) }
        defer { server.stop() }
        let transport = try makeTransport(.init(maxConnectionsPerHost: 16))
        defer { transport.shutdown() }

        let bodies = try await withThrowingTaskGroup(of: (Int, Data).self) { group in
            for index in 0..<100 {
                group.addTask {
                    let response = try await transport.send(HTTPRequest(method: "GET", url: server.url("/\(index)")))
                    return (index, response.body)
                }
            }
            return try await group.reduce(into: [Int: Data]()) { $0[$1.0] = $1.1 }
        }

        #expect(bodies.count == 100)
        for (index, body) in bodies {
            #expect(body == Data("/\(index)".utf8))
        }
        #expect(server.acceptedConnections <= 16)
    }

    @Test("sequential requests reuse one connection")
    func connectionReuse() async throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 200, body: Data("x".utf8)) }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        for _ in 0..<5 {
            _ = try await transport.send(HTTPRequest(method: "GET", url: server.url()))
        }
        _ = try await transport.send(HTTPRequest(method: "PUT", url: server.url(), body: Data("body".utf8)))

        #expect(server.requests.count == 6)
        #expect(server.acceptedConnections == 1)
    }

    @Test("a request that outlives its timeout fails with timedOut")
    func timeout() async throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 200, delay: .seconds(10)) }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        await #expect(throws: HTTPTransportError.timedOut) {
            _ = try await transport.send(HTTPRequest(method: "GET", url: server.url(), timeout: .milliseconds(200)))
        }
    }

    @Test("a body cut short fails with connectionLost")
    func bodyCutShort() async throws {
        let server = try LoopbackHTTPServer { _ in
            .init(status: 200, body: Data(count: 100_000), ending: .cutBody(afterBytes: 1000))
        }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(method: "GET", url: server.url()))
        }
        guard case .connectionLost = error else {
            Issue.record("expected connectionLost, got \(String(describing: error))")
            return
        }
    }

    @Test("a body that stalls below the low-speed limit fails with timedOut before the request timeout")
    func stalledBody() async throws {
        let server = try LoopbackHTTPServer { _ in
            // libcurl averages speed over the last 5 s: a stall right after the headers is seen soonest.
            .init(status: 200, body: Data(count: 100_000), ending: .stallBody(afterBytes: 0))
        }
        defer { server.stop() }
        let transport = try makeTransport(.init(lowSpeedLimit: 1, lowSpeedTime: .seconds(1)))
        defer { transport.shutdown() }

        await #expect(throws: HTTPTransportError.timedOut) {
            _ = try await transport.send(HTTPRequest(method: "GET", url: server.url(), timeout: .seconds(120)))
        }
    }

    @Test("a connection reset before any reply fails with connectionLost")
    func connectionReset() async throws {
        let server = try LoopbackHTTPServer { _ in .init(ending: .reset) }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(HTTPRequest(method: "GET", url: server.url()))
        }
        guard case .connectionLost = error else {
            Issue.record("expected connectionLost, got \(String(describing: error))")
            return
        }
    }

    @Test("a refused connection fails with cannotConnect, and the detail omits the query string and header values")
    func connectionRefused() async throws {
        // A bound socket that never listens: connecting to its port is refused, and no one else can take the port.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // SAFETY: the kernel reads and writes `address` as a sockaddr of `length` bytes.
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let transport = try makeTransport()
        defer { transport.shutdown() }

        let error = await #expect(throws: HTTPTransportError.self) {
            _ = try await transport.send(
                HTTPRequest(
                    method: "GET", url: "http://127.0.0.1:\(port)/k?X-Amz-Signature=topsecretsignature",
                    headers: [("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDSECRET")]))
        }
        guard case .cannotConnect(let detail) = error else {
            Issue.record("expected cannotConnect, got \(String(describing: error))")
            return
        }
        #expect(!detail.contains("topsecretsignature"))
        #expect(!detail.contains("AKIDSECRET"))
    }

    @Test("cancelling the calling task resumes it with CancellationError and the transport stays usable")
    func cancellation() async throws {
        let server = try LoopbackHTTPServer { request in
            .init(status: 200, delay: request.target == "/slow" ? .seconds(10) : .zero)
        }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        let task = Task {
            try await transport.send(HTTPRequest(method: "GET", url: server.url("/slow")))
        }
        try await eventually { server.requests.count == 1 }
        task.cancel()

        await #expect(throws: CancellationError.self) { _ = try await task.value }
        let response = try await transport.send(HTTPRequest(method: "GET", url: server.url("/fast")))
        #expect(response.status == 200)
    }

    @Test("a task cancelled before it sends throws CancellationError without reaching the server")
    func cancelledBeforeSending() async throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 200) }
        defer { server.stop() }
        let transport = try makeTransport()
        defer { transport.shutdown() }

        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await transport.send(HTTPRequest(method: "GET", url: server.url()))
        }

        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(server.requests.isEmpty)
    }

    @Test("shutdown fails pending requests, is idempotent, and later requests fail at once")
    func shutdown() async throws {
        let server = try LoopbackHTTPServer { _ in .init(status: 200, delay: .seconds(10)) }
        defer { server.stop() }
        let transport = try makeTransport()

        let pending = (0..<3).map { index in
            Task { try await transport.send(HTTPRequest(method: "GET", url: server.url("/\(index)"))) }
        }
        try await eventually { server.requests.count == 3 }
        transport.shutdown()
        transport.shutdown()

        for task in pending {
            await #expect(throws: CurlTransport.shutDownError) { _ = try await task.value }
        }
        await #expect(throws: CurlTransport.shutDownError) {
            _ = try await transport.send(HTTPRequest(method: "GET", url: server.url()))
        }
    }
}
