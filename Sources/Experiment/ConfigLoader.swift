import Corpus
import Foundation
import Model
import RunLog
import Spelling

/// Reads experiment configs (YAML) into `ExperimentConfig`, applying `--set` overrides first and
/// checking everything; every error names the key path and the line (see `ConfigError`).
public struct ConfigLoader: Sendable {
  /// Names of the built-in datasets the data module can prepare; nil accepts any name.
  public var builtinDatasets: Set<String>?

  /// Names compare's table and CSV give their other columns, so no dataset may take them (a
  /// dataset named `union`, as the union presets' mixture is, only shadows `--sort union`).
  static let measureNames: Set<String> = [
    "name", "forgetting", "adaptation", "avg", "average", "run", "label", "path", "status",
    "delta_union",
  ]

  /// Engine threads the run will train on: data-parallel replicas each need gradients and
  /// activations of their own, so the memory check counts them (`ModelConfig.trainingBytes`).
  public var trainingThreads: Int
  /// Memory the check compares with; nil is this process's, `MachineMemory.current` (tests set it).
  public var memory: MachineMemory?

  public init(builtinDatasets: [String]? = nil, trainingThreads: Int = 1) {
    self.builtinDatasets = builtinDatasets.map(Set.init)
    self.trainingThreads = trainingThreads
  }

  /// Why training `model` on `batch` windows and `threads` engine threads cannot fit in `memory`
  /// (nil: this process's, `MachineMemory.current`), or nil when it fits: "training this model
  /// with batchSize 16 on 2 threads needs about 30.1 GiB of memory; this machine has 23.5 GiB (…)".
  public static func memoryShortfall(
    model: ModelConfig, batch: Int, threads: Int, memory: MachineMemory? = nil
  ) -> String? {
    let available = memory ?? MachineMemory.current
    let needed = model.trainingBytes(batch: batch, threads: threads)
    guard available.bytes > 0, needed > available.bytes else { return nil }
    let gib = MachineMemory.gib
    let oneThread = threads > 1 ? model.trainingBytes(batch: batch) : needed
    return "training this model with batchSize \(batch)"
      + (threads > 1 ? " on \(threads) threads" : "")
      + " needs about \(gib(needed)) of memory; \(available.phrase) "
      + "(make the model, its context or the batch smaller"
      + (oneThread <= available.bytes
        ? ", or train on fewer threads: --threads 1 needs \(gib(oneThread)))" : ")")
  }

  /// Reads a config file and applies `overrides` (`key.path=value`, list positions from 1).
  public func load(path: String, overrides: [String] = []) throws(ConfigError) -> ExperimentConfig {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      var isFolder: ObjCBool = false
      let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
      let reason =
        !exists
        ? "no such file"
        : isFolder.boolValue
          ? "is a folder; give a config file (.yaml)" : "cannot read it as UTF-8 text"
      throw ConfigError(source: path, keyPath: "", message: reason)
    }
    // Paths of your own text in the file are relative to the file's folder.
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    return try parse(yaml: text, source: path, overrides: overrides, relativeTo: folder)
  }

  /// The config a run log's header records (its resolved JSON), read back; `source` names the
  /// log in errors.
  public func parse(logged: JSONValue, source: String) throws(ConfigError) -> ExperimentConfig {
    try parse(yaml: JSONText.encode(logged), source: source, logged: true)
  }

  /// Reads config text; `source` names it in errors.
  /// Relative paths of own-text datasets written in the text resolve against `folder` when one
  /// is given; those from `overrides` against the working folder (both recorded absolute).
  /// `logged`: the text is a run log's recorded config, read back as it was accepted then.
  public func parse(
    yaml: String, source: String = "config", overrides: [String] = [],
    relativeTo folder: String? = nil, logged: Bool = false
  )
    throws(ConfigError) -> ExperimentConfig
  {
    var root = try ConfigNode.parse(yaml: yaml, source: source)
    for override in overrides {
      try ConfigOverrides.apply(override, to: &root, source: source)
    }
    var decoder = ConfigDecoder(source: source, builtins: builtinDatasets, folder: folder)
    decoder.trainingThreads = trainingThreads
    decoder.memory = memory
    decoder.logged = logged
    return try decoder.decode(root)
  }
}

/// Keys each section accepts (also used for "did you mean" suggestions and docs).
enum ConfigKeys {
  static let top = [
    "name", "about", "seed", "model", "tokenizer", "datasets", "batchSize", "optimizer",
    "evaluation", "checkpoints", "defaults", "stages",
  ]
  static let model = [
    "layers", "heads", "width", "context", "vocab", "rotaryFraction", "rotaryBase",
  ]
  static let tokenizer = ["kind", "vocab", "trainedOn"]
  static let optimizer = ["beta1", "beta2", "epsilon", "weightDecay", "gradClip"]
  static let evaluation = ["every", "windows", "datasets", "average", "sample"]
  static let checkpoints = ["stageEnd", "every"]
  static let stage = [
    "name", "dataset", "tokens", "steps", "schedule", "warmup", "lrMax", "lrMin", "replay",
    "replayFrom", "optimizerState", "replayOrder",
  ]
  static let defaults = stage.filter { $0 != "name" && $0 != "dataset" }
  static let schedule: [ScheduleKind: [String]] = [
    .cosine: [], .constantMin: [], .constantMax: [], .repeatedCosine: ["periods", "rewarm"],
    .infinite: ["cooldown", "lrConst", "cooldownEnd", "constantEnd", "anneal", "alpha"],
    .wsd: ["decay", "decayFraction"],
  ]
  static let datasetForms = ["builtin", "files", "mix"]
  static let mixItem = ["dataset", "weight"]
}

