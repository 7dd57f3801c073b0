/// The paper's measures for one run, from its events (docs/findings.md): final validation losses
/// averaged over the last few evaluations of the last stage (its latest evaluation alone when
/// that stage did not end — still running, or the run was killed, stopped or failed in it: an
/// average would reach back into the stage's early, higher losses), forgetting (rise of the D0 loss since
/// the end of stage 1), adaptation (the last stage's dataset loss, once a later stage ran) and their
/// average. An average never reaches into another stage, nor takes the evaluation of the untrained
/// model at step 0 while the stage has others. One definition for the comparison
/// table, `compare`/`sweep` and the screen's measures line, so they always agree.
public struct RunSummary: Sendable, Hashable {
  /// The header's run name (empty without a header).
  public var runName: String
  /// Evaluated datasets, in the header's order (else in order of first appearance).
  public var datasets: [String]
  /// Per dataset: mean of its last `averagedEvaluations` finite validation losses in the last
  /// evaluated stage.
  public var finalLosses: [String: Double]
  /// D0: the first stage's dataset (else the first evaluated dataset).
  public var firstDataset: String?
  /// The dataset of the last stage that started.
  public var lastDataset: String?
  /// D0 loss at the end of stage 1 (mean of stage 1's last evaluations), once stage 1 is over.
  public var firstStageEndLoss: Double?
  /// Final D0 loss minus `firstStageEndLoss` (positive: forgotten); nil until a later stage ran.
  public var forgetting: Double?
  /// Per dataset trained in a stage before the final losses' stage (other than that stage's own
  /// dataset): its final loss minus its loss at the end of the last stage that trained it
  /// (positive: forgotten). Four domains in sequence: D0, D1 and D2 after stage 4. D0's entry equals
  /// `forgetting` when only stage 1 trained on D0.
  public var forgettingByDataset: [String: Double] = [:]
  /// Final loss of the last stage's dataset, when it is evaluated and a stage after the first ran.
  public var adaptation: Double?
  /// The dataset `adaptation` is the loss of.
  public var adaptationDataset: String?
  /// Mean of the final losses of every evaluated dataset (the paper's AVG for D0 and D1).
  public var average: Double?
  /// Stages that started.
  public var stageCount: Int
  /// How the run ended; nil while it is running (or when it was killed).
  public var endStatus: RunEndStatus?
  /// Whether the last stage that started has ended (completed, ended early or diverged, not
  /// stopped) and was the plan's last (the header config's stages, when the header has one).
  /// With no `endStatus`, the run waits after its plan: the live screen's "the run is complete"
  /// question (or it was killed there); its measures are final.
  public var planEnded = false
  /// How many evaluations a final loss averages (1 when the last stage did not end).
  public var averagedEvaluations: Int
  /// How many it did average at most (fewer when the stage's last fifth holds fewer evaluations).
  public var finalEvaluationsUsed = 0
  /// Per dataset: evaluations whose loss was NaN or infinite (left out of every mean above).
  public var nonFiniteEvaluations: [String: Int] = [:]
  /// Training tokens the run reached (its last step, evaluation, stage end or run end).
  public var trainedTokens = 0

  /// The share of a stage, at its end, whose evaluations a final loss may average.
  public static let finalShare = 0.2

