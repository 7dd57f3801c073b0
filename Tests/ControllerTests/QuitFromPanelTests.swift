import Screens
import Terminal
import Testing

/// `q` in the stage panel asks to quit, as it does everywhere else (the panel is open between stages).
struct QuitFromPanelTests {
  @Test func qInTheStagePanelOpensTheQuitConfirmation() {
    var model = ScreenModel()
    model.status.mode = .live
    model.view.overlay = .stagePanel
    let commands = model.handleKey(.char("q"))
    #expect(commands.isEmpty)
    #expect(model.view.overlay == .quitConfirm)
    #expect(model.handleKey(.char("y")) == [.quit])
  }
}
