import ArgumentParser
import Foundation
import SluiceDriver

/// Where pipelines read from, for `sluice apply` and `sluice run`.
struct SourceOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where S3 pipelines read: s3 (the S3 API), or a folder with one subfolder per spec bucket, laid out as the bucket is (the samples: samples/<spec>).",
            valueName: "s3|folder"))
    var source = "s3"

    @Option(
        name: .customLong("s3-endpoint"),
        help: "An S3-compatible endpoint URL. Default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS's regional endpoint.")
    var s3Endpoint: String?

    @Option(
        name: .customLong("bucket"),
        help: ArgumentHelp(
            "Read the spec's bucket NAME from the bucket DEPLOYED (repeatable). Default: the name the template gives it.",
            valueName: "NAME=DEPLOYED"))
    var buckets: [String] = []

    @Flag(help: "Queue behind a runner that holds a pipeline instead of exiting with status 75.")
    var wait = false

    @Flag(name: .customLong("allow-empty"), help: "A source with no objects under its prefix is expected: warn instead of failing the run.")
    var allowEmpty = false

    @Option(
        name: .customLong("api"),
        help: ArgumentHelp(
            "Read pipeline PIPELINE's API at URL instead of the spec's (a test server, a staging API; repeatable). Its credential is the string in SLUICE_API_CREDENTIAL_<SECRET>.",
            valueName: "PIPELINE=URL"))
    var apis: [String] = []

    @Flag(name: .customLong("no-fetch"), help: "Do not fetch API sources: load only the pages already landed.")
    var noFetch = false

    @Option(
        help: ArgumentHelp(
            "Objects loaded at once, each in its own transaction on its own database connection (default: the number of cores).",
            valueName: "N"))
    var connections: Int?

    func validate() throws {
        if let connections, !(1...64).contains(connections) { throw ValidationError("--connections takes 1 to 64, not \(connections)") }
        for mapping in apis where mapping.split(separator: "=", maxSplits: 1).count != 2 || !mapping.contains("://") {
            throw ValidationError("--api takes PIPELINE=URL, not '\(mapping)'")
        }
        for mapping in buckets where mapping.split(separator: "=").count != 2 {
            throw ValidationError("--bucket takes NAME=DEPLOYED, not '\(mapping)'")
        }
        if let s3Endpoint, URL(string: s3Endpoint)?.scheme == nil { throw ValidationError("--s3-endpoint '\(s3Endpoint)' is not a URL") }
    }

    /// The driver's value for these options.
    var selection: SourceSelection {
        var selection = SourceSelection(source: source, s3Endpoint: s3Endpoint, buckets: buckets, wait: wait, allowEmpty: allowEmpty)
        selection.apis = apis
        selection.fetch = !noFetch
        if let connections { selection.connections = connections }
        return selection
    }
}
