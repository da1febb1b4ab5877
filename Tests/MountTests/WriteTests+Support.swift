import Foundation
import Testing

extension Mount {
    /// After the daemon was SIGKILLed: lazily detaches the dead mount (`fusermount3 -uz`) and waits until the
    /// process is gone and the kernel no longer lists the mount.
    func detachAfterKill() async throws {
        _ = try await Command.run(["fusermount3", "-uz", path()], timeout: .seconds(15))
        let gone = try await eventually(within: .seconds(15)) {
            !isRunning && !MountTable.isMounted(path())
        }
        guard gone else {
            throw ToolError.failed("the killed daemon's mount at \(path()) did not go away\n\(logTail)")
        }
    }

    /// `sync -- FILE...`: fsync(2) of each file, which returns once S3 acknowledged its upload.
    func fsync(_ relatives: [String], timeout: Duration = .seconds(600)) async throws {
        try check(try await Command.run(["sync", "--"] + relatives.map { path($0) }, timeout: timeout))
    }
}

/// One object as another S3 client reads it back: a streamed SHA-256 of its body, its size and user metadata.
struct StoredObject: Decodable, Sendable {
    let sha256: String
    let size: Int
    /// `x-amz-meta-*` headers without the prefix.
    let metadata: [String: String]

    /// The whole seconds of `x-amz-meta-mtime` (`seconds.nanoseconds`), if present and well formed.
    var mtimeSeconds: Int? { metadata["mtime"].flatMap { Int($0.split(separator: ".").first ?? "") } }
}

extension TestBucket {
    /// GETs each key (relative to the prefix) and hashes its body in 1 MiB chunks, so a 1 GiB object costs no
    /// memory; a key that does not exist maps to nil.
    func stored(_ keys: [String]) async throws -> [String: StoredObject?] {
        let script =
            Self.clientPreamble + """
                import hashlib, json, sys
                out = {}
                for key in sys.argv[1:]:
                    try:
                        response = client.get_object(Bucket=bucket, Key=key)
                    except client.exceptions.NoSuchKey:
                        out[key] = None
                        continue
                    digest, size = hashlib.sha256(), 0
                    for chunk in response["Body"].iter_chunks(1 << 20):
                        digest.update(chunk)
                        size += len(chunk)
                    out[key] = {"sha256": digest.hexdigest(), "size": size, "metadata": response.get("Metadata", {})}
                print(json.dumps(out))
                """
        let result = try await Command.python(
            script, keys.map { prefix + $0 }, environment: clientEnvironment, timeout: .seconds(600))
        guard result.succeeded else { throw SeedingError.failed(result.summary) }
        let decoded = try JSONDecoder().decode([String: StoredObject?].self, from: result.stdout)
        return Dictionary(uniqueKeysWithValues: keys.map { ($0, decoded[prefix + $0] ?? nil) })
    }

    /// One object read back, or nil when the key does not exist.
    func stored(_ key: String) async throws -> StoredObject? {
        try await stored([key])[key] ?? nil
    }
}

extension MountTests.WriteTests {
    /// A local tree for rsync: four folders, 50 files from 0 bytes to 9 MiB, every mtime set to a past second
    /// (some with a nanosecond fraction), modes 0644 and 0600; argv: root.
    static let rsyncTreeScript = """
        import os, random, sys
        root, r = sys.argv[1], random.Random(33)
        folders = ["", "docs", "docs/deep", "media", "empty-ish"]
        sizes = [0, 1, 100, 4095, 4096, 65537, 1 << 20, (3 << 20) + 7, 9 << 20]
        for folder in folders:
            os.makedirs(os.path.join(root, folder), exist_ok=True)
        for i in range(50):
            path = os.path.join(root, folders[i % len(folders)], f"file-{i:02d}.bin")
            with open(path, "wb") as f:
                f.write(r.randbytes(sizes[i % len(sizes)] if i % 7 else r.randrange(0, 200000)))
            os.chmod(path, 0o600 if i % 3 == 0 else 0o644)
            seconds = 1_500_000_000 + i * 86_401
            os.utime(path, ns=(seconds * 10**9, seconds * 10**9 + (123_456_789 if i % 2 else 0)))
        for folder in folders[1:]:
            os.utime(os.path.join(root, folder), (1_400_000_000, 1_400_000_000))
        """

    /// The tarball's members: path, mode, mtime and size (-1 for a folder).
    static let tarMembers: [(path: String, mode: Int, mtime: Int, size: Int)] = [
        ("pkg", 0o755, 1_300_000_000, -1),
        ("pkg/secret.key", 0o600, 1_000_000_000, 1234),
        ("pkg/run.sh", 0o755, 1_234_567_890, 300),
        ("pkg/shared.txt", 0o640, 1_111_111_111, 4096),
        ("pkg/lib", 0o755, 1_300_000_001, -1),
        ("pkg/lib/big.bin", 0o640, 1_222_222_222, (10 << 20) + 3),
        ("pkg/lib/empty", 0o600, 999_999_999, 0),
    ]

    /// Writes a tarball of `tarMembers` (random contents, owner root) with Python's tarfile; argv: path.
    static let tarballScript = """
        import io, json, random, sys, tarfile
        r = random.Random(44)
        with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as tar:
            for path, mode, mtime, size in json.loads(sys.argv[2]):
                info = tarfile.TarInfo(path)
                info.mode, info.mtime, info.uid, info.gid, info.uname, info.gname = mode, mtime, 0, 0, "root", "root"
                if size < 0:
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                else:
                    info.size = size
                    tar.addfile(info, io.BytesIO(r.randbytes(size)))
        """

    static func writeTarball(to url: URL) async throws {
        let members = tarMembers.map { [$0.path, $0.mode, $0.mtime, $0.size] as [Any] }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: members), as: UTF8.self)
        let result = try await Command.python(tarballScript, [url.path, json], timeout: .seconds(60))
        guard result.succeeded else { throw ToolError.failed(result.summary) }
    }

    /// Runs `sh -c script` with `arguments` as `$0`, `$1`, … and requires success (failures carry the log tail).
    static func shell(
        _ script: String, _ arguments: [String], on mount: Mount, timeout: Duration = .seconds(300)
    ) async throws -> CommandResult {
        let result = try await Command.run(["sh", "-c", script] + arguments, timeout: timeout)
        try mount.check(result)
        return result
    }
}
