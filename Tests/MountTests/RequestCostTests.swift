import Foundation
import Testing

extension MountTests {
    /// What a read costs in S3 requests, counted by the server.
    @Suite("Request cost")
    struct RequestCostTests {
        @Test(
            "a sequential read of a 64 MiB object on a fresh mount costs between 1 and 12 GETs",
            .enabled(if: MountTestEnvironment.current?.metricsURL != nil, "BUCKETFS_TEST_METRICS is not set"),
            .timeLimit(.minutes(5)))
        func sequentialReadCost() async {
            await MountFixture.run { fixture in
                let metrics = try #require(fixture.environment.metricsURL)
                let local = fixture.scratch.appendingPathComponent("sixty-four-mib")
                try await Reference.writeRandomFile(size: 64 << 20, seed: 64, to: local)
                try await fixture.bucket.put([SeedObject("sixty-four-mib", .file(local))])
                let mount = try await fixture.mount()
                let before = try await RequestCounts.read(bucket: fixture.environment.bucket, from: metrics)
                let digest = try await mount.sha256ThroughCat("sixty-four-mib")
                let spent = try await RequestCounts.read(bucket: fixture.environment.bucket, from: metrics) - before
                #expect(digest == (try await Reference.sha256(of: local)), "the read returned different bytes")
                // SeaweedFS counts HEAD as GET, so the lookup's HEAD is inside this budget too.
                #expect(
                    (1...12).contains(spent["GET"]),
                    "reading 64 MiB cost \(spent["GET"]) GETs (all requests: \(spent))\n\(mount.logTail)")
            }
        }
    }
}
