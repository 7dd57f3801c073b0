import RunLog
import Testing

@testable import Experiment

/// The labels `cptui compare` and the comparison view put after each run's name.
struct ComparisonLabelTests {
  static func stage(
    _ schedule: String, _ parameters: JSONValue? = nil, replay: Double = 0, lrMax: Double = 4e-3
  ) -> [RunEvent] {
    [
      .stageStart(
        StageStartEvent(
          stage: 2, dataset: "D1", steps: 100, tokens: 1000, startStep: 100, startTokens: 1000,
          schedule: schedule, scheduleParameters: parameters, warmupFraction: 0.01, lrMax: lrMax,
          lrMin: 4e-4, replayPercent: replay))
    ]
  }

  static func infinite(_ cooldown: String, anneal: Bool) -> JSONValue {
    .object([JSONMember("cooldown", .string(cooldown)), JSONMember("anneal", .bool(anneal))])
  }

  @Test func labelsNameOnlyTheSettingsThatDiffer() {
    let labels = Comparison.distinguishingLabels([
      Self.stage("cosine", replay: 0), Self.stage("cosine", replay: 25),
    ])
    #expect(labels == ["replay 0%", "replay 25%"])
    let lr = Comparison.distinguishingLabels([
      Self.stage("cosine", lrMax: 2e-3), Self.stage("cosine", lrMax: 8e-3),
    ])
    #expect(lr == ["ηmax 2e-3", "ηmax 8e-3"])
    #expect(
      [1e-5, 3.5e-4, 4e-3, 0.01, 0.02, 0.001].map(Comparison.short) == [
        "1e-5", "3.5e-4", "4e-3", "1e-2", "2e-2", "1e-3",
      ])
    // Learning rates as the screen writes them, 0.1 and 0.5 too.
    #expect([0.1, 0.5, 3e-4, 0, 2].map(Comparison.rate) == ["1e-1", "5e-1", "3e-4", "0", "2"])
  }

  /// A union baseline is labelled as one, and its single stage does not enter the other runs'
  /// labels (before, every label ended in "stages 2" and the union's in "replay 0% · stages 1").
  @Test func unionBaselinesAreLabelledAsSuch() {
    var union = Self.stage("cosine", replay: 0)
    if case .stageStart(var s) = union[0] {
      s.stage = 1
      union = [.stageStart(s)]
    }
    let runs = [Self.stage("cosine", replay: 0), Self.stage("cosine", replay: 25), union]
    #expect(
      Comparison.labels(runs, isUnion: [false, false, true])
        == ["replay 0%", "replay 25%", Comparison.unionLabel])
    #expect(
      Comparison.distinguishingLabels(runs) == [
        "replay 0% · stages 2", "replay 25% · stages 2", "replay 0% · stages 1",
      ])
    // The table shows Δunion only when there is a union baseline to measure against.
    func comparison(_ names: [String]) -> Comparison {
      Comparison(
        runs: zip(names, runs).map { name, events in
          (
            path: name, events: [.header(RunHeader(runName: name, startTime: "t"))] + events,
            header: nil
          )
        })
    }
    #expect(comparison(["a", "b", "union-c"]).measureColumns.last == "Δunion")
    #expect(!comparison(["a", "b", "c"]).measureColumns.contains("Δunion"))
    #expect(
      comparison(["a", "b", "union-c"]).rows.map(\.label) == [
        "replay 0%", "replay 25%", "union baseline",
      ])
  }

  /// Short names (legend, comparison view) drop the name only when several runs share it; runs
  /// that read alike are named by their files, and each keeps that name.
  @Test func shortNamesKeepEveryNameThatTellsRunsApart() {
    func run(_ path: String, _ name: String, replay: Double) -> (String, [RunEvent], RunHeader?) {
      (
        path,
        [.header(RunHeader(runName: name, startTime: "t"))] + Self.stage("cosine", replay: replay),
        nil
      )
    }
    let shared = Comparison(runs: [
      run("a.jsonl", "shift", replay: 0), run("b.jsonl", "shift", replay: 25),
      run("union.jsonl", "union-shift", replay: 0),
    ])
    #expect(shared.shortNames == ["replay 0%", "replay 25%", "union-shift"])
    // Three logs of one run name, two of them alike: cut, garbage and zzz (the review's case).
    let alike = Comparison(runs: [
      run("cut.jsonl", "tiny", replay: 0), run("garbage.jsonl", "tiny", replay: 25),
      run("zzz.jsonl", "tiny", replay: 25),
    ])
    #expect(
      alike.shortNames == ["tiny · replay 0%", "garbage · replay 25%", "zzz · replay 25%"])
    // Two experiments: only the name most runs share is left out; the other one leads.
    let mixed = Comparison(runs: [
      run("w0.jsonl", "weak-shift", replay: 0), run("w5.jsonl", "weak-shift", replay: 5),
      run("w25.jsonl", "weak-shift", replay: 25), run("d0.jsonl", "domains", replay: 0),
      run("d5.jsonl", "domains", replay: 5),
    ])
    #expect(
      mixed.shortNames == [
        "replay 0%", "replay 5%", "replay 25%", "domains · replay 0%", "domains · replay 5%",
      ])
  }

  /// Final losses average as many evaluations as the run's config says (`evaluation.average`,
  /// as the live screen does), unless the command gives its own count.
  @Test func finalLossesAverageWhatTheRunConfigSays() {
    func run(average: Int?) -> (String, [RunEvent], RunHeader?) {
      var header = RunHeader(runName: "r", startTime: "t")
      if let average {
        header.config = .object([
          JSONMember("evaluation", .object([JSONMember("average", .int(average))]))
        ])
      }
      let start = StageStartEvent(
        stage: 1, dataset: "D0", steps: 30, tokens: 300, startStep: 0, startTokens: 0,
        schedule: "cosine",
        warmupFraction: 0, lrMax: 1e-3, lrMin: 1e-4)
      // In the stage's last fifth (steps 24–30), where final losses are averaged.
      let evals = [(26, 4.0), (28, 3.0), (30, 2.0)].map { step, loss in
        RunEvent.eval(
          EvalEvent(stage: 1, step: step, tokens: step * 10, losses: [DatasetLoss("D0", loss)]))
      }
      let end = RunEvent.stageEnd(StageEndEvent(stage: 1, step: 30, tokens: 300))
      return ("r.jsonl", [.header(header), .stageStart(start)] + evals + [end], header)
    }
    #expect(Comparison(runs: [run(average: nil)]).rows[0].summary.finalLosses["D0"] == 3)
    #expect(Comparison(runs: [run(average: 1)]).rows[0].summary.finalLosses["D0"] == 2)
    #expect(
      Comparison(runs: [run(average: 1)], averaging: 2).rows[0].summary.finalLosses["D0"] == 2.5)
  }

  @Test func infiniteSchedulesAreToldApartByCooldownAndAnneal() {
    let labels = Comparison.distinguishingLabels([
      Self.stage("cosine"),
      Self.stage("infinite", Self.infinite("cosine", anneal: true)),
      Self.stage("infinite", Self.infinite("inverse-sqrt", anneal: true)),
      Self.stage("infinite", Self.infinite("inverse-sqrt", anneal: false)),
    ])
    #expect(
      labels == [
        "cosine", "infinite cosine +anneal", "infinite inverse-sqrt +anneal",
        "infinite inverse-sqrt",
      ])
  }

  /// A run whose last stage continues an infinite span is labelled with the span's warmup (the
  /// continuing stage logs 0 %: "infinite … · warmup 0%" read as a run that never warmed up).
  @Test func aContinuedInfiniteSpanIsLabelledWithItsFirstStagesWarmup() {
    func run(_ schedule: String, warmup: Double) -> [RunEvent] {
      (1...2).map { stage in
        .stageStart(
          StageStartEvent(
            stage: stage, dataset: "D\(stage - 1)", steps: 100, tokens: 1000,
            startStep: 100 * (stage - 1), startTokens: 1000 * (stage - 1), schedule: schedule,
            scheduleParameters: schedule == "infinite"
              ? Self.infinite("cosine", anneal: true) : nil,
            warmupFraction: stage == 2 && schedule == "infinite" ? 0 : warmup, lrMax: 4e-3,
            lrMin: 4e-4, replayPercent: 0))
      }
    }
    #expect(
      Comparison.distinguishingLabels([run("infinite", warmup: 0.01), run("cosine", warmup: 0.02)])
        == ["infinite cosine +anneal · warmup 1%", "cosine · warmup 2%"])
  }

  @Test func otherScheduleParametersShowToo() {
    let wsd: JSONValue = .object([
      JSONMember("decay", .string("1-sqrt")), JSONMember("decayFraction", .double(0.2)),
    ])
    let repeated: JSONValue = .object([
      JSONMember("periods", .int(4)), JSONMember("rewarm", .double(0.01)),
    ])
    let labels = Comparison.distinguishingLabels([
      Self.stage("wsd", wsd), Self.stage("repeated-cosine", repeated),
    ])
    #expect(labels == ["wsd 1-sqrt 20%", "repeated-cosine ×4"])
  }

  /// Runs through more than two domains get a forgetting column per dataset a later stage left
  /// (after D0's); two-stage comparisons keep their columns.
  @Test func forgettingColumnsForEveryLeftDataset() {
    func eval(_ stage: Int, _ step: Int, _ losses: [Double]) -> RunEvent {
      .eval(
        EvalEvent(
          stage: stage, step: step, tokens: step,
          losses: losses.enumerated().map { DatasetLoss("D\($0.offset)", $0.element) }))
    }
    func start(_ stage: Int, _ dataset: String) -> RunEvent {
      .stageStart(
        StageStartEvent(
          stage: stage, dataset: dataset, steps: 40, tokens: 320, startStep: (stage - 1) * 40,
          startTokens: 0, schedule: "cosine", warmupFraction: 0.01, lrMax: 4e-3, lrMin: 4e-4))
    }
    let three: [RunEvent] = [
      start(1, "D0"), eval(1, 40, [2, 5, 5]), start(2, "D1"), eval(2, 80, [3, 2.5, 5]),
      start(3, "D2"), eval(3, 120, [3.5, 3.25, 2.2]),
    ]
    let c = Comparison(runs: [(path: "a", events: three, header: nil)])
    #expect(c.forgettingColumns == ["forgetting D1"])
    #expect(
      c.measureColumns == ["D0", "D1", "D2", "forgetting", "forgetting D1", "adaptation", "avg"])
    #expect(c.value(c.rows[0], column: "forgetting D1") == 0.75)
    #expect(c.value(c.rows[0], column: "forgetting") == 1.5)
    #expect(Comparison.isSigned(column: "forgetting D1") && !Comparison.isSigned(column: "D1"))
    let two = Comparison(runs: [(path: "b", events: Array(three.prefix(4)), header: nil)])
    #expect(two.forgettingColumns.isEmpty)
  }

  /// A run stopped before its last planned stage is labelled by that stage as its header plans it,
  /// not by the stage it stopped in.
  @Test func aRunStoppedEarlyIsLabelledByItsPlannedLastStage() throws {
    func run(replay: Int, stopInStage1: Bool) throws -> [RunEvent] {
      let config = try ConfigLoader().parse(
        yaml: TrainerTests.yaml, overrides: ["stages.2.replay=\(replay)"])
      let header = RunHeader(runName: "r", startTime: "t", config: config.resolvedJSON)
      var events: [RunEvent] = [.header(header), .stageStart(config.stageStartEvent(index: 0))]
      if stopInStage1 { return events + [.runEnd(RunEndEvent(status: .stopped))] }
      events.append(.stageStart(config.stageStartEvent(index: 1)))
      return events + [.runEnd(RunEndEvent(status: .completed))]
    }
    let runs = [try run(replay: 0, stopInStage1: false), try run(replay: 25, stopInStage1: true)]
    #expect(Comparison.distinguishingLabels(runs) == ["replay 0%", "replay 25%"])
  }

  /// A run stopped inside the first stage of an infinite span is labelled by its planned last
  /// stage with the span's warmup (the plan's continuing stage has none of its own), not
  /// "warmup 0%".
  @Test func aRunStoppedBeforeItsInfiniteSpanContinuesShowsTheSpansWarmup() throws {
    func run(_ schedule: String, warmup: String, stop: Bool) throws -> [RunEvent] {
      // Three stages: the last one's stage before it is not logged either.
      let yaml = TrainerTests.yaml + "\n  - {dataset: D0, replay: 25}"
      let config = try ConfigLoader().parse(
        yaml: yaml, overrides: ["defaults.schedule=\(schedule)", "defaults.warmup=\(warmup)"])
      let header = RunHeader(runName: "r", startTime: "t", config: config.resolvedJSON)
      var events: [RunEvent] = [.header(header), .stageStart(config.stageStartEvent(index: 0))]
      if stop { return events + [.runEnd(RunEndEvent(status: .stopped))] }
      events.append(.stageStart(config.stageStartEvent(index: 1)))
      return events + [.runEnd(RunEndEvent(status: .completed))]
    }
    let labels = Comparison.distinguishingLabels([
      try run("infinite", warmup: "10%", stop: true), try run("cosine", warmup: "5%", stop: false),
    ])
    #expect(labels.count == 2)
    #expect(labels[0].hasPrefix("infinite") && labels[0].contains("warmup 10%"), "\(labels)")
    #expect(labels[1].hasPrefix("cosine") && labels[1].contains("warmup 5%"), "\(labels)")
  }
}

