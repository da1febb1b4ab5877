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
}
