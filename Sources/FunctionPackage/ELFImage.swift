import Foundation

/// The two edits that make a dynamically linked ELF executable start from its own folder of libraries
/// wherever it runs: its program interpreter (PT_INTERP) points at a bundled dynamic loader, and its
/// library search path becomes a DT_RPATH (searched before LD_LIBRARY_PATH, unlike DT_RUNPATH, so
/// Lambda's `/lib64` cannot put an older glibc in front of the bundled one). Both are rewritten in
/// place: the new strings must fit where the old ones were, which holds for the short `/var/task`
/// paths a Lambda package uses.
public struct ELFImage {
    public enum Machine: Sendable, Equatable, CustomStringConvertible {
        case x86_64, arm64, other(UInt16)
        public var description: String {
            switch self {
            case .x86_64: return "x86_64"
            case .arm64: return "arm64"
            case .other(let code): return "ELF machine \(code)"
            }
        }
    }

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    public private(set) var bytes: [UInt8]

    public init(_ bytes: [UInt8]) throws {
        guard bytes.count > 64, bytes[0..<4] == [0x7F, 0x45, 0x4C, 0x46] else { throw Problem(description: "not an ELF file") }
        guard bytes[4] == 2, bytes[5] == 1 else { throw Problem(description: "not a 64-bit little-endian ELF file") }
        self.bytes = bytes
    }

    public var machine: Machine {
        switch read16(0x12) {
        case 0x3E: return .x86_64
        case 0xB7: return .arm64
        case let code: return .other(code)
        }
    }

    public var interpreter: String? {
        programHeaders.first { $0.type == 3 }.map { cString(at: Int($0.offset), limit: Int($0.fileSize)) }
    }

    /// The DT_RPATH or DT_RUNPATH string, and which it is.
    public var searchPath: (path: String, isRPATH: Bool)? {
        guard let dynamic = try? dynamicSection(), let entry = dynamic.entries.first(where: { $0.tag == 15 || $0.tag == 29 }) else {
            return nil
        }
        return (cString(at: dynamic.stringTable + Int(entry.value), limit: .max), entry.tag == 15)
    }

    public mutating func setInterpreter(_ path: String) throws {
        guard let header = programHeaders.first(where: { $0.type == 3 }) else { throw Problem(description: "has no program interpreter") }
        try overwrite(at: Int(header.offset), room: Int(header.fileSize), with: path)
    }

    /// Replaces the run path with `path` as a DT_RPATH.
    public mutating func setRPATH(_ path: String) throws {
        let dynamic = try dynamicSection()
        guard let entry = dynamic.entries.first(where: { $0.tag == 15 || $0.tag == 29 }) else {
            throw Problem(description: "has no DT_RUNPATH or DT_RPATH to rewrite")
        }
        let start = dynamic.stringTable + Int(entry.value)
        let old = cString(at: start, limit: .max)
        try overwrite(at: start, room: old.utf8.count + 1, with: path)
        write64(entry.position, 15)
    }

    // MARK: Reading

    private struct ProgramHeader {
        let type: UInt32
        let offset: UInt64
        let virtualAddress: UInt64
        let fileSize: UInt64
    }

    private var programHeaders: [ProgramHeader] {
        let start = Int(read64(0x20)), size = Int(read16(0x36)), count = Int(read16(0x38))
        return (0..<count).compactMap { index in
            let at = start + index * size
            guard at + 56 <= bytes.count else { return nil }
            return ProgramHeader(type: read32(at), offset: read64(at + 8), virtualAddress: read64(at + 16), fileSize: read64(at + 32))
        }
    }

    private func dynamicSection() throws -> (entries: [(tag: UInt64, value: UInt64, position: Int)], stringTable: Int) {
        guard let header = programHeaders.first(where: { $0.type == 2 }) else { throw Problem(description: "is not dynamically linked") }
        var entries: [(tag: UInt64, value: UInt64, position: Int)] = []
        var at = Int(header.offset)
        while at + 16 <= Int(header.offset + header.fileSize) {
            let tag = read64(at)
            if tag == 0 { break }
            entries.append((tag, read64(at + 8), at))
            at += 16
        }
        guard let address = entries.first(where: { $0.tag == 5 })?.value else { throw Problem(description: "has no string table") }
        // DT_STRTAB is an address: the loadable segment holding it gives its place in the file.
        guard
            let segment = programHeaders.first(where: {
                $0.type == 1 && $0.virtualAddress <= address && address < $0.virtualAddress + $0.fileSize
            })
        else { throw Problem(description: "its string table is outside every loadable segment") }
        return (entries, Int(segment.offset + (address - segment.virtualAddress)))
    }

    private func cString(at start: Int, limit: Int) -> String {
        var end = start
        while end < bytes.count, end - start < limit, bytes[end] != 0 { end += 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private mutating func overwrite(at start: Int, room: Int, with text: String) throws {
        let new = Array(text.utf8)
        guard new.count + 1 <= room else {
            throw Problem(description: "'\(text)' is longer than the \(room - 1) bytes the old value leaves")
        }
        for index in 0..<room { bytes[start + index] = index < new.count ? new[index] : 0 }
    }

    private func read16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
    private func read32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
    private func read64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }
    private mutating func write64(_ at: Int, _ value: UInt64) {
        for index in 0..<8 { bytes[at + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }
}
