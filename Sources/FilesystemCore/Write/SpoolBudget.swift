import Synchronization

/// The spool's hard size cap (`--cache-size`): how many spool bytes all pending files hold, and the writers waiting
/// for some of them to be freed.
///
/// It knows bytes and waiters only; which files may free space, and making their uploads urgent, is
/// `Filesystem.reserveSpool`'s business. Waiters are continuations, never blocked threads.
final class SpoolBudget: Sendable {
    /// Most bytes the spool should hold; nil for no cap.
    let capacity: UInt64?

    struct State {
        /// Bytes charged to pending files plus bytes reserved by writes in progress.
        var used: UInt64 = 0
        /// Bumped by every refund, so a writer that looked for space before a refund does not sleep through it.
        var epoch: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Writers inside `wait` now (for one log line when waiting starts and one when it ends).
        var waiting = 0
        /// Whether the "over its cap" warning was logged since the spool last had room.
        var warnedOverCap = false
    }

    // Guards `State`; never held across a suspension. Invariant: `waiters` are resumed exactly once, by whoever
    // removes them from the map.
    let state = Mutex(State())

    init(capacity: UInt64?) {
        self.capacity = capacity
    }

    var used: UInt64 { state.withLock { $0.used } }

    /// Reserves `count` bytes if they fit under the cap (or there is none); returns the epoch to wait from otherwise.
    func reserve(_ count: UInt64) -> UInt64? {
        state.withLock { s in
            guard let capacity, s.used + count > capacity, count > 0 else {
                s.used += count
                return nil
            }
            return s.epoch
        }
    }

    /// Reserves `count` bytes over the cap; true the first time since the spool last had room (to warn once).
    func reserveOverCap(_ count: UInt64) -> Bool {
        state.withLock { s in
            s.used += count
            defer { s.warnedOverCap = true }
            return !s.warnedOverCap
        }
    }

    /// Adds bytes a recovered spool or a write holds beyond what it reserved.
    func charge(_ count: UInt64) {
        guard count > 0 else { return }
        state.withLock { $0.used += count }
    }

    /// Gives back `count` bytes and wakes every waiter to look again.
    func refund(_ count: UInt64) {
        guard count > 0 else { return }
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.used -= min(count, s.used)
            s.epoch += 1
            if let capacity, s.used <= capacity { s.warnedOverCap = false }
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Turns a reservation into the charge a write really cost (less when another write covered the same bytes).
    func settle(reserved: UInt64, charged: UInt64) {
        if charged > reserved { charge(charged - reserved) } else { refund(reserved - charged) }
    }

    /// Waits for the next refund after `epoch` (at once if there was one), or at most `timeout`, or cancellation:
    /// a file that could free space may stop being able to (it is opened again) without any refund.
    func wait(after epoch: UInt64, timeout: Duration) async {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let parked = state.withLock { s -> Bool in
                    guard s.epoch == epoch, !Task.isCancelled else { return false }
                    s.waiters[id] = continuation
                    return true
                }
                guard parked else { return continuation.resume() }
                Task {
                    try? await Task.sleep(for: timeout)
                    self.wake(id)
                }
            }
        } onCancel: {
            wake(id)
        }
    }

    private func wake(_ id: UInt64) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }

    /// Counts a writer in or out of waiting; true when it is the first in (`entering`) or the last out.
    func noteWaiting(_ entering: Bool) -> Bool {
        state.withLock { s in
            s.waiting += entering ? 1 : -1
            return entering ? s.waiting == 1 : s.waiting == 0
        }
    }
}
