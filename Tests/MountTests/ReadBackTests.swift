import Foundation
import Testing

extension MountTests {
    /// Objects written by another S3 client read back exactly, through every ordinary way of reading a tree.
    @Suite("Reading objects back")
    struct ReadBackTests {
        /// The local reference tree, mirrored into the bucket key for key.
        static let smallFiles: [(path: String, text: String)] = [
            ("a/b/c.txt", "nested three levels down\n"),
            ("marked/child.txt", "child of a directory marker\n"),
            ("ünïcødé/ファイル.txt", "unicode names\n"),
            ("with space/file name.txt", "names with spaces\n"),
        ]
        static let randomFiles: [(path: String, size: Int)] = [
            ("sizes/empty", 0),
            ("sizes/one-byte", 1),
            ("sizes/five-mib-plus-one", 5 << 20 + 1),
            ("sizes/three-hundred-mib", 300 << 20),
        ]

        @Test(
            "objects put through the S3 API read back byte-exact with cat, cp -r, find, ls -lR and pread",
            .timeLimit(.minutes(20)))
        func objectsReadBackByteExact() async {
            await MountFixture.run { fixture in
                let reference = try fixture.directory("reference")
                var seeds: [SeedObject] = [SeedObject("empty/", .bytes(Data())), SeedObject("marked/", .bytes(Data()))]
                try FileManager.default.createDirectory(
                    at: reference.appendingPathComponent("empty"), withIntermediateDirectories: true)
                for file in Self.smallFiles {
                    let url = reference.appendingPathComponent(file.path)
                    try Reference.write(Data(file.text.utf8), to: url)
                    seeds.append(SeedObject(file.path, .file(url)))
                }
                for (seed, file) in Self.randomFiles.enumerated() {
                    let url = reference.appendingPathComponent(file.path)
                    try await Reference.writeRandomFile(size: file.size, seed: seed, to: url)
                    seeds.append(SeedObject(file.path, .file(url)))
                }
                try await fixture.bucket.put(seeds)
                let mount = try await fixture.mount()
                let files = Self.smallFiles.map(\.path) + Self.randomFiles.map(\.path)

                for file in files {
                    let expected = try await Reference.sha256(of: reference.appendingPathComponent(file))
                    let actual = try await mount.sha256ThroughCat(file)
                    #expect(actual == expected, "cat \(file) gave different bytes\n\(mount.logTail)")
                }

                let copy = try fixture.directory("copy")
                try mount.check(
                    try await Command.run(["cp", "-r", mount.path() + "/.", copy.path], timeout: .seconds(600)))
                let diff = try await Command.run(["diff", "-r", reference.path, copy.path], timeout: .seconds(300))
                #expect(diff.succeeded, "cp -r of the mount differs from the reference tree: \(diff.summary)")

                let expectedPaths = try await Command.run(
                    ["find", reference.path, "-printf", "%P\\n"], timeout: .seconds(60)
                ).output.split(separator: "\n").map(String.init)
                let foundPaths = try await mount.findPaths()
                #expect(
                    byteSet(foundPaths) == byteSet(expectedPaths),
                    "find listed \(foundPaths.sorted()), expected \(expectedPaths.sorted())\n\(mount.logTail)")
                for implicit in ["a", "a/b", "empty", "marked"] {
                    #expect(foundPaths.contains(implicit), "find did not list the directory \(implicit)")
                }

                let listedSizes = try await Self.fileSizes(listedUnder: mount.path())
                let referenceSizes = try await Self.fileSizes(listedUnder: reference.path)
                #expect(
                    listedSizes == referenceSizes,
                    "ls -lR showed \(listedSizes.sorted { $0.key < $1.key }), expected \(referenceSizes.sorted { $0.key < $1.key })")

                for (file, count) in [("sizes/three-hundred-mib", 200), ("sizes/five-mib-plus-one", 100)] {
                    let result = try await Command.python(
                        Self.randomPreads,
                        [mount.path(file), reference.appendingPathComponent(file).path, "\(count)", "42"],
                        timeout: .seconds(600))
                    #expect(result.succeeded, "random preads of \(file) differ: \(result.summary)\n\(mount.logTail)")
                }
            }
        }

        /// Regular files and their sizes as `ls -lRn` prints them, keyed by path relative to `root`; folders as -1.
        static func fileSizes(listedUnder root: String) async throws -> [String: Int] {
            let result = try await Command.run(
                ["ls", "-lRn", "--time-style=+%s", "--quoting-style=literal", root], timeout: .seconds(120))
            guard result.succeeded else { throw ToolError.failed(result.summary) }
            var sizes: [String: Int] = [:]
            var folder = ""
            for line in result.output.split(separator: "\n").map(String.init) {
                if line.hasSuffix(":"), line.hasPrefix(root) {
                    folder = String(line.dropFirst(root.count).dropLast()).trimmingCharacters(
                        in: CharacterSet(charactersIn: "/"))
                    continue
                }
                if line.hasPrefix("total ") { continue }
                // mode links uid gid size mtime name; the name is the rest of the line.
                var rest = Substring(line)
                var fields: [Substring] = []
                for _ in 0..<6 {
                    rest = rest.drop { $0 == " " }
                    let field = rest.prefix { $0 != " " }
                    fields.append(field)
                    rest = rest.dropFirst(field.count)
                }
                guard fields.count == 6, let size = Int(fields[4]), rest.first == " " else { continue }
                let name = String(rest.dropFirst())
                let path = folder.isEmpty ? name : folder + "/" + name
                sizes[path] = fields[0].hasPrefix("d") ? -1 : size
            }
            return sizes
        }

        /// Compares `count` random preads (plus ones near the end of the file) of the mounted and the local file.
        static let randomPreads = """
            import os, random, sys
            mounted, local, count, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
            size = os.path.getsize(local)
            r = random.Random(seed)
            a, b = os.open(mounted, os.O_RDONLY), os.open(local, os.O_RDONLY)
            bad = []
            for i in range(count):
                offset = max(0, size - r.randrange(0, 8192)) if i % 10 == 0 else r.randrange(0, size + 1)
                length = r.choice([1, 17, 4096, 65536, 1 << 20, r.randrange(1, 3 << 20)])
                got, want = os.pread(a, length, offset), os.pread(b, length, offset)
                if got != want:
                    first = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), None)
                    bad.append(f"pread(length={length}, offset={offset}): {len(got)} bytes, expected {len(want)}, "
                               f"first differing byte {first}")
            print(f"{len(bad)} of {count} preads differ", *bad[:10], sep="\\n")
            sys.exit(1 if bad else 0)
            """
    }
}
