// swift-tools-version: 6.0
// cptui — a terminal lab for continual pre-training of language models.
// Module map (one job each; see docs/DECISIONS.md):
//   COpenBLAS, CNcursesw  C shims (only Tensor sees BLAS, only Terminal sees ncurses)
//   Tensor      BLAS wrapper, kernel selection, SIMD helpers, seeded RNG
//   Model       GPT-NeoX-style transformer: forward, backward, loss, AdamW, safetensors checkpoints
//   Corpus      datasets, byte-level BPE tokenizer, token caches, batches, replay
//   RunLog      run-log events and JSONL reading/writing
//   Experiment  configs, LR schedules, stages, the trainer loop
//   Controller  the actor between trainer and screen; pure screen-state folding
//   Spelling    "did you mean" for names a person typed (config keys, commands, theme words)
//   Terminal    cell grid and curses backend
//   Screens     charts, panels, themes, key table
//   cptui       the command line
import PackageDescription

/// The numeric targets are compiled for the CPU that builds them: Swift's SIMD16 code (GELU,
/// softmax, LayerNorm, AdamW) otherwise runs as SSE2, at half the speed on an AVX-512 machine. The
/// same losses bit for bit either way (no FMA contraction in Swift). CPTUI_PORTABLE=1 builds a
/// binary for any x86-64 CPU. See docs/DECISIONS.md.
#if arch(x86_64)
  let numericSettings: [SwiftSetting] =
    Context.environment["CPTUI_PORTABLE"] == "1" ? [] : [.unsafeFlags(["-target-cpu", "native"])]
#else
  let numericSettings: [SwiftSetting] = []
#endif

let package = Package(
  name: "cptui",
  products: [
    .executable(name: "cptui", targets: ["cptui"]),
    // Libraries for the fuzz targets in fuzz/ (a separate package, built by scripts/fuzz).
    .library(name: "RunLog", targets: ["RunLog"]),
    .library(name: "Experiment", targets: ["Experiment"]),
    .library(name: "Screens", targets: ["Screens"]),
    .library(name: "Model", targets: ["Model"]),
    .library(name: "Corpus", targets: ["Corpus"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
  ],
  targets: [
    .target(name: "COpenBLAS", linkerSettings: [.linkedLibrary("openblas")]),
    .target(name: "CNcursesw", linkerSettings: [.linkedLibrary("ncursesw")]),
    .target(name: "Tensor", dependencies: ["COpenBLAS"], swiftSettings: numericSettings),
    .target(name: "Model", dependencies: ["Tensor"], swiftSettings: numericSettings),
    .target(name: "Corpus"),
    .target(name: "RunLog"),
    .target(name: "Spelling"),
    .target(
      name: "Experiment",
      dependencies: [
        "Model", "Corpus", "RunLog", "Spelling", .product(name: "Yams", package: "Yams"),
      ]),
    .target(name: "Terminal", dependencies: ["CNcursesw"]),
    .target(name: "Screens", dependencies: ["Terminal", "Spelling"]),
    .target(name: "Controller", dependencies: ["RunLog", "Screens", "Terminal", "Experiment"]),
    .executableTarget(
      name: "cptui",
      dependencies: [
        "Tensor", "Model", "Corpus", "RunLog", "Experiment", "Controller", "Screens", "Terminal",
        "Spelling",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // Holds OpenBLAS to one thread in test processes from load time (its file says why).
    .target(
      name: "OneBLASThread", path: "Tests/OneBLASThread",
      linkerSettings: [.linkedLibrary("openblas")]),
    .testTarget(name: "TensorTests", dependencies: ["Tensor", "OneBLASThread"]),
    .testTarget(
      name: "ModelTests", dependencies: ["Model", "Tensor", "OneBLASThread"],
      resources: [.copy("Fixtures")]),
    .testTarget(name: "CorpusTests", dependencies: ["Corpus"]),
    .testTarget(name: "RunLogTests", dependencies: ["RunLog"]),
    .testTarget(name: "SpellingTests", dependencies: ["Spelling"]),
    // Helpers that more than one test target needs (CSV and SVG readers); linked by tests only.
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(
      name: "ExperimentTests",
      dependencies: ["Experiment", "Corpus", "Model", "RunLog", "TestSupport", "OneBLASThread"]),
    .testTarget(
      name: "ControllerTests",
      dependencies: ["Controller", "Experiment", "RunLog", "Screens", "Terminal", "OneBLASThread"]),
    .testTarget(name: "ScreensTests", dependencies: ["Screens", "Terminal"], exclude: ["Golden"]),
    .testTarget(name: "CLITests", dependencies: ["cptui", "Experiment", "Model", "TestSupport"]),
  ]
)
