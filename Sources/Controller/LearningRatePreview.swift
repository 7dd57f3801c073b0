// The learning rate still planned for a live run, with the user's draft of the next stage in
// place of the planned one: what the learning-rate chart draws ahead of the current step.

import Experiment
import Screens

/// The plan of a live run as the screen needs it to preview a draft of the next stage.
public struct LearningRatePreview: Sendable, Equatable {
  /// The stages as planned now: those that ran as run, the others as configured or chosen.
  public var plannedStages: [StageConfig]
  /// Updates done so far (the chart's series starts after them).
  public var step: Int
  /// Tokens per update (B·T): the chart's x unit per step.
  public var tokensPerStep: Int
  /// The config's dataset names, in the order of a draft's `datasetIndex`.
  public var datasets: [String]
  /// Index (from 0) of the stage a draft replaces, or adds when it is past the plan.
  public var nextStageIndex: Int
  /// Whether the stage before it is under way (a draft started now ends that stage at `step`).
  public var stageRunning = false

  /// (tokens, lr) points from the current step to the plan's end, at most about `maxPoints`
  /// (every stage's first and last step kept). `draft`, when given, takes the next stage's place,
  /// as the trainer will put it there (and hands on its rates when it starts an infinite span).
  /// `startingNow` (the stage panel, whose Enter starts the draft at once): a running stage ends
  /// at `step`, as the trainer ends it early. Otherwise the running stage keeps the plan it trains
  /// on, and the draft follows its planned end (the main screen's w/W, e/E, r/R).
  public func series(
    for draft: StageSettings?, startingNow: Bool = false, maxPoints: Int = 600
  ) -> Series {
    var series = Series(name: "lr planned")
    let current = SchedulePlan(stages: plannedStages.map(\.stageSchedule))
    var stages = plannedStages
    var draftStart =
      current.stageStarts.indices.contains(nextStageIndex)
      ? current.stageStarts[nextStageIndex] : current.totalSteps
    if draft != nil, startingNow, stageRunning, stages.indices.contains(nextStageIndex - 1) {
      let running = nextStageIndex - 1
      let done = step - current.stageStarts[running]
      if done > 0 && done < stages[running].steps {
        StageConfig.endEarly(&stages, index: running, ran: done)
        draftStart = step
      }
    }
    if let draft {
      let base =
        plannedStages.indices.contains(nextStageIndex)
        ? plannedStages[nextStageIndex] : plannedStages.last
      let stage = StageChoice.stageConfig(
        from: draft, datasets: datasets, base: base, tokensPerStep: tokensPerStep)
      StageConfig.place(stage, at: nextStageIndex, in: &stages)
    }
    let plan = SchedulePlan(stages: stages.map(\.stageSchedule))
    func lr(_ n: Int) -> Double {
      n < draftStart ? current.lr(globalStep: n) : plan.lr(globalStep: n)
    }
    let total = plan.totalSteps
    guard step < total, tokensPerStep > 0 else { return series }
    let stride = max(1, (total - step) / maxPoints)
    var n = step
    // The update after `n` updates is drawn at x = (n + 1)·B·T, as step events are.
    while n < total {
      series.append(x: Double((n + 1) * tokensPerStep), y: lr(n))
      var next = n + stride
      // Never skip a stage's first or last step (re-warming shows as a sharp corner).
      for start in plan.stageStarts where start > n && start < next {
        if start - 1 > n { next = start - 1 } else { next = start }
        break
      }
      n = next
    }
    if series.xs.last != Double(total * tokensPerStep) {
      series.append(x: Double(total * tokensPerStep), y: lr(total - 1))
    }
    return series
  }
}
