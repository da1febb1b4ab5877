/// How a file's new content becomes an object: one PUT, or a multipart upload whose parts are uploaded bytes or
/// server-side copies of unchanged ranges of the previous version.
public enum UploadPlan: Sendable, Hashable {
    /// One part of a multipart upload.
    public enum Part: Sendable, Hashable {
        /// Bytes sent from the spool (dirty ranges) and, for clean gaps inside the part, from the old object.
        case upload(Range<UInt64>)
        /// UploadPartCopy of a range of the old object, which is also where it stands in the new one.
        case copy(Range<UInt64>)

        public var range: Range<UInt64> {
            switch self {
            case .upload(let r), .copy(let r): r
            }
        }
    }

    case single
    case multipart([Part])

    /// S3: every part but the last is at least 5 MiB; at most 10,000 parts; a part is at most 5 GiB.
    public static let minimumPartSize: UInt64 = 5 << 20
    public static let maximumPartSize: UInt64 = 5 << 30
    public static let maximumPartCount = 10_000

    /// The size of part `number` (1-based) of a file whose size is not known in advance: 8 MiB for the first 1,000
    /// parts, doubling every 1,000 parts after, so that 10,000 parts reach past S3's 5 TiB object limit.
    public static func streamingPartSize(_ number: Int) -> UInt64 {
        let doublings = min(9, (max(1, number) - 1) / 1000)
        return min(maximumPartSize, (8 << 20) << UInt64(doublings))
    }

    /// The plan for a file of `size` bytes whose bytes in `dirty` changed (or are new) and whose other bytes are
    /// those of the old object of `baseSize` bytes (none when `baseSize` is 0).
    ///
    /// Unchanged runs of at least 5 MiB inside the old object are copied server-side; everything else is uploaded,
    /// in parts of `partSize` bytes or more, so that a small edit of a large file uploads little more than one part.
    public static func make(size: UInt64, dirty: ByteRangeSet, baseSize: UInt64, partSize: UInt64 = 8 << 20) -> UploadPlan {
        let copyable = baseSize > 0 ? copyableRuns(size: size, dirty: dirty, baseSize: baseSize) : []
        if copyable.isEmpty, size <= partSize { return .single }
        var parts: [Part] = []
        var cursor: UInt64 = 0
        func upload(to end: UInt64) {
            // Cut [cursor, end) into parts of partSize; a short tail joins the part before it.
            while cursor < end {
                var next = min(end, cursor + partSize)
                if end - next < minimumPartSize { next = end }
                parts.append(.upload(cursor..<next))
                cursor = next
            }
        }
        for run in copyable {
            var start = run.lowerBound
            // The upload part before a copy must reach 5 MiB: borrow from the start of the clean run.
            if start > cursor, start - cursor < minimumPartSize {
                start = cursor + minimumPartSize
            }
            guard run.upperBound > start, run.upperBound - start >= minimumPartSize else { continue }
            upload(to: start)
            var copyStart = start
            while copyStart < run.upperBound {
                let end = min(run.upperBound, copyStart + maximumPartSize)
                parts.append(.copy(copyStart..<end))
                copyStart = end
            }
            cursor = run.upperBound
        }
        // A last upload shorter than 5 MiB is fine: it is the last part.
        if cursor < size {
            if let last = parts.last, case .upload(let r) = last, size - cursor < minimumPartSize, r.upperBound == cursor {
                parts[parts.count - 1] = .upload(r.lowerBound..<size)
            } else {
                upload(to: size)
            }
        }
        return parts.count <= 1 && copyable.isEmpty ? .single : .multipart(parts)
    }

    /// Clean ranges that lie within the old object and are at least 5 MiB long.
    static func copyableRuns(size: UInt64, dirty: ByteRangeSet, baseSize: UInt64) -> [Range<UInt64>] {
        let limit = min(size, baseSize)
        guard limit > 0 else { return [] }
        return dirty.segments(of: 0..<limit).filter { !$0.inSet && UInt64($0.range.count) >= minimumPartSize }
            .map(\.range)
    }
}
