import Foundation
import Testing

extension MountTests {
    /// mkdir, rmdir, symlinks, hard links and rename(2)'s flags, driven by ordinary tools and syscalls.
    @Suite("Namespace")
    struct NamespaceMountTests {
        @Test("mkdir writes a dir/ marker; rmdir of a directory with implicit children is ENOTEMPTY; an empty one survives a remount", .timeLimit(.minutes(3)))
        func directories() async {
            await MountFixture.run { fixture in
                try await fixture.bucket.put("implicit/child", Data("x".utf8))
                let mount = try await fixture.mount()
                _ = try await WriteTests.shell("mkdir \"$0/empty\" && mkdir -p \"$0/a/b/c\"", [mount.path()], on: mount)
                let keys = try await fixture.bucket.keys()
                #expect(keys.contains("empty/") && keys.contains("a/b/c/"), "markers: \(keys)")
                let script = """
                    import errno, os, sys
                    root = sys.argv[1]
                    def code(f):
                        try:
                            f()
                            return 0
                        except OSError as e:
                            return e.errno
                    print(code(lambda: os.rmdir(os.path.join(root, "implicit"))), code(lambda: os.rmdir(os.path.join(root, "a/b"))),
                          code(lambda: os.rmdir(os.path.join(root, "a/b/c"))), code(lambda: os.rmdir(os.path.join(root, "nope"))))
                    """
                let result = try await Command.python(script, [mount.path()], timeout: .seconds(60))
                try mount.check(result)
                #expect(
                    result.output.trimmingCharacters(in: .whitespacesAndNewlines)
                        == "\(ENOTEMPTY) \(ENOTEMPTY) 0 \(ENOENT)", "rmdir errnos: \(result.output)")
                #expect(!(try await fixture.bucket.keys()).contains("a/b/c/"), "rmdir left the marker")
                await mount.unmountAndReap()
                let again = try await fixture.mount(name: "again")
                #expect(try await again.names().sorted() == ["a", "empty", "implicit"])
                #expect(try await again.names(in: "empty") == [])
            }
        }

        @Test("ln -s writes an s3fs-format symlink that a fresh mount reads back; a hard link is EPERM", .timeLimit(.minutes(3)))
        func symlinksAndHardLinks() async {
            await MountFixture.run { fixture in
                let mount = try await fixture.mount()
                _ = try await WriteTests.shell(
                    "echo data > \"$0/file\" && ln -s ../some/where \"$0/link\" && sync \"$0/file\"",  // a symlink is one PUT at once
                    [mount.path()], on: mount)
                let stored = try #require(try await fixture.bucket.stored("link"))
                #expect(stored.size == "../some/where".utf8.count)
                let mode = Int(stored.metadata["mode"] ?? "") ?? 0
                #expect(mode & 0o170000 == 0o120000, "x-amz-meta-mode \(stored.metadata["mode"] ?? "none") is not S_IFLNK")
                let link = try await Command.python(
                    "import errno, os, sys\ntry:\n    os.link(sys.argv[1], sys.argv[2]); print(0)\nexcept OSError as e:\n    print(e.errno)",
                    [mount.path("file"), mount.path("hard")], timeout: .seconds(30))
                try mount.check(link)
                #expect(link.output.trimmingCharacters(in: .whitespacesAndNewlines) == "\(EPERM)", "link(2): \(link.output)")
                await mount.unmountAndReap()
                let again = try await fixture.mount(name: "again")
                let target = try await Command.run(["readlink", again.path("link")], timeout: .seconds(30))
                try again.check(target)
                #expect(target.output == "../some/where\n")
            }
        }

        @Test(
            "rename: RENAME_NOREPLACE gives EEXIST, RENAME_EXCHANGE EINVAL, onto a non-empty directory ENOTEMPTY; a file still being written renames with all its bytes and its mode",
            .timeLimit(.minutes(3)))
        func renameSemantics() async {
            await MountFixture.run { fixture in
                let mount = try await fixture.mount()
                let script = """
                    import ctypes, errno, os, sys
                    root = sys.argv[1]
                    libc = ctypes.CDLL(None, use_errno=True)
                    def p(name): return os.path.join(root, name).encode()
                    def renameat2(a, b, flags):
                        if libc.renameat2(-100, p(a), -100, p(b), flags) == 0:
                            return 0
                        return ctypes.get_errno()
                    for name in ("a", "b"):
                        with open(os.path.join(root, name), "w") as f:
                            f.write(name)
                    os.makedirs(os.path.join(root, "d1"))
                    os.makedirs(os.path.join(root, "d2"))
                    open(os.path.join(root, "d2", "inside"), "w").close()
                    out = [renameat2("a", "b", 1), renameat2("a", "b", 2)]
                    try:
                        os.rename(os.path.join(root, "d1"), os.path.join(root, "d2"))
                        out.append(0)
                    except OSError as e:
                        out.append(e.errno)
                    # A file renamed while it is being written, then written more.
                    f = open(os.path.join(root, "growing"), "wb")
                    f.write(b"1" * (3 << 20))
                    f.flush()
                    os.chmod(os.path.join(root, "growing"), 0o600)
                    os.rename(os.path.join(root, "growing"), os.path.join(root, "grown"))
                    f.write(b"2" * (2 << 20))
                    os.fsync(f.fileno())
                    f.close()
                    out.append(int(os.path.exists(os.path.join(root, "growing"))))
                    print(*out)
                    """
                let result = try await Command.python(script, [mount.path()], timeout: .seconds(120))
                try mount.check(result)
                #expect(
                    result.output.trimmingCharacters(in: .whitespacesAndNewlines)
                        == "\(EEXIST) \(EINVAL) \(ENOTEMPTY) 0", "errnos: \(result.output)\n\(mount.logTail)")
                try await mount.fsync(["a", "b", "grown"])
                let stored = try await fixture.bucket.stored(["a", "b", "growing", "grown"])
                #expect((stored["a"] ?? nil)?.size == 1 && (stored["b"] ?? nil)?.size == 1, "a or b changed")
                #expect((stored["growing"] ?? nil) == nil, "the old name of the renamed file is still in the bucket")
                let grown = try #require(stored["grown"] ?? nil, "grown is not in the bucket")
                var expected = Data(repeating: UInt8(ascii: "1"), count: 3 << 20)
                expected.append(Data(repeating: UInt8(ascii: "2"), count: 2 << 20))
                #expect(grown.size == expected.count)
                let local = fixture.scratch.appendingPathComponent("expected")
                try Reference.write(expected, to: local)
                #expect(grown.sha256 == (try await Reference.sha256(of: local)), "grown's bytes differ")
                #expect(Int(grown.metadata["mode"] ?? "").map { $0 & 0o777 } == 0o600, "mode lost: \(grown.metadata)")
            }
        }
    }
}
