import Foundation
import Testing

@testable import Experiment

/// A stage of T = 100 steps with ηmax = 1 and ηmin = 0.1, so expected values read off the formulas.
func stage(
  _ schedule: Schedule, steps: Int = 100, warmup: Double = 0.1, lrMax: Double = 1,
  lrMin: Double = 0.1
) -> StageSchedule {
  StageSchedule(
    schedule: schedule, steps: steps, warmupFraction: warmup, lrMax: lrMax, lrMin: lrMin)
}

func cosineFrom(_ from: Double, to: Double, _ x: Double) -> Double {
  to + (from - to) / 2 * (1 + cos(Double.pi * x))
}

func inverseSqrt(_ x: Double, alpha: Double = 10) -> Double {
  1 / (1 + alpha * x).squareRoot() - 1
}

let inverseSqrtHalf = (1 / (1 + 10 * 0.5).squareRoot() - 1) / (1 / (1 + 10.0).squareRoot() - 1)

struct ScheduleCase: CustomTestStringConvertible, Sendable {
  var name: String
  var stage: StageSchedule
  var step: Int
  var expected: Double
  var testDescription: String { "\(name) at n=\(step)" }
}

let singleStageCases: [ScheduleCase] = [
  // Linear warmup + cosine: W = 10, T = 100.
  .init(name: "cosine warmup start", stage: stage(.cosine), step: 0, expected: 0),
  .init(name: "cosine mid-warmup", stage: stage(.cosine), step: 5, expected: 0.5),
  .init(name: "cosine peak", stage: stage(.cosine), step: 10, expected: 1),
  .init(name: "cosine half", stage: stage(.cosine), step: 55, expected: 0.1 + 0.9 / 2),
  .init(
    name: "cosine quarter", stage: stage(.cosine), step: 32,
    expected: 0.1 + 0.45 * (1 + cos(Double.pi * 22 / 90))),
  .init(
    name: "cosine last step", stage: stage(.cosine), step: 99,
    expected: 0.1 + 0.45 * (1 + cos(Double.pi * 89 / 90))),
  .init(name: "cosine no warmup", stage: stage(.cosine, warmup: 0), step: 0, expected: 1),
  .init(
    name: "cosine no warmup half", stage: stage(.cosine, warmup: 0), step: 50, expected: 0.55),
  // Constant ηmin (no re-warming) and constant ηmax.
  .init(name: "constant-min", stage: stage(.constantMin, warmup: 0), step: 0, expected: 0.1),
  .init(name: "constant-min late", stage: stage(.constantMin, warmup: 0), step: 99, expected: 0.1),
  .init(name: "constant-min warmup", stage: stage(.constantMin), step: 5, expected: 0.05),
  .init(name: "constant-max warmup", stage: stage(.constantMax), step: 5, expected: 0.5),
  .init(name: "constant-max", stage: stage(.constantMax), step: 60, expected: 1),
  // Repeated cosine, 2 periods of 50: first warms 0 → 1 over 5, later re-warm 0.1 → 1 over 5.
  .init(
    name: "repeated start", stage: stage(.repeatedCosine(periods: 2, rewarmFraction: 0.1)),
    step: 0, expected: 0),
  .init(
    name: "repeated first peak", stage: stage(.repeatedCosine(periods: 2, rewarmFraction: 0.1)),
    step: 5, expected: 1),
  .init(
    name: "repeated first half",
    stage: stage(.repeatedCosine(periods: 2, rewarmFraction: 0.1)), step: 27,
    expected: cosineFrom(1, to: 0.1, 22.0 / 45)),
  .init(
    name: "repeated second start",
    stage: stage(.repeatedCosine(periods: 2, rewarmFraction: 0.1)), step: 50, expected: 0.1),
  .init(
    name: "repeated second re-warm",
    stage: stage(.repeatedCosine(periods: 2, rewarmFraction: 0.1)), step: 52,
    expected: 0.1 + 0.9 * 2 / 5),
  .init(
    name: "repeated second peak",
    stage: stage(.repeatedCosine(periods: 2, rewarmFraction: 0.1)), step: 55, expected: 1),
  .init(
    name: "repeated second half",
    stage: stage(.repeatedCosine(periods: 2, rewarmFraction: 0.1)), step: 77,
    expected: cosineFrom(1, to: 0.1, 22.0 / 45)),
  .init(
    name: "repeated 4 periods third",
    stage: stage(.repeatedCosine(periods: 4, rewarmFraction: 0.04)), step: 51,
    expected: 0.1 + 0.9 * 1 / 1),
  // Infinite: W = 10, cooldown to ηconst = 0.55 until 60, constant to 85, anneal to 100.
  .init(
    name: "infinite warmup", stage: stage(.infinite(InfiniteParameters())), step: 5,
    expected: 0.5),
  .init(
    name: "infinite cosine cooldown", stage: stage(.infinite(InfiniteParameters())), step: 35,
    expected: 0.55 + 0.45 / 2),
  .init(
    name: "infinite inverse-sqrt cooldown",
    stage: stage(.infinite(InfiniteParameters(cooldown: .inverseSqrt))), step: 35,
    expected: 1 + (0.55 - 1) * inverseSqrtHalf),
  .init(
    name: "infinite inverse-sqrt alpha 4",
    stage: stage(.infinite(InfiniteParameters(cooldown: .inverseSqrt, alpha: 4))), step: 20,
    expected: 1 + (0.55 - 1) * (1 / (1 + 4 * 0.2).squareRoot() - 1) / (1 / 5.0.squareRoot() - 1)
  ),
  .init(
    name: "infinite linear cooldown",
    stage: stage(.infinite(InfiniteParameters(cooldown: .linear))), step: 20,
    expected: 1 + (0.55 - 1) * 0.2),
  .init(
    name: "infinite constant", stage: stage(.infinite(InfiniteParameters())), step: 70,
    expected: 0.55),
  .init(
    name: "infinite anneal start", stage: stage(.infinite(InfiniteParameters())), step: 85,
    expected: 0.55),
  .init(
    name: "infinite anneal", stage: stage(.infinite(InfiniteParameters())), step: 91,
    expected: 0.55 * pow(0.1 / 0.55, 6.0 / 15)),
  .init(
    name: "infinite without anneal",
    stage: stage(.infinite(InfiniteParameters(anneal: false))), step: 99, expected: 0.55),
  .init(
    name: "infinite own lrConst",
    stage: stage(.infinite(InfiniteParameters(lrConst: 0.3, cooldownEnd: 0.5, constantEnd: 0.8))),
    step: 60, expected: 0.3),
  // Warmup-stable-decay: W = 10, hold 1 until 80, decay over the last 20.
  .init(
    name: "wsd stable", stage: stage(.warmupStableDecay(shape: .linear, decayFraction: 0.2)),
    step: 50, expected: 1),
  .init(
    name: "wsd linear", stage: stage(.warmupStableDecay(shape: .linear, decayFraction: 0.2)),
    step: 90, expected: 1 - 0.9 * 0.5),
  .init(
    name: "wsd 1-sqrt",
    stage: stage(.warmupStableDecay(shape: .oneMinusSqrt, decayFraction: 0.2)), step: 85,
    expected: 0.1 + 0.9 * (1 - 0.25.squareRoot())),
  .init(
    name: "wsd cosine", stage: stage(.warmupStableDecay(shape: .cosine, decayFraction: 0.2)),
    step: 95, expected: cosineFrom(1, to: 0.1, 0.75)),
  .init(
    name: "wsd warmup", stage: stage(.warmupStableDecay(shape: .cosine, decayFraction: 0.1)),
    step: 3, expected: 0.3),
]

