import ArgumentParser

/// A labelled example for every leaf command's `--help` (one table, so none is forgotten: a test
/// compares its keys with the commands). Printed under the help ArgumentParser writes.
enum HelpExamples {
    static let byCommand: [String: [String]] = [
        "init": ["failback init", "failback init --store postgresql://failback@db.example/ops"],
        "drill start": ["failback drill start --runbook rollback-teei --operator dana --ticket CHG-2041 --role incident-commander"],
        "drill join": ["failback drill join drill-20261123-182100-3fa9c1 --role DBA"],
        "drill abort": ["failback drill abort --reason 'EU primary lost its disk'"],
        "drill complete": ["failback drill complete", "failback drill complete --outcome failed --override --reason 'Redis stayed on the DR site'"],
        "drill list": ["failback drill list", "failback drill list --json"],
        "decide": ["failback decide primary-healthy yes", "failback decide low-traffic no --revise --reason 'traffic spike'"],
        "checklist verify": ["failback checklist verify backups-fresh --by 'Morgan Lee' --notes 'snapshot 02:00 UTC'"],
        "approve": ["failback approve --by 'Morgan Lee' --role incident-commander"],
        "decline": ["failback decline --by 'Sam Ortiz' --role incident-commander --reason 'EU backups stale'"],
        "phase start": ["failback phase start b-configure-us-standby"],
        "phase complete": ["failback phase complete b-configure-us-standby"],
        "step": ["failback step start b-promote-us", "failback step done b-promote-us", "failback step fail b-promote-us --reason 'timeline diverged'"],
        "exec": ["failback exec --step b-demote-us -- pg_ctl -D /var/lib/postgresql/16/main stop -m fast"],
        "observe lag": ["failback observe lag --postgres 'host=db-us port=5432 dbname=app' --role standby --source eu --target us --until 'lag<1s' --every 2s --timeout 5m"],
        "observe recovery": ["failback observe recovery --postgres 'host=db-us port=5432 dbname=app' --expect primary"],
        "observe redis": ["failback observe redis --url redis://10.0.0.7:6379 --expect master --until pass --timeout 2m"],
        "observe rowcount": ["failback observe rowcount --source 'host=db-eu dbname=app' --target 'host=db-us dbname=app' --table events --source-site eu --target-site us"],
        "observe dns": ["failback observe dns api.example.com --server 10.0.0.2:53 --expect 52.1.2.3 --until pass --timeout 10m"],
        "observe http": ["failback observe http https://api.example.com/health --until status=200 --every 5s --timeout 5m"],
        "observe pods": ["failback observe pods -- kubectl get pods -n app -o json", "kubectl get pods -o json | failback observe pods --from-file -"],
        "observe prometheus": [
            "failback observe prometheus --url http://prometheus:9090 --name 'p95 latency' --query 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))' --expect 'value<500ms'"
        ],
        "observe json": [
            "failback observe json --name 'CSR_EVENTS stream' --value messages=.state.messages --expect 'messages>0' -- nats stream info CSR_EVENTS --json",
            "failback observe json --value events='.|length' --expect events=0 -- aws health describe-events --filter eventStatusCodes=open",
        ],
        "record lag": ["failback record lag --seconds 2.5 --source eu --target us"],
        "record rowcount": ["failback record rowcount --table events --site eu --count 1204331"],
        "record dns": ["failback record dns --name api.example.com --resolver 10.0.0.2:53 --answer 52.1.2.3 --expect 52.1.2.3"],
        "record pods": ["failback record pods --from-file pods.json"],
        "record health": ["failback record health --target https://api.example.com/health --status 200 --latency-ms 42"],
        "note": ["failback note 'traffic drained from the EU load balancer'"],
        "issue add": ["failback issue add 'replica lag spiked to 40s' --severity high"],
        "status": ["failback status", "failback status --watch", "failback status --as-of 2026-11-23T18:40:00Z --json"],
        "log": ["failback log", "failback log --json | jq .type"],
        "replay": ["failback replay", "failback replay --speed 10", "failback replay --step"],
        "compare": ["failback compare drill-20261101-090000-aaaaaa drill-20261123-182100-3fa9c1 --format md"],
        "verify": ["failback verify", "failback verify --drill drill-20261123-182100-3fa9c1 --deep"],
        "report": ["failback report -o report.md", "failback report --format html -o report.html", "failback report --format csv -o evidence-index.csv"],
        "evidence export": ["failback evidence export --key failback.key -o evidence/drill.tar.gz"],
        "evidence verify": [
            "failback evidence verify evidence/drill.tar.gz --pubkey failback.key.pub.pem",
            "failback evidence verify evidence/drill.tar.gz --pubkey sha256:75d2ebfe42a90da8fcd26c2e9768816cec626e3b6ef8bad33e289d4053d255a8",
        ],
        "evidence prove": ["failback evidence prove --seq 42 --key failback.key > seq-42.json"],
        "evidence verify-proof": ["failback evidence verify-proof seq-42.json --pubkey failback.key.pub.pem"],
        "evidence gaps": ["failback evidence gaps", "failback evidence gaps --json"],
        "keys generate": ["failback keys generate -o keys/failback.key"],
        "keys fingerprint": ["failback keys fingerprint keys/failback.key.pub.pem"],
        "runbook validate": ["failback runbook validate runbooks/*.yaml"],
        "runbook show": ["failback runbook show rollback-teei"],
        "redact test": ["failback redact test 'curl -u admin:s3cret https://host'", "failback redact test --file deploy.log"],
        "store copy": ["failback store copy .failback/ledger.sqlite postgresql://failback@db.example/ops"],
    ]

    /// The help to print for `words` (the command line) when it asks for help (`-h`, `--help`, or
    /// `help COMMAND`) of a known command: ArgumentParser's text and the command's examples.
    static func help(for words: [String], root: any ParsableCommand.Type) -> String? {
        let beforeDashes = words.prefix { $0 != "--" }
        let asked = beforeDashes.first == "help"
        guard asked || beforeDashes.contains("-h") || beforeDashes.contains("--help") else { return nil }
        let (command, path, _) = CommandLineWords.command(named: beforeDashes.dropFirst(asked ? 1 : 0), root: root)
        var text = root.helpMessage(for: command)
        while text.hasSuffix("\n") { text.removeLast() }
        if let examples = byCommand[path.joined(separator: " ")] {
            text += "\n\nEXAMPLES:\n" + examples.map { "  " + $0 }.joined(separator: "\n")
        }
        return text
    }
}
