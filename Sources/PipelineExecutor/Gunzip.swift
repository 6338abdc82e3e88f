import CSystemZlib

/// Streaming gzip decompression over zlib: input arrives in chunks, output leaves in chunks, so an
/// object of any size needs a fixed amount of memory. Concatenated gzip members (what `cat a.gz b.gz`
/// and many log shippers produce) are read as one stream.
final class Gunzip {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    private var ended = false
    private var sawInput = false

    init() throws {
        stream.initialize(to: z_stream())
        // 15 + 16: gzip only, with the largest window.
        guard inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ExecutorError.source("zlib could not be initialised")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func feed(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard input.count > 0 else { return }
        sawInput = true
        var offset = 0
        while offset < input.count {
            if ended {
                // Another member follows the one that ended.
                guard inflateReset(stream) == Z_OK else { throw ExecutorError.source("gzip: could not start the next member") }
                ended = false
            }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count - offset)
            var status: Int32 = Z_OK
            repeat {
                let produced: Int = try output.withUnsafeMutableBytes { buffer in
                    stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_out = uInt(buffer.count)
                    status = inflate(stream, Z_NO_FLUSH)
                    guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                        let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                        throw ExecutorError.source("gzip: \(message)")
                    }
                    return buffer.count - Int(stream.pointee.avail_out)
                }
                if produced > 0 { try output.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
            } while status == Z_OK && (stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0)
            let consumed = input.count - Int(stream.pointee.avail_in)
            if status == Z_STREAM_END { ended = true }
            if status == Z_BUF_ERROR {
                if stream.pointee.avail_in == 0 { break }
                if consumed == offset { throw ExecutorError.source("gzip: the stream makes no progress") }
            }
            offset = consumed
        }
    }

    /// Refuses a stream cut short: its last records would otherwise vanish without a word.
    func finish() throws {
        guard sawInput else { return }
        guard ended else { throw ExecutorError.source("gzip stream is truncated") }
    }

    /// The gzip magic bytes.
    static func looksCompressed(_ prefix: UnsafeRawBufferPointer) -> Bool {
        prefix.count >= 2 && prefix[0] == 0x1f && prefix[1] == 0x8b
    }
}
