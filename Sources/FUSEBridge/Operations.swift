import CFUSE
import FilesystemCore
import Foundation
import Logging
import SystemPackage

/// The `fuse_lowlevel_ops` table. Each callback copies what it needs from its arguments (names and buffers die when
/// it returns), dispatches a task, and returns at once; the task replies.
enum Operations {
    static func table() -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()
        ops.`init` = { userdata, conn in
            guard let conn else { return }
            // Large requests (1 MiB: max_write also sets max_pages), async reads, readdirplus where useful.
            CFUSE_wantCapability(conn, UInt32(FUSE_CAP_ASYNC_READ))
            CFUSE_wantCapability(conn, UInt32(FUSE_CAP_READDIRPLUS))
            CFUSE_wantCapability(conn, UInt32(FUSE_CAP_READDIRPLUS_AUTO))
            CFUSE_wantCapability(conn, UInt32(FUSE_CAP_PARALLEL_DIROPS))
            CFUSE_wantCapability(conn, UInt32(FUSE_CAP_ATOMIC_O_TRUNC))
            CFUSE_dropCapability(conn, UInt32(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE))
            conn.pointee.max_write = 1 << 20
            // Only lowers what the mount set (FUSESession.raiseKernelReadahead): keep it at that.
            conn.pointee.max_readahead = UInt32(FUSESession.kernelReadaheadKiB << 10)
            conn.pointee.max_background = 64
            conn.pointee.congestion_threshold = 48
            if let userdata {
                // SAFETY: userdata is the session's BridgeContext, retained for the session's life.
                let context = Unmanaged<BridgeContext>.fromOpaque(userdata).takeUnretainedValue()
                context.logger.info(
                    "kernel connection ready",
                    metadata: [
                        "fuse.proto": "\(conn.pointee.proto_major).\(conn.pointee.proto_minor)",
                        "max_write": "\(conn.pointee.max_write)", "max_read": "\(conn.pointee.max_read)",
                    ])
            }
        }
        ops.lookup = { req, parent, name in
            let c = BridgeContext.of(req)
            let name = String(cString: name!)
            dispatch(Request(raw: req!), op: "lookup", logger: c.logger("lookup", parent)) {
                try await c.filesystem.lookUp(name, in: InodeNumber(parent))
            } reply: { r, a in
                Replies.replyEntry(r, a, timeout: c.timeout)
            }
        }
        ops.forget = { req, ino, count in
            BridgeContext.of(req).filesystem.forget(InodeNumber(ino), count: count)
            fuse_reply_none(req)
        }
        ops.forget_multi = { req, count, forgets in
            let fs = BridgeContext.of(req).filesystem
            for i in 0..<count {
                let f = forgets![i]
                fs.forget(InodeNumber(f.ino), count: f.nlookup)
            }
            fuse_reply_none(req)
        }
        ops.getattr = { req, ino, _ in
            let c = BridgeContext.of(req)
            dispatch(Request(raw: req!), op: "getattr", logger: c.logger("getattr", ino)) {
                try await c.filesystem.attributes(of: InodeNumber(ino))
            } reply: { r, a in
                Replies.replyAttr(r, a, timeout: c.timeout)
            }
        }
        ops.readlink = { req, ino in
            let c = BridgeContext.of(req)
            dispatch(Request(raw: req!), op: "readlink", logger: c.logger("readlink", ino)) {
                try await c.filesystem.readLink(InodeNumber(ino))
            } reply: { r, target in
                fuse_reply_readlink(r.raw, target)
            }
        }
        ops.opendir = { req, ino, fi in
            let c = BridgeContext.of(req)
            do {
                let handle = try c.filesystem.openDirectory(InodeNumber(ino))
                fi!.pointee.fh = handle.rawValue
                fuse_reply_open(req, fi)
            } catch {
                fuse_reply_err(req, errnoValue(of: error, logger: c.logger, op: "opendir"))
            }
        }
        ops.readdir = { req, ino, size, offset, fi in
            Directories.read(Request(raw: req!), ino: ino, size: size, offset: offset, handle: fi!.pointee.fh, plus: false)
        }
        ops.readdirplus = { req, ino, size, offset, fi in
            Directories.read(Request(raw: req!), ino: ino, size: size, offset: offset, handle: fi!.pointee.fh, plus: true)
        }
        ops.releasedir = { req, _, fi in
            BridgeContext.of(req).filesystem.releaseDirectory(FileHandleID(fi!.pointee.fh))
            fuse_reply_err(req, 0)
        }
        ops.open = { req, ino, fi in
            let c = BridgeContext.of(req)
            let flags = fi!.pointee.flags
            let writable = flags & O_ACCMODE != O_RDONLY
            let truncate = flags & O_TRUNC != 0
            dispatch(Request(raw: req!), op: "open", logger: c.logger("open", ino)) {
                try await c.filesystem.open(InodeNumber(ino), writable: writable, truncate: truncate)
            } reply: { r, opened in
                var info = fuse_file_info()
                info.flags = flags
                info.fh = opened.handle.rawValue
                info.keep_cache = opened.keepCache ? 1 : 0
                fuse_reply_open(r.raw, &info)
            }
        }
        ops.read = { req, ino, size, offset, fi in
            let c = BridgeContext.of(req)
            let handle = FileHandleID(fi!.pointee.fh)
            dispatch(Request(raw: req!), op: "read", logger: c.logger("read", ino)) {
                try await c.filesystem.readParts(handle, offset: UInt64(max(0, offset)), count: size)
            } reply: { r, parts in
                Replies.replyParts(r, parts)
            }
        }
        ops.release = { req, ino, fi in
            let c = BridgeContext.of(req)
            let handle = FileHandleID(fi!.pointee.fh)
            dispatch(Request(raw: req!), op: "release", logger: c.logger("release", ino)) {
                try await c.filesystem.release(handle)
            } reply: { r, _ in
                Replies.replyOK(r)
            }
        }
        ops.statfs = { req, _ in
            let s = BridgeContext.of(req).filesystem.statistics()
            var v = statvfs()
            v.f_bsize = UInt(s.blockSize)
            v.f_frsize = UInt(s.blockSize)
            v.f_blocks = UInt(s.totalBlocks)
            v.f_bfree = UInt(s.freeBlocks)
            v.f_bavail = UInt(s.freeBlocks)
            v.f_files = UInt(s.totalInodes)
            v.f_ffree = UInt(s.freeInodes)
            v.f_favail = UInt(s.freeInodes)
            v.f_namemax = UInt(s.maximumNameLength)
            fuse_reply_statfs(req, &v)
        }
        ops.access = { req, ino, mask in
            let c = BridgeContext.of(req)
            let r = Request(raw: req!)
            let caller = r.context
            dispatch(r, op: "access", logger: c.logger("access", ino)) {
                try await c.filesystem.checkAccess(InodeNumber(ino), mask: mask, uid: caller.uid, gid: caller.gid)
            } reply: { r, _ in
                Replies.replyOK(r)
            }
        }
        Writes.install(into: &ops)
        Xattrs.install(into: &ops)
        return ops
    }
}

