import Logging
import Synchronization

extension Filesystem {
    /// Bytes the spool holds now (written and not yet retired, plus writes in progress): for tests and status.
    public var spoolBytes: UInt64 { spoolBudget.used }

    /// How often a waiting writer looks again without a refund: a file that could free space may be opened for
    /// writing again, and then no refund comes from it.
    static let spoolRecheckInterval: Duration = .seconds(1)

    /// Reserves the spool bytes a write of `range` into `file` adds (those not spooled already), waiting while the
    /// spool is full and some closed file's upload will free space. If only files still open for writing fill it,
    /// the write goes over the cap rather than deadlock. Returns the bytes reserved, for `settleSpool`.
    /// - Throws: `CancellationError` if the write is interrupted while it waits.
    func reserveSpool(for file: WritableFile, _ range: Range<UInt64>) async throws -> UInt64 {
        let count = file.state.withLock { $0.spooled.uncoveredCount(of: range) }
        var waited = false
        defer {
            if waited, spoolBudget.noteWaiting(false) {
                logger.info("spool has room, writers resume", metadata: ["spool.bytes": "\(spoolBudget.used)"])
            }
        }
        while true {
            guard let epoch = spoolBudget.reserve(count) else { return count }
            guard hurryUploadsHoldingSpool() else {
                if spoolBudget.reserveOverCap(count) {
                    logger.warning(
                        "spool over its cap: files still being written hold its bytes",
                        metadata: ["bytes": "\(spoolBudget.used)", "cap": "\(spoolBudget.capacity ?? 0)"])
                }
                return count
            }
            if !waited {
                waited = true
                if spoolBudget.noteWaiting(true) {
                    logger.info(
                        "spool full, writers wait for uploads",
                        metadata: ["spool.bytes": "\(spoolBudget.used)", "cap": "\(spoolBudget.capacity ?? 0)"])
                }
            }
            await spoolBudget.wait(after: epoch, timeout: Self.spoolRecheckInterval)
            try Task.checkCancellation()
        }
    }

    /// Records that `range` of `file` is now in its spool: charges what it really added against what was reserved.
    func settleSpool(_ file: WritableFile, _ range: Range<UInt64>, reserved: UInt64) {
        let charged = file.state.withLock { s -> UInt64 in
            guard !s.spoolRetired else { return 0 }
            let added = s.spooled.uncoveredCount(of: range)
            s.spooled.insert(range)
            return added
        }
        spoolBudget.settle(reserved: reserved, charged: charged)
    }

    /// Makes the uploads of closed files that hold spool bytes start now (no quiet time); false if there is none,
    /// so waiting could not end. A file whose uploads fail keeps its retry back-off and still counts: once the
    /// store answers again, its upload frees the space.
    private func hurryUploadsHoldingSpool() -> Bool {
        var found = false
        for file in pending.all {
            let hurry = file.state.withLock { s -> Bool in
                guard s.writers == 0, !s.deleted, !s.spoolRetired, !s.spooled.isEmpty else { return false }
                found = true
                guard s.attempts == 0, s.urgentGeneration < s.generation else { return false }
                s.urgentGeneration = s.generation
                return true
            }
            if hurry { scheduleUpload(file, after: .zero) }
        }
        return found
    }

    /// Gives back the spool bytes past `size` after a truncate.
    func refundSpool(of file: WritableFile, past size: UInt64) {
        let refund = file.state.withLock { s -> UInt64 in
            let before = s.spooled.count
            s.spooled.truncate(to: size)
            return before - s.spooled.count
        }
        spoolBudget.refund(refund)
    }

    /// Gives back all of `file`'s spool bytes: its spool is removed. Later writes to it are not charged.
    func refundSpool(of file: WritableFile) {
        let refund = file.state.withLock { s -> UInt64 in
            s.spoolRetired = true
            defer { s.spooled = ByteRangeSet() }
            return s.spooled.count
        }
        spoolBudget.refund(refund)
    }
}
