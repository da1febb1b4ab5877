import CCurl
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension CurlTransport {
    /// The transport's thread: owns the multi handle, every easy handle and every exchange in flight.
    ///
    /// Confined to its thread; callers reach it only through the `Mailbox`. It may block, in `curl_multi_poll`, because
    /// the thread is ours.
    final class EventLoop {
        private let multi: UnsafeMutableRawPointer
        private let mailbox: Mailbox
        private let configuration: Configuration
        private let logger: Logger
        /// Exchanges whose easy handle is in the multi handle, by id.
        private var active: [ExchangeID: Exchange] = [:]
        /// Reset easy handles ready for the next request; at most `maxTotalConnections`.
        private var idleHandles: [UnsafeMutableRawPointer] = []

        init(multi: UnsafeMutableRawPointer, mailbox: Mailbox, configuration: Configuration, logger: Logger) {
            self.multi = multi
            self.mailbox = mailbox
            self.configuration = configuration
            self.logger = logger
        }

        /// The pthread entry point; `argument` is a retained `EventLoop`.
        static let threadMain: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { argument in
            // SAFETY: `CurlTransport.init` passed a retained `EventLoop`; this is the one place that takes it back.
            let loop = Unmanaged<EventLoop>.fromOpaque(argument!).takeRetainedValue()
            loop.run()
            return nil
        }

        private func run() {
            while true {
                let work = mailbox.takeWork()
                for id in work.cancels {
                    abandon(id)
                }
                if work.isShutDown {
                    tearDown()
                    return
                }
                for (id, request) in work.starts {
                    start(id, request)
                }
                var running: Int32 = 0
                let performed = curl_multi_perform(multi, &running)
                if performed != CURLM_OK {
                    logger.error(
                        "curl_multi_perform failed",
                        metadata: ["curl.error": "\(String(cString: curl_multi_strerror(performed)))"])
                }
                finishCompletedTransfers()
                // Returns early when a socket is ready, libcurl's own timer fires, or `curl_multi_wakeup` is called.
                _ = curl_multi_poll(multi, nil, 0, 1000, nil)
            }
        }

        private func start(_ id: ExchangeID, _ request: HTTPRequest) {
            guard let easy = idleHandles.popLast() ?? curl_easy_init() else {
                mailbox.complete(id, with: .failure(.other(detail: "curl_easy_init failed")))
                return
            }
            let exchange: Exchange
            do {
                exchange = try Exchange(id: id, request: request, easy: easy, configuration: configuration)
            } catch {
                recycle(easy)
                mailbox.complete(id, with: .failure(error))
                return
            }
            let added = curl_multi_add_handle(multi, easy)
            guard added == CURLM_OK else {
                recycle(easy)
                let detail = "curl_multi_add_handle: \(String(cString: curl_multi_strerror(added)))"
                mailbox.complete(id, with: .failure(.other(detail: detail)))
                return
            }
            active[id] = exchange
            logger.trace("HTTP request started", metadata: ["http.method": "\(request.method)"])
        }

        /// Drops a cancelled exchange; its caller was already resumed by the mailbox.
        private func abandon(_ id: ExchangeID) {
            guard let exchange = active.removeValue(forKey: id) else { return }
            // Removing a transfer mid-way closes its connection rather than returning it to the cache.
            curl_multi_remove_handle(multi, exchange.easy)
            recycle(exchange.easy)
            logger.trace("HTTP request cancelled", metadata: ["http.method": "\(exchange.method)"])
        }

        private func finishCompletedTransfers() {
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = CCurl_messageResult(message)
                var context: UnsafeMutableRawPointer?
                _ = CCurl_getinfoPointer(easy, CURLINFO_PRIVATE, &context)
                // SAFETY: PRIVATE holds the unretained `Exchange` for this handle; `active` still retains it.
                guard let context else { continue }
                let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
                let result: Result<HTTPResponse, HTTPTransportError> =
                    code == CURLE_OK
                    ? .success(exchange.response())
                    : .failure(CurlTransport.transportError(for: code, message: exchange.errorMessage()))
                curl_multi_remove_handle(multi, easy)
                active[exchange.id] = nil
                recycle(easy)
                switch result {
                case .success(let response):
                    logger.trace(
                        "HTTP request finished",
                        metadata: ["http.method": "\(exchange.method)", "http.status": "\(response.status)"])
                case .failure(let error):
                    logger.debug(
                        "HTTP request failed", metadata: ["http.method": "\(exchange.method)", "error": "\(error)"])
                }
                mailbox.complete(exchange.id, with: result)
            }
        }

        private func recycle(_ easy: UnsafeMutableRawPointer) {
            // Reset drops every option (and our context pointers) but keeps the handle's caches.
            curl_easy_reset(easy)
            if idleHandles.count < max(1, configuration.maxTotalConnections) {
                idleHandles.append(easy)
            } else {
                curl_easy_cleanup(easy)
            }
        }

        private func tearDown() {
            // Callers were failed by `Mailbox.shutDown`; here only libcurl's resources remain.
            for exchange in active.values {
                curl_multi_remove_handle(multi, exchange.easy)
                curl_easy_cleanup(exchange.easy)
            }
            active.removeAll()
            for easy in idleHandles {
                curl_easy_cleanup(easy)
            }
            idleHandles.removeAll()
            curl_multi_cleanup(multi)
        }
    }
}