/// A warmup as written: a fraction of the stage, or a number of steps or tokens.
enum WarmupLength: Equatable {
  case fraction(Double)
  case steps(Int)
  case tokens(Int)
}

/// A value found for a key, with the path to report it under.
struct Located {
  var node: ConfigNode
  var path: [KeyPathComponent]
}

struct ConfigDecoder {
  let source: String
  let builtins: Set<String>?
  /// The config file's folder: relative own-text paths written in the file resolve against it.
  var folder: String? = nil
  /// A run log's recorded config: rules added since a log was written do not refuse it.
  var logged = false
  /// Engine threads and memory for the memory check (`ConfigLoader.trainingThreads`, `memory`).
  var trainingThreads = 1
  var memory: MachineMemory? = nil

  /// `path` as the config means it, made absolute so that the run log records where the data
  /// is (a resume from another folder finds it): relative to the config file's folder when it was
  /// written in the file, to the working folder when an override (`--set`) gave it.
  func resolvedPath(_ path: String, _ node: ConfigNode) -> String {
    guard !path.hasPrefix("/"), !path.hasPrefix("~") else { return path }
    let base: String
    if node.origin != nil {
      base = FileManager.default.currentDirectoryPath
    } else if let folder {
      base = folder
    } else {
      return path
    }
    let joined = (base as NSString).appendingPathComponent(path)
    // "cfg/../txt" reads "txt"; a glob's characters pass through unchanged.
    return URL(fileURLWithPath: joined).standardizedFileURL.path
  }

  // MARK: Errors and small readers

  func error(_ node: ConfigNode?, _ path: [KeyPathComponent], _ message: String) -> ConfigError {
    ConfigError(
      source: source, line: node?.line, column: node?.column, keyPath: renderKeyPath(path),
      message: message, override: node?.origin)
  }

  func error(_ value: Located, _ message: String) -> ConfigError {
    error(value.node, value.path, message)
  }

  /// The entries of a map node (a null node is an empty map), after checking its keys.
  func entries(_ node: ConfigNode, _ path: [KeyPathComponent], allowed: [String])
    throws(ConfigError) -> [String: Located]
  {
    if node.isNull { return [:] }
    guard let list = node.entries else {
      throw error(node, path, "expected a map of keys, got \(node.kindDescription)")
    }
    var found: [String: Located] = [:]
    for entry in list {
      guard allowed.contains(entry.key) else {
        var message = "unknown key"
        if let suggestion = suggest(entry.key, among: allowed) {
          message += " (did you mean \"\(suggestion)\"?)"
        } else if !allowed.isEmpty {
          message += " (known: \(allowed.joined(separator: ", ")))"
        }
        throw ConfigError(
          source: source, line: entry.keyLine ?? entry.value.line,
          column: entry.keyColumn ?? entry.value.column,
          keyPath: renderKeyPath(path + [.key(entry.key)]), message: message,
          override: entry.value.origin)
      }
      // A key with no value (`lrMax:`) is refused by the reader of its value ("expected a number,
      // got nothing") rather than read as absent; a section with none (`model:`) reads as empty.
      // Logs written before this rule keep loading.
      if entry.value.isNull, logged { continue }
      found[entry.key] = Located(node: entry.value, path: path + [.key(entry.key)])
    }
    return found
  }

  func scalar(_ value: Located, expected: String) throws(ConfigError) -> String {
    if value.node.isNull {
      throw error(value, "no value: give \(expected), or remove the key to use the default")
    }
    guard case .scalar(let text, _) = value.node.value else {
      throw error(value, "expected \(expected), got \(value.node.kindDescription)")
    }
    return text.trimmingCharacters(in: .whitespaces)
  }

  /// One of a few named values ("expected reset or keep, got \"x\"").
  func choice<T>(_ value: Located, _ options: [(name: String, value: T)]) throws(ConfigError) -> T {
    let text = try string(value)
    guard let found = options.first(where: { $0.name == text }) else {
      throw error(
        value, "expected \(options.map(\.name).joined(separator: " or ")), got \"\(text)\"")
    }
    return found.value
  }

  func string(_ value: Located) throws(ConfigError) -> String {
    try scalar(value, expected: "text")
  }

  func bool(_ value: Located) throws(ConfigError) -> Bool {
    let text = try scalar(value, expected: "true or false")
    switch text.lowercased() {
    case "true", "yes", "on": return true
    case "false", "no", "off": return false
    default: throw error(value, "expected true or false, got \"\(text)\"")
    }
  }

  /// A number; underscores are allowed (`1_000`).
  func double(_ value: Located) throws(ConfigError) -> Double {
    let text = try scalar(value, expected: "a number")
    guard let number = Double(text.replacingOccurrences(of: "_", with: "")), number.isFinite else {
      throw error(value, "expected a number, got \"\(text)\"")
    }
    return number
  }

  /// A whole number; underscores and the suffixes k, M, G (×1e3, 1e6, 1e9) are allowed.
  func count(_ value: Located) throws(ConfigError) -> Int {
    let text = try scalar(value, expected: "a whole number")
    guard let number = Self.parseCount(text) else {
      throw error(value, "expected a whole number, got \"\(text)\"")
    }
    return number
  }

