import Spelling
import Testing

struct SpellingTests {
  @Test(arguments: [
    ("", "", 0), ("", "abc", 3), ("abc", "", 3), ("seed", "seed", 0),
    ("sede", "seed", 1),  // a swap of neighbours is one edit
    ("replya", "replay", 1), ("widht", "width", 1), ("kitten", "sitting", 3),
    ("ca", "abc", 3),  // optimal string alignment: no edit on a swapped pair
    ("Seed", "seed", 1),  // case counts in the distance itself
  ])
  func distanceCountsEdits(pair: (String, String, Int)) {
    #expect(Spelling.distance(pair.0, pair.1) == pair.2)
    #expect(Spelling.distance(pair.1, pair.0) == pair.2)
  }

  @Test func suggestionIgnoresCaseKeepsTheCloseAndTheFirstOfATie() {
    let keys = ["seed", "schedule", "stages", "steps"]
    #expect(Spelling.suggestion(for: "Schedule", among: keys) == "schedule")
    #expect(Spelling.suggestion(for: "shcedule", among: keys) == "schedule")
    #expect(Spelling.suggestion(for: "steds", among: keys) == "steps")  // 1 edit beats seed's 2
    #expect(Spelling.suggestion(for: "stpes", among: ["steps", "stape"]) == "steps")
    #expect(Spelling.suggestion(for: "zzzz", among: keys) == nil)
    // Short names tolerate one edit only: `lr` is not `eta` and `xy` is not `lr`.
    #expect(Spelling.suggestion(for: "xy", among: ["lr"]) == nil)
    #expect(Spelling.suggestion(for: "lx", among: ["lr"]) == "lr")
    #expect(Spelling.suggestion(for: "runnn", among: ["run"], allowance: { _ in 2 }) == "run")
    #expect(Spelling.suggestion(for: "runnn", among: ["run"]) == nil)
  }
}
