import ArgumentParser
import Foundation
import SluiceDriver

/// Where `plan`, `apply` and `destroy` find the deployed side.
struct StackOptions: ParsableArguments {
    @Option(help: "The CloudFormation stack: one per environment of the spec (dev, staging, prod). Lowercase; bucket names include it.")
    var stack: String?

    @Option(help: "AWS region (default: the spec's project.region).")
    var region: String?

    @Option(help: "Bucket for packages and templates over 51,200 bytes (default: the one `sluice bootstrap` made in the account and region).")
    var artifactBucket: String?

    @Option(help: "The spec's environment the stack is (default: the one the stack's name is or ends with, as in clickstream-dev).")
    var environment: String?

    func validate() throws {
        if stack == nil && environment != nil { throw ValidationError("--environment needs --stack: it says which environment that stack is") }
    }

    func target(wait: Bool = false) -> StackTarget? {
        stack.map { StackTarget(stack: $0, region: region, artifactBucket: artifactBucket, wait: wait, environment: environment) }
    }
}

/// Changing an account needs a yes: typed on a terminal, or `--auto-approve` (required without one,
/// as Terraform requires it).
enum Approval {
    static func requireable(autoApprove: Bool, verb: String) throws {
        if !autoApprove && isatty(0) != 1 {
            throw ValidationError("\(verb) changes an AWS account and standard input is not a terminal: pass --auto-approve")
        }
    }

    static func confirmed(_ question: String, autoApprove: Bool) -> Bool {
        if autoApprove { return true }
        FileHandle.standardError.write(Data("\(question)\n  Only 'yes' is accepted: ".utf8))
        return readLine()?.trimmingCharacters(in: .whitespaces) == "yes"
    }
}

/// Stack events and notes, one line each on stderr while a deploy runs (stdout keeps the report).
struct StackProgress: StackDeployment.Observer {
    func note(_ line: String) { FileHandle.standardError.write(Data("\(line)\n".utf8)) }

    func event(_ event: StackDeployment.Event) {
        let time = event.timestamp.count >= 19 ? String(event.timestamp.dropFirst(11).prefix(8)) : event.timestamp
        var line =
            "\(time)  \(event.status.padding(toLength: 20, withPad: " ", startingAt: 0))  \(event.name.map { "\($0) (\(event.id))" } ?? event.id)"
        if let reason = event.reason, !reason.isEmpty { line += ": \(reason)" }
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }
}

enum StackText {
    static func proposal(_ proposal: StackDeployment.Proposal) -> String {
        var text = "stack \(proposal.stack) (\(proposal.region)\(proposal.environment.map { ", environment \($0)" } ?? "")): "
        if proposal.recreating {
            text += "ROLLBACK_COMPLETE, its first create failed; apply deletes it and creates it again\n"
        } else if proposal.upToDate {
            text += "\(proposal.status ?? "not deployed"), up to date: the change set changes nothing\n"
        } else {
            text += (proposal.creating ? "to be created" : "\(proposal.status ?? "")") + ", \(proposal.changes.count) resource change(s)\n"
        }
        for change in proposal.changes {
            let sign = change.action == "Add" ? "+" : change.action == "Remove" ? "-" : "~"
            var line = "    \(sign) \(change.label) \(change.type)"
            if !change.paths.isEmpty { line += ": \(change.paths.joined(separator: ", "))" }
            if let replacement = change.replacement, replacement != "False" {
                line += " [replacement: \(replacement)\(change.predicted ? ", predicted from the resource schema" : "")]"
            }
            if change.destructive { line += "  DESTRUCTIVE: its data is lost" }
            text += line + "\n"
        }
        if var changes = proposal.cloudformation, !changes.security.isEmpty {
            // The resources are listed above, from the change set; the security tables come from the template diff.
            (changes.added, changes.removed, changes.modified) = ([], [], [])
            text += "  security changes against the template deployed in \(proposal.stack):\n"
            text += changes.text.split(separator: "\n").map { "  \($0)\n" }.joined()
        }
        if !proposal.drift.isEmpty {
            text += "  changed outside CloudFormation (drift detection):\n"
            for drift in proposal.drift {
                text += "    ! \(drift.label) \(drift.type) \(drift.status)\n"
                for difference in drift.differences {
                    var line = "        \(difference.kind) \(difference.path)"
                    if let expected = difference.expected, difference.kind != "ADD" { line += " expected \(expected)" }
                    if let actual = difference.actual, difference.kind != "REMOVE" { line += " actual \(actual)" }
                    text += line + "\n"
                }
            }
        }
        for package in proposal.packages {
            text +=
                "  package \(package.function): s3://\(proposal.artifactBucket)/\(package.key) (\(package.present ? "already uploaded" : package.uploaded ? "uploaded" : "to upload"))\n"
        }
        return text
    }

