import CFUSE
import FilesystemCore
import Foundation
import Logging
import Synchronization

/// Why a FUSE session could not start.
public enum FUSESessionError: Error, CustomStringConvertible, Sendable {
    case cannotCreate
    case cannotMount(mountpoint: String)

    public var description: String {
        switch self {
        case .cannotCreate: "libfuse refused the mount options"
        case .cannotMount(let m): "cannot mount on \(m) (is /dev/fuse present and the mountpoint an empty directory?)"
        }
    }
}

/// A mounted FUSE session whose multi-threaded request loop runs on threads bucketfs owns.
public final class FUSESession: Sendable {
    // SAFETY: the session pointer is created in init and destroyed in deinit; libfuse's own functions called on
    // it (loop, exit) are documented as usable from any thread.
    private struct Handle: @unchecked Sendable { let raw: OpaquePointer }

    private let session: Handle
    private let context: Unmanaged<BridgeContext>
    private let workers: Int
    public let mountpoint: String
    private let logger: Logger
    // SAFETY: written once in init, read by libfuse only, freed in deinit.
    private nonisolated(unsafe) let ops: UnsafeMutablePointer<fuse_lowlevel_ops>
    private let ended = Mutex(false)

    /// Creates the session and mounts it.
    /// - Parameters:
    ///   - options: mount options for `-o` (`fsname=…`, `allow_other`, `default_permissions`, `ro`, …).
    ///   - workers: the most worker threads the loop may run.
    public init(filesystem: Filesystem, mountpoint: String, options: [String], workers: Int, logger: Logger) throws {
        self.mountpoint = mountpoint
        self.workers = workers
        self.logger = logger
        let context = Unmanaged.passRetained(BridgeContext(filesystem: filesystem, logger: logger))
        let ops = UnsafeMutablePointer<fuse_lowlevel_ops>.allocate(capacity: 1)
        ops.initialize(to: Operations.table())
        self.context = context
        self.ops = ops
        var argv = ["bucketfs"]
        if !options.isEmpty { argv += ["-o", options.joined(separator: ",")] }
        let cStrings = argv.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var pointers: [UnsafeMutablePointer<CChar>?] = cStrings + [nil]
        let created = pointers.withUnsafeMutableBufferPointer { p -> OpaquePointer? in
            var args = fuse_args(argc: Int32(argv.count), argv: p.baseAddress, allocated: 0)
            let se = CFUSE_sessionNew(&args, ops, MemoryLayout<fuse_lowlevel_ops>.size, context.toOpaque())
            fuse_opt_free_args(&args)
            return se
        }
        guard let created else {
            context.release()
            ops.deallocate()
            throw FUSESessionError.cannotCreate
        }
        guard fuse_session_mount(created, mountpoint) == 0 else {
            fuse_session_destroy(created)
            context.release()
            ops.deallocate()
            throw FUSESessionError.cannotMount(mountpoint: mountpoint)
        }
        session = Handle(raw: created)
        Self.raiseKernelReadahead(mountpoint: mountpoint, kib: Self.kernelReadaheadKiB, logger: logger)
    }

    /// The kernel's readahead for the mount. FUSE can only lower the block device default (128 KiB) at init, so
    /// sequential reads would reach the daemon as 128 KiB requests; 4 MiB lets the kernel send 1 MiB requests
    /// (max_pages) with several in flight, which is what keeps a sequential read fed.
    static let kernelReadaheadKiB = 4096

    /// Writes `kib` to the mount's `/sys/class/bdi/MAJOR:MINOR/read_ahead_kb` (root only; others keep the kernel's
    /// default, which is logged). The device number comes from /proc/self/mountinfo: a stat(2) of the mountpoint
    /// would be a FUSE request to this very daemon, whose loop is not running yet.
    static func raiseKernelReadahead(mountpoint: String, kib: Int, logger: Logger) {
        guard let device = mountDevice(of: mountpoint) else {
            logger.debug("kernel readahead left as is: mount not found in /proc/self/mountinfo")
            return
        }
        let path = "/sys/class/bdi/\(device)/read_ahead_kb"
        do {
            try "\(kib)\n".write(toFile: path, atomically: false, encoding: .utf8)
            logger.debug("kernel readahead raised", metadata: ["read_ahead_kb": "\(kib)", "bdi": "\(device)"])
        } catch {
            logger.info(
                "kernel readahead stays at the system default (needs root): sequential reads arrive in smaller requests",
                metadata: ["bdi": "\(device)"])
        }
    }

    /// `MAJOR:MINOR` of the newest FUSE mount at `mountpoint` (compared as given: bucketfs passes the realpath,
    /// and URL(fileURLWithPath:) would stat(2) it, and so hang).
    static func mountDevice(of mountpoint: String) -> String? {
        MountTable.entries().last { $0.mountpoint == mountpoint && $0.fsType.hasPrefix("fuse") }?.device
    }

    deinit {
        fuse_session_destroy(session.raw)
        context.release()
        ops.deallocate()
    }

    /// Runs the request loop on a thread of its own until the filesystem is unmounted (by `fusermount3 -u`, by
    /// `umount`, or by `unmount()`), then returns.
    public func run() async {
        let session = self.session
        let workers = UInt32(max(1, workers))
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                _ = CFUSE_sessionLoopMT(session.raw, workers)
                done.resume()
            }
            thread.name = "fuse-session"
            thread.stackSize = 1 << 20
            thread.start()
        }
        ended.withLock { $0 = true }
        fuse_session_unmount(session.raw)
        logger.info("unmounted", metadata: ["mountpoint": "\(mountpoint)"])
    }

    /// Asks the kernel to detach the mount; the loop then ends and `run()` returns.
    public func unmount() {
        guard !ended.withLock({ $0 }) else { return }
        fuse_session_exit(session.raw)
        // A lazy unmount through the setuid helper works for root and for users alike; the loop sees ENODEV.
        let helper = Process()
        helper.executableURL = URL(fileURLWithPath: "/bin/sh")
        helper.arguments = ["-c", "exec fusermount3 -u -z \"$0\" 2>/dev/null || exec umount -l \"$0\"", mountpoint]
        try? helper.run()
        helper.waitUntilExit()
    }
}
