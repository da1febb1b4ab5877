import CCrypto
import Foundation

/// SHA-256 and HMAC-SHA-256 from OpenSSL's libcrypto, the two primitives SigV4 is built from.
enum SHA256 {
    /// The digest of `bytes`.
    static func hash(_ bytes: some ContiguousBytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        bytes.withUnsafeBytes { input in
            digest.withUnsafeMutableBufferPointer { output in
                // SAFETY: `input` is valid for `input.count` bytes and `output` holds the 32 bytes SHA256 writes.
                _ = CCrypto.SHA256(input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count, output.baseAddress)
            }
        }
        return digest
    }

    /// The lower-case hex digest of `bytes`, as SigV4 writes payload and request hashes.
    static func hexHash(_ bytes: some ContiguousBytes) -> String { hex(hash(bytes)) }

    /// HMAC-SHA-256 of `message` under `key`.
    static func hmac(key: [UInt8], _ message: some ContiguousBytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { input in
                digest.withUnsafeMutableBufferPointer { output in
                    // SAFETY: all three buffers outlive the call; `output` has room for EVP_MAX_MD_SIZE bytes.
                    _ = CCrypto.HMAC(
                        EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                        input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count, output.baseAddress,
                        &length)
                }
            }
        }
        return Array(digest.prefix(Int(length)))
    }

    /// HMAC-SHA-256 of a UTF-8 string.
    static func hmac(key: [UInt8], _ message: String) -> [UInt8] { hmac(key: key, Array(message.utf8)) }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lower-case hex of `bytes`.
    static func hex(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
