import Crypto
import Foundation
import ZIPFoundation

/// One file of a deployment package.
public struct PackageFile: Sendable, Equatable {
    public var path: String
    public var contents: Data
    public var executable: Bool

    public init(path: String, contents: Data, executable: Bool = false) {
        self.path = path
        self.contents = contents
        self.executable = executable
    }
}

/// A Lambda deployment package: a zip whose bytes depend only on its files (sorted paths, one fixed
/// timestamp, fixed permissions), so the same inputs give the same package and the same key.
public struct DeploymentPackage: Sendable {
    /// Lambda's limit for a function's code unzipped. (Its 50 MB for a zip uploaded directly does not
    /// bind: the template deploys packages from S3.)
    public static let unzippedLimit = 250 * 1024 * 1024

    public let zip: Data
    public let files: [String]
    public let unzippedSize: Int
    /// Hex SHA-256 of the zip: its name in the artifact bucket, so an unchanged package is not uploaded
    /// again and does not redeploy its function.
    public let sha256: String

    /// 1980-01-01T00:00:00Z, the first time a zip can hold: no build time leaks into the bytes.
    static let timestamp = Date(timeIntervalSince1970: 315_532_800)

    public init(files: [PackageFile]) throws {
        let sorted = files.sorted { $0.path < $1.path }
        let archive = try Archive(accessMode: .create)
        for file in sorted {
            try archive.addEntry(
                with: file.path, type: .file, uncompressedSize: Int64(file.contents.count), modificationDate: Self.timestamp,
                permissions: file.executable ? 0o755 : 0o644, compressionMethod: .deflate
            ) { position, size in
                file.contents.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        guard let zip = archive.data else { throw ELFImage.Problem(description: "the zip archive was not written") }
        self.zip = zip
        self.files = sorted.map(\.path)
        self.unzippedSize = sorted.reduce(0) { $0 + $1.contents.count }
        self.sha256 = SHA256.hash(data: zip).map { String(format: "%02x", $0) }.joined()
    }

    /// What keeps Lambda from taking it, in words; empty when it fits. Only the unzipped size binds a
    /// package deployed from S3, as the template deploys it.
    public var limitProblems: [String] {
        guard unzippedSize > Self.unzippedLimit else { return [] }
        return ["its files are \(Self.megabytes(unzippedSize)) unzipped, over Lambda's \(Self.megabytes(Self.unzippedLimit)) for a function's code"]
    }

    public static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
}
