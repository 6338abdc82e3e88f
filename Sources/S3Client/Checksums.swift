import AWSSigning
import CSystemZlib
import Crypto
import Foundation

/// The checksums S3 keeps of an object: the additional checksums (`x-amz-checksum-*`, returned with
/// `x-amz-checksum-mode: ENABLED`) and the MD5 that a single-part, unencrypted-or-SSE-S3 object's ETag is.
public enum ChecksumAlgorithm: String, CaseIterable, Sendable, Codable {
    case sha256, sha1, crc64nvme, crc32c, crc32, md5

    /// The response header that carries it (MD5 travels as the ETag instead).
    var header: String? { self == .md5 ? nil : "x-amz-checksum-\(rawValue)" }

    /// Strongest first: the one a read verifies when S3 returns several.
    static let preference: [ChecksumAlgorithm] = [.sha256, .sha1, .crc64nvme, .crc32c, .crc32]
}

/// A checksum computed as bytes stream past, in the encoding S3 states it in: base64 of the
/// big-endian value for the additional checksums, lowercase hex for an MD5 ETag.
struct RunningChecksum {
    let algorithm: ChecksumAlgorithm
    private var sha256 = SHA256()
    private var sha1 = Insecure.SHA1()
    private var md5 = Insecure.MD5()
    private var crc: UInt64

    init(_ algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .crc64nvme: crc = ReflectedCRC.crc64nvme.initial
        case .crc32c: crc = ReflectedCRC.crc32c.initial
        default: crc = 0
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        switch algorithm {
        case .sha256: sha256.update(bufferPointer: bytes)
        case .sha1: sha1.update(bufferPointer: bytes)
        case .md5: md5.update(bufferPointer: bytes)
        case .crc64nvme: crc = ReflectedCRC.crc64nvme.update(crc, bytes)
        case .crc32c: crc = ReflectedCRC.crc32c.update(crc, bytes)
        case .crc32:
            var offset = 0
            // zlib takes a 32-bit length; feed it in slices.
            while offset < bytes.count {
                let length = min(bytes.count - offset, 1 << 30)
                crc = UInt64(CSystemZlib.crc32(uLong(crc), bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(length)))
                offset += length
            }
        }
    }

    /// The value as S3 writes it.
    func finalize() -> String {
        switch algorithm {
        case .sha256: return Data(sha256.finalize()).base64EncodedString()
        case .sha1: return Data(sha1.finalize()).base64EncodedString()
        case .md5: return hex(md5.finalize())
        case .crc64nvme: return Self.bigEndianBase64(ReflectedCRC.crc64nvme.finish(crc), bytes: 8)
        case .crc32c: return Self.bigEndianBase64(ReflectedCRC.crc32c.finish(crc), bytes: 4)
        case .crc32: return Self.bigEndianBase64(crc, bytes: 4)
        }
    }

    static func bigEndianBase64(_ value: UInt64, bytes: Int) -> String {
        Data((0..<bytes).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }).base64EncodedString()
    }
}

/// A reflected CRC (least significant bit first, as CRC-32C and CRC-64/NVME are), computed
/// slice-by-8: eight table lookups per eight bytes, several hundred MB/s in plain Swift.
struct ReflectedCRC: Sendable {
    let width: Int
    let initial: UInt64
    let finalXOR: UInt64
    /// 8 tables of 256 entries, one after another.
    private let tables: [UInt64]

    /// CRC-64/NVME: what S3 computes for every new object by default.
    static let crc64nvme = ReflectedCRC(width: 64, reflectedPolynomial: 0x9A6C_9329_AC4B_C9B5)
    /// CRC-32C (Castagnoli).
    static let crc32c = ReflectedCRC(width: 32, reflectedPolynomial: 0x82F6_3B78)