    static func outcome(_ outcome: StackDeployment.Outcome) -> String {
        var text = "stack \(outcome.stack): \(outcome.status)\n"
        for failure in outcome.failures {
            text += "  failed: \(failure.name.map { "\($0) (\(failure.id))" } ?? failure.id) \(failure.status): \(failure.reason)\n"
        }
        if let migration = outcome.migration {
            text += "  warehouse migrated by \(migration.function): \(migration.succeeded ? "ok" : "FAILED") \(migration.answer)\n"
        }
        for (key, value) in outcome.outputs.sorted(by: { $0.key < $1.key }) { text += "  \(key) = \(value)\n" }
        return text
    }
}

/// `sluice apply --stack`: deploy, then migrate from inside the VPC.
enum StackApply {
    struct Report: Encodable {
        var proposal: StackDeployment.Proposal
        var outcome: StackDeployment.Outcome?
        var refused: String?
    }

    static func run(
        specPath: String, target: StackTarget, allowDestructive: Bool, autoApprove: Bool, migrate: Bool, json: Bool
    ) throws {
        try Approval.requireable(autoApprove: autoApprove, verb: "apply --stack")
        let compilation = try Compilation.clean(path: specPath)
        if let spec = compilation.spec {
            let findings = try SpecSQL.checkBeforeDeploy(spec)
            let reporter = TextReporter.standardError
            for finding in findings { FileHandle.standardError.write(Data(reporter.format(finding).utf8)) }
            let errors = findings.filter { $0.severity == .error }.count
            if errors > 0 { throw Failure("the spec's SQL is refused by PostgreSQL (\(errors) problem(s)); nothing was deployed") }
        }
        let progress = StackProgress()
        let session = try Blocking.run { try await StackDeployment.Session(compilation: compilation, target: target) }
        let proposal = try Blocking.run { try await StackDeployment.propose(session, upload: true, observer: progress) }
        if !json { print(StackText.proposal(proposal), terminator: "") }
        func finish(_ report: Report) throws { if json { print(try JSONOutput.text(report)) } }
        if !proposal.destructive.isEmpty && !allowDestructive {
            try Blocking.run { try await StackDeployment.discard(proposal, in: session) }
            let names = proposal.destructive.map(\.label).joined(separator: ", ")
            let reason = "refused: the change set replaces or removes resources that hold data (\(names)); pass --allow-destructive to deploy it"
            try finish(Report(proposal: proposal, outcome: nil, refused: reason))
            throw Failure(reason)
        }
        if !proposal.upToDate {
            guard Approval.confirmed("Deploy these changes to stack \(proposal.stack)?", autoApprove: autoApprove) else {
                try Blocking.run { try await StackDeployment.discard(proposal, in: session) }
                throw Failure("not deployed: not confirmed")
            }
        }
        var outcome = try Blocking.run { try await StackDeployment.execute(proposal, in: session, observer: progress) }
        if outcome.succeeded && migrate {
            outcome.migration = try Blocking.run {
                try await StackDeployment.migrate(session, stack: proposal.stack, allowDestructive: allowDestructive)
            }
        }
        if json { try finish(Report(proposal: proposal, outcome: outcome, refused: nil)) } else { print(StackText.outcome(outcome), terminator: "") }
        if !outcome.succeeded || outcome.migration?.succeeded == false { throw ExitCode.failure }
    }
}