/// A log from another writer whose dataset is named like a measure column (`avg`, `forgetting`,
/// `forgetting D1`): it is left out with a notice, not let fill or hide that column for every
/// run.
struct ForeignDatasetNameTests {
  static func run(_ path: String, datasets: [String]) -> (String, [RunEvent], RunHeader?) {
    let header = RunHeader(runName: path, startTime: "t", datasets: datasets)
    let losses = datasets.enumerated().map { DatasetLoss($0.element, 5 - Double($0.offset)) }
    return (
      path,
      [
        .header(header), .eval(EvalEvent(stage: 1, step: 0, tokens: 0, losses: losses)),
        .eval(EvalEvent(stage: 1, step: 1, tokens: 10, losses: losses)),
      ],
      header
    )
  }

  @Test(arguments: ["avg", "forgetting", "forgetting D1", "Δunion", "run"])
  func aLogWithAMeasuresNameIsLeftOut(name: String) {
    let comparison = Comparison(runs: [
      Self.run("ours.jsonl", datasets: ["D0", "D1"]),
      Self.run("foreign.jsonl", datasets: ["D0", name]),
    ])
    #expect(comparison.rows.map(\.path) == ["ours.jsonl"])
    #expect(comparison.datasets == ["D0", "D1"])
    #expect(
      comparison.notices.contains {
        $0.hasPrefix("foreign.jsonl: left out: its dataset \"\(name)\"")
      }, "\(comparison.notices)")
  }
}

