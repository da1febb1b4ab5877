import CCurl
import Foundation

extension CurlTransport {
    /// One request in flight on an easy handle: the request's bytes going out and the response's coming in.
    ///
    /// Lives on the transport's thread only. The event loop keeps it alive for as long as its easy handle is in the
    /// multi handle, which is what makes the unretained context pointers handed to libcurl valid.
    final class Exchange {
        let id: ExchangeID
        let easy: UnsafeMutableRawPointer
        let method: String
        /// The URL's query and the header values, which an error message must never repeat.
        let secrets: [String]
        private let requestBody: Data
        private var readOffset = 0
        private var responseHeaders: [String: String] = [:]
        private var responseBody = Data()
        private var headerList: UnsafeMutablePointer<curl_slist>?
        /// libcurl writes a readable message here when a transfer fails.
        let errorBuffer: UnsafeMutablePointer<CChar>

        /// Prepares `easy` (freshly made or reset) to perform `request`.
        /// - Throws: `HTTPTransportError.other` when libcurl refuses an option.
        init(
            id: ExchangeID, request: HTTPRequest, easy: UnsafeMutableRawPointer, configuration: Configuration
        ) throws(HTTPTransportError) {
            self.id = id
            self.easy = easy
            self.method = request.method
            self.requestBody = request.body
            var secrets = request.headers.map(\.value)
            if let query = request.url.split(separator: "?", maxSplits: 1).dropFirst().first {
                secrets.append(String(query))
            }
            self.secrets = secrets.filter { $0.count >= 4 }
            self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
            errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
            try configure(request, configuration)
        }

        deinit {
            curl_slist_free_all(headerList)
            errorBuffer.deallocate()
        }

        /// The response, once the transfer has completed.
        func response() -> HTTPResponse {
            var status = 0
            _ = CCurl_getinfoLong(easy, CURLINFO_RESPONSE_CODE, &status)
            defer { responseBody = Data() }
            return HTTPResponse(status: status, headers: responseHeaders, body: responseBody)
        }

        /// The text libcurl left in the error buffer, with anything secret removed.
        func errorMessage() -> String {
            var message = String(cString: errorBuffer)
            for secret in secrets where message.contains(secret) {
                message = message.replacingOccurrences(of: secret, with: "<redacted>")
            }
            return message
        }

        // MARK: Configuration