struct DestroyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy",
        abstract: "Delete a spec's stack, after confirmation, and list what is retained and where.",
        discussion: """
            Buckets, the data key, secrets, the warehouse (a final snapshot) and the warehouse host's data are retained by \
            their deletion policies: they are listed with their AWS names before anything is deleted, and stay in the account.
            Exit status: 0 deleted (or no such stack); 1 the delete failed or was not confirmed; 64 usage error (no terminal \
            and no --auto-approve); 75 the stack is being changed.
            """)

    @Argument(help: "The spec whose stack to delete.")
    var spec: String

    @OptionGroup(title: "Stack")
    var stackOptions: StackOptions

    @Flag(help: "Delete without asking (required when standard input is not a terminal).")
    var autoApprove = false

    @Option(help: "Output format: text or json.")
    var format: PlanOutput = .text

    func validate() throws {
        if stackOptions.stack == nil { throw ValidationError("destroy needs --stack NAME: the environment to delete") }
    }

    func run() throws {
        try Approval.requireable(autoApprove: autoApprove, verb: "destroy")
        let compilation = try Compilation.clean(path: spec)
        let session = try Blocking.run {
            try await StackDeployment.Session(compilation: compilation, target: stackOptions.target()!)
        }
        guard let teardown = try Blocking.run({ try await StackDeployment.teardown(session) }) else {
            print("stack \(stackOptions.stack!): not deployed; nothing to delete")
            return
        }
        if format == .text {
            print("stack \(teardown.stack) (\(teardown.status)) will be deleted. Retained, and left in the account:")
            for kept in teardown.retained {
                print("    \(kept.name.map { "\($0) (\(kept.id))" } ?? kept.id) \(kept.type): \(kept.physicalID) [\(kept.policy)]")
            }
        }
        guard Approval.confirmed("Delete stack \(teardown.stack)?", autoApprove: autoApprove) else { throw Failure("not deleted: not confirmed") }
        let outcome = try Blocking.run { try await StackDeployment.destroy(teardown, in: session, observer: StackProgress()) }
        if format == .json {
            struct Report: Encodable {
                var teardown: StackDeployment.Teardown
                var outcome: StackDeployment.Outcome
            }
            print(try JSONOutput.text(Report(teardown: teardown, outcome: outcome)))
        } else {
            print(StackText.outcome(outcome), terminator: "")
        }
        if !outcome.succeeded { throw ExitCode.failure }
    }
}

struct BootstrapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap",
        abstract: "Create (or update) the artifact bucket's stack for one account and region, once, before `apply --stack`.",
        discussion: """
            Stack sluice-bootstrap: bucket sluice-artifacts-<account>-<region>, encrypted, versioned, TLS-only, public access \
            blocked, packages expired after a year. `apply --stack` finds it, or takes --artifact-bucket. Running it again \
            changes nothing when the template is the same.
            Exit status: 0 ok; 1 failed or not confirmed; 64 usage error (no terminal and no --auto-approve); 75 the stack is \
            being changed.
            """)

    @Option(help: "AWS region.")
    var region: String

    @Flag(help: "Create or update the stack without asking (required when standard input is not a terminal).")
    var autoApprove = false

    @Option(help: "Output format: text or json.")
    var format: PlanOutput = .text

    func run() throws {
        try Approval.requireable(autoApprove: autoApprove, verb: "bootstrap")
        let approved = autoApprove
        let outcome = try Blocking.run {
            try await Bootstrap.run(region: region, observer: StackProgress()) { Approval.confirmed($0, autoApprove: approved) }
        }
        if format == .json {
            print(try JSONOutput.text(outcome))
        } else {
            print(
                "\(outcome.stack) in \(outcome.region) (account \(outcome.account)): \(outcome.upToDate ? "up to date" : outcome.status); "
                    + "artifact bucket \(outcome.artifactBucket ?? "none")")
            for failure in outcome.failures { print("  failed: \(failure.id) \(failure.status): \(failure.reason)") }
        }
        if !outcome.succeeded { throw ExitCode.failure }
    }
}