@Suite struct ScheduleFormulas {
  @Test(arguments: singleStageCases)
  func singleStage(_ example: ScheduleCase) {
    let plan = SchedulePlan(stages: [example.stage])
    let lr = plan.lr(stageIndex: 0, stageStep: example.step)
    #expect(abs(lr - example.expected) < 1e-12, "got \(lr), expected \(example.expected)")
    #expect(plan.lr(globalStep: example.step) == lr)
  }

  @Test func reWarmingAndReDecayingRestartInEveryStage() {
    let plan = SchedulePlan(stages: [stage(.cosine), stage(.cosine, steps: 50, warmup: 0.2)])
    #expect(plan.totalSteps == 150)
    #expect(plan.stageStarts == [0, 100])
    #expect(plan.lr(globalStep: 100) == 0)
    #expect(plan.lr(globalStep: 105) == 0.5)
    #expect(plan.lr(globalStep: 110) == 1)
    #expect(abs(plan.lr(globalStep: 130) - 0.55) < 1e-12)
    #expect(plan.stageIndex(globalStep: 99) == 0)
    #expect(plan.stageIndex(globalStep: 100) == 1)
    // Past the end: the last step's rate.
    #expect(plan.lr(globalStep: 1000) == plan.lr(globalStep: 149))
  }

  @Test func constantMinAfterCosineIsNoReWarming() {
    let plan = SchedulePlan(stages: [stage(.cosine), stage(.constantMin, steps: 50, warmup: 0)])
    #expect(plan.curve()[100...].allSatisfy { $0 == 0.1 })
  }

