import Foundation
import Synchronization
import Testing

/// One foreground `bucketfs` daemon, our child, serving one mountpoint; stdout and stderr go to `logFile`.
final class Mount: Sendable {
    /// The mounted folder.
    let mountpoint: URL
    /// The daemon's combined stdout and stderr.
    let logFile: URL
    /// Configured and started in `init`, before the mount is shared.
    private let process: Process
    /// Set when `waitUntilMounted` already reported the daemon's early exit.
    private let failedToStart = Mutex(false)
    /// Set by a test that killed the daemon on purpose: its exit is then no failure.
    private let killedOnPurpose = Mutex(false)
    private let reaped = Mutex(false)

    /// Records that the test killed this daemon (e.g. SIGKILL to test recovery), so teardown does not flag it.
    func expectDeath() { killedOnPurpose.withLock { $0 = true } }

    init(binary: String, arguments: [String], mountpoint: URL, logFile: URL) throws {
        self.mountpoint = mountpoint
        self.logFile = logFile
        guard FileManager.default.createFile(atPath: logFile.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: logFile.path])
        }
        let log = try FileHandle(forWritingTo: logFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()
        self.process = process
    }

    /// The path of `relative` inside the mount.
    func path(_ relative: String = "") -> String {
        relative.isEmpty ? mountpoint.path : mountpoint.appendingPathComponent(relative).path
    }

    /// True while the daemon process runs.
    var isRunning: Bool { process.isRunning }

    /// The daemon's PID.
    var pid: pid_t { process.processIdentifier }

    /// The last 60 lines of the daemon's log.
    var logTail: String {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? "(no log)"
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(60).joined(separator: "\n")
    }

    /// Waits until the kernel lists the mount; fails early with the log tail if the daemon exits first.
    func waitUntilMounted(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while !MountTable.isMounted(mountpoint.path) {
            if !process.isRunning {
                process.waitUntilExit()
                failedToStart.withLock { $0 = true }
                throw MountError.didNotMount(
                    "bucketfs exited with status \(process.terminationStatus) before mounting \(mountpoint.path):\n"
                        + logTail)
            }
            if ContinuousClock.now > deadline {
                throw MountError.didNotMount("\(mountpoint.path) was not mounted within \(timeout):\n\(logTail)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Unmounts (`fusermount3 -u`, retried while busy), waits up to 30 s for the daemon to exit, else SIGKILLs it
    /// and lazily unmounts. Records an issue, with the log tail, when the daemon does not exit cleanly.
    func unmountAndReap() async {
        // A test may unmount mid-way (to check what reached the bucket); teardown then has nothing left to do.
        let already = reaped.withLock { done -> Bool in
            defer { done = true }
            return done
        }
        guard !already else { return }
        let path = mountpoint.path
        let wasRunning = process.isRunning
        for attempt in 0..<5 where MountTable.isMounted(path) {
            let result = try? await Command.run(["fusermount3", "-u", path], timeout: .seconds(15))
            if result?.succeeded == true { break }
            try? await Task.sleep(for: .milliseconds(200 * (attempt + 1)))
        }
        let exit = try? await Command.waitForExit(of: process, timeout: .seconds(30))
        if exit == .killedAfterTimeout {
            Issue.record("bucketfs did not exit within 30 s of the unmount; killed it\n\(logTail)")
        } else if killedOnPurpose.withLock({ $0 }) {
            // The test killed it; only the stale mount is left to clear, below.
        } else if !wasRunning, !failedToStart.withLock({ $0 }) {
            Issue.record("bucketfs had already exited with \(process.terminationStatus) before the unmount\n\(logTail)")
        } else if wasRunning, process.terminationReason == .uncaughtSignal || process.terminationStatus != 0 {
            let how = process.terminationReason == .uncaughtSignal ? "signal" : "status"
            Issue.record("bucketfs ended with \(how) \(process.terminationStatus) after the unmount\n\(logTail)")
        }
        if MountTable.isMounted(path) {
            _ = try? await Command.run(["fusermount3", "-uz", path], timeout: .seconds(15))
        }
    }
}
