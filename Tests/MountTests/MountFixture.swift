import Foundation
import Synchronization
import Testing

/// One test's world: its own key prefix `t-<uuid>/` in the shared bucket, a scratch folder, and every mount it made.
///
/// `MountFixture.run` always tears it all down, whatever the body did: unmounts (`fusermount3 -u`, then lazily),
/// waits for each daemon and SIGKILLs one that lingers, deletes the test's objects, removes the scratch folder.
/// Failures, thrown errors and teardown problems carry the daemon's log tail.
final class MountFixture: Sendable {
    let environment: MountTestEnvironment
    /// The test's key prefix, ending in `/`.
    let prefix: String
    /// A fresh folder for mountpoints, cache folders, logs and local reference trees.
    let scratch: URL
    /// The test's objects, seen through the S3 API.
    let bucket: TestBucket

    private let mounts = Mutex<[Mount]>([])
    private let backgroundMountpoints = Mutex<[String]>([])

    private init(environment: MountTestEnvironment) throws {
        self.environment = environment
        let id = UUID().uuidString.lowercased()
        prefix = "t-\(id)/"
        let temporary = FileManager.default.temporaryDirectory.resolvingSymlinksInPath()
        scratch = temporary.appendingPathComponent("bucketfs-mt-\(id)", isDirectory: true)
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        bucket = TestBucket(environment: environment, prefix: prefix)
    }

    /// Runs `body` with a fresh fixture and tears it down afterwards, even when `body` throws or the test times out.
    static func run(_ body: (MountFixture) async throws -> Void) async {
        let environment: MountTestEnvironment
        do {
            environment = try #require(MountTestEnvironment.current, Comment(rawValue: MountTestEnvironment.unavailableReason))
        } catch {
            return
        }
        let fixture: MountFixture
        do {
            fixture = try MountFixture(environment: environment)
        } catch {
            Issue.record(error, "could not create the scratch folder")
            return
        }
        do {
            try await body(fixture)
        } catch {
            Issue.record(error, Comment(rawValue: fixture.logTails))
        }
        // An unstructured task is not cancelled with the test, so teardown still runs after a time limit expires.
        await Task { await fixture.tearDown() }.value
    }

    /// A folder (created) inside the scratch folder.
    func directory(_ name: String) throws -> URL {
        let url = scratch.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The source argument for a mount of `subPrefix` inside the test's prefix: `BUCKET:t-<uuid>/subPrefix`.
    func source(_ subPrefix: String = "") -> String { "\(environment.bucket):\(prefix)\(subPrefix)" }

    /// The options every test mount gets: this server, its own cache folder, debug logging.
    func commonArguments(cacheDir: URL) -> [String] {
        ["--endpoint", environment.endpoint, "--path-style", "--cache-dir", cacheDir.path, "--log-level", "debug"]
    }

    /// Mounts the test's prefix (or `subPrefix` inside it) on a fresh folder with the daemon in the foreground as our
    /// child, and waits until the kernel lists the mount (at most 20 s).
    ///
    /// - Throws: `MountError.didNotMount` with the log tail when the daemon exits or the mount does not appear.
    func mount(_ arguments: [String] = [], subPrefix: String = "", name: String? = nil) async throws -> Mount {
        let label = name ?? "mount-\(mounts.withLock { $0.count })"
        let mountpoint = try directory(label)
        let cacheDir = try directory(label + ".cache")
        let logFile = scratch.appendingPathComponent(label + ".log")
        let all = [source(subPrefix), mountpoint.path, "-f"] + commonArguments(cacheDir: cacheDir) + arguments
        let mount = try Mount(binary: environment.binary, arguments: all, mountpoint: mountpoint, logFile: logFile)
        mounts.withLock { $0.append(mount) }
        try await mount.waitUntilMounted(timeout: .seconds(20))
        return mount
    }

    /// Registers a mount made by a daemon that is not our child (background mode), so teardown unmounts it.
    func adoptBackgroundMount(at mountpoint: URL) {
        backgroundMountpoints.withLock { $0.append(mountpoint.path) }
    }

    /// The log tails of every mount so far, for failure messages.
    var logTails: String {
        mounts.withLock { $0 }.map { "daemon log \($0.logFile.lastPathComponent):\n\($0.logTail)" }
            .joined(separator: "\n")
    }

    private func tearDown() async {
        for mount in mounts.withLock({ $0 }) {
            await mount.unmountAndReap()
        }
        for mountpoint in backgroundMountpoints.withLock({ $0 }) {
            await BackgroundMount.unmount(mountpoint)
        }
        do {
            try await bucket.deleteEverything()
        } catch {
            Issue.record(error, "could not delete the test's objects under \(prefix)")
        }
        // Never walk into a mount that is somehow still attached (a hung daemon would hang the removal).
        let attached = mounts.withLock { $0 }.contains { MountTable.isMounted($0.mountpoint.path) }
            || backgroundMountpoints.withLock { $0 }.contains { MountTable.isMounted($0) }
        if attached {
            Issue.record("a mount under \(scratch.path) is still attached after teardown; left the folder in place")
        } else {
            try? FileManager.default.removeItem(at: scratch)
        }
    }
}

/// A mount failed to come up.
enum MountError: Error, CustomStringConvertible {
    case didNotMount(String)

    var description: String {
        switch self {
        case .didNotMount(let why): why
        }
    }
}

/// What `/proc/mounts` says about mountpoints.
enum MountTable {
    /// True when the kernel lists a mount at `path` (compared after `/proc/mounts`' octal escaping).
    static func isMounted(_ path: String) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return false }
        let escaped = path.replacingOccurrences(of: "\\", with: "\\134").replacingOccurrences(of: " ", with: "\\040")
            .replacingOccurrences(of: "\t", with: "\\011").replacingOccurrences(of: "\n", with: "\\012")
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 1 && fields[1] == escaped
        }
    }

    /// Polls until `path` is (or is no longer) a mount; returns whether that happened within `timeout`.
    static func wait(until mounted: Bool, _ path: String, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isMounted(path) == mounted { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return isMounted(path) == mounted
    }
}

/// Unmounting a daemon that is not our child.
enum BackgroundMount {
    /// `fusermount3 -u`, wait until the kernel drops the mount, lazily unmount otherwise; then SIGKILL any daemon
    /// still running for this mountpoint (found by its unique path in `/proc/*/cmdline`).
    static func unmount(_ mountpoint: String) async {
        if MountTable.isMounted(mountpoint) {
            _ = try? await Command.run(["fusermount3", "-u", mountpoint], timeout: .seconds(15))
            if !(await MountTable.wait(until: false, mountpoint, timeout: .seconds(30))) {
                _ = try? await Command.run(["fusermount3", "-uz", mountpoint], timeout: .seconds(15))
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        var daemons = processes(mentioning: mountpoint)
        while !daemons.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            daemons = processes(mentioning: mountpoint)
        }
        for pid in daemons { kill(pid, SIGKILL) }
    }

    /// PIDs whose command line contains `path` as one argument (mountpoints are unique per test).
    static func processes(mentioning path: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != getpid(),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return nil }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.contains(path) ? pid : nil
        }
    }
}
