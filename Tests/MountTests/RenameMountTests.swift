import Foundation
import Glibc
import Testing

extension MountTests {
    /// rename(2) through the mount: files (one copy, one delete), directory trees (server-side, crash-safe).
    @Suite("Rename")
    struct RenameMountTests {
        /// Puts `count` objects under `PREFIX dir/` (in folders `d0`…`d9`, some deeper) whose bodies follow from their
        /// names, 16 at a time; argv: prefix, dir, count.
        static let seedTreeScript = TestBucket.clientPreamble + """
            import sys
            from concurrent.futures import ThreadPoolExecutor
            prefix, top, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
            def name(i):
                return f"d{i % 10}/" + ("deep/er/" if i % 7 == 0 else "") + f"file-{i:05d}"
            def body(rel):
                return (rel + "\\n").encode() * (1 + len(rel) * 7 % 300)
            def put(i):
                client.put_object(Bucket=bucket, Key=f"{prefix}{top}/{name(i)}", Body=body(name(i)))
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(put, range(count)))
            """

        /// Compares the objects under `PREFIX dir/` (markers aside) with the seeded tree: prints JSON {"missing",
        /// "wrong", "extra", "duplicates"} (names relative to dir); argv: prefix, dir, count.
        static let checkTreeScript = TestBucket.clientPreamble + """
            import json, sys
            from concurrent.futures import ThreadPoolExecutor
            prefix, top, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
            def name(i):
                return f"d{i % 10}/" + ("deep/er/" if i % 7 == 0 else "") + f"file-{i:05d}"
            def body(rel):
                return (rel + "\\n").encode() * (1 + len(rel) * 7 % 300)
            base = f"{prefix}{top}/"
            found = []
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=base):
                # Directory markers (keys ending in /) may be there or not, depending on the server.
                found += [item["Key"][len(base):] for item in page.get("Contents", []) if not item["Key"].endswith("/")]
            expected = {name(i) for i in range(count)}
            def wrong(rel):
                return client.get_object(Bucket=bucket, Key=base + rel)["Body"].read() != body(rel)
            with ThreadPoolExecutor(16) as pool:
                bad = [rel for rel, w in zip(sorted(expected & set(found)), pool.map(wrong, sorted(expected & set(found)))) if w]
            print(json.dumps({"missing": sorted(expected - set(found)), "wrong": bad,
                              "extra": sorted(set(found) - expected), "duplicates": len(found) - len(set(found))}))
            """

        struct TreeCheck: Decodable {
            let missing: [String]
            let wrong: [String]
            let extra: [String]
            let duplicates: Int

            var summary: String {
                "missing \(missing.count) (\(missing.prefix(5))), wrong \(wrong.count) (\(wrong.prefix(5))), "
                    + "extra \(extra.count) (\(extra.prefix(5))), listed twice \(duplicates)"
            }
        }

        static func seedTree(_ fixture: MountFixture, _ dir: String, count: Int) async throws {
            let result = try await Command.python(
                seedTreeScript, [fixture.prefix, dir, "\(count)"], environment: fixture.bucket.clientEnvironment,
                timeout: .seconds(600))
            guard result.succeeded else { throw SeedingError.failed(result.summary) }
        }

        static func checkTree(_ fixture: MountFixture, _ dir: String, count: Int) async throws -> TreeCheck {
            let result = try await Command.python(
                checkTreeScript, [fixture.prefix, dir, "\(count)"], environment: fixture.bucket.clientEnvironment,
                timeout: .seconds(600))
            guard result.succeeded else { throw SeedingError.failed(result.summary) }
            return try JSONDecoder().decode(TreeCheck.self, from: result.stdout)
        }

        @Test(
            "mv of a 1,000-file tree moves every key server-side byte-exact; rm -rf of it leaves nothing",
            .timeLimit(.minutes(10)))
        func moveAndRemoveTree() async {
            await MountFixture.run { fixture in
                try await Self.seedTree(fixture, "tree", count: 1000)
                let mount = try await fixture.mount()
                _ = try await WriteTests.shell("mkdir \"$0/tree/empty\"", [mount.path()], on: mount)
                let findBefore = try await mount.findPaths("tree")
                _ = try await WriteTests.shell("mv \"$0/tree\" \"$0/moved\"", [mount.path()], on: mount)
                let check = try await Self.checkTree(fixture, "moved", count: 1000)
                #expect(
                    check.missing.isEmpty && check.wrong.isEmpty && check.extra.isEmpty && check.duplicates == 0,
                    "after mv: \(check.summary)\n\(mount.logTail)")
                let keys = try await fixture.bucket.keys()
                #expect(!keys.contains { $0.hasPrefix("tree/") }, "keys left under tree/: \(keys.filter { $0.hasPrefix("tree/") }.prefix(5))")
                #expect(!keys.contains { $0.hasPrefix(".bucketfs/") }, "the rename intent was left in the bucket")
                let log = (try? String(contentsOf: mount.logFile, encoding: .utf8)) ?? ""
                #expect(log.contains("directory renamed"), "no \"directory renamed\" line: mv did not rename server-side")
                // The mount shows the same tree under the new name, and nothing under the old one.
                let findAfter = try await mount.findPaths("moved")
                #expect(findAfter.count == findBefore.count, "find lists \(findAfter.count) paths under moved, \(findBefore.count) were under tree")
                // An empty directory moves too, and is still there for a fresh mount.
                let fresh = try await fixture.mount(name: "fresh")
                #expect(try await fresh.names(in: "moved").contains("empty"), "moved/empty is gone\n\(mount.logTail)")
                await fresh.unmountAndReap()
                let rootNames = try await mount.names()
                #expect(rootNames == ["moved"], "the mount root shows \(rootNames) after mv")
                _ = try await WriteTests.shell("rm -rf \"$0/moved\"", [mount.path()], on: mount)
                let left = try await fixture.bucket.keys()
                #expect(left.isEmpty, "rm -rf left \(left.count) keys: \(left.prefix(5))")
                let finalNames = try await mount.names()
                #expect(finalNames.isEmpty, "the mount root shows \(finalNames) after rm -rf")
            }
        }

