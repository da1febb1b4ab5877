import Foundation
import Testing

extension MountTests {
    /// Extended attributes through the kernel: `user.*` stored in `x-amz-meta-xattr` in s3fs's format, the computed
    /// read-only `user.bucketfs.*`, and the refusals (ENOTSUP, EPERM, E2BIG, EEXIST, ENODATA).
    @Suite("Extended attributes")
    struct XattrMountTests {
        /// Sets, reads, lists and removes attributes of argv[1] with os.*xattr, recording errnos; prints JSON.
        static let exerciseScript = """
            import json, os, sys
            p = sys.argv[1]
            def err(f):
                try:
                    f()
                    return 0
                except OSError as e:
                    return e.errno
            out = {}
            os.setxattr(p, "user.color", b"blue")
            os.setxattr(p, "user.bin", bytes([0, 255, 10, 44, 34, 58]))
            out["create_existing"] = err(lambda: os.setxattr(p, "user.color", b"x", os.XATTR_CREATE))
            out["replace_missing"] = err(lambda: os.setxattr(p, "user.none", b"x", os.XATTR_REPLACE))
            out["get_missing"] = err(lambda: os.getxattr(p, "user.none"))
            out["remove_missing"] = err(lambda: os.removexattr(p, "user.none"))
            out["set_security"] = err(lambda: os.setxattr(p, "security.bucketfs-test", b"x"))
            out["set_trusted"] = err(lambda: os.setxattr(p, "trusted.bucketfs-test", b"x"))
            out["set_etag"] = err(lambda: os.setxattr(p, "user.bucketfs.etag", b"x"))
            out["remove_upload"] = err(lambda: os.removexattr(p, "user.bucketfs.upload"))
            out["set_too_big"] = err(lambda: os.setxattr(p, "user.big", b"x" * 3000))
            os.setxattr(p, "user.gone", b"1")
            os.removexattr(p, "user.gone")
            out["get_removed"] = err(lambda: os.getxattr(p, "user.gone"))
            out["list"] = sorted(os.listxattr(p))
            out["color"] = os.getxattr(p, "user.color").decode()
            out["bin"] = os.getxattr(p, "user.bin").hex()
            out["upload"] = os.getxattr(p, "user.bucketfs.upload").decode()
            out["etag"] = os.getxattr(p, "user.bucketfs.etag").decode()
            print(json.dumps(out))
            """

        struct Exercise: Decodable {
            let createExisting, replaceMissing, getMissing, removeMissing: Int32
            let setSecurity, setTrusted, setEtag, removeUpload, setTooBig, getRemoved: Int32
            let list: [String]
            let color, bin, upload, etag: String

            enum CodingKeys: String, CodingKey {
                case createExisting = "create_existing"
                case replaceMissing = "replace_missing"
                case getMissing = "get_missing"
                case removeMissing = "remove_missing"
                case setSecurity = "set_security"
                case setTrusted = "set_trusted"
                case setEtag = "set_etag"
                case removeUpload = "remove_upload"
                case setTooBig = "set_too_big"
                case getRemoved = "get_removed"
                case list, color, bin, upload, etag
            }
        }

        /// An object's ETag (unquoted) and its `x-amz-meta-xattr`, decoded as s3fs does, through the S3 API.
        struct Remote: Decodable {
            let etag: String
            let raw: String?
            /// Attribute name to hex of the value.
            let xattr: [String: String]
        }

        static let remoteScript =
            TestBucket.clientPreamble + """
                import base64, json, sys, urllib.parse
                r = client.head_object(Bucket=bucket, Key=sys.argv[1])
                raw = r["Metadata"].get("xattr")
                decoded = json.loads(urllib.parse.unquote(raw)) if raw else {}
                print(json.dumps({"etag": r["ETag"].strip('"'), "raw": raw,
                                  "xattr": {k: base64.b64decode(v).hex() for k, v in decoded.items()}}))
                """

        static func remote(_ key: String, in fixture: MountFixture) async throws -> Remote {
            let result = try await Command.python(
                remoteScript, [fixture.prefix + key], environment: fixture.bucket.clientEnvironment)
            guard result.succeeded else { throw SeedingError.failed(result.summary) }
            return try JSONDecoder().decode(Remote.self, from: result.stdout)
        }

        static func getfattr(_ name: String, _ path: String, in mount: Mount) async throws -> String {
            let result = try await Command.run(["getfattr", "--absolute-names", "--only-values", "-n", name, path])
            try mount.check(result)
            return String(decoding: result.stdout, as: UTF8.self)
        }

