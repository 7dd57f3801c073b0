import Corpus
import Foundation
import Model
import RunLog
import Testing

@testable import Experiment

let builtinNames = [
  "quotes-en", "quotes-de", "manpages-en", "manpages-de", "libreoffice-en", "libreoffice-de",
  "bible-kjv", "shakespeare", "python-code", "synthetic", "synthetic-de",
]

/// Lines 1–8 of every test config; the stages start on line 9.
let head = """
  name: t
  seed: 3
  model: {layers: 2, heads: 2, width: 32, context: 32}
  tokenizer: {kind: bytes}
  datasets:
    D0: synthetic
    D1: synthetic-de
  batchSize: 4

  """

let twoStages = """
  stages:
    - dataset: D0
      steps: 100
    - dataset: D1
      steps: 100
      replay: 25
  """

func parse(_ yaml: String, overrides: [String] = []) throws(ConfigError) -> ExperimentConfig {
  try ConfigLoader(builtinDatasets: builtinNames).parse(
    yaml: yaml, source: "t.yaml", overrides: overrides)
}

struct ErrorCase: CustomTestStringConvertible, Sendable {
  var name: String
  var yaml: String
  var message: String
  var overrides: [String] = []
  var testDescription: String { name }
}

let errorCases: [ErrorCase] = [
  .init(
    name: "unknown key",
    yaml: head + twoStages + "\n    replya: 5",
    message: #"t.yaml:15:5: stages.2.replya: unknown key (did you mean "replay"?)"#),
  .init(
    name: "unknown top-level key",
    yaml: "sede: 3\n" + head + twoStages,
    message: #"t.yaml:1:1: sede: unknown key (did you mean "seed"?)"#),
  .init(
    name: "wrong type",
    yaml: head
      + twoStages.replacingOccurrences(
        of: "steps: 100\n    replay", with: "steps: many\n    replay"),
    message: #"t.yaml:13:12: stages.2.steps: expected a whole number, got "many""#),
  .init(
    name: "a key with no value",
    yaml: head + twoStages.replacingOccurrences(of: "replay: 25", with: "replay:"),
    message:
      "t.yaml:14:12: stages.2.replay: no value: give a percentage, or remove the key to use the default"
  ),
  .init(
    name: "a list key with no value",
    yaml: head + twoStages + "\n    replayFrom: null",
    message:
      "t.yaml:15:17: stages.2.replayFrom: no value: give a name or a list of names, or remove the key to use the default"
  ),
  .init(
    name: "map where a number belongs",
    yaml: head.replacingOccurrences(of: "batchSize: 4", with: "batchSize: {x: 1}") + twoStages,
    message: #"t.yaml:8:12: batchSize: expected a whole number, got a map"#),
  .init(
    name: "replay above 100",
    yaml: head + twoStages.replacingOccurrences(of: "replay: 25", with: "replay: 150"),
    message:
      "t.yaml:14:13: stages.2.replay: must be between 0 and 100 (percent of every batch), got 150"),
  .init(
    name: "negative replay",
    yaml: head + twoStages.replacingOccurrences(of: "replay: 25", with: "replay: -5%"),
    message:
      "t.yaml:14:13: stages.2.replay: must be between 0 and 100 (percent of every batch), got -5"),
  .init(
    name: "warmup above 1",
    yaml: head + twoStages + "\n    warmup: 5",
    message:
      "t.yaml:15:13: stages.2.warmup: must be between 0 and 1 (a fraction of the stage: 0.01 or 1%), got 5"
  ),
  .init(
    name: "stage shorter than its warmup",
    yaml: head + twoStages + "\n    warmup: 200 steps",
    message: "t.yaml:15:13: stages.2.warmup: 200 warmup steps are longer than the stage (100 steps)"
  ),
  .init(
    name: "stage shorter than warmup plus decay",
    yaml: head + twoStages + "\n    warmup: 90%\n    schedule: {kind: wsd, decayFraction: 0.2}",
    message:
      "t.yaml:15:13: stages.2.warmup: the stage is shorter than its warmup (90%) plus its decay (20%)"
  ),
  .init(
    name: "lrMin above lrMax",
    yaml: head + twoStages + "\n    lrMin: 0.01",
    message: "t.yaml:15:12: stages.2.lrMin: lrMin 0.01 is larger than lrMax 0.004"),
  .init(
    name: "unknown dataset in a stage",
    yaml: head + twoStages.replacingOccurrences(of: "dataset: D1", with: "dataset: german"),
    message: #"t.yaml:12:14: stages.2.dataset: unknown dataset "german" (known: D0, D1)"#),
  .init(
    name: "unknown built-in dataset",
    yaml: head.replacingOccurrences(of: "D1: synthetic-de", with: "D1: synthetik-de") + twoStages,
    message:
      #"t.yaml:7:7: datasets.D1: unknown built-in dataset "synthetik-de" (did you mean "synthetic-de"?)"#
  ),
  .init(
    name: "model error",
    yaml: head.replacingOccurrences(of: "width: 32", with: "width: 33") + twoStages,
    message: "t.yaml:3:37: model.width: width 33 is not divisible by heads 2"),
  .init(
    name: "a width no product of sizes survives",
    yaml: head.replacingOccurrences(of: "width: 32", with: "width: 1000000000") + twoStages,
    message:
      "t.yaml:3:37: model.width: 1000000000 is larger than cptui trains (at most 1048576)"),
  .init(
    name: "too many parameters",
    yaml: head.replacingOccurrences(of: "width: 32", with: "width: 65536") + twoStages,
    message:
      "t.yaml:3:37: model.width: this model has about 103G parameters; cptui trains up to 1G on the CPU"
  ),
  .init(
    name: "replay without earlier data",
    yaml: head
      + twoStages.replacingOccurrences(
        of: "steps: 100\n  - dataset: D1", with: "steps: 100\n    replay: 5\n  - dataset: D1"),
    message:
      "t.yaml:12:13: stages.1.replay: 5% replay needs earlier data to replay, and stage 1 has none"
  ),
  .init(
    name: "stage 1 replaying a later dataset",
    yaml: head
      + twoStages.replacingOccurrences(
        of: "steps: 100\n  - dataset: D1",
        with: "steps: 100\n    replay: 5\n    replayFrom: [D1]\n  - dataset: D1"),
    message:
      #"t.yaml:13:17: stages.1.replayFrom: "D1" is not trained by an earlier stage; replay draws on earlier data and stage 1 has none"#
  ),
  .init(
    name: "a negative warmup in steps",
    yaml: head
      + twoStages.replacingOccurrences(
        of: "steps: 100\n  - dataset: D1",
        with: "steps: 100\n    warmup: -10 steps\n  - dataset: D1"),
    message: "t.yaml:12:13: stages.1.warmup: a warmup of -10 steps is negative"),
  .init(
    name: "replay from the stage's own data",
    yaml: head + twoStages + "\n    replayFrom: [D1]",
    message:
      #"t.yaml:15:17: stages.2.replayFrom: "D1" is the stage's own dataset; replay draws on earlier data"#
  ),
  .init(
    name: "replay from an empty list",
    yaml: head + twoStages + "\n    replayFrom: []",
    message:
      "t.yaml:15:17: stages.2.replayFrom: an empty list, but the stage replays 25%: name the datasets to replay from (or leave replayFrom out for every earlier one)"
  ),
  .init(
    name: "a dataset named like a measure",
    yaml: head.replacingOccurrences(of: "D1: synthetic-de", with: "avg: synthetic-de")
      + twoStages.replacingOccurrences(of: "dataset: D1", with: "dataset: avg"),
    message:
      #"t.yaml:7:3: datasets.avg: "avg" names a measure in compare's table; choose another dataset name"#
  ),
  .init(
    name: "duplicate key",
    yaml: head + twoStages + "\n    replay: 5",
    message: "t.yaml:15:5: stages.2.replay: appears twice (first on line 14)"),
  .init(
    name: "tokens and steps",
    yaml: head + twoStages + "\n    tokens: 1M",
    message: "t.yaml:13:12: stages.2.steps: give the stage's length as tokens or as steps, not both"
  ),
  .init(
    name: "no length",
    yaml: head + "stages:\n  - dataset: D0",
    message: "t.yaml:10:5: stages.1: missing length: give tokens (e.g. tokens: 1M) or steps"),
  .init(
    name: "unknown schedule",
    yaml: head + twoStages + "\n    schedule: cosin",
    message:
      #"t.yaml:15:15: stages.2.schedule: unknown schedule "cosin" (did you mean "cosine"?); kinds: cosine, constant-min, constant-max, repeated-cosine, infinite, wsd"#
  ),
  .init(
    name: "parameter of another schedule",
    yaml: head + twoStages + "\n    schedule: {kind: cosine, periods: 3}",
    message:
      "t.yaml:15:39: stages.2.schedule.periods: applies to the repeated-cosine schedule, not cosine"
  ),
  .init(
    name: "more repeated-cosine periods than the stage has room for",
    yaml: head + twoStages + "\n    schedule: {kind: repeated-cosine, periods: 40}",
    message:
      "t.yaml:15:15: stages.2.schedule: 40 periods leave 100 steps too few for a cosine each: a period needs at least 4 steps (at most 25 periods for this stage)"
  ),
  .init(
    name: "optimizer state",
    yaml: head + twoStages + "\n    optimizerState: maybe",
    message: #"t.yaml:15:21: stages.2.optimizerState: expected reset or keep, got "maybe""#),
  .init(
    name: "no stages",
    yaml: head,
    message: "t.yaml:1:1: stages: missing: a config needs at least one stage"),
  .init(
    name: "YAML syntax",
    yaml: head + "stages: [\n",
    message:
      "t.yaml:10:1: YAML syntax: did not find expected node content while parsing a flow node"),
  .init(
    name: "infinite continuation with its own lrMax",
    yaml: head + """
      stages:
        - {dataset: D0, steps: 100, schedule: infinite}
        - {dataset: D1, steps: 100, schedule: infinite, lrMax: 0.01}
      """,
    message:
      "t.yaml:11:58: stages.2.lrMax: stage 2 continues the infinite schedule of stage 1; set lrMax there"
  ),
  .init(
    name: "tokenizer trained on an unknown dataset",
    yaml: head.replacingOccurrences(of: "{kind: bytes}", with: "{kind: bpe, trainedOn: D7}")
      + twoStages,
    message: #"t.yaml:4:35: tokenizer.trainedOn: unknown dataset "D7" (did you mean "D0"?)"#),
  .init(
    name: "override out of range",
    yaml: head + twoStages,
    message:
      "--set stages.2.replay=250: stages.2.replay: must be between 0 and 100 (percent of every batch), got 250",
    overrides: ["stages.2.replay=250"]),
  .init(
    name: "epsilon of 0 (AdamW divides 0 by 0 for an unused embedding row)",
    yaml: head + twoStages,
    message: "--set optimizer.epsilon=0: optimizer.epsilon: must be between 1e-12 and 1, got 0",
    overrides: ["optimizer.epsilon=0"]),
  .init(
    name: "override that breaks another field",
    yaml: head + twoStages,
    message: "--set model.heads=3: model.heads: width 32 is not divisible by heads 3",
    overrides: ["model.heads=3"]),
  .init(
    name: "override past the end of a list",
    yaml: head + twoStages,
    message: "--set stages.5.replay=1: stages.5: stages has 2 entries",
    overrides: ["stages.5.replay=1"]),
  .init(
    name: "override without a value",
    yaml: head + twoStages,
    message: "--set seed: expected key.path=value",
    overrides: ["seed"]),
  .init(
    name: "override into a scalar",
    yaml: head + twoStages,
    message: #"--set seed.x=1: seed: is "3", not a map, so it has no key "x""#,
    overrides: ["seed.x=1"]),
  .init(
    name: "override of an unknown key",
    yaml: head + twoStages,
    message: #"--set model.widht=64: model.widht: unknown key (did you mean "width"?)"#,
    overrides: ["model.widht=64"]),
  .init(
    name: "override with a wrong type",
    yaml: head + twoStages,
    message: #"--set stage1.lrMax=fast: stages.1.lrMax: expected a number, got "fast""#,
    overrides: ["stage1.lrMax=fast"]),
]

@Suite struct ConfigErrors {
  @Test(arguments: errorCases)
  func errorNamesKeyAndLine(_ example: ErrorCase) {
    do {
      _ = try parse(example.yaml, overrides: example.overrides)
      Issue.record("no error; expected: \(example.message)")
    } catch {
      #expect(error.description == example.message)
    }
  }

  /// A model whose training pass cannot fit in this machine's memory is a config error naming the
  /// model, with the estimate and the machine's memory, not a crash while allocating.
  @Test func aModelTooLargeForMemoryIsAConfigError() {
    let yaml =
      head.replacingOccurrences(of: "context: 32", with: "context: 1000000")
      + twoStages.replacingOccurrences(of: "steps: 100", with: "steps: 2")
    do {
      _ = try parse(yaml)
      Issue.record("no error")
    } catch {
      #expect(
        error.description.hasPrefix(
          "t.yaml:3:8: model: training this model with batchSize 4 needs about "), "\(error)")
      #expect(error.description.contains("GiB of memory; this machine has "), "\(error)")
    }
    // Data-parallel replicas count: a model that fits on one thread but not on two is refused
    // on two, which the message says, with the way out.
    let small = head + twoStages
    guard let model = try? parse(small).model else {
      Issue.record("the small config does not parse")
      return
    }
    let (one, two) = (model.trainingBytes(batch: 4), model.trainingBytes(batch: 4, threads: 2))
    #expect(two > one)
    var loader = ConfigLoader(builtinDatasets: builtinNames)
    loader.memory = MachineMemory(physical: (one + two) / 2)
    #expect(throws: Never.self) { try loader.parse(yaml: small, source: "t.yaml") }
    loader.trainingThreads = 2
    do {
      _ = try loader.parse(yaml: small, source: "t.yaml")
      Issue.record("no error on 2 threads")
    } catch {
      #expect(
        error.description.contains("with batchSize 4 on 2 threads needs about ")
          && error.description.contains(", or train on fewer threads: --threads 1 needs "),
        "\(error)")
    }
    // The shipped presets' sizes are far from the limit.
    #expect(
      ModelConfig(layers: 4, heads: 4, width: 256, context: 256, vocab: 4096).trainingBytes(
        batch: 16) < 2e9)
  }

  /// Hostile YAML is refused before it can crash or exhaust the machine: thousands of nested
  /// brackets (the parser recursed once per level and overflowed its stack at 5000), nested
  /// `- ` on one line, aliases that expand to millions of values; and a file with 40 000 keys
  /// is an error (duplicate keys were looked up one by one: 40 000 keys took 3 s, 200 000 a
  /// minute).
  @Test func hostileYamlIsRefusedWithTheLine() throws {
    let deep =
      "name: t\nseed: " + String(repeating: "[", count: 10_000)
      + String(repeating: "]", count: 10_000) + "\n"
    #expect(throws: ConfigError.self) { try parse(deep) }
    do {
      _ = try parse(deep)
    } catch {
      #expect(error.description.hasPrefix("t.yaml:2: nested too deeply"), "\(error)")
    }
    // A quote inside plain text (5" floppy) opens no quoted string that would hide the rest.
    let inch =
      "name: t\nabout: a 5\" floppy\nseed: " + String(repeating: "[", count: 10_000)
      + String(repeating: "]", count: 10_000) + "\n"
    do {
      _ = try parse(inch)
      Issue.record("no error")
    } catch {
      #expect(error.description.hasPrefix("t.yaml:3: nested too deeply"), "\(error)")
    }
    let dashes = "name: t\nstages:\n" + String(repeating: "- ", count: 5_000) + "x\n"
    #expect(throws: ConfigError.self) { try parse(dashes) }
    do {
      _ = try parse(
        head + twoStages, overrides: ["seed=" + String(repeating: "{a: ", count: 5_000)])
      Issue.record("no error")
    } catch {
      #expect(error.description.contains("nested too deeply"), "\(error)")
    }
    var bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for (name, previous) in zip("bcdefgh", "abcdefg") {
      bomb +=
        "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ")
        + "]\n"
    }
    do {
      _ = try parse(bomb)
      Issue.record("no error")
    } catch {
      #expect(error.description.contains("expands to over 100000 values"), "\(error)")
    }
    let keys = "a:\n" + (0..<40_000).map { "  k\($0): 1\n" }.joined()
    #expect(throws: ConfigError.self) { try parse(keys) }
  }

  @Test func missingFileIsAnError() {
    #expect(throws: ConfigError(source: "/nonexistent.yaml", keyPath: "", message: "no such file"))
    {
      try ConfigLoader().load(path: "/nonexistent.yaml")
    }
  }
}

@Suite struct ConfigReading {
  /// Replay order and validation sampling: default in order / first windows (and then absent from
  /// the resolved config, so logs of default configs read as before), `spread` read, echoed and
  /// read back, logged on the stage start; other values refused naming the key.
  @Test func replayOrderAndValidationSample() throws {
    let plain = try parse(head + twoStages)
    #expect(plain.stages[1].replayOrder == .sequential && plain.evaluation.sample == .first)
    #expect(!JSONText.encode(plain.resolvedJSON).contains("replayOrder"))
    #expect(!JSONText.encode(plain.resolvedJSON).contains("sample"))
    #expect(plain.stageStartEvent(index: 1).replayOrder == nil)
    let spread = try parse(
      head + twoStages, overrides: ["stages.2.replayOrder=spread", "evaluation.sample=spread"])
    #expect(spread.stages[1].replayOrder == .spread && spread.evaluation.sample == .spread)
    #expect(try ConfigLoader().parse(yaml: JSONText.encode(spread.resolvedJSON)) == spread)
    #expect(spread.stageStartEvent(index: 1).replayOrder == "spread")
    let defaults = try parse(head + "defaults: {replayOrder: spread}\n" + twoStages)
    #expect(defaults.stages[1].replayOrder == .spread)
    #expect(throws: ConfigError.self) {
      try parse(head + twoStages, overrides: ["stages.2.replayOrder=random"])
    }
    do {
      _ = try parse(head + twoStages, overrides: ["evaluation.sample=middle"])
    } catch {
      #expect(error.description.contains("expected first or spread"), "\(error)")
    }
  }

  @Test func defaultsAreFilledIn() throws {
    let config = try parse(head + twoStages)
    #expect(config.name == "t")
    #expect(config.seed == 3)
    #expect(config.model == ModelConfig(layers: 2, heads: 2, width: 32, context: 32, vocab: 256))
    #expect(config.tokenizer == TokenizerConfig(kind: .bytes, vocab: 256, trainedOn: nil))
    #expect(config.datasets.map(\.name) == ["D0", "D1"])
    #expect(config.datasets[0].spec == .builtin("synthetic"))
    #expect(config.tokensPerStep == 128)
    #expect(
      config.optimizer
        == OptimizerConfig(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, gradClip: 1))
    #expect(
      config.evaluation
        == EvaluationConfig(every: 25, windows: 32, datasets: ["D0", "D1"], average: 3))
    #expect(config.checkpoints == CheckpointPolicy(atStageEnd: true, every: 0))
    let second = config.stages[1]
    #expect(second.dataset == "D1")
    #expect(second.steps == 100)
    #expect(second.schedule == .cosine)
    #expect(second.warmupFraction == 0.01)
    #expect(second.lrMax == 4e-3)
    #expect(second.lrMin == 4e-3 / 10)
    #expect(second.replayPercent == 25)
    #expect(second.replayFrom == ["D0"])
    #expect(second.optimizerState == .reset)
  }

  @Test func lengthsInTokensRoundUpToWholeSteps() throws {
    let config = try parse(
      head + "stages:\n  - {dataset: D0, tokens: 1k}\n  - {dataset: D1, tokens: 1_280}")
    #expect(config.stages.map(\.steps) == [8, 10])
    #expect(config.stages[0].length == .tokens(1000))
  }

  @Test func warmupInStepsTokensAndPercent() throws {
    let config = try parse(
      head
        + """
        stages:
          - {dataset: D0, steps: 100, warmup: 20 steps}
          - {dataset: D1, steps: 100, warmup: 640 tokens}
          - {dataset: D1, steps: 100, warmup: 2%}
        """)
    #expect(config.stages.map(\.warmupFraction) == [0.2, 0.05, 0.02])
  }

  @Test func scheduleMapsAndDefaults() throws {
    let config = try parse(
      head
        + """
        defaults:
          steps: 50
          lrMax: 1e-3
        stages:
          - {dataset: D0, schedule: {kind: repeated-cosine, periods: 3}}
          - {dataset: D1, schedule: {kind: wsd, decay: linear, decayFraction: 10%}, steps: 60}
          - {dataset: D1, schedule: constant-min}
          - {dataset: D0, schedule: {kind: infinite, cooldown: linear, anneal: false, lrConst: 5e-4}}
        """)
    #expect(config.stages.map(\.steps) == [50, 60, 50, 50])
    #expect(config.stages[0].schedule == .repeatedCosine(periods: 3, rewarmFraction: 0.01))
    #expect(config.stages[1].schedule == .warmupStableDecay(shape: .linear, decayFraction: 0.1))
    #expect(config.stages[2].schedule == .constantMin)
    #expect(config.stages[2].warmupFraction == 0)
    #expect(config.stages[2].lrMin == 1e-4)
    #expect(
      config.stages[3].schedule
        == .infinite(InfiniteParameters(cooldown: .linear, lrConst: 5e-4, anneal: false)))
  }

  /// A stage that chooses constant-min does not inherit the defaults' warmup (it would start at
  /// η = 0), unless it sets one itself or the defaults choose constant-min too.
  @Test func constantMinDoesNotInheritTheDefaultWarmup() throws {
    let config = try parse(
      head
        + """
        defaults: {steps: 50, warmup: 5%}
        stages:
          - {dataset: D0}
          - {dataset: D1, schedule: constant-min}
          - {dataset: D1, schedule: {kind: constant-min}, warmup: 2%}
        """, overrides: ["stages.4.dataset=D0", "stages.4.schedule=constant-min"])
    #expect(config.stages.map(\.warmupFraction) == [0.05, 0, 0.02, 0])
    let plan = config.schedulePlan
    #expect(plan.lr(stageIndex: 1, stageStep: 0) == config.stages[1].lrMin, "no re-warming")
    let sameDefaults = try parse(
      head
        + """
        defaults: {steps: 50, warmup: 5%, schedule: constant-min}
        stages:
          - {dataset: D0}
        """)
    #expect(sameDefaults.stages[0].warmupFraction == 0.05)
  }

  @Test func infiniteContinuationInheritsAndDoesNotReWarm() throws {
    let config = try parse(
      head
        + """
        stages:
          - {dataset: D0, steps: 100, lrMax: 2e-3, schedule: {kind: infinite, cooldown: inverse-sqrt}}
          - {dataset: D1, steps: 100, schedule: infinite}
        """)
    #expect(config.stages[1].lrMax == 2e-3)
    #expect(config.stages[1].warmupFraction == 0)
    #expect(config.stages[1].schedule == config.stages[0].schedule)
    // Still cooling down at the boundary: no jump back to lrMax, no warmup from 0.
    let plan = config.schedulePlan
    #expect(plan.lr(globalStep: 100) < plan.lr(globalStep: 99))
    #expect(plan.lr(globalStep: 99) - plan.lr(globalStep: 100) < 1e-4)
  }

  @Test func datasetForms() throws {
    let config = try parse(
      """
      datasets:
        D0: [synthetic, {dataset: synthetic-de, weight: 3}]
        D1: ~/notes/*.txt
        D2: {files: [a.txt, b/]}
        D3: {mix: [D0, {dataset: D1, weight: 2}]}
        D4: {builtin: shakespeare}
        D5: notes.txt
      stages:
        - {dataset: D0, steps: 10}
      """)
    let specs = config.datasets.map(\.spec)
    #expect(
      specs[0]
        == .mixture([
          MixtureComponent(dataset: .builtin("synthetic"), weight: 1),
          MixtureComponent(dataset: .builtin("synthetic-de"), weight: 3),
        ]))
    #expect(specs[1] == .files(["~/notes/*.txt"]))
    #expect(specs[2] == .files(["a.txt", "b/"]))
    #expect(
      specs[3]
        == .mixture([
          MixtureComponent(dataset: specs[0], weight: 1),
          MixtureComponent(dataset: specs[1], weight: 2),
        ]))
    #expect(specs[4] == .builtin("shakespeare"))
    #expect(specs[5] == .files(["notes.txt"]))
    // BPE by default, trained on the first stage's dataset.
    #expect(config.tokenizer == TokenizerConfig(kind: .bpe, vocab: 512, trainedOn: "D0"))
    #expect(config.model.vocab == 512)
  }

  @Test func overridesApplyBeforeDecoding() throws {
    let config = try parse(
      head + twoStages,
      overrides: [
        "seed=7", "stages.2.replay=5", "stage2.warmup=2%", "stages.3.dataset=D0",
        "stages.3.steps=10", "stages.2.schedule={kind: wsd, decay: cosine}", "name=",
        "evaluation.every=10",
      ])
    #expect(config.seed == 7)
    #expect(config.stages[1].replayPercent == 5)
    #expect(config.stages[1].warmupFraction == 0.02)
    #expect(config.stages[1].schedule == .warmupStableDecay(shape: .cosine, decayFraction: 0.2))
    #expect(config.stages.count == 3)
    #expect(config.stages[2].steps == 10)
    #expect(config.name == "")
    #expect(config.evaluation.every == 10)
  }

  @Test func resolvedConfigReadsBackToTheSameConfig() throws {
    let config = try parse(
      head
        + """
        stages:
          - {dataset: D0, tokens: 1k, schedule: {kind: infinite, cooldown: inverse-sqrt}}
          - {dataset: D1, steps: 30, schedule: infinite, replay: 5}
          - {dataset: D1, steps: 30, schedule: {kind: wsd, decay: 1-sqrt}, optimizerState: keep, name: x}
        """)
    let json = JSONText.encode(config.resolvedJSON)
    let again = try parse(json)
    #expect(again == config)
  }

  @Test func stageStartEventCarriesEverySetting() throws {
    let config = try parse(head + twoStages)
    let event = config.stageStartEvent(index: 1)
    #expect(event.stage == 2)
    #expect(event.dataset == "D1")
    #expect(event.steps == 100)
    #expect(event.tokens == 12_800)
    #expect(event.startStep == 100)
    #expect(event.startTokens == 12_800)
    #expect(event.schedule == "cosine")
    #expect(event.replayPercent == 25)
    #expect(event.replayFrom == ["D0"])
    #expect(event.warmupFraction == 0.01)
  }
}

