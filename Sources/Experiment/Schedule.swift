import Foundation
import RunLog

// Learning-rate schedules of docs/schedules.md (Ibrahim et al. 2024, Hägele et al. 2024).
// Notation: n is the number of updates already done in the stage (0 for its first step), T the
// stage's steps, W = warmupFraction·T the warmup steps (a real number, not rounded). A step that
// comes after n updates trains with η(n). See docs/schedules.md for every formula.

/// The name of a schedule kind, as configs and logs spell it.
public enum ScheduleKind: String, CaseIterable, Sendable, Hashable, Codable {
  /// Linear warmup 0 → ηmax over W, cosine decay to ηmin (re-warm and re-decay in every stage).
  case cosine
  /// Constant ηmin, no warmup by default ("no re-warming").
  case constantMin = "constant-min"
  /// Linear warmup to ηmax, then constant ηmax.
  case constantMax = "constant-max"
  /// N equal cosine periods; the first warms from 0, later ones re-warm from ηmin over 1 % of a period.
  case repeatedCosine = "repeated-cosine"
  /// Warmup → cooldown to ηconst → constant ηconst across stages → optional anneal to ηmin.
  case infinite
  /// Warmup-stable-decay: warmup, hold ηmax, decay over the last part of the stage.
  case wsd
}

/// How the infinite schedule cools down from ηmax to ηconst.
public enum CooldownShape: String, CaseIterable, Sendable, Hashable, Codable {
  case cosine
  case inverseSqrt = "inverse-sqrt"
  case linear
}

/// How warmup-stable-decay decays from ηmax to ηmin.
public enum DecayShape: String, CaseIterable, Sendable, Hashable, Codable {
  case linear
  case oneMinusSqrt = "1-sqrt"
  case cosine
}

/// Parameters of the infinite schedule. Fractions are of the whole span of consecutive `infinite`
/// stages (the run, when every stage is infinite).
public struct InfiniteParameters: Sendable, Hashable, Codable {
  public var cooldown: CooldownShape
  /// ηconst; nil means (ηmax + ηmin) / 2.
  public var lrConst: Double?
  /// Where the cooldown ends and the constant phase begins (default 0.6).
  public var cooldownEnd: Double
  /// Where the constant phase ends and the anneal begins (default 0.85).
  public var constantEnd: Double
  /// Anneal exponentially to ηmin after `constantEnd`; without it ηconst holds to the end.
  public var anneal: Bool
  /// Timescale α of the inverse-sqrt cooldown (default 10).
  public var alpha: Double

  public init(
    cooldown: CooldownShape = .cosine, lrConst: Double? = nil, cooldownEnd: Double = 0.6,
    constantEnd: Double = 0.85, anneal: Bool = true, alpha: Double = 10
  ) {
    self.cooldown = cooldown
    self.lrConst = lrConst
    self.cooldownEnd = cooldownEnd
    self.constantEnd = constantEnd
    self.anneal = anneal
    self.alpha = alpha
  }

  /// ηconst for the given ηmax and ηmin.
  public func constantLR(lrMax: Double, lrMin: Double) -> Double {
    lrConst ?? (lrMax + lrMin) / 2
  }
}

/// A schedule kind with its own parameters.
public enum Schedule: Sendable, Hashable {
  case cosine
  case constantMin
  case constantMax
  /// `periods` equal cosine cycles; later cycles re-warm from ηmin over `rewarmFraction` of a period.
  case repeatedCosine(periods: Int, rewarmFraction: Double)
  case infinite(InfiniteParameters)
  /// Decay over the last `decayFraction` of the stage.
  case warmupStableDecay(shape: DecayShape, decayFraction: Double)

  public var kind: ScheduleKind {
    switch self {
    case .cosine: return .cosine
    case .constantMin: return .constantMin
    case .constantMax: return .constantMax
    case .repeatedCosine: return .repeatedCosine
    case .infinite: return .infinite
    case .warmupStableDecay: return .wsd
    }
  }