        @Test(
            "renaming a file costs one copy and one delete whatever its size, and a reader's open fd keeps reading",
            .enabled(if: MountTestEnvironment.current?.metricsURL != nil, "BUCKETFS_TEST_METRICS is not set"),
            .timeLimit(.minutes(10)))
        func fileRenameCost() async {
            await MountFixture.run { fixture in
                let metrics = try #require(fixture.environment.metricsURL)
                let big = fixture.scratch.appendingPathComponent("big")
                try await Reference.writeRandomFile(size: 100 << 20, seed: 5, to: big)
                let digest = try await Reference.sha256(of: big)
                try await fixture.bucket.put([
                    SeedObject("small", .bytes(Data("small file".utf8)), metadata: ["mode": "33152"]),
                    SeedObject("big", .file(big)),
                ])
                let mount = try await fixture.mount()
                _ = try await mount.names()
                for name in ["small", "big"] {
                    _ = try await mount.size(of: name)  // the lookups, before counting
                    let before = try await RequestCounts.read(bucket: fixture.environment.bucket, from: metrics)
                    _ = try await WriteTests.shell("mv \"$0/$1\" \"$0/$1.renamed\"", [mount.path(), name], on: mount)
                    let spent = try await RequestCounts.read(bucket: fixture.environment.bucket, from: metrics) - before
                    #expect(spent["COPY"] == 1, "mv of \(name) cost \(spent)\n\(mount.logTail)")
                    #expect(spent["DELETE"] == 1, "mv of \(name) cost \(spent)")
                    #expect(spent["PUT"] == 0 && spent["POST"] == 0, "mv of \(name) uploaded data: \(spent)")
                }
                let stored = try await fixture.bucket.stored(["small", "small.renamed", "big", "big.renamed"])
                #expect((stored["small"] ?? nil) == nil && (stored["big"] ?? nil) == nil)
                #expect((stored["big.renamed"] ?? nil)?.sha256 == digest)
                #expect((stored["small.renamed"] ?? nil)?.metadata["mode"] == "33152", "metadata lost in the rename")

                // A reader holding the file open while it is renamed reads it to the end.
                let script = """
                    import hashlib, os, sys
                    f = open(sys.argv[1], "rb")
                    first = f.read(1 << 20)
                    os.rename(sys.argv[1], sys.argv[2])
                    digest = hashlib.sha256(first)
                    while chunk := f.read(1 << 20):
                        digest.update(chunk)
                    print(digest.hexdigest())
                    """
                let reader = try await Command.python(
                    script, [mount.path("big.renamed"), mount.path("big.again")], timeout: .seconds(300))
                try mount.check(reader)
                #expect(reader.output.trimmingCharacters(in: .whitespacesAndNewlines) == digest)
            }
        }

        @Test(
            "kill -9 in the middle of a directory rename: the next mount finishes it, every file present once, byte-exact",
            .timeLimit(.minutes(10)))
        func crashDuringDirectoryRename() async {
            await MountFixture.run { fixture in
                let count = 3000
                try await Self.seedTree(fixture, "before", count: count)
                let doomed = try await fixture.mount(name: "doomed")
                doomed.expectDeath()
                _ = try await doomed.names()
                async let mv = Command.run(["mv", doomed.path("before"), doomed.path("after")], timeout: .seconds(300))
                // Killed once the move is under way: some keys are at the new name, most still at the old one.
                let started = try await eventually(within: .seconds(60)) {
                    let keys = try await fixture.bucket.keys()
                    return keys.contains { $0.hasPrefix("after/") }
                }
                kill(doomed.pid, SIGKILL)
                _ = try await mv
                try await doomed.detachAfterKill()
                #expect(started, "the rename never started moving keys\n\(doomed.logTail)")
                let keys = try await fixture.bucket.keys()
                let left = keys.filter { $0.hasPrefix("before/") }.count
                #expect(
                    left > 0 && keys.contains { $0.hasPrefix(".bucketfs/renames/") },
                    "the rename finished before the kill (\(left) keys left), so the test did not exercise recovery")

                let revived = try await fixture.mount(name: "revived")
                let check = try await Self.checkTree(fixture, "after", count: count)
                #expect(
                    check.missing.isEmpty && check.wrong.isEmpty && check.extra.isEmpty && check.duplicates == 0,
                    "after the next mount: \(check.summary)\n\(revived.logTail)")
                let after = try await fixture.bucket.keys()
                #expect(!after.contains { $0.hasPrefix("before/") }, "keys left under before/")
                #expect(!after.contains { $0.hasPrefix(".bucketfs/") }, "the intent was not removed")
                let log = (try? String(contentsOf: revived.logFile, encoding: .utf8)) ?? ""
                #expect(log.contains("interrupted directory rename finished"), "\(revived.logTail)")
                let names = try await revived.names()
                #expect(names == ["after"], "the new mount shows \(names)")
            }
        }
    }
}
