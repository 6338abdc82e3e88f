/// What stops an object or a run, with a message that says which and why.
public enum ExecutorError: Error, CustomStringConvertible, Equatable {
    /// The object cannot be read as a whole (truncated gzip, a JSON array without its `]`).
    case format(String)
    /// Reading the source failed (a file, S3, decompression).
    case source(String)
    /// What was read is not the object as listed (it changed while being read): read it again.
    case integrity(String)
    /// The plan or the database is not what the executor can run against.
    case plan(String)
    /// Another runner holds the pipeline's lock.
    case busy(pipeline: String, holder: String)

    public var description: String {
        switch self {
        case .format(let message), .source(let message), .integrity(let message), .plan(let message): return message
        case .busy(let pipeline, let holder):
            return "pipeline \(pipeline) is already running (\(holder)); rerun with --wait to queue behind it"
        }
    }
}
