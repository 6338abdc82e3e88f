import AWSSigning
import Crypto
import Foundation
import NIOCore
import S3Client

/// A source object as listed: its key, size and, where the store knows it without reading, its ETag.
public struct SourceObject: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var etag: String?

    public init(key: String, size: Int64, etag: String? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
    }
}

/// How a whole read ended: what the manifest records of the object, and whether its content could
/// be checked against the store's own checksum.
public struct ReadReceipt: Sendable, Equatable {
    /// The ETag (S3) or `sha256:` of the bytes read (folder).
    public var fingerprint: String
    /// Why the content could not be verified (the size always is); nil when it was, or needs no check.
    public var unverified: String?

    public init(fingerprint: String, unverified: String? = nil) {
        self.fingerprint = fingerprint
        self.unverified = unverified
    }
}

/// Where a pipeline's objects come from: a local folder or an S3 bucket.
public protocol ObjectStore: Sendable {
    var location: String { get }
    /// The objects under `prefix` in key order (bytewise, as S3 lists), handed over a page at a time
    /// so memory does not grow with their number.
    func list(prefix: String, pages: ([SourceObject]) async throws -> Void) async throws
    /// Streams the object's bytes and returns what the manifest records of it, once every byte of
    /// the listed size was read and checked. A mismatch throws: nothing of the object may be kept.
    func read(_ object: SourceObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) async throws -> ReadReceipt
    /// The fingerprint without loading: the listed ETag, or the file's hash.
    func fingerprint(_ object: SourceObject) async throws -> String
}

extension ObjectStore {
    /// Every object under `prefix` at once (small listings and tests).
    public func list(prefix: String) async throws -> [SourceObject] {
        var objects: [SourceObject] = []
        try await list(prefix: prefix) { objects += $0 }
        return objects
    }
}

/// A local folder laid out like the bucket: `root/<key>`. Hidden files are not objects. The root may
/// be a symbolic link; links below it are followed to files, never into folders (no cycles).
public struct FolderStore: ObjectStore {
    public let root: URL
    public var location: String { root.path }
    /// Objects per page.
    static let pageSize = 1000

    public init(root: URL) { self.root = root.standardizedFileURL }

    public func list(prefix: String, pages: ([SourceObject]) async throws -> Void) async throws {
        guard let resolved = realpath(root.path, nil) else {
            throw ExecutorError.source("source folder \(root.path) does not exist")
        }
        let base = String(cString: resolved)
        free(resolved)
        var status = stat()
        guard stat(base, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw ExecutorError.source("source folder \(root.path) is not a folder")
        }
        var page: [SourceObject] = []
        page.reserveCapacity(Self.pageSize)
        // Depth first, each folder's entries in key order: a folder sorts as its name and "/".
        func walk(_ relative: String) async throws {
            for entry in try Self.entries(of: base + "/" + relative) {
                let key = relative + entry.name
                if entry.isFolder {
                    let folder = key + "/"
                    guard folder.hasPrefix(prefix) || prefix.hasPrefix(folder) else { continue }
                    try await walk(folder)
                } else if key.hasPrefix(prefix) {
                    page.append(SourceObject(key: key, size: entry.size))
                    if page.count == Self.pageSize {
                        try await pages(page)
                        page.removeAll(keepingCapacity: true)
                    }
                }
            }
        }
        try await walk("")
        if !page.isEmpty { try await pages(page) }
    }

    struct Entry {
        var name: String
        var isFolder: Bool
        var size: Int64
    }

