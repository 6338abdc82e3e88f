import SluiceCore

struct BucketPublicAccessRule: Rule {
    static let documentation = RuleDocumentation(
        id: "SL401", name: "bucket-public-access", severity: .error,
        summary: "Every bucket blocks public access.",
        explanation:
            "S3 Block Public Access (all four settings) stops an ACL or bucket policy written later from making raw data public. Raw, quarantine and result buckets of an analytics pipeline hold personal data; none of them is a website."
    )

    static let examples = RuleExamples(
        triggering: [
            RuleExample(
                """
                storage:
                  buckets:
                    - ↓{ name: exports, block_public_access: false }
                """)
        ],
        nonTriggering: [
            RuleExample(
                """
                storage:
                  buckets:
                    - { name: exports }
                """)
        ])

    func check(_ context: CheckContext) -> [Diagnostic] {
        context.spec.storage.buckets.filter { !$0.blockPublicAccess }.map { bucket in
            finding("bucket '\(bucket.name)' does not block public access", at: bucket.location, subject: "bucket:\(bucket.name)")
        }
    }
}
