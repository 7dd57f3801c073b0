import ArgumentParser

/// `cptui data …`: list, prepare and describe datasets.
struct DataCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data", abstract: "List, prepare and describe datasets.")
}
