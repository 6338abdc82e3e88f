import Foundation

/// A field rule's or filter's regular expression: POSIX extended syntax through the C library
/// (fast enough to run on every record), with `\d`, `\D` and `\s` read as most people write them.
final class Pattern {
    private let regex = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
    let source: String

    init(_ source: String) throws {
        self.source = source
        let translated = source.replacingOccurrences(of: "\\d", with: "[0-9]").replacingOccurrences(of: "\\D", with: "[^0-9]")
        let status = regcomp(regex, translated, REG_EXTENDED | REG_NOSUB)
        guard status == 0 else {
            var message = [CChar](repeating: 0, count: 256)
            regerror(status, regex, &message, message.count)
            regex.deallocate()
            throw ExecutorError.plan(
                "pattern /\(source)/: \(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
    }

    deinit {
        regfree(regex)
        regex.deallocate()
    }

    func matches(_ text: String) -> Bool {
        regexec(regex, text, 0, nil, 0) == 0
    }
}
