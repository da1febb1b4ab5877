/// Sequential-read detection and the readahead window of one open file.
///
/// While reads stay sequential the window doubles, up to `maximumWindow`; a jump elsewhere resets it, so small
/// random reads fetch only their own blocks. Readahead is issued in large steps (when less than half the window is
/// left ahead of the reader) so that it becomes a few large GETs, not one per kernel request.
public struct ReadAhead: Sendable, Hashable {
    public let initialWindow: UInt64
    public let maximumWindow: UInt64
    private(set) var window: UInt64 = 0
    private var lastEnd: UInt64 = 0
    private var prefetchedTo: UInt64 = 0
    private var sequentialReads = 0

    public init(initialWindow: UInt64 = 1 << 20, maximumWindow: UInt64 = 64 << 20) {
        self.initialWindow = min(initialWindow, maximumWindow)
        self.maximumWindow = maximumWindow
    }

    /// Records a read of `[offset, offset + count)` of a file of `size` bytes and returns the range to prefetch
    /// beyond it, if any.
    public mutating func read(offset: UInt64, count: UInt64, size: UInt64) -> Range<UInt64>? {
        let end = min(offset + count, size)
        // Async reads may arrive slightly out of order: anything near the last end counts as sequential.
        let slack = max(window, 1 << 20)
        let sequential = offset + slack >= lastEnd && offset <= lastEnd + slack
        if sequential {
            sequentialReads += 1
            window = window == 0 ? initialWindow : min(window * 2, maximumWindow)
        } else {
            sequentialReads = 0
            window = 0
            prefetchedTo = end
        }
        lastEnd = max(end, sequential ? lastEnd : end)
        guard window > 0, end < size else { return nil }
        let target = min(size, end + window)
        // Top up only when less than half the window remains ahead: few large fetches, not many small ones.
        guard prefetchedTo < end + window / 2, target > max(prefetchedTo, end) else { return nil }
        let start = max(prefetchedTo, end)
        prefetchedTo = target
        return start..<target
    }
}