    /// A folder's visible entries, sorted by their UTF-8 bytes with folders as `name/`.
    static func entries(of path: String) throws -> [Entry] {
        guard let directory = opendir(path) else { throw ExecutorError.source("cannot read the folder \(path): \(String(cString: strerror(errno)))") }
        defer { closedir(directory) }
        var entries: [Entry] = []
        while let item = readdir(directory) {
            let name = withUnsafeBytes(of: item.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
            if name.hasPrefix(".") { continue }
            let full = path + "/" + name
            var status = stat()
            let type = Int(item.pointee.d_type)
            if type == Int(DT_DIR) || (type == Int(DT_UNKNOWN) && lstat(full, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR) {
                entries.append(Entry(name: name, isFolder: true, size: 0))
            } else if stat(full, &status) == 0, status.st_mode & S_IFMT == S_IFREG {
                entries.append(Entry(name: name, isFolder: false, size: Int64(status.st_size)))
            }
        }
        return entries.sorted { ($0.isFolder ? $0.name + "/" : $0.name).utf8.lexicographicallyPrecedes(($1.isFolder ? $1.name + "/" : $1.name).utf8) }
    }

    public func read(_ object: SourceObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) async throws -> ReadReceipt {
        // POSIX reads into one buffer: Foundation's FileHandle and a Data per chunk held on to memory
        // per file read, which a load of a million files could not afford.
        let path = root.appendingPathComponent(object.key).path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ExecutorError.source("cannot open \(object.key) in \(root.path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var hash = SHA256()
        var size: Int64 = 0
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ExecutorError.source("cannot read \(object.key) in \(root.path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hash.update(bufferPointer: chunk)
            size += Int64(count)
            try consume(chunk)
        }
        // A file still being written (or rewritten) is not loaded half-way.
        guard size == object.size else {
            throw ExecutorError.integrity(
                "\(object.key) in \(root.path) was \(object.size) bytes when listed and \(size) when read: it changed while being read")
        }
        return ReadReceipt(fingerprint: "sha256:" + hex(hash.finalize()))
    }

    public func fingerprint(_ object: SourceObject) async throws -> String {
        try await read(object) { _ in }.fingerprint
    }
}

/// An S3 bucket through the S3 API (any S3-compatible endpoint).
public struct S3Store: ObjectStore {
    public let client: S3Client
    public let bucket: String
    public var location: String { "s3://\(bucket) at \(client.endpoint.absoluteString)" }

    public init(client: S3Client, bucket: String) {
        self.client = client
        self.bucket = bucket
    }

    public func list(prefix: String, pages: ([SourceObject]) async throws -> Void) async throws {
        try await client.forEachListingPage(bucket: bucket, prefix: prefix) { objects in
            try await pages(objects.map { SourceObject(key: $0.key, size: $0.size, etag: $0.etag) })
        }
    }

    /// Reads the listed version only (`If-Match` on its ETag), every byte of its listed size, checked
    /// against S3's checksum; the manifest records the ETag.
    public func read(_ object: SourceObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) async throws -> ReadReceipt {
        let read = try await client.getObject(bucket: bucket, key: object.key, expectedETag: object.etag, expectedSize: object.size) { buffer in
            try buffer.withUnsafeReadableBytes { try consume($0) }
        }
        if case .unverified(let reason) = read.verification { return ReadReceipt(fingerprint: read.etag, unverified: reason) }
        return ReadReceipt(fingerprint: read.etag)
    }

    public func fingerprint(_ object: SourceObject) async throws -> String { object.etag ?? "" }
}

/// Where refused records are also written when the pipeline names a quarantine bucket.
public protocol QuarantineSink: Sendable {
    var location: String { get }
    func write(key: String, body: [UInt8]) async throws
}

extension FolderStore: QuarantineSink {
    public func write(key: String, body: [UInt8]) async throws {
        let url = root.appendingPathComponent(key)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(body).write(to: url, options: .atomic)
    }
}

extension S3Store: QuarantineSink {
    public func write(key: String, body: [UInt8]) async throws {
        try await client.putObject(bucket: bucket, key: key, body: body)
    }
}

/// Where an API source's pages are written before they are loaded: the source's own store, which
/// can also remove what an interrupted fetch left behind.
public protocol LandingStore: ObjectStore, QuarantineSink {
    func remove(key: String) async throws
    /// Makes the store listable before anything is landed (a folder that does not exist yet).
    func prepare() throws
}

extension FolderStore: LandingStore {
    public func prepare() throws { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) }

    public func remove(key: String) async throws {
        let path = root.appendingPathComponent(key).path
        guard unlink(path) == 0 || errno == ENOENT else {
            throw ExecutorError.source("cannot remove \(key) in \(root.path): \(String(cString: strerror(errno)))")
        }
    }
}

extension S3Store: LandingStore {
    public func prepare() throws {}
    public func remove(key: String) async throws { try await client.deleteObject(bucket: bucket, key: key) }
}
