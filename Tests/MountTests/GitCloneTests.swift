import Foundation
import Testing

extension MountTests {
    /// A real program's mix of creates, renames onto lock files, unlinks and fsyncs.
    @Suite("git")
    struct GitCloneTests {
        /// argv: source repository folder (created), clone target in the mount. Builds a repository with three commits
        /// (files at the top and in a subfolder, one changed, one removed), clones it onto the mount, then compares the work tree.
        static let script = """
            set -eu
            src=$0 dst=$1
            g() { git -c user.name=bucketfs -c user.email=bucketfs@example.com -c init.defaultBranch=main "$@"; }
            g init -q "$src"
            cd "$src"
            printf 'hello\\n' > README
            mkdir -p lib/deep
            printf 'one\\n' > lib/a.txt
            head -c 300000 /dev/urandom > lib/deep/blob.bin
            g add -A && g commit -q -m first
            printf 'two\\n' >> lib/a.txt
            printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod +x run.sh
            g add -A && g commit -q -m second
            g rm -q README
            printf 'three\\n' > lib/deep/c.txt
            g add -A && g commit -q -m third
            cd /
            g clone -q --no-hardlinks "$src" "$dst"
            diff -r -x .git "$src" "$dst" && echo same
            """

        /// argv: the clone in a mount. Prints the sections `fsck:`, `status:`, `log:`, then `end:`.
        static let checks = """
            set -eu
            cd "$0"
            echo "fsck:"; git fsck --full --strict 2>&1
            echo "status:"; git status --porcelain
            echo "log:"; git log --format=%s
            echo "end:"
            """

        /// The three checks of `checks`' output: fsck and status clean, log the three commits.
        static func expectClean(_ result: CommandResult, in mount: Mount, _ what: String) {
            #expect(result.succeeded, "\(what): \(result.summary)\n\(mount.logTail)")
            let output = result.output
            func section(_ name: String, _ next: String) -> String {
                guard let start = output.range(of: name + ":\n"), let end = output.range(of: next + ":\n") else {
                    return "(missing)"
                }
                return String(output[start.upperBound..<end.lowerBound])
            }
            #expect(section("fsck", "status").isEmpty, "\(what): git fsck: \(section("fsck", "status"))")
            #expect(section("status", "log").isEmpty, "\(what): git status --porcelain: \(section("status", "log"))")
            #expect(section("log", "end") == "third\nsecond\nfirst\n", "\(what): git log: \(section("log", "end"))")
        }

        @Test(
            "git clone --no-hardlinks onto the mount: fsck and status clean and the full log, also from a fresh mount",
            .timeLimit(.minutes(5)))
        func cloneOntoMount() async {
            await MountFixture.run { fixture in
                let first = try await fixture.mount(name: "first")
                let source = fixture.scratch.appendingPathComponent("source")
                let clone = try await Command.run(
                    ["sh", "-c", Self.script, source.path, first.path("clone")], timeout: .seconds(240))
                #expect(clone.succeeded, "git clone failed: \(clone.summary)\n\(first.logTail)")
                #expect(clone.output.hasSuffix("same\n"), "the work tree differs from the source: \(clone.output)")
                Self.expectClean(
                    try await Command.run(["sh", "-c", Self.checks, first.path("clone")], timeout: .seconds(120)),
                    in: first, "in the cloning mount")
                // Unmount uploads everything; a fresh mount (empty cache) then sees only what is in the bucket.
                await first.unmountAndReap()
                let log = (try? String(contentsOf: first.logFile, encoding: .utf8)) ?? ""
                #expect(!log.contains("upload failed"), "an upload failed during the clone\n\(first.logTail)")
                let second = try await fixture.mount(name: "second")
                Self.expectClean(
                    try await Command.run(["sh", "-c", Self.checks, second.path("clone")], timeout: .seconds(120)),
                    in: second, "in a fresh mount")
            }
        }
    }
}
