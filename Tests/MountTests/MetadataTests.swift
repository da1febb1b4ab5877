import Foundation
import Testing

extension MountTests {
    /// Ownership, permissions and times: s3fs-style `x-amz-meta-*` headers, else the mount's defaults.
    @Suite("Object metadata")
    struct MetadataTests {
        static let statScript = """
            import json, os, stat, sys
            s = os.stat(sys.argv[1])
            print(json.dumps({"regular": stat.S_ISREG(s.st_mode), "mode": stat.S_IMODE(s.st_mode),
                              "uid": s.st_uid, "gid": s.st_gid, "mtime_ns": s.st_mtime_ns}))
            """

        /// What `os.stat` reports for one file.
        struct Status: Decodable, Equatable {
            let regular: Bool
            let mode: Int
            let uid: Int
            let gid: Int
            let mtimeNanoseconds: Int

            enum CodingKeys: String, CodingKey {
                case regular, mode, uid, gid
                case mtimeNanoseconds = "mtime_ns"
            }
        }

        static func status(of path: String, in mount: Mount) async throws -> Status {
            let result = try await Command.python(statScript, [path], timeout: .seconds(60))
            try mount.check(result)
            return try JSONDecoder().decode(Status.self, from: result.stdout)
        }

        @Test(
            "s3fs-style mode, uid, gid and mtime metadata show in stat; objects without it get the mount's defaults",
            .timeLimit(.minutes(3)))
        func s3fsMetadata() async {
            await MountFixture.run { fixture in
                try await fixture.bucket.put(
                    "with-metadata", Data("owned\n".utf8),
                    metadata: ["mode": "33152", "uid": "1234", "gid": "5678", "mtime": "1700000000.5"])
                try await fixture.bucket.put("plain", Data("defaults\n".utf8))
                let mount = try await fixture.mount(["--uid", "4321", "--gid", "8765", "--file-mode", "0640"])

                let annotated = try await Self.status(of: mount.path("with-metadata"), in: mount)
                #expect(
                    annotated == Status(regular: true, mode: 0o600, uid: 1234, gid: 5678, mtimeNanoseconds: 1_700_000_000_500_000_000),
                    "stat of an object with s3fs metadata: \(annotated)\n\(mount.logTail)")

                let plain = try await Self.status(of: mount.path("plain"), in: mount)
                #expect(plain.regular && plain.mode == 0o640, "plain object mode \(String(plain.mode, radix: 8))")
                #expect(plain.uid == 4321 && plain.gid == 8765, "plain object owner \(plain.uid):\(plain.gid)")
            }
        }
    }

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
                    SeedObject(long, .bytes(Data("long file\n".utf8))),
                    SeedObject("long/\(long)/inside", .bytes(Data("under a long folder\n".utf8))),
                    SeedObject("ok.txt", .bytes(Data("fine\n".utf8))),
                ])
                let mount = try await fixture.mount()

                let listing = try await Command.run(["ls", "-laR", mount.path()], timeout: .seconds(60))
                #expect(listing.succeeded, "ls -laR of the mount failed: \(listing.summary)\n\(mount.logTail)")
                let found = try await Command.run(["find", mount.path()], timeout: .seconds(60))
                #expect(found.succeeded, "find over the mount failed: \(found.summary)\n\(mount.logTail)")
                let kind = try await Command.run(["stat", "-c", "%F", mount.path("x")], timeout: .seconds(30))
                #expect(kind.output.hasPrefix("directory"), "x should be a directory: \(kind.summary)")
                #expect(try await mount.contents(of: "x/y") == Data("y inside x\n".utf8), "x/y did not read back")
                #expect(
                    !(try await mount.names()).contains { $0.utf8.count > 255 },
                    "a name longer than NAME_MAX was listed")

                #expect(mount.isRunning && MountTable.isMounted(mount.path()), "the mount went away\n\(mount.logTail)")
                #expect(try await mount.contents(of: "ok.txt") == Data("fine\n".utf8), "the mount stopped serving")
            }
        }
    }

    /// An object replaced by another client under an open file handle.
    @Suite("Replaced objects")
    struct ReplacedObjectTests {
        static let replaceBetweenReads = TestBucket.clientPreamble + """
            import errno, sys
            mounted, key, old, new = sys.argv[1:5]
            original = open(old, "rb").read()
            fd = os.open(mounted, os.O_RDONLY)
            if os.pread(fd, 4096, 0) != original[:4096]:
                sys.exit("the first 4 KiB did not match the original object")
            client.upload_file(new, bucket, key)
            try:
                data = os.pread(fd, 4096, 24 << 20)
            except OSError as e:
                print(errno.errorcode.get(e.errno, e.errno))
                sys.exit(0 if e.errno == errno.ESTALE else 2)
            replacement = open(new, "rb").read()
            at = slice(24 << 20, (24 << 20) + 4096)
            which = "old" if data == original[at] else "new" if data == replacement[at] else "mixed"
            print(f"pread after the replacement returned {len(data)} bytes of the {which} object")
            sys.exit(3)
            """

        @Test("reading an object replaced through the S3 API after open fails with ESTALE, never mixes bytes",
              .timeLimit(.minutes(3)))
        func replacedObjectGivesESTALE() async {
            await MountFixture.run { fixture in
                let old = fixture.scratch.appendingPathComponent("old")
                let new = fixture.scratch.appendingPathComponent("new")
                try await Reference.writeRandomFile(size: 32 << 20, seed: 1, to: old)
                try await Reference.writeRandomFile(size: 32 << 20, seed: 2, to: new)
                try await fixture.bucket.put([SeedObject("replaced", .file(old))])
                let mount = try await fixture.mount()
                let result = try await Command.python(
                    Self.replaceBetweenReads, [mount.path("replaced"), fixture.prefix + "replaced", old.path, new.path],
                    environment: fixture.bucket.clientEnvironment, timeout: .seconds(120))
                #expect(result.succeeded, "expected ESTALE: \(result.summary)\n\(mount.logTail)")
            }
        }
    }
}
