import Foundation
import Testing

extension MountTests {
    /// Changes made by another S3 client while mounted.
    @Suite("Another client's changes")
    struct RemoteChangeTests {
        @Test(
            "with --metadata-ttl 1 objects created, deleted or replaced through the S3 API show within seconds",
            .timeLimit(.minutes(2)))
        func remoteChangesBecomeVisible() async {
            await MountFixture.run { fixture in
                try await fixture.bucket.put([
                    SeedObject("keep.txt", .bytes(Data("kept\n".utf8))),
                    SeedObject("doomed.txt", .bytes(Data("deleted soon\n".utf8))),
                    SeedObject("grows.txt", .bytes(Data("ten bytes\n".utf8))),
                ])
                let mount = try await fixture.mount(["--metadata-ttl", "1"])
                #expect(try await mount.names().sorted() == ["doomed.txt", "grows.txt", "keep.txt"])
                #expect(try await mount.size(of: "grows.txt") == 10)
                #expect(try await mount.size(of: "new.txt") == nil, "new.txt exists before it was created")

                let grown = Data(repeating: UInt8(ascii: "g"), count: 1000)
                try await fixture.bucket.put("new.txt", Data("created remotely\n".utf8))
                try await fixture.bucket.delete("doomed.txt")
                try await fixture.bucket.put("grows.txt", grown)

                // "~2 s" with a TTL of 1 s; the bound only keeps a broken mount from hanging the test.
                let bound = Duration.seconds(10)
                let listed = try await eventually(within: bound) {
                    try await mount.names().sorted() == ["grows.txt", "keep.txt", "new.txt"]
                }
                let names = try await mount.names().sorted()
                #expect(listed, "the listing did not follow the changes: \(names)\n\(mount.logTail)")
                #expect(
                    try await eventually(within: bound) { try await mount.size(of: "doomed.txt") == nil },
                    "doomed.txt is still there after its deletion")
                #expect(
                    try await eventually(within: bound) {
                        try await mount.contents(of: "new.txt") == Data("created remotely\n".utf8)
                    }, "new.txt did not appear")
                let resized = try await eventually(within: bound) { try await mount.size(of: "grows.txt") == 1000 }
                let size = try await mount.size(of: "grows.txt")
                #expect(resized, "grows.txt shows size \(size.map(String.init) ?? "none") instead of 1000")
                #expect(try await mount.contents(of: "grows.txt") == grown, "grows.txt reads the old bytes")
            }
        }
    }
}
