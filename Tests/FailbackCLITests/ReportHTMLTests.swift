import Foundation
import Testing

/// The HTML report as a browser shows it: headless Chromium (Debian's `chromium`) renders it to a
/// screenshot and to its DOM, with no console errors.
@Suite struct ReportHTMLTests {
    @Test func chromiumRendersTheReportOfAnAbortedDrill() throws {
        let lab = try Lab()
        let runbook = repositoryRoot.appendingPathComponent("Tests/Fixtures/runbooks/queue-search-failback.yaml").path
        _ = try lab.startDrill(runbook, option: "promote")
        try lab.expectSuccess(["phase", "start", "prepare", "--override", "--reason", "game day"])
        try lab.expectSuccess(["step", "done", "snapshot-search"])
        try lab.expectSuccess(["record", "lag", "--seconds", "8", "--source", "dr-west", "--target", "main-east"])
        try lab.expectSuccess(["step", "done", "freeze-writes"])
        try lab.expectSuccess(["record", "lag", "--seconds", "0.4", "--source", "dr-west", "--target", "main-east"])
        try lab.expectSuccess(["record", "lag", "--seconds", "3", "--source", "main-east", "--target", "dr-west"])
        try lab.expectSuccess(["record", "health", "--target", "https://edge.example/health", "--status", "503", "--latency-ms", "12"])
        try lab.expectSuccess(["note", "rolled the edge pods by hand"])
        try lab.expectSuccess(["drill", "abort", "--reason", "edge <script>alert(1)</script> refused"])
        try lab.expectSuccess(["step", "done", "dns-back"])
        try lab.expectSuccess(["step", "done", "writes-back"])
        try lab.expectSuccess(["drill", "complete"])
        let html = "\(lab.dir)/report.html", png = "\(lab.dir)/report.png"
        try lab.expectSuccess(["report", "--format", "html", "-o", html])
        let chromium = tool("chromium")
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]
        let shot = try run(chromium, flags + ["--window-size=1200,2400", "--screenshot=\(png)", "file://\(html)"], cwd: lab.dir)
        #expect(shot.status == 0, "\(shot.stderr)")
        let image = try Data(contentsOf: URL(fileURLWithPath: png))
        #expect(image.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) && image.count > 20_000)
        let dom = try run(chromium, flags + ["--dump-dom", "file://\(html)"], cwd: lab.dir)
        #expect(dom.status == 0)
        // Chromium logs a page's console messages as CONSOLE lines: a page without errors has none.
        for out in [shot, dom] { #expect(!out.stderr.contains("CONSOLE"), "\(out.stderr)") }
        // The page was parsed as we wrote it: two charts, the abort marker, both lag directions with a
        // legend, links from the evidence to the events appendix, and the operator's text as text.
        #expect(dom.stdout.components(separatedBy: "<svg ").count - 1 == 2)
        #expect(dom.stdout.contains(">ABORTED</text>"))
        #expect(dom.stdout.contains(">dr-west → main-east (failback: the RPO)</text>") && dom.stdout.contains(">main-east → dr-west (other direction)</text>"))
        #expect(dom.stdout.components(separatedBy: "<polyline ").count - 1 == 2)
        #expect(dom.stdout.contains("<a href=\"#event-"))
        let events = try lab.events().count
        #expect(dom.stdout.components(separatedBy: "<tr id=\"event-").count - 1 == events)
        #expect(!dom.stdout.contains("<script>alert(1)</script>"))
        #expect(dom.stdout.contains("<td>tester</td><td>rolled the edge pods by hand</td><td><a href=\"#event-"), "the note, who wrote it, and its evidence")
    }
}