  /// The kind's own parameters as JSON (for the run log's stage events and the config echo).
  public var parameters: JSONValue? {
    switch self {
    case .cosine, .constantMin, .constantMax: return nil
    case .repeatedCosine(let periods, let rewarm):
      return ["periods": .int(periods), "rewarm": .number(rewarm)]
    case .infinite(let p):
      var members: [JSONMember] = [JSONMember("cooldown", .string(p.cooldown.rawValue))]
      if let lrConst = p.lrConst { members.append(JSONMember("lrConst", .number(lrConst))) }
      members += [
        JSONMember("cooldownEnd", .number(p.cooldownEnd)),
        JSONMember("constantEnd", .number(p.constantEnd)),
        JSONMember("anneal", .bool(p.anneal)), JSONMember("alpha", .number(p.alpha)),
      ]
      return .object(members)
    case .warmupStableDecay(let shape, let fraction):
      return ["decay": .string(shape.rawValue), "decayFraction": .number(fraction)]
    }
  }

  /// A short human description, e.g. `cosine`, `wsd 1-sqrt 20%`, `infinite inverse-sqrt +anneal`.
  public var summary: String {
    switch self {
    case .cosine, .constantMin, .constantMax: return kind.rawValue
    case .repeatedCosine(let periods, _): return "repeated-cosine ×\(periods)"
    case .infinite(let p): return "infinite \(p.cooldown.rawValue)\(p.anneal ? " +anneal" : "")"
    case .warmupStableDecay(let shape, let fraction):
      return "wsd \(shape.rawValue) \(formatPercent(fraction))"
    }
  }
}

/// A fraction as a percentage without needless decimals: 0.01 → "1%", 0.005 → "0.5%".
func formatPercent(_ fraction: Double) -> String { percentText(fraction * 100) }

/// A percentage as text: 25 → "25%", 0.5 → "0.5%".
func percentText(_ percent: Double) -> String {
  percent == percent.rounded() ? "\(Int(percent))%" : String(format: "%g%%", percent)
}

/// The pure formulas. `n` may be any real number of updates done; results are learning rates.
public enum LRFormula {
  /// Linear warmup 0 → `peak` over `warmup` steps (η = peak·n/W).
  public static func warmup(_ n: Double, warmup: Double, peak: Double) -> Double {
    warmup > 0 ? peak * n / warmup : peak
  }

  /// Cosine from `from` at x = 0 to `to` at x = 1: to + (from − to)/2·(1 + cos(πx)).
  public static func cosine(_ x: Double, from: Double, to: Double) -> Double {
    to + (from - to) / 2 * (1 + cos(Double.pi * min(max(x, 0), 1)))
  }

  /// Linear warmup then cosine decay (the paper's schedule):
  /// n < W: ηmax·n/W; otherwise ηmin + (ηmax−ηmin)/2·(1 + cos(π(n−W)/(T−W))).
  public static func warmupCosine(
    _ n: Double, steps: Double, warmup: Double, lrMax: Double, lrMin: Double
  ) -> Double {
    if n < warmup { return self.warmup(n, warmup: warmup, peak: lrMax) }
    guard steps > warmup else { return lrMax }
    return cosine((n - warmup) / (steps - warmup), from: lrMax, to: lrMin)
  }

  /// Linear warmup to `level`, then constant `level`.
  public static func constant(_ n: Double, warmup: Double, level: Double) -> Double {
    n < warmup ? self.warmup(n, warmup: warmup, peak: level) : level
  }

  /// `periods` equal cosine cycles of P = T/periods steps. The first cycle is `warmupCosine` with
  /// warmup W = warmupFraction·P; cycle k > 0 re-warms linearly ηmin → ηmax over R = rewarm·P, then
  /// decays by cosine to ηmin over the rest of its cycle.
  public static func repeatedCosine(
    _ n: Double, steps: Double, warmupFraction: Double, periods: Int, rewarm: Double,
    lrMax: Double, lrMin: Double
  ) -> Double {
    let count = max(periods, 1)
    let period = steps / Double(count)
    guard period > 0 else { return lrMax }
    let cycle = min(Int((n / period).rounded(.down)), count - 1)
    let m = n - Double(cycle) * period
    if cycle == 0 {
      return warmupCosine(
        m, steps: period, warmup: warmupFraction * period, lrMax: lrMax, lrMin: lrMin)
    }
    let rewarmSteps = rewarm * period
    if m < rewarmSteps { return lrMin + (lrMax - lrMin) * m / rewarmSteps }
    guard period > rewarmSteps else { return lrMax }
    return cosine((m - rewarmSteps) / (period - rewarmSteps), from: lrMax, to: lrMin)
  }

