import Corpus
import Foundation
import Model
import RunLog

/// Everything a run reads: the tokenizer and, per named dataset of the config, its tokens and its
/// fixed validation windows. Built once before training (datasets are prepared into the cache on
/// first use: downloads, extraction, tokenization).
public struct ExperimentData: @unchecked Sendable {
  public var tokenizer: BPETokenizer
  /// Token datasets by config name (D0, D1, …).
  public var datasets: [String: TokenDataset]
  /// Validation windows by config name, for the datasets the config evaluates.
  public var validation: [String: ValidationSet]

  /// The config's tokenizer: bytes, or BPE of `tokenizer.vocab` tokens trained on
  /// `tokenizer.trainedOn` (default: the first dataset), from the cache when it was trained before.
  public static func tokenizer(
    for config: ExperimentConfig, manager: DataManager
  ) throws -> BPETokenizer {
    switch config.tokenizer.kind {
    case .bytes:
      return .bytes
    case .bpe:
      let source = config.tokenizer.trainedOn ?? config.datasets[0].name
      guard let spec = config.dataset(named: source) else {
        throw CorpusError.invalidArgument("tokenizer.trainedOn names unknown dataset \(source)")
      }
      return try manager.tokenizer(vocabSize: config.tokenizer.vocab, trainedOn: spec)
    }
  }

  /// Prepares every dataset of `config` with `manager`. The tokenizer is trained on the dataset the
  /// config names (the paper's choice: D0) and reused for every later dataset.
  public static func prepare(
    _ config: ExperimentConfig, manager: DataManager
  ) throws -> ExperimentData {
    let tokenizer = try Self.tokenizer(for: config, manager: manager)
    guard tokenizer.vocabSize <= config.model.vocab else {
      throw CorpusError.invalidArgument(
        "the tokenizer has \(tokenizer.vocabSize) tokens but model.vocab is \(config.model.vocab)")
    }
    var datasets: [String: TokenDataset] = [:]
    var validation: [String: ValidationSet] = [:]
    let evaluated = Set(
      config.evaluation.datasets.isEmpty ? config.datasets.map(\.name) : config.evaluation.datasets)
    for named in config.datasets {
      let tokens = try manager.tokens(named.spec, tokenizer: tokenizer)
      do {
        try tokens.check(context: config.model.context)
      } catch CorpusError.tooSmall(let part, let have, let need) {
        // Name the dataset as the config does (own text by its paths, not its cache name).
        var what = "dataset \(named.name)"
        if case .files(let paths) = named.spec {
          what += " (" + paths.joined(separator: ", ") + ")"
        } else if part != named.name {
          what += " (its part \(part))"
        }
        throw CorpusError.invalidArgument("\(what) is too small: it has \(have), needs \(need)")
      }
      datasets[named.name] = tokens
      if evaluated.contains(named.name) {
        validation[named.name] = try ValidationSet(
          dataset: tokens, context: config.model.context, maxWindows: config.evaluation.windows,
          spread: config.evaluation.sample == .spread)
      }
    }
    return ExperimentData(tokenizer: tokenizer, datasets: datasets, validation: validation)
  }
}

extension ExperimentData {
  /// When the BPE tokenizer learned fewer tokens than `tokenizer.vocab` asks for (its text has no
  /// more pairs to merge), what the user should know; nil otherwise. The model keeps its
  /// `model.vocab` rows, the extra ones never used.
  public func tokenizerShortfall(of config: ExperimentConfig) -> String? {
    guard config.tokenizer.kind == .bpe, tokenizer.vocabSize < config.tokenizer.vocab else {
      return nil
    }
    return "the tokenizer learned \(tokenizer.vocabSize) tokens of the \(config.tokenizer.vocab) "
      + "tokenizer.vocab asks for (its text has no more pairs to merge); the model keeps "
      + "\(config.model.vocab) rows, \(config.model.vocab - tokenizer.vocabSize) of them unused"
  }

  /// Per dataset of `config` (in its order), its tokens: the token counts and a hash of each
  /// component's tokens, tokenizer and weight. Recorded in the run log's header; equal
  /// fingerprints mean the same tokens (a source file touched but not changed keeps its).
  public func fingerprints(of config: ExperimentConfig) -> JSONValue {
    var members: [JSONMember] = []
    for named in config.datasets {
      guard let dataset = datasets[named.name] else { continue }
      let parts = zip(dataset.components, dataset.weights).map { store, weight in
        String(store.contentHash, radix: 16) + " \(store.meta.tokenizerHash) \(weight)"
      }
      let hash = SHA256.hex(Array(parts.joined(separator: "\n").utf8)).prefix(16)
      members.append(
        JSONMember(
          named.name,
          .string(
            "\(dataset.trainTokens) train + \(dataset.validationTokens) validation tokens · \(hash)"
          )
        ))
    }
    return .object(members)
  }
}