/// The union baseline is compute-equivalent in the paper: a union that trained another number of
/// tokens than the runs it measures is named (compare said nothing, and its Δunion looked real).
struct UnequalBudgetTests {
  static func run(_ path: String, tokens: Int) -> (String, [RunEvent], RunHeader?) {
    let header = RunHeader(runName: path, startTime: "t", datasets: ["D0", "D1"])
    let losses = [DatasetLoss("D0", 3), DatasetLoss("D1", 2)]
    return (
      path,
      [
        .header(header), .eval(EvalEvent(stage: 1, step: 10, tokens: tokens, losses: losses)),
        .runEnd(RunEndEvent(status: .completed, step: 10, tokens: tokens)),
      ],
      header
    )
  }

  @Test func aUnionOfAnotherBudgetIsNamed() {
    let unequal = Comparison(runs: [
      Self.run("a.jsonl", tokens: 7680), Self.run("b.jsonl", tokens: 7680),
      Self.run("union.jsonl", tokens: 10240),
    ])
    #expect(unequal.rows.first?.deltaToUnion != nil)
    #expect(
      unequal.notices.contains {
        $0.hasPrefix(
          "union.jsonl: this union baseline trained 10240 tokens, but 2 runs measured "
            + "against it trained 7680: their Δunion compares unequal budgets")
      }, "\(unequal.notices)")
    // A step of rounding (under 1 %) is the same budget.
    let equal = Comparison(runs: [
      Self.run("a.jsonl", tokens: 1_000_064), Self.run("union.jsonl", tokens: 1_000_000),
    ])
    #expect(equal.notices.isEmpty, "\(equal.notices)")
  }
}