  /// h(x) = 1/√(1+αx) − 1 of the inverse-sqrt cooldown.
  public static func inverseSqrtH(_ x: Double, alpha: Double) -> Double {
    1 / (1 + alpha * x).squareRoot() - 1
  }

  /// The cooldown from ηmax to ηconst, x ∈ [0, 1] the fraction of it done:
  /// cosine: ηconst + (ηmax−ηconst)/2·(1+cos(πx)); inverse-sqrt: ηmax + (ηconst−ηmax)·h(x)/h(1);
  /// linear: ηmax + (ηconst−ηmax)·x.
  public static func cooldown(
    _ x: Double, shape: CooldownShape, lrMax: Double, lrConst: Double, alpha: Double
  ) -> Double {
    let x = min(max(x, 0), 1)
    switch shape {
    case .cosine: return cosine(x, from: lrMax, to: lrConst)
    case .inverseSqrt:
      return lrMax + (lrConst - lrMax) * inverseSqrtH(x, alpha: alpha)
        / inverseSqrtH(1, alpha: alpha)
    case .linear: return lrMax + (lrConst - lrMax) * x
    }
  }

  /// The exponential anneal: η = ηconst·(ηmin/ηconst)^p, p ∈ [0, 1] the fraction done.
  public static func anneal(_ p: Double, lrConst: Double, lrMin: Double) -> Double {
    guard lrConst > 0, lrMin > 0 else { return lrConst + (lrMin - lrConst) * p }
    return lrConst * pow(lrMin / lrConst, min(max(p, 0), 1))
  }

  /// The infinite schedule over a span of N steps (`n` counted from the span's start): warmup
  /// 0 → ηmax over W; cooldown to ηconst until cooldownEnd·N; ηconst until constantEnd·N; then the
  /// anneal to ηmin (or ηconst to the end without it).
  public static func infinite(
    _ n: Double, spanSteps: Double, warmup: Double, parameters p: InfiniteParameters,
    lrMax: Double, lrMin: Double
  ) -> Double {
    let lrConst = p.constantLR(lrMax: lrMax, lrMin: lrMin)
    if n < warmup { return self.warmup(n, warmup: warmup, peak: lrMax) }
    let cooldownEnd = p.cooldownEnd * spanSteps
    if n < cooldownEnd {
      let x = cooldownEnd > warmup ? (n - warmup) / (cooldownEnd - warmup) : 1
      return cooldown(x, shape: p.cooldown, lrMax: lrMax, lrConst: lrConst, alpha: p.alpha)
    }
    let constantEnd = p.constantEnd * spanSteps
    if !p.anneal || n < constantEnd || spanSteps <= constantEnd { return lrConst }
    return anneal((n - constantEnd) / (spanSteps - constantEnd), lrConst: lrConst, lrMin: lrMin)
  }

  /// The decay of warmup-stable-decay from ηmax to ηmin, q ∈ [0, 1] the fraction done:
  /// linear: ηmax − (ηmax−ηmin)·q; 1-sqrt: ηmin + (ηmax−ηmin)·(1−√q); cosine as above.
  public static func decay(_ q: Double, shape: DecayShape, lrMax: Double, lrMin: Double) -> Double {
    let q = min(max(q, 0), 1)
    switch shape {
    case .linear: return lrMax - (lrMax - lrMin) * q
    case .oneMinusSqrt: return lrMin + (lrMax - lrMin) * (1 - q.squareRoot())
    case .cosine: return cosine(q, from: lrMax, to: lrMin)
    }
  }