/// readdir and readdirplus: entries packed into the kernel's buffer until it is full.
enum Directories {
    static func read(_ request: Request, ino: fuse_ino_t, size: Int, offset: off_t, handle: UInt64, plus: Bool) {
        let c = BridgeContext.of(request.raw)
        let fs = c.filesystem
        // Entries are at least 24 bytes (plain) or 152 (plus): never ask for more than could fit.
        let limit = max(1, size / (plus ? 152 : 24))
        dispatch(request, op: plus ? "readdirplus" : "readdir", logger: c.logger("readdir", ino)) {
            try await fs.readDirectory(FileHandleID(handle), from: UInt64(max(0, offset)), limit: limit)
        } reply: { r, entries in
            var buffer = [CChar](repeating: 0, count: size)
            var used = 0
            buffer.withUnsafeMutableBufferPointer { buf in
                for entry in entries {
                    let remaining = size - used
                    if plus {
                        let needed = fuse_add_direntry_plus(r.raw, nil, 0, entry.name, nil, 0)
                        guard needed <= remaining else { break }
                        // Counted only once it is sure to be in the reply: the kernel counts what it receives.
                        let admitted = fs.admit(entry)
                        var param = fuse_entry_param()
                        if let attributes = admitted.attributes {
                            param = Replies.entry(attributes, timeout: c.timeout)
                        } else {
                            // nodeid 0: a name without attributes; the kernel will look it up.
                            param.attr.st_ino = UInt(admitted.inode.rawValue)
                            param.attr.st_mode = entry.kind.modeBits
                        }
                        used += fuse_add_direntry_plus(
                            r.raw, buf.baseAddress! + used, remaining, entry.name, &param, off_t(entry.nextOffset))
                    } else {
                        var st = Glibc.stat()
                        st.st_ino = UInt(fs.listingNumber(entry).rawValue)
                        st.st_mode = entry.kind.modeBits
                        let needed = fuse_add_direntry(r.raw, nil, 0, entry.name, nil, 0)
                        guard needed <= remaining else { break }
                        used += fuse_add_direntry(
                            r.raw, buf.baseAddress! + used, remaining, entry.name, &st, off_t(entry.nextOffset))
                    }
                }
            }
            fuse_reply_buf(r.raw, buffer, used)
        }
    }
}
