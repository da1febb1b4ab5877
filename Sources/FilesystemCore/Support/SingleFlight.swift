import Synchronization

/// Runs at most one fetch per key at a time: callers asking for a key already being fetched await that fetch.
///
/// The fetch runs in its own task, so a caller that is cancelled (an interrupted read) does not fail the others.
public final class SingleFlight<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private typealias Waiter = CheckedContinuation<Value, any Error>

    // Guards the waiters of every fetch under way; never held across a suspension.
    private let inFlight = Mutex<[Key: [Waiter]]>([:])

    public init() {}

    /// Whether `key` is being fetched now.
    public func isFetching(_ key: Key) -> Bool { inFlight.withLock { $0[key] != nil } }

    /// The value of `key` from `fetch`, shared with every concurrent caller for the same key.
    public func value(for key: Key, fetch: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { (continuation: Waiter) in
            let first = inFlight.withLock { table -> Bool in
                if table[key] != nil {
                    table[key]!.append(continuation)
                    return false
                }
                table[key] = [continuation]
                return true
            }
            guard first else { return }
            Task {
                let result: Result<Value, any Error>
                do { result = .success(try await fetch()) } catch { result = .failure(error) }
                let waiters = self.inFlight.withLock { $0.removeValue(forKey: key) ?? [] }
                for waiter in waiters { waiter.resume(with: result) }
            }
        }
    }
}

/// An asynchronous counting semaphore: bounded parallelism without blocking a thread.
public final class ConcurrencyLimit: Sendable {
    struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
        var head = 0
    }

    private let state: Mutex<State>

    public init(_ limit: Int) {
        state = Mutex(State(available: max(1, limit)))
    }

    /// Runs `body` once a slot is free.
    public func run<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.available > 0 {
                    s.available -= 1
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.head < s.waiters.count else {
                s.available += 1
                return nil
            }
            let c = s.waiters[s.head]
            s.head += 1
            if s.head > 1024, s.head * 2 > s.waiters.count {
                s.waiters.removeFirst(s.head)
                s.head = 0
            }
            return c
        }
        next?.resume()
    }
}