    init(width: Int, reflectedPolynomial: UInt64) {
        self.width = width
        let mask: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
        initial = mask
        finalXOR = mask
        var tables = [UInt64](repeating: 0, count: 8 * 256)
        for byte in 0..<256 {
            var crc = UInt64(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ reflectedPolynomial : crc >> 1 }
            tables[byte] = crc
        }
        for slice in 1..<8 {
            for byte in 0..<256 {
                let previous = tables[(slice - 1) * 256 + byte]
                tables[slice * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        self.tables = tables
    }

    func update(_ crc: UInt64, _ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var crc = crc
        tables.withUnsafeBufferPointer { table in
            var offset = 0
            let count = bytes.count
            while count - offset >= 8 {
                let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) ^ crc
                crc =
                    table[7 * 256 + Int(word & 0xFF)] ^ table[6 * 256 + Int((word >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((word >> 16) & 0xFF)] ^ table[4 * 256 + Int((word >> 24) & 0xFF)]
                    ^ table[3 * 256 + Int((word >> 32) & 0xFF)] ^ table[2 * 256 + Int((word >> 40) & 0xFF)]
                    ^ table[1 * 256 + Int((word >> 48) & 0xFF)] ^ table[Int(word >> 56)]
                offset += 8
            }
            while offset < count {
                crc = table[Int((crc ^ UInt64(bytes[offset])) & 0xFF)] ^ (crc >> 8)
                offset += 1
            }
        }
        return crc
    }

    func finish(_ crc: UInt64) -> UInt64 { crc ^ finalXOR }

    /// The CRC of `bytes` in one call.
    func checksum(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { finish(update(initial, $0)) }
    }
}

/// How a read was checked, for the run's result: which checksum matched, or why none could be.
public enum Verification: Sendable, Equatable, Codable, CustomStringConvertible {
    case verified(ChecksumAlgorithm)
    /// The size matched, but S3 gave no checksum that covers the whole object (an object uploaded in
    /// parts before S3 kept full-object checksums, or encrypted with SSE-KMS/SSE-C, whose ETag is no MD5).
    case unverified(reason: String)

    public var description: String {
        switch self {
        case .verified(let algorithm): return "verified by \(algorithm.rawValue)"
        case .unverified(let reason): return "not verified: \(reason)"
        }
    }

    /// What a GetObject response lets a reader check, from its headers.
    static func plan(headers: [(name: String, value: String)], etag: String) -> (algorithm: ChecksumAlgorithm, expected: String)? {
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
        for algorithm in ChecksumAlgorithm.preference {
            // A composite checksum ("value-N") is the checksum of the parts' checksums, not of the bytes.
            guard let value = header(algorithm.header!), !value.contains("-") else { continue }
            if header("x-amz-checksum-type")?.uppercased() == "COMPOSITE" { continue }
            return (algorithm, value)
        }
        // SSE-KMS, DSSE-KMS and SSE-C objects have ETags that are not the MD5 of their bytes.
        let encryption = header("x-amz-server-side-encryption")?.lowercased() ?? ""
        if encryption.hasPrefix("aws:kms") || header("x-amz-server-side-encryption-customer-algorithm") != nil { return nil }
        guard etag.count == 32, etag.allSatisfy(\.isHexDigit) else { return nil }
        return (.md5, etag.lowercased())
    }

    static func reason(headers: [(name: String, value: String)], etag: String) -> String {
        let encryption = headers.first { $0.name.lowercased() == "x-amz-server-side-encryption" }?.value.lowercased() ?? ""
        if encryption.hasPrefix("aws:kms") {
            return "encrypted with \(encryption), so its ETag is not an MD5, and S3 returned no full-object checksum"
        }
        if headers.contains(where: { $0.name.lowercased() == "x-amz-server-side-encryption-customer-algorithm" }) {
            return "encrypted with SSE-C, so its ETag is not an MD5, and S3 returned no full-object checksum"
        }
        if etag.contains("-") { return "uploaded in \(etag.split(separator: "-").last ?? "?") parts with no full-object checksum (ETag \(etag))" }
        return "S3 returned no checksum and the ETag '\(etag)' is not an MD5"
    }
}