@Suite struct PresetFiles {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("presets")

  static let names: [String] = Presets.names(in: [folder])

  @Test func theShippedPresetsExist() {
    for name in [
      "default", "weak-shift", "strong-shift", "three-stage-no-shift", "domain-incremental",
      "union-weak-shift", "union-strong-shift", "tiny",
    ] {
      #expect(Self.names.contains(name), "missing preset \(name)")
    }
  }

  @Test(arguments: names)
  func presetParsesAndReadsBack(_ name: String) throws {
    // The real catalogue: every dataset a shipped preset names must exist.
    let loader = ConfigLoader(builtinDatasets: Recipes.knownNames)
    let config = try Presets.load(named: name, loader: loader, in: [Self.folder])
    #expect(config.name == name)
    #expect(config.totalSteps > 0)
    let again = try loader.parse(yaml: JSONText.encode(config.resolvedJSON))
    #expect(again == config)
  }

  @Test func shiftPresetsAndTheirUnionBaselinesMatch() throws {
    for shift in ["weak-shift", "strong-shift"] {
      let continual = try Presets.load(named: shift, in: [Self.folder])
      let union = try Presets.load(named: "union-" + shift, in: [Self.folder])
      #expect(union.totalTokens == continual.totalTokens)
      #expect(union.tokenizer == continual.tokenizer)
      #expect(union.model == continual.model)
      #expect(union.evaluation.datasets == ["D0", "D1"])
      #expect(union.dataset(named: "D0") == continual.dataset(named: "D0"))
      #expect(union.dataset(named: "D1") == continual.dataset(named: "D1"))
    }
  }

