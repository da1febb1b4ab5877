import ArgumentParser
import FUSEBridge
import FilesystemCore
import Foundation
import Logging

/// `bucketfs [OPTIONS] BUCKET[:PREFIX] MOUNTPOINT`: mounts the bucket (or the sub-tree under PREFIX).
struct MountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount an S3 bucket (or BUCKET:PREFIX) as a directory.",
        discussion: "Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or from ~/.aws/credentials.")

    @Argument(help: ArgumentHelp("The bucket, optionally with a key prefix to mount a sub-tree.", valueName: "bucket[:prefix]"))
    var source: String

    @Argument(help: ArgumentHelp("An existing, empty directory to mount on.", valueName: "mountpoint"))
    var mountpoint: String

    @OptionGroup var s3: S3Options
    @OptionGroup var presentation: PresentationOptions
    @OptionGroup var cache: CacheOptions
    @OptionGroup var process: ProcessOptions

    mutating func validate() throws {
        let list = try MountOptionList(process.mountOptions)
        try apply(list)
        guard !source.isEmpty, !source.hasPrefix(":") else { throw ValidationError("missing bucket name") }
        guard parseMode(presentation.fileMode) != nil else { throw ValidationError("bad --file-mode '\(presentation.fileMode)' (octal, e.g. 0644)") }
        guard parseMode(presentation.dirMode) != nil else { throw ValidationError("bad --dir-mode '\(presentation.dirMode)' (octal, e.g. 0755)") }
        guard parseSize(cache.cacheMemory) != nil else { throw ValidationError("bad --cache-memory '\(cache.cacheMemory)' (e.g. 256M)") }
        guard parseSize(cache.cacheSize) != nil else { throw ValidationError("bad --cache-size '\(cache.cacheSize)' (e.g. 10G)") }
        guard presentation.metadataTtl >= 0, presentation.metadataTtl.isFinite else { throw ValidationError("--metadata-ttl must be 0 or more seconds") }
        guard Logger.Level(rawValue: process.logLevel.lowercased()) != nil else {
            throw ValidationError("bad --log-level '\(process.logLevel)' (trace, debug, info, notice, warning, error, critical)")
        }
        guard (1...256).contains(process.fuseThreads) else { throw ValidationError("--fuse-threads must be 1 to 256") }
        guard (1...3600).contains(s3.requestTimeout) else { throw ValidationError("--request-timeout must be 1 to 3600 seconds") }
        if let endpoint = s3.endpoint {
            guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                url.host != nil
            else { throw ValidationError("bad --endpoint '\(endpoint)' (expected http://host[:port] or https://host[:port])") }
        }
    }

    /// Folds the `-o name=value` settings into the options (an explicit `-o` wins, as in fstab).
    private mutating func apply(_ list: MountOptionList) throws {
        func required(_ name: String, _ value: String?) throws -> String {
            guard let value, !value.isEmpty else { throw ValidationError("mount option '\(name)' needs a value") }
            return value
        }
        func number<T: FixedWidthInteger>(_ name: String, _ value: String?) throws -> T {
            guard let n = T(try required(name, value)) else { throw ValidationError("mount option '\(name)' needs a number") }
            return n
        }
        for (name, value) in list.settings {
            switch name {
            case "endpoint": s3.endpoint = try required(name, value)
            case "region": s3.region = try required(name, value)
            case "profile": s3.profile = try required(name, value)
            case "path_style": s3.pathStyle = true
            case "no_sign_request": s3.noSignRequest = true
            case "no_verify_tls": s3.noVerifyTls = true
            case "ca_bundle": s3.caBundle = try required(name, value)
            case "request_timeout": s3.requestTimeout = try number(name, value)
            case "uid": presentation.uid = try number(name, value)
            case "gid": presentation.gid = try number(name, value)
            case "file_mode": presentation.fileMode = try required(name, value)
            case "dir_mode": presentation.dirMode = try required(name, value)
            case "metadata_ttl":
                guard let t = Double(try required(name, value)) else { throw ValidationError("mount option 'metadata_ttl' needs seconds") }
                presentation.metadataTtl = t
            case "read_only": presentation.readOnly = true
            case "no_metadata_index": presentation.noMetadataIndex = true
            case "sync_on_close": cache.syncOnClose = true
            case "cache_dir": cache.cacheDir = try required(name, value)
            case "cache_memory": cache.cacheMemory = try required(name, value)
            case "cache_size": cache.cacheSize = try required(name, value)
            case "log_level": process.logLevel = try required(name, value)
            case "log_file": process.logFile = try required(name, value)
            case "foreground": process.foreground = true
            case "fuse_threads": process.fuseThreads = try number(name, value)
            default: throw ValidationError("unknown mount option '\(name)'")
            }
        }
        if list.readOnly { presentation.readOnly = true }
    }

    func run() async throws { try await execute() }

    /// Mounts, daemonizing first unless `--foreground`.
    func execute() async throws {
        let plan = try MountPlan(command: self)
        if !process.foreground {
            try Daemon.startInBackground(readiness: plan.readinessTimeout)
        }
        try await plan.mountAndServe()
    }
}
