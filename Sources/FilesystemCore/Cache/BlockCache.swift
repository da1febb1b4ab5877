import DequeModule
import Foundation
import ObjectStorage
import Synchronization

/// One version of one object: blocks of different versions never mix.
public struct ObjectVersion: Hashable, Sendable {
    public var key: ObjectKey
    public var etag: String
    public var size: UInt64

    public init(key: ObjectKey, etag: String, size: UInt64) {
        self.key = key
        self.etag = etag
        self.size = size
    }
}

/// An in-memory cache of fixed-size blocks of object versions, within a byte budget, least recently used first out.
///
/// Shared fetches: a block being fetched is never fetched again at the same time; every reader of it, in any
/// process, awaits the one fetch. Misses are fetched in runs of contiguous blocks, one ranged GET per run.
public final class BlockCache: Sendable {
    /// Fetches a byte range of an object version (a ranged GET with If-Match).
    public typealias Fetch = @Sendable (ByteRange) async throws -> Data

    struct BlockID: Hashable {
        var version: ObjectVersion
        var index: UInt64
    }

    typealias Waiter = CheckedContinuation<Data?, any Error>

    enum Slot {
        case loading([Waiter])
        /// A ready block is a slice of its fetch run's buffer (no copy); `run` says which.
        case ready(Data, tick: UInt64, run: UInt64)
    }

    struct State {
        var slots: [BlockID: Slot] = [:]
        /// Access order of ready blocks; an element is stale when its tick is not the block's current one.
        var order: Deque<(id: BlockID, tick: UInt64)> = []
        /// Bytes held by fetch runs with at least one cached block: a run's buffer lives until its last block goes,
        /// so it is counted whole until then (the budget is honest about memory, not just about live blocks).
        var readyBytes = 0
        var readyCount = 0
        var runs: [UInt64: (bytes: Int, live: Int)] = [:]
        var nextRun: UInt64 = 0
        var tick: UInt64 = 0
        var hits = 0
        var misses = 0

        mutating func touch(_ id: BlockID, _ data: Data, run: UInt64) {
            tick += 1
            slots[id] = .ready(data, tick: tick, run: run)
            order.append((id, tick))
            // Keep the lazily-pruned log within a constant factor of the live blocks.
            if order.count > 4 * max(readyCount, 64) {
                order = Deque(order.filter { if case .ready(_, let t, _) = slots[$0.id] { t == $0.tick } else { false } })
            }
        }

        mutating func evict(above capacity: Int) {
            while readyBytes > capacity, let oldest = order.popFirst() {
                guard case .ready(_, let t, let run) = slots[oldest.id], t == oldest.tick else { continue }
                slots[oldest.id] = nil
                readyCount -= 1
                if var held = runs[run] {
                    held.live -= 1
                    if held.live == 0 {
                        readyBytes -= held.bytes
                        runs[run] = nil
                    } else {
                        runs[run] = held
                    }
                }
            }
        }
    }

    /// Bytes per block. Reads and fetches are in whole blocks (the last block of an object may be shorter).
    public let blockSize: Int
    /// Budget for cached (ready) blocks, in bytes.
    public let capacity: Int
    /// Largest single fetch, in bytes: a run of misses longer than this is split into parallel GETs.
    public let maximumFetchSize: Int
    // Guards every slot and the LRU order; never held across a suspension, never while resuming waiters.
    private let state = Mutex(State())

    public init(blockSize: Int = 128 << 10, capacity: Int = 256 << 20, maximumFetchSize: Int = 8 << 20) {
        precondition(blockSize > 0 && maximumFetchSize >= blockSize)
        self.blockSize = blockSize
        self.capacity = max(capacity, blockSize)
        self.maximumFetchSize = maximumFetchSize
    }

    /// Cached bytes now (ready blocks only).
    public var cachedBytes: Int { state.withLock { $0.readyBytes } }

