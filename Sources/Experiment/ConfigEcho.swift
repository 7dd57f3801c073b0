import Corpus
import Foundation
import Model
import RunLog

extension ExperimentConfig {
  /// The resolved config in the config file's own keys, every default written out: this is what a
  /// run log's header holds, and `ConfigLoader` reads it back (JSON is YAML) to the same config.
  public var resolvedJSON: JSONValue {
    var stageValues: [JSONValue] = []
    for stage in stages {
      var members: [JSONMember] = []
      if let name = stage.name { members.append(JSONMember("name", .string(name))) }
      members.append(JSONMember("dataset", .string(stage.dataset)))
      switch stage.length {
      case .tokens(let tokens): members.append(JSONMember("tokens", .int(tokens)))
      case .steps(let steps): members.append(JSONMember("steps", .int(steps)))
      }
      var schedule: [JSONMember] = [JSONMember("kind", .string(stage.schedule.kind.rawValue))]
      if let parameters = stage.schedule.parameters?.objectValue { schedule += parameters }
      members += [
        JSONMember("schedule", .object(schedule)),
        JSONMember("warmup", .number(stage.warmupFraction)),
        JSONMember("lrMax", .number(stage.lrMax)),
        JSONMember("lrMin", .number(stage.lrMin)),
        JSONMember("replay", .number(stage.replayPercent)),
        JSONMember("replayFrom", .array(stage.replayFrom.map { .string($0) })),
        JSONMember("optimizerState", .string(stage.optimizerState.rawValue)),
      ]
      // Only when not the default: logs and sweeps of default configs read as before.
      if stage.replayOrder != .sequential {
        members.append(JSONMember("replayOrder", .string(stage.replayOrder.rawValue)))
      }
      stageValues.append(.object(members))
    }
    var tokenizerMembers: [JSONMember] = [
      JSONMember("kind", .string(tokenizer.kind.rawValue)),
      JSONMember("vocab", .int(tokenizer.vocab)),
    ]
    if let trainedOn = tokenizer.trainedOn {
      tokenizerMembers.append(JSONMember("trainedOn", .string(trainedOn)))
    }
    var evaluationMembers = [
      JSONMember("every", .int(evaluation.every)), JSONMember("windows", .int(evaluation.windows)),
      JSONMember("datasets", .array(evaluation.datasets.map { .string($0) })),
      JSONMember("average", .int(evaluation.average)),
    ]
    // Only when not the default: logs and sweeps of default configs read as before.
    if evaluation.sample != .first {
      evaluationMembers.append(JSONMember("sample", .string(evaluation.sample.rawValue)))
    }
    var top: [JSONMember] = [JSONMember("name", .string(name))]
    if let about { top.append(JSONMember("about", .string(about))) }
    top += [
      JSONMember("seed", .int(seed)),
      JSONMember(
        "model",
        [
          "layers": .int(model.layers), "heads": .int(model.heads), "width": .int(model.width),
          "context": .int(model.context), "vocab": .int(model.vocab),
          "rotaryFraction": .number(model.rotaryFraction), "rotaryBase": .number(model.rotaryBase),
        ]),
      JSONMember("tokenizer", .object(tokenizerMembers)),
      JSONMember(
        "datasets", .object(datasets.map { JSONMember($0.name, Self.json(for: $0.spec)) })),
      JSONMember("batchSize", .int(batchSize)),
      JSONMember(
        "optimizer",
        [
          "beta1": .number(optimizer.beta1), "beta2": .number(optimizer.beta2),
          "epsilon": .number(optimizer.epsilon), "weightDecay": .number(optimizer.weightDecay),
          "gradClip": .number(optimizer.gradClip),
        ]),
      JSONMember("evaluation", .object(evaluationMembers)),
      JSONMember(
        "checkpoints",
        ["stageEnd": .bool(checkpoints.atStageEnd), "every": .int(checkpoints.every)]),
      JSONMember("stages", .array(stageValues)),
    ]
    return .object(top)
  }

  /// A dataset spec in config form: a name, `{files: […]}` or `{mix: [{dataset, weight}]}`.
  static func json(for spec: DatasetSpec) -> JSONValue {
    switch spec {
    case .builtin(let name): return .string(name)
    case .files(let paths): return ["files": .array(paths.map { .string($0) })]
    case .mixture(let parts):
      return [
        "mix": .array(
          parts.map { ["dataset": json(for: $0.dataset), "weight": .number($0.weight)] })
      ]
    }
  }
}

extension ExperimentConfig {
  /// This config with `key.path=value` overrides applied and everything checked again
  /// (`stages.2.replay=25`, `stages.3.dataset=D1`, …). Errors name the override. (Sweeps load each
  /// grid point from the config text with its overrides instead; the tests use this one.)
  public func applying(_ overrides: [String], loader: ConfigLoader = ConfigLoader())
    throws(ConfigError) -> ExperimentConfig
  {
    try loader.parse(
      yaml: JSONText.encode(resolvedJSON), source: name.isEmpty ? "config" : name,
      overrides: overrides)
  }
}
