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

    /// Readahead ends are rounded up to multiples of this (the largest single fetch) once the window is that
    /// large, so that steady-state GETs are whole, aligned fetch units.
    public let alignment: UInt64

    public init(initialWindow: UInt64 = 1 << 20, maximumWindow: UInt64 = 64 << 20, alignment: UInt64 = 8 << 20) {
        self.initialWindow = min(initialWindow, maximumWindow)
        self.maximumWindow = maximumWindow
        self.alignment = max(1, alignment)
    }

    /// Records a read of `[offset, offset + count)` of a file of `size` bytes and returns the range to fetch ahead
    /// (which may include the read's own bytes, so that they travel in the same GET), if any.
    public mutating func read(offset: UInt64, count: UInt64, size: UInt64) -> Range<UInt64>? {
        let end = min(offset + count, size)
        // Async reads arrive out of order (the kernel keeps several of its readahead requests in flight on different
        // threads): anything within a window or a fetch unit of the furthest end reached counts as sequential.
        let slack = max(window, alignment)
        let sequential = offset + slack >= lastEnd && offset <= lastEnd + slack
        if sequential {
            // Quadrupling reaches the largest window within three reads: few small GETs at the start of a file.
            window = window == 0 ? initialWindow : min(window * 4, maximumWindow)
        } else {
            window = 0
            prefetchedTo = end
        }
        lastEnd = max(end, sequential ? lastEnd : end)
        guard window > 0, end < size else { return nil }
        var target = end + window
        if window >= alignment / 2 { target = (target + alignment - 1) / alignment * alignment }
        target = min(size, target)
        // Top up when a whole fetch unit of the window is free (so that, at full size, GETs of one unit each keep
        // going back to back), or for small windows when less than half remains: few large fetches, never many
        // small ones.
        let refill = window >= 2 * alignment ? window - alignment : window / 2
        guard prefetchedTo < end + refill, target > max(prefetchedTo, end) else { return nil }
        // From the read itself when nothing is ahead yet, so the read and its readahead are one GET.
        let start = max(prefetchedTo, offset)
        prefetchedTo = target
        return start..<target
    }
}