  static func parseCount(_ text: String) -> Int? {
    var body = text.replacingOccurrences(of: "_", with: "")
    var scale = 1.0
    if let last = body.last, let factor = ["k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9][last] {
      scale = factor
      body.removeLast()
    }
    guard let number = Double(body), number.isFinite else { return nil }
    let value = number * scale
    guard value == value.rounded(), abs(value) < 9e18 else { return nil }
    return Int(value)
  }

  /// A fraction: `0.01` or `1%`.
  func fraction(_ value: Located) throws(ConfigError) -> Double {
    let text = try scalar(value, expected: "a fraction")
    if text.hasSuffix("%") {
      guard let percent = Double(text.dropLast().trimmingCharacters(in: .whitespaces)),
        percent.isFinite
      else { throw error(value, "expected a percentage, got \"\(text)\"") }
      return percent / 100
    }
    return try double(value)
  }

  /// A percentage: `25` or `25%`.
  func percent(_ value: Located) throws(ConfigError) -> Double {
    let text = try scalar(value, expected: "a percentage")
    let body = text.hasSuffix("%") ? String(text.dropLast()) : text
    guard let number = Double(body.trimmingCharacters(in: .whitespaces)), number.isFinite else {
      throw error(value, "expected a percentage, got \"\(text)\"")
    }
    return number
  }

  func positive(_ value: Located) throws(ConfigError) -> Int {
    let number = try count(value)
    guard number > 0 else { throw error(value, "must be at least 1, got \(number)") }
    return number
  }

  func stringList(_ value: Located) throws(ConfigError) -> [String] {
    switch value.node.value {
    case .scalar, .null: return [try scalar(value, expected: "a name or a list of names")]
    case .list(let items):
      var texts: [String] = []
      for (index, item) in items.enumerated() {
        texts.append(try string(Located(node: item, path: value.path + [.index(index + 1)])))
      }
      return texts
    default:
      throw error(value, "expected a name or a list of names, got \(value.node.kindDescription)")
    }
  }

  func suggest(_ word: String, among candidates: [String]) -> String? {
    Spelling.suggestion(for: word, among: candidates)
  }

  // MARK: The document

  mutating func decode(_ root: ConfigNode) throws(ConfigError) -> ExperimentConfig {
    let rootPath: [KeyPathComponent] = []
    if root.isNull { throw error(root, rootPath, "the config is empty") }
    let top = try entries(root, rootPath, allowed: ConfigKeys.top)

    let name = try top["name"].map { value throws(ConfigError) in try string(value) } ?? "run"
    let about = try top["about"].map { value throws(ConfigError) in try string(value) }
    var seed = ConfigDefaults.seed
    if let value = top["seed"] {
      seed = try count(value)
      guard seed >= 0 else { throw error(value, "must be 0 or more, got \(seed)") }
    }
    let batchSize =
      try top["batchSize"].map { value throws(ConfigError) in try positive(value) }
      ?? ConfigDefaults.batchSize

    // Datasets first: the tokenizer and the stages refer to them.
    guard let datasetsValue = top["datasets"] else {
      throw error(root, [.key("datasets")], "missing: name the datasets, e.g. D0: quotes-en")
    }
    let datasets = try decodeDatasets(datasetsValue)
    let names = datasets.map(\.name)

    // A model vocab given without a tokenizer vocab sizes the tokenizer.
    var modelVocab: Located?
    if let model = top["model"], let entry = model.node["vocab"], !entry.isNull {
      modelVocab = Located(node: entry, path: model.path + [.key("vocab")])
    }
    let tokenizer = try decodeTokenizer(top["tokenizer"], names: names, modelVocab: modelVocab)
    let model = try decodeModel(top["model"], root: root, tokenizerVocab: tokenizer.vocab)
    // A model that cannot fit in this machine's memory is a config error, not a crash mid-setup.
    if let shortfall = ConfigLoader.memoryShortfall(
      model: model, batch: batchSize, threads: trainingThreads,
      memory: memory)
    {
      // Blame what an override set, when one of the sizes came from one; else the model.
      let sizes = ["layers", "heads", "width", "context", "vocab"].compactMap { key -> Located? in
        guard let model = top["model"], let node = model.node[key], !node.isNull else { return nil }
        return Located(node: node, path: model.path + [.key(key)])
      }
      let blamed = ([top["batchSize"]].compactMap { $0 } + sizes).first { $0.node.origin != nil }
      throw error(
        blamed?.node ?? top["model"]?.node ?? root,
        blamed?.path ?? top["model"]?.path ?? [.key("model")], shortfall)
    }
    let optimizer = try decodeOptimizer(top["optimizer"])
    let evaluation = try decodeEvaluation(top["evaluation"], names: names)
    let checkpoints = try decodeCheckpoints(top["checkpoints"])

    let defaults =
      try top["defaults"].map { value throws(ConfigError) in
        try entries(value.node, value.path, allowed: ConfigKeys.defaults)
      } ?? [:]
    guard let stagesValue = top["stages"] else {
      throw error(root, [.key("stages")], "missing: a config needs at least one stage")
    }
    guard case .list(let stageNodes) = stagesValue.node.value else {
      throw error(stagesValue, "expected a list of stages, got \(stagesValue.node.kindDescription)")
    }
    guard !stageNodes.isEmpty else { throw error(stagesValue, "at least one stage is needed") }
    var stages: [StageConfig] = []
    for (index, node) in stageNodes.enumerated() {
      let value = Located(node: node, path: [.key("stages"), .index(index + 1)])
      stages.append(
        try decodeStage(
          value, index: index, defaults: defaults, earlier: stages, names: names,
          tokensPerStep: batchSize * model.context))
    }

    var resolvedTokenizer = tokenizer
    if resolvedTokenizer.kind == .bpe, resolvedTokenizer.trainedOn == nil {
      resolvedTokenizer.trainedOn = stages[0].dataset
    }
    return ExperimentConfig(
      name: name, about: about, seed: seed, model: model, tokenizer: resolvedTokenizer,
      datasets: datasets, batchSize: batchSize, optimizer: optimizer, evaluation: evaluation,
      checkpoints: checkpoints, stages: stages)
  }

