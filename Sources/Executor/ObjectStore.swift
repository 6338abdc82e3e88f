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
}

/// Where a pipeline's objects come from: a local folder or an S3 bucket.
public protocol ObjectStore: Sendable {
    var location: String { get }
    func list(prefix: String) async throws -> [SourceObject]
    /// Streams the object's bytes and returns what the manifest records of it: the ETag (S3) or the
    /// SHA-256 of the bytes read (folder).
    func read(_ object: SourceObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) async throws -> String
    /// The same value without loading: the listed ETag, or the file's hash.
    func fingerprint(_ object: SourceObject) async throws -> String
}

/// A local folder laid out like the bucket: `root/<key>`. Hidden files are not objects.
public struct FolderStore: ObjectStore {
    public let root: URL
    public var location: String { root.path }

    public init(root: URL) { self.root = root.standardizedFileURL }

    public func list(prefix: String) async throws -> [SourceObject] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ExecutorError.source("source folder \(root.path) does not exist")
        }
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        var objects: [SourceObject] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey],
                                                        options: [.skipsHiddenFiles])
        while let url = enumerator?.nextObject() as? URL {
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
            guard values.isRegularFile == true else { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(base) else { continue }
            let key = String(path.dropFirst(base.count))
            if key.hasPrefix(prefix) { objects.append(SourceObject(key: key, size: Int64(values.fileSize ?? 0), etag: nil)) }
        }
        return objects.sorted { $0.key < $1.key }
    }

    public func read(_ object: SourceObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) async throws -> String {
        guard let handle = FileHandle(forReadingAtPath: root.appendingPathComponent(object.key).path) else {
            throw ExecutorError.source("cannot open \(object.key) in \(root.path)")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hash.update(data: chunk)
            try chunk.withUnsafeBytes { try consume($0) }
        }
        return "sha256:" + hex(hash.finalize())
    }

    public func fingerprint(_ object: SourceObject) async throws -> String {
        try await read(object) { _ in }
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

    public func list(prefix: String) async throws -> [SourceObject] {
        try await client.listObjects(bucket: bucket, prefix: prefix).map { SourceObject(key: $0.key, size: $0.size, etag: $0.etag) }
    }

    public func read(_ object: SourceObject, _ consume: (UnsafeRawBufferPointer) throws -> Void) async throws -> String {
        let (etag, _) = try await client.getObject(bucket: bucket, key: object.key) { buffer in
            try buffer.withUnsafeReadableBytes { try consume($0) }
        }
        return etag
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
