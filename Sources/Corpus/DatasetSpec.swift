/// What a dataset is made of, as a config names it. Shared by the config reader (Experiment) and the
/// dataset preparation code (this module).
public indirect enum DatasetSpec: Sendable, Hashable, Codable {
  /// A built-in recipe by name, e.g. `quotes-en`, `manpages-de`, `synthetic`.
  case builtin(String)
  /// A user's own text: files, folders or glob patterns.
  case files([String])
  /// A weighted mix of other datasets (weights are relative, need not sum to 1).
  case mixture([MixtureComponent])
}

/// One weighted part of a mixture.
public struct MixtureComponent: Sendable, Hashable, Codable {
  public var dataset: DatasetSpec
  public var weight: Double
  public init(dataset: DatasetSpec, weight: Double) {
    self.dataset = dataset
    self.weight = weight
  }
}
