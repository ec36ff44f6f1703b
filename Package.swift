// swift-tools-version:6.0
// PDEBlocks: numerical PDE schemes as neural-network building blocks.
//
// Products:
//   - `PDEBlocks`  — the pure Swift library (no C types), for Swift packages.
//   - `pdeblocks`  — the shared library `libpdeblocks.so` exporting the C ABI
//                    declared in `include/pdeblocks.h` (used by Python and C).
//
// Build flags (CPU target, static stdlib) are passed by the Makefile, not set here,
// so that the package stays usable as a dependency (no unsafe flags).
import PackageDescription

let package = Package(
    name: "PDEBlocks",
    products: [
        .library(name: "PDEBlocks", targets: ["PDEBlocks"]),
        .library(name: "pdeblocks", type: .dynamic, targets: ["PDEBlocksABI"]),
    ],
    targets: [
        .target(name: "PDEBlocksIntrinsics"),
        .target(name: "PDEBlocks", dependencies: ["PDEBlocksIntrinsics"]),
        .target(name: "PDEBlocksABI", dependencies: ["PDEBlocks"]),
        .testTarget(name: "PDEBlocksTests", dependencies: ["PDEBlocks"]),
        .testTarget(name: "PDEBlocksABITests", dependencies: ["PDEBlocksABI", "PDEBlocks"]),
    ],
    swiftLanguageModes: [.v6]
)
