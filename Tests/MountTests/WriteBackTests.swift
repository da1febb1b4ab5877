import Foundation
import Testing

extension MountTests {
    /// Files written through the mount, checked where it matters: in the bucket, through the S3 API.
    @Suite("Write-back")
    struct WriteBackTests {
        /// SHA-256 (streamed) and user metadata of each key, or null for a missing key, as JSON.
        static let objectScript = TestBucket.clientPreamble + """
            import hashlib, json, sys
            out = {}
            for key in sys.argv[1:]:
                try:
                    response = client.get_object(Bucket=bucket, Key=key)
                except client.exceptions.NoSuchKey:
                    out[key] = None
                    continue
                digest = hashlib.sha256()
                for chunk in response["Body"].iter_chunks(1 << 20):
                    digest.update(chunk)
                out[key] = {"sha256": digest.hexdigest(), "metadata": response.get("Metadata", {})}
            print(json.dumps(out))
            """

        struct StoredObject: Decodable {
            let sha256: String
            let metadata: [String: String]
        }

        static func objects(_ keys: [String], in fixture: MountFixture) async throws -> [String: StoredObject?] {
            let full = keys.map { fixture.prefix + $0 }
            let result = try await Command.python(
                objectScript, full, environment: fixture.bucket.clientEnvironment, timeout: .seconds(300))
            guard result.succeeded else { throw SeedingError.failed(result.summary) }
            let decoded = try JSONDecoder().decode([String: StoredObject?].self, from: result.stdout)
            return Dictionary(uniqueKeysWithValues: keys.map { ($0, decoded[fixture.prefix + $0] ?? nil) })
        }

        @Test(
            "cp of files from 0 bytes to 1 GiB lands in the bucket byte-exact, with mode and mtime metadata",
            .timeLimit(.minutes(10)))
        func copiedFilesLandByteExact() async {
            await MountFixture.run { fixture in
                let sizes = [0, 1, 4096, (8 << 20) + 1, 40 << 20, 1 << 30]
                let sources = try fixture.directory("sources")
                var digests: [String: String] = [:]
                for (index, size) in sizes.enumerated() {
                    let url = sources.appendingPathComponent("file-\(size)")
                    try await Reference.writeRandomFile(size: size, seed: 300 + index, to: url)
                    digests["file-\(size)"] = try await Reference.sha256(of: url)
                }
                let mount = try await fixture.mount()
                let copy = try await Command.run(
                    ["sh", "-c", "cp \"$0\"/file-* \"$1\"/ && chmod 0640 \"$1\"/file-1", sources.path, mount.path()],
                    timeout: .seconds(300))
                try mount.check(copy)
                // Read-your-writes before the upload is done: the sizes show at once.
                for size in sizes {
                    #expect(try await mount.size(of: "file-\(size)") == size, "size of file-\(size) after cp")
                }
                await mount.unmountAndReap()  // unmount uploads everything pending first
                let stored = try await Self.objects(digests.keys.sorted(), in: fixture)
                for (name, digest) in digests {
                    let object = stored[name] ?? nil
                    #expect(object?.sha256 == digest, "\(name) in the bucket differs from what cp wrote\n\(mount.logTail)")
                }
                let small = stored["file-1"] ?? nil
                #expect(small?.metadata["mode"] == String(0o100640), "x-amz-meta-mode of file-1: \(String(describing: small?.metadata))")
                #expect(small?.metadata["mtime"]?.contains(".") == true, "x-amz-meta-mtime is seconds.nanoseconds")
            }
        }

        @Test(
            "chmod, chown and touch -d of an uploaded file survive a remount and show in its metadata",
            .timeLimit(.minutes(3)))
        func attributeChangesPersist() async {
            await MountFixture.run { fixture in
                try await fixture.bucket.put("plain.txt", Data("hello\n".utf8))
                let first = try await fixture.mount(name: "first")
                let change = try await Command.run(
                    ["sh", "-c", "chmod 0604 \"$0\" && chown 1234:2345 \"$0\" && touch -d '2020-02-03 04:05:06 UTC' \"$0\"",
                     first.path("plain.txt")], timeout: .seconds(60))
                try first.check(change)
                await first.unmountAndReap()
                let second = try await fixture.mount(name: "second")
                let status = try await MetadataTests.status(of: second.path("plain.txt"), in: second)
                #expect(status.mode == 0o604, "mode after remount: \(String(status.mode, radix: 8))")
                #expect(status.uid == 1234 && status.gid == 2345, "owner after remount: \(status.uid):\(status.gid)")
                #expect(status.mtimeNanoseconds / 1_000_000_000 == 1_580_702_706, "mtime after remount: \(status)")
                #expect(try await second.contents(of: "plain.txt") == Data("hello\n".utf8), "content kept")
                let stored = try await Self.objects(["plain.txt"], in: fixture)
                let metadata = (stored["plain.txt"] ?? nil)?.metadata ?? [:]
                #expect(metadata["uid"] == "1234" && metadata["gid"] == "2345", "metadata: \(metadata)")
            }
        }

        @Test(
            "data closed but not yet uploaded when the daemon is SIGKILLed is uploaded by the next mount",
            .timeLimit(.minutes(3)))
        func spoolSurvivesSigkill() async {
            await MountFixture.run { fixture in
                let source = fixture.scratch.appendingPathComponent("survivor")
                try await Reference.writeRandomFile(size: 3 << 20, seed: 77, to: source)
                let digest = try await Reference.sha256(of: source)
                let doomed = try await fixture.mount(name: "spool")
                doomed.expectDeath()
                // The upload starts 0.3 s after the last close; the kill comes right after cp returns.
                let crash = try await Command.run(
                    ["sh", "-c", "cp \"$0\" \"$1\" && kill -9 \"$2\"", source.path, doomed.path("survivor"), "\(doomed.pid)"],
                    timeout: .seconds(60))
                try doomed.check(crash)
                await doomed.unmountAndReap()
                let before = try await Self.objects(["survivor"], in: fixture)
                #expect((before["survivor"] ?? nil) == nil, "the upload beat the kill; the test proved nothing")
                // Same name, so the same --cache-dir: the new daemon finds the journal and uploads.
                let revived = try await fixture.mount(name: "spool")
                let arrived = try await eventually(within: .seconds(60)) {
                    (try await Self.objects(["survivor"], in: fixture)["survivor"] ?? nil)?.sha256 == digest
                }
                #expect(arrived, "the spooled file never reached the bucket intact\n\(revived.logTail)")
                #expect(try await revived.size(of: "survivor") == 3 << 20)
            }
        }
    }
}
