import ArgumentParser
import Corpus
import Experiment
import Foundation

/// `cptui data …`: list, prepare and describe datasets.
struct DataCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "data", abstract: "List, prepare and describe datasets.",
    subcommands: [
      DataList.self, DataPrepare.self, DataInfo.self, DataTokenizer.self, DataEncode.self,
      DataBench.self,
    ])
}

/// Tokenizer choice shared by the subcommands.
struct TokenizerOptions: ParsableArguments {
  @Option(
    help:
      "Vocabulary size of the BPE tokenizer (256 = bytes only; default 4096, or an experiment's own)."
  )
  var vocab: Int?

  @Option(
    name: .customLong("tokenizer-from"),
    help: "Dataset the tokenizer is trained on (D0). Default: the first dataset named.")
  var tokenizerFrom: String?

  @Option(help: "A tokenizer.json to use instead of training one.")
  var tokenizer: String?

  func validate() throws {
    if let vocab, !(256...65_536).contains(vocab) {
      throw ValidationError("--vocab must be in 256…65536")
    }
  }

  /// Whether any tokenizer option was given (else an experiment's own tokenizer is used).
  var isSet: Bool { vocab != nil || tokenizerFrom != nil || tokenizer != nil }

  func make(_ manager: DataManager, default first: DatasetSpec) throws -> BPETokenizer {
    if let tokenizer { return try BPETokenizer.load(from: URL(fileURLWithPath: tokenizer)) }
    let from = tokenizerFrom.map(DatasetSpec.parse) ?? first
    return try manager.tokenizer(vocabSize: vocab ?? 4096, trainedOn: from)
  }
}

private func stderrLine(_ s: String) {
  writeStandardError(localText(s) + "\n")
}

/// What the command-line names stand for: the datasets, and the experiments among the names.
private struct NamedData {
  var specs: [DatasetSpec] = []
  /// Experiments named (a preset, or a config file `*.yaml`/`*.yml`), with the datasets they define.
  var experiments: [ExperimentConfig] = []
  /// Datasets named directly (not through an experiment).
  var direct: [DatasetSpec] = []

  /// The one experiment whose datasets these all are, if so (its tokenizer then counts tokens).
  var soleExperiment: ExperimentConfig? {
    experiments.count == 1 && direct.isEmpty ? experiments[0] : nil
  }
}

/// Expands command-line names: an experiment preset or config file (what `cptui run` takes: NAME
/// or `my.yaml`) stands for the datasets its config defines, in order; anything else is a dataset,
/// a mixture, or a file, folder or glob (an existing path wins over a preset of the same name; a
/// `.yaml`/`.yml` file is read as a config, never as text).
private func expandNames(_ names: [String]) throws -> NamedData {
  var out = NamedData()
  let presets = Set(Presets.names())
  for n in names {
    let isConfigFile =
      (n.hasSuffix(".yaml") || n.hasSuffix(".yml")) && FileManager.default.fileExists(atPath: n)
    let isDataset =
      Recipes.recipe(named: n) != nil || Recipes.mixture(named: n) != nil
      || FileManager.default.fileExists(atPath: n)
    if isConfigFile || (!isDataset && presets.contains(n)) {
      let config = try RunSupport.loadConfig(n, overrides: [])
      out.experiments.append(config)
      for d in config.datasets where !out.specs.contains(d.spec) { out.specs.append(d.spec) }
    } else {
      let s = DatasetSpec.parse(n)
      if !out.specs.contains(s) { out.specs.append(s) }
      if !out.direct.contains(s) { out.direct.append(s) }
    }
  }
  return out
}

/// Runs a data command: its data and tokenizer errors become cptui's one-line `Error:` messages.
private func runReporting(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let error as CorpusError {
    throw CLIError(describing: error)
  } catch let error as TokenizerFileError {
    throw CLIError(describing: error)
  }
}