        @Test(
            "set, get, list and remove with the POSIX errnos; stored in s3fs's format; kept across a remount",
            .timeLimit(.minutes(4)))
        func roundTrip() async {
            await MountFixture.run { fixture in
                try await fixture.bucket.put("file.txt", Data("contents\n".utf8))
                let mount = try await fixture.mount()
                let result = try await Command.python(
                    Self.exerciseScript, [mount.path("file.txt")], timeout: .seconds(120))
                try mount.check(result)
                let e = try JSONDecoder().decode(Exercise.self, from: result.stdout)
                #expect(e.createExisting == EEXIST && e.replaceMissing == ENODATA)
                #expect(e.getMissing == ENODATA && e.removeMissing == ENODATA && e.getRemoved == ENODATA)
                #expect(e.setSecurity == ENOTSUP && e.setTrusted == ENOTSUP, "other namespaces: ENOTSUP")
                #expect(e.setEtag == EPERM && e.removeUpload == EPERM, "user.bucketfs.* is read-only")
                #expect(e.setTooBig == E2BIG, "past S3's 2 KiB of user metadata")
                #expect(e.list == ["user.bin", "user.color"], "user.bucketfs.* are readable by name, never listed")
                #expect(e.color == "blue" && e.bin == "00ff0a2c223a")
                #expect(e.upload == "uploaded")

                let remote = try await Self.remote("file.txt", in: fixture)
                #expect(
                    remote.xattr == ["user.color": "626c7565", "user.bin": "00ff0a2c223a"],
                    "raw: \(String(describing: remote.raw))")
                #expect(remote.raw?.hasPrefix("%7B%22user.bin%22%3A%22") == true, "URL-encoded JSON, names in order")
                #expect(e.etag == remote.etag, "user.bucketfs.etag is the object's ETag")
                #expect(try await mount.contents(of: "file.txt") == Data("contents\n".utf8))

                await mount.unmountAndReap()
                let again = try await fixture.mount(name: "remount")
                #expect(try await Self.getfattr("user.color", again.path("file.txt"), in: again) == "blue")
                let set = try await Command.run([
                    "setfattr", "-n", "user.tool", "-v", "setfattr", again.path("file.txt"),
                ])
                try again.check(set)
                #expect(try await Self.getfattr("user.tool", again.path("file.txt"), in: again) == "setfattr")
            }
        }

        @Test("an object written through the S3 API with s3fs-format x-amz-meta-xattr shows its attributes")
        func s3fsObject() async {
            await MountFixture.run { fixture in
                try await fixture.bucket.put(
                    "from-s3fs", Data("x".utf8),
                    metadata: ["xattr": "%7B%22user.foo%22%3A%22YmFy%22%2C%22user.n%22%3A%22NTY3OA%3D%3D%22%7D"])
                try await fixture.bucket.put("malformed", Data("y".utf8), metadata: ["xattr": "not-json"])
                let mount = try await fixture.mount()
                #expect(try await Self.getfattr("user.foo", mount.path("from-s3fs"), in: mount) == "bar")
                #expect(try await Self.getfattr("user.n", mount.path("from-s3fs"), in: mount) == "5678")
                let listing = try await Command.run(["getfattr", "--absolute-names", "-d", mount.path("malformed")])
                try mount.check(listing)
                let text = String(decoding: listing.stdout, as: UTF8.self)
                #expect(!text.contains("user."), "malformed xattr metadata listed attributes: \(text)")
                #expect(try await Self.getfattr("user.bucketfs.upload", mount.path("malformed"), in: mount) == "uploaded")
            }
        }

        @Test("a file written through the mount: attributes set while open go up with it; uploaded after sync")
        func pendingFile() async {
            await MountFixture.run { fixture in
                let mount = try await fixture.mount()
                let script = """
                    import os, sys
                    p = sys.argv[1]
                    with open(p, "wb") as f:
                        f.write(b"new data")
                        os.setxattr(p, "user.written", b"while open")
                        print(os.getxattr(p, "user.bucketfs.upload").decode())
                    """
                let result = try await Command.python(script, [mount.path("new.txt")])
                try mount.check(result)
                #expect(String(decoding: result.stdout, as: UTF8.self) == "pending\n")
                try await mount.fsync(["new.txt"])
                #expect(try await Self.getfattr("user.bucketfs.upload", mount.path("new.txt"), in: mount) == "uploaded")
                let remote = try await Self.remote("new.txt", in: fixture)
                #expect(
                    remote.xattr == [
                        "user.written": Data("while open".utf8).map { String(format: "%02x", $0) }.joined()
                    ])
                #expect(try await Self.getfattr("user.bucketfs.etag", mount.path("new.txt"), in: mount) == remote.etag)
            }
        }
    }
}
