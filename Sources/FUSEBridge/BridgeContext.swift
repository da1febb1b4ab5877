import CFUSE
import FilesystemCore
import Logging

/// What every callback reaches through `fuse_req_userdata`: the filesystem and the bridge's logger.
final class BridgeContext: Sendable {
    let filesystem: Filesystem
    let logger: Logger
    let timeout: Double

    init(filesystem: Filesystem, logger: Logger) {
        self.filesystem = filesystem
        self.logger = logger
        self.timeout = filesystem.kernelTimeout
    }

    /// The context of the session that `req` came from.
    static func of(_ req: fuse_req_t?) -> BridgeContext {
        // SAFETY: the session's userdata is this object, retained by FUSESession for the session's whole life.
        Unmanaged<BridgeContext>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    /// A logger for one request, with its operation and inode, made only when debug logging is on.
    func logger(_ op: StaticString, _ ino: fuse_ino_t) -> Logger {
        guard logger.logLevel <= .debug else { return logger }
        var l = logger
        l[metadataKey: "fuse.op"] = "\(op)"
        l[metadataKey: "fuse.ino"] = "\(ino)"
        return l
    }
}