        private func configure(_ request: HTTPRequest, _ configuration: Configuration) throws(HTTPTransportError) {
            // SAFETY: the exchange outlives its easy handle's stay in the multi handle (see the type's summary), so
            // every callback receives a live `Exchange`. libcurl copies string options, so temporaries are fine.
            let context = Unmanaged.passUnretained(self).toOpaque()
            try check(CCurl_setoptString(easy, CURLOPT_URL, request.url))
            try check(CCurl_setoptString(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
            try check(CCurl_setoptLong(easy, CURLOPT_NOSIGNAL, 1))
            try check(CCurl_setoptPointer(easy, CURLOPT_PRIVATE, context))
            try check(CCurl_setoptPointer(easy, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer)))
            try check(CCurl_setoptWriteFunction(easy, Exchange.writeCallback))
            try check(CCurl_setoptPointer(easy, CURLOPT_WRITEDATA, context))
            try check(CCurl_setoptHeaderFunction(easy, Exchange.headerCallback))
            try check(CCurl_setoptPointer(easy, CURLOPT_HEADERDATA, context))
            try check(CCurl_setoptLong(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1))
            try check(CCurl_setoptLong(easy, CURLOPT_TCP_KEEPALIVE, 1))
            try check(CCurl_setoptLong(easy, CURLOPT_TCP_NODELAY, 1))
            try check(CCurl_setoptString(easy, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1"))
            // Bigger buffers mean fewer callbacks; 8 MiB ranged GETs at >1 GB/s need it.
            try check(CCurl_setoptLong(easy, CURLOPT_BUFFERSIZE, 256 * 1024))
            try check(CCurl_setoptLong(easy, CURLOPT_UPLOAD_BUFFERSIZE, 256 * 1024))
            try check(CCurl_setoptLong(easy, CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.curlMilliseconds))
            // 0 would mean "no timeout".
            try check(CCurl_setoptLong(easy, CURLOPT_TIMEOUT_MS, request.timeout.curlMilliseconds))
            try check(CCurl_setoptLong(easy, CURLOPT_LOW_SPEED_LIMIT, max(0, configuration.lowSpeedLimit)))
            try check(CCurl_setoptLong(easy, CURLOPT_LOW_SPEED_TIME, configuration.lowSpeedTime.curlSeconds))
            if let caBundle = configuration.caBundle {
                try check(CCurl_setoptString(easy, CURLOPT_CAINFO, caBundle))
            }
            try check(CCurl_setoptLong(easy, CURLOPT_SSL_VERIFYPEER, configuration.verifyTLS ? 1 : 0))
            try check(CCurl_setoptLong(easy, CURLOPT_SSL_VERIFYHOST, configuration.verifyTLS ? 2 : 0))
            try configureMethod(request, context: context)
            try configureHeaders(request)
        }

        private func configureMethod(_ request: HTTPRequest, context: UnsafeMutableRawPointer)
            throws(HTTPTransportError)
        {
            let length = curl_off_t(request.body.count)
            switch request.method {
            case "GET" where request.body.isEmpty:
                try check(CCurl_setoptLong(easy, CURLOPT_HTTPGET, 1))
            case "HEAD":
                try check(CCurl_setoptLong(easy, CURLOPT_NOBODY, 1))
            case "POST":
                // A read callback instead of COPYPOSTFIELDS: libcurl reads straight from our `Data`, no copy.
                try check(CCurl_setoptLong(easy, CURLOPT_POST, 1))
                try check(CCurl_setoptOffT(easy, CURLOPT_POSTFIELDSIZE_LARGE, length))
                try configureUpload(context: context)
            case "PUT":
                try check(CCurl_setoptLong(easy, CURLOPT_UPLOAD, 1))
                try check(CCurl_setoptOffT(easy, CURLOPT_INFILESIZE_LARGE, length))
                try configureUpload(context: context)
            default:
                // DELETE and anything else; a body, if any, is uploaded like PUT's under the custom verb.
                try check(CCurl_setoptString(easy, CURLOPT_CUSTOMREQUEST, request.method))
                if !request.body.isEmpty {
                    try check(CCurl_setoptLong(easy, CURLOPT_UPLOAD, 1))
                    try check(CCurl_setoptOffT(easy, CURLOPT_INFILESIZE_LARGE, length))
                    try configureUpload(context: context)
                }
            }
        }

        private func configureUpload(context: UnsafeMutableRawPointer) throws(HTTPTransportError) {
            try check(CCurl_setoptReadFunction(easy, Exchange.readCallback))
            try check(CCurl_setoptPointer(easy, CURLOPT_READDATA, context))
            // libcurl rewinds the body when a reused connection turns out dead and it retries on a fresh one.
            try check(CCurl_setoptSeekFunction(easy, Exchange.seekCallback))
            try check(CCurl_setoptPointer(easy, CURLOPT_SEEKDATA, context))
        }

        private func configureHeaders(_ request: HTTPRequest) throws(HTTPTransportError) {
            var given = Set<String>()
            var list: UnsafeMutablePointer<curl_slist>?
            for (name, value) in request.headers {
                given.insert(name.lowercased())
                // libcurl reads "Name:" as "remove Name" and "Name;" as "send Name with an empty value".
                list = curl_slist_append(list, value.isEmpty ? "\(name);" : "\(name): \(value)")
            }
            // S3 never needs 100-continue: it costs a round trip per upload. libcurl would add Accept: */* and, for
            // POST, a form Content-Type; a signed request must carry exactly the headers it was signed with.
            for name in ["Expect", "Accept", "Content-Type"] where !given.contains(name.lowercased()) {
                list = curl_slist_append(list, "\(name):")
            }
            headerList = list
            try check(CCurl_setoptSlist(easy, CURLOPT_HTTPHEADER, list))
        }

        private func check(_ code: CURLcode) throws(HTTPTransportError) {
            guard code == CURLE_OK else {
                throw .other(detail: "curl_easy_setopt: \(String(cString: curl_easy_strerror(code)))")
            }
        }

        // MARK: Callbacks (on the transport's thread, inside curl_multi_perform)

        private func receiveBody(_ bytes: UnsafePointer<UInt8>, count: Int) {
            responseBody.append(bytes, count: count)
        }

        private func receiveHeaderLine(_ line: UnsafeBufferPointer<UInt8>) {
            if line.starts(with: "HTTP/".utf8) {
                // A new status line (100 Continue, or a redirect we do not follow): earlier headers are not ours.
                responseHeaders.removeAll(keepingCapacity: true)
                return
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
            // Byte-level: Foundation's trimmingCharacters went through NSString and cost more than the signing.
            let name = String(decoding: line[..<colon].lazy.map(Self.asciiLowercased), as: UTF8.self)
            var start = colon + 1
            var end = line.endIndex
            while start < end, Self.isHTTPWhitespace(line[start]) { start += 1 }
            while end > start, Self.isHTTPWhitespace(line[end - 1]) { end -= 1 }
            let value = String(decoding: line[start..<end], as: UTF8.self)
            responseHeaders[name] = value
            if name == "content-length", let length = Int(value), length > 0, method != "HEAD",
                responseBody.isEmpty
            {
                // One allocation for the whole body; capped so a lying server cannot make us reserve gigabytes.
                responseBody.reserveCapacity(min(length, 1 << 30))
            }
        }

        private static func isHTTPWhitespace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
        }

        private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
            byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
        }

        private func sendBody(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
            let count = min(capacity, requestBody.count - readOffset)
            guard count > 0 else { return 0 }
            requestBody.withUnsafeBytes { source in
                // SAFETY: `readOffset + count <= source.count` by construction above, and libcurl's buffer holds
                // `capacity >= count` bytes.
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + readOffset, byteCount: count)
            }
            readOffset += count
            return count
        }

        private func seekBody(to offset: curl_off_t, origin: Int32) -> Int32 {
            guard origin == SEEK_SET, offset >= 0, offset <= requestBody.count else {
                return CURL_SEEKFUNC_CANTSEEK
            }
            readOffset = Int(offset)
            return CURL_SEEKFUNC_OK
        }

        /// libcurl's write, header and read callback shape: `(buffer, size, count, context) -> bytes handled`.
        typealias DataCallback =
            @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int

        // SAFETY (all four callbacks): `context` is the unretained `Exchange` set as WRITEDATA, HEADERDATA, READDATA
        // or SEEKDATA in `configure`; it is alive while libcurl can call back (see the type's summary), and libcurl
        // calls back only on the transport's thread, so no other code touches the exchange meanwhile.
        private static let writeCallback: DataCallback = { data, size, count, context in
            let total = size * count
            guard let data, let context, total > 0 else { return total }
            let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
            // SAFETY: libcurl passes `total` readable bytes at `data`; CChar and UInt8 have the same layout.
            data.withMemoryRebound(to: UInt8.self, capacity: total) { exchange.receiveBody($0, count: total) }
            return total
        }

        private static let headerCallback: DataCallback = { data, size, count, context in
            let total = size * count
            guard let data, let context, total > 0 else { return total }
            let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
            // SAFETY: as in `writeCallback`; the line is complete and not NUL-terminated.
            data.withMemoryRebound(to: UInt8.self, capacity: total) {
                exchange.receiveHeaderLine(UnsafeBufferPointer(start: $0, count: total))
            }
            return total
        }

        private static let readCallback: DataCallback = { buffer, size, count, context in
            guard let buffer, let context else { return 0 }
            let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
            return exchange.sendBody(into: buffer, capacity: size * count)
        }

        private static let seekCallback: @convention(c) (UnsafeMutableRawPointer?, curl_off_t, Int32) -> Int32 = {
            context, offset, origin in
            guard let context else { return CURL_SEEKFUNC_CANTSEEK }
            let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
            return exchange.seekBody(to: offset, origin: origin)
        }
    }
}

extension Duration {
    /// Whole milliseconds for a libcurl timeout option, at least 1 (libcurl reads 0 as "never").
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        let milliseconds = seconds.multipliedReportingOverflow(by: 1000)
        guard !milliseconds.overflow else { return Int.max }
        return max(1, Int(milliseconds.partialValue) + Int((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000))
    }

    /// Whole seconds, rounded up, at least 1.
    var curlSeconds: Int {
        max(1, (curlMilliseconds + 999) / 1000)
    }
}
