import Foundation
import Testing

extension MountTests {
    /// Which part of the bucket a mount shows, and what it refuses.
    @Suite("Sub-tree and read-only mounts")
    struct SubtreeAndReadOnlyTests {
        @Test(
            "BUCKET:PREFIX mounts only the keys under that prefix", .timeLimit(.minutes(2)),
            arguments: ["sub", "sub/"])
        func prefixMountShowsOnlyTheSubtree(_ subPrefix: String) async {
            await MountFixture.run { fixture in
                try await fixture.bucket.put([
                    SeedObject("outside.txt", .bytes(Data("outside\n".utf8))),
                    SeedObject("sub/inside.txt", .bytes(Data("inside\n".utf8))),
                    SeedObject("sub/deeper/deep.txt", .bytes(Data("deep\n".utf8))),
                    SeedObject("subway/not-this.txt", .bytes(Data("a neighbouring prefix\n".utf8))),
                ])
                let mount = try await fixture.mount(subPrefix: subPrefix)
                let paths = try await mount.findPaths()
                #expect(
                    Set(paths) == ["inside.txt", "deeper", "deeper/deep.txt"],
                    "find of a \(subPrefix) mount listed \(paths.sorted())\n\(mount.logTail)")
                #expect(try await mount.contents(of: "deeper/deep.txt") == Data("deep\n".utf8))
            }
        }

        static let refusals = """
            import errno, os, sys
            root = sys.argv[1]
            def code(action):
                try:
                    action()
                    return "succeeded"
                except OSError as e:
                    return errno.errorcode.get(e.errno, str(e.errno))
            results = {
                "create": code(lambda: os.open(os.path.join(root, "new.txt"), os.O_CREAT | os.O_WRONLY, 0o644)),
                "open for writing": code(lambda: os.open(os.path.join(root, "existing.txt"), os.O_WRONLY)),
                "mkdir": code(lambda: os.mkdir(os.path.join(root, "folder"))),
                "unlink": code(lambda: os.unlink(os.path.join(root, "existing.txt"))),
                "statvfs ST_RDONLY": "EROFS" if os.statvfs(root).f_flag & os.ST_RDONLY else "flag missing",
            }
            wrong = {k: v for k, v in results.items() if v != "EROFS"}
            print(wrong or "all EROFS")
            sys.exit(1 if wrong else 0)
            """

        @Test(
            "a read-only mount refuses touch and every other change with EROFS", .timeLimit(.minutes(2)),
            arguments: [["--read-only"], ["-o", "ro"]])
        func readOnlyMountRefusesWrites(_ option: [String]) async {
            await MountFixture.run { fixture in
                try await fixture.bucket.put("existing.txt", Data("keep me\n".utf8))
                let mount = try await fixture.mount(option)
                let touch = try await Command.run(["touch", mount.path("new.txt")], timeout: .seconds(30))
                #expect(
                    !touch.succeeded && touch.errors.contains("Read-only file system"),
                    "touch on a \(option.joined(separator: " ")) mount: \(touch.summary)")
                let refusals = try await Command.python(Self.refusals, [mount.path()], timeout: .seconds(60))
                #expect(refusals.succeeded, "not refused with EROFS: \(refusals.summary)\n\(mount.logTail)")
                #expect(try await mount.contents(of: "existing.txt") == Data("keep me\n".utf8))
                #expect(try await fixture.bucket.keys() == ["existing.txt"], "a read-only mount changed the bucket")
            }
        }
    }
}