  /// Summarizes a run (apply `RunLogReader.applyingResumes` first if the log has resumes).
  /// `finalShare`: the share of a stage, at its end, whose evaluations a final loss averages.
  public init(events: [RunEvent], averaging count: Int = 3, finalShare: Double = finalShare) {
    let count = max(count, 1)
    averagedEvaluations = count
    var header: RunHeader?
    var stageDatasets: [Int: String] = [:]
    var lastStage = 0
    var evals: [EvalEvent] = []
    var status: RunEndStatus?
    var endedStages = Set<Int>()
    // Each stage's first and last global step (planned, then as it ended).
    var stageSpans: [Int: (start: Int, end: Int)] = [:]
    for event in events {
      switch event {
      case .header(let found): header = header ?? found
      case .step(let step):
        lastStage = max(lastStage, step.stage)
        trainedTokens = max(trainedTokens, step.tokens)
      case .stageStart(let start):
        stageDatasets[start.stage] = start.dataset
        lastStage = max(lastStage, start.stage)
        stageSpans[start.stage] = (start.startStep, start.startStep + start.steps)
      case .eval(let eval):
        evals.append(eval)
        lastStage = max(lastStage, eval.stage)
        trainedTokens = max(trainedTokens, eval.tokens)
      // A stage the run was stopped in did not end: it is measured where it stood, as if killed.
      case .stageEnd(let end) where end.reason != .stopped:
        endedStages.insert(end.stage)
        if let span = stageSpans[end.stage] { stageSpans[end.stage] = (span.start, end.step) }
        trainedTokens = max(trainedTokens, end.tokens)
      case .runEnd(let end):
        status = end.status
        trainedTokens = max(trainedTokens, end.tokens ?? 0)
      default: break
      }
    }
    runName = header?.runName ?? ""
    endStatus = status
    stageCount = lastStage
    let plannedStages = header?.config?["stages"]?.arrayValue?.count ?? 0
    planEnded = lastStage > 0 && lastStage >= plannedStages && endedStages.contains(lastStage)

    var order: [String] = []
    for eval in evals {
      for loss in eval.losses where !order.contains(loss.dataset) { order.append(loss.dataset) }
    }
    let declared = header?.datasets.filter { order.contains($0) } ?? []
    datasets = declared + order.filter { !declared.contains($0) }

    func mean(_ values: [Double]) -> Double? {
      values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
    /// Mean of the last `count` finite losses of `dataset` among the evaluations of `stage`,
    /// leaving out the untrained model's (step 0) when the stage has a later one.
    let byStage = Dictionary(grouping: evals, by: \.stage).mapValues { pool in
      pool.count > 1 ? pool.filter { $0.step > 0 } : pool
    }
    /// … and only evaluations in the stage's last fifth (the last one always): in a short stage
    /// the last three evaluations reached back to just after the switch of data.
    func lastMean(_ dataset: String, stage: Int, count: Int = count) -> Double? {
      lastValues(dataset, stage: stage, count: count).flatMap(mean)
    }
    func lastValues(_ dataset: String, stage: Int, count: Int) -> [Double]? {
      let trained = byStage[stage] ?? []
      let from = stageSpans[stage].map { Double($0.end) - finalShare * Double($0.end - $0.start) }
      var values: [Double] = []
      for eval in trained.reversed() where values.count < count {
        if !values.isEmpty, let from, Double(eval.step) < from - 1e-9 { break }
        if let loss = eval.loss(dataset), loss.isFinite { values.append(loss) }
      }
      return values.isEmpty ? nil : values
    }
    let finalStage = evals.last?.stage ?? lastStage
    // A stage that did not end (still running, killed, stopped or failed in, with no later
    // stage) is measured where it stands.
    let running =
      finalStage == lastStage && !endedStages.contains(finalStage) && status != .completed
    let finalCount = running ? 1 : count
    averagedEvaluations = finalCount
    var finals: [String: Double] = [:]
    for dataset in datasets {
      let values = lastValues(dataset, stage: finalStage, count: finalCount)
      finals[dataset] = values.flatMap(mean)
      finalEvaluationsUsed = max(finalEvaluationsUsed, values?.count ?? 0)
    }
    finalLosses = finals
    for eval in evals {
      for loss in eval.losses where !loss.loss.isFinite {
        nonFiniteEvaluations[loss.dataset, default: 0] += 1
      }
    }

    firstDataset = stageDatasets[1] ?? datasets.first
    lastDataset = stageDatasets[lastStage] ?? (lastStage <= 1 ? firstDataset : nil)
    if let first = firstDataset, lastStage > 1 {
      firstStageEndLoss = lastMean(first, stage: 1)
    }
    if let first = firstDataset, let end = firstStageEndLoss, let final = finals[first],
      finalStage > 1
    {
      forgetting = final - end
    }
    var lastTrained: [String: Int] = [:]
    for stage in 1..<max(finalStage, 1) {
      if let dataset = stageDatasets[stage] { lastTrained[dataset] = stage }
    }
    if let current = stageDatasets[finalStage] { lastTrained[current] = nil }
    for (dataset, stage) in lastTrained {
      if let end = lastMean(dataset, stage: stage), let final = finals[dataset] {
        forgettingByDataset[dataset] = final - end
      }
    }
    // The final losses' stage's own dataset; during (or after a stop in) stage 1 there is
    // nothing adapted to yet.
    if finalStage > 1, let dataset = stageDatasets[finalStage] ?? lastDataset {
      adaptationDataset = dataset
      adaptation = finals[dataset]
    }
    // Over every evaluated dataset or not at all: a mean over fewer datasets would not compare.
    let values = datasets.compactMap { finals[$0] }
    average = values.count == datasets.count ? mean(values) : nil
  }
}