  /// Warmup-stable-decay: warmup 0 → ηmax over W, ηmax until T − D (D = decayFraction·T), then the
  /// decay to ηmin over the last D steps.
  public static func warmupStableDecay(
    _ n: Double, steps: Double, warmup: Double, shape: DecayShape, decayFraction: Double,
    lrMax: Double, lrMin: Double
  ) -> Double {
    if n < warmup { return self.warmup(n, warmup: warmup, peak: lrMax) }
    let decaySteps = decayFraction * steps
    let decayStart = steps - decaySteps
    if n < decayStart || decaySteps <= 0 { return lrMax }
    return decay((n - decayStart) / decaySteps, shape: shape, lrMax: lrMax, lrMin: lrMin)
  }
}

/// Everything the learning rate of one stage depends on.
public struct StageSchedule: Sendable, Hashable {
  public var schedule: Schedule
  public var steps: Int
  public var warmupFraction: Double
  public var lrMax: Double
  public var lrMin: Double

  public init(
    schedule: Schedule, steps: Int, warmupFraction: Double, lrMax: Double, lrMin: Double
  ) {
    self.schedule = schedule
    self.steps = steps
    self.warmupFraction = warmupFraction
    self.lrMax = lrMax
    self.lrMin = lrMin
  }

  /// W = warmupFraction·T.
  public var warmupSteps: Double { warmupFraction * Double(steps) }
}

/// The planned learning rate of a whole run: every stage's schedule laid end to end. Infinite
/// stages that follow each other share one schedule (no re-warming between them): warmup from the
/// first of them, the phases placed by fractions of their summed length, and ηmax, ηmin and the
/// parameters of the first.
public struct SchedulePlan: Sendable, Hashable {
  public let stages: [StageSchedule]
  /// Global step index at which each stage starts (0 for the first).
  public let stageStarts: [Int]
  public let totalSteps: Int
  /// For each stage: the first stage and total steps of its span of consecutive infinite stages.
  private let spans: [(first: Int, steps: Int)?]

  public static func == (lhs: SchedulePlan, rhs: SchedulePlan) -> Bool { lhs.stages == rhs.stages }
  public func hash(into hasher: inout Hasher) { hasher.combine(stages) }

  public init(stages: [StageSchedule]) {
    self.stages = stages
    var starts: [Int] = []
    var total = 0
    for stage in stages {
      starts.append(total)
      total += max(stage.steps, 0)
    }
    stageStarts = starts
    totalSteps = total
    var spans: [(first: Int, steps: Int)?] = Array(repeating: nil, count: stages.count)
    var index = 0
    while index < stages.count {
      guard stages[index].schedule.kind == .infinite else {
        index += 1
        continue
      }
      var end = index
      var steps = 0
      while end < stages.count, stages[end].schedule.kind == .infinite {
        steps += stages[end].steps
        end += 1
      }
      for member in index..<end { spans[member] = (index, steps) }
      index = end
    }
    self.spans = spans
  }

  /// The learning rate of stage `stageIndex` (from 0) after `stageStep` updates in that stage.
  public func lr(stageIndex: Int, stageStep: Int) -> Double {
    let stage = stages[stageIndex]
    let n = Double(stageStep)
    let steps = Double(stage.steps)
    switch stage.schedule {
    case .cosine:
      return LRFormula.warmupCosine(
        n, steps: steps, warmup: stage.warmupSteps, lrMax: stage.lrMax, lrMin: stage.lrMin)
    case .constantMin:
      return LRFormula.constant(n, warmup: stage.warmupSteps, level: stage.lrMin)
    case .constantMax:
      return LRFormula.constant(n, warmup: stage.warmupSteps, level: stage.lrMax)
    case .repeatedCosine(let periods, let rewarm):
      return LRFormula.repeatedCosine(
        n, steps: steps, warmupFraction: stage.warmupFraction, periods: periods, rewarm: rewarm,
        lrMax: stage.lrMax, lrMin: stage.lrMin)
    case .infinite:
      guard let span = spans[stageIndex] else { return stage.lrMax }
      let first = stages[span.first]
      guard case .infinite(let parameters) = first.schedule else { return first.lrMax }
      let spanStep = stageStarts[stageIndex] - stageStarts[span.first] + stageStep
      return LRFormula.infinite(
        Double(spanStep), spanSteps: Double(span.steps), warmup: first.warmupSteps,
        parameters: parameters, lrMax: first.lrMax, lrMin: first.lrMin)
    case .warmupStableDecay(let shape, let fraction):
      return LRFormula.warmupStableDecay(
        n, steps: steps, warmup: stage.warmupSteps, shape: shape, decayFraction: fraction,
        lrMax: stage.lrMax, lrMin: stage.lrMin)
    }
  }

