// swift-tools-version:6.0
import PackageDescription

// Dependencies are the four small, foundational packages of the Swift server ecosystem. They build in seconds,
// have no transitive dependencies of their own, and are maintained by Apple:
// - swift-argument-parser: the CLI (`@OptionGroup`s, `validate()`, generated help that the man page test reads).
// - swift-log: the logging API libraries take a `Logger` from; only the executable bootstraps a backend.
// - swift-system: `Errno`, the typed POSIX error every core error maps to.
// - swift-collections: `Deque` and `OrderedDictionary` for LRU lists and FIFO queues without O(n) removal.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "bucketfs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bucketfs", targets: ["bucketfs"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        .systemLibrary(name: "CFUSE", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "ObjectStorage",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "S3",
            dependencies: [
                "ObjectStorage", "CCurl", "CCrypto",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FilesystemCore",
            dependencies: [
                "ObjectStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Collections", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FUSEBridge",
            dependencies: [
                "FilesystemCore", "CFUSE",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "bucketfs",
            dependencies: [
                "ObjectStorage", "S3", "FilesystemCore", "FUSEBridge",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "ObjectStorageTests", dependencies: ["ObjectStorage"], swiftSettings: swiftSettings),
        .testTarget(
            name: "S3Tests",
            dependencies: ["S3", "ObjectStorage", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FilesystemCoreTests",
            dependencies: [
                "FilesystemCore", "ObjectStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MountTests",
            dependencies: ["ObjectStorage", "S3", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
    ]
)
