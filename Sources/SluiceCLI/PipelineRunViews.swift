import Foundation
import SluiceDriver

/// `sluice run` and `sluice apply` as text: a progress line on a terminal while objects load, a
/// summary line per pipeline, and what went wrong with an object on stderr as it is known.
struct PipelineTextView: PipelineRunObserver {
    let progress = ProgressLine(enabled: Terminal.isInteractive(fileDescriptor: 2))

    func event(_ event: RunEvent) { progress.handle(event) }

    func finished(_ result: PipelineResult) {
        progress.clear()
        print(Self.summary(result))
        Self.reportObjects(of: result)
    }

    /// Failed, unverified and changed objects and the run's warnings, on stderr, whatever the format.
    static func reportObjects(of result: PipelineResult) {
        let name = result.pipeline
        if let failed = result.fetchFailed {
            FileHandle.standardError.write(Data("error: \(name): fetching \(failed)\n".utf8))
        }
        for failed in result.objectsFailed {
            FileHandle.standardError.write(Data("error: \(name): \(failed.key): \(failed.error)\n".utf8))
        }
        for warning in result.warnings {
            FileHandle.standardError.write(Data("warning: \(name): \(warning)\n".utf8))
        }
        for unverified in result.objectsUnverified {
            FileHandle.standardError.write(
                Data("note: \(name): \(unverified.key): loaded with its size checked but not its content: \(unverified.reason)\n".utf8))
        }
        if let failed = result.postLoadFailed {
            FileHandle.standardError.write(Data("error: \(name): post-load \(failed.key): \(failed.error)\n".utf8))
        }
        for key in result.objectsChanged {
            FileHandle.standardError.write(
                Data(
                    "warning: \(name): \(key) changed after it was loaded; it is not loaded again (accept it with: sluice run \(name) --reload \(key))\n"
                        .utf8))
        }
    }

    func failed(pipeline: String, error: String) {
        progress.clear()
        FileHandle.standardError.write(Data("error: \(pipeline): \(error)\n".utf8))
    }

    static func summary(_ result: PipelineResult) -> String {
        let counts = result.counts
        let rate = result.seconds > 0 ? Double(counts.recordsRead) / result.seconds : 0
        var parts = ["\(result.pipeline): \(result.objectsLoaded) object(s) loaded, \(result.objectsSkipped) already loaded"]
        if let fetched = result.fetched {
            parts[0] =
                "\(result.pipeline): \(fetched.pages) page(s) fetched (\(group(fetched.records)) records"
                + (fetched.retries > 0 ? ", \(fetched.retries) retried" : "") + "), " + parts[0].dropFirst(result.pipeline.count + 2)
        }
        if result.fetchFailed != nil { parts[0] += ", fetch FAILED" }
        if !result.objectsChanged.isEmpty { parts[0] += ", \(result.objectsChanged.count) changed" }
        if !result.objectsFailed.isEmpty { parts[0] += ", \(result.objectsFailed.count) FAILED" }
        if let failed = result.postLoadFailed { parts[0] += ", post-load \(failed.key) FAILED" }
        if counts.loadsReplaced > 0 {
            parts[0] +=
                ", \(counts.loadsReplaced) earlier load(s) replaced (\(group(counts.rowsRemoved.values.reduce(0, +))) appended row(s) removed first)"
        }
        parts.append(
            "\(group(counts.recordsRead)) records: \(group(counts.recordsLoaded)) loaded, \(group(counts.recordsDuplicate)) duplicate, "
                + "\(group(counts.filteredTotal)) filtered, \(group(counts.recordsQuarantined)) quarantined")
        parts.append(String(format: "%.2f s (%@ records/s), run %d", result.seconds, group(Int(rate)), result.runID))
        return parts.joined(separator: " · ")
    }

    static func group(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }
}

/// `--format json`: no progress and no summary lines (the command prints the whole report at the
/// end); what went wrong still goes to stderr.
struct PipelineJSONView: PipelineRunObserver {
    func event(_ event: RunEvent) {}
    func finished(_ result: PipelineResult) { PipelineTextView.reportObjects(of: result) }
    func failed(pipeline: String, error: String) {
        FileHandle.standardError.write(Data("error: \(pipeline): \(error)\n".utf8))
    }
}

/// `clickstream  3/10 objects · 120,345 records · 85,000 records/s` on stderr, redrawn in place; only on a terminal.
final class ProgressLine: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var pipeline = ""
    private var objects = 0, done = 0, recordsBefore = 0, recordsInObject = 0
    private var started = Date()
    private var lastDraw = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled }

    var handle: @Sendable (RunEvent) -> Void { { [self] event in self.update(event) } }

    private func update(_ event: RunEvent) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .listed(let name, _, let toLoad):
            // Said once per page of the listing, with the totals so far.
            if name != pipeline { pipeline = name; done = 0; recordsBefore = 0; recordsInObject = 0; started = Date() }
            objects = toLoad
        case .objectStarted: recordsInObject = 0
        case .records(_, let count): recordsInObject = count
        case .objectFinished(_, let counts):
            done += 1; recordsBefore += counts.recordsRead; recordsInObject = 0
        case .retrying(let key, let attempt, let reason):
            FileHandle.standardError.write(Data("\r\u{1B}[2Kretrying \(key) (attempt \(attempt + 1)): \(reason)\n".utf8))
        case .fetched: break
        }
        guard Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let records = recordsBefore + recordsInObject
        let rate = Double(records) / max(Date().timeIntervalSince(started), 0.001)
        let width = 24, filled = objects > 0 ? width * done / objects : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(
            Data(
                "\r\u{1B}[2K\(pipeline) \(bar) \(done)/\(objects) objects · \(PipelineTextView.group(records)) records · \(PipelineTextView.group(Int(rate))) records/s"
                    .utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
