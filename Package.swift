// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "TagStream",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tagstream", targets: ["tagstream"]),
        .library(name: "TagStreamCore", targets: ["TagStreamCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .target(
            name: "TagStreamCore",
            dependencies: ["CMemoryHints", .product(name: "Collections", package: "swift-collections")]
        ),
        .target(name: "TagStreamSimulation", dependencies: ["TagStreamCore"]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .systemLibrary(name: "CMemoryHints", path: "Sources/CMemoryHints"),
        .systemLibrary(name: "CRdKafka", path: "Sources/CRdKafka", providers: [.apt(["librdkafka-dev"])]),
        .target(
            name: "Kafka",
            dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")]
        ),
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .target(name: "Redis", dependencies: ["CHiredis"]),
        .target(
            name: "TagStreamRuntime",
            dependencies: [
                "TagStreamCore", "CZlib", "Kafka", "Redis",
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // A symbolic link to pipelines/community-grocery.yaml: the reference pipeline is built in.
            resources: [
                .embedInCode("PipelineFile/community-grocery.yaml"),
                .embedInCode("Dashboard/Assets/dashboard.js"),
                .embedInCode("Dashboard/Assets/dashboard.css"),
            ]
        ),
        .executableTarget(
            name: "tagstream",
            dependencies: [
                "TagStreamCore", "TagStreamRuntime", "TagStreamSimulation", "Kafka", "Redis", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "kafka-throughput",
            dependencies: [
                "Kafka", "Redis", "TagStreamCore", "TagStreamRuntime", "TagStreamSimulation", "TestServers",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "benchmarks/KafkaThroughput"
        ),
        .executableTarget(
            name: "kafka-latency",
            dependencies: [
                "Kafka", "TagStreamCore", "TagStreamRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "benchmarks/KafkaLatency"
        ),
        .executableTarget(
            name: "refresh-exchange-bench",
            dependencies: ["Kafka", "TagStreamRuntime", "TagStreamSimulation", .product(name: "Logging", package: "swift-log")],
            path: "benchmarks/RefreshExchange"
        ),
        .executableTarget(
            name: "dashboard-bench",
            dependencies: ["TagStreamCore", "TagStreamRuntime", "TagStreamSimulation"],
            path: "benchmarks/Dashboard"
        ),
        .executableTarget(
            name: "canary-bench",
            dependencies: ["TagStreamCore", "TagStreamRuntime", "TagStreamSimulation"],
            path: "benchmarks/Canary"
        ),
        .executableTarget(
            name: "checkpoint-bench",
            dependencies: ["Kafka", "Redis", "TagStreamCore", "TagStreamRuntime", "TagStreamSimulation", "TestServers",
                           .product(name: "Logging", package: "swift-log")],
            path: "benchmarks/Checkpoints"
        ),
        .testTarget(name: "TagStreamCoreTests", dependencies: ["TagStreamCore", "TagStreamRuntime"]),
        .testTarget(name: "TagStreamSimulationTests", dependencies: ["TagStreamSimulation", "TagStreamCore", "TagStreamRuntime"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
        .target(name: "TestServers", path: "Tests/TestServers"),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "TestServers"]),
        .testTarget(
            name: "TagStreamRuntimeTests",
            dependencies: [
                "TagStreamRuntime", "TagStreamCore", "TagStreamSimulation", "Kafka", "Redis", "TestServers",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: []
        ),
    ]
)
