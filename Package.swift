// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
        .library(name: "SluiceCore", targets: ["SluiceCore"]),
        .library(name: "SpecLoader", targets: ["SpecLoader"]),
        .library(name: "Checks", targets: ["Checks"]),
        // Specs written in Swift. Dynamic, so sluice can compile a spec file against it as SwiftPM does Package.swift.
        .library(name: "SluiceDSL", type: .dynamic, targets: ["SluiceDSL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // SHA-256 and HMAC for SigV4 (and, later, the keyed hash that masks values).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The S3 API: streaming bodies, connection pooling, timeouts.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Already under async-http-client; named so the S3 client can tell a refused connection from a reset.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Deployment packages (and, later, xlsx sources): zip archives written with fixed timestamps over system zlib.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // System libyaml: the loader walks its event stream to keep every node's position.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // System libpq: the warehouse client, COPY included.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // System zlib: gzip-compressed source objects, inflated as they stream. (Not `CZlib`: ZIPFoundation's
        // module for the same library has that name.)
        .systemLibrary(name: "CSystemZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // simdjson (C++) behind a C interface: the executor's JSON parsing, about 10x Foundation's.
        .target(name: "CSimdJSON", cxxSettings: [.define("SIMDJSON_THREADS_ENABLED", to: "1")],
                linkerSettings: [.linkedLibrary("simdjson")]),
        // Runs plan.json: reads objects, applies the record program, loads exactly once.
        // Links the plan format, never the compiler: it runs where the spec is absent (SluiceCore for its
        // did-you-mean suggestions). ZIPFoundation opens xlsx workbooks (the package step has it already);
        // AWSServices' XMLTree reads their directory and styles.
        .target(name: "PipelineExecutor", dependencies: [
            "CSimdJSON", "CSystemZlib", "PlanFormat", "PostgresClient", "S3Client", "AWSSigning", "AWSServices", "SluiceCore",
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        // A small Swift API over libpq: parameterised queries, transactions, COPY, SQLSTATE errors.
        .target(name: "PostgresClient", dependencies: ["CLibPQ"]),
        // generated/<spec>/architecture.md: Mermaid diagrams of the network, connections and data flow.
        .target(name: "ArchitectureDiagram", dependencies: ["SluiceCore"]),
        // plan.json's format alone: Codable types and enums, no dependencies.
        .target(name: "PlanFormat"),
        // Spec -> generated/<spec>/plan.json: the pipelines compiled for the executor, with the SQL each batch runs.
        .target(name: "PlanCompiler", dependencies: ["PlanFormat", "SluiceCore", "WarehouseDDL"]),
        // AWS Signature Version 4, as S3 and every AWS API take it.
        .target(name: "AWSSigning", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The S3 API over HTTP: ListObjectsV2 page by page, GetObject checked against S3's size and
        // checksums and resumed where a body was cut, PutObject, AWS's standard retries, SigV4.
        .target(name: "S3Client", dependencies: [
            "AWSSigning", "CSystemZlib", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // The AWS control-plane APIs a deploy calls (CloudFormation, EC2's prefix lists, STS, Lambda's Invoke), over
        // one signed, retried transport; and the credential chain CI has (keys, web identity, profiles).
        .target(name: "AWSServices", dependencies: [
            "AWSSigning", "S3Client", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // YAML over libyaml: the reader (every node with its position, safety limits), the emitter, the value tree.
        .target(name: "YAML", dependencies: ["CYAML", "SluiceCore"]),
        // CloudFormation: the template tree, one renderer per part of the spec, the template diff.
        .target(name: "CloudFormation", dependencies: ["YAML", "SluiceCore"]),
        // The warehouse as the spec wants it: desired schema, DDL statements, schema.sql. No database needed.
        .target(name: "WarehouseDDL", dependencies: ["SluiceCore"]),
        // The warehouse as it is: the throwaway local cluster, the live catalog, migrations.
        .target(name: "LiveWarehouse", dependencies: ["PostgresClient", "WarehouseDDL", "SluiceCore"]),
        // The Swift form of a spec: result builders that write the same node tree the YAML loader reads.
        // Standard library only, so a spec compiles in well under a second.
        .target(name: "SluiceDSL"),
        // `sluice export`: a spec tree written as a Swift spec, or as YAML.
        .target(name: "SpecExport", dependencies: ["SpecLoader", "SluiceCore", "YAML"]),
        // Swift specs: compile against SluiceDSL (cached), run, read the node tree, decode it as YAML is decoded.
        .target(name: "SwiftSpecs", dependencies: ["SpecLoader", "SluiceCore", "YAML", .product(name: "Crypto", package: "swift-crypto")]),
        // Diagnostics, CIDR math and the resolved model. No dependencies.
        .target(name: "SluiceCore"),
        // Located YAML nodes -> Model, with diagnostics.
        .target(name: "SpecLoader", dependencies: ["YAML", "SluiceCore"]),
        // The rule catalog and the network reasoning.
        .target(name: "Checks", dependencies: ["SluiceCore"]),
        // The compiler's stages as a library: spec source -> Spec -> checked -> generated/ -> differences, and the
        // warehouse and pipeline runs. Commands, rule tests and the fuzzer call it; docs/architecture.md draws it.
        .target(name: "SluiceDriver", dependencies: [
            "SluiceCore", "YAML", "SpecLoader", "SwiftSpecs", "SpecExport", "Checks", "ArchitectureDiagram", "CloudFormation", "PlanFormat",
            "PlanCompiler", "WarehouseDDL", "LiveWarehouse", "PostgresClient", "PipelineExecutor", "S3Client", "AWSSigning",
            "FunctionPackage", "CloudRuntime", "AWSServices",
        ]),
        // `sluice package`: the running binary made self-contained for Lambda (its own loader and libraries,
        // ELF edits in place) and written as a deterministic zip.
        .target(name: "FunctionPackage", dependencies: [
            .product(name: "ZIPFoundation", package: "ZIPFoundation"), .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // What the executor needs inside AWS: Lambda's Runtime API, Secrets Manager.
        .target(name: "CloudRuntime", dependencies: [
            "AWSSigning", "AWSServices", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // One file per verb: options, one driver call, a view. The executable only calls into it.
        .target(name: "SluiceCLI", dependencies: [
            "SluiceDriver", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "sluice", dependencies: ["SluiceCLI"]),
        // libFuzzer entry point for spec -> model -> checks (built by fuzz/run).
        .executableTarget(name: "SpecFuzzer", dependencies: ["SpecLoader", "Checks"], path: "fuzz/SpecFuzzer"),
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore"]),
        // every-key*.yaml: the spec that writes each schema key the reference specs do not (SchemaTests, SwiftSpecTests).
        .testTarget(name: "SpecLoaderTests", dependencies: ["SpecLoader", "YAML", "TestSupport"], exclude: ["every-key.yaml", "every-key-part.yaml"]),
        .testTarget(name: "ChecksTests", dependencies: ["Checks", "SpecLoader", "SwiftSpecs", "TestSupport"]),
        .testTarget(name: "ArchitectureDiagramTests", dependencies: ["ArchitectureDiagram", "SpecLoader", "SluiceCore"]),
        .testTarget(name: "AWSSigningTests", dependencies: ["AWSSigning"]),
        // The real servers tests talk to: a throwaway PostgreSQL cluster and moto's S3 API.
        .target(name: "TestSupport", dependencies: ["LiveWarehouse", "PostgresClient", "AWSSigning", "S3Client", "SpecLoader", "YAML",
                                                    .product(name: "AsyncHTTPClient", package: "async-http-client")],
                path: "Tests/TestSupport", exclude: ["fault_proxy.py", "run_action.py", "validate_sarif.py", "runtime_api.py", "moto_launcher.py", "cloudformation_standin.py", "make_workbook.py", "api_server.py"]),
        .testTarget(name: "S3ClientTests", dependencies: ["S3Client", "AWSSigning", "AWSServices", "CloudRuntime", "TestSupport", .product(name: "AsyncHTTPClient", package: "async-http-client")]),
        .testTarget(name: "CloudFormationTests", dependencies: ["CloudFormation", "SpecLoader", "YAML", "Checks"]),
        .testTarget(name: "WarehouseTests", dependencies: ["TestSupport", "LiveWarehouse", "CloudFormation", "WarehouseDDL", "PostgresClient", "SluiceCore", "SpecLoader", "PlanCompiler", "PlanFormat"]),
        .testTarget(name: "ExecutorTests", dependencies: ["TestSupport", "PipelineExecutor", "PlanCompiler", "PlanFormat", "SluiceCore", "PostgresClient", "LiveWarehouse", "WarehouseDDL", "SpecLoader", "S3Client", "AWSSigning"]),
        .testTarget(name: "SwiftSpecTests", dependencies: ["TestSupport", "SwiftSpecs", "SpecExport", "SpecLoader", "SluiceCore", "YAML"]),
        .testTarget(name: "SluiceCLITests", dependencies: ["TestSupport", "SluiceCLI", "SluiceDriver", "SpecLoader", "Checks", "AWSServices"]),
    ]
)