    /// Block reads served from memory and blocks that had to be fetched.
    public var hitsAndMisses: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }

    private func blocks(of version: ObjectVersion, covering range: ByteRange) -> Range<UInt64> {
        let end = min(range.upperBound, version.size)
        guard range.lowerBound < end else { return 0..<0 }
        let size = UInt64(blockSize)
        return (range.lowerBound / size)..<((end + size - 1) / size)
    }

    private func byteRange(of blocks: Range<UInt64>, in version: ObjectVersion) -> ByteRange {
        let size = UInt64(blockSize)
        return ByteRange(blocks.lowerBound * size..<min(blocks.upperBound * size, version.size))
    }

    /// The bytes of `range` of `version` (cut at the object's end), fetching missing blocks with `fetch`.
    public func read(_ version: ObjectVersion, range: ByteRange, fetch: @escaping Fetch) async throws -> Data {
        Data(joining: try await readParts(version, range: range, fetch: fetch))
    }

    /// The bytes of `range` as slices of cached blocks, in order, without copying them into one buffer (a FUSE
    /// reply sends them as an iovec).
    public func readParts(_ version: ObjectVersion, range: ByteRange, fetch: @escaping Fetch) async throws -> [Data] {
        let indices = blocks(of: version, covering: range)
        guard !indices.isEmpty else { return [] }
        startFetches(version, indices, fetch: fetch)
        var parts: [Data] = []
        parts.reserveCapacity(indices.count)
        var skip = Int(range.lowerBound - indices.lowerBound * UInt64(blockSize))
        var left = Int(min(range.upperBound, version.size) - range.lowerBound)
        for index in indices {
            try Task.checkCancellation()
            let block = try await block(BlockID(version: version, index: index), fetch: fetch)
            let from = block.startIndex + min(skip, block.count)
            skip = max(0, skip - block.count)
            let take = min(block.endIndex - from, left)
            if take > 0 { parts.append(from == block.startIndex && take == block.count ? block : block[from..<(from + take)]) }
            left -= take
        }
        return parts
    }

    /// Starts fetching the missing blocks of `range` without waiting for them (readahead).
    public func prefetch(_ version: ObjectVersion, range: ByteRange, fetch: @escaping Fetch) {
        startFetches(version, blocks(of: version, covering: range), fetch: fetch)
    }

    /// Claims every block of `indices` that is neither cached nor being fetched, and fetches the claimed ones in
    /// runs of contiguous blocks of at most `maximumFetchSize` bytes.
    private func startFetches(_ version: ObjectVersion, _ indices: Range<UInt64>, fetch: @escaping Fetch) {
        let perRun = UInt64(maximumFetchSize / blockSize)
        let runs = state.withLock { s -> [Range<UInt64>] in
            var runs: [Range<UInt64>] = []
            var runStart: UInt64? = nil
            for index in indices {
                let id = BlockID(version: version, index: index)
                let missing = s.slots[id] == nil
                if missing {
                    s.slots[id] = .loading([])
                    s.misses += 1
                    if runStart == nil { runStart = index }
                    // Runs end at multiples of the fetch size: readahead GETs stay whole and aligned.
                    if index + 1 - runStart! == perRun || (index + 1) % perRun == 0 {
                        runs.append(runStart!..<(index + 1))
                        runStart = nil
                    }
                } else {
                    if case .ready = s.slots[id] { s.hits += 1 }
                    if let start = runStart {
                        runs.append(start..<index)
                        runStart = nil
                    }
                }
            }
            if let start = runStart { runs.append(start..<indices.upperBound) }
            return runs
        }
        for run in runs {
            Task { await self.fetchRun(version, run, fetch: fetch) }
        }
    }

    private func fetchRun(_ version: ObjectVersion, _ run: Range<UInt64>, fetch: Fetch) async {
        let range = byteRange(of: run, in: version)
        let result: Result<Data, any Error>
        do {
            let data = try await fetch(range)
            // A short body would shift every later block: refuse it rather than cache wrong bytes.
            guard UInt64(data.count) == range.count else {
                throw ObjectStoreError.malformedResponse(detail: "ranged GET returned \(data.count) of \(range.count)")
            }
            result = .success(data)
        } catch {
            result = .failure(error)
        }
        var resumptions: [(Waiter, Result<Data?, any Error>)] = []
        state.withLock { s in
            let runID = s.nextRun
            s.nextRun += 1
            var inserted = 0
            for index in run {
                let id = BlockID(version: version, index: index)
                guard case .loading(let waiters) = s.slots[id] else { continue }
                switch result {
                case .success(let data):
                    let from = data.startIndex + Int(index - run.lowerBound) * blockSize
                    let block = data[from..<min(from + blockSize, data.endIndex)]
                    s.touch(id, block, run: runID)
                    inserted += 1
                    s.readyCount += 1
                    resumptions += waiters.map { ($0, .success(block)) }
                case .failure(let error):
                    s.slots[id] = nil
                    resumptions += waiters.map { ($0, .failure(error)) }
                }
            }
            if inserted > 0, case .success(let data) = result {
                s.runs[runID] = (data.count, inserted)
                s.readyBytes += data.count
            }
            s.evict(above: capacity)
        }
        for (waiter, value) in resumptions { waiter.resume(with: value) }
    }

    /// One block: from memory, from the fetch under way, or (if it was evicted or its fetch failed meanwhile)
    /// from a fetch of its own.
    private func block(_ id: BlockID, fetch: @escaping Fetch) async throws -> Data {
        while true {
            enum Found { case data(Data), wait, missing }
            let found = state.withLock { s -> Found in
                switch s.slots[id] {
                case .ready(let data, _, let run):
                    s.touch(id, data, run: run)
                    return .data(data)
                case .loading: return .wait
                case nil: return .missing
                }
            }
            switch found {
            case .data(let data): return data
            case .missing: startFetches(id.version, id.index..<(id.index + 1), fetch: fetch)
            case .wait:
                let data: Data? = try await withCheckedThrowingContinuation { (c: Waiter) in
                    let immediate = state.withLock { s -> Data?? in
                        switch s.slots[id] {
                        case .loading(var waiters):
                            waiters.append(c)
                            s.slots[id] = .loading(waiters)
                            return .none
                        case .ready(let data, _, _): return .some(data)
                        case nil: return .some(nil)
                        }
                    }
                    if let immediate { c.resume(returning: immediate) }
                }
                if let data { return data }
            }
        }
    }
}

extension Data {
    /// `parts` as one buffer, zero-based; a lone zero-based part is returned as is.
    init(joining parts: [Data]) {
        if parts.count == 1, parts[0].startIndex == 0 {
            self = parts[0]
            return
        }
        self.init(capacity: parts.reduce(0) { $0 + $1.count })
        for part in parts { append(part) }
    }
}