struct DataList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List built-in datasets, mixtures and presets.")

  func run() throws {
    let cache = CorpusCache.fromEnvironment()
    let manager = DataManager(cache: cache)
    printText("Datasets (cache: \(cache.root.path); ✓ = text prepared):")
    for r in Recipes.all {
      let prepared = manager.isTextPrepared(.builtin(r.name))
      // The prepared text's own size once there is one (as `data info` reports it), else the
      // recipe's estimate, marked as such.
      let bytes = prepared ? (try? manager.textStore(.builtin(r.name)))?.byteCount : nil
      let mb =
        bytes.map { String(format: "%5.1f MB", Double($0) / 1e6) }
        ?? String(format: "≈%4.1f MB", r.approximateMB)
      printText(
        "  \(r.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(mb)  \(prepared ? "✓" : " ") \(r.summary)"
      )
    }
    printText("Mixtures:")
    for m in Recipes.mixtures {
      let prepared = manager.isTextPrepared(.builtin(m.name))
      printText(
        "  \(m.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(prepared ? "✓" : " ") \(m.summary)"
      )
    }
    printText("Experiment presets (cptui run NAME; cptui data prepare NAME gets their data):")
    for name in Presets.names() {
      let padded = name.padding(toLength: 26, withPad: " ", startingAt: 0)
      guard let config = try? RunSupport.loadConfig(name, overrides: []) else {
        printText("  \(padded) (does not load: cptui schedule \(name) says why)")
        continue
      }
      let prepared = config.datasets.allSatisfy { manager.isTextPrepared($0.spec) }
      printText(
        "  \(padded) \(prepared ? "✓" : " ") "
          + "\(config.stages.map(\.dataset).joined(separator: " → "))  \(config.about ?? "")")
    }
    printText("Your own text: any file, folder or glob, e.g. 'cptui data info ./notes/*.txt'.")
  }
}

struct DataPrepare: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "prepare",
    abstract: "Download and extract datasets (and tokenize them with --tokenize).")

  @Argument(help: "Datasets, mixtures, experiment presets or config files (.yaml), or paths/globs.")
  var names: [String]

  @Flag(help: "Also train the tokenizer and write the token caches.")
  var tokenize = false

  @OptionGroup var tokenizerOptions: TokenizerOptions

  func validate() throws {
    if tokenizerOptions.isSet && !tokenize {
      throw ValidationError(
        "--vocab, --tokenizer-from and --tokenizer choose the tokenizer of --tokenize; add it")
    }
  }

  func run() throws {
    try runReporting {
      let start = Date()
      let manager = DataManager(log: { stderrLine($0) })
      let named = try expandNames(names)
      for spec in named.specs {
        let t0 = Date()
        let stores = try manager.prepareText(spec)
        let mb = Double(stores.reduce(0) { $0 + $1.byteCount }) / 1e6
        let docs = stores.reduce(0) { $0 + $1.documentCount }
        printText(
          String(
            format: "%@: %d document%@, %.1f MB (%.1f s)", spec.displayName, docs,
            docs == 1 ? "" : "s", mb,
            Date().timeIntervalSince(t0)))
      }
      if tokenize {
        // An experiment's datasets get its own tokenizer, exactly as `cptui run NAME` needs them.
        for config in named.experiments {
          let data = try ExperimentData.prepare(config, manager: manager)
          printText(
            "\(config.name): tokenizer \(data.tokenizer.hash) (vocab \(data.tokenizer.vocabSize))")
        }
        if let first = named.direct.first {
          let tok = try tokenizerOptions.make(manager, default: first)
          for spec in named.direct { _ = try manager.tokens(spec, tokenizer: tok) }
          printText("tokenizer \(tok.hash) (vocab \(tok.vocabSize))")
        }
      }
      printText(String(format: "done in %.1f s", Date().timeIntervalSince(start)))
    }
  }
}

