import Foundation
import Testing

extension MountTests {
    /// `bucketfs sync PATH...`.
    @Suite("bucketfs sync")
    struct SyncCommandTests {
        @Test("bucketfs sync returns once everything written below the path is in the bucket; outside a mount it fails with one line", .timeLimit(.minutes(5)))
        func syncWaitsForUploads() async {
            await MountFixture.run { fixture in
                let local = fixture.scratch.appendingPathComponent("forty")
                try await Reference.writeRandomFile(size: 40 << 20, seed: 40, to: local)
                let digest = try await Reference.sha256(of: local)
                let mount = try await fixture.mount()
                _ = try await WriteTests.shell(
                    "mkdir \"$1/sub\" && cp \"$0\" \"$1/sub/forty\" && echo small > \"$1/sub/small\"",
                    [local.path, mount.path()], on: mount)
                let sync = try await Command.run(
                    [fixture.environment.binary, "sync", mount.path("sub"), mount.path()], timeout: .seconds(300))
                try mount.check(sync)
                // No waiting here: sync's return is the promise.
                let stored = try await fixture.bucket.stored(["sub/forty", "sub/small"])
                #expect((stored["sub/forty"] ?? nil)?.sha256 == digest, "sub/forty is not all in the bucket after sync")
                #expect((stored["sub/small"] ?? nil)?.size == 6, "sub/small is not in the bucket after sync")

                let outside = try await Command.run([fixture.environment.binary, "sync", fixture.scratch.path], timeout: .seconds(30))
                #expect(outside.status == 1, "\(outside.summary)")
                let lines = String(decoding: outside.stderr, as: UTF8.self).split(separator: "\n")
                #expect(lines.count == 1 && lines.first?.contains("not inside a bucketfs mount") == true, "\(outside.summary)")
            }
        }
    }
}
