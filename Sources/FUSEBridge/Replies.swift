import CFUSE
import FilesystemCore
import Foundation

/// Builders of the C structures replies carry.
enum Replies {
    static let preferredIOSize = 1 << 20

    static func stat(_ a: NodeAttributes) -> stat {
        var st = Glibc.stat()
        st.st_ino = UInt(a.inode.rawValue)
        st.st_mode = a.mode
        st.st_nlink = UInt(a.linkCount)
        st.st_uid = a.uid
        st.st_gid = a.gid
        st.st_size = Int(a.size)
        // The preferred I/O size: cp, tar and stdio size their buffers by it, so 1 MiB (max_write) makes their
        // writes one FUSE request per MiB instead of eight.
        st.st_blksize = Self.preferredIOSize
        st.st_blocks = Int((a.size + 511) / 512)
        st.st_atim = timespec(tv_sec: Int(a.atime.seconds), tv_nsec: Int(a.atime.nanoseconds))
        st.st_mtim = timespec(tv_sec: Int(a.mtime.seconds), tv_nsec: Int(a.mtime.nanoseconds))
        st.st_ctim = timespec(tv_sec: Int(a.ctime.seconds), tv_nsec: Int(a.ctime.nanoseconds))
        return st
    }

    static func entry(_ a: NodeAttributes, timeout: Double) -> fuse_entry_param {
        var e = fuse_entry_param()
        e.ino = a.inode.rawValue
        e.generation = 1
        e.attr = stat(a)
        e.attr_timeout = timeout
        e.entry_timeout = timeout
        return e
    }

    static func replyEntry(_ request: Request, _ a: NodeAttributes, timeout: Double) {
        var e = entry(a, timeout: timeout)
        fuse_reply_entry(request.raw, &e)
    }

    static func replyAttr(_ request: Request, _ a: NodeAttributes, timeout: Double) {
        var st = stat(a)
        fuse_reply_attr(request.raw, &st, timeout)
    }

    static func replyData(_ request: Request, _ data: Data) {
        data.withUnsafeBytes { raw in
            _ = fuse_reply_buf(request.raw, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }

    /// One reply gathering `parts` (fuse_reply_iov): the kernel copies straight from the cached blocks.
    static func replyParts(_ request: Request, _ parts: [Data]) {
        if parts.count <= 1 { return replyData(request, parts.first ?? Data()) }
        var vectors: [iovec] = []
        vectors.reserveCapacity(parts.count)
        func gather(_ index: Int) {
            guard index < parts.count else {
                _ = vectors.withUnsafeBufferPointer { fuse_reply_iov(request.raw, $0.baseAddress, Int32($0.count)) }
                return
            }
            // Nested so that every part's bytes stay pinned until the reply is sent.
            parts[index].withUnsafeBytes { raw in
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress), iov_len: raw.count))
                gather(index + 1)
            }
        }
        gather(0)
    }

    static func replyOK(_ request: Request) { fuse_reply_err(request.raw, 0) }
}
