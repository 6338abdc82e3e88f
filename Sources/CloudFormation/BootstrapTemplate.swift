/// `sluice bootstrap`'s stack: one per account and region, holding the artifact bucket every
/// `apply` uploads function packages (and templates over 51,200 bytes) to.
public enum BootstrapTemplate {
    /// Packages are keyed by their SHA-256, so one is never overwritten; `apply` uploads one again
    /// when it is absent. A year keeps every package a stack may roll back to within reach while the
    /// bucket does not grow forever; versions left by a deleted object go after 30 days.
    public static let packageDays = 365
    public static let noncurrentVersionDays = 30

    public static let text = """
        AWSTemplateFormatVersion: "2010-09-09"
        Description: 'Sluice artifact bucket for this account and region (sluice bootstrap): function packages and large templates.'
        Resources:
          ArtifactBucket:
            Type: AWS::S3::Bucket
            DeletionPolicy: Retain
            UpdateReplacePolicy: Retain
            Metadata:
              checkov:
                skip:
                - id: CKV_AWS_18
                  comment: Access logs would need a second bucket per account and region; CloudTrail records who deployed what.
            Properties:
              BucketName:
                Fn::Sub: sluice-artifacts-${AWS::AccountId}-${AWS::Region}
              BucketEncryption:
                ServerSideEncryptionConfiguration:
                - ServerSideEncryptionByDefault:
                    SSEAlgorithm: aws:kms
                    KMSMasterKeyID: alias/aws/s3
                  BucketKeyEnabled: true
              VersioningConfiguration:
                Status: Enabled
              PublicAccessBlockConfiguration:
                BlockPublicAcls: true
                BlockPublicPolicy: true
                IgnorePublicAcls: true
                RestrictPublicBuckets: true
              OwnershipControls:
                Rules:
                - ObjectOwnership: BucketOwnerEnforced
              LifecycleConfiguration:
                Rules:
                - Id: ExpireOldArtifacts
                  Status: Enabled
                  ExpirationInDays: \(packageDays)
                  NoncurrentVersionExpiration:
                    NoncurrentDays: \(noncurrentVersionDays)
                  AbortIncompleteMultipartUpload:
                    DaysAfterInitiation: 1
          ArtifactBucketPolicy:
            Type: AWS::S3::BucketPolicy
            Properties:
              Bucket:
                Ref: ArtifactBucket
              PolicyDocument:
                Version: "2012-10-17"
                Statement:
                - Sid: DenyInsecureTransport
                  Effect: Deny
                  Principal: '*'
                  Action: s3:*
                  Resource:
                  - Fn::GetAtt: [ArtifactBucket, Arn]
                  - Fn::Sub: ${ArtifactBucket.Arn}/*
                  Condition:
                    Bool:
                      aws:SecureTransport: 'false'
        Outputs:
          ArtifactBucket:
            Description: Bucket that sluice apply uploads function packages and large templates to.
            Value:
              Ref: ArtifactBucket

        """
}