  @Test func defaultIsAStrongShiftSizedForAFirstLook() throws {
    let config = try Presets.load(named: "default", in: [Self.folder])
    #expect(config.stages.map(\.dataset) == ["D0", "D1"])
    #expect(config.stages[1].replayPercent == 0)
    #expect((500_000...1_100_000).contains(config.stages[0].steps * config.tokensPerStep))
    #expect(config.model == ModelConfig(layers: 4, heads: 4, width: 128, context: 128, vocab: 256))
  }

  @Test func unknownPresetListsTheAvailableOnes() {
    do {
      _ = try Presets.load(named: "strong-shfit", in: [Self.folder])
      Issue.record("no error")
    } catch let error as Presets.NotFound {
      #expect(
        error.description.hasPrefix(
          "no preset named \"strong-shfit\" (did you mean \"strong-shift\"?) (presets: default"))
    } catch {
      Issue.record("wrong error \(error)")
    }
  }

  @Test func searchFoldersHonourTheEnvironmentFirst() {
    let folders = Presets.searchFolders(
      environment: ["CPTUI_PRESETS": Self.folder.path], executable: nil, currentDirectory: "/")
    #expect(folders.first?.standardizedFileURL.path == Self.folder.standardizedFileURL.path)
    let fromRepository = Presets.searchFolders(
      environment: [:], executable: nil,
      currentDirectory: Self.folder.deletingLastPathComponent().appendingPathComponent("Sources")
        .path)
    #expect(
      fromRepository.map(\.standardizedFileURL.path).contains(Self.folder.standardizedFileURL.path))
  }
}

