import Foundation

/// One object to seed: its key (relative to the test's prefix), its bytes or a local file, and its user metadata.
struct SeedObject: Sendable {
    /// Where the bytes come from.
    enum Source: Sendable {
        case bytes(Data)
        case file(URL)
    }

    let key: String
    let source: Source
    /// `x-amz-meta-*` headers without the prefix, e.g. `["mode": "33152"]`.
    let metadata: [String: String]

    init(_ key: String, _ source: Source, metadata: [String: String] = [:]) {
        self.key = key
        self.source = source
        self.metadata = metadata
    }
}

/// The test's slice of the shared bucket as "another client" sees it: puts, deletes and listings go through boto3,
/// never through the filesystem, so the mount's view is checked against an independent S3 implementation.
///
/// Every key is relative to `prefix` (`t-<uuid>/`), which keeps tests apart inside one bucket.
struct TestBucket: Sendable {
    let environment: MountTestEnvironment
    /// The test's key prefix, ending in `/`.
    let prefix: String

    /// Uploads `objects` in one python3 run (large files go up as multipart uploads).
    func put(_ objects: [SeedObject]) async throws {
        let operations = objects.map { object -> [String: Any] in
            var operation: [String: Any] = ["op": "put", "key": prefix + object.key, "metadata": object.metadata]
            switch object.source {
            case .bytes(let data): operation["data"] = data.base64EncodedString()
            case .file(let url): operation["file"] = url.path
            }
            return operation
        }
        _ = try await perform(operations, timeout: .seconds(600))
    }

    /// Uploads one object from memory.
    func put(_ key: String, _ contents: Data, metadata: [String: String] = [:]) async throws {
        try await put([SeedObject(key, .bytes(contents), metadata: metadata)])
    }

    /// Deletes one object (absent objects are fine, as in S3).
    func delete(_ key: String) async throws {
        _ = try await perform([["op": "delete", "key": prefix + key]])
    }

    /// All keys under the prefix, relative to it, sorted.
    func keys() async throws -> [String] {
        let output = try await perform([["op": "list", "prefix": prefix]])
        let listed = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String] ?? []
        return listed.map { String($0.dropFirst(prefix.count)) }.sorted()
    }

    /// Deletes every object under the prefix.
    func deleteEverything() async throws {
        _ = try await perform([["op": "delete_prefix", "prefix": prefix]], timeout: .seconds(120))
    }

    /// Python that defines `client` (a boto3 S3 client for the test server) and `bucket`; test scripts that must act
    /// as another client at a precise moment (between two preads) start with it.
    static let clientPreamble = """
        import os, boto3
        from botocore.config import Config
        bucket = os.environ["BUCKETFS_TEST_BUCKET"]
        client = boto3.client(
            "s3", endpoint_url=os.environ["BUCKETFS_TEST_ENDPOINT"],
            region_name=os.environ.get("AWS_REGION") or "us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"))

        """

    /// The environment a python3 client script needs.
    var clientEnvironment: [String: String] {
        ["BUCKETFS_TEST_ENDPOINT": environment.endpoint, "BUCKETFS_TEST_BUCKET": environment.bucket]
    }

    private static let operationScript = clientPreamble + """
        import base64, json, sys
        from boto3.s3.transfer import TransferConfig
        transfer = TransferConfig(multipart_threshold=64 << 20, multipart_chunksize=16 << 20)
        def keys(prefix):
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"]
        for op in json.loads(sys.argv[1]):
            if op["op"] == "put":
                extra = {"Metadata": op["metadata"]} if op["metadata"] else {}
                if "file" in op:
                    client.upload_file(op["file"], bucket, op["key"], ExtraArgs=extra, Config=transfer)
                else:
                    client.put_object(Bucket=bucket, Key=op["key"], Body=base64.b64decode(op["data"]), **extra)
            elif op["op"] == "delete":
                client.delete_object(Bucket=bucket, Key=op["key"])
            elif op["op"] == "list":
                print(json.dumps(list(keys(op["prefix"]))))
            elif op["op"] == "delete_prefix":
                batch = [{"Key": k} for k in keys(op["prefix"])]
                for i in range(0, len(batch), 1000):
                    client.delete_objects(Bucket=bucket, Delete={"Objects": batch[i:i + 1000], "Quiet": True})
        """

    private func perform(_ operations: [[String: Any]], timeout: Duration = .seconds(60)) async throws -> String {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: operations), as: UTF8.self)
        let result = try await Command.python(
            Self.operationScript, [json], environment: clientEnvironment, timeout: timeout)
        guard result.succeeded else { throw SeedingError.failed(result.summary) }
        return result.output
    }
}

/// A setup step through the S3 API failed; the test cannot say anything about bucketfs.
enum SeedingError: Error, CustomStringConvertible {
    case failed(String)

    var description: String {
        switch self {
        case .failed(let summary): "S3 client (boto3) failed: \(summary)"
        }
    }
}
