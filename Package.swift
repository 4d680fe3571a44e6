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
    ],
    targets: [
        .target(
            name: "TagStreamCore",
            dependencies: [.product(name: "Collections", package: "swift-collections")]
        ),
        .target(name: "TagStreamSimulation"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
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
            ]
        ),
        .executableTarget(
            name: "tagstream",
            dependencies: [
                "TagStreamCore", "TagStreamRuntime", "TagStreamSimulation", "Kafka", "Redis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "kafka-throughput",
            dependencies: [
                "Kafka", "TagStreamCore", "TagStreamRuntime", "TagStreamSimulation",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "benchmarks/KafkaThroughput"
        ),
        .executableTarget(
            name: "kafka-latency",
            dependencies: ["Kafka", "TagStreamCore", "TagStreamRuntime", .product(name: "Logging", package: "swift-log")],
            path: "benchmarks/KafkaLatency"
        ),
        .executableTarget(
            name: "checkpoint-bench",
            dependencies: ["Kafka", "Redis", "TagStreamCore", "TagStreamRuntime", "TagStreamSimulation", "TestServers",
                           .product(name: "Logging", package: "swift-log")],
            path: "benchmarks/Checkpoints"
        ),
        .testTarget(name: "TagStreamCoreTests", dependencies: ["TagStreamCore", "TagStreamRuntime"]),
        .testTarget(name: "TagStreamSimulationTests", dependencies: ["TagStreamSimulation"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
        .target(name: "TestServers", path: "Tests/TestServers"),
        .testTarget(name: "RedisTests", dependencies: ["Redis", "TestServers"]),
        .testTarget(
            name: "TagStreamRuntimeTests",
            dependencies: ["TagStreamRuntime", "TagStreamCore", "TagStreamSimulation", "Kafka", "Redis", "TestServers"],
            resources: []
        ),
    ]
)