@Suite struct ConfigChanges {
  /// A warmup-plus-decay too long for the stage blames the override that set the schedule, not the
  /// inherited warmup.
  @Test func anOversizedDecayBlamesTheScheduleOverride() {
    let yaml =
      head + "defaults: {steps: 40, warmup: 5%}\nstages:\n  - {dataset: D0}\n  - {dataset: D1}\n"
    do {
      _ = try parse(yaml, overrides: ["stages.2.schedule={kind: wsd, decayFraction: 0.97}"])
      Issue.record("accepted a decay longer than the stage")
    } catch {
      #expect(
        error.description.hasPrefix("--set stages.2.schedule=")
          && error.description.contains(": stages.2.schedule: the stage is shorter"),
        "\(error)")
    }
  }

  /// Own-text paths written in a config file are relative to its folder (so the config runs from
  /// anywhere and its log resumes from anywhere); an override's path is the working folder's.
  @Test func ownTextPathsAreRelativeToTheConfigFile() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-paths-\(getpid())/cfg")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
    let file = folder.appendingPathComponent("own.yaml").path
    try """
    name: own
    model: {layers: 1, heads: 1, width: 8, context: 8}
    datasets:
      D0: ../txt/a.txt
      D1: {files: [notes/, /abs/b.txt, "~/c.txt"]}
    stages:
      - {dataset: D0, steps: 2}
    """.write(toFile: file, atomically: true, encoding: .utf8)
    let parent = folder.deletingLastPathComponent().standardizedFileURL.path
    let config = try ConfigLoader().load(path: file)
    #expect(config.dataset(named: "D0") == .files([parent + "/txt/a.txt"]))
    #expect(
      config.dataset(named: "D1")
        == .files([folder.standardizedFileURL.path + "/notes", "/abs/b.txt", "~/c.txt"]))
    let overridden = try ConfigLoader().load(path: file, overrides: ["datasets.D0=./mine.txt"])
    // A --set path is the working folder's, recorded absolute (a resume from elsewhere finds it).
    let working = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
      .appendingPathComponent("mine.txt").standardizedFileURL.path
    #expect(overridden.dataset(named: "D0") == .files([working]))
  }

  @Test func applyingOverridesToAResolvedConfig() throws {
    let base = try parse(head + twoStages)
    let changed = try base.applying([
      "stages.2.replay=5", "stages.3.dataset=D1", "stages.3.steps=20",
    ])
    #expect(changed.stages.count == 3)
    #expect(changed.stages[1].replayPercent == 5)
    #expect(changed.stages[2].dataset == "D1")
    #expect(changed.stages[2].steps == 20)
    #expect(changed.stages[2].replayPercent == 0)
    #expect(changed.stages[0] == base.stages[0])
    #expect(throws: ConfigError.self) { try base.applying(["stages.2.replay=101"]) }
    // Ending a stage early: a length in steps replaces one in tokens.
    let tokens = try parse(head + "stages:\n  - {dataset: D0, tokens: 12800}")
    let shortened = try tokens.applying(["stages.1.steps=30"])
    #expect(shortened.stages[0].length == .steps(30))
  }
}

