import Foundation
import Testing

extension MountTests {
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
