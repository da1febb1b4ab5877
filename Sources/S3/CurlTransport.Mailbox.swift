import CCurl
import Foundation
import Synchronization

extension CurlTransport {
    /// Names one `send` call across the caller's task and the transport's thread.
    struct ExchangeID: Hashable, Sendable {
        let rawValue: UInt64
    }

    /// Where one `send` call stands, as far as its continuation is concerned.
    enum Phase {
        /// `send` has an id but has not yet handed over its continuation.
        case allocated
        /// The task was cancelled before `send` handed over its continuation.
        case cancelledEarly
        /// The continuation waits for the transport's thread; whoever removes this phase resumes it.
        case waiting(CheckedContinuation<HTTPResponse, any Error>)
    }

    /// What the transport's thread must do next.
    struct Work {
        var starts: [(id: ExchangeID, request: HTTPRequest)] = []
        var cancels: [ExchangeID] = []
        var isShutDown = false
    }

    /// The state shared by callers and the transport's thread.
    ///
    /// Invariants: every continuation is resumed exactly once, by the party that removes its `.waiting` phase;
    /// `phases` is empty once `isShutDown` is set; a start never sits in `starts` once its exchange is cancelled.
    struct MailboxState {
        var nextID: UInt64 = 0
        var isShutDown = false
        var phases: [ExchangeID: Phase] = [:]
        var work = Work()
    }

    /// Hands requests, cancellations and shutdown to the transport's thread, and results back to callers.
    ///
    /// Continuations are resumed after the lock is released. `curl_multi_wakeup` is called with the lock held and
    /// only while not shut down: the thread frees the multi handle only after it has seen `isShutDown` under this
    /// lock, so a wake-up never touches a freed handle.
    final class Mailbox: Sendable {
        private let state = Mutex(MailboxState())
        // SAFETY: only `curl_multi_wakeup`, which libcurl documents as callable from any thread, is used through this
        // pointer here, and only under `state`'s lock while the multi handle is still alive (see above).
        private nonisolated(unsafe) let multi: UnsafeMutableRawPointer

        init(multi: UnsafeMutableRawPointer) {
            self.multi = multi
        }

        /// Reserves an id for a new exchange, or returns `nil` once shut down.
        func allocate() -> ExchangeID? {
            state.withLock { state in
                guard !state.isShutDown else { return nil }
                let id = ExchangeID(rawValue: state.nextID)
                state.nextID += 1
                state.phases[id] = .allocated
                return id
            }
        }

        /// Queues the exchange for the transport's thread, unless it was cancelled or the transport shut down.
        func submit(
            _ id: ExchangeID, request: HTTPRequest, continuation: CheckedContinuation<HTTPResponse, any Error>
        ) {
            let refusal: (any Error)? = state.withLock { state in
                guard !state.isShutDown else { return CurlTransport.shutDownError }
                switch state.phases[id] {
                case .allocated:
                    state.phases[id] = .waiting(continuation)
                    state.work.starts.append((id, request))
                    curl_multi_wakeup(multi)
                    return nil
                case .cancelledEarly, .waiting, nil:
                    state.phases[id] = nil
                    return CancellationError()
                }
            }
            if let refusal { continuation.resume(throwing: refusal) }
        }

        /// Resumes the exchange's caller with `CancellationError` and tells the thread to abandon the transfer.
        func cancel(_ id: ExchangeID) {
            let continuation: CheckedContinuation<HTTPResponse, any Error>? = state.withLock { state in
                switch state.phases[id] {
                case .allocated:
                    state.phases[id] = .cancelledEarly
                    return nil
                case .waiting(let continuation):
                    state.phases[id] = nil
                    if let index = state.work.starts.firstIndex(where: { $0.id == id }) {
                        state.work.starts.remove(at: index)
                    } else {
                        state.work.cancels.append(id)
                        curl_multi_wakeup(multi)
                    }
                    return continuation
                case .cancelledEarly, nil:
                    // Already finished, or cancelled twice.
                    return nil
                }
            }
            continuation?.resume(throwing: CancellationError())
        }

        /// Fails every waiting caller with `shutDownError` and tells the thread to stop.
        func shutDown() {
            let waiting: [CheckedContinuation<HTTPResponse, any Error>] = state.withLock { state in
                guard !state.isShutDown else { return [] }
                curl_multi_wakeup(multi)
                state.isShutDown = true
                state.work.isShutDown = true
                state.work.starts.removeAll()
                let waiting = state.phases.values.compactMap { phase in
                    if case .waiting(let continuation) = phase { continuation } else { nil }
                }
                state.phases.removeAll()
                return waiting
            }
            for continuation in waiting {
                continuation.resume(throwing: CurlTransport.shutDownError)
            }
        }

        /// Takes everything queued for the transport's thread. Called only by that thread.
        func takeWork() -> Work {
            state.withLock { state in
                let work = state.work
                state.work = Work(isShutDown: state.isShutDown)
                return work
            }
        }

        /// Resumes the exchange's caller with `result`, unless it was already cancelled or failed by shutdown.
        func complete(_ id: ExchangeID, with result: Result<HTTPResponse, HTTPTransportError>) {
            let continuation: CheckedContinuation<HTTPResponse, any Error>? = state.withLock { state in
                guard case .waiting(let continuation) = state.phases.removeValue(forKey: id) else { return nil }
                return continuation
            }
            continuation?.resume(with: result.mapError { $0 as any Error })
        }
    }
}
