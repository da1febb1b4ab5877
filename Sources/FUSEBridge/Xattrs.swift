import CFUSE
import FilesystemCore
import Foundation
import SystemPackage

/// The extended-attribute operations: getxattr, setxattr, listxattr, removexattr.
enum Xattrs {
    static func install(into ops: inout fuse_lowlevel_ops) {
        ops.getxattr = { req, ino, name, size in
            let c = BridgeContext.of(req)
            // Non-UTF-8 names cannot be stored in the s3fs format, so no such attribute exists.
            guard let name = String(validatingCString: name!) else {
                fuse_reply_err(req, ExtendedAttributeError.noAttribute(name: "", path: "").errno.rawValue)
                return
            }
            // security.capability is asked on writes and ACLs by ls: answered inline, no task and no request.
            if let refusal = c.filesystem.extendedAttributeAnsweredAtOnce(name, of: InodeNumber(ino)) {
                fuse_reply_err(req, refusal.errno.rawValue)
                return
            }
            dispatch(Request(raw: req!), op: "getxattr", logger: c.logger("getxattr", ino)) {
                try await c.filesystem.extendedAttribute(name, of: InodeNumber(ino), size: size)
            } reply: { r, answer in
                Xattrs.reply(r, answer)
            }
        }
        ops.listxattr = { req, ino, size in
            let c = BridgeContext.of(req)
            dispatch(Request(raw: req!), op: "listxattr", logger: c.logger("listxattr", ino)) {
                try await c.filesystem.extendedAttributeNames(of: InodeNumber(ino), size: size)
            } reply: { r, answer in
                Xattrs.reply(r, answer)
            }
        }
        ops.setxattr = { req, ino, name, value, size, flags in
            let c = BridgeContext.of(req)
            guard let name = String(validatingCString: name!) else {
                fuse_reply_err(req, ExtendedAttributeError.invalidName(name: "").errno.rawValue)
                return
            }
            // The value buffer dies when this callback returns.
            let data = value.map { Data(bytes: $0, count: size) } ?? Data()
            let flags = ExtendedAttributeFlags(rawValue: flags)
            dispatch(Request(raw: req!), op: "setxattr", logger: c.logger("setxattr", ino)) {
                try await c.filesystem.setExtendedAttribute(name, to: data, flags: flags, of: InodeNumber(ino))
            } reply: { r, _ in
                Replies.replyOK(r)
            }
        }
        ops.removexattr = { req, ino, name in
            let c = BridgeContext.of(req)
            guard let name = String(validatingCString: name!) else {
                fuse_reply_err(req, ExtendedAttributeError.noAttribute(name: "", path: "").errno.rawValue)
                return
            }
            dispatch(Request(raw: req!), op: "removexattr", logger: c.logger("removexattr", ino)) {
                try await c.filesystem.removeExtendedAttribute(name, of: InodeNumber(ino))
            } reply: { r, _ in
                Replies.replyOK(r)
            }
        }
    }

    /// A size probe answers with fuse_reply_xattr, a value or list with fuse_reply_buf.
    static func reply(_ request: Request, _ answer: ExtendedAttributeReply) {
        switch answer {
        case .size(let count): fuse_reply_xattr(request.raw, count)
        case .bytes(let data): Replies.replyData(request, data)
        }
    }
}
