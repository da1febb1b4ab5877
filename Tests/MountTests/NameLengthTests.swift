import Foundation
import Testing

extension MountTests {
    /// NAME_MAX and S3's key limit, as bucketfs itself refuses them (not as a server happens to).
    @Suite("Name and key length")
    struct NameLengthTests {
        /// argv: mount folder, key bytes used by the mount's prefix. Prints `call errno` lines (0 for success).
        static let script = """
            import errno, os, sys
            root, prefix_bytes = sys.argv[1], int(sys.argv[2])
            def attempt(what, call):
                try:
                    call()
                    print(what, 0)
                except OSError as e:
                    print(what, errno.errorcode.get(e.errno, e.errno))
            long = "n" * 256
            ok = "k" * 255
            with open(os.path.join(root, "src"), "w") as f:
                f.write("source")
            attempt("create-256", lambda: os.close(os.open(os.path.join(root, long), os.O_CREAT | os.O_WRONLY, 0o644)))
            attempt("mkdir-256", lambda: os.mkdir(os.path.join(root, long)))
            attempt("symlink-256", lambda: os.symlink("src", os.path.join(root, long)))
            attempt("rename-256", lambda: os.rename(os.path.join(root, "src"), os.path.join(root, long)))
            attempt("link-256", lambda: os.link(os.path.join(root, "src"), os.path.join(root, long)))
            attempt("stat-256", lambda: os.stat(os.path.join(root, long)))
            def create_255():
                with open(os.path.join(root, ok), "w") as f:
                    f.write("fits")
                assert open(os.path.join(root, ok)).read() == "fits"
                assert ok in os.listdir(root)
            attempt("create-255", create_255)
            # Four 200-byte folders; then a name that makes the file's key 1,025 bytes.
            deep = root
            for i in range(4):
                deep = os.path.join(deep, str(i) * 200)
            attempt("mkdir-deep", lambda: os.makedirs(deep))
            name = "x" * (1025 - prefix_bytes - 4 * 201)
            attempt("create-1025", lambda: os.close(os.open(os.path.join(deep, name), os.O_CREAT | os.O_WRONLY, 0o644)))
            attempt("mkdir-1025", lambda: os.mkdir(os.path.join(deep, name)))
            attempt("stat-1025", lambda: os.stat(os.path.join(deep, name)))
            """

        @Test(
            "256-byte names and 1,025-byte keys give ENAMETOOLONG on create, mkdir, symlink, rename, link and stat; 255 bytes work",
            .timeLimit(.minutes(3)))
        func tooLong() async {
            await MountFixture.run { fixture in
                let mount = try await fixture.mount()
                let result = try await Command.python(
                    Self.script, [mount.path(), "\(fixture.prefix.utf8.count)"], timeout: .seconds(120))
                try mount.check(result)
                var outcome: [String: String] = [:]
                for line in result.output.split(separator: "\n") {
                    let fields = line.split(separator: " ")
                    if fields.count == 2 { outcome[String(fields[0])] = String(fields[1]) }
                }
                for call in ["create-256", "mkdir-256", "symlink-256", "rename-256", "link-256", "stat-256"] {
                    #expect(
                        outcome[call] == "ENAMETOOLONG", "\(call): \(outcome[call] ?? "no result")\n\(mount.logTail)")
                }
                #expect(
                    outcome["create-255"] == "0", "a 255-byte name: \(outcome["create-255"] ?? "?")\n\(mount.logTail)")
                #expect(outcome["mkdir-deep"] == "0", "four 200-byte folders: \(outcome["mkdir-deep"] ?? "?")")
                for call in ["create-1025", "mkdir-1025", "stat-1025"] {
                    #expect(
                        outcome[call] == "ENAMETOOLONG", "\(call): \(outcome[call] ?? "no result")\n\(mount.logTail)")
                }
            }
        }
    }
}