  // MARK: Datasets

  func decodeDatasets(_ value: Located) throws(ConfigError) -> [NamedDataset] {
    guard let list = value.node.entries else {
      throw error(value, "expected a map of dataset names to datasets, e.g. D0: quotes-en")
    }
    guard !list.isEmpty else { throw error(value, "at least one dataset is needed") }
    var datasets: [NamedDataset] = []
    for entry in list {
      let path = value.path + [.key(entry.key)]
      let item = Located(node: entry.value, path: path)
      let allowedName = entry.key.allSatisfy {
        $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "+")
      }
      guard allowedName, !entry.key.isEmpty else {
        throw ConfigError(
          source: source, line: entry.keyLine, column: entry.keyColumn,
          keyPath: renderKeyPath(path),
          message: "dataset names use letters, digits, '-', '_' and '+' only",
          override: entry.value.origin)
      }
      if datasets.contains(where: { $0.name == entry.key }) {
        throw error(item, "appears twice")
      }
      // compare's columns and --sort name datasets and measures alike.
      if ConfigLoader.measureNames.contains(entry.key) {
        throw ConfigError(
          source: source, line: entry.keyLine, column: entry.keyColumn,
          keyPath: renderKeyPath(path),
          message:
            "\"\(entry.key)\" names a measure in compare's table; choose another dataset name",
          override: entry.value.origin)
      }
      if entry.value.isNull { throw error(item, "missing: say what the dataset is made of") }
      datasets.append(
        NamedDataset(name: entry.key, spec: try datasetSpec(item, declared: datasets)))
    }
    return datasets
  }

  /// A dataset: a built-in name, a path or glob (contains `/`, `.` or a glob character), a name declared
  /// above, a list (an equal mixture), or a map with exactly one of `builtin`, `files`, `mix`.
  func datasetSpec(_ value: Located, declared: [NamedDataset]) throws(ConfigError) -> DatasetSpec {
    switch value.node.value {
    case .null:
      throw error(value, "missing: say what the dataset is made of")
    case .scalar:
      let text = try string(value)
      if text.isEmpty { throw error(value, "empty dataset name") }
      if let earlier = declared.first(where: { $0.name == text }) { return earlier.spec }
      if text.contains(where: { "/.*?[".contains($0) }) || text.hasPrefix("~") {
        return .files([resolvedPath(text, value.node)])
      }
      return try builtin(text, value)
    case .list(let items):
      guard !items.isEmpty else { throw error(value, "an empty mixture") }
      var parts: [MixtureComponent] = []
      for (index, item) in items.enumerated() {
        parts.append(
          try mixItem(
            Located(node: item, path: value.path + [.index(index + 1)]), declared: declared))
      }
      return .mixture(parts)
    case .map:
      let fields = try entries(value.node, value.path, allowed: ConfigKeys.datasetForms)
      guard fields.count == 1, let (key, field) = fields.first else {
        throw error(value, "give exactly one of builtin, files or mix")
      }
      switch key {
      case "builtin": return try builtin(try string(field), field)
      case "files":
        let paths = try stringList(field)
        guard !paths.isEmpty else { throw error(field, "no files given") }
        return .files(paths.map { resolvedPath($0, field.node) })
      default:
        guard case .list(let items) = field.node.value, !items.isEmpty else {
          throw error(field, "expected a list of datasets (each a name or {dataset, weight})")
        }
        var parts: [MixtureComponent] = []
        for (index, item) in items.enumerated() {
          parts.append(
            try mixItem(
              Located(node: item, path: field.path + [.index(index + 1)]), declared: declared))
        }
        return .mixture(parts)
      }
    }
  }

  func mixItem(_ value: Located, declared: [NamedDataset]) throws(ConfigError) -> MixtureComponent {
    if let list = value.node.entries, list.contains(where: { $0.key == "dataset" }) {
      let fields = try entries(value.node, value.path, allowed: ConfigKeys.mixItem)
      guard let dataset = fields["dataset"] else { throw error(value, "missing dataset") }
      var weight = 1.0
      if let weightValue = fields["weight"] {
        weight = try double(weightValue)
        guard weight > 0 else {
          throw error(weightValue, "must be positive, got \(short(weight))")
        }
      }
      return MixtureComponent(dataset: try datasetSpec(dataset, declared: declared), weight: weight)
    }
    return MixtureComponent(dataset: try datasetSpec(value, declared: declared), weight: 1)
  }

  func builtin(_ name: String, _ value: Located) throws(ConfigError) -> DatasetSpec {
    if let builtins, !builtins.contains(name) {
      var message = "unknown built-in dataset \"\(name)\""
      if let suggestion = suggest(name, among: builtins.sorted()) {
        message += " (did you mean \"\(suggestion)\"?)"
      } else {
        message += " (known: \(builtins.sorted().joined(separator: ", ")))"
      }
      throw error(value, message)
    }
    return .builtin(name)
  }

  // MARK: Sections

  func decodeTokenizer(_ value: Located?, names: [String], modelVocab: Located?)
    throws(ConfigError) -> TokenizerConfig
  {
    let fields =
      try value.map { value throws(ConfigError) in
        try entries(value.node, value.path, allowed: ConfigKeys.tokenizer)
      } ?? [:]
    var kind = TokenizerConfig.Kind.bpe
    if let kindValue = fields["kind"] {
      let text = try string(kindValue)
      guard let found = TokenizerConfig.Kind(rawValue: text) else {
        throw error(kindValue, "unknown tokenizer \"\(text)\" (kinds: bytes, bpe)")
      }
      kind = found
    }
    var vocab = kind == .bytes ? 256 : ConfigDefaults.bpeVocab
    if let vocabValue = fields["vocab"] ?? (kind == .bpe ? modelVocab : nil) {
      vocab = try count(vocabValue)
      if kind == .bytes, vocab != 256 {
        throw error(vocabValue, "a byte tokenizer has 256 tokens, got \(vocab)")
      }
      if kind == .bpe, !(257...65_536).contains(vocab) {
        throw error(vocabValue, "must be between 257 and 65536 for bpe, got \(vocab)")
      }
    }
    var trainedOn: String?
    if let trainedValue = fields["trainedOn"] {
      let name = try string(trainedValue)
      guard names.contains(name) else {
        throw error(trainedValue, unknownDataset(name, names))
      }
      if kind == .bytes { throw error(trainedValue, "a byte tokenizer is not trained") }
      trainedOn = name
    }
    return TokenizerConfig(kind: kind, vocab: vocab, trainedOn: trainedOn)
  }

  func decodeModel(_ value: Located?, root: ConfigNode, tokenizerVocab: Int) throws(ConfigError)
    -> ModelConfig
  {
    let modelPath: [KeyPathComponent] = [.key("model")]
    let fields =
      try value.map { value throws(ConfigError) in
        try entries(value.node, value.path, allowed: ConfigKeys.model)
      } ?? [:]
    func int(_ key: String, _ fallback: Int) throws(ConfigError) -> Int {
      guard let field = fields[key] else { return fallback }
      return try count(field)
    }
    var model = ModelConfig(
      layers: try int("layers", ConfigDefaults.layers),
      heads: try int("heads", ConfigDefaults.heads),
      width: try int("width", ConfigDefaults.width),
      context: try int("context", ConfigDefaults.context), vocab: tokenizerVocab)
    if let vocabValue = fields["vocab"] {
      let vocab = try count(vocabValue)
      if vocab != tokenizerVocab {
        throw error(
          vocabValue, "model vocab \(vocab) differs from the tokenizer's \(tokenizerVocab)")
      }
    }
    if let field = fields["rotaryFraction"] { model.rotaryFraction = try fraction(field) }
    if let field = fields["rotaryBase"] { model.rotaryBase = try double(field) }
    do {
      try model.validate()
    } catch {
      // Name the field an override set, when one of those the problem is about came from one.
      let named = ([error.field] + error.others).first { fields[$0]?.node.origin != nil }
      let field = fields[named ?? error.field]
      throw self.error(
        field?.node ?? value?.node ?? root, field?.path ?? (modelPath + [.key(error.field)]),
        error.message)
    }
    return model
  }

  func decodeOptimizer(_ value: Located?) throws(ConfigError) -> OptimizerConfig {
    let fields =
      try value.map { value throws(ConfigError) in
        try entries(value.node, value.path, allowed: ConfigKeys.optimizer)
      } ?? [:]
    var optimizer = OptimizerConfig()
    func read(_ key: String, _ range: ClosedRange<Double>, _ fallback: Double) throws(ConfigError)
      -> Double
    {
      guard let field = fields[key] else { return fallback }
      let number = try double(field)
      guard range.contains(number) else {
        throw error(
          field,
          "must be between \(short(range.lowerBound)) and \(short(range.upperBound)), got \(short(number))"
        )
      }
      return number
    }
    optimizer.beta1 = try read("beta1", 0...0.999_999, optimizer.beta1)
    optimizer.beta2 = try read("beta2", 0...0.999_999_999, optimizer.beta2)
    // ε = 0 divides 0 by 0 for a weight whose gradient has been 0 (an unused token's embedding).
    optimizer.epsilon = try read("epsilon", 1e-12...1, optimizer.epsilon)
    optimizer.weightDecay = try read("weightDecay", 0...10, optimizer.weightDecay)
    optimizer.gradClip = try read("gradClip", 0...1e9, optimizer.gradClip)
    return optimizer
  }

  func decodeEvaluation(_ value: Located?, names: [String]) throws(ConfigError)
    -> EvaluationConfig
  {
    let fields =
      try value.map { value throws(ConfigError) in
        try entries(value.node, value.path, allowed: ConfigKeys.evaluation)
      } ?? [:]
    var evaluation = EvaluationConfig(
      every: ConfigDefaults.evaluationEvery, windows: ConfigDefaults.evaluationWindows,
      datasets: names, average: ConfigDefaults.evaluationAverage)
    if let field = fields["every"] { evaluation.every = try positive(field) }
    if let field = fields["windows"] { evaluation.windows = try positive(field) }
    if let field = fields["average"] { evaluation.average = try positive(field) }
    if let field = fields["sample"] {
      evaluation.sample = try choice(field, ValidationSample.allCases.map { ($0.rawValue, $0) })
    }
    if let field = fields["datasets"] {
      let chosen = try stringList(field)
      for name in chosen where !names.contains(name) {
        throw error(field, unknownDataset(name, names))
      }
      guard !chosen.isEmpty else { throw error(field, "evaluate at least one dataset") }
      evaluation.datasets = chosen
    }
    return evaluation
  }

  func decodeCheckpoints(_ value: Located?) throws(ConfigError) -> CheckpointPolicy {
    let fields =
      try value.map { value throws(ConfigError) in
        try entries(value.node, value.path, allowed: ConfigKeys.checkpoints)
      } ?? [:]
    var policy = CheckpointPolicy()
    if let field = fields["stageEnd"] { policy.atStageEnd = try bool(field) }
    if let field = fields["every"] {
      policy.every = try count(field)
      guard policy.every >= 0 else { throw error(field, "must be 0 (never) or more") }
    }
    return policy
  }

  func unknownDataset(_ name: String, _ names: [String]) -> String {
    var message = "unknown dataset \"\(name)\""
    if let suggestion = suggest(name, among: names) {
      message += " (did you mean \"\(suggestion)\"?)"
    } else {
      message += " (known: \(names.joined(separator: ", ")))"
    }
    return message
  }

  // MARK: Stages

  /// The kind a schedule value names, written as `constant-min` or `{kind: constant-min, …}`.
  static func scheduleKindName(_ node: ConfigNode) -> String? {
    switch node.value {
    case .scalar(let text, _): return text
    case .map(let entries):
      if case .scalar(let text, _)? = entries.first(where: { $0.key == "kind" })?.value.value {
        return text
      }
      return nil
    default: return nil
    }
  }

  func decodeStage(
    _ value: Located, index: Int, defaults: [String: Located], earlier: [StageConfig],
    names: [String], tokensPerStep: Int
  ) throws(ConfigError) -> StageConfig {
    let own = try entries(value.node, value.path, allowed: ConfigKeys.stage)
    if value.node.isNull { throw error(value, "an empty stage: give at least its dataset") }
    // A stage's own keys win over `defaults`; a length in the stage replaces both length keys.
    var fields = defaults
    if own["tokens"] != nil || own["steps"] != nil {
      fields["tokens"] = nil
      fields["steps"] = nil
    }
    fields.merge(own) { _, stage in stage }
    // A stage that sets constant-min itself does not take the defaults' warmup: that schedule is
    // "no re-warming", and an inherited 1 % warmup would start it at η = 0.
    if let ownSchedule = own["schedule"], own["warmup"] == nil, defaults["warmup"] != nil,
      Self.scheduleKindName(ownSchedule.node) == ScheduleKind.constantMin.rawValue
    {
      fields["warmup"] = nil
    }
    let number = index + 1

    guard let datasetValue = fields["dataset"] else {
      throw error(value, "missing dataset (one of \(names.joined(separator: ", ")))")
    }
    let dataset = try string(datasetValue)
    guard names.contains(dataset) else { throw error(datasetValue, unknownDataset(dataset, names)) }
    let name = try fields["name"].map { value throws(ConfigError) in try string(value) }

    // Length.
    let length: StageLength
    let steps: Int
    switch (fields["tokens"], fields["steps"]) {
    case (.some(let tokensValue), .none):
      let tokens = try positive(tokensValue)
      length = .tokens(tokens)
      steps = (tokens + tokensPerStep - 1) / tokensPerStep
    case (.none, .some(let stepsValue)):
      steps = try positive(stepsValue)
      length = .steps(steps)
    case (.some, .some(let stepsValue)):
      throw error(stepsValue, "give the stage's length as tokens or as steps, not both")
    case (.none, .none):
      throw error(value, "missing length: give tokens (e.g. tokens: 1M) or steps")
    }

    // Learning rates.
    var lrMax = ConfigDefaults.lrMax
    if let field = fields["lrMax"] {
      lrMax = try double(field)
      guard lrMax > 0, lrMax <= 10 else {
        throw error(field, "must be above 0 and at most 10, got \(short(lrMax))")
      }
    }
    var lrMin = lrMax * ConfigDefaults.lrMinRatio
    if let field = fields["lrMin"] {
      lrMin = try double(field)
      guard lrMin >= 0 else { throw error(field, "must be 0 or more, got \(short(lrMin))") }
      guard lrMin <= lrMax else {
        throw error(field, "lrMin \(short(lrMin)) is larger than lrMax \(short(lrMax))")
      }
    }

    // Schedule.
    var schedule = Schedule.cosine
    var explicitScheduleParameters = false
    if let field = fields["schedule"] {
      (schedule, explicitScheduleParameters) = try decodeSchedule(field, lrMax: lrMax, lrMin: lrMin)
    }

    // Warmup.
    let defaultWarmup = schedule.kind == .constantMin ? 0 : ConfigDefaults.warmupFraction
    var warmupFraction = defaultWarmup
    if let field = fields["warmup"] {
      switch try warmupLength(field) {
      case .fraction(let fraction):
        guard (0...1).contains(fraction) else {
          throw error(
            field,
            "must be between 0 and 1 (a fraction of the stage: 0.01 or 1%), got \(short(fraction))")
        }
        warmupFraction = fraction
      case .steps(let warmupSteps):
        guard warmupSteps <= steps else {
          throw error(
            field, "\(warmupSteps) warmup steps are longer than the stage (\(steps) steps)")
        }
        warmupFraction = Double(warmupSteps) / Double(steps)
      case .tokens(let tokens):
        let warmupSteps = (tokens + tokensPerStep - 1) / tokensPerStep
        guard warmupSteps <= steps else {
          throw error(
            field,
            "\(tokens) warmup tokens are longer than the stage (\(steps * tokensPerStep) tokens)")
        }
        warmupFraction = Double(warmupSteps) / Double(steps)
      }
    }
    // Blame what the stage itself set (an override of its schedule) before what it inherited.
    let warmupPlace =
      own["warmup"] ?? own["schedule"] ?? fields["warmup"] ?? fields["schedule"] ?? value
    switch schedule {
    case .repeatedCosine(let periods, _):
      // Shorter cycles are no cosine (40 periods of one step each stayed at ηmin).
      if steps < periods * ConfigDefaults.minimumStepsPerPeriod {
        throw error(
          own["schedule"] ?? fields["schedule"] ?? value,
          "\(periods) periods leave \(steps) steps too few for a cosine each: a period needs at "
            + "least \(ConfigDefaults.minimumStepsPerPeriod) steps (at most "
            + "\(steps / ConfigDefaults.minimumStepsPerPeriod) periods for this stage)")
      }
    case .warmupStableDecay(_, let decayFraction):
      if warmupFraction + decayFraction > 1 + 1e-12 {
        throw error(
          warmupPlace,
          "the stage is shorter than its warmup (\(formatPercent(warmupFraction))) plus its decay (\(formatPercent(decayFraction)))"
        )
      }
    case .infinite(let parameters):
      // Not for a logged plan: an infinite stage ended early keeps its warmup's steps, a larger
      // share of its shorter self (StageConfig.endEarly).
      if warmupFraction > parameters.cooldownEnd, !logged {
        throw error(
          warmupPlace,
          "the warmup (\(formatPercent(warmupFraction))) ends after the cooldown (\(formatPercent(parameters.cooldownEnd)))"
        )
      }
    default: break
    }

    // An infinite stage right after another continues its schedule: no re-warming.
    if schedule.kind == .infinite, let previous = earlier.last, previous.schedule.kind == .infinite
    {
      let first = earlier[(earlier.lastIndex(where: { $0.schedule.kind != .infinite }) ?? -1) + 1]
      let firstNumber = (earlier.firstIndex(of: first) ?? 0) + 1
      func continuing(_ key: String) -> String {
        "stage \(number) continues the infinite schedule of stage \(firstNumber); set \(key) there"
      }
      if let field = own["warmup"], warmupFraction > 0 {
        throw error(field, "an infinite schedule does not re-warm: " + continuing("warmup"))
      }
      if let field = own["lrMax"], lrMax != first.lrMax { throw error(field, continuing("lrMax")) }
      if let field = own["lrMin"], lrMin != first.lrMin { throw error(field, continuing("lrMin")) }
      if explicitScheduleParameters, schedule != first.schedule, let field = own["schedule"] {
        throw error(field, continuing("the schedule's parameters"))
      }
      warmupFraction = 0
      lrMax = first.lrMax
      lrMin = first.lrMin
      schedule = first.schedule
    }

    // Replay.
    var replayPercent = 0.0
    if let field = fields["replay"] {
      replayPercent = try percent(field)
      guard (0...100).contains(replayPercent) else {
        throw error(
          field, "must be between 0 and 100 (percent of every batch), got \(short(replayPercent))")
      }
    }
    var replayFrom: [String] = []
    if let field = fields["replayFrom"] {
      replayFrom = try stringList(field)
      for source in replayFrom {
        guard names.contains(source) else { throw error(field, unknownDataset(source, names)) }
        // Read back from a log or checkpoint, the panel's choice stands: a second stage on D0
        // replays D0 when nothing else was trained before it.
        if logged { continue }
        if source == dataset {
          throw error(
            field, "\"\(source)\" is the stage's own dataset; replay draws on earlier data")
        }
        if !earlier.contains(where: { $0.dataset == source }) {
          throw error(
            field,
            "\"\(source)\" is not trained by an earlier stage; replay draws on earlier data"
              + (earlier.isEmpty ? " and stage 1 has none" : ""))
        }
      }
      if replayFrom.isEmpty && replayPercent > 0 && !logged {
        throw error(
          field,
          "an empty list, but the stage replays \(short(replayPercent))%: name the datasets to "
            + "replay from (or leave replayFrom out for every earlier one)")
      }
    } else if replayPercent > 0 {
      for stage in earlier where stage.dataset != dataset && !replayFrom.contains(stage.dataset) {
        replayFrom.append(stage.dataset)
      }
      if replayFrom.isEmpty, let field = fields["replay"] {
        throw error(
          field,
          "\(short(replayPercent))% replay needs earlier data to replay, "
            + (earlier.isEmpty
              ? "and stage 1 has none"
              : "and the stages before this one trained its own dataset only"))
      }
    }

    let optimizerState =
      try fields["optimizerState"].map { field throws(ConfigError) in
        try choice(field, [("reset", OptimizerStateAction.reset), ("keep", .keep)])
      } ?? .reset
    let replayOrder =
      try fields["replayOrder"].map { field throws(ConfigError) in
        try choice(field, ReplayOrder.allCases.map { ($0.rawValue, $0) })
      } ?? .sequential

    var stage = StageConfig(
      name: name, dataset: dataset, length: length, steps: steps, schedule: schedule,
      warmupFraction: warmupFraction, lrMax: lrMax, lrMin: lrMin, replayPercent: replayPercent,
      replayFrom: replayFrom, optimizerState: optimizerState)
    stage.replayOrder = replayOrder
    return stage
  }

  /// `0.01`, `1%`, `20 steps` or `40k tokens`.
  func warmupLength(_ value: Located) throws(ConfigError) -> WarmupLength {
    let text = try scalar(value, expected: "a fraction, steps or tokens")
    let parts = text.split(separator: " ", omittingEmptySubsequences: true)
    if parts.count == 2, let number = Self.parseCount(String(parts[0])) {
      guard number >= 0 else { throw error(value, "a warmup of \(text) is negative") }
      switch parts[1] {
      case "steps", "step": return .steps(number)
      case "tokens", "token": return .tokens(number)
      default: break
      }
      throw error(value, "expected a fraction (0.01), a percentage (1%), N steps or N tokens")
    }
    return .fraction(try fraction(value))
  }

  /// A schedule: its kind as text, or a map with `kind` and the kind's parameters. Returns the
  /// schedule and whether parameters were given explicitly.
  func decodeSchedule(_ value: Located, lrMax: Double, lrMin: Double) throws(ConfigError)
    -> (Schedule, Bool)
  {
    var kindValue = value
    var fields: [String: Located] = [:]
    if value.node.entries != nil {
      let allKeys = ["kind"] + ScheduleKind.allCases.flatMap { ConfigKeys.schedule[$0] ?? [] }
      fields = try entries(value.node, value.path, allowed: allKeys)
      guard let found = fields["kind"] else {
        throw error(
          value, "missing kind (\(ScheduleKind.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      kindValue = found
    }
    let text = try string(kindValue)
    guard let kind = ScheduleKind(rawValue: text) else {
      let kinds = ScheduleKind.allCases.map(\.rawValue)
      var message = "unknown schedule \"\(text)\""
      if let suggestion = suggest(text, among: kinds) {
        message += " (did you mean \"\(suggestion)\"?)"
      }
      throw error(kindValue, message + "; kinds: \(kinds.joined(separator: ", "))")
    }
    let allowed = ConfigKeys.schedule[kind] ?? []
    for (key, field) in fields where key != "kind" && !allowed.contains(key) {
      let owner = ScheduleKind.allCases.first { (ConfigKeys.schedule[$0] ?? []).contains(key) }
      throw error(
        field, "applies to the \(owner?.rawValue ?? "other") schedule, not \(kind.rawValue)")
    }
    let explicit = fields.keys.contains { $0 != "kind" }

    func fractionField(_ key: String, _ fallback: Double, _ range: ClosedRange<Double>, open: Bool)
      throws(ConfigError) -> Double
    {
      guard let field = fields[key] else { return fallback }
      let number = try fraction(field)
      guard range.contains(number), !(open && number == range.lowerBound) else {
        let bound =
          open ? "above \(short(range.lowerBound))" : "at least \(short(range.lowerBound))"
        throw error(
          field, "must be \(bound) and at most \(short(range.upperBound)), got \(short(number))")
      }
      return number
    }

    switch kind {
    case .cosine: return (.cosine, explicit)
    case .constantMin: return (.constantMin, explicit)
    case .constantMax: return (.constantMax, explicit)
    case .repeatedCosine:
      let periods =
        try fields["periods"].map { value throws(ConfigError) in try positive(value) }
        ?? ConfigDefaults.repeatedCosinePeriods
      let rewarm = try fractionField(
        "rewarm", ConfigDefaults.rewarmFraction, 0...0.999, open: false)
      return (.repeatedCosine(periods: periods, rewarmFraction: rewarm), explicit)
    case .wsd:
      var shape = ConfigDefaults.decayShape
      if let field = fields["decay"] {
        let name = try string(field)
        guard let found = DecayShape(rawValue: name) else {
          throw error(field, "unknown decay \"\(name)\" (linear, 1-sqrt, cosine)")
        }
        shape = found
      }
      let fraction = try fractionField(
        "decayFraction", ConfigDefaults.decayFraction, 0...1, open: true)
      return (.warmupStableDecay(shape: shape, decayFraction: fraction), explicit)
    case .infinite:
      var parameters = InfiniteParameters()
      if let field = fields["cooldown"] {
        let name = try string(field)
        guard let found = CooldownShape(rawValue: name) else {
          throw error(field, "unknown cooldown \"\(name)\" (cosine, inverse-sqrt, linear)")
        }
        parameters.cooldown = found
      }
      if let field = fields["lrConst"] {
        let lrConst = try double(field)
        guard lrConst >= lrMin, lrConst <= lrMax else {
          throw error(
            field,
            "must lie between lrMin \(short(lrMin)) and lrMax \(short(lrMax)), got \(short(lrConst))"
          )
        }
        parameters.lrConst = lrConst
      }
      parameters.cooldownEnd = try fractionField("cooldownEnd", 0.6, 0...1, open: true)
      parameters.constantEnd = try fractionField("constantEnd", 0.85, 0...1, open: true)
      if parameters.constantEnd < parameters.cooldownEnd,
        let field = fields["constantEnd"] ?? fields["cooldownEnd"]
      {
        throw error(
          field,
          "the constant phase must end (constantEnd \(short(parameters.constantEnd))) after the cooldown ends (cooldownEnd \(short(parameters.cooldownEnd)))"
        )
      }
      if let field = fields["anneal"] { parameters.anneal = try bool(field) }
      if let field = fields["alpha"] {
        parameters.alpha = try double(field)
        guard parameters.alpha > 0 else {
          throw error(field, "must be positive, got \(short(parameters.alpha))")
        }
      }
      return (.infinite(parameters), explicit)
    }
  }
}

/// A number in its shortest form (`0.004`, `25`, `1e-05`).
func short(_ value: Double) -> String {
  if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
  return String(format: "%g", value)
}