  @Test func infiniteStagesShareOneScheduleAcrossStages() {
    let parameters = InfiniteParameters(cooldown: .inverseSqrt)
    // Two stages of 50: one span of 100 with W = 0.2 · 50 = 10 steps.
    let split = SchedulePlan(stages: [
      stage(.infinite(parameters), steps: 50, warmup: 0.2),
      stage(.infinite(parameters), steps: 50, warmup: 0),
    ])
    let whole = SchedulePlan(stages: [stage(.infinite(parameters), steps: 100, warmup: 0.1)])
    #expect(split.curve() == whole.curve())
    #expect(split.lr(globalStep: 70) == 0.55)
    // No re-warming at the stage boundary: still cooling down (x = 0.8).
    #expect(split.lr(globalStep: 50) < split.lr(globalStep: 49))
    #expect(
      abs(split.lr(globalStep: 50) - (1 + (0.55 - 1) * inverseSqrt(0.8) / inverseSqrt(1))) < 1e-12)
  }

  @Test func infiniteAfterCosineStartsItsOwnSpan() {
    let plan = SchedulePlan(stages: [
      stage(.cosine), stage(.infinite(InfiniteParameters()), steps: 100),
    ])
    #expect(plan.lr(globalStep: 100) == 0)
    #expect(plan.lr(globalStep: 110) == 1)
    #expect(plan.lr(globalStep: 170) == 0.55)
  }

  @Test func curveHasEveryStep() {
    let plan = SchedulePlan(stages: [stage(.cosine, steps: 7), stage(.wsdDefault, steps: 5)])
    let curve = plan.curve()
    #expect(curve.count == 12)
    for (step, lr) in curve.enumerated() { #expect(lr == plan.lr(globalStep: step)) }
  }

  @Test func everyKindIsCovered() {
    let kinds = Set(singleStageCases.map(\.stage.schedule.kind))
    #expect(kinds == Set(ScheduleKind.allCases))
    let cooldowns = Set(
      singleStageCases.compactMap { example -> CooldownShape? in
        if case .infinite(let p) = example.stage.schedule { return p.cooldown }
        return nil
      })
    #expect(cooldowns == Set(CooldownShape.allCases))
    let decays = Set(
      singleStageCases.compactMap { example -> DecayShape? in
        if case .warmupStableDecay(let shape, _) = example.stage.schedule { return shape }
        return nil
      })
    #expect(decays == Set(DecayShape.allCases))
  }

  @Test func plotDrawsTheCurveWithStageMarkers() {
    let plan = SchedulePlan(stages: [stage(.cosine), stage(.cosine)])
    let lines = ScheduleText.plot(
      curve: plan.curve(), stageStarts: plan.stageStarts, width: 40, height: 6, unicode: false)
    #expect(lines.count == 8)
    #expect(lines[0].hasPrefix("  1 |"))
    #expect(lines[6].contains("+"))
    #expect(lines[7].contains("stage 2"))
    #expect(lines[7].hasSuffix("200"))
    let braille = ScheduleText.plot(curve: plan.curve(), stageStarts: plan.stageStarts)
    #expect(braille[0].unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
  }
}

extension Schedule {
  static let wsdDefault = Schedule.warmupStableDecay(shape: .oneMinusSqrt, decayFraction: 0.2)
}

@Suite struct ScheduleTables {
  @Test func stageAndPointTablesOfThePlannedRun() throws {
    let config = try ConfigLoader().parse(
      yaml: """
        model: {layers: 1, heads: 1, width: 8, context: 8}
        tokenizer: {kind: bytes}
        batchSize: 2
        datasets: {D0: synthetic, D1: synthetic-de}
        stages:
          - {name: first, dataset: D0, steps: 100, warmup: 10%, lrMax: 1, lrMin: 0.1}
          - {dataset: D1, steps: 50, replay: 25, schedule: constant-min}
        """)
    #expect(
      ScheduleText.stageTable(config) == [
        "stage    dataset  steps  tokens  schedule      warmup  lrMax  lrMin   replay     optimizer",
        "1 first  D0       100    1600    cosine        10%     1      0.1     0          reset",
        "2        D1       50     800     constant-min  0%      0.004  0.0004  25% of D0  reset",
      ])
    let points = ScheduleText.pointTable(config, rows: 2)
    #expect(points.first == "step  stage  stage step  tokens  lr")
    // First step, end of warmup, last step of stage 1, both ends of stage 2.
    let steps = points.dropFirst().map { Int($0.split(separator: " ")[0])! }
    #expect(steps == [0, 10, 99, 100, 149])
    #expect(points[3].hasSuffix("0.100274"))
    #expect(points[4].hasSuffix("0.0004"))
    // A tokens column keeps one unit, the one of its largest count.
    #expect(
      ScheduleText.compactCounts([0, 3, 10240, 133_120, 2_002_944])
        == ["0", "0.003k", "10.2k", "133k", "2003k"])
    #expect(ScheduleText.compactCounts([0, 9472, 10112]) == ["0", "9472", "10112"])
    #expect(ScheduleText.compactCounts([4096, 20_480_000]) == ["0.0041M", "20.5M"])
  }
}