  /// The stage (from 0) that global step index `globalStep` falls in (the last one past the end).
  public func stageIndex(globalStep: Int) -> Int {
    guard !stages.isEmpty else { return 0 }
    var low = 0
    var high = stages.count - 1
    while low < high {
      let middle = (low + high + 1) / 2
      if stageStarts[middle] <= globalStep { low = middle } else { high = middle - 1 }
    }
    return low
  }

  /// The learning rate of the update that follows `globalStep` updates of the run (a step event
  /// with `step == s` trained with `lr(globalStep: s - 1)`). Past the end: the last step's rate.
  public func lr(globalStep: Int) -> Double {
    guard totalSteps > 0 else { return 0 }
    let step = min(max(globalStep, 0), totalSteps - 1)
    let stage = stageIndex(globalStep: step)
    return lr(stageIndex: stage, stageStep: step - stageStarts[stage])
  }

  /// The planned learning rate of every step of the run, in order (`totalSteps` values).
  public func curve() -> [Double] {
    var values: [Double] = []
    values.reserveCapacity(totalSteps)
    for (index, stage) in stages.enumerated() {
      for step in 0..<max(stage.steps, 0) {
        values.append(lr(stageIndex: index, stageStep: step))
      }
    }
    return values
  }
}

extension Schedule {
  /// A kind with the config defaults for its own parameters.
  public static func withDefaults(_ kind: ScheduleKind) -> Schedule {
    switch kind {
    case .cosine: return .cosine
    case .constantMin: return .constantMin
    case .constantMax: return .constantMax
    case .repeatedCosine:
      return .repeatedCosine(
        periods: ConfigDefaults.repeatedCosinePeriods, rewarmFraction: ConfigDefaults.rewarmFraction
      )
    case .infinite: return .infinite(InfiniteParameters())
    case .wsd:
      return .warmupStableDecay(
        shape: ConfigDefaults.decayShape, decayFraction: ConfigDefaults.decayFraction)
    }
  }

  /// The schedule a logged stage ran with (kind and its logged parameters; unknown kinds: nil).
  public init?(logged name: String, parameters: JSONValue?) {
    guard let kind = ScheduleKind(rawValue: name) else { return nil }
    self = Self.logged(kind, parameters)
  }

  private static func logged(_ kind: ScheduleKind, _ parameters: JSONValue?) -> Schedule {
    let p = parameters
    switch kind {
    case .cosine, .constantMin, .constantMax: return withDefaults(kind)
    case .repeatedCosine:
      return .repeatedCosine(
        periods: p?["periods"]?.intValue ?? ConfigDefaults.repeatedCosinePeriods,
        rewarmFraction: p?["rewarm"]?.doubleValue ?? ConfigDefaults.rewarmFraction)
    case .wsd:
      return .warmupStableDecay(
        shape: p?["decay"]?.stringValue.flatMap(DecayShape.init(rawValue:))
          ?? ConfigDefaults.decayShape,
        decayFraction: p?["decayFraction"]?.doubleValue ?? ConfigDefaults.decayFraction)
    case .infinite:
      var q = InfiniteParameters()
      if let c = p?["cooldown"]?.stringValue.flatMap(CooldownShape.init(rawValue:)) {
        q.cooldown = c
      }
      q.lrConst = p?["lrConst"]?.doubleValue
      q.cooldownEnd = p?["cooldownEnd"]?.doubleValue ?? q.cooldownEnd
      q.constantEnd = p?["constantEnd"]?.doubleValue ?? q.constantEnd
      q.anneal = p?["anneal"]?.boolValue ?? q.anneal
      q.alpha = p?["alpha"]?.doubleValue ?? q.alpha
      return .infinite(q)
    }
  }
}
