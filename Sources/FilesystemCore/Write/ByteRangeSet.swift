/// A set of byte offsets kept as sorted, disjoint, non-adjacent half-open ranges (the dirty ranges of a file).
public struct ByteRangeSet: Sendable, Hashable, Codable {
    public private(set) var ranges: [Range<UInt64>] = []

    public init(_ ranges: [Range<UInt64>] = []) {
        for r in ranges { insert(r) }
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// Total bytes covered.
    public var count: UInt64 { ranges.reduce(0) { $0 + UInt64($1.count) } }

    /// Adds `range`, merging with overlapping or touching ranges.
    public mutating func insert(_ range: Range<UInt64>) {
        guard !range.isEmpty else { return }
        var lower = range.lowerBound
        var upper = range.upperBound
        // First range that ends at or after `lower` (touching counts).
        var i = ranges.partitioningIndex { $0.upperBound >= lower }
        let start = i
        while i < ranges.count, ranges[i].lowerBound <= upper {
            lower = min(lower, ranges[i].lowerBound)
            upper = max(upper, ranges[i].upperBound)
            i += 1
        }
        ranges.replaceSubrange(start..<i, with: [lower..<upper])
    }

    /// Drops everything at or beyond `size` (truncate).
    public mutating func truncate(to size: UInt64) {
        ranges = ranges.compactMap { r in
            r.lowerBound >= size ? nil : r.lowerBound..<min(r.upperBound, size)
        }
    }

    /// Whether every byte of `range` is in the set.
    public func contains(_ range: Range<UInt64>) -> Bool {
        guard !range.isEmpty else { return true }
        let i = ranges.partitioningIndex { $0.upperBound > range.lowerBound }
        return i < ranges.count && ranges[i].lowerBound <= range.lowerBound && ranges[i].upperBound >= range.upperBound
    }

    /// How many bytes of `range` are not in the set.
    public func uncoveredCount(of range: Range<UInt64>) -> UInt64 {
        segments(of: range).reduce(0) { $0 + ($1.inSet ? 0 : UInt64($1.range.count)) }
    }

    /// Splits `range` into consecutive pieces, each wholly in the set (`true`) or wholly outside it (`false`).
    public func segments(of range: Range<UInt64>) -> [(range: Range<UInt64>, inSet: Bool)] {
        var out: [(Range<UInt64>, Bool)] = []
        var cursor = range.lowerBound
        var i = ranges.partitioningIndex { $0.upperBound > cursor }
        while cursor < range.upperBound {
            if i < ranges.count, ranges[i].lowerBound <= cursor {
                let end = min(ranges[i].upperBound, range.upperBound)
                out.append((cursor..<end, true))
                cursor = end
                i += 1
            } else {
                let end = i < ranges.count ? min(ranges[i].lowerBound, range.upperBound) : range.upperBound
                out.append((cursor..<end, false))
                cursor = end
            }
        }
        return out
    }
}

extension Array {
    /// The first index whose element satisfies `belongsInSecondPartition`, for an array partitioned by it.
    func partitioningIndex(where belongsInSecondPartition: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if belongsInSecondPartition(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
