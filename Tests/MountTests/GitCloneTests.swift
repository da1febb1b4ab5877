import Foundation
import Testing

extension MountTests {
    /// A real program's mix of creates, renames onto lock files, unlinks and fsyncs.
    @Suite("git")
    struct GitCloneTests {
        /// argv: source repository folder (created), clone target in the mount. Builds a repository with three commits
        /// (files at the top and in a subfolder, one changed, one removed), clones it onto the mount, then checks it.
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
            cd "$dst"
            echo "fsck:"; g fsck --full --strict 2>&1
            echo "status:"; g status --porcelain
            echo "log:"; g log --format=%s
            echo "diff:"; diff -r -x .git "$src" "$dst" && echo same
            """

        @Test("git clone --no-hardlinks onto the mount gives a clean fsck and status and the full log", .timeLimit(.minutes(5)))
        func cloneOntoMount() async {
            await MountFixture.run { fixture in
                let mount = try await fixture.mount()
                let source = fixture.scratch.appendingPathComponent("source")
                let result = try await Command.run(
                    ["sh", "-c", Self.script, source.path, mount.path("clone")], timeout: .seconds(240))
                #expect(result.succeeded, "git clone or a check failed: \(result.summary)\n\(mount.logTail)")
                let output = result.output
                func section(_ name: String, _ next: String) -> String {
                    guard let start = output.range(of: name + ":\n"), let end = output.range(of: next + ":\n") else {
                        return "(missing)"
                    }
                    return String(output[start.upperBound..<end.lowerBound])
                }
                #expect(section("fsck", "status").isEmpty, "git fsck: \(section("fsck", "status"))")
                #expect(section("status", "log").isEmpty, "git status --porcelain: \(section("status", "log"))")
                #expect(section("log", "diff") == "third\nsecond\nfirst\n", "git log: \(section("log", "diff"))")
                #expect(output.hasSuffix("same\n"), "the work tree differs from the source: \(output)")
            }
        }
    }
}
