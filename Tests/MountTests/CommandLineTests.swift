import Foundation
import Testing

extension MountTests {
    /// The command's contract with scripts: one line on stderr and a documented status when it cannot mount, and a
    /// mount that exists by the time a background start returns 0.
    @Suite("Command line")
    struct CommandLineTests {
        /// A way for mounting to fail.
        enum Failure: String, CaseIterable, Sendable, CustomTestStringConvertible {
            case wrongSecretKey = "wrong secret key"
            case missingBucket = "missing bucket"
            case unreachableEndpoint = "unreachable endpoint"
            case missingMountpoint = "missing mountpoint"
            case mountpointAlreadyMounted = "mountpoint already a mount"
            case unknownOption = "unknown -o option"
            case badCacheSize = "bad --cache-size"
            case badCacheSizeOption = "bad -o cache_size="

            var testDescription: String { rawValue }

            /// Exit statuses bucketfs(1) allows: 64 for usage errors, 1 for mount failures. A missing mountpoint may
            /// be reported either way.
            var allowedStatuses: Set<Int32> {
                switch self {
                case .unknownOption, .badCacheSize, .badCacheSizeOption: [64]
                case .missingMountpoint: [1, 64]
                case .wrongSecretKey, .missingBucket, .unreachableEndpoint, .mountpointAlreadyMounted: [1]
                }
            }
        }

        /// How the command was started.
        enum Mode: String, CaseIterable, Sendable, CustomTestStringConvertible {
            case background, foreground
            var testDescription: String { rawValue }
        }

        @Test(
            "a mount that cannot work exits non-zero within 15 s with one line on stderr and no secret",
            .timeLimit(.minutes(2)), arguments: Failure.allCases, Mode.allCases)
        func failingMount(_ failure: Failure, _ mode: Mode) async {
            await MountFixture.run { fixture in
                let environment = fixture.environment
                var source = fixture.source()
                var mountpoint = try fixture.directory("target").path
                var endpoint = environment.endpoint
                var extra: [String] = []
                var secret = environment.secretKey
                var occupied: Mount?
                switch failure {
                case .wrongSecretKey: secret = "wrong-secret-\(UUID().uuidString)"
                case .missingBucket: source = "bucketfs-no-such-bucket-\(UUID().uuidString.prefix(8).lowercased())"
                case .unreachableEndpoint: endpoint = "http://127.0.0.1:1"
                case .missingMountpoint: mountpoint = fixture.scratch.appendingPathComponent("does-not-exist").path
                case .mountpointAlreadyMounted:
                    occupied = try await fixture.mount(name: "occupied")
                    mountpoint = occupied?.path() ?? mountpoint
                case .unknownOption: extra = ["-o", "no_such_option"]
                case .badCacheSize: extra = ["--cache-size", "lots"]
                case .badCacheSizeOption: extra = ["-o", "cache_size=10Q"]
                }
                if failure != .mountpointAlreadyMounted { fixture.adoptBackgroundMount(at: URL(fileURLWithPath: mountpoint)) }
                let cacheDir = try fixture.directory("target.cache")
                let arguments =
                    [environment.binary, source, mountpoint, "--endpoint", endpoint, "--path-style",
                     "--cache-dir", cacheDir.path] + (mode == .foreground ? ["-f"] : []) + extra
                let result = try await Command.run(
                    arguments, environment: ["AWS_SECRET_ACCESS_KEY": secret], timeout: .seconds(20))

                #expect(!result.timedOut && !result.wasSignaled, "bucketfs did not end by itself: \(result.summary)")
                #expect(
                    failure.allowedStatuses.contains(result.status),
                    "exit status \(result.status), expected one of \(failure.allowedStatuses.sorted()): \(result.summary)")
                #expect(result.elapsed < .seconds(15), "bucketfs took \(result.elapsed) to give up")
                let lines = result.errors.split(separator: "\n", omittingEmptySubsequences: false)
                #expect(
                    lines.count == 2 && lines[1].isEmpty && !lines[0].isEmpty,
                    "stderr should be exactly one line: \(result.summary)")
                if !secret.isEmpty {
                    #expect(
                        !(result.output + result.errors).contains(secret), "the secret key was printed: \(result.summary)")
                }
                if let occupied {
                    let listing = try await Command.run(["ls", occupied.path()], timeout: .seconds(30))
                    #expect(listing.succeeded, "the first mount broke: \(listing.summary)\n\(occupied.logTail)")
                } else {
                    #expect(!MountTable.isMounted(mountpoint), "a failed start left \(mountpoint) mounted")
                }
            }
        }

        @Test(
            "without -f the command returns 0 only once the mountpoint is mounted, and fusermount3 -u ends it",
            .timeLimit(.minutes(2)))
        func backgroundMode() async {
            await MountFixture.run { fixture in
                try await fixture.bucket.put("hello.txt", Data("hello from the background\n".utf8))
                let mountpoint = try fixture.directory("background")
                let logFile = fixture.scratch.appendingPathComponent("background.log")
                fixture.adoptBackgroundMount(at: mountpoint)
                let arguments =
                    [fixture.environment.binary, fixture.source(), mountpoint.path]
                    + fixture.commonArguments(cacheDir: try fixture.directory("background.cache"))
                    + ["--log-file", logFile.path]
                let start = try await Command.run(arguments, timeout: .seconds(30))
                let log = { (try? String(contentsOf: logFile, encoding: .utf8))?.suffix(4000) ?? "(no log)" }
                try #require(start.succeeded, "background start failed: \(start.summary)\n\(log())")
                #expect(MountTable.isMounted(mountpoint.path), "the command returned before the mount existed")

                let cat = try await Command.run(["cat", mountpoint.appendingPathComponent("hello.txt").path], timeout: .seconds(30))
                #expect(cat.output == "hello from the background\n", "cat through the background mount: \(cat.summary)")
                #expect(
                    !BackgroundMount.processes(mentioning: mountpoint.path).isEmpty, "no daemon serves the mount")

                let unmount = try await Command.run(["fusermount3", "-u", mountpoint.path], timeout: .seconds(15))
                #expect(unmount.succeeded, "fusermount3 -u failed: \(unmount.summary)")
                #expect(
                    await MountTable.wait(until: false, mountpoint.path, timeout: .seconds(30)),
                    "still mounted 30 s after fusermount3 -u")
                let exited = try await eventually(within: .seconds(10)) {
                    BackgroundMount.processes(mentioning: mountpoint.path).isEmpty
                }
                #expect(exited, "the daemon kept running after its mount was gone\n\(log())")
            }
        }
    }
}