struct DataInfo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Show size, documents, train/validation tokens and bytes per token.",
    discussion: """
      Tokens are counted with a BPE tokenizer of --vocab tokens (default 4096) trained on \
      --tokenizer-from (default: the first dataset named), as in the paper: one tokenizer trained \
      on D0 and reused for every later dataset. An experiment preset or config file alone \
      (cptui data info strong-shift, cptui data info my.yaml) stands for its datasets, counted \
      with its own tokenizer unless a tokenizer option is given.
      """)

  @Argument(help: "Datasets, mixtures, experiment presets or config files (.yaml), or paths/globs.")
  var names: [String]

  @OptionGroup var tokenizerOptions: TokenizerOptions

  func run() throws {
    try runReporting {
      let manager = DataManager(log: { stderrLine($0) })
      let named = try expandNames(names)
      let specs = named.specs
      guard let first = specs.first else { return }
      let tok: BPETokenizer
      let from: String
      if let config = named.soleExperiment, !tokenizerOptions.isSet {
        tok = try ExperimentData.tokenizer(for: config, manager: manager)
        let source = config.tokenizer.trainedOn ?? config.datasets[0].name
        from =
          config.tokenizer.kind == .bytes
          ? "nothing (bytes, as \(config.name))" : "\(source) (as \(config.name))"
      } else {
        tok = try tokenizerOptions.make(manager, default: first)
        from = tokenizerOptions.tokenizerFrom ?? first.displayName
      }
      // A tokenizer read from a file says so: where its merges were learned is not recorded.
      let origin =
        tokenizerOptions.tokenizer.map { "read from \($0)" } ?? "trained on \(from)"
      printText("tokenizer \(tok.hash): vocab \(tok.vocabSize), \(origin)")
      let header = [
        "dataset", "MB", "docs", "train docs", "val docs", "train tokens", "val tokens",
        "bytes/token",
      ]
      var rows: [[String]] = []
      var notes: [String] = []
      for spec in specs {
        let ds = try manager.tokens(spec, tokenizer: tok)
        var mb = 0.0
        var docs = (0, 0)
        var tokens = (0, 0)
        var bytes = 0
        for c in ds.components where c.validationCount == 0 {
          notes.append(
            "\(c.name) has no validation split (\(c.meta.trainDocuments) document(s)): "
              + "training on it will be refused; give more text or more files")
        }
        for c in ds.components {
          mb += Double(c.meta.trainBytes + c.meta.validationBytes) / 1e6
          docs.0 += c.meta.trainDocuments
          docs.1 += c.meta.validationDocuments
          tokens.0 += c.meta.trainTokens
          tokens.1 += c.meta.validationTokens
          bytes += c.meta.trainBytes + c.meta.validationBytes
          if ds.components.count > 1 {
            rows.append(row("  " + c.name, c.meta))
          }
        }
        rows.append([
          spec.displayName, String(format: "%.2f", mb), "\(docs.0 + docs.1)", "\(docs.0)",
          "\(docs.1)",
          "\(tokens.0)", "\(tokens.1)",
          String(format: "%.3f", Double(bytes) / Double(max(1, tokens.0 + tokens.1))),
        ])
      }
      printTable(header, rows)
      for n in notes { print("note: \(n)") }
    }
  }

  private func row(_ name: String, _ m: TokenMeta) -> [String] {
    [
      name, String(format: "%.2f", Double(m.trainBytes + m.validationBytes) / 1e6),
      "\(m.trainDocuments + m.validationDocuments)", "\(m.trainDocuments)",
      "\(m.validationDocuments)", "\(m.trainTokens)", "\(m.validationTokens)",
      String(format: "%.3f", m.bytesPerTokenOfText),
    ]
  }
}

private func printTable(_ header: [String], _ rows: [[String]]) {
  var widths = header.map(\.count)
  for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
  func line(_ cells: [String]) -> String {
    cells.enumerated().map { i, c in
      i == 0
        ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
        : String(repeating: " ", count: widths[i] - c.count) + c
    }.joined(separator: "  ")
  }
  printText(line(header))
  for r in rows { print(line(r)) }
}

struct DataTokenizer: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tokenizer", abstract: "Train a tokenizer and write its tokenizer.json.")

  @Argument(
    help:
      "Dataset (or file/folder/glob) to train on, or an experiment preset or config file (its own tokenizer)."
  )
  var dataset: String

  @Option(help: "Vocabulary size (256 = bytes only; default 4096, or the preset's).")
  var vocab: Int?

  @Option(help: "Where to write tokenizer.json.")
  var output: String = "tokenizer.json"

  func validate() throws {
    if let vocab, !(256...65_536).contains(vocab) {
      throw ValidationError("--vocab must be in 256…65536")
    }
  }

  func run() throws {
    try runReporting {
      let manager = DataManager(log: { stderrLine($0) })
      let tok: BPETokenizer
      // An experiment preset: the tokenizer its config trains (on its D0), unless --vocab says.
      let named = try expandNames([dataset])
      if let config = named.soleExperiment {
        var chosen = config
        if let vocab {
          chosen.tokenizer = TokenizerConfig(
            kind: .bpe, vocab: vocab, trainedOn: config.tokenizer.trainedOn)
        }
        tok = try ExperimentData.tokenizer(for: chosen, manager: manager)
      } else {
        tok = try manager.tokenizer(vocabSize: vocab ?? 4096, trainedOn: DatasetSpec.parse(dataset))
      }
      // As every output file: a device or pipe written in place (an atomic replace put a regular
      // file where /dev/full was), a failed write an error; a folder is refused.
      var isFolder: ObjCBool = false
      if output.hasSuffix("/")
        || (FileManager.default.fileExists(atPath: output, isDirectory: &isFolder)
          && isFolder.boolValue)
      {
        throw CLIError("--output \(output): a folder; name the file (\(output)/tokenizer.json)")
      }
      let parent = URL(fileURLWithPath: output).deletingLastPathComponent()
      do {
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
      } catch {
        throw CLIError("\(output): \(FileErrorText.describe(error))")
      }
      try OutputFile.write(tok.huggingFaceJSON(), to: output)
      if output != "-" { printText("wrote \(output): vocab \(tok.vocabSize), hash \(tok.hash)") }
    }
  }
}

