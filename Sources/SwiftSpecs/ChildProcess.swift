import Foundation

/// Runs a program to completion with a time limit. Its output goes to temporary files, not pipes,
/// so a chatty compiler cannot fill a pipe and stall while we wait for it to exit.
enum ChildProcess {
    struct Result {
        var status: Int32
        var stderr: String
        var timedOut: Bool
    }

    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval) throws -> Result {
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let errors = try FileHandle(forWritingTo: errorFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.standardError
        process.standardError = errors
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            finished.wait()
        }
        try? errors.close()
        let text = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        return Result(status: process.terminationStatus, stderr: text.trimmingCharacters(in: .whitespacesAndNewlines), timedOut: timedOut)
    }
}
