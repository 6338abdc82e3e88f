import SluiceCore

struct BucketEncryptionRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL402", name: "bucket-encryption", severity: .error,
        summary: "Every bucket encrypts objects at rest (SSE-S3 or SSE-KMS).",
        explanation:
            "Default encryption is the baseline every audit asks for; 'encryption: none' is refused. Use sse-kms with a customer key where access to the key must be audited separately."
    )

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                storage:
                  buckets:
                    - ↓{ name: exports, encryption: none }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                storage:
                  buckets:
                    - { name: exports, encryption: sse-kms }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        context.spec.storage.buckets.filter { $0.encryption == .none }.map { bucket in
            finding("bucket '\(bucket.name)' is not encrypted at rest", at: bucket.location, subject: "bucket:\(bucket.name)")
        }
    }
}