struct DataEncode: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "encode",
    abstract: "Print the token ids of files as JSON (one array per file), for checking.")

  @Option(help: "tokenizer.json to use.")
  var tokenizer: String

  @Argument(help: "Files to encode.")
  var files: [String]

  func run() throws {
    try runReporting {
      let tok = try BPETokenizer.load(from: URL(fileURLWithPath: tokenizer))
      let encoder = BPEEncoder(tok)
      var parts: [String] = []
      for f in files {
        let data: Data
        do {
          data = try Data(contentsOf: URL(fileURLWithPath: f))
        } catch {
          throw CLIError("\(f): \(FileErrorText.describe(error))")
        }
        var ids: [Int32] = []
        [UInt8](data).withUnsafeBufferPointer { encoder.encode($0, into: &ids) }
        parts.append("[" + ids.map { String($0) }.joined(separator: ",") + "]")
      }
      printText("[" + parts.joined(separator: ",\n") + "]")
    }
  }
}

struct DataBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench", abstract: "Measure tokenizer training and encoding speed (MB/s).")

  @Option(help: "Dataset to measure on (default: synthetic text, no download).")
  var dataset: String?

  @Option(help: "MB of text to train on.")
  var trainMB: Double = 10

  @Option(help: "MB of text to encode.")
  var encodeMB: Double = 50

  @Option(help: "Vocabulary size.")
  var vocab: Int = 4096

  func run() throws {
    try runReporting {
      var text: [UInt8] = []
      if let dataset {
        let manager = DataManager(log: { stderrLine($0) })
        for store in try manager.prepareText(DatasetSpec.parse(dataset)) {
          for i in 0..<store.documentCount { text.append(contentsOf: store.document(i)) }
        }
      } else {
        for d in SyntheticCorpus(language: .alpha).documents(totalBytes: 6_000_000) {
          text.append(contentsOf: d.utf8)
        }
        for d in SyntheticCorpus(language: .beta).documents(totalBytes: 6_000_000) {
          text.append(contentsOf: d.utf8)
        }
      }
      guard !text.isEmpty else { return }
      func repeated(_ mb: Double) -> [UInt8] {
        let n = Int(mb * 1e6)
        var out: [UInt8] = []
        out.reserveCapacity(n)
        while out.count < n { out.append(contentsOf: text.prefix(n - out.count)) }
        return out
      }
      let trainText = repeated(trainMB)
      var t0 = Date()
      var trainer = BPETrainer()
      trainText.withUnsafeBufferPointer { trainer.add($0) }
      let tok = trainer.train(vocabSize: vocab)
      var dt = Date().timeIntervalSince(t0)
      printText(
        String(
          format: "train  %.1f MB → vocab %d in %.2f s: %.1f MB/s", Double(trainText.count) / 1e6,
          tok.vocabSize, dt, Double(trainText.count) / 1e6 / dt))
      let encodeText = repeated(encodeMB)
      t0 = Date()
      let encoder = BPEEncoder(tok)
      var ids: [Int32] = []
      ids.reserveCapacity(encodeText.count / 3)
      encodeText.withUnsafeBufferPointer { encoder.encode($0, into: &ids) }
      dt = Date().timeIntervalSince(t0)
      printText(
        String(
          format: "encode %.1f MB → %d tokens in %.2f s: %.1f MB/s (%.2f bytes/token)",
          Double(encodeText.count) / 1e6, ids.count, dt, Double(encodeText.count) / 1e6 / dt,
          Double(encodeText.count) / Double(ids.count)))
    }
  }
}
