import CFUSE
import FilesystemCore
import Foundation

/// The operations that change the namespace or file contents.
enum Writes {
    static func caller(_ r: Request) -> Caller {
        let c = r.context
        return Caller(uid: c.uid, gid: c.gid)
    }

    static func timestamp(_ ts: timespec) -> Timestamp {
        Timestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int32(ts.tv_nsec))
    }

    static func install(into ops: inout fuse_lowlevel_ops) {
        ops.create = { req, parent, name, mode, fi in
            let c = BridgeContext.of(req)
            let r = Request(raw: req!)
            let name = String(cString: name!)
            let flags = fi!.pointee.flags
            let who = Writes.caller(r)
            dispatch(r, op: "create", logger: c.logger("create", parent)) {
                try await c.filesystem.create(
                    name, in: InodeNumber(parent), mode: mode, exclusive: flags & O_EXCL != 0, caller: who)
            } reply: { r, result in
                var e = Replies.entry(result.0, timeout: c.timeout)
                var info = fuse_file_info()
                info.flags = flags
                info.fh = result.1.handle.rawValue
                fuse_reply_create(r.raw, &e, &info)
            }
        }
        ops.write = { req, ino, buf, size, offset, fi in
            let c = BridgeContext.of(req)
            let data = Data(bytes: buf!, count: size)  // the buffer dies when this callback returns
            let handle = FileHandleID(fi!.pointee.fh)
            dispatch(Request(raw: req!), op: "write", logger: c.logger("write", ino)) {
                try await c.filesystem.write(handle, offset: UInt64(max(0, offset)), data: data)
            } reply: { r, count in
                fuse_reply_write(r.raw, count)
            }
        }
        ops.flush = { req, ino, fi in
            let c = BridgeContext.of(req)
            let handle = FileHandleID(fi!.pointee.fh)
            dispatch(Request(raw: req!), op: "flush", logger: c.logger("flush", ino)) {
                try await c.filesystem.flush(handle)
            } reply: { r, _ in Replies.replyOK(r) }
        }
        ops.fsync = { req, ino, _, fi in
            let c = BridgeContext.of(req)
            let handle = FileHandleID(fi!.pointee.fh)
            dispatch(Request(raw: req!), op: "fsync", logger: c.logger("fsync", ino)) {
                try await c.filesystem.fsync(handle)
            } reply: { r, _ in Replies.replyOK(r) }
        }
        ops.fsyncdir = { req, ino, _, _ in
            let c = BridgeContext.of(req)
            dispatch(Request(raw: req!), op: "fsyncdir", logger: c.logger("fsyncdir", ino)) {
                let (path, _) = try c.filesystem.inodes.node(InodeNumber(ino))
                try await c.filesystem.syncAll(under: path)
            } reply: { r, _ in Replies.replyOK(r) }
        }
        ops.setattr = { req, ino, attr, toSet, _ in
            let c = BridgeContext.of(req)
            let a = attr!.pointee
            var changes = AttributeChanges()
            let now = Timestamp.now()
            if toSet & FUSE_SET_ATTR_SIZE != 0 { changes.size = UInt64(max(0, a.st_size)) }
            if toSet & FUSE_SET_ATTR_MODE != 0 { changes.mode = a.st_mode }
            if toSet & FUSE_SET_ATTR_UID != 0 { changes.uid = a.st_uid }
            if toSet & FUSE_SET_ATTR_GID != 0 { changes.gid = a.st_gid }
            if toSet & FUSE_SET_ATTR_ATIME_NOW != 0 {
                changes.atime = now
            } else if toSet & FUSE_SET_ATTR_ATIME != 0 {
                changes.atime = Writes.timestamp(a.st_atim)
            }
            if toSet & FUSE_SET_ATTR_MTIME_NOW != 0 {
                changes.mtime = now
            } else if toSet & FUSE_SET_ATTR_MTIME != 0 {
                changes.mtime = Writes.timestamp(a.st_mtim)
            }
            let requested = changes
            dispatch(Request(raw: req!), op: "setattr", logger: c.logger("setattr", ino)) {
                try await c.filesystem.setAttributes(InodeNumber(ino), requested)
            } reply: { r, attributes in
                Replies.replyAttr(r, attributes, timeout: c.timeout)
            }
        }
        ops.unlink = { req, parent, name in
            let c = BridgeContext.of(req)
            let name = String(cString: name!)
            dispatch(Request(raw: req!), op: "unlink", logger: c.logger("unlink", parent)) {
                try await c.filesystem.unlink(name, in: InodeNumber(parent))
            } reply: { r, _ in Replies.replyOK(r) }
        }
        ops.mkdir = { req, parent, name, mode in
            let c = BridgeContext.of(req)
            let r = Request(raw: req!)
            let name = String(cString: name!)
            let who = Writes.caller(r)
            dispatch(r, op: "mkdir", logger: c.logger("mkdir", parent)) {
                try await c.filesystem.makeDirectory(name, in: InodeNumber(parent), mode: mode, caller: who)
            } reply: { r, a in Replies.replyEntry(r, a, timeout: c.timeout) }
        }
        ops.rmdir = { req, parent, name in
            let c = BridgeContext.of(req)
            let name = String(cString: name!)
            dispatch(Request(raw: req!), op: "rmdir", logger: c.logger("rmdir", parent)) {
                try await c.filesystem.removeDirectory(name, in: InodeNumber(parent))
            } reply: { r, _ in Replies.replyOK(r) }
        }
        ops.symlink = { req, target, parent, name in
            let c = BridgeContext.of(req)
            let r = Request(raw: req!)
            let target = String(cString: target!)
            let name = String(cString: name!)
            let who = Writes.caller(r)
            dispatch(r, op: "symlink", logger: c.logger("symlink", parent)) {
                try await c.filesystem.makeSymlink(target, named: name, in: InodeNumber(parent), caller: who)
            } reply: { r, a in Replies.replyEntry(r, a, timeout: c.timeout) }
        }
        ops.rename = { req, parent, name, newParent, newName, flags in
            let c = BridgeContext.of(req)
            let name = String(cString: name!)
            let newName = String(cString: newName!)
            dispatch(Request(raw: req!), op: "rename", logger: c.logger("rename", parent)) {
                // RENAME_NOREPLACE is 1, RENAME_EXCHANGE 2 (linux/fs.h).
                try await c.filesystem.rename(
                    name, in: InodeNumber(parent), to: newName, in: InodeNumber(newParent),
                    noReplace: flags & 1 != 0, exchange: flags & 2 != 0)
            } reply: { r, _ in Replies.replyOK(r) }
        }
        ops.link = { req, _, _, _ in
            // S3 has no hard links: link(2) documents EPERM for filesystems that do not support them.
            fuse_reply_err(req, EPERM)
        }
        ops.mknod = { req, parent, name, mode, _ in
            let c = BridgeContext.of(req)
            guard mode & S_IFMT == S_IFREG else {
                fuse_reply_err(req, EPERM)  // device nodes, FIFOs and sockets cannot be objects
                return
            }
            let r = Request(raw: req!)
            let name = String(cString: name!)
            let who = Writes.caller(r)
            dispatch(r, op: "mknod", logger: c.logger("mknod", parent)) {
                let (attributes, opened) = try await c.filesystem.create(
                    name, in: InodeNumber(parent), mode: mode, exclusive: true, caller: who)
                try await c.filesystem.release(opened.handle)
                return attributes
            } reply: { r, a in Replies.replyEntry(r, a, timeout: c.timeout) }
        }
    }
}
