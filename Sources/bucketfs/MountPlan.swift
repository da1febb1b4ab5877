import FUSEBridge
import FilesystemCore
import Foundation
import Glibc
import Logging
import ObjectStorage
import S3

/// Everything a mount needs, resolved from the command line and the environment, and the mount's life cycle.
struct MountPlan {
    var bucket: String
    var prefix: String
    var mountpoint: String
    var command: MountCommand
    var readinessTimeout: Duration { .seconds(25) }

    init(command: MountCommand) throws {
        self.command = command
        let parts = command.source.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        bucket = String(parts[0])
        prefix = parts.count > 1 ? String(parts[1]) : ""
        mountpoint = try Self.checkMountpoint(command.mountpoint)
    }

    /// The mountpoint as an absolute path, after checking it can be mounted on.
    static func checkMountpoint(_ given: String) throws -> String {
        var st = stat()
        if stat(given, &st) != 0 {
            let code = errno
            if code == ENOTCONN {
                throw MountFailure("\(given) is a dead mount (run: fusermount3 -u \(given))")
            }
            throw MountFailure("mountpoint \(given): \(String(cString: strerror(code)))")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw MountFailure("mountpoint \(given) is not a directory") }
        guard let real = realpath(given, nil) else { throw MountFailure("mountpoint \(given): cannot resolve") }
        let path = String(cString: real)
        free(real)
        if MountTable.entries().contains(where: { $0.mountpoint == path }) {
            throw MountFailure("\(path) is already a mount point")
        }
        return path
    }

    func makeLogger() -> Logger {
        let options = command.process
        let sink: LogSink =
            if let file = options.logFile { .file(file) } else if Daemon.isBackgroundChild { .syslog } else { .standardError }
        let output = LineLogHandler.Output(sink: sink)
        let level = Logger.Level(rawValue: options.logLevel.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, output: output, logLevel: level) }
        SignalHandlers.logOutput = output
        return Logger(label: "bucketfs")
    }

    /// Checks S3, mounts, serves until unmounted, then shuts down.
    func mountAndServe() async throws {
        let logger = makeLogger()
        do {
            let (store, transport) = try await connect(logger: logger)
            let filesystem = Filesystem(
                store: store, configuration: try filesystemConfiguration(), logger: Logger(label: "bucketfs.core"))
            let renamed = await filesystem.finishInterruptedRenames()
            filesystem.recoverSpool(renamed: renamed)
            filesystem.recoverDeferredDeletes()
            var options = ["fsname=bucketfs:\(bucket)", "subtype=bucketfs", "default_permissions"]
            options += try MountOptionList(command.process.mountOptions).kernel.filter { $0 != "rw" }
            if command.presentation.readOnly, !options.contains("ro") { options.append("ro") }
            let session = try FUSESession(
                filesystem: filesystem, mountpoint: mountpoint, options: options, workers: command.process.fuseThreads,
                logger: Logger(label: "bucketfs.fuse"))
            logger.info("mounted", metadata: ["bucket": "\(bucket)", "prefix": "\(prefix)", "mountpoint": "\(mountpoint)"])
            Daemon.report("ready")
            SignalHandlers.install(logger: logger) { session.unmount() }
            await session.run()
            // Unmounted: everything written is uploaded before the daemon exits.
            let (files, bytes, _) = filesystem.pendingUploads()
            if files > 0 {
                logger.info("uploading before exit", metadata: ["files": "\(files)", "bytes": "\(bytes)"])
            }
            do { try await filesystem.syncAll() } catch {
                logger.error("uploads failed at exit; the spool keeps them for the next mount", metadata: ["error": "\(error)"])
            }
            // Files unlinked while still open: the kernel sends no more releases, so their objects go now.
            await filesystem.finishDeferredDeletes()
            await filesystem.flushIndexWrites()
            transport.shutdown()
            logger.info("stopped")
        } catch {
            let line = Self.describe(error)
            // In the foreground the one line on stderr says it; the log keeps it at debug.
            logger.debug("mount failed", metadata: ["reason": "\(line)"])
            Daemon.report(line)
            throw MountFailure(line)
        }
    }

    /// `--cache-dir`, else `$XDG_CACHE_HOME/bucketfs`, else `~/.cache/bucketfs`.
    var cacheDirectory: String {
        if let dir = command.cache.cacheDir { return dir }
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/bucketfs" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.cache/bucketfs"
    }

    /// The spool of this bucket: created 0700, so other users cannot read what is written.
    func spoolDirectory() throws -> String {
        let dir = "\(cacheDirectory)/spool/\(bucket)"
        do {
            try FileManager.default.createDirectory(
                atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            chmod(cacheDirectory, 0o700)
        } catch {
            throw MountFailure("cannot create the cache folder \(dir): \(error.localizedDescription)")
        }
        return dir
    }

    func filesystemConfiguration() throws -> FilesystemConfiguration {
        let p = command.presentation
        let ttl = Duration.milliseconds(Int64(p.metadataTtl * 1000))
        return FilesystemConfiguration(
            mapping: KeyMapping(prefix: prefix), uid: p.uid ?? getuid(), gid: p.gid ?? getgid(),
            fileMode: parseMode(p.fileMode)!, directoryMode: parseMode(p.dirMode)!, metadataTTL: ttl,
            readOnly: p.readOnly, cacheMemoryBytes: parseSize(command.cache.cacheMemory)!,
            spoolDirectory: p.readOnly ? nil : try spoolDirectory(), bucket: bucket,
            syncOnClose: command.cache.syncOnClose, metadataIndex: !p.noMetadataIndex,
            spoolCapacity: UInt64(parseSize(command.cache.cacheSize)!))
    }

    /// One line for the user, never holding a secret.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as MountFailure: e.description
        case let e as ObjectStoreError: e.description
        case let e as FUSESessionError: e.description
        default: "\(error)"
        }
    }
}
