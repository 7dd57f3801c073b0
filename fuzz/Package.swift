// swift-tools-version: 6.0
// libFuzzer targets for cptui's readers (docs/reliability.md). Build and run with `scripts/fuzz`:
// every module is compiled with `-sanitize=fuzzer,address`; each main.swift hands its
// LLVMFuzzerTestOneInput to libFuzzer's driver.
import PackageDescription

let package = Package(
  name: "cptui-fuzz",
  dependencies: [.package(name: "cptui", path: "..")],
  targets: [
    .target(name: "FuzzDriver"),
    .executableTarget(
      name: "FuzzRunLog", dependencies: ["FuzzDriver", .product(name: "RunLog", package: "cptui")]),
    .executableTarget(
      name: "FuzzConfig",
      dependencies: ["FuzzDriver", .product(name: "Experiment", package: "cptui")]),
    .executableTarget(
      name: "FuzzTheme", dependencies: ["FuzzDriver", .product(name: "Screens", package: "cptui")]),
    .executableTarget(
      name: "FuzzSafeTensors",
      dependencies: ["FuzzDriver", .product(name: "Model", package: "cptui")]),
    .executableTarget(
      name: "FuzzTokenizer",
      dependencies: ["FuzzDriver", .product(name: "Corpus", package: "cptui")]),
  ]
)
