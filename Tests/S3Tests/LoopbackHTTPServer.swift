import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small HTTP/1.1 server on 127.0.0.1 for transport tests: keep-alive, one thread per connection, and a script
/// that decides each reply (status, headers, body, delay, and whether to cut the body short or reset).
///
/// It understands only what `CurlTransport` sends: a request line, headers, and a `Content-Length` body.
final class LoopbackHTTPServer: Sendable {
    /// A request as received; header names lower-cased.
    struct Request: Sendable {
        var method: String
        var target: String
        var headers: [String: String]
        /// Every header line as received, in order (to check for duplicates and absent headers).
        var headerNames: [String]
        var body: Data
    }

    /// What the server does with one request.
    struct Reply: Sendable {
        /// How the exchange ends.
        enum Ending: Sendable {
            /// The whole reply; the connection stays open for the next request.
            case complete
            /// The status line, the headers (announcing the whole body) and this many body bytes, then a close.
            case cutBody(afterBytes: Int)
            /// The status line, the headers and this many body bytes, then silence until the server stops.
            case stallBody(afterBytes: Int)
            /// No reply at all: the connection is reset (RST).
            case reset
        }

        var status = 200
        var headers: [(String, String)] = []
        var body = Data()
        /// Waits this long before replying.
        var delay: Duration = .zero
        var ending = Ending.complete
        /// Sends a `100 Continue` carrying this header before the real reply.
        var interimHeader: (String, String)?
    }

    private struct State {
        var isStopped = false
        var acceptedConnections = 0
        var requests: [Request] = []
        var openSockets: Set<Int32> = []
    }

    private let listener: Int32
    /// The TCP port the server listens on.
    let port: Int
    private let script: @Sendable (Request) -> Reply
    private let state = Mutex(State())

    /// Starts listening on 127.0.0.1 on a free port; `script` chooses the reply to every request.
    init(script: @escaping @Sendable (Request) -> Reply) throws {
        self.script = script
        let (listener, port) = try Self.listen()
        self.listener = listener
        self.port = port
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// `http://127.0.0.1:<port><path>`.
    func url(_ path: String = "/") -> String {
        "http://127.0.0.1:\(port)\(path)"
    }

    /// How many TCP connections the server has accepted.
    var acceptedConnections: Int { state.withLock { $0.acceptedConnections } }

    /// Every request received so far, in arrival order.
    var requests: [Request] { state.withLock { $0.requests } }

    /// Stops accepting, breaks every open connection and lets the server's threads end. Idempotent.
    func stop() {
        let sockets: Set<Int32> = state.withLock { state in
            guard !state.isStopped else { return [] }
            state.isStopped = true
            return state.openSockets
        }
        // shutdown(2) wakes a thread blocked in accept(2) or recv(2); each thread closes its own descriptor.
        _ = shutdown(listener, Int32(SHUT_RDWR))
        for socket in sockets {
            _ = shutdown(socket, Int32(SHUT_RDWR))
        }
    }

    private var isStopped: Bool { state.withLock { $0.isStopped } }

    private static func listen() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // SAFETY: `address` is a sockaddr_in, which the kernel reads (bind) and writes (getsockname) as a sockaddr
        // of `length` bytes.
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && Glibc.listen(fd, 128) == 0
                    && getsockname(fd, generic, &length) == 0
            }
        }
        guard bound else {
            let code = errno
            close(fd)
            throw POSIXError(.init(rawValue: code) ?? .EIO)
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    private func acceptLoop() {
        defer { close(listener) }
        while !isStopped {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR { continue }
                return
            }
            let admitted = state.withLock { state in
                guard !state.isStopped else { return false }
                state.acceptedConnections += 1
                state.openSockets.insert(connection)
                return true
            }
            guard admitted else {
                close(connection)
                return
            }
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer {
            state.withLock { _ = $0.openSockets.remove(connection) }
            close(connection)
        }
        var buffer = Data()
        while let request = readRequest(from: connection, buffer: &buffer) {
            state.withLock { $0.requests.append(request) }
            let reply = script(request)
            guard sleep(for: reply.delay) else { return }
            guard respond(reply, to: request, on: connection) else { return }
        }
    }

    /// Sleeps in short steps so `stop()` is not held up; false if the server stopped meanwhile.
    private func sleep(for delay: Duration) -> Bool {
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline {
            if isStopped { return false }
            usleep(5_000)
        }
        return !isStopped
    }

    /// Writes the reply; false when the connection must end.
    private func respond(_ reply: Reply, to request: Request, on connection: Int32) -> Bool {
        if case .reset = reply.ending {
            // SO_LINGER with a zero timeout makes close(2) send RST instead of FIN.
            var option = linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(connection, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
            return false
        }
        var head = ""
        if let (name, value) = reply.interimHeader {
            head += "HTTP/1.1 100 Continue\r\n\(name): \(value)\r\n\r\n"
        }
        head += "HTTP/1.1 \(reply.status) Scripted\r\n"
        var hasLength = false
        for (name, value) in reply.headers {
            head += "\(name): \(value)\r\n"
            hasLength = hasLength || name.lowercased() == "content-length"
        }
        if !hasLength {
            head += "Content-Length: \(reply.body.count)\r\n"
        }
        head += "\r\n"
        var bytes = Data(head.utf8)
        if request.method != "HEAD" {
            switch reply.ending {
            case .cutBody(let afterBytes), .stallBody(let afterBytes):
                bytes.append(reply.body.prefix(afterBytes))
            case .complete, .reset:
                bytes.append(reply.body)
            }
        }
        guard write(bytes, to: connection) else { return false }
        switch reply.ending {
        case .complete, .reset: return true
        case .cutBody: return false
        case .stallBody: return sleep(for: .seconds(3600))
        }
    }

    private func write(_ data: Data, to connection: Int32) -> Bool {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                // SAFETY: `offset < raw.count`, so the range sent lies inside `data`'s bytes.
                let sent = send(connection, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent < 0 && errno == EINTR { continue }
                guard sent > 0 else { return false }
                offset += sent
            }
            return true
        }
    }

    /// Reads one request (head and `Content-Length` body), keeping any bytes beyond it in `buffer`.
    private func readRequest(from connection: Int32, buffer: inout Data) -> Request? {
        let separator = Data("\r\n\r\n".utf8)
        var headEnd = buffer.range(of: separator)
        while headEnd == nil {
            guard receive(from: connection, into: &buffer) else { return nil }
            headEnd = buffer.range(of: separator)
        }
        guard let headEnd else { return nil }
        let head = String(decoding: buffer[buffer.startIndex..<headEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3 else { return nil }
        var headers: [String: String] = [:]
        var names: [String] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            names.append(name)
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = headers["content-length"].flatMap { Int($0) } ?? 0
        let bodyStart = headEnd.upperBound
        while buffer.endIndex - bodyStart < length {
            guard receive(from: connection, into: &buffer) else { return nil }
        }
        let body = Data(buffer[bodyStart..<(bodyStart + length)])
        buffer = Data(buffer[(bodyStart + length)...])
        return Request(
            method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, headerNames: names,
            body: body)
    }

    private func receive(from connection: Int32, into buffer: inout Data) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let count = recv(connection, &chunk, chunk.count, 0)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[..<count])
            return true
        }
    }
}
