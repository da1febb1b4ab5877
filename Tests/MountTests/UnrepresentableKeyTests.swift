import Foundation
import Testing

extension MountTests {
    /// Keys S3 allows but a path cannot spell.
    @Suite("Keys that cannot be paths")
    struct UnrepresentableKeyTests {
        @Test(
            "keys like a//b, a file shadowed by a folder and a 300-byte segment never crash the mount",
            .timeLimit(.minutes(3)))
        func unrepresentableKeys() async {
            await MountFixture.run { fixture in
                let long = String(repeating: "n", count: 300)
                try await fixture.bucket.put([
                    SeedObject("a//b", .bytes(Data("double slash\n".utf8))),
                    SeedObject("x", .bytes(Data("file x\n".utf8))),
                    SeedObject("x/y", .bytes(Data("y inside x\n".utf8))),
                    SeedObject(String(repeating: "m", count: 255), .bytes(Data("NAME_MAX exactly\n".utf8))),
                    SeedObject("ok.txt", .bytes(Data("fine\n".utf8))),
                ])
                do {
                    try await fixture.bucket.put([
                        SeedObject(long, .bytes(Data("long file\n".utf8))),
                        SeedObject("long/\(long)/inside", .bytes(Data("under a long folder\n".utf8))),
                    ])
                } catch let error as SeedingError where "\(error)".contains("KeyTooLongError") {
                    // Shown as a known issue, not skipped silently: the rest of the test still runs.
                    withKnownIssue("this S3 server refuses key segments over 255 bytes, so the 300-byte one is absent") {
                        throw error
                    }
                }
                let mount = try await fixture.mount()

                let listing = try await Command.run(["ls", "-laR", mount.path()], timeout: .seconds(60))
                #expect(listing.succeeded, "ls -laR of the mount failed: \(listing.summary)\n\(mount.logTail)")
                let found = try await Command.run(["find", mount.path()], timeout: .seconds(60))
                #expect(found.succeeded, "find over the mount failed: \(found.summary)\n\(mount.logTail)")
                let kind = try await Command.run(["stat", "-c", "%F", mount.path("x")], timeout: .seconds(30))
                #expect(kind.output.hasPrefix("directory"), "x should be a directory: \(kind.summary)")
                #expect(try await mount.contents(of: "x/y") == Data("y inside x\n".utf8), "x/y did not read back")
                let names = try await mount.names()
                #expect(!names.contains { $0.utf8.count > 255 }, "a name longer than NAME_MAX was listed")
                #expect(names.contains(String(repeating: "m", count: 255)), "a NAME_MAX name was not listed: \(names)")

                #expect(mount.isRunning && MountTable.isMounted(mount.path()), "the mount went away\n\(mount.logTail)")
                #expect(try await mount.contents(of: "ok.txt") == Data("fine\n".utf8), "the mount stopped serving")
            }
        }
    }
}
