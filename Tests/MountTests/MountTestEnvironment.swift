import Foundation

/// What `scripts/test` hands the mount suites: a running S3 server, its metrics, a bucket and the built binary.
///
/// `current` is nil, and `unavailableReason` says why, when any piece is missing; the mount suites are then disabled
/// with that reason, and "mount tests are not skipped when required" fails if `BUCKETFS_REQUIRE_MOUNT_TESTS=1`.
struct MountTestEnvironment: Sendable {
    /// The S3 endpoint, e.g. `http://127.0.0.1:8333`.
    let endpoint: String
    /// The server's Prometheus page, if known (request-count tests need it).
    let metricsURL: String?
    /// An existing bucket the tests share; each test works under its own key prefix.
    let bucket: String
    /// The `bucketfs` executable under test.
    let binary: String
    /// The secret key handed to the daemon through the environment (never expected in any output).
    let secretKey: String

    /// The environment of this test run, or nil when mount tests cannot run here.
    static let current: MountTestEnvironment? = {
        guard missingPieces.isEmpty, let endpoint = variable("BUCKETFS_TEST_ENDPOINT"), let binary = resolvedBinary
        else { return nil }
        return MountTestEnvironment(
            endpoint: endpoint,
            metricsURL: variable("BUCKETFS_TEST_METRICS"),
            bucket: variable("BUCKETFS_TEST_BUCKET") ?? "bucketfs-test",
            binary: binary,
            secretKey: variable("AWS_SECRET_ACCESS_KEY") ?? "")
    }()

    /// True when CI demands that the mount suites run (`BUCKETFS_REQUIRE_MOUNT_TESTS=1`).
    static var isRequired: Bool { variable("BUCKETFS_REQUIRE_MOUNT_TESTS") == "1" }

    /// Each prerequisite that is absent, in words; empty when the mount suites can run.
    static let missingPieces: [String] = {
        var missing: [String] = []
        if variable("BUCKETFS_TEST_ENDPOINT") == nil { missing.append("BUCKETFS_TEST_ENDPOINT is not set") }
        if resolvedBinary == nil {
            missing.append("no bucketfs executable (BUCKETFS_BIN is '\(variable("BUCKETFS_BIN") ?? "unset")')")
        }
        if !FileManager.default.fileExists(atPath: "/dev/fuse") { missing.append("/dev/fuse does not exist") }
        if executable(named: "fusermount3") == nil { missing.append("fusermount3 is not on PATH") }
        if executable(named: "python3") == nil { missing.append("python3 is not on PATH") }
        if variable("AWS_ACCESS_KEY_ID") == nil || variable("AWS_SECRET_ACCESS_KEY") == nil {
            missing.append("AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set")
        }
        return missing
    }()

    /// Why the mount suites are disabled, shown by the test runner.
    static var unavailableReason: String {
        "mount tests need a local S3 server, the built binary and FUSE: " + missingPieces.joined(separator: "; ")
    }

    /// `BUCKETFS_BIN`, else a `bucketfs` next to the test bundle (a plain `swift test` builds both into one folder).
    private static let resolvedBinary: String? = {
        if let path = variable("BUCKETFS_BIN") {
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        let sibling = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("bucketfs").path
        return FileManager.default.isExecutableFile(atPath: sibling) ? sibling : nil
    }()

    static func variable(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    static func executable(named name: String) -> String? {
        let path = variable("PATH") ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
