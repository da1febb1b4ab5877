import Foundation
import Testing

extension MountTests {
    /// The write path, driven by ordinary tools and checked where it matters: in the bucket, through the S3 API, and
    /// in a fresh mount.
    @Suite("Writes")
    struct WriteTests {
        @Test(
            "cp of files of 0 B, 1 B, 4 KiB, 8 MiB + 1, 40 MiB and 1 GiB lands in the bucket byte-exact after fsync",
            .timeLimit(.minutes(20)))
        func copiedFilesLandByteExact() async {
            await MountFixture.run { fixture in
                let sizes = [0, 1, 4096, (8 << 20) + 1, 40 << 20, 1 << 30]
                let sources = try fixture.directory("sources")
                var digests: [String: String] = [:]
                for (index, size) in sizes.enumerated() {
                    let url = sources.appendingPathComponent("file-\(size)")
                    try await Reference.writeRandomFile(size: size, seed: 100 + index, to: url)
                    digests["file-\(size)"] = try await Reference.sha256(of: url)
                }
                let mount = try await fixture.mount()
                let names = sizes.map { "file-\($0)" }
                _ = try await Self.shell(
                    "cd \"$0\" && target=$1 && shift && cp -- \"$@\" \"$target\"",
                    [sources.path, mount.path()] + names, on: mount,
                    timeout: .seconds(600))
                for size in sizes {
                    #expect(
                        try await mount.size(of: "file-\(size)") == size, "stat size of file-\(size) after cp")
                }
                try await mount.fsync(names)
                let stored = try await fixture.bucket.stored(names)
                for (size, name) in zip(sizes, names) {
                    let object = stored[name] ?? nil
                    #expect(
                        object != nil, "\(name) is not in the bucket after fsync returned\n\(mount.logTail)")
                    #expect(
                        object?.size == size,
                        "\(name) has \(object?.size ?? -1) bytes in the bucket, not \(size)")
                    #expect(
                        object?.sha256 == digests[name],
                        "\(name) in the bucket differs from what cp wrote\n\(mount.logTail)")
                }
            }
        }

        @Test(
            "dd conv=notrunc mid-file, dd oflag=append, truncate -s smaller and larger change an object byte-exact",
            .timeLimit(.minutes(10)))
        func inPlaceChangesOfAnExistingObject() async {
            await MountFixture.run { fixture in
                let reference = fixture.scratch.appendingPathComponent("reference")
                let patch = fixture.scratch.appendingPathComponent("patch")
                let tail = fixture.scratch.appendingPathComponent("tail")
                try await Reference.writeRandomFile(size: 20 << 20, seed: 20, to: reference)
                try await Reference.writeRandomFile(size: 1 << 20, seed: 21, to: patch)
                try await Reference.writeRandomFile(size: 3 << 20, seed: 22, to: tail)
                try await fixture.bucket.put([SeedObject("object", .file(reference))])
                let mount = try await fixture.mount()
                // Each step runs the same tool on the mounted file and on the local reference.
                let steps: [(what: String, script: String)] = [
                    (
                        "dd of 1 MiB at 10 MiB with conv=notrunc",
                        "dd if=\"$1\" of=\"$0\" bs=1M seek=10 count=1 conv=notrunc status=none"
                    ),
                    (
                        "dd of 3 MiB with oflag=append conv=notrunc",
                        "dd if=\"$2\" of=\"$0\" bs=1M oflag=append conv=notrunc status=none"
                    ),
                    ("truncate -s 17000001 (smaller)", "truncate -s 17000001 \"$0\""),
                    ("truncate -s 31457287 (larger)", "truncate -s 31457287 \"$0\""),
                ]
                for step in steps {
                    for target in [mount.path("object"), reference.path] {
                        _ = try await Self.shell(step.script, [target, patch.path, tail.path], on: mount)
                    }
                    try await mount.fsync(["object"])
                    let expectedSize =
                        try FileManager.default.attributesOfItem(atPath: reference.path)[.size] as? Int
                    let expected = try await Reference.sha256(of: reference)
                    let object = try await fixture.bucket.stored("object")
                    #expect(
                        object?.size == expectedSize,
                        "after \(step.what): \(object?.size ?? -1) bytes in the bucket, expected \(expectedSize ?? -1)"
                    )
                    #expect(
                        object?.sha256 == expected,
                        "after \(step.what): the object differs from the reference\n\(mount.logTail)")
                    #expect(
                        try await mount.sha256ThroughCat("object") == expected,
                        "after \(step.what): cat through the mount differs from the reference")
                }
            }
        }

        @Test(
            "a second rsync -a of the same tree after a remount transfers no regular files",
            .timeLimit(.minutes(5)))
        func rsyncAfterRemountTransfersNothing() async {
            await MountFixture.run { fixture in
                let tree = try fixture.directory("tree")
                let made = try await Command.python(
                    Self.rsyncTreeScript, [tree.path], timeout: .seconds(60))
                guard made.succeeded else { throw ToolError.failed(made.summary) }
                let files = try await Command.run(
                    ["find", tree.path, "-type", "f", "-printf", "%P\\n"], timeout: .seconds(60)
                ).output.split(separator: "\n").map(String.init).sorted()
                #expect(files.count == 50, "the local tree has \(files.count) files")

                let first = try await fixture.mount(name: "first")
                let initial = try await Self.shell(
                    "rsync -a --stats \"$0\"/ \"$1\"/", [tree.path, first.path("tree")], on: first,
                    timeout: .seconds(300))
                #expect(
                    initial.output.contains("Number of regular files transferred: 50"),
                    "the first rsync did not transfer 50 files: \(initial.output)")
                await first.unmountAndReap()  // uploads everything pending first

                let stored = try await fixture.bucket.stored(files.map { "tree/" + $0 })
                for file in files {
                    let expected = try await Reference.sha256(of: tree.appendingPathComponent(file))
                    #expect(
                        (stored["tree/" + file] ?? nil)?.sha256 == expected,
                        "tree/\(file) in the bucket differs from the local file\n\(first.logTail)")
                }

                let second = try await fixture.mount(name: "second")
                let again = try await Self.shell(
                    "rsync -a --stats -i \"$0\"/ \"$1\"/", [tree.path, second.path("tree")], on: second,
                    timeout: .seconds(300))
                #expect(
                    again.output.contains("Number of regular files transferred: 0"),
                    "the second rsync after a remount transferred files again:\n\(again.output)\n\(second.logTail)"
                )
            }
        }

        @Test(
            "tar -xpf keeps file modes 0600, 0755 and 0640 and old mtimes across a remount and in x-amz-meta-*",
            .timeLimit(.minutes(5)))
        func tarExtractionKeepsModesAndTimes() async {
            await MountFixture.run { fixture in
                let tarball = fixture.scratch.appendingPathComponent("pkg.tar")
                try await Self.writeTarball(to: tarball)
                let first = try await fixture.mount(name: "first")
                _ = try await Self.shell(
                    "tar -xpf \"$0\" -C \"$1\"", [tarball.path, first.path()], on: first)
                await first.unmountAndReap()

                let second = try await fixture.mount(name: "second")
                let files = Self.tarMembers.filter { $0.size >= 0 }
                let stored = try await fixture.bucket.stored(files.map(\.path))
                for member in files {
                    let status = try await MetadataTests.status(of: second.path(member.path), in: second)
                    let mode = String(status.mode, radix: 8)
                    #expect(
                        status.regular && status.mode == member.mode,
                        "\(member.path) after remount: mode \(mode), expected \(String(member.mode, radix: 8))")
                    #expect(
                        status.mtimeNanoseconds / 1_000_000_000 == member.mtime,
                        "\(member.path) after remount: mtime \(status.mtimeNanoseconds) ns, expected \(member.mtime) s")
                    #expect(try await second.size(of: member.path) == member.size, "size of \(member.path)")
                    let object = stored[member.path] ?? nil
                    #expect(
                        object?.metadata["mode"] == String(0o100000 | member.mode),
                        "x-amz-meta-mode of \(member.path): \(String(describing: object?.metadata))\n\(first.logTail)"
                    )
                    #expect(
                        object?.mtimeSeconds == member.mtime,
                        "x-amz-meta-mtime of \(member.path): \(String(describing: object?.metadata))")
                }
            }
        }

        @Test("cp -a keeps mode 0604 and an old mtime across a remount", .timeLimit(.minutes(3)))
        func copyArchiveKeepsModeAndTime() async {
            await MountFixture.run { fixture in
                let local = fixture.scratch.appendingPathComponent("archived.txt")
                try Reference.write(Data("kept as it was\n".utf8), to: local)
                let prepared = try await Command.run(
                    [
                        "sh", "-c", "chmod 0604 \"$0\" && touch -d '2001-02-03 04:05:06.789012345 UTC' \"$0\"",
                        local.path,
                    ],
                    timeout: .seconds(30))
                guard prepared.succeeded else { throw ToolError.failed(prepared.summary) }
                let mtime = 981_173_106_789_012_345

                let first = try await fixture.mount(name: "first")
                _ = try await Self.shell(
                    "cp -a \"$0\" \"$1\"", [local.path, first.path("archived.txt")], on: first)
                await first.unmountAndReap()

                let second = try await fixture.mount(name: "second")
                let status = try await MetadataTests.status(of: second.path("archived.txt"), in: second)
                #expect(
                    status.mode == 0o604,
                    "mode after remount: \(String(status.mode, radix: 8))\n\(first.logTail)")
                #expect(
                    status.mtimeNanoseconds / 1_000_000_000 == mtime / 1_000_000_000,
                    "mtime after remount: \(status.mtimeNanoseconds) ns, expected \(mtime)")
                #expect(
                    status.mtimeNanoseconds == mtime,
                    "cp -a set nanoseconds; after remount mtime is \(status.mtimeNanoseconds) ns, expected \(mtime)"
                )
                #expect(try await second.contents(of: "archived.txt") == Data("kept as it was\n".utf8))
            }
        }

        @Test(
            "chmod, chown 1234:2345 and touch -d of uploaded files survive a remount and show in x-amz-meta-*",
            .timeLimit(.minutes(3)))
        func attributeChangesOfUploadedFilesPersist() async {
            await MountFixture.run { fixture in
                // One file another client put, one this mount wrote and fsynced: both are clean when changed.
                try await fixture.bucket.put("seeded.txt", Data("seeded\n".utf8))
                let first = try await fixture.mount(name: "first")
                _ = try await Self.shell(
                    "printf 'written\\n' > \"$0\"", [first.path("written.txt")], on: first)
                try await first.fsync(["written.txt"])
                #expect(
                    try await fixture.bucket.stored("written.txt") != nil, "written.txt not uploaded by fsync"
                )
                for name in ["seeded.txt", "written.txt"] {
                    _ = try await Self.shell(
                        "chmod 0751 \"$0\" && chown 1234:2345 \"$0\" && touch -d '2020-02-03 04:05:06 UTC' \"$0\"",
                        [first.path(name)], on: first)
                }
                await first.unmountAndReap()

                let second = try await fixture.mount(name: "second")
                let stored = try await fixture.bucket.stored(["seeded.txt", "written.txt"])
                for (name, text) in [("seeded.txt", "seeded\n"), ("written.txt", "written\n")] {
                    let status = try await MetadataTests.status(of: second.path(name), in: second)
                    #expect(
                        status.mode == 0o751,
                        "\(name) mode after remount: \(String(status.mode, radix: 8))\n\(first.logTail)")
                    #expect(
                        status.uid == 1234 && status.gid == 2345,
                        "\(name) owner after remount: \(status.uid):\(status.gid)")
                    #expect(
                        status.mtimeNanoseconds == 1_580_702_706_000_000_000,
                        "\(name) mtime after remount: \(status.mtimeNanoseconds) ns")
                    #expect(
                        try await second.contents(of: name) == Data(text.utf8), "\(name) contents changed")
                    let metadata = (stored[name] ?? nil)?.metadata ?? [:]
                    #expect(
                        metadata["mode"] == String(0o100751) && metadata["uid"] == "1234"
                            && metadata["gid"] == "2345"
                            && (stored[name] ?? nil)?.mtimeSeconds == 1_580_702_706,
                        "x-amz-meta-* of \(name): \(metadata)")
                }
            }
        }

        @Test(
            "files closed but not uploaded when the daemon is SIGKILLed are uploaded by the next mount of its cache",
            .timeLimit(.minutes(5)))
        func spoolSurvivesSigkill() async {
            await MountFixture.run { fixture in
                // 40 MiB streams into a multipart upload while written; 1 MiB is a single PutObject after close.
                let files = [("streamed", 40 << 20), ("small", 1 << 20)]
                var digests: [String: String] = [:]
                for (index, (name, size)) in files.enumerated() {
                    let url = fixture.scratch.appendingPathComponent(name)
                    try await Reference.writeRandomFile(size: size, seed: 70 + index, to: url)
                    digests[name] = try await Reference.sha256(of: url)
                }
                let doomed = try await fixture.mount(name: "doomed")
                doomed.expectDeath()
                // The upload starts 0.3 s after the last close: the small file is closed milliseconds before the kill.
                let crash = try await Command.run(
                    [
                        "sh", "-c",
                        "cat \"$0\"/streamed > \"$1\"/streamed && cat \"$0\"/small > \"$1\"/small && kill -9 \"$2\"",
                        fixture.scratch.path, doomed.path(), "\(doomed.pid)",
                    ],
                    timeout: .seconds(120))
                try doomed.check(crash)
                try await doomed.detachAfterKill()
                let before = try await fixture.bucket.stored(files.map(\.0))
                #expect(
                    (before["small"] ?? nil) == nil,
                    "small was uploaded before the kill, so the test did not exercise recovery\n\(doomed.logTail)"
                )

                // A later --cache-dir overrides the fixture's: the new daemon reads the killed one's spool.
                let revived = try await fixture.mount(
                    ["--cache-dir", fixture.scratch.appendingPathComponent("doomed.cache").path],
                    name: "recovered")
                let arrived = try await eventually(within: .seconds(60)) {
                    let now = try await fixture.bucket.stored(files.map(\.0))
                    return files.allSatisfy { (now[$0.0] ?? nil)?.sha256 == digests[$0.0] }
                }
                let after = try await fixture.bucket.stored(files.map(\.0)).mapValues { object in
                    object.map { "\($0.size) bytes, sha256 \($0.sha256)" } ?? "missing"
                }
                let logs = "killed daemon:\n\(doomed.logTail)\nnew daemon:\n\(revived.logTail)"
                #expect(
                    arrived,
                    "60 s after the new mount the bucket held \(after), expected \(digests)\n\(logs)")
                let revivedLog = (try? String(contentsOf: revived.logFile, encoding: .utf8)) ?? ""
                #expect(
                    revivedLog.contains("recovering spooled upload"),
                    "the new daemon did not log \"recovering spooled upload\"\n\(revived.logTail)")
                for (name, size) in files {
                    #expect(try await revived.size(of: name) == size, "stat size of \(name) in the new mount")
                }
            }
        }
    }
}
