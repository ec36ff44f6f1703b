// swift-tools-version:6.0
// A Swift package that uses PDEBlocks as a dependency — what a Swift user writes.
// Here the dependency is this repository by path; elsewhere it would be
//   .package(url: "<repository URL>", from: "0.1.0")
// Build and run:  swift run --package-path examples/swift-consumer Denoise
import PackageDescription

let package = Package(
    name: "SwiftConsumer",
    dependencies: [
        .package(name: "PDEBlocks", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "Denoise",
            dependencies: [.product(name: "PDEBlocks", package: "PDEBlocks")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
