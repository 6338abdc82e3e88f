import ArgumentParser
import Foundation
import SluiceDriver

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Print what a rule checks and why; without a rule, list them all.")

    @Argument(help: "A rule ID (SL201) or name (private-default-route).")
    var rule: String?

    func validate() throws {
        guard let rule, RuleCatalog.find(rule) == nil else { return }
        var message = "unknown rule '\(rule)'"
        if let s = Suggestion.closest(to: rule, among: RuleCatalog.all.map(\.id) + RuleCatalog.all.map(\.name)) {
            message += "; did you mean '\(s)'?"
        }
        throw ValidationError(message + " (run 'sluice explain' for the list)")
    }

    func run() throws {
        guard let rule, let doc = RuleCatalog.find(rule) else {
            for doc in RuleCatalog.all {
                print(
                    "\(doc.id)  \(doc.severity.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0))  \(doc.name.padding(toLength: 30, withPad: " ", startingAt: 0))  \(doc.summary)"
                )
            }
            return
        }
        print("\(doc.id) \(doc.name) (\(doc.severity.rawValue))\n\n\(doc.summary)\n\n\(wrap(doc.explanation, width: 88))")
        // The rule's own examples, as its test runs them: what it reports (↓ where) and what it accepts.
        if let examples = RuleCatalog.examples(of: doc.id) {
            for (title, fragments) in [("Reported (↓ marks the finding)", examples.reported), ("Accepted", examples.accepted)] {
                for fragment in fragments {
                    print(
                        "\n\(title):\n"
                            + fragment.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }.joined(separator: "\n"))
                }
            }
        }
    }

    func wrap(_ text: String, width: Int) -> String {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            if current.count + word.count + 1 > width, !current.isEmpty {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " \(word)"
        }
        if !current.isEmpty { lines.append(current) }
        return lines.joined(separator: "\n")
    }
}
