import CFUSE
import FilesystemCore

/// The operations that change the namespace or file contents.
enum Writes {
    static func install(into ops: inout fuse_lowlevel_ops) {}
}
