import Foundation
import TestSupport
import Testing

@testable import S3Client

/// Our CRC-64/NVME, CRC-32C and CRC-32 against their catalogue check values and against independent
/// implementations (awscrt, AWS's own, and the crc32c package, as moto and botocore use them).
@Suite("Checksums S3 keeps")
struct ChecksumTests {
    func checksum(_ algorithm: ChecksumAlgorithm, _ bytes: [UInt8], splits: [Int] = []) -> String {
        var running = RunningChecksum(algorithm)
        var start = 0
        for end in splits.sorted() + [bytes.count] where end >= start {
            bytes[start..<end].withUnsafeBytes { running.update($0) }
            start = end
        }
        return running.finalize()
    }

    @Test func catalogueCheckValues() {
        let check = Array("123456789".utf8)
        #expect(ReflectedCRC.crc64nvme.checksum(check) == 0xAE8B_1486_0A79_9888)
        #expect(ReflectedCRC.crc32c.checksum(check) == 0xE306_9283)
        #expect(checksum(.crc32, check) == RunningChecksum.bigEndianBase64(0xCBF4_3926, bytes: 4))
        #expect(checksum(.md5, []) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(checksum(.sha256, []) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
    }

    @Test func anyChunkingGivesTheSameValue() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let bytes = (0..<Int.random(in: 0..<5000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let splits = (0..<Int.random(in: 0..<6, using: &generator)).map { _ in Int.random(in: 0...bytes.count, using: &generator) }
            for algorithm in ChecksumAlgorithm.allCases {
                #expect(
                    checksum(algorithm, bytes, splits: splits) == checksum(algorithm, bytes), "\(algorithm), \(bytes.count) bytes split at \(splits)")
            }
        }
    }

    @Test func agreesWithAWSCommonRuntimeAndCRC32C() throws {
        // Lengths around the 8-byte stride and its tail, and some larger ones.
        let lengths = Array(0...40) + [63, 64, 65, 255, 256, 1000, 4096, 65_537, 1 << 20]
        let buffers = lengths.map { length in (0..<length).map { _ in UInt8.random(in: 0...255) } }
        let folder = try temporaryFolder("checksums")
        defer { try? FileManager.default.removeItem(at: folder) }
        for (index, buffer) in buffers.enumerated() { try Data(buffer).write(to: folder.appendingPathComponent("\(index)")) }
        let script = """
            import base64, binascii, sys, crc32c
            from awscrt import checksums
            for index in range(int(sys.argv[2])):
                data = open(f"{sys.argv[1]}/{index}", "rb").read()
                print(base64.b64encode(checksums.crc64nvme(data).to_bytes(8, "big")).decode(),
                      base64.b64encode(crc32c.crc32c(data).to_bytes(4, "big")).decode(),
                      base64.b64encode(binascii.crc32(data).to_bytes(4, "big")).decode())
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try pythonExecutable())
        process.arguments = ["-c", script, folder.path, String(buffers.count)]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let lines = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "awscrt and crc32c come from PyPI (bash scripts/setup --test): \(message)")
        try #require(lines.count == buffers.count)
        for (buffer, line) in zip(buffers, lines) {
            let expected = line.split(separator: " ").map(String.init)
            #expect([checksum(.crc64nvme, buffer), checksum(.crc32c, buffer), checksum(.crc32, buffer)] == expected, "\(buffer.count) bytes")
        }
    }

    @Test func whatAResponseLetsAReaderCheck() {
        func plan(_ headers: [(String, String)], etag: String) -> ChecksumAlgorithm? {
            Verification.plan(headers: headers.map { (name: $0.0, value: $0.1) }, etag: etag)?.algorithm
        }
        let md5 = "5d41402abc4b2a76b9719d911017c592"
        #expect(plan([], etag: md5) == .md5)
        #expect(
            plan([("x-amz-checksum-crc32", "NhCmhg=="), ("x-amz-checksum-sha256", "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")], etag: md5)
                == .sha256)
        #expect(plan([("x-amz-checksum-crc64nvme", "RajMxNkMptM="), ("x-amz-checksum-type", "FULL_OBJECT")], etag: "abc-3") == .crc64nvme)
        // Composite checksums and multipart ETags do not cover the bytes as a whole.
        #expect(plan([("x-amz-checksum-crc32", "4/Bf+A==-3"), ("x-amz-checksum-type", "COMPOSITE")], etag: "3e54-3") == nil)
        #expect(plan([], etag: "3e5413970c446f9d0093c41988e62a14-3") == nil)
        // SSE-KMS and SSE-C ETags are not MD5s of the bytes.
        #expect(plan([("x-amz-server-side-encryption", "aws:kms")], etag: md5) == nil)
        #expect(plan([("x-amz-server-side-encryption", "aws:kms:dsse")], etag: md5) == nil)
        #expect(plan([("x-amz-server-side-encryption-customer-algorithm", "AES256")], etag: md5) == nil)
        #expect(plan([("x-amz-server-side-encryption", "AES256")], etag: md5) == .md5)
        #expect(plan([("x-amz-server-side-encryption", "aws:kms"), ("x-amz-checksum-crc32c", "yZRlqg==")], etag: md5) == .crc32c)
    }
}