@Suite struct ConfigVocab {
  @Test func modelVocabSizesAnUnsizedTokenizer() throws {
    let config = try parse(
      "model: {vocab: 1024}\ndatasets: {D0: synthetic}\nstages: [{dataset: D0, steps: 5}]")
    #expect(config.tokenizer.vocab == 1024)
    #expect(config.model.vocab == 1024)
    #expect(throws: ConfigError.self) {
      try parse(
        "model: {vocab: 100}\ndatasets: {D0: synthetic}\nstages: [{dataset: D0, steps: 5}]")
    }
  }
}

@Suite struct ConfigInTheRunLog {
  /// A section written with nothing under it (its keys commented out) reads as empty: the defaults.
  @Test func aSectionWithNoEntriesTakesTheDefaults() throws {
    let config = try parse(head + "evaluation:\n  # every: 10\n" + twoStages)
    #expect(config == (try parse(head + twoStages)))
  }

  @Test func aLoggedConfigReadsBackFromTheLogHeader() throws {
    let config = try Presets.load(named: "strong-shift", in: [PresetFiles.folder])
    let header = RunEvent.header(
      RunHeader(
        runName: config.name, startTime: RunHeader.timestamp(Date(timeIntervalSince1970: 0)),
        seed: config.seed, datasets: config.datasets.map(\.name), config: config.resolvedJSON))
    let stage = RunEvent.stageStart(config.stageStartEvent(index: 1))
    let bytes = Array((header.jsonLine + "\n" + stage.jsonLine + "\n").utf8)
    let contents = try RunLogReader.read(bytes: bytes)
    #expect(contents.header?.startTime == "1970-01-01T00:00:00Z")
    let logged = try #require(contents.header?.config)
    #expect(try ConfigLoader().parse(yaml: JSONText.encode(logged)) == config)
    guard case .stageStart(let event) = contents.events[1] else {
      Issue.record("no stage start")
      return
    }
    #expect(event == config.stageStartEvent(index: 1))
  }
}
