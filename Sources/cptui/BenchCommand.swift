import ArgumentParser

/// `cptui bench`: training speed of the engine on a given model config.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench", abstract: "Measure training tokens/s, ms/step and GFLOP/s.")
}
