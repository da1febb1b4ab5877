import Foundation
import Testing

extension MountTests {
    /// Listing big directories without a HEAD per file, through the per-directory metadata index.
    @Suite("Metadata index")
    struct MetadataIndexTests {
        /// Writes `count` files `NAME-00000`… (10 to 99 bytes, mode 0600 or 0640, mtimes a second apart) into a
        /// folder, then fsyncs the folder (bucketfs waits for every upload below it); argv: folder, count.
        static let writeFilesScript = """
            import os, sys
            folder, count = sys.argv[1], int(sys.argv[2])
            os.makedirs(folder, exist_ok=True)
            for i in range(count):
                path = os.path.join(folder, f"file-{i:05d}")
                with open(path, "wb") as f:
                    f.write(bytes([65 + i % 26]) * (10 + i % 90))
                os.chmod(path, 0o600 if i % 2 else 0o640)
                os.utime(path, (1_600_000_000 + i, 1_600_000_000 + i))
            fd = os.open(folder, os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            """

        /// `ls -l --time-style=+%s` as (name, mode string, size, mtime) per file.
        static func longListing(_ mount: Mount, _ folder: String) async throws -> [String: String] {
            let result = try await Command.run(
                ["ls", "-l", "--time-style=+%s", mount.path(folder)], timeout: .seconds(300))
            try mount.check(result)
            var out: [String: String] = [:]
            for line in result.output.split(separator: "\n") where !line.hasPrefix("total") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 7 else { continue }
                out[String(fields[6])] = "\(fields[0]) \(fields[4]) \(fields[5])"
            }
            return out
        }

        @Test(
            "after the first pass, ls -l and find -newer of 10,000 files written through bucketfs cost under 200 requests each",
            .enabled(if: MountTestEnvironment.current?.metricsURL != nil, "BUCKETFS_TEST_METRICS is not set"),
            .timeLimit(.minutes(15)))
        func bigDirectoryCost() async {
            await MountFixture.run { fixture in
                let metrics = try #require(fixture.environment.metricsURL)
                let count = 10_000
                let writer = try await fixture.mount(name: "writer")
                let wrote = try await Command.python(
                    Self.writeFilesScript, [writer.path("big"), "\(count)"], timeout: .seconds(900))
                try writer.check(wrote)
                let expected = try await Self.longListing(writer, "big")
                #expect(expected.count == count)
                #expect(expected["file-00007"] == "-rw------- 17 1600000007", "\(expected["file-00007"] ?? "missing")")
                // Unmounting writes what indexes are still due.
                await writer.unmountAndReap()

                let reader = try await fixture.mount(name: "reader")
                _ = try await reader.names()
                let before = try await RequestCounts.read(bucket: fixture.environment.bucket, from: metrics)
                let listed = try await Self.longListing(reader, "big")
                let spent = try await RequestCounts.read(bucket: fixture.environment.bucket, from: metrics) - before
                #expect(listed == expected, "a fresh mount's ls -l differs from the writer's")
                let total = spent.byType.values.reduce(0, +)
                #expect(total <= 200, "ls -l of \(count) files cost \(total) requests: \(spent)\n\(reader.logTail)")
                await reader.unmountAndReap()

                let finder = try await fixture.mount(name: "finder")
                _ = try await finder.names()
                let beforeFind = try await RequestCounts.read(bucket: fixture.environment.bucket, from: metrics)
                let found = try await Command.run(
                    ["find", finder.path("big"), "-type", "f", "-newer", finder.path("big/file-09989")],
                    timeout: .seconds(300))
                try finder.check(found)
                let spentFind = try await RequestCounts.read(bucket: fixture.environment.bucket, from: metrics) - beforeFind
                let newer = found.output.split(separator: "\n").map { String($0.split(separator: "/").last!) }.sorted()
                #expect(newer == (9990..<count).map { String(format: "file-%05d", $0) }, "find -newer found \(newer)")
                let findTotal = spentFind.byType.values.reduce(0, +)
                #expect(findTotal <= 200, "find -newer cost \(findTotal) requests: \(spentFind)\n\(finder.logTail)")
            }
        }

        @Test(
            "an indexed file changed through the S3 API (new size, new mtime metadata) shows its new attributes",
            .timeLimit(.minutes(5)))
        func indexedFileChangedRemotely() async {
            await MountFixture.run { fixture in
                let writer = try await fixture.mount(name: "writer")
                try writer.check(
                    try await Command.python(Self.writeFilesScript, [writer.path("dir"), "40"], timeout: .seconds(300)))
                _ = try await Self.longListing(writer, "dir")
                await writer.unmountAndReap()
                // Another client replaces one file with new bytes and s3fs metadata, and adds one.
                try await fixture.bucket.put([
                    SeedObject(
                        "dir/file-00003", .bytes(Data(repeating: 0x5a, count: 777)),
                        metadata: ["mode": "\(0o100644)", "mtime": "1700000000"]),
                    SeedObject("dir/extra", .bytes(Data("new".utf8)), metadata: ["mode": "\(0o100600)", "mtime": "1700000001"]),
                ])
                let reader = try await fixture.mount(name: "reader")
                let listed = try await Self.longListing(reader, "dir")
                #expect(listed["file-00003"] == "-rw-r--r-- 777 1700000000", "\(listed["file-00003"] ?? "missing")")
                #expect(listed["extra"] == "-rw------- 3 1700000001")
                #expect(listed["file-00004"] == "-rw-r----- 14 1600000004")
                #expect(listed.count == 41)
            }
        }
    }
}
